/* daemon_reload: swapping in a new config while keeping the bans. */
#include <stdlib.h>
#include <string.h>

#include "addrmap.h"
#include "banq.h"
#include "config.h"
#include "daemon.h"
#include "daemon_private.h"
#include "jail.h"
#include "log.h"
#include "saturation.h"
#include "service.h"
#include "xmalloc.h"

/* Two action configs that would do exactly the same thing. */
static int
daemon_reload_action_same(
    const struct action_conf *a, const struct action_conf *b)
{
	size_t i;

	if (strcmp(a->name, b->name) != 0 || a->timeout != b->timeout ||
	    (a->native == NULL) != (b->native == NULL) ||
	    (a->native != NULL && strcmp(a->native, b->native) != 0) ||
	    a->nvars != b->nvars)
		return 0;
	for (i = 0; i < a->nvars; i++) {
		if (strcmp(a->vars[i].key, b->vars[i].key) != 0 ||
		    strcmp(a->vars[i].value, b->vars[i].value) != 0)
			return 0;
	}
	return 1;
}

static int
daemon_reload_str_same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	       (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Whether jail n's actions can be the running ones of jail o. */
static int
daemon_reload_actions_same(const struct jail *o, const struct jail *n)
{
	size_t i;

	if (o->nactions != n->nactions ||
	    !daemon_reload_str_same(o->conf->port, n->conf->port) ||
	    !daemon_reload_str_same(o->conf->protocol, n->conf->protocol))
		return 0;
	for (i = 0; i < o->nactions; i++) {
		if (!daemon_reload_action_same(
		        o->actions[i]->conf, n->actions[i]->conf))
			return 0;
	}
	return 1;
}

/* Hand the running actions of o to n, dropping n's unstarted ones. */
static void
daemon_reload_actions_move(struct jail *o, struct jail *n)
{
	struct action **tmp = n->actions;
	size_t i;

	for (i = 0; i < n->nactions; i++)
		action_free(tmp[i]);
	free(tmp);
	n->actions = o->actions;
	o->actions = NULL;
	o->nactions = 0;
	jail_notify_handover(o, n);
}

/* Carry the counters of o's actions to n's of the same name. */
static void
daemon_reload_action_counts(const struct jail *o, struct jail *n)
{
	size_t i, k;

	for (i = 0; i < n->nactions; i++) {
		for (k = 0; k < o->nactions; k++) {
			if (strcmp(n->actions[i]->conf->name,
			        o->actions[k]->conf->name) == 0) {
				n->actions[i]->stats = o->actions[k]->stats;
				break;
			}
		}
	}
}

/* Move o's bans and counters into its successor n. */
static void
daemon_reload_jail_succeed(struct jail *o, struct jail *n)
{
	struct addrmap *tmp = n->bans;
	struct addr *ptmp = n->prefixes;

	n->bans = o->bans;
	o->bans = tmp;
	n->prefixes = o->prefixes;
	o->prefixes = ptmp;
	n->nprefixes = o->nprefixes;
	o->nprefixes = 0;
	n->stats = o->stats;
}

/* Lift every ban of a jail that the new config no longer has. */
static void
daemon_reload_jail_retire(struct daemon *d, struct jail *o)
{
	struct jail_ban **v;
	size_t n, i;

	v = jail_ban_list(o, &n);
	for (i = 0; i < n; i++)
		daemon_unban(d, o, &v[i]->addr, "reload");
	free(v);
	daemon_turn_flush(d);
	jail_actions_stop(o);
}

/* Keep a reference on action a while it is busy (its actionstop). */
static void
daemon_reload_keep(struct daemon *d, struct action *a)
{
	if (a == NULL || !action_busy(a))
		return;
	d->retiring =
	    xreallocarray(d->retiring, d->nretiring + 1, sizeof *d->retiring);
	d->retiring[d->nretiring++] = action_ref(a);
}

/*
 * Free a jail the new config replaced.  Its bans, counters and running
 * actions went to its successor; actions still stopping outlive it.
 */
static void
daemon_reload_jail_release(struct daemon *d, struct jail *o)
{
	size_t i;

	for (i = 0; i < o->nactions; i++)
		daemon_reload_keep(d, o->actions[i]);
	daemon_reload_keep(d, o->notify);
	jail_free(o);
}

/* Drop the actions whose stop has run. */
void
daemon_reload_reap(struct daemon *d)
{
	size_t i, k;

	for (i = k = 0; i < d->nretiring; i++) {
		if (action_busy(d->retiring[i]))
			d->retiring[k++] = d->retiring[i];
		else
			action_unref(d->retiring[i]);
	}
	d->nretiring = k;
}

/* At exit: drop every kept action, killing what still runs. */
void
daemon_reload_reap_all(struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->nretiring; i++)
		action_unref(d->retiring[i]);
	free(d->retiring);
	d->retiring = NULL;
	d->nretiring = 0;
}

