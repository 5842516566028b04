/* Private to config/: the declarative schema behind sl_config.
 *
 * One row per key. The loader (sl_config.c) walks the YAML tree and looks
 * each key's schema path up here; the rows also give the defaults and the
 * generated reference, so a key exists in exactly one place.
 *
 * Paths: "worker.burst" is a field of struct sl_config; "ports" is a list of
 * maps whose elements are struct sl_port_conf, and "ports[].mtu" is a field
 * of that element. Sections ("export.kafka") have no row: a path is a
 * section when some row lies below it.
 */
#ifndef SL_CONFIG_SCHEMA_H
#define SL_CONFIG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

enum sl_config_type {
	SL_CT_STRING,      /* char[size]; min = minimum length */
	SL_CT_UINT,        /* unsigned field of size 1, 2, 4 or 8; min..max */
	SL_CT_INT,         /* signed field of size 1, 2, 4 or 8; min..max */
	SL_CT_BOOL,        /* bool */
	SL_CT_ENUM,        /* int-sized enum; value = index into names */
	SL_CT_CIDR4_LIST,  /* struct sl_cidr4[max_items]; min..max items */
	SL_CT_CIDR6_LIST,  /* struct sl_cidr6[max_items]; min..max items */
	SL_CT_STRING_LIST, /* char[max_items][size]; min..max items */
	SL_CT_STRING_MAP,  /* struct sl_kv[max_items], in file order */
	SL_CT_OBJ_LIST,    /* list of maps; elements of size bytes */
};

struct sl_config_key {
	const char *path;
	enum sl_config_type type;
	size_t off;              /* in struct sl_config or in the list element */
	size_t size;             /* field size; lists: size of one item */
	size_t count_off;        /* lists and maps: their unsigned item count */
	size_t line_off;         /* object lists: the element's int line */
	unsigned max_items;      /* lists and maps: capacity */
	long long min, max;      /* numbers: value range; lists: item count */
	const char *const *names;        /* enums, NULL-terminated */
	const char *(*check)(long long v); /* extra rule: message or NULL */
	const char *check_doc;   /* that rule, for the reference */
	const char *def;         /* default as YAML text; NULL: none */
	void (*def_fn)(char *dst, size_t size); /* computed default */
	const char *def_doc;     /* how the computed default is documented */
	bool required;
	bool reloadable;
	const char *desc;
};

/* Large enough for every row; sl_config_schema.c asserts it. */
#define SL_CONFIG_SCHEMA_MAX 96

extern const struct sl_config_key sl_config_schema[];
extern const unsigned sl_config_schema_n;
extern const char *const sl_config_proto_names[];
extern const char *const sl_config_format_names[];
extern const char *const sl_config_parse_errors_names[];

/* The row for a schema path ("ports[].mtu"), or NULL. */
const struct sl_config_key *sl_config_schema_find(const char *path);

/* True when some row lies below path (path is a section or a list). */
bool sl_config_schema_is_section(const char *path);

/* Converts one scalar into the key's field at base (for lists: item idx).
 * Returns 0, or -1 with a message (without the key path) in err. */
int sl_config_schema_set(const struct sl_config_key *k, void *base,
			 unsigned idx, const char *text, char *err,
			 size_t errlen);

/* Applies the defaults of every row stored in the struct named by
 * container ("" for struct sl_config, "ports[]" for a port) to base. */
void sl_config_schema_defaults(void *base, const char *container);

/* True when path's row is stored in the struct named by container: "" holds
 * "worker.burst" and "ports", "ports[]" holds "ports[].mtu". */
bool sl_config_schema_in(const char *path, const char *container);

#endif
