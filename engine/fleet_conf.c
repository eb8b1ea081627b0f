/* The fleet's configuration: [fleet] in jaild.conf and each jail's fleet key.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf_table.h"
#include "config.h"
#include "config_store.h"
#include "fleet_conf.h"
#include "xmalloc.h"

static const char *const fleet_conf_modes[] = {"off", "share", "count"};

const char *
fleet_conf_mode_name(enum fleet_mode m)
{
	return fleet_conf_modes[m];
}

/* Parse a mode name; -1 if it is none. */
static int
fleet_conf_mode_parse(const char *v)
{
	size_t i;

	for (i = 0; i < 3; i++) {
		if (strcmp(v, fleet_conf_modes[i]) == 0)
			return (int)i;
	}
	return -1;
}

enum fleet_mode
fleet_conf_mode(const struct jail_conf *jc)
{
	const char *v = config_var_get(jc->vars, jc->nvars, "fleet");
	int m;

	if (v == NULL || (m = fleet_conf_mode_parse(v)) < 0)
		return FLEET_OFF;
	return (enum fleet_mode)m;
}

/* Store one checked [fleet] value. */
static void
fleet_conf_field(struct fleet_conf *fc, const char *key, char *v, int64_t n)
{
	if (strcmp(key, "url") == 0) {
		free(fc->url);
		fc->url = xstrdup(v);
	} else if (strcmp(key, "node") == 0) {
		free(fc->node);
		fc->node = xstrdup(v);
	} else if (strcmp(key, "minprefix4") == 0)
		fc->minprefix4 = (int)n;
	else if (strcmp(key, "minprefix6") == 0)
		fc->minprefix6 = (int)n;
}

/* Read the keys of [fleet] s against the table; defaults first. */
static void
fleet_conf_keys(struct fleet_conf *fc, const struct config_sect *s,
    struct conf_errors *errs)
{
	const struct conf_table_entry *t;
	char *raw, *v, *cause;
	int64_t n;
	size_t i;

	for (i = 0; i < conf_table_n; i++) {
		t = &conf_table[i];
		cause = NULL;
		if ((t->scope & CONF_TABLE_FLEET) && t->dflt != NULL &&
		    conf_table_check(t, t->dflt, &n, &cause) == 0)
			fleet_conf_field(fc, t->name, (char *)t->dflt, n);
		free(cause);
	}
	for (i = 0; i < s->nents; i++) {
		t = conf_table_find(CONF_TABLE_FLEET, s->ents[i]->key);
		if (t == NULL) {
			conf_errors_add(errs, s->ents[i]->file,
			    s->ents[i]->line, "unknown key '%s' in [fleet]",
			    s->ents[i]->key);
			continue;
		}
		raw = xstrdup(s->ents[i]->value);
		v = config_store_trim(raw);
		n = 0;
		cause = NULL;
		if (conf_table_check(t, v, &n, &cause) != 0) {
			conf_errors_add(errs, s->ents[i]->file,
			    s->ents[i]->line, "%s", cause);
			free(cause);
		} else
			fleet_conf_field(fc, t->name, v, n);
		free(raw);
	}
}

/*
 * Check each jail's fleet key; a jail that shares needs a [fleet]
 * section (fc), and a jaild built without libpq has no fleet at all.
 */
static void
fleet_conf_jails(const struct config *cfg, const struct fleet_conf *fc,
    struct conf_errors *errs)
{
	const struct config_var *v;
	size_t i, k;

	for (i = 0; i < cfg->njails; i++) {
		for (k = 0; k < cfg->jails[i]->nvars; k++) {
			v = &cfg->jails[i]->vars[k];
			if (strcmp(v->key, "fleet") != 0)
				continue;
			if (fleet_conf_mode_parse(v->value) < 0)
				conf_errors_add(errs, v->file, v->line,
				    "fleet: '%s' is not off, share or count",
				    v->value);
			else if (fleet_conf_mode_parse(v->value) != FLEET_OFF &&
			         fc == NULL && cfg->jails[i]->enabled)
				conf_errors_add(errs, v->file, v->line,
				    "fleet = %s, but jaild.conf has no "
				    "[fleet] section with a url",
				    v->value);
		}
	}
}

/* This host's name, the default node name. */
static char *
fleet_conf_hostname(void)
{
	char host[HOST_NAME_MAX + 1];

	if (gethostname(host, sizeof host) != 0 || host[0] == '\0')
		return xstrdup("localhost");
	host[sizeof host - 1] = '\0';
	return xstrdup(host);
}

struct fleet_conf *
fleet_conf_load(const struct config_store *st, const struct config *cfg,
    struct conf_errors *errs)
{
	const struct config_sect *s;
	struct fleet_conf *fc;

	s = config_store_find((struct config_store *)st, "fleet");
	if (s == NULL) {
		fleet_conf_jails(cfg, NULL, errs);
		return NULL;
	}
	fc = xcalloc(1, sizeof *fc);
	fc->file = xstrdup(s->file);
	fc->line = s->line;
	fleet_conf_keys(fc, s, errs);
#ifndef HAVE_LIBPQ
	conf_errors_add(errs, fc->file, fc->line,
	    "[fleet]: this jaild was built without libpq (PostgreSQL), "
	    "so the fleet is unavailable");
#endif
	if (fc->url == NULL || fc->url[0] == '\0')
		conf_errors_add(errs, fc->file, fc->line,
		    "[fleet]: url (a PostgreSQL conninfo or URI) is needed");
	if (fc->node == NULL || fc->node[0] == '\0') {
		free(fc->node);
		fc->node = fleet_conf_hostname();
	}
	fleet_conf_jails(cfg, fc, errs);
	return fc;
}

void
fleet_conf_free(struct fleet_conf *fc)
{
	if (fc == NULL)
		return;
	free(fc->url);
	free(fc->node);
	free(fc->file);
	free(fc);
}
