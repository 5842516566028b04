/* Private to the template miner: the masked form of a line, shared by
 * the masking (sl_tpl_mask.c) and the tree (sl_template.c). */
#ifndef SL_TEMPLATE_INT_H
#define SL_TEMPLATE_INT_H

#include <stdint.h>

#include "sl_template.h"

#define WILD "<*>"
#define WILD_LEN 3
#define NIL (-1)
/* Masked text stops here: generalising can grow a one- or two-byte token
 * to <*>, so the room for that growth is kept. */
#define MASK_CAP (SL_TPL_TEXT_MAX - 2 * SL_TPL_MAX_TOKENS - WILD_LEN - 1)

/* A line as the tree sees it: masked text and its tokens. */
struct line {
	uint16_t n_tok;
	uint32_t len;
	uint64_t key;                  /* of the whole masked token sequence */
	uint64_t wild, param;
	uint64_t tok[SL_TPL_MAX_TOKENS];
	uint16_t off[SL_TPL_MAX_TOKENS];
	uint16_t tlen[SL_TPL_MAX_TOKENS];
	char text[SL_TPL_TEXT_MAX + 8];
};

/* Cuts and masks msg into l; a line longer than the limits keeps its
 * first tokens and ends in one <*> that stands for the rest. */
void sl_tpl_mask_line(const char *msg, uint32_t n, struct line *l);

/* A token's hash over masked text at t. Reads up to 7 bytes past the
 * token, which must lie inside a buffer with that much room. */
uint64_t sl_tpl_text_hash(const char *t, uint32_t n);

#endif
