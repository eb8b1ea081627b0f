/* The whole configuration: jaild.conf, jails, their filters and actions. */
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "conf.h"
#include "conf_table.h"
#include "fleet_conf.h"
#include "config.h"
#include "config_store.h"
#include "duration.h"
#include "log.h"
#include "xmalloc.h"

/* State of one config_load. */
struct config_load {
	struct config *cfg;
	struct conf_errors *errs;
};

const char *
config_var_get(const struct config_var *vars, size_t n, const char *key)
{
	const struct config_var *v = config_var_find(vars, n, key);

	return v != NULL ? v->value : NULL;
}

const struct config_var *
config_var_find(const struct config_var *vars, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(vars[i].key, key) == 0)
			return &vars[i];
	}
	return NULL;
}

/* Collect one regex line (a config_store_each callback). */
static void
config_filter_add_regex(struct config_ctx *c, char *w, void *arg)
{
	struct filter_conf *fc = arg;
	struct config_regex **list;
	size_t *n;

	if (strcmp(c->key, "failregex") == 0) {
		list = &fc->failregex;
		n = &fc->nfailregex;
	} else if (strcmp(c->key, "goodregex") == 0) {
		list = &fc->goodregex;
		n = &fc->ngoodregex;
	} else {
		list = &fc->ignoreregex;
		n = &fc->nignoreregex;
	}
	*list = xreallocarray(*list, *n + 1, sizeof **list);
	(*list)[*n].pattern = xstrdup(w);
	(*list)[*n].file = xstrdup(c->file);
	(*list)[*n].line = c->line;
	(*n)++;
}

/* A single filter value: interpolated, tags expanded, trimmed; or NULL. */
static char *
config_filter_value(struct config_ctx *c, const char *key, int *line)
{
	const struct config_ent *e;
	char *v, *t, *r;

	if ((e = config_store_get(c->st, "Definition", key)) == NULL)
		return NULL;
	v = config_store_value(c, "Definition", key, e);
	t = v != NULL ? config_store_tags(c, v, key) : NULL;
	free(v);
	if (line != NULL)
		*line = e->line;
	if (t == NULL)
		return NULL;
	r = xstrdup(config_store_trim(t));
	free(t);
	return r;
}

/*
 * An option fail2ban also takes from the jail's parameters or [Init]
 * (maxlines, datepattern, journalmatch), before [Definition].
 */
static char *
config_filter_option(struct config_ctx *c, const char *key)
{
	const struct config_ent *e;
	char *v, *t, *r;
	size_t i;

	for (i = 0; i < c->nparams; i++) {
		if (strcmp(c->params[i].key, key) == 0)
			return xstrdup(config_store_trim(c->params[i].value));
	}
	e = config_store_sect_ent(config_store_find(c->st, "Init"), key);
	if (e == NULL)
		return config_filter_value(c, key, NULL);
	v = config_store_value(c, "Init", key, e);
	t = v != NULL ? config_store_tags(c, v, key) : NULL;
	free(v);
	if (t == NULL)
		return NULL;
	r = xstrdup(config_store_trim(t));
	free(t);
	return r;
}

void
config_filter_free(struct filter_conf *fc)
{
	size_t i;

	if (fc == NULL)
		return;
	if (fc->prefregex != NULL) {
		free(fc->prefregex->pattern);
		free(fc->prefregex->file);
		free(fc->prefregex);
	}
	for (i = 0; i < fc->nfailregex; i++) {
		free(fc->failregex[i].pattern);
		free(fc->failregex[i].file);
	}
	free(fc->failregex);
	for (i = 0; i < fc->nignoreregex; i++) {
		free(fc->ignoreregex[i].pattern);
		free(fc->ignoreregex[i].file);
	}
	free(fc->ignoreregex);
	for (i = 0; i < fc->ngoodregex; i++) {
		free(fc->goodregex[i].pattern);
		free(fc->goodregex[i].file);
	}
	free(fc->goodregex);
	free(fc->datepattern);
	free(fc->journalmatch);
	free(fc->name);
	free(fc->file);
	free(fc);
}

/* Fill fc's scalars (prefregex, datepattern, maxlines, journalmatch). */
static void
config_filter_scalars(struct config_ctx *c, struct filter_conf *fc)
{
	const struct conf_table_entry *t;
	char *v, *cause;
	int64_t n;
	int line;

	if ((v = config_filter_value(c, "prefregex", &line)) != NULL &&
	    *v != '\0') {
		fc->prefregex = xcalloc(1, sizeof *fc->prefregex);
		fc->prefregex->pattern = v;
		fc->prefregex->file = xstrdup(c->file);
		fc->prefregex->line = line;
	} else
		free(v);
	if ((v = config_filter_option(c, "datepattern")) != NULL && *v != '\0')
		fc->datepattern = v;
	else
		free(v);
	fc->journalmatch = config_filter_option(c, "journalmatch");
	fc->maxlines = 1;
	if ((v = config_filter_option(c, "maxlines")) != NULL) {
		t = conf_table_find(CONF_TABLE_FILTER, "maxlines");
		if (conf_table_check(t, v, &n, &cause) != 0) {
			config_store_ctx_error(c, "%s", cause);
			free(cause);
		} else
			fc->maxlines = (int)n;
		free(v);
	}
}

