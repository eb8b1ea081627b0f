/* The whole configuration: jaild.conf, jails, their filters and actions. */
#ifndef JAILD_CONFIG_H
#define JAILD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "conf.h"

/* One regex with the place it was written, for file:line errors. */
struct config_regex {
	char *pattern; /* %(var)s expanded; <HOST>-style tags left in */
	char *file;
	int line;
};

/* A name = value pair; values are fully %(var)s-interpolated. */
struct config_var {
	char *key;
	char *value;
	char *file;
	int line;
};

struct filter_conf {
	char *name; /* as referenced: "sendmail-reject[mode=aggressive]" */
	char *file;
	struct config_regex *prefregex; /* NULL if none */
	struct config_regex *failregex;
	size_t nfailregex;
	struct config_regex *ignoreregex;
	size_t nignoreregex;
	/* goodregex: lines naming a host that completed a transaction */
	struct config_regex *goodregex;
	size_t ngoodregex;
	char *datepattern; /* NULL: default */
	int maxlines;
	char *journalmatch;
};

struct action_conf {
	char *name; /* base name: "nftables", "log" */
	char *file;
	int line; /* where the jail named it */
	char *native; /* in-process implementation ("nftables") or NULL */
	int64_t timeout; /* seconds a shell command may run; default 60 */
	/*
	 * Every key of the action's [Definition] and [Init], then the jail's
	 * parameters (name[k=v]), later ones winning.  Values still hold
	 * <tag> references, replaced when a command runs.
	 */
	struct config_var *vars;
	size_t nvars;
};

struct jail_conf {
	struct config *config; /* the config holding it; actions ref it */
	char *name;
	char *file;
	int line;
	int enabled;
	struct filter_conf *filter;
	struct filter_conf
	    *saturation_filter; /* "saturation.filter", or NULL */
	struct action_conf **actions;
	size_t nactions;
	/* "saturation.notify": run once per saturation episode, or NULL. */
	struct action_conf *saturation_notify;
	char **logpaths; /* as written: may hold globs; "-" is stdin */
	size_t nlogpaths;
	char *backend; /* "auto", "polling", "systemd" */
	int maxretry;
	int64_t findtime;
	int64_t bantime; /* DURATION_FOREVER for permanent */
	struct addr *ignoreip;
	size_t nignoreip;
	char *port; /* "smtp,465,submission", "any" */
	char *protocol; /* "tcp" */
	/* Every key of the jail section, interpolated, for later modules. */
	struct config_var *vars;
	size_t nvars;
};

/*
 * Counted: the daemon holds the config in force, and each action holds
 * the one its conf and jail point into, which a reload may have replaced.
 */
struct config {
	int references;
	char *confdir;
	char *socket_path; /* [jaild] socket */
	char *db_path; /* [jaild] dbfile */
	char *ctl_group; /* [jaild] ctl_group: may use jailctl, or NULL */
	char *ctl_admin_group; /* may also ban, unban, reload; or NULL */
	char *pidfile; /* [jaild] pidfile, or NULL */
	char *metrics_listen; /* [jaild] metrics_listen, or NULL */
	int64_t dbpurgeage;
	char **filter_dirs; /* CONFDIR/filters, then [jaild] filter_dirs */
	size_t nfilter_dirs;
	struct jail_conf **jails; /* every jail, enabled or not */
	size_t njails;
	struct fleet_conf *fleet; /* [fleet], or NULL */
};

/*
 * Load CONFDIR/jaild.conf (+ jaild.local), CONFDIR/jails.d/\*.conf (each
 * with its .local override) in lexical order, and every filter and action
 * they name.  Returns NULL if anything is wrong; every problem is in errs.
 */
struct config *config_load(const char *confdir, struct conf_errors *errs);
/* Take another reference; returns cf. */
struct config *config_ref(struct config *cf);
/* Drop a reference; the last one frees.  config_free is the same. */
void config_unref(struct config *);
void config_free(struct config *);

/*
 * Load one filter by reference ("sshd", "sendmail-reject[mode=aggressive]",
 * or a path to a .conf file) as a jail would, for "jailctl test".
 */
struct filter_conf *config_load_filter(
    const char *confdir, const char *ref, struct conf_errors *errs);
void config_filter_free(struct filter_conf *);
/*
 * The directories filters are looked up in: CONFDIR/filters, then
 * [jaild] filter_dirs.  Returns n allocated paths (NULL-terminated), or
 * NULL with errs if jaild.conf is wrong.
 */
char **config_filter_dirs(
    const char *confdir, size_t *n, struct conf_errors *errs);

struct jail_conf *config_jail_find(const struct config *, const char *name);
const char *config_var_get(
    const struct config_var *, size_t n, const char *key);
/* The setting of key among vars (with its file:line), or NULL. */
const struct config_var *config_var_find(
    const struct config_var *, size_t n, const char *key);

#endif
