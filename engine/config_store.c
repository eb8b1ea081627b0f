/*
 * The layer under config.c: sections merged from INI files ([INCLUDES],
 * .local), %(x)s and %(known/x)s interpolation, late <tag> substitution
 * and name[k=v] references.
 */
#include <sys/stat.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf.h"
#include "conf_table.h"
#include "config.h"
#include "config_store.h"
#include "log.h"
#include "xmalloc.h"

#define CONFIG_INCLUDE_DEPTH 16
#define CONFIG_INTERP_DEPTH 10
#define CONFIG_VALUE_MAX (1024 * 1024)
#define CONFIG_TAG_MAX 1000 /* tag replacements in one value */

/* Include chain, to refuse loops. */
struct config_incl {
	const char *path;
	const struct config_incl *up;
};

struct config_buf {
	char *s;
	size_t len;
	size_t cap;
};

static char *config_store_interp(struct config_ctx *, const char *,
    const char *, const struct config_ent *, int);

/* Add an error unless the very same one is already there. */
void
config_store_error(
    struct conf_errors *errs, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	char *msg, *full;
	size_t i;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = xstrdup(fmt);
	va_end(ap);
	if (line > 0)
		xasprintf(&full, "%s:%d: %s", file, line, msg);
	else
		xasprintf(&full, "%s: %s", file, msg);
	for (i = 0; i < errs->n; i++) {
		if (strcmp(errs->msgs[i], full) == 0)
			break;
	}
	if (i == errs->n)
		conf_errors_add(errs, file, line, "%s", msg);
	free(full);
	free(msg);
}