/* Build a filter_conf from a store read from its files. */
static struct filter_conf *
config_filter_build(struct config_store *st, const struct config_ref *ref,
    const char *refstr, const char *path, struct conf_errors *errs, size_t nerr)
{
	struct config_ctx c;
	struct filter_conf *fc = xcalloc(1, sizeof *fc);
	const struct config_ent *e;

	memset(&c, 0, sizeof c);
	c.st = st;
	c.params = ref->params;
	c.nparams = ref->nparams;
	c.scope = CONF_TABLE_FILTER;
	c.errs = errs;
	fc->name = xstrdup(refstr);
	fc->file = xstrdup(path);
	if (config_store_find(st, "Definition") == NULL) {
		config_store_error(errs, path, 0, "no [Definition] section");
		goto fail;
	}
	if ((e = config_store_get(st, "Definition", "failregex")) != NULL)
		config_store_each(&c, "Definition", "failregex", e, NULL, 1,
		    config_filter_add_regex, fc);
	if ((e = config_store_get(st, "Definition", "ignoreregex")) != NULL)
		config_store_each(&c, "Definition", "ignoreregex", e, NULL, 1,
		    config_filter_add_regex, fc);
	if ((e = config_store_get(st, "Definition", "goodregex")) != NULL)
		config_store_each(&c, "Definition", "goodregex", e, NULL, 1,
		    config_filter_add_regex, fc);
	config_filter_scalars(&c, fc);
	if (errs->n == nerr && fc->nfailregex == 0)
		config_store_error(errs, path, 0, "filter has no failregex");
	if (errs->n != nerr)
		goto fail;
	return fc;
fail:
	config_filter_free(fc);
	return NULL;
}

/*
 * True if something stands at path: conf_read then refuses what is not a
 * regular file by name, where "not found" would hide the reason.
 */
static int
config_exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
}

/*
 * Find filter name in dirs: <dir>/<name>.conf and/or .local.  A name
 * with a '/' or ending in ".conf" is a path.  Returns 0 and the paths.
 */
static int
config_filter_find(
    char **dirs, size_t ndirs, const char *name, char **conf, char **local)
{
	size_t i, n = strlen(name);

	*conf = *local = NULL;
	if (strchr(name, '/') != NULL ||
	    (n > 5 && strcmp(name + n - 5, ".conf") == 0)) {
		if (!config_exists(name))
			return -1;
		*conf = xstrdup(name);
		if (n > 5 && strcmp(name + n - 5, ".conf") == 0)
			xasprintf(local, "%.*s.local", (int)(n - 5), name);
		return 0;
	}
	for (i = 0; i < ndirs; i++) {
		xasprintf(conf, "%s/%s.conf", dirs[i], name);
		xasprintf(local, "%s/%s.local", dirs[i], name);
		if (config_exists(*conf) || config_exists(*local))
			return 0;
		free(*conf);
		free(*local);
		*conf = *local = NULL;
	}
	return -1;
}

/* Load the filter refstr names; errors are put at file:line. */
static struct filter_conf *
config_filter_load(char **dirs, size_t ndirs, const char *refstr,
    const char *file, int line, struct conf_errors *errs)
{
	struct config_ref ref;
	struct config_store *st = NULL;
	struct filter_conf *fc = NULL;
	char *conf = NULL, *local = NULL, *cause, *where = NULL, *tmp;
	size_t i, nerr = errs->n;

	if (config_store_ref_parse_one(refstr, &ref, &cause) != 0) {
		config_store_error(errs, file, line, "filter: %s", cause);
		free(cause);
		return NULL;
	}
	if (config_filter_find(dirs, ndirs, ref.name, &conf, &local) != 0) {
		where = xstrdup("");
		for (i = 0; i < ndirs; i++) {
			xasprintf(
			    &tmp, "%s%s%s", where, i ? ", " : "", dirs[i]);
			free(where);
			where = tmp;
		}
		config_store_error(errs, file, line,
		    "filter '%s' not found in %s", ref.name,
		    ndirs ? where : "(no directory)");
		goto out;
	}
	st = config_store_create();
	config_store_read_pair(st, conf, local, errs);
	fc = config_filter_build(
	    st, &ref, refstr, config_exists(conf) ? conf : local, errs, nerr);
out:
	free(where);
	free(conf);
	free(local);
	config_store_free(st);
	config_store_ref_clear(&ref);
	return fc;
}

/* Free one action_conf. */
static void
config_action_free(struct action_conf *ac)
{
	if (ac == NULL)
		return;
	free(ac->name);
	free(ac->file);
	free(ac->native);
	config_store_vars_free(ac->vars, ac->nvars);
	free(ac);
}

