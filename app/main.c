/* sluice [EAL options] -- -c FILE [--check]
 *
 * Start-up order: EAL, log types, config (every error listed), rules,
 * Kafka producer (embedded cluster when no brokers), ports, workers; then
 * gratuitous ARP, launch the workers and run the control loop on the main
 * lcore. Shutdown is driven by the control loop (see sl_control.h); the
 * teardown below runs in the reverse order of set-up.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include "sl_app.h"
#include "sl_control.h"
#include "sl_log.h"

struct opts {
	const char *config;
	int check;
	int reference;
};

static struct sl_app *the_app;

static void usage(FILE *f)
{
	fputs("usage: sluice [EAL options] -- -c FILE [--check]\n"
	      "       sluice --config-reference\n"
	      "  -c, --config FILE     configuration (YAML)\n"
	      "      --check           validate FILE and every file it references, list every\n"
	      "                        error as file:line, exit non-zero on any (no EAL needed)\n"
	      "      --config-reference print the configuration reference (docs/config.md)\n"
	      "EAL options are DPDK's own (-l, --main-lcore, -a, --vdev, --no-huge, -m, ...).\n"
	      "The main lcore is the control plane; every other lcore is a worker.\n", f);
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "config-reference", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", longs, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'k': o->check = 1; break;
		case 'r': o->reference = 1; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sluice: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (o->config == NULL && !o->reference) {
		fprintf(stderr, "sluice: -c FILE is required\n");
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

/* Checks that need more than the schema: referenced files, formats this
 * build handles, the stats directory, librdkafka's view of the
 * properties. Loads the rules into *rules when asked. */
static void validate(const struct sl_config *cfg, struct sl_config_errors *errs,
		     struct sl_rules **rules)
{
	char err[512], dir[PATH_MAX];
	struct stat st;

	int tcp = 0;

	for (unsigned i = 0; i < cfg->n_listeners; i++) {
		const struct sl_listener_conf *l = &cfg->listeners[i];

		tcp |= l->proto == SL_PROTO_TCP;

		if (l->format == SL_FMT_STATSD && l->framing == SL_FRAMING_OCTET)
			sl_config_error(errs, cfg->path, l->line, "listeners[%u].framing: a statsd "
					"listener is LF-framed (lf or auto, which means lf here)", i);
		if (l->format == SL_FMT_SPANS)
			sl_config_error(errs, cfg->path, l->line, "listeners[%u].format: '%s' is not "
					"available in this build (syslog, jsonl, plain, access and "
					"statsd are)", i, sl_format_name(l->format));
	}
	/* Held segments are the port's mbufs: past a quarter, a lossy path
	 * could starve reception. */
	for (unsigned i = 0; tcp && i < cfg->n_ports; i++)
		if ((uint64_t)cfg->tcp.max_held * 4 > cfg->ports[i].mbufs)
			sl_config_error(errs, cfg->path, cfg->ports[i].line, "tcp.max_held %u: at most "
					"a quarter of ports[%u].mbufs (%u); raise mbufs or lower max_held",
					cfg->tcp.max_held, i, cfg->ports[i].mbufs);
	if (cfg->metrics.grace_ms >= cfg->metrics.flush_interval_ms)
		sl_config_error(errs, cfg->path, 0, "metrics.grace_ms %u: must be less than "
				"metrics.flush_interval_ms (%u)", cfg->metrics.grace_ms,
				cfg->metrics.flush_interval_ms);
	if (sl_metrics_quantiles(cfg, NULL, err, sizeof(err)) < 0)
		sl_config_error(errs, cfg->path, 0, "%s", err);
	snprintf(dir, sizeof(dir), "%s", cfg->stats.file);
	if (stat(dirname(dir), &st) != 0 || !S_ISDIR(st.st_mode))
		sl_config_error(errs, cfg->path, 0, "stats.file: directory of '%s' does not exist",
				cfg->stats.file);
	if (sl_kafka_check_properties(cfg, err, sizeof(err)) != 0)
		sl_config_error(errs, cfg->path, 0, "%s", err);
	struct sl_rules *r = sl_rules_load(cfg, errs);

	if (rules != NULL)
		*rules = r;
	else
		sl_rules_destroy(r);
}

static void print_errors(const struct sl_config_errors *errs)
{
	for (unsigned i = 0; i < errs->n; i++)
		fprintf(stderr, "%s\n", errs->msg[i]);
	if (errs->total > errs->n)
		fprintf(stderr, "... and %u more errors\n", errs->total - errs->n);
	fprintf(stderr, "sluice: %u error%s\n", errs->total, errs->total == 1 ? "" : "s");
}

static int load_config(const char *path, struct sl_config *cfg, struct sl_rules **rules)
{
	static struct sl_config_errors errs;

	memset(&errs, 0, sizeof(errs));
	int rc = sl_config_load(path, cfg, &errs);

	if (rc != -ENOENT && rc != -EACCES && errs.total == 0)
		validate(cfg, &errs, rules);
	if (errs.total > 0 || rc != 0) {
		print_errors(&errs);
		return -EINVAL;
	}
	return 0;
}

static void on_signal(int sig)
{
	if (the_app == NULL || the_app->signals > 0) {
		/* Second signal: the operator wants out now. */
		static const char msg[] = "sluice: second signal, exiting at once\n";
		ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);

		(void)w;
		_exit(128 + sig);
	}
	the_app->signals++;
}

/* argv split at "--": EAL gets what is before it. */
static int split_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			return i;
	return -1;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	int sep = split_args(argc, argv);
	char err[512];

	/* --check and --config-reference need no EAL: they run on any
	 * machine, hugepages or not, with or without root. */
	if (sep < 0) {
		if (parse_opts(argc, argv, &o) != 0)
			return 2;
	} else {
		argv[sep] = argv[0];
		if (parse_opts(argc - sep, argv + sep, &o) != 0)
			return 2;
	}
	sl_log_init();
	if (o.reference) {
		sl_config_write_reference(stdout);
		return 0;
	}
	struct sl_app *app = calloc(1, sizeof(*app));

	if (app == NULL)
		return 1;
	if (o.check) {
		int rc = load_config(o.config, &app->cfg, NULL);

		if (rc == 0)
			printf("sluice: %s: configuration OK\n", o.config);
		free(app);
		return rc == 0 ? 0 : 1;
	}

	int n = rte_eal_init(sep < 0 ? 1 : sep, argv);

	if (n < 0) {
		fprintf(stderr, "sluice: EAL init failed: %s\n", rte_strerror(rte_errno));
		free(app);
		return 1;
	}
	sl_log_init();
	if (load_config(o.config, &app->cfg, &app->rules) != 0) {
		rte_eal_cleanup();
		free(app);
		return 1;
	}
	the_app = app;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	int rc = sl_app_start(app, err, sizeof(err));

	if (rc != 0) {
		SL_LOG(ERR, APP, "%s", err);
		fprintf(stderr, "sluice: %s\n", err);
	} else {
		rc = sl_control_run(app);
	}
	sl_app_stop(app);
	the_app = NULL;
	free(app);
	rte_eal_cleanup();
	return rc == 0 ? 0 : 1;
}
