/* Why a StatsD line is refused: one list for the parser
 * (workers/sl_statsd.h, enum sl_statsd_drop) and the record ledger
 * (common/sl_counters.h, where these are record drop reasons). The ids
 * must not repeat one of SL_REC_DROPS's own (hence BLANK, not EMPTY).
 */
#ifndef SL_STATSD_DROPS_H
#define SL_STATSD_DROPS_H

/* X(ENUM, "stats_name", "what it means"): why a line is refused. */
#define SL_STATSD_DROPS(X)                                                       \
	X(BLANK, "statsd_empty", "Empty line (sl_statsd_next_line skips them)")   \
	X(UNSUPPORTED, "statsd_unsupported", "DogStatsD event (_e{) or service check (_sc|): not a metric") \
	X(NAME_INVALID, "statsd_name_invalid", "Metric name empty, over 200 bytes, or with a byte outside [A-Za-z0-9_.-/]") \
	X(NO_VALUE, "statsd_no_value", "No ':' after the name, or nothing between it and the type") \
	X(BAD_VALUE, "statsd_bad_value", "A value is not a finite decimal number (NaN, Inf, hex, junk, over 100 bytes) or is empty") \
	X(TOO_MANY_VALUES, "statsd_too_many_values", "More than 64 values in one line") \
	X(BAD_TYPE, "statsd_bad_type", "Type missing or not one of c, g, ms, h, d, s") \
	X(BAD_RATE, "statsd_bad_rate", "Sample rate not a number in (0, 1], or given twice") \
	X(BAD_TAG, "statsd_bad_tag", "Tag empty, with an empty key, over 200 bytes or with a control byte; or tags given twice") \
	X(TOO_MANY_TAGS, "statsd_too_many_tags", "More than 64 tags in one line") \
	X(BAD_FIELD, "statsd_bad_field", "Empty field (||, trailing |), empty container id, timestamp not 1 to 10 digits, or either given twice")

#endif