/* Add every key of section sect, interpolated in section in, to ac. */
static void
config_action_section(struct config_ctx *c, struct action_conf *ac,
    const char *sect, const char *in)
{
	const struct config_sect *s = config_store_find(c->st, sect);
	char *v;
	size_t i;

	for (i = 0; s != NULL && i < s->nents; i++) {
		v = config_store_value(c, in, s->ents[i]->key, s->ents[i]);
		if (v != NULL)
			config_store_vars_set(&ac->vars, &ac->nvars,
			    s->ents[i]->key, v, s->ents[i]->file,
			    s->ents[i]->line);
		free(v);
	}
}

/*
 * Fill ac->vars: the action's [DEFAULT], [Definition] and [Init]; the
 * jail's keys the action leaves unset; the jail's name (as fail2ban
 * passes it); and the reference's params, which always win.
 */
static void
config_action_vars(struct config_ctx *c, struct action_conf *ac,
    const struct jail_conf *jc, const struct config_ref *ref)
{
	size_t i;

	config_action_section(c, ac, "DEFAULT", "Definition");
	config_action_section(c, ac, "Definition", "Definition");
	config_action_section(c, ac, "Init", "Init");
	for (i = 0; i < jc->nvars; i++) {
		if (strcmp(jc->vars[i].key, "action") == 0 ||
		    config_var_get(ac->vars, ac->nvars, jc->vars[i].key))
			continue;
		config_store_vars_set(&ac->vars, &ac->nvars, jc->vars[i].key,
		    jc->vars[i].value, jc->vars[i].file, jc->vars[i].line);
	}
	config_store_vars_set(
	    &ac->vars, &ac->nvars, "name", jc->name, jc->file, jc->line);
	for (i = 0; i < ref->nparams; i++)
		config_store_vars_set(&ac->vars, &ac->nvars, ref->params[i].key,
		    ref->params[i].value, ac->file, ac->line);
}

/* Set ac->native and ac->timeout from its vars. */
static void
config_action_scalars(struct config_ctx *c, struct action_conf *ac)
{
	const struct config_var *v = NULL;
	const char *native, *timeout = "60";
	char *cause;
	size_t i;

	if ((native = config_var_get(ac->vars, ac->nvars, "native")) != NULL &&
	    *native != '\0')
		ac->native = xstrdup(native);
	for (i = 0; i < ac->nvars; i++) {
		if (strcmp(ac->vars[i].key, "timeout") == 0) {
			v = &ac->vars[i];
			timeout = v->value;
		}
	}
	if (conf_table_check(conf_table_find(CONF_TABLE_ACTION, "timeout"),
	        timeout, &ac->timeout, &cause) != 0) {
		config_store_error(c->errs, v != NULL ? v->file : ac->file,
		    v != NULL ? v->line : 0, "%s", cause);
		free(cause);
	}
}

/* Load the action ref names for jail jc; errors at file:line. */
static struct action_conf *
config_action_load(struct config_load *L, const struct jail_conf *jc,
    const struct config_ref *ref, const char *file, int line)
{
	struct config_ctx c;
	struct config_store *st = NULL;
	struct action_conf *ac = NULL;
	char *conf = NULL, *local = NULL;
	size_t nerr = L->errs->n;

	if (strchr(ref->name, '/') != NULL || ref->name[0] == '.') {
		config_store_error(
		    L->errs, file, line, "invalid action name '%s'", ref->name);
		return NULL;
	}
	xasprintf(&conf, "%s/actions/%s.conf", L->cfg->confdir, ref->name);
	xasprintf(&local, "%s/actions/%s.local", L->cfg->confdir, ref->name);
	if (!config_exists(conf) && !config_exists(local)) {
		config_store_error(L->errs, file, line,
		    "action '%s' not found in %s/actions", ref->name,
		    L->cfg->confdir);
		goto fail;
	}
	st = config_store_create();
	config_store_read_pair(st, conf, local, L->errs);
	ac = xcalloc(1, sizeof *ac);
	ac->name = xstrdup(ref->name);
	ac->file = xstrdup(config_exists(conf) ? conf : local);
	ac->line = line;
	if (config_store_find(st, "Definition") == NULL)
		config_store_error(
		    L->errs, ac->file, 0, "no [Definition] section");
	memset(&c, 0, sizeof c);
	c.st = st;
	c.params = ref->params;
	c.nparams = ref->nparams;
	c.scope = CONF_TABLE_ACTION;
	c.errs = L->errs;
	config_action_vars(&c, ac, jc, ref);
	config_action_scalars(&c, ac);
	if (L->errs->n != nerr)
		goto fail;
	free(conf);
	free(local);
	config_store_free(st);
	return ac;
fail:
	config_action_free(ac);
	free(conf);
	free(local);
	config_store_free(st);
	return NULL;
}

