/* Load shedding of UDP log records by severity, when the export backlog
 * holds most of a worker's batches (docs/architecture.md, "Shedding").
 *
 * A UDP sender cannot be paused as a TCP one is by its window, so once the
 * batches run out every record drops alike (batch_pool_empty, ring_full),
 * an error as readily as a debug line. Shedding spends what is left on the
 * records that matter most: the fewer batches are free, the more of the
 * least severe records are dropped, each with its own counted reason.
 *
 * Pure functions of their arguments: the worker calls sl_shed_level once
 * per RX burst and at each counter publication, and sl_shed_reason per
 * record while the level is not 0.
 */
#ifndef SL_SHED_H
#define SL_SHED_H

#include <stdint.h>

#include "sl_counters.h"

/* Levels 1..4 shed severities 7, 6..7, 5..7 and 4..7. */
#define SL_SHED_LEVELS 4
/* The least severe syslog severity no level sheds: error (3). */
#define SL_SHED_KEEP_SEVERITY (7 - SL_SHED_LEVELS)
/* What a record without a severity counts as: info. Most loggers write a
 * line without a level at info, and a line no parser understood (flagged
 * parse_error) is worth no more than one that says it is info. */
#define SL_SHED_UNKNOWN_SEVERITY 6

_Static_assert(SL_REC_DROP_SHED_INFO == SL_REC_DROP_SHED_DEBUG + 1 &&
		       SL_REC_DROP_SHED_NOTICE == SL_REC_DROP_SHED_DEBUG + 2 &&
		       SL_REC_DROP_SHED_WARNING == SL_REC_DROP_SHED_DEBUG + SL_SHED_LEVELS - 1,
	       "the shed reasons are contiguous, least severe first");

/* The pressure level, 0..4, of `free` batches (min of free pool elements
 * and free ring slots) out of `cap`, with shedding starting below
 * start_pct % of cap: level 1 below S = start_pct/100 of cap, 2 below
 * 3/4 S, 3 below 1/2 S, 4 below 1/4 S. start_pct 0 never sheds. Integer
 * arithmetic (400 free < pct cap q), so each boundary is exact. */
static inline unsigned sl_shed_level(unsigned free, unsigned cap, unsigned start_pct)
{
	uint64_t f = 400 * (uint64_t)free, s = (uint64_t)start_pct * cap;
	unsigned level = 0;

	for (unsigned q = SL_SHED_LEVELS; q >= 1 && f < s * q; q--)
		level++;
	return level;
}

/* The drop reason (enum sl_rec_drop) of a record of syslog severity sev
 * (0..7; anything else counts as SL_SHED_UNKNOWN_SEVERITY) at `level`, or
 * -1 to keep it. Error and more severe (0..3) are always kept. */
static inline int sl_shed_reason(unsigned level, int sev)
{
	if (sev < 0 || sev > 7)
		sev = SL_SHED_UNKNOWN_SEVERITY;
	if (level > SL_SHED_LEVELS)
		level = SL_SHED_LEVELS;
	if (sev < 8 - (int)level)
		return -1;
	return SL_REC_DROP_SHED_DEBUG + (7 - sev);
}

#endif
