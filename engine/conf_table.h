/* The table of known configuration keys: type, range, default, help. */
#ifndef JAILD_CONF_TABLE_H
#define JAILD_CONF_TABLE_H

#include <stddef.h>
#include <stdint.h>

enum conf_table_type {
	CONF_TABLE_STRING,
	CONF_TABLE_INT,
	CONF_TABLE_BOOL,
	CONF_TABLE_DURATION,
	CONF_TABLE_REGEX_LIST, /* one regex per non-empty line */
	CONF_TABLE_NAME_REF, /* name[key=value, ...] */
	CONF_TABLE_NAME_LIST, /* several name[...] references */
	CONF_TABLE_ADDR_LIST, /* addresses or CIDRs, blank or comma separated */
	CONF_TABLE_LIST, /* words or paths, blank separated */
};

/* Where a key is read. */
#define CONF_TABLE_DAEMON 0x1 /* [jaild] in jaild.conf */
#define CONF_TABLE_JAIL 0x2 /* a jail section (or [DEFAULT]) */
#define CONF_TABLE_FILTER 0x4 /* a filter's [Definition] */
#define CONF_TABLE_ACTION 0x8 /* an action's [Definition] */
#define CONF_TABLE_FLEET 0x10 /* [fleet] in jaild.conf */

struct conf_table_entry {
	const char *name;
	enum conf_table_type type;
	int scope;
	int64_t min; /* int and duration: the range allowed */
	int64_t max;
	const char *dflt; /* NULL: no default; may hold %(var)s */
	const char *help;
};

extern const struct conf_table_entry conf_table[];
extern const size_t conf_table_n;

/* Find name among the keys of scope, or NULL. */
const struct conf_table_entry *conf_table_find(int scope, const char *name);
/* The key of scope that name is a likely typo of, or NULL. */
const char *conf_table_suggest(int scope, const char *name);

/* Name of a type as the man page shows it ("duration"). */
const char *conf_table_type_name(enum conf_table_type);

/* Parse a boolean: true/false, yes/no, on/off, 1/0 (any case). */
int conf_table_parse_bool(const char *s, int *out);

/* Parse a decimal integer, whole string, into out. */
int conf_table_parse_int(const char *s, int64_t *out);

/*
 * Check value against entry's type and range; for int, bool and
 * duration also return the number in *out (may be NULL).  On error
 * *cause says why, without file:line.
 */
int conf_table_check(const struct conf_table_entry *entry, const char *value,
    int64_t *out, char **cause);

#endif