/* Free one jail_conf. */
static void
config_jail_free(struct jail_conf *jc)
{
	size_t i;

	if (jc == NULL)
		return;
	free(jc->name);
	free(jc->file);
	config_filter_free(jc->filter);
	config_filter_free(jc->saturation_filter);
	for (i = 0; i < jc->nactions; i++)
		config_action_free(jc->actions[i]);
	free(jc->actions);
	config_action_free(jc->saturation_notify);
	for (i = 0; i < jc->nlogpaths; i++)
		free(jc->logpaths[i]);
	free(jc->logpaths);
	free(jc->backend);
	free(jc->ignoreip);
	free(jc->port);
	free(jc->protocol);
	config_store_vars_free(jc->vars, jc->nvars);
	free(jc);
}

/* The entry of key for jail js: its own, [DEFAULT]'s, or the default. */
static const struct config_ent *
config_jail_ent(const struct config_store *st, const struct config_sect *js,
    const char *key, struct config_ent *tmp)
{
	const struct conf_table_entry *t;
	const struct config_ent *e = config_store_get(st, js->name, key);

	if (e != NULL)
		return e;
	t = conf_table_find(CONF_TABLE_JAIL, key);
	if (t == NULL || t->dflt == NULL)
		return NULL;
	tmp->key = xstrdup(key);
	tmp->value = xstrdup(t->dflt);
	tmp->file = js->file;
	tmp->line = js->line;
	return tmp;
}

/* Put every key of js and of [DEFAULT], interpolated, in jc->vars. */
static void
config_jail_vars(
    struct config_ctx *c, const struct config_sect *js, struct jail_conf *jc)
{
	const struct config_sect *d = config_store_find(c->st, "DEFAULT");
	const struct config_sect *s;
	const struct config_ent *e;
	char *v;
	size_t i;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		s = pass == 0 ? js : d;
		for (i = 0; s != NULL && i < s->nents; i++) {
			e = s->ents[i];
			if (pass == 1 &&
			    config_store_sect_ent(js, e->key) != NULL)
				continue;
			if ((v = config_store_value(c, js->name, e->key, e)) ==
			    NULL)
				continue;
			config_store_vars_set(
			    &jc->vars, &jc->nvars, e->key, v, e->file, e->line);
			free(v);
		}
	}
}

/* Store one checked scalar in its jail_conf field. */
static void
config_jail_field(
    struct jail_conf *jc, const char *key, const char *v, int64_t n)
{
	char **sp = NULL;

	if (strcmp(key, "enabled") == 0)
		jc->enabled = (int)n;
	else if (strcmp(key, "maxretry") == 0)
		jc->maxretry = (int)n;
	else if (strcmp(key, "findtime") == 0)
		jc->findtime = n;
	else if (strcmp(key, "bantime") == 0)
		jc->bantime = n;
	else if (strcmp(key, "backend") == 0)
		sp = &jc->backend;
	else if (strcmp(key, "port") == 0)
		sp = &jc->port;
	else if (strcmp(key, "protocol") == 0)
		sp = &jc->protocol;
	if (sp != NULL) {
		free(*sp);
		*sp = xstrdup(v);
	}
}

/* Check every scalar key of the table for jail js and fill jc. */
static void
config_jail_scalars(
    struct config_ctx *c, const struct config_sect *js, struct jail_conf *jc)
{
	const struct conf_table_entry *t;
	const struct config_ent *e;
	struct config_ent tmp;
	char *v, *cause;
	int64_t n;
	size_t i;

	for (i = 0; i < conf_table_n; i++) {
		t = &conf_table[i];
		if (!(t->scope & CONF_TABLE_JAIL) ||
		    t->type > CONF_TABLE_DURATION)
			continue;
		memset(&tmp, 0, sizeof tmp);
		e = config_jail_ent(c->st, js, t->name, &tmp);
		v = e != NULL ? config_store_value(c, js->name, t->name, e)
		              : NULL;
		n = 0;
		if (v != NULL && conf_table_check(t, config_store_trim(v), &n,
		                     &cause) != 0) {
			config_store_error(
			    c->errs, e->file, e->line, "%s", cause);
			free(cause);
		} else if (v != NULL)
			config_jail_field(jc, t->name, config_store_trim(v), n);
		free(v);
		free(tmp.key);
		free(tmp.value);
	}
}

/* Add one ignoreip word (a config_store_each callback). */
static void
config_jail_add_addr(struct config_ctx *c, char *w, void *arg)
{
	struct jail_conf *jc = arg;
	struct addr a;

	if (addr_parse(w, &a) != 0) {
		config_store_ctx_error(c, "ignoreip: invalid address '%s'", w);
		return;
	}
	jc->ignoreip = xreallocarray(
	    jc->ignoreip, jc->nignoreip + 1, sizeof *jc->ignoreip);
	jc->ignoreip[jc->nignoreip++] = a;
}

