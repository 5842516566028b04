/* Private to control/sl_metrics*.c: the merged series and the state of
 * the interval being gathered. */
#ifndef SL_METRICS_INT_H
#define SL_METRICS_INT_H

#include <stdint.h>

#include "sl_ctl_out.h"
#include "sl_metrics.h"

/* A sum of gauge deltas of one worker and the arrival of its last one. */
struct sl_gdelta {
	double d;
	uint64_t tsc;
};

/* One series merged over workers. */
struct sl_mentry {
	uint64_t hash;                /* 0 in an empty slot is not enough: key == NULL */
	char *key;                    /* canonical key, heap */
	uint16_t key_len;
	uint8_t name_len;
	uint8_t type;                 /* enum sl_statsd_type (h as TIMER) */
	uint8_t source;               /* enum sl_mt_source */
	uint8_t touched;              /* values this interval */
	uint8_t has_value;            /* gauge: a value is known */
	uint8_t set_now;              /* gauge: set this interval */
	uint32_t idle;                /* intervals without values */
	uint64_t samples;             /* values this interval */
	double sum;                   /* counter: this interval */
	double total;                 /* counter: since the series appeared */
	double value;                 /* gauge: current value (the winning set's) */
	double post;                  /* gauge: the winning worker's deltas after it */
	uint64_t set_tsc;             /* gauge: arrival of the winning set */
	uint64_t post_tsc;            /* gauge: ... and of its worker's last delta after it */
	struct sl_gdelta *pend;       /* gauge: other deltas of the interval */
	uint32_t n_pend, cap_pend;
	double t_count, t_sum;        /* timer: since the series appeared */
	struct sl_hll *hll;           /* set: this interval */
	struct sl_ddsketch *dds;      /* timer: this interval */
};

struct sl_metrics {
	struct sl_mentry *e;
	uint32_t mask;
	uint32_t n;
	uint32_t max;                 /* metrics.max_series_total */
	unsigned n_workers;
	unsigned expire;
	int64_t period_ns, grace_ns;
	double q[SL_MAX_QUANTILES];
	char q_text[SL_MAX_QUANTILES][24];   /* as exported: "0.99" */
	uint32_t q_len[SL_MAX_QUANTILES];
	unsigned n_q;
	char node[SL_NAME_MAX];
	char prom_file[PATH_MAX];
	struct sl_ctl_out *out;

	/* the interval being gathered */
	int64_t open_start, open_end; /* open_end 0: none */
	int64_t last_end;             /* end of the last interval sent */
	unsigned arrived;
	struct sl_mtable **parked;    /* per worker: a table of a later interval */
	uint64_t merge_ns;            /* spent merging this interval's tables */
	struct sl_metrics_stats st;
};

/* Sends one record per touched series of the interval [start, end) and
 * writes the Prometheus file (sl_metrics_out.c). */
void sl_metrics_emit(struct sl_metrics *m, struct sl_export *k, int64_t start, int64_t end);

/* The series' exported single value (see sl_metrics_value). */
double sl_mentry_value(const struct sl_mentry *e);

#endif
