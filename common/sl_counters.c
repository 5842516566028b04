#include <rte_atomic.h>
#include <rte_pause.h>

#include "sl_counters.h"

#define SL_X_NAME(id, name, desc) name,
#define SL_X_DESC(id, name, desc) desc,
const char *const sl_pkt_drop_name[SL_PKT_DROP_COUNT] = { SL_PKT_DROPS(SL_X_NAME) };
const char *const sl_pkt_drop_desc[SL_PKT_DROP_COUNT] = { SL_PKT_DROPS(SL_X_DESC) };
const char *const sl_rec_drop_name[SL_REC_DROP_COUNT] = { SL_REC_DROPS(SL_X_NAME) };
const char *const sl_rec_drop_desc[SL_REC_DROP_COUNT] = { SL_REC_DROPS(SL_X_DESC) };
const char *const sl_export_drop_name[SL_EXPORT_DROP_COUNT] = { SL_EXPORT_DROPS(SL_X_NAME) };
const char *const sl_export_drop_desc[SL_EXPORT_DROP_COUNT] = { SL_EXPORT_DROPS(SL_X_DESC) };
#undef SL_X_NAME
#undef SL_X_DESC

const char *const sl_kind_name[SL_KIND_COUNT] = {
#define SL_X_KIND(id, name) name,
	SL_KINDS(SL_X_KIND)
#undef SL_X_KIND
};

void sl_counters_publish(struct sl_counters_pub *pub,
			 const struct sl_worker_counters *c)
{
	/* Sequence lock, writer side: odd seq tells readers to retry. The
	 * release fences order the seq stores around the copy. */
	uint32_t s = pub->seq;

	__atomic_store_n(&pub->seq, s + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	pub->c = *c;
	__atomic_store_n(&pub->seq, s + 2, __ATOMIC_RELEASE);
}

void sl_counters_read(const struct sl_counters_pub *pub,
		      struct sl_worker_counters *out)
{
	for (;;) {
		uint32_t s1 = __atomic_load_n(&pub->seq, __ATOMIC_ACQUIRE);

		if (s1 & 1) {
			rte_pause();
			continue;
		}
		*out = pub->c;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&pub->seq, __ATOMIC_RELAXED) == s1)
			return;
	}
}

uint64_t sl_counters_pkt_terminal(const struct sl_worker_counters *c)
{
	uint64_t n = c->pkt_delivered + c->pkt_answered + c->frags_held + c->tcp_held;

	for (int i = 0; i < SL_PKT_DROP_COUNT; i++)
		n += c->pkt_drop[i];
	return n;
}

uint64_t sl_counters_rec_dropped(const struct sl_worker_counters *c)
{
	uint64_t n = 0;

	for (int i = 0; i < SL_REC_DROP_COUNT; i++)
		n += c->rec_drop[i];
	return n;
}

static void write_table(FILE *out, const char *title, int n,
			const char *const *names, const char *const *descs)
{
	fprintf(out, "\n### %s\n\n| reason | meaning |\n|---|---|\n", title);
	for (int i = 0; i < n; i++)
		fprintf(out, "| `%s` | %s |\n", names[i], descs[i]);
}

void sl_counters_write_reference(FILE *out)
{
	write_table(out, "Packet drops (per worker, `workers[].packets.dropped`)",
		    SL_PKT_DROP_COUNT, sl_pkt_drop_name, sl_pkt_drop_desc);
	write_table(out, "Record drops (per worker, `workers[].records.dropped`)",
		    SL_REC_DROP_COUNT, sl_rec_drop_name, sl_rec_drop_desc);
	write_table(out, "Export drops (control core, `export.dropped`)",
		    SL_EXPORT_DROP_COUNT, sl_export_drop_name, sl_export_drop_desc);
}