/* Add one logpath word (a config_store_each callback). */
static void
config_jail_add_logpath(struct config_ctx *c, char *w, void *arg)
{
	struct jail_conf *jc = arg;

	jc->logpaths = xreallocarray(
	    jc->logpaths, jc->nlogpaths + 1, sizeof *jc->logpaths);
	jc->logpaths[jc->nlogpaths++] = xstrdup(w);
}

/* Read the list keys ignoreip and logpath of jail js. */
static void
config_jail_lists(
    struct config_ctx *c, const struct config_sect *js, struct jail_conf *jc)
{
	const struct config_ent *e;
	struct config_ent tmp;

	memset(&tmp, 0, sizeof tmp);
	if ((e = config_jail_ent(c->st, js, "ignoreip", &tmp)) != NULL)
		config_store_each(c, js->name, "ignoreip", e, " \t\n,", 0,
		    config_jail_add_addr, jc);
	free(tmp.key);
	free(tmp.value);
	if ((e = config_store_get(c->st, js->name, "logpath")) != NULL)
		config_store_each(c, js->name, "logpath", e, " \t\n", 0,
		    config_jail_add_logpath, jc);
}

/* Load the filter jail key names (filter or saturation.filter). */
static struct filter_conf *
config_jail_filter(struct config_load *L, struct config_ctx *c,
    const struct config_sect *js, const char *key)
{
	const struct config_ent *e;
	struct config_ent tmp;
	struct filter_conf *fc = NULL;
	char *v;

	memset(&tmp, 0, sizeof tmp);
	if ((e = config_jail_ent(c->st, js, key, &tmp)) == NULL)
		return NULL;
	if ((v = config_store_value(c, js->name, key, e)) != NULL) {
		fc = config_filter_load(L->cfg->filter_dirs,
		    L->cfg->nfilter_dirs, config_store_trim(v), e->file,
		    e->line, L->errs);
		free(v);
	}
	free(tmp.key);
	free(tmp.value);
	return fc;
}

/* Load every action the jail's action key lists. */
static void
config_jail_actions(struct config_load *L, struct config_ctx *c,
    const struct config_sect *js, struct jail_conf *jc)
{
	const struct config_ent *e;
	struct config_ent tmp;
	struct config_ref ref;
	struct action_conf *ac;
	const char *p;
	char *v = NULL, *cause;
	size_t *offs = NULL, n = 0;
	int line;

	memset(&tmp, 0, sizeof tmp);
	if ((e = config_jail_ent(c->st, js, "action", &tmp)) == NULL)
		goto out;
	v = config_store_value_lines(c, js->name, "action", e, &offs, &n);
	for (p = v; !c->failed;) {
		p += strspn(p, " \t\n");
		if (*p == '\0')
			break;
		line = config_store_line_of(offs, n, e->line, p - v);
		if (config_store_ref_parse(&p, &ref, &cause) != 0) {
			config_store_error(
			    L->errs, e->file, line, "action: %s", cause);
			free(cause);
			break;
		}
		ac = config_action_load(L, jc, &ref, e->file, line);
		if (ac != NULL) {
			jc->actions = xreallocarray(
			    jc->actions, jc->nactions + 1, sizeof *jc->actions);
			jc->actions[jc->nactions++] = ac;
		}
		config_store_ref_clear(&ref);
	}
out:
	free(v);
	free(offs);
	free(tmp.key);
	free(tmp.value);
}

/*
 * Load the one action saturation.notify names (an empty value unsets it),
 * exactly as an action of the jail; NULL if unset or after an error.
 */
static struct action_conf *
config_jail_notify(struct config_load *L, struct config_ctx *c,
    const struct config_sect *js, const struct jail_conf *jc)
{
	const struct config_ent *e;
	struct config_ent tmp;
	struct config_ref ref;
	struct action_conf *ac = NULL;
	char *v = NULL, *cause = NULL;

	memset(&tmp, 0, sizeof tmp);
	e = config_jail_ent(c->st, js, "saturation.notify", &tmp);
	if (e == NULL ||
	    (v = config_store_value(c, js->name, "saturation.notify", e)) ==
	        NULL ||
	    *config_store_trim(v) == '\0')
		goto out;
	if (config_store_ref_parse_one(config_store_trim(v), &ref, &cause) !=
	    0) {
		config_store_error(
		    L->errs, e->file, e->line, "saturation.notify: %s", cause);
		free(cause);
		goto out;
	}
	ac = config_action_load(L, jc, &ref, e->file, e->line);
	if (ac != NULL && ac->native != NULL) {
		/* A firewall action has nothing to tell a person with. */
		config_store_error(L->errs, e->file, e->line,
		    "saturation.notify: native action '%s' cannot notify",
		    ref.name);
		config_action_free(ac);
		ac = NULL;
	}
	config_store_ref_clear(&ref);
out:
	free(v);
	free(tmp.key);
	free(tmp.value);
	return ac;
}

