/*
 * The config module's private layer: merged INI sections, interpolation,
 * <tag> substitution and name[k=v] references, shared by config.c.
 */
#ifndef JAILD_CONFIG_STORE_H
#define JAILD_CONFIG_STORE_H

#include <stddef.h>

#include "conf.h"
#include "config.h"

/*
 * One key of a merged set of files.  A later file overriding a key keeps
 * the old entry as prev: that is what %(known/key)s reads.
 */
struct config_ent {
	char *key;
	char *value; /* raw */
	const char *file; /* interned in the store */
	int line;
	struct config_ent *prev;
};

struct config_sect {
	char *name;
	const char *file;
	int line;
	int base; /* came from jaild.conf, not a jail file */
	struct config_ent **ents;
	size_t nents;
};

/* Sections merged from a file, its includes and its .local. */
struct config_store {
	struct config_sect **sects;
	size_t nsects;
	char **files;
	size_t nfiles;
};

/* Where an interpolation runs and where its errors go. */
struct config_ctx {
	struct config_store *st;
	const struct config_var *params; /* name[k=v]: win over all */
	size_t nparams;
	int scope; /* conf_table scope for defaults, or 0 */
	struct conf_errors *errs;
	const char *key; /* being computed, for messages */
	const char *file;
	int line;
	int failed;
};

/* A parsed "name[key=value, ...]". */
struct config_ref {
	char *name;
	struct config_var *params;
	size_t nparams;
};

/* Report an error at the place ctx is computing. */
#define config_store_ctx_error(c, ...)                                         \
	do {                                                                   \
		config_store_error(                                            \
		    (c)->errs, (c)->file, (c)->line, __VA_ARGS__);             \
		(c)->failed = 1;                                               \
	} while (0)

struct config_incl;

/* Add an error unless the very same one is already there. */
void config_store_error(struct conf_errors *errs, const char *file, int line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Return s without leading and trailing blanks, in place. */
char *config_store_trim(char *s);
/* Set key in a var array, replacing an earlier one. */
void config_store_vars_set(struct config_var **vars, size_t *n, const char *key,
    const char *value, const char *file, int line);
/* Free a var array. */
void config_store_vars_free(struct config_var *vars, size_t n);

struct config_store *config_store_create(void);
void config_store_free(struct config_store *st);
/* Copy a store; every section of the copy is marked base. */
struct config_store *config_store_copy(const struct config_store *from);
/* Read path, with its includes, into st (up: NULL at the top). */
void config_store_read(struct config_store *st, const char *path,
    const struct config_incl *up, struct conf_errors *errs, const char *from,
    int fromline);
/* Read path.conf's stem: the .conf (if any), then its .local (if any). */
void config_store_read_pair(struct config_store *st, const char *conf,
    const char *local, struct conf_errors *errs);

/* Section name of st, or NULL. */
struct config_sect *config_store_find(
    const struct config_store *st, const char *name);
/* Key of section s (NULL: none), or NULL. */
struct config_ent *config_store_sect_ent(
    const struct config_sect *s, const char *key);
/* The entry name means in section sect: its own, else [DEFAULT]'s. */
const struct config_ent *config_store_get(
    const struct config_store *st, const char *sect, const char *name);

/* Interpolate e in section sect as the value of key; NULL after an error. */
char *config_store_value(struct config_ctx *c, const char *sect,
    const char *key, const struct config_ent *e);
/* Interpolate each raw line of e; offs[i] is where raw line i starts. */
char *config_store_value_lines(struct config_ctx *c, const char *sect,
    const char *key, const struct config_ent *e, size_t **offs, size_t *n);
/* The file line of offset pos in a config_store_value_lines result. */
int config_store_line_of(const size_t *offs, size_t n, int base, size_t pos);
/* Call fn on every word (split at seps) or line of e, interpolated. */
void config_store_each(struct config_ctx *c, const char *sect, const char *key,
    const struct config_ent *e, const char *seps, int tags,
    void (*fn)(struct config_ctx *, char *, void *), void *arg);
/* Replace <key> tags by filter values; NULL after reporting an error. */
char *config_store_tags(
    struct config_ctx *c, const char *value, const char *self);

/* Parse "name[key=value, ...]" at *sp and advance past it. */
int config_store_ref_parse(
    const char **sp, struct config_ref *ref, char **cause);
/* Parse a whole value as exactly one reference. */
int config_store_ref_parse_one(
    const char *s, struct config_ref *ref, char **cause);
/* Free a ref's parts. */
void config_store_ref_clear(struct config_ref *ref);

#endif