/* Append n bytes of p. */
static void
config_store_buf_add(struct config_buf *b, const char *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xreallocarray(b->s, 1, b->cap);
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* Return s without leading and trailing blanks, in place. */
char *
config_store_trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	n = strlen(s);
	while (
	    n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

/* Set key in a var array, replacing an earlier one. */
void
config_store_vars_set(struct config_var **vars, size_t *n, const char *key,
    const char *value, const char *file, int line)
{
	struct config_var *v = NULL;
	size_t i;

	for (i = 0; i < *n; i++) {
		if (strcmp((*vars)[i].key, key) == 0) {
			v = &(*vars)[i];
			free(v->value);
			free(v->file);
			break;
		}
	}
	if (v == NULL) {
		*vars = xreallocarray(*vars, *n + 1, sizeof **vars);
		v = &(*vars)[(*n)++];
		v->key = xstrdup(key);
	}
	v->value = xstrdup(value);
	v->file = xstrdup(file != NULL ? file : "");
	v->line = line;
}

/* Free a var array. */
void
config_store_vars_free(struct config_var *vars, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(vars[i].key);
		free(vars[i].value);
		free(vars[i].file);
	}
	free(vars);
}

/* Free a ref's parts. */
void
config_store_ref_clear(struct config_ref *ref)
{
	free(ref->name);
	config_store_vars_free(ref->params, ref->nparams);
	memset(ref, 0, sizeof *ref);
}

/* Free an entry and the older values it overrode. */
static void
config_store_ent_free(struct config_ent *e)
{
	struct config_ent *prev;

	for (; e != NULL; e = prev) {
		prev = e->prev;
		free(e->key);
		free(e->value);
		free(e);
	}
}

struct config_store *
config_store_create(void)
{
	return xcalloc(1, sizeof(struct config_store));
}

void
config_store_free(struct config_store *st)
{
	size_t i, j;

	if (st == NULL)
		return;
	for (i = 0; i < st->nsects; i++) {
		for (j = 0; j < st->sects[i]->nents; j++)
			config_store_ent_free(st->sects[i]->ents[j]);
		free(st->sects[i]->ents);
		free(st->sects[i]->name);
		free(st->sects[i]);
	}
	free(st->sects);
	for (i = 0; i < st->nfiles; i++)
		free(st->files[i]);
	free(st->files);
	free(st);
}

/* Keep one copy of a file name for entries to point at. */
static const char *
config_store_intern(struct config_store *st, const char *path)
{
	size_t i;

	for (i = 0; i < st->nfiles; i++) {
		if (strcmp(st->files[i], path) == 0)
			return st->files[i];
	}
	st->files = xreallocarray(st->files, st->nfiles + 1, sizeof *st->files);
	return st->files[st->nfiles++] = xstrdup(path);
}

struct config_sect *
config_store_find(const struct config_store *st, const char *name)
{
	size_t i;

	if (st == NULL)
		return NULL;
	for (i = 0; i < st->nsects; i++) {
		if (strcmp(st->sects[i]->name, name) == 0)
			return st->sects[i];
	}
	return NULL;
}

/* Find or add section name. */
static struct config_sect *
config_store_add(
    struct config_store *st, const char *name, const char *file, int line)
{
	struct config_sect *s = config_store_find(st, name);

	if (s != NULL)
		return s;
	s = xcalloc(1, sizeof *s);
	s->name = xstrdup(name);
	s->file = config_store_intern(st, file);
	s->line = line;
	st->sects = xreallocarray(st->sects, st->nsects + 1, sizeof *st->sects);
	st->sects[st->nsects++] = s;
	return s;
}

struct config_ent *
config_store_sect_ent(const struct config_sect *s, const char *key)
{
	size_t i;

	if (s == NULL)
		return NULL;
	for (i = 0; i < s->nents; i++) {
		if (strcmp(s->ents[i]->key, key) == 0)
			return s->ents[i];
	}
	return NULL;
}

/* Set key in s; the entry it overrides becomes the known/ value. */
static void
config_store_sect_set(struct config_sect *s, const char *key, const char *value,
    const char *file, int line)
{
	struct config_ent *e = xcalloc(1, sizeof *e);
	size_t i;

	e->key = xstrdup(key);
	e->value = xstrdup(value);
	e->file = file;
	e->line = line;
	for (i = 0; i < s->nents; i++) {
		if (strcmp(s->ents[i]->key, key) == 0) {
			e->prev = s->ents[i];
			s->ents[i] = e;
			return;
		}
	}
	s->ents = xreallocarray(s->ents, s->nents + 1, sizeof *s->ents);
	s->ents[s->nents++] = e;
}

/* Copy an entry and its history into st. */
static struct config_ent *
config_store_ent_copy(struct config_store *st, const struct config_ent *e)
{
	struct config_ent *c;

	if (e == NULL)
		return NULL;
	c = xcalloc(1, sizeof *c);
	c->key = xstrdup(e->key);
	c->value = xstrdup(e->value);
	c->file = config_store_intern(st, e->file);
	c->line = e->line;
	c->prev = config_store_ent_copy(st, e->prev);
	return c;
}

/* Copy a store; every section of the copy is marked base. */
struct config_store *
config_store_copy(const struct config_store *from)
{
	struct config_store *st = config_store_create();
	struct config_sect *s;
	size_t i, j;

	for (i = 0; i < from->nsects; i++) {
		s = config_store_add(st, from->sects[i]->name,
		    from->sects[i]->file, from->sects[i]->line);
		s->base = 1;
		s->ents = xcalloc(from->sects[i]->nents + 1, sizeof *s->ents);
		for (j = 0; j < from->sects[i]->nents; j++)
			s->ents[j] =
			    config_store_ent_copy(st, from->sects[i]->ents[j]);
		s->nents = from->sects[i]->nents;
	}
	return st;
}

/* Merge every section of cf (but [INCLUDES]) into st. */
static void
config_store_merge(struct config_store *st, const struct conf_file *cf)
{
	const char *file = config_store_intern(st, cf->path);
	struct config_sect *s;
	size_t i, j;

	for (i = 0; i < cf->nsections; i++) {
		if (strcmp(cf->sections[i].name, "INCLUDES") == 0)
			continue;
		s = config_store_add(
		    st, cf->sections[i].name, file, cf->sections[i].line);
		for (j = 0; j < cf->sections[i].nentries; j++) {
			config_store_sect_set(s, cf->sections[i].entries[j].key,
			    cf->sections[i].entries[j].value, file,
			    cf->sections[i].entries[j].line);
		}
	}
}

/* Read the files [INCLUDES] names under key ("before" or "after"). */
static void
config_store_includes(struct config_store *st, const struct conf_file *cf,
    const char *key, const struct config_incl *me, struct conf_errors *errs)
{
	const struct conf_entry *e;
	char *list, *tok, *save = NULL, *dir, *slash, *path;
	struct stat sb;

	e = conf_entry_find(conf_section_find(cf, "INCLUDES"), key);
	if (e == NULL)
		return;
	dir = xstrdup(cf->path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	else
		strcpy(dir, ".");
	list = xstrdup(e->value);
	for (tok = strtok_r(list, " \t\n", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		if (*tok == '/')
			path = xstrdup(tok);
		else
			xasprintf(&path, "%s/%s", dir, tok);
		/* fail2ban ignores missing includes: common.local often is.
		 * A dangling link is not missing: conf_read says why. */
		if (lstat(path, &sb) == 0)
			config_store_read(
			    st, path, me, errs, cf->path, e->line);
		else
			log_debug("%s:%d: include %s not found", cf->path,
			    e->line, path);
		free(path);
	}
	free(list);
	free(dir);
}

/* Read path, with its includes, into st. */
void
config_store_read(struct config_store *st, const char *path,
    const struct config_incl *up, struct conf_errors *errs, const char *from,
    int fromline)
{
	struct config_incl me;
	const struct config_incl *i;
	struct conf_file *cf;
	char *real;
	int depth = 0;

	if ((real = realpath(path, NULL)) == NULL)
		real = xstrdup(path);
	for (i = up; i != NULL; i = i->up, depth++) {
		if (strcmp(i->path, real) == 0) {
			config_store_error(errs, from, fromline,
			    "include loop: %s is already being read", path);
			goto out;
		}
	}
	if (depth >= CONFIG_INCLUDE_DEPTH) {
		config_store_error(
		    errs, from, fromline, "includes nested too deep");
		goto out;
	}
	if ((cf = conf_read(path, errs)) == NULL)
		goto out;
	me.path = real;
	me.up = up;
	config_store_includes(st, cf, "before", &me, errs);
	config_store_merge(st, cf);
	config_store_includes(st, cf, "after", &me, errs);
	conf_file_free(cf);
out:
	free(real);
}

/* Read path.conf's stem: the .conf (if any), then its .local (if any). */
void
config_store_read_pair(struct config_store *st, const char *conf,
    const char *local, struct conf_errors *errs)
{
	struct stat sb;

	/* lstat: a dangling link is an error, not a file that is absent. */
	if (conf != NULL && lstat(conf, &sb) == 0)
		config_store_read(st, conf, NULL, errs, conf, 0);
	if (local != NULL && lstat(local, &sb) == 0)
		config_store_read(st, local, NULL, errs, local, 0);
}

/* The entry name means in section sect: its own, else [DEFAULT]'s. */
const struct config_ent *
config_store_get(
    const struct config_store *st, const char *sect, const char *name)
{
	const struct config_ent *e;

	e = config_store_sect_ent(config_store_find(st, sect), name);
	if (e == NULL)
		e = config_store_sect_ent(
		    config_store_find(st, "DEFAULT"), name);
	return e;
}

/*
 * The value opt had before the file that set it last (%(known/opt)s).
 * Inside that older value itself, known/ goes one step further back.
 */
static const struct config_ent *
config_store_known(const struct config_store *st, const char *sect,
    const char *opt, const struct config_ent *self)
{
	const struct config_ent *e, *c, *d;

	e = config_store_get(st, sect, opt);
	for (c = e; c != NULL && self != NULL; c = c->prev) {
		if (c == self) {
			e = self;
			break;
		}
	}
	if (e != NULL && e->prev != NULL)
		return e->prev;
	d = config_store_sect_ent(config_store_find(st, "DEFAULT"), opt);
	if (d != NULL && d != e)
		return d;
	return e != self ? e : NULL;
}

/* Find what a %(name)s or <sect/name> refers to; *in gets its section. */
static const struct config_ent *
config_store_resolve(const struct config_store *st, const char *sect,
    const char *name, const struct config_ent *self, const char **in)
{
	const struct config_sect *s;
	const char *slash = strchr(name, '/');
	char *secname;
	const struct config_ent *e;

	*in = sect;
	if (slash == NULL)
		return config_store_get(st, sect, name);
	secname = xstrndup(name, slash - name);
	if (strcasecmp(secname, "known") == 0)
		e = config_store_known(st, sect, slash + 1, self);
	else if (strcasecmp(secname, "default") == 0)
		e = config_store_sect_ent(
		    config_store_find(st, "DEFAULT"), slash + 1);
	else {
		s = config_store_find(st, secname);
		e = s != NULL ? config_store_get(st, s->name, slash + 1) : NULL;
		if (s != NULL)
			*in = s->name;
	}
	free(secname);
	return e;
}

/* Interpolate one %(name)s reference. */
static char *
config_store_interp_ref(struct config_ctx *c, const char *sect,
    const char *name, const struct config_ent *self, int depth)
{
	const struct conf_table_entry *t;
	const struct config_ent *e;
	const char *in;
	size_t i;

	if (depth >= CONFIG_INTERP_DEPTH) {
		config_store_ctx_error(
		    c, "interpolation loop in '%s' at %%(%s)s", c->key, name);
		return NULL;
	}
	if (strcmp(name, "__name__") == 0)
		return xstrdup(sect);
	for (i = 0; i < c->nparams && strchr(name, '/') == NULL; i++) {
		if (strcmp(c->params[i].key, name) == 0)
			return xstrdup(c->params[i].value);
	}
	e = config_store_resolve(c->st, sect, name, self, &in);
	if (e != NULL)
		return config_store_interp(c, in, e->value, e, depth + 1);
	t = c->scope != 0 ? conf_table_find(c->scope, name) : NULL;
	if (t != NULL && t->dflt != NULL)
		return config_store_interp(c, sect, t->dflt, NULL, depth + 1);
	config_store_ctx_error(
	    c, "unknown interpolation key '%s' in '%s'", name, c->key);
	return NULL;
}

/*
 * Expand %(name)s in raw as Python's ConfigParser does, in section sect;
 * "%%" is a literal '%'.  self is the entry raw came from (for known/).
 * Returns NULL after reporting an error.
 */
static char *
config_store_interp(struct config_ctx *c, const char *sect, const char *raw,
    const struct config_ent *self, int depth)
{
	struct config_buf b = {NULL, 0, 0};
	const char *p = raw, *q, *end;
	char *name, *v;

	config_store_buf_add(&b, "", 0);
	while ((q = strchr(p, '%')) != NULL) {
		config_store_buf_add(&b, p, q - p);
		p = q + 1;
		if (*p != '(') {
			/* "%%" is one '%'; a lone '%' is kept as written. */
			config_store_buf_add(&b, "%", 1);
			if (*p == '%')
				p++;
			continue;
		}
		end = strchr(p, ')');
		if (end == NULL || end[1] != 's') {
			config_store_ctx_error(
			    c, "bad interpolation in '%s': %.30s", c->key, q);
			goto fail;
		}
		name = xstrndup(p + 1, end - p - 1);
		v = config_store_interp_ref(c, sect, name, self, depth);
		free(name);
		if (v == NULL)
			goto fail;
		config_store_buf_add(&b, v, strlen(v));
		free(v);
		if (b.len > CONFIG_VALUE_MAX) {
			config_store_ctx_error(
			    c, "value of '%s' too long", c->key);
			goto fail;
		}
		p = end + 2;
	}
	config_store_buf_add(&b, p, strlen(p));
	return b.s;
fail:
	free(b.s);
	return NULL;
}

/*
 * The value of <name> in a filter: the jail's params, then [Init], then
 * [Definition] and [DEFAULT], or <sect/key>.  NULL if unknown: <HOST>,
 * <F-ID> and such are left for the regex compiler.
 */
static char *
config_store_tag_value(struct config_ctx *c, const char *name)
{
	const struct config_ent *e;
	const char *in;
	size_t i;

	if (strchr(name, '/') == NULL) {
		for (i = 0; i < c->nparams; i++) {
			if (strcmp(c->params[i].key, name) == 0)
				return xstrdup(c->params[i].value);
		}
		e = config_store_sect_ent(
		    config_store_find(c->st, "Init"), name);
		if (e != NULL)
			return config_store_interp(c, "Init", e->value, e, 0);
	}
	e = config_store_resolve(c->st, "Definition", name, NULL, &in);
	if (e == NULL)
		return NULL;
	return config_store_interp(c, in, e->value, e, 0);
}

/* Replace the text of [lt, gt] in *vp by r; return the new start of r. */
static char *
config_store_tags_splice(char **vp, char *lt, char *gt, const char *r)
{
	size_t off = lt - *vp;
	char *n;

	xasprintf(&n, "%.*s%s%s", (int)off, *vp, r, gt + 1);
	free(*vp);
	*vp = n;
	return n + off;
}

/*
 * Replace <key> tags by filter values, innermost first and again until
 * nothing changes, as fail2ban's substituteRecursiveTags does, so that
 * "<mdre-<mode>>" works.  Returns NULL after reporting an error.
 */
char *
config_store_tags(struct config_ctx *c, const char *value, const char *self)
{
	char *v = xstrdup(value), *p, *lt, *gt, *name, *r;
	int count = 0, changed;

	do {
		changed = 0;
		for (p = v; (lt = strchr(p, '<')) != NULL;) {
			gt = lt + 1 + strcspn(lt + 1, " <>");
			if (*gt != '>' || gt == lt + 1) {
				p = lt + 1;
				continue;
			}
			name = xstrndup(lt + 1, gt - lt - 1);
			if (self != NULL && strcmp(name, self) == 0)
				config_store_ctx_error(
				    c, "tag <%s> refers to itself", name);
			r = c->failed ? NULL : config_store_tag_value(c, name);
			free(name);
			if (c->failed)
				goto fail;
			if (r == NULL) {
				p = gt + 1;
				continue;
			}
			if (++count > CONFIG_TAG_MAX ||
			    strlen(v) + strlen(r) > CONFIG_VALUE_MAX) {
				config_store_ctx_error(
				    c, "tag loop in '%s'", c->key);
				free(r);
				goto fail;
			}
			p = config_store_tags_splice(&v, lt, gt, r);
			free(r);
			changed = 1;
		}
	} while (changed);
	return v;
fail:
	free(v);
	return NULL;
}

/* Parse one parameter "key=value" or key="value" of a reference. */
static int
config_store_ref_param(const char **sp, struct config_ref *ref, char **cause)
{
	const char *p = *sp, *k, *v;
	char *key, *val, q;
	size_t klen;

	k = p;
	klen = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                 "0123456789_.-/");
	p += klen;
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (klen == 0 || *p != '=') {
		xasprintf(cause, "bad parameter near '%.20s'", k);
		return -1;
	}
	p++;
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (*p == '"' || *p == '\'') {
		q = *p++;
		for (v = p; *p != '\0' && *p != q; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
		}
		if (*p == '\0') {
			xasprintf(cause, "unterminated quote near '%.20s'", k);
			return -1;
		}
		val = xstrndup(v, p - v);
		p++;
	} else {
		v = p;
		p += strcspn(p, ",]");
		val = xstrndup(v, p - v);
	}
	key = xstrndup(k, klen);
	config_store_vars_set(
	    &ref->params, &ref->nparams, key, config_store_trim(val), NULL, 0);
	free(key);
	free(val);
	*sp = p;
	return 0;
}

/*
 * Parse "name" or "name[key=value, key2="v, with comma"]" at *sp and
 * advance past it.  Returns -1 with *cause on bad syntax.
 */
int
config_store_ref_parse(const char **sp, struct config_ref *ref, char **cause)
{
	const char *p = *sp, *start = *sp;
	size_t n;

	memset(ref, 0, sizeof *ref);
	n = strcspn(p, "[ \t\n");
	if (n == 0) {
		xasprintf(cause, "expected a name near '%.20s'", p);
		return -1;
	}
	ref->name = xstrndup(p, n);
	p += n;
	if (*p != '[')
		goto out;
	for (p++;;) {
		p += strspn(p, " \t\n");
		if (*p == ']')
			break;
		if (*p == '\0')
			goto unbalanced;
		if (config_store_ref_param(&p, ref, cause) != 0)
			goto fail;
		p += strspn(p, " \t\n");
		if (*p == ',')
			p++;
		else if (*p == '\0')
			goto unbalanced;
		else if (*p != ']') {
			xasprintf(cause, "expected ',' or ']' near '%.20s'", p);
			goto fail;
		}
	}
	p++;
	if (*p != '\0' && strchr(" \t\n", *p) == NULL) {
		xasprintf(cause, "unexpected text after ']' near '%.20s'", p);
		goto fail;
	}
out:
	*sp = p;
	return 0;
unbalanced:
	xasprintf(cause, "unbalanced [ in '%.60s'", start);
fail:
	config_store_ref_clear(ref);
	return -1;
}

/* Parse a whole value as exactly one reference. */
int
config_store_ref_parse_one(const char *s, struct config_ref *ref, char **cause)
{
	const char *p = s + strspn(s, " \t\n");

	if (config_store_ref_parse(&p, ref, cause) != 0)
		return -1;
	p += strspn(p, " \t\n");
	if (*p != '\0') {
		config_store_ref_clear(ref);
		xasprintf(cause, "one name expected in '%s'", s);
		return -1;
	}
	return 0;
}

/*
 * Interpolate e line by line, in section sect, so that every piece keeps
 * the file line it was written on: line i of the result is e->line + i.
 * Returns the lines joined with '\n', or NULL after an error.
 */
char *
config_store_value(struct config_ctx *c, const char *sect, const char *key,
    const struct config_ent *e)
{
	c->key = key;
	c->file = e->file;
	c->line = e->line;
	c->failed = 0;
	return config_store_interp(c, sect, e->value, e, 0);
}

/*
 * Interpolate each raw line of e on its own and join the results with
 * '\n'; offs[i] is where raw line i (file line e->line + i) starts.
 */
char *
config_store_value_lines(struct config_ctx *c, const char *sect,
    const char *key, const struct config_ent *e, size_t **offs, size_t *n)
{
	struct config_buf b = {NULL, 0, 0};
	char *raw = xstrdup(e->value), *rl, *nl, *v;
	int failed = 0;

	config_store_buf_add(&b, "", 0);
	*offs = NULL;
	*n = 0;
	c->key = key;
	c->file = e->file;
	for (rl = raw; rl != NULL; rl = nl != NULL ? nl + 1 : NULL) {
		if ((nl = strchr(rl, '\n')) != NULL)
			*nl = '\0';
		c->line = e->line + (int)*n;
		c->failed = 0;
		if ((v = config_store_interp(c, sect, rl, e, 0)) == NULL)
			failed = 1;
		if (*n > 0)
			config_store_buf_add(&b, "\n", 1);
		*offs = xreallocarray(*offs, *n + 1, sizeof **offs);
		(*offs)[*n] = b.len;
		(*n)++;
		if (v != NULL)
			config_store_buf_add(&b, v, strlen(v));
		free(v);
	}
	free(raw);
	c->failed = failed;
	return b.s;
}

/* The file line of offset pos in a config_store_value_lines result. */
int
config_store_line_of(const size_t *offs, size_t n, int base, size_t pos)
{
	size_t i;

	for (i = 0; i + 1 < n && offs[i + 1] <= pos; i++)
		;
	return base + (int)i;
}

/*
 * Interpolate each raw line of e on its own and call fn on every word
 * (split at seps) or, with seps NULL, every non-empty line of the result,
 * with the line it came from.  Tags are expanded when tags is set.
 */
void
config_store_each(struct config_ctx *c, const char *sect, const char *key,
    const struct config_ent *e, const char *seps, int tags,
    void (*fn)(struct config_ctx *, char *, void *), void *arg)
{
	char *raw = xstrdup(e->value), *rl, *rsave = NULL, *v, *t, *w, *save;
	const char *split = seps != NULL ? seps : "\n";
	int i = 0;

	c->key = key;
	c->file = e->file;
	for (rl = raw;; i++) {
		rsave = strchr(rl, '\n');
		if (rsave != NULL)
			*rsave = '\0';
		c->line = e->line + i;
		c->failed = 0;
		v = config_store_interp(c, sect, rl, e, 0);
		t = v != NULL && tags ? config_store_tags(c, v, key) : v;
		if (t != v)
			free(v);
		for (w = t != NULL ? strtok_r(t, split, &save) : NULL;
		     w != NULL; w = strtok_r(NULL, split, &save)) {
			w = config_store_trim(w);
			if (*w != '\0')
				fn(c, w, arg);
		}
		free(t);
		if (rsave == NULL)
			break;
		rl = rsave + 1;
	}
	free(raw);
}