/*
 * Decide whether jail js is enabled, reporting nothing: as in fail2ban, a
 * disabled jail's other values are neither interpolated nor checked (an
 * undefined %(key)s there is no error).  A bad "enabled" counts as enabled
 * so that the full pass reports it.
 */
static int
config_jail_enabled(struct config_ctx *c, const struct config_sect *js)
{
	const struct conf_table_entry *t;
	const struct config_ent *e;
	struct conf_errors errs = {NULL, 0}, *saved = c->errs;
	struct config_ent tmp;
	char *v, *cause = NULL;
	int64_t n = 1;

	memset(&tmp, 0, sizeof tmp);
	c->errs = &errs;
	t = conf_table_find(CONF_TABLE_JAIL, "enabled");
	e = config_jail_ent(c->st, js, "enabled", &tmp);
	v = e != NULL ? config_store_value(c, js->name, "enabled", e) : NULL;
	if (v == NULL || t == NULL ||
	    conf_table_check(t, config_store_trim(v), &n, &cause) != 0)
		n = 1;
	free(cause);
	free(v);
	free(tmp.key);
	free(tmp.value);
	conf_errors_clear(&errs);
	c->errs = saved;
	return n != 0;
}

/* True if name is fit for a jail: it ends up in set and table names. */
static int
config_jail_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= 64 &&
	       strspn(name,
	           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	           "0123456789_.-") == n;
}

/* Build the jail section js of st describes. */
static struct jail_conf *
config_jail_load(struct config_load *L, struct config_store *st,
    const struct config_sect *js)
{
	struct config_ctx c;
	struct jail_conf *jc = xcalloc(1, sizeof *jc);

	jc->name = xstrdup(js->name);
	jc->file = xstrdup(js->file);
	jc->line = js->line;
	if (!config_jail_name_ok(js->name)) {
		config_store_error(L->errs, js->file, js->line,
		    "invalid jail name '%s': use letters, digits, _ . -",
		    js->name);
		return jc;
	}
	memset(&c, 0, sizeof c);
	c.st = st;
	c.scope = CONF_TABLE_JAIL;
	c.errs = L->errs;
	if (!config_jail_enabled(&c, js))
		return jc;
	config_jail_vars(&c, js, jc);
	config_jail_scalars(&c, js, jc);
	config_jail_lists(&c, js, jc);
	if (!jc->enabled)
		return jc;
	jc->filter = config_jail_filter(L, &c, js, "filter");
	jc->saturation_filter =
	    config_jail_filter(L, &c, js, "saturation.filter");
	config_jail_actions(L, &c, js, jc);
	jc->saturation_notify = config_jail_notify(L, &c, js, jc);
	if (jc->nlogpaths == 0 &&
	    (jc->backend == NULL || strcmp(jc->backend, "systemd") != 0))
		config_store_error(L->errs, js->file, js->line,
		    "jail '%s' has no logpath", js->name);
	return jc;
}

/* Add one filter_dirs word (a config_store_each callback). */
static void
config_daemon_add_dir(struct config_ctx *c, char *w, void *arg)
{
	struct config *cfg = arg;

	cfg->filter_dirs = xreallocarray(
	    cfg->filter_dirs, cfg->nfilter_dirs + 1, sizeof *cfg->filter_dirs);
	cfg->filter_dirs[cfg->nfilter_dirs++] = xstrdup(w);
}

/* Store one checked [jaild] value. */
static void
config_daemon_field(
    struct config *cfg, const char *key, const char *v, int64_t n)
{
	char **sp = NULL;

	if (strcmp(key, "socket") == 0)
		sp = &cfg->socket_path;
	else if (strcmp(key, "dbfile") == 0)
		sp = &cfg->db_path;
	else if (strcmp(key, "ctl_group") == 0)
		sp = &cfg->ctl_group;
	else if (strcmp(key, "ctl_admin_group") == 0)
		sp = &cfg->ctl_admin_group;
	else if (strcmp(key, "pidfile") == 0)
		sp = &cfg->pidfile;
	else if (strcmp(key, "metrics_listen") == 0)
		sp = &cfg->metrics_listen;
	else if (strcmp(key, "dbpurgeage") == 0)
		cfg->dbpurgeage = n;
	if (sp != NULL && *v != '\0') {
		free(*sp);
		*sp = xstrdup(v);
	}
}

