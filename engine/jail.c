/* Jails: turn matched lines into failures and failures into bans. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrmap.h"
#include "bantime.h"
#include "conf_table.h"
#include "jail.h"
#include "log.h"
#include "selfaddr.h"
#include "tracker.h"
#include "xmalloc.h"

/* Compile a filter, prefixing any error with the jail's place. */
static struct filter *
jail_filter_create(
    const struct jail_conf *jc, const struct filter_conf *fc, char **cause)
{
	struct filter *f;
	char *why = NULL;

	f = filter_create(fc, &why);
	if (f == NULL) {
		xasprintf(cause, "%s", why);
		free(why);
	}
	return f;
}

/* Make the jail's actions, without starting them. */
static int
jail_actions_create(struct jail *j, uv_loop_t *loop, char **cause)
{
	const struct jail_conf *jc = j->conf;
	size_t i;

	j->actions = xcalloc(jc->nactions, sizeof *j->actions);
	for (i = 0; i < jc->nactions; i++) {
		j->actions[i] = action_create(loop, jc->actions[i], jc, cause);
		if (j->actions[i] == NULL)
			return -1;
		j->nactions++;
	}
	if (jc->saturation_notify == NULL)
		return 0;
	j->notify = action_create(loop, jc->saturation_notify, jc, cause);
	if (j->notify == NULL)
		return -1;
	if (j->notify->ops->notify == NULL) {
		xasprintf(cause,
		    "jail %s: saturation.notify: action %s "
		    "cannot notify",
		    jc->name, jc->saturation_notify->name);
		return -1;
	}
	return 0;
}

/* Read bantime.*, subnet.* and ignoreself: errors name file:line. */
static int
jail_memory_conf(struct jail *j, char **cause)
{
	const char *v =
	    config_var_get(j->conf->vars, j->conf->nvars, "ignoreself");
	char buf[16];
	size_t n;

	j->ignoreself = 1;
	if (v != NULL) {
		v += strspn(v, " \t\n");
		n = strcspn(v, " \t\n");
		snprintf(buf, sizeof buf, "%.*s", (int)(n < 15 ? n : 15), v);
		if (conf_table_parse_bool(buf, &j->ignoreself) != 0)
			j->ignoreself = 1; /* config.c reported it */
	}
	if ((j->bantime = bantime_create(j->conf, cause)) == NULL)
		return -1;
	return escalate_conf_load(j->conf, &j->subnet, cause);
}

/*
 * Whether an action reports the matched lines: only then are they kept,
 * maxretry of them per counted address.
 */
static int
jail_wants_matches(const struct jail_conf *jc)
{
	const struct action_conf *ac;
	size_t i, k;

	for (i = 0; i < jc->nactions; i++) {
		ac = jc->actions[i];
		for (k = 0; k < ac->nvars; k++) {
			if (ac->vars[k].value != NULL &&
			    strstr(ac->vars[k].value, "matches>") != NULL)
				return 1;
		}
	}
	return 0;
}

/*
 * The goodregex of the saturation filter fc, compiled as a filter of its
 * own (same prefregex and datepattern): a match names a good sender.
 */
static int
jail_good_create(struct jail *j, const struct filter_conf *fc, char **cause)
{
	struct filter_conf g;

	if (fc->ngoodregex == 0)
		return 0;
	g = *fc;
	g.failregex = fc->goodregex;
	g.nfailregex = fc->ngoodregex;
	g.ignoreregex = NULL;
	g.nignoreregex = 0;
	j->good_filter = jail_filter_create(j->conf, &g, cause);
	return j->good_filter == NULL ? -1 : 0;
}

struct jail *
jail_create(uv_loop_t *loop, const struct jail_conf *jc, char **cause)
{
	struct jail *j;

	j = xcalloc(1, sizeof *j);
	j->name = xstrdup(jc->name);
	j->conf = jc;
	j->bans = addrmap_create(free);
	j->tracker =
	    tracker_create(jc->maxretry, jc->findtime, jail_wants_matches(jc));
	j->filter = jail_filter_create(jc, jc->filter, cause);
	if (j->filter == NULL)
		goto fail;
	if (jc->saturation_filter != NULL) {
		j->sat_filter =
		    jail_filter_create(jc, jc->saturation_filter, cause);
		if (j->sat_filter == NULL)
			goto fail;
		if (jail_good_create(j, jc->saturation_filter, cause) != 0)
			goto fail;
	}
	if (jail_actions_create(j, loop, cause) != 0)
		goto fail;
	if (jail_memory_conf(j, cause) != 0)
		goto fail;
	return j;
fail:
	jail_free(j);
	return NULL;
}

void
jail_free(struct jail *j)
{
	size_t i;

	if (j == NULL)
		return;
	for (i = 0; i < j->nactions; i++)
		action_free(j->actions[i]);
	free(j->actions);
	action_free(j->notify);
	if (j->filter != NULL)
		filter_unref(j->filter);
	if (j->sat_filter != NULL)
		filter_unref(j->sat_filter);
	if (j->good_filter != NULL)
		filter_unref(j->good_filter);
	tracker_free(j->tracker);
	bantime_free(j->bantime);
	addrmap_free(j->bans);
	free(j->prefixes);
	free(j->name);
	free(j);
}

