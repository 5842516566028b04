/* A librdkafka mock cluster in a process of its own, for system tests that
 * need Kafka to go away and come back while sluice runs.
 *
 *   sluice-mock-kafka [-b BROKERS] [-p PARTITIONS] [TOPIC...]
 *
 * Creates the topics (sluice's default ones when none are named), prints
 * the bootstrap address on stdout as one line, then waits for signals:
 * SIGUSR1 sets every broker down (connections closed, new ones refused),
 * SIGUSR2 sets them up again, SIGTERM or SIGINT exits 0. Each change is
 * acknowledged on stdout ("down", "up") once done, so a test can wait for
 * it instead of sleeping.
 *
 * The mock cluster's threads would take asynchronous signals and treat an
 * interrupted poll() as fatal (see sl_kafka_create()): every signal is
 * blocked before librdkafka starts a thread, and the main thread takes
 * them with sigwait().
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static const char *const default_topics[] = {
	"sluice.logs", "sluice.metrics", "sluice.spans", "sluice.alerts",
	"sluice.templates", "sluice.deadletter",
};

static void usage(void)
{
	fprintf(stderr, "usage: sluice-mock-kafka [-b BROKERS] [-p PARTITIONS] [TOPIC...]\n");
}

static int set_all(rd_kafka_mock_cluster_t *mc, int nb, int up)
{
	for (int id = 1; id <= nb; id++) {
		rd_kafka_resp_err_t e = up ? rd_kafka_mock_broker_set_up(mc, id)
					   : rd_kafka_mock_broker_set_down(mc, id);

		if (e) {
			fprintf(stderr, "sluice-mock-kafka: broker %d %s: %s\n", id,
				up ? "up" : "down", rd_kafka_err2str(e));
			return -1;
		}
	}
	printf("%s\n", up ? "up" : "down");
	fflush(stdout);
	return 0;
}

static int parse_count(const char *s, int max)
{
	char *end;
	long v = strtol(s, &end, 10);

	return (*s && *end == '\0' && v >= 1 && v <= max) ? (int)v : -1;
}

int main(int argc, char **argv)
{
	int nb = 1, parts = 1, opt, rc = 1, sig;
	rd_kafka_mock_cluster_t *mc = NULL;
	rd_kafka_t *rk = NULL;
	rd_kafka_conf_t *conf;
	char msg[256];
	sigset_t all;

	while ((opt = getopt(argc, argv, "b:p:h")) != -1) {
		if (opt == 'b' && (nb = parse_count(optarg, 9)) > 0)
			continue;
		if (opt == 'p' && (parts = parse_count(optarg, 64)) > 0)
			continue;
		usage();
		return opt == 'h' ? 0 : 2;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);

	/* The cluster lives on a handle of its own that connects nowhere. */
	conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "client.id", "sluice-mock-kafka", msg, sizeof(msg))) {
		fprintf(stderr, "sluice-mock-kafka: %s\n", msg);
		rd_kafka_conf_destroy(conf);
		return 1;
	}
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, msg, sizeof(msg));
	if (rk == NULL) {
		fprintf(stderr, "sluice-mock-kafka: %s\n", msg);
		rd_kafka_conf_destroy(conf);
		return 1;
	}
	mc = rd_kafka_mock_cluster_new(rk, nb);
	if (mc == NULL) {
		fprintf(stderr, "sluice-mock-kafka: cannot start the mock cluster\n");
		goto out;
	}
	for (int i = 0; i < (optind < argc ? argc - optind : 6); i++) {
		const char *t = optind < argc ? argv[optind + i] : default_topics[i];
		rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, t, parts, 1);

		if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
			fprintf(stderr, "sluice-mock-kafka: topic %s: %s\n", t,
				rd_kafka_err2str(e));
			goto out;
		}
	}
	printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);

	for (;;) {
		if (sigwait(&all, &sig) != 0)
			continue;
		if (sig == SIGUSR1 || sig == SIGUSR2) {
			if (set_all(mc, nb, sig == SIGUSR2) < 0)
				goto out;
		} else if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
			break;
		}
	}
	rc = 0;
out:
	if (mc)
		rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return rc;
}