/* Read the [jaild] section: unknown keys there are typos, so errors. */
static void
config_daemon(struct config_load *L, struct config_store *st)
{
	const struct config_sect *s = config_store_find(st, "jaild");
	const struct conf_table_entry *t;
	const struct config_ent *e;
	struct config_ent tmp = {NULL, NULL, NULL, 0, NULL};
	struct config_ctx c = {
	    st, NULL, 0, CONF_TABLE_DAEMON, L->errs, NULL, NULL, 0, 0};
	const char *near;
	char *v, *cause;
	int64_t n;
	size_t i;

	for (i = 0; s != NULL && i < s->nents; i++) {
		if (conf_table_find(CONF_TABLE_DAEMON, s->ents[i]->key) != NULL)
			continue;
		near = conf_table_suggest(CONF_TABLE_DAEMON, s->ents[i]->key);
		config_store_error(L->errs, s->ents[i]->file, s->ents[i]->line,
		    "unknown key '%s' in [jaild]%s%s%s", s->ents[i]->key,
		    near != NULL ? " (did you mean " : "",
		    near != NULL ? near : "", near != NULL ? "?)" : "");
	}
	xasprintf(&v, "%s/filters", L->cfg->confdir);
	config_daemon_add_dir(&c, v, L->cfg);
	free(v);
	for (i = 0; i < conf_table_n; i++) {
		t = &conf_table[i];
		if (!(t->scope & CONF_TABLE_DAEMON))
			continue;
		if ((e = config_store_sect_ent(s, t->name)) == NULL) {
			if (t->dflt == NULL)
				continue;
			tmp.key = (char *)t->name;
			tmp.value = (char *)t->dflt;
			tmp.file = "(default)";
			e = &tmp;
		}
		if (t->type == CONF_TABLE_LIST) {
			config_store_each(&c, "jaild", t->name, e, " \t\n", 0,
			    config_daemon_add_dir, L->cfg);
			continue;
		}
		if ((v = config_store_value(&c, "jaild", t->name, e)) == NULL)
			continue;
		n = 0;
		if (conf_table_check(t, config_store_trim(v), &n, &cause) !=
		    0) {
			config_store_error(
			    L->errs, e->file, e->line, "%s", cause);
			free(cause);
		} else
			config_daemon_field(
			    L->cfg, t->name, config_store_trim(v), n);
		free(v);
	}
}

/* Read CONFDIR/jaild.conf and jaild.local into a new store. */
static struct config_store *
config_global_read(struct config_load *L, int must)
{
	struct config_store *st = config_store_create();
	char *conf, *local;

	xasprintf(&conf, "%s/jaild.conf", L->cfg->confdir);
	xasprintf(&local, "%s/jaild.local", L->cfg->confdir);
	if (must || config_exists(conf))
		config_store_read(st, conf, NULL, L->errs, conf, 0);
	config_store_read_pair(st, NULL, local, L->errs);
	free(conf);
	free(local);
	return st;
}

/* Keep names ending in .conf or .local (a scandir filter). */
static int
config_jails_select(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	if (d->d_name[0] == '.')
		return 0;
	return (n > 5 && strcmp(d->d_name + n - 5, ".conf") == 0) ||
	       (n > 6 && strcmp(d->d_name + n - 6, ".local") == 0);
}

/* Order stems as strcmp does (a qsort comparator). */
static int
config_jails_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* List the distinct stems of jails.d/\*.conf and \*.local, sorted. */
static char **
config_jails_stems(const char *dir, size_t *nstems)
{
	struct dirent **ents;
	char **stems = NULL;
	int i, n;
	size_t j = 0;

	*nstems = 0;
	if ((n = scandir(dir, &ents, config_jails_select, alphasort)) < 0)
		return NULL;
	stems = xcalloc(n + 1, sizeof *stems);
	for (i = 0; i < n; i++) {
		stems[i] = xstrdup(ents[i]->d_name);
		*strrchr(stems[i], '.') = '\0';
		free(ents[i]);
	}
	free(ents);
	qsort(stems, n, sizeof *stems, config_jails_cmp);
	for (i = 0; i < n; i++) {
		if (j > 0 && strcmp(stems[j - 1], stems[i]) == 0)
			free(stems[i]);
		else
			stems[j++] = stems[i];
	}
	*nstems = j;
	return stems;
}

/*
 * Warn about the keys of a jail section (or [DEFAULT]) that look like
 * typos of a known key.  Others are not warned about: a jail may set any
 * variable for its actions to use, as in fail2ban.
 */
static void
config_jail_typos(const struct config_sect *s)
{
	const char *near;
	size_t i;

	for (i = 0; i < s->nents; i++) {
		near = conf_table_suggest(CONF_TABLE_JAIL, s->ents[i]->key);
		if (near != NULL)
			log_warnx("%s:%d: unknown key '%s' in [%s] (did you "
			          "mean %s?)",
			    s->ents[i]->file, s->ents[i]->line, s->ents[i]->key,
			    s->name, near);
	}
}