int
jail_ignores(const struct jail *j, const struct addr *a)
{
	size_t i;

	for (i = 0; i < j->conf->nignoreip; i++) {
		if (addr_contains(&j->conf->ignoreip[i], a))
			return 1;
	}
	return j->ignoreself && selfaddr_covers(j->self, a);
}

int
jail_ignore_overlap(
    const struct jail *j, const struct addr *a, struct addr *hit)
{
	const struct addr *ig;
	size_t i;

	for (i = 0; i < j->conf->nignoreip; i++) {
		ig = &j->conf->ignoreip[i];
		if (addr_contains(ig, a) || addr_contains(a, ig)) {
			*hit = *ig;
			return 1;
		}
	}
	if (!j->ignoreself)
		return 0;
	for (i = 0; i < selfaddr_count(j->self); i++) {
		if (addr_contains(a, selfaddr_get(j->self, i))) {
			*hit = *selfaddr_get(j->self, i);
			return 2;
		}
	}
	return 0;
}

/* Offer a line to the saturation filter; hostless matches only count. */
static int
jail_offer_saturation(struct jail *j, const char *line, size_t len, time_t now,
    uint64_t mask, struct jail_event *ev)
{
	struct filter_result r;

	if (j->sat_filter == NULL || filter_match_mask(j->sat_filter, line, len,
	                                 now, mask, &r) != FILTER_MATCH)
		return 0;
	ev->when = r.has_time ? r.when : now;
	if (ev->when < now - j->conf->findtime)
		return 0;
	j->stats.sat_count++;
	j->stats.sat_last = ev->when;
	return 1;
}

/* Offer a line to the goodregex: JAIL_GOOD names a good sender. */
static enum jail_verdict
jail_offer_good(struct jail *j, const char *line, size_t len, time_t now,
    struct jail_event *ev)
{
	struct filter_result r;

	if (j->good_filter == NULL ||
	    filter_match(j->good_filter, line, len, now, &r) != FILTER_MATCH ||
	    !r.has_addr)
		return JAIL_NONE;
	ev->addr = r.addr;
	ev->when = r.has_time ? r.when : now;
	return JAIL_GOOD;
}

enum jail_verdict
jail_offer_line(struct jail *j, const char *line, size_t len, time_t now,
    struct jail_event *ev)
{
	uint64_t mask[2] = {FILTER_MASK_ALL, FILTER_MASK_ALL};

	mask[0] = filter_prefilter(j->filter, line, len);
	if (j->sat_filter != NULL)
		mask[1] = filter_prefilter(j->sat_filter, line, len);
	return jail_offer_masked(j, line, len, now, mask, ev);
}

enum jail_verdict
jail_offer_masked(struct jail *j, const char *line, size_t len, time_t now,
    const uint64_t mask[2], struct jail_event *ev)
{
	struct filter_result r;
	enum filter_verdict v;

	j->stats.lines++;
	/* Most lines: no literal of either filter (the goodregex, if any,
	 * looks for its own). */
	if (mask[0] == 0 && mask[1] == 0 && j->good_filter == NULL)
		return JAIL_NONE;
	memset(ev, 0, sizeof *ev);
	v = filter_match_mask(j->filter, line, len, now, mask[0], &r);
	if (v == FILTER_NOMATCH || (v == FILTER_MATCH && !r.has_addr)) {
		if (jail_offer_saturation(j, line, len, now, mask[1], ev))
			return JAIL_SATURATION;
		return jail_offer_good(j, line, len, now, ev);
	}
	j->stats.matched++;
	ev->addr = r.addr;
	ev->when = r.has_time ? r.when : now;
	if (v == FILTER_IGNORED || jail_ignores(j, &r.addr)) {
		j->stats.ignored++;
		return JAIL_IGNORED;
	}
	if (jail_ban_find(j, &r.addr) != NULL)
		return JAIL_BANNED;
	ev->failures =
	    tracker_add(j->tracker, &r.addr, ev->when, now, line, len);
	if (ev->failures == 0)
		return JAIL_OLD;
	j->stats.total_failures++;
	if (ev->failures < j->conf->maxretry)
		return JAIL_FAILURE;
	ev->matches = tracker_matches(j->tracker, &r.addr);
	tracker_forget(j->tracker, &r.addr);
	return JAIL_BAN;
}

struct jail_ban *
jail_ban_find(const struct jail *j, const struct addr *a)
{
	struct jail_ban *found;
	size_t i;

	if ((found = addrmap_get(j->bans, a)) != NULL)
		return found;
	for (i = 0; i < j->nprefixes; i++) {
		if (addr_contains(&j->prefixes[i], a))
			return addrmap_get(j->bans, &j->prefixes[i]);
	}
	return NULL;
}

struct jail_ban *
jail_ban_get(const struct jail *j, const struct addr *a)
{
	return addrmap_get(j->bans, a);
}