/*
 * Switch to the new jails: successors inherit bans and, when nothing about
 * them changed, the running actions; the rest are started and restored.
 */
static void
daemon_reload_jails_swap(struct daemon *d, struct jail **v, size_t n)
{
	struct jail *o, *nj;
	char *cause = NULL;
	size_t i, k;
	int *started = xcalloc(n + 1, sizeof *started);

	for (i = 0; i < d->njails; i++) {
		o = d->jails[i];
		saturation_free(o->sat); /* its timer must not outlive it */
		o->sat = NULL;
		for (k = 0, nj = NULL; k < n && nj == NULL; k++)
			if (strcmp(v[k]->name, o->name) == 0)
				nj = v[k], started[k] = 1;
		if (nj == NULL) {
			daemon_reload_jail_retire(d, o);
			continue;
		}
		daemon_reload_jail_succeed(o, nj);
		if (daemon_reload_actions_same(o, nj))
			daemon_reload_actions_move(o, nj);
		else {
			daemon_reload_action_counts(o, nj);
			jail_actions_stop(o);
			started[k - 1] = 0;
		}
	}
	for (i = 0; i < d->njails; i++)
		daemon_reload_jail_release(d, d->jails[i]);
	free(d->jails);
	d->jails = v;
	d->njails = n;
	for (k = 0; k < n; k++) {
		if (started[k])
			continue;
		if (daemon_actions_start(d, &v[k], 1, &cause) != 0) {
			log_warnx("reload: %s", cause);
			free(cause);
			cause = NULL;
		}
	}
	free(started);
}

/* Refill the expiry heap from the jails (their addresses changed). */
static void
daemon_reload_banq_rebuild(struct daemon *d)
{
	struct jail_ban **v;
	size_t i, k, n;

	banq_free(d->banq);
	d->banq = banq_create();
	for (i = 0; i < d->njails; i++) {
		v = jail_ban_list(d->jails[i], &n);
		for (k = 0; k < n; k++) {
			if (v[k]->end != 0)
				banq_push(d->banq, v[k]->end, d->jails[i],
				    &v[k]->addr);
		}
		free(v);
	}
	daemon_arm_expiry(d);
}

int
daemon_reload(struct daemon *d, struct conf_errors *errs)
{
	struct daemon_source_count *counts;
	struct config *cf, *old;
	struct jail **v;
	size_t n, ncounts;

	service_notifyf("RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)(uv_hrtime() / 1000));
	if ((cf = config_load(d->opts.confdir, errs)) == NULL) {
		service_notify("READY=1\nSTATUS=reload refused");
		return -1;
	}
	v = daemon_jails_build(d->loop, cf, &n, errs);
	if (errs->n > 0) {
		daemon_jails_free(v, n);
		config_free(cf);
		service_notify("READY=1\nSTATUS=reload refused");
		return -1;
	}
	daemon_self_attach(d, v, n);
	daemon_turn_flush(d);
	counts = daemon_source_counts(d, &ncounts);
	daemon_source_free_all(d);
	daemon_reload_jails_swap(d, v, n);
	/* Actions kept from older configs hold their own references. */
	old = d->config;
	d->config = cf;
	daemon_apply_jaild(d, old);
	config_unref(old);
	daemon_reload_banq_rebuild(d);
	daemon_source_create_all(d);
	daemon_source_counts_restore(d, counts, ncounts);
	log_info("reloaded: %zu jails, %zu sources", d->njails, d->nsources);
	service_notifyf(
	    "READY=1\nSTATUS=%zu jails, %zu sources", d->njails, d->nsources);
	return 0;
}