/* Add the jails of one jails.d stem, refusing names already taken. */
static void
config_jails_file(struct config_load *L, const struct config_store *global,
    const char *dir, const char *stem)
{
	struct config_store *st = config_store_copy(global);
	struct jail_conf *jc, *old;
	const struct config_sect *s;
	char *conf, *local;
	size_t i;

	xasprintf(&conf, "%s/%s.conf", dir, stem);
	xasprintf(&local, "%s/%s.local", dir, stem);
	config_store_read_pair(st, conf, local, L->errs);
	for (i = 0; i < st->nsects; i++) {
		s = st->sects[i];
		if (!s->base)
			config_jail_typos(s);
		if (s->base || strcmp(s->name, "DEFAULT") == 0)
			continue;
		if ((old = config_jail_find(L->cfg, s->name)) != NULL) {
			config_store_error(L->errs, s->file, s->line,
			    "jail '%s' already defined at %s:%d", s->name,
			    old->file, old->line);
			continue;
		}
		jc = config_jail_load(L, st, s);
		L->cfg->jails = xreallocarray(
		    L->cfg->jails, L->cfg->njails + 1, sizeof *L->cfg->jails);
		L->cfg->jails[L->cfg->njails++] = jc;
	}
	free(conf);
	free(local);
	config_store_free(st);
}

struct config *
config_load(const char *confdir, struct conf_errors *errs)
{
	struct config_load L;
	struct config_store *global;
	const struct config_sect *ds;
	char *dir, **stems;
	size_t i, nstems, nerr = errs->n;

	L.errs = errs;
	L.cfg = xcalloc(1, sizeof *L.cfg);
	L.cfg->references = 1;
	L.cfg->confdir = xstrdup(confdir);
	global = config_global_read(&L, 1);
	config_daemon(&L, global);
	if ((ds = config_store_find(global, "DEFAULT")) != NULL)
		config_jail_typos(ds);
	xasprintf(&dir, "%s/jails.d", confdir);
	stems = config_jails_stems(dir, &nstems);
	for (i = 0; i < nstems; i++) {
		config_jails_file(&L, global, dir, stems[i]);
		free(stems[i]);
	}
	free(stems);
	free(dir);
	L.cfg->fleet = fleet_conf_load(global, L.cfg, errs);
	config_store_free(global);
	if (errs->n != nerr) {
		config_free(L.cfg);
		return NULL;
	}
	for (i = 0; i < L.cfg->njails; i++)
		L.cfg->jails[i]->config = L.cfg;
	return L.cfg;
}

struct config *
config_ref(struct config *cf)
{
	cf->references++;
	return cf;
}

void
config_free(struct config *cfg)
{
	config_unref(cfg);
}

void
config_unref(struct config *cfg)
{
	size_t i;

	if (cfg == NULL || --cfg->references > 0)
		return;
	for (i = 0; i < cfg->njails; i++)
		config_jail_free(cfg->jails[i]);
	free(cfg->jails);
	for (i = 0; i < cfg->nfilter_dirs; i++)
		free(cfg->filter_dirs[i]);
	free(cfg->filter_dirs);
	free(cfg->confdir);
	free(cfg->socket_path);
	free(cfg->db_path);
	free(cfg->ctl_group);
	free(cfg->ctl_admin_group);
	free(cfg->pidfile);
	free(cfg->metrics_listen);
	fleet_conf_free(cfg->fleet);
	free(cfg);
}

struct filter_conf *
config_load_filter(
    const char *confdir, const char *ref, struct conf_errors *errs)
{
	struct config_load L;
	struct config_store *global;
	struct filter_conf *fc = NULL;
	size_t nerr = errs->n;

	L.errs = errs;
	L.cfg = xcalloc(1, sizeof *L.cfg);
	L.cfg->references = 1;
	if (confdir != NULL) {
		L.cfg->confdir = xstrdup(confdir);
		global = config_global_read(&L, 0);
		config_daemon(&L, global);
		config_store_free(global);
	}
	if (errs->n == nerr)
		fc = config_filter_load(
		    L.cfg->filter_dirs, L.cfg->nfilter_dirs, ref, ref, 0, errs);
	config_free(L.cfg);
	return fc;
}

/* The filter directories of confdir, in lookup order; see config.h. */
char **
config_filter_dirs(const char *confdir, size_t *n, struct conf_errors *errs)
{
	struct config_load L;
	struct config_store *global;
	char **dirs;
	size_t i, nerr = errs->n;

	L.errs = errs;
	L.cfg = xcalloc(1, sizeof *L.cfg);
	L.cfg->confdir = xstrdup(confdir);
	global = config_global_read(&L, 0);
	config_daemon(&L, global);
	config_store_free(global);
	dirs = xcalloc(L.cfg->nfilter_dirs + 1, sizeof *dirs);
	for (i = 0; i < L.cfg->nfilter_dirs; i++)
		dirs[i] = xstrdup(L.cfg->filter_dirs[i]);
	*n = L.cfg->nfilter_dirs;
	config_free(L.cfg);
	if (errs->n != nerr) {
		for (i = 0; i < *n; i++)
			free(dirs[i]);
		free(dirs);
		return NULL;
	}
	return dirs;
}

struct jail_conf *
config_jail_find(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->njails; i++) {
		if (strcmp(cfg->jails[i]->name, name) == 0)
			return cfg->jails[i];
	}
	return NULL;
}