struct jail_ban *
jail_ban_add(struct jail *j, const struct jail_ban *b)
{
	struct jail_ban *copy;

	if (addrmap_get(j->bans, &b->addr) == NULL && !addr_is_host(&b->addr)) {
		j->prefixes = xreallocarray(
		    j->prefixes, j->nprefixes + 1, sizeof *j->prefixes);
		j->prefixes[j->nprefixes++] = b->addr;
	}
	copy = xmalloc(sizeof *copy);
	*copy = *b;
	addrmap_put(j->bans, &b->addr, copy);
	return copy;
}

void
jail_ban_remove(struct jail *j, const struct addr *a)
{
	struct addr key = *a; /* a may point into the ban freed below */
	size_t i;

	if (addrmap_del(j->bans, &key) != 0 || addr_is_host(&key))
		return;
	for (i = 0; i < j->nprefixes; i++) {
		if (addr_equal(&j->prefixes[i], &key)) {
			j->prefixes[i] = j->prefixes[--j->nprefixes];
			return;
		}
	}
}

size_t
jail_ban_count(const struct jail *j)
{
	return addrmap_count(j->bans);
}

struct jail_list_arg {
	struct jail_ban **v;
	size_t n;
};

static int
jail_list_one(const struct addr *key, void *value, void *arg)
{
	struct jail_list_arg *la = arg;

	la->v[la->n++] = value;
	return 0;
}

static int
jail_ban_cmp(const void *a, const void *b)
{
	const struct jail_ban *x = *(struct jail_ban *const *)a;
	const struct jail_ban *y = *(struct jail_ban *const *)b;

	return addr_cmp(&x->addr, &y->addr);
}

struct jail_ban **
jail_ban_list(const struct jail *j, size_t *n)
{
	struct jail_list_arg la;

	la.v = xcalloc(addrmap_count(j->bans) + 1, sizeof *la.v);
	la.n = 0;
	addrmap_foreach(j->bans, jail_list_one, &la);
	qsort(la.v, la.n, sizeof *la.v, jail_ban_cmp);
	*n = la.n;
	return la.v;
}

void
jail_ban_describe(const struct jail *j, const struct jail_ban *b,
    const char *matches, struct action_ban *out)
{
	memset(out, 0, sizeof *out);
	out->jail = j->name;
	out->addr = b->addr;
	out->start = b->start;
	out->end = b->end;
	out->failures = b->failures;
	out->reason = b->reason;
	out->matches = matches;
}

void
jail_actions_ban(struct jail *j, const struct jail_ban *b, const char *matches)
{
	struct action_ban ab;
	size_t i;

	jail_ban_describe(j, b, matches, &ab);
	for (i = 0; i < j->nactions; i++)
		j->actions[i]->ops->ban(j->actions[i], &ab);
}

void
jail_actions_unban(struct jail *j, const struct jail_ban *b)
{
	struct action_ban ab;
	size_t i;

	jail_ban_describe(j, b, NULL, &ab);
	for (i = 0; i < j->nactions; i++)
		j->actions[i]->ops->unban(j->actions[i], &ab);
}

int
jail_actions_start(struct jail *j, char **cause)
{
	size_t i;

	for (i = 0; i < j->nactions; i++) {
		if (j->actions[i]->ops->start(j->actions[i], cause) != 0)
			return -1;
	}
	if (j->notify != NULL && j->notify->ops->start(j->notify, cause) != 0)
		return -1;
	return 0;
}

void
jail_actions_stop(struct jail *j)
{
	size_t i;

	for (i = 0; i < j->nactions; i++)
		j->actions[i]->ops->stop(j->actions[i]);
	if (j->notify != NULL)
		j->notify->ops->stop(j->notify);
}

void
jail_notify(struct jail *j, const struct action_ban *b)
{
	if (j->notify != NULL)
		j->notify->ops->notify(j->notify, b);
}

void
jail_notify_handover(struct jail *o, struct jail *n)
{
	char *cause = NULL;

	if (o->notify != NULL)
		o->notify->ops->stop(o->notify);
	if (n->notify != NULL &&
	    n->notify->ops->start(n->notify, &cause) != 0) {
		log_warnx("%s", cause);
		free(cause);
	}
}

void
jail_actions_flush(struct jail *j)
{
	size_t i;

	for (i = 0; i < j->nactions; i++)
		j->actions[i]->ops->flush(j->actions[i]);
}

/* Make every action hold exactly the jail's bans (at start or reload). */
void
jail_actions_restore(struct jail *j)
{
	struct jail_ban **v;
	struct action_ban *ab;
	size_t n, i;

	v = jail_ban_list(j, &n);
	ab = xcalloc(n + 1, sizeof *ab);
	for (i = 0; i < n; i++)
		jail_ban_describe(j, v[i], NULL, &ab[i]);
	for (i = 0; i < j->nactions; i++)
		j->actions[i]->ops->restore(j->actions[i], ab, n);
	free(ab);
	free(v);
}
