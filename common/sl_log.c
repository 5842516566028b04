#include <errno.h>

#include "sl_log.h"

int sl_logtype[SL_LT_COUNT];

static const char *const logtype_names[SL_LT_COUNT] = {
#define SL_LT_NAME(id, name) [SL_LT_##id] = name,
	SL_LOG_TYPES(SL_LT_NAME)
#undef SL_LT_NAME
};

int sl_log_init(void)
{
	for (int i = 0; i < SL_LT_COUNT; i++) {
		int t = rte_log_register_type_and_pick_level(logtype_names[i],
							     RTE_LOG_INFO);
		if (t < 0)
			return -ENOMEM;
		sl_logtype[i] = t;
	}
	return 0;
}
