/* The control commands jaild answers, over the daemon's state. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_cmd.h"
#include "daemon.h"
#include "duration.h"
#include "fleet.h"
#include "log.h"
#include "metrics.h"
#include "saturation.h"
#include "store.h"
#include "tracker.h"
#include "xmalloc.h"

/* Good senders listed one by one in a jail's status; the rest counted. */
#define CTL_CMD_GOOD_SHOWN 10

/* An epoch time, or null for "never" (permanent bans). */
static json_t *
ctl_cmd_time(time_t t)
{
	return t == 0 ? json_null() : json_integer((json_int_t)t);
}

static json_t *
ctl_cmd_addr(const struct addr *a)
{
	char text[ADDR_STRLEN];

	addr_format(a, text, sizeof text);
	return json_string(text);
}

static json_t *ctl_cmd_fail(const char **, char **, const char *, const char *,
    ...) __attribute__((format(printf, 4, 5)));

/* Set an error reply; returns NULL for the handler to return. */
static json_t *
ctl_cmd_fail(const char **code, char **msg, const char *c, const char *fmt, ...)
{
	va_list ap;

	*code = c;
	va_start(ap, fmt);
	if (vasprintf(msg, fmt, ap) < 0)
		*msg = NULL;
	va_end(ap);
	return NULL;
}

static const char *
ctl_cmd_arg(json_t *args, const char *key)
{
	return json_string_value(json_object_get(args, key));
}

/*
 * Refuse args of the wrong type: a "jail" that is not a string must not
 * read as no jail at all (unban --all of every jail instead of one).
 */
static int
ctl_cmd_args_check(json_t *args, const char **code, char **msg)
{
	static const char *strings[] = {"jail", "addr", "duration"};
	json_t *v;
	size_t i;

	for (i = 0; i < sizeof strings / sizeof strings[0]; i++) {
		v = json_object_get(args, strings[i]);
		if (v != NULL && !json_is_string(v)) {
			ctl_cmd_fail(code, msg, "usage",
			    "\"%s\" must be a string", strings[i]);
			return -1;
		}
	}
	v = json_object_get(args, "all");
	if (v != NULL && !json_is_boolean(v)) {
		ctl_cmd_fail(
		    code, msg, "usage", "%s", "\"all\" must be true or false");
		return -1;
	}
	return 0;
}

/* Find the jail named by args.jail, or fail with "no-such-jail". */
static struct jail *
ctl_cmd_jail(struct daemon *d, const char *name, const char **code, char **msg)
{
	struct jail *j;

	if (name == NULL) {
		ctl_cmd_fail(code, msg, "usage", "%s", "a jail name is needed");
		return NULL;
	}
	if ((j = daemon_jail_find(d, name)) == NULL)
		ctl_cmd_fail(code, msg, "no-such-jail",
		    "no jail named %s (see jailctl status)", name);
	return j;
}

/* The fleet node a ban came from, or null for this one. */
static json_t *
ctl_cmd_origin(const char *origin)
{
	return origin[0] != '\0' ? json_string(origin) : json_null();
}

static json_t *
ctl_cmd_ban_json(const struct jail *j, const struct jail_ban *b)
{
	return json_pack("{s:s, s:o, s:I, s:o, s:i, s:s, s:o}", "jail", j->name,
	    "addr", ctl_cmd_addr(&b->addr), "since", (json_int_t)b->start,
	    "until", ctl_cmd_time(b->end), "failures", b->failures, "reason",
	    b->reason, "origin", ctl_cmd_origin(b->origin));
}

/* Append every ban of j to the array. */
static void
ctl_cmd_bans_add(json_t *array, const struct jail *j)
{
	struct jail_ban **v;
	size_t n, i;

	v = jail_ban_list(j, &n);
	for (i = 0; i < n; i++)
		json_array_append_new(array, ctl_cmd_ban_json(j, v[i]));
	free(v);
}

/* Append the journal sources: match, cursor, entries read. */
static void
ctl_cmd_journals(struct daemon *d, json_t *a)
{
	struct journal *jr;
	const char *c;
	size_t i;

	for (i = 0; i < daemon_njournals(d); i++) {
		if ((jr = daemon_journal(d, i)) == NULL)
			continue;
		c = journal_cursor(jr);
		json_array_append_new(
		    a, json_pack("{s:s, s:s, s:s, s:o, s:I, s:o}", "backend",
		           "systemd", "path", "journal", "match",
		           journal_match(jr), "cursor",
		           c != NULL ? json_string(c) : json_null(), "lines",
		           (json_int_t)journal_stats(jr)->lines, "last_read",
		           ctl_cmd_time(journal_stats(jr)->last_read)));
		json_object_set_new(json_array_get(a, json_array_size(a) - 1),
		    "cut", json_integer((json_int_t)journal_stats(jr)->cut));
	}
}

static json_t *
ctl_cmd_sources(struct daemon *d)
{
	json_t *a = json_array();
	struct source *s;
	struct source_pos pos;
	size_t i;

	for (i = 0; i < daemon_nsources(d); i++) {
		if ((s = daemon_source(d, i)) == NULL)
			continue;
		source_position(s, &pos);
		json_array_append_new(
		    a, json_pack("{s:s, s:I, s:I, s:I, s:o}", "path",
		           source_path(s), "inode", (json_int_t)pos.inode,
		           "offset", (json_int_t)pos.offset, "lines",
		           (json_int_t)source_stats(s)->lines, "last_read",
		           ctl_cmd_time(source_stats(s)->last_read)));
		json_object_set_new(json_array_get(a, json_array_size(a) - 1),
		    "backend",
		    json_string(
		        strcmp(source_path(s), "-") == 0 ? "stdin" : "file"));
		json_object_set_new(json_array_get(a, json_array_size(a) - 1),
		    "cut", json_integer((json_int_t)source_stats(s)->cut));
		json_object_set_new(json_array_get(a, json_array_size(a) - 1),
		    "waiting",
		    json_boolean(
		        pos.inode == 0 && strcmp(source_path(s), "-") != 0));
	}
	ctl_cmd_journals(d, a);
	return a;
}

static json_t *
ctl_cmd_status_all(struct daemon *d)
{
	json_t *jails = json_array();
	struct jail *j;
	size_t i;

	for (i = 0; i < daemon_njails(d); i++) {
		j = daemon_jail(d, i);
		json_array_append_new(jails,
		    json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "name",
		        j->name, "filter", filter_name(j->filter), "banned",
		        (json_int_t)jail_ban_count(j), "failures",
		        (json_int_t)tracker_count(j->tracker), "total_bans",
		        (json_int_t)j->stats.total_bans, "lines",
		        (json_int_t)j->stats.lines, "matched",
		        (json_int_t)j->stats.matched));
	}
	return json_pack("{s:s, s:I, s:o, s:o}", "version", PACKAGE_VERSION,
	    "uptime", (json_int_t)(time(NULL) - daemon_started(d)), "jails",
	    jails, "sources", ctl_cmd_sources(d));
}

static json_t *
ctl_cmd_strings(char **v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/*
 * The saturation response's live state: watch, pressure, prefix bans,
 * and the good senders (their count and the newest few).
 */
static void
ctl_cmd_status_sat(json_t *sat, const struct saturation *s)
{
	static const char *const level[] = {"calm", "pressure", "high"};
	struct store_good g[CTL_CMD_GOOD_SHOWN];
	const struct saturation_stats *st;
	json_t *good = json_array();
	size_t i, n;

	if (s == NULL) {
		json_object_set_new(sat, "good_senders", json_integer(0));
		json_object_set_new(sat, "good_recent", good);
		return;
	}
	st = saturation_stats(s);
	n = saturation_good_recent(s, g, CTL_CMD_GOOD_SHOWN);
	for (i = 0; i < n; i++)
		json_array_append_new(
		    good, json_pack("{s:o, s:o, s:I}", "addr",
		              ctl_cmd_addr(&g[i].addr), "last",
		              ctl_cmd_time(g[i].last), "count",
		              (json_int_t)g[i].count));
	json_object_set_new(sat, "good_senders",
	    json_integer((json_int_t)saturation_good_count(s)));
	json_object_set_new(sat, "good_recent", good);
	json_object_set_new(sat, "watching", json_boolean(st->watching));
	json_object_set_new(sat, "level", json_string(level[st->level]));
	json_object_set_new(
	    sat, "connections", json_integer((json_int_t)st->conns));
	json_object_set_new(sat, "limit", json_integer((json_int_t)st->limit));
	json_object_set_new(sat, "looks", json_integer((json_int_t)st->looks));
	json_object_set_new(
	    sat, "watch_banned", json_integer((json_int_t)st->watch_banned));
	json_object_set_new(
	    sat, "prefix_banned", json_integer((json_int_t)st->prefix_banned));
	json_object_set_new(
	    sat, "prefix_spared", json_integer((json_int_t)st->prefix_spared));
}

static json_t *
ctl_cmd_status_jail(const struct jail *j)
{
	const struct jail_conf *jc = j->conf;
	json_t *actions = json_array(), *banned = json_array(), *sat, *r,
	       *ignore;
	uint64_t evicted = 0;
	size_t i;

	for (i = 0; i < j->nactions; i++) {
		json_array_append_new(
		    actions, json_string(j->actions[i]->conf->name));
		evicted += j->actions[i]->stats.evicted;
	}
	ctl_cmd_bans_add(banned, j);
	sat = json_pack("{s:I, s:o, s:I, s:I, s:I, s:s, s:o}", "count",
	    (json_int_t)j->stats.sat_count, "last",
	    ctl_cmd_time(j->stats.sat_last), "holders_found",
	    (json_int_t)j->stats.sat_holders, "banned",
	    (json_int_t)j->stats.sat_banned, "episodes",
	    (json_int_t)j->stats.sat_episodes, "mode", saturation_mode_name(j),
	    "would_ban", json_array());
	for (i = 0; i < j->stats.sat_nwould; i++)
		json_array_append_new(json_object_get(sat, "would_ban"),
		    ctl_cmd_addr(&j->stats.sat_would[i]));
	ctl_cmd_status_sat(sat, j->sat);
	r = json_pack("{s:s, s:s, s:o, s:o, s:i, s:I, s:I, s:I, s:I, s:I,"
	              " s:I, s:I, s:I, s:o, s:o, s:I}",
	    "name", j->name, "filter", filter_name(j->filter), "actions",
	    actions, "logpaths", ctl_cmd_strings(jc->logpaths, jc->nlogpaths),
	    "maxretry", jc->maxretry, "findtime", (json_int_t)jc->findtime,
	    "bantime", (json_int_t)jc->bantime, "lines",
	    (json_int_t)j->stats.lines, "matched", (json_int_t)j->stats.matched,
	    "ignored", (json_int_t)j->stats.ignored, "failures",
	    (json_int_t)tracker_count(j->tracker), "total_failures",
	    (json_int_t)j->stats.total_failures, "total_bans",
	    (json_int_t)j->stats.total_bans, "banned", banned, "saturation",
	    sat, "evicted", (json_int_t)evicted);
	ignore = json_array();
	for (i = 0; i < jc->nignoreip; i++)
		json_array_append_new(ignore, ctl_cmd_addr(&jc->ignoreip[i]));
	json_object_set_new(r, "ignoreip", ignore);
	return r;
}

static json_t *
ctl_cmd_status(void *arg, const struct ctl_peer *peer, json_t *args,
    const char **code, char **msg)
{
	struct daemon *d = arg;
	const char *name = ctl_cmd_arg(args, "jail");
	struct jail *j;

	if (ctl_cmd_args_check(args, code, msg) != 0)
		return NULL;
	if (name == NULL)
		return ctl_cmd_status_all(d);
	if ((j = ctl_cmd_jail(d, name, code, msg)) == NULL)
		return NULL;
	return ctl_cmd_status_jail(j);
}

/* Parse args.addr as a host or prefix. */
static int
ctl_cmd_parse_addr(json_t *args, struct addr *a, const char **code, char **msg)
{
	const char *text = ctl_cmd_arg(args, "addr");

	if (text == NULL) {
		ctl_cmd_fail(code, msg, "usage", "%s", "an address is needed");
		return -1;
	}
	if (addr_parse(text, a) != 0) {
		ctl_cmd_fail(code, msg, "bad-address",
		    "%s is not an IPv4 or IPv6 address or prefix", text);
		return -1;
	}
	return 0;
}

/* Parse a ban duration from a client: -1, or 1 s up to DURATION_MAX. */
static int
ctl_cmd_duration(const char *s, int64_t *out, const char **code, char **msg)
{
	int64_t v;

	if (duration_parse(s, &v) != 0) {
		ctl_cmd_fail(code, msg, "bad-duration",
		    "%s is not a duration (600, 10m, 1h30m, 1d, -1 for "
		    "forever), or it is too long",
		    s);
		return -1;
	}
	if (v == 0 || (v != DURATION_FOREVER && v > DURATION_MAX)) {
		ctl_cmd_fail(code, msg, "bad-duration",
		    "%s: a ban lasts from 1 second to 36600 days (100 years); "
		    "-1 bans for ever",
		    s);
		return -1;
	}
	*out = v;
	return 0;
}

/*
 * Refuse a ban that would block an ignored address: a prefix holding an
 * ignoreip entry or one of the host's own addresses, or an address
 * inside an ignoreip prefix.
 */
static int
ctl_cmd_ignored(
    const struct jail *j, const struct addr *a, const char **code, char **msg)
{
	char text[ADDR_STRLEN], hit[ADDR_STRLEN];
	struct addr h;
	int why;

	if ((why = jail_ignore_overlap(j, a, &h)) == 0)
		return 0;
	addr_format(a, text, sizeof text);
	addr_format(&h, hit, sizeof hit);
	if (why == 2)
		ctl_cmd_fail(code, msg, "ignored",
		    "%s holds %s, an address of this host (ignoreself); ban a "
		    "narrower prefix",
		    text, hit);
	else if (addr_contains(&h, a))
		ctl_cmd_fail(code, msg, "ignored",
		    "%s is in the jail's ignoreip (%s)", text, hit);
	else
		ctl_cmd_fail(code, msg, "ignored",
		    "%s overlaps the jail's ignoreip %s; ban a narrower prefix "
		    "that leaves it out",
		    text, hit);
	return 1;
}

static json_t *
ctl_cmd_ban(void *arg, const struct ctl_peer *peer, json_t *args,
    const char **code, char **msg)
{
	struct daemon *d = arg;
	const char *dur = ctl_cmd_arg(args, "duration");
	const struct jail_ban *b;
	struct jail *j;
	struct addr a;
	int64_t bantime;
	char *cause = NULL;

	if (ctl_cmd_args_check(args, code, msg) != 0)
		return NULL;
	if ((j = ctl_cmd_jail(d, ctl_cmd_arg(args, "jail"), code, msg)) ==
	        NULL ||
	    ctl_cmd_parse_addr(args, &a, code, msg) != 0)
		return NULL;
	bantime = j->conf->bantime;
	if (dur != NULL && ctl_cmd_duration(dur, &bantime, code, msg) != 0)
		return NULL;
	if (ctl_cmd_ignored(j, &a, code, msg))
		return NULL;
	b = daemon_ban(d, j, &a, bantime, 0, "manual", NULL, &cause);
	if (b == NULL) {
		*code = "store";
		*msg = cause;
		return NULL;
	}
	daemon_flush(d);
	return json_pack("{s:s, s:o, s:o}", "jail", j->name, "addr",
	    ctl_cmd_addr(&b->addr), "until", ctl_cmd_time(b->end));
}

/*
 * Unban a (or everything when a is NULL) in j; note each in done.  by is
 * "jailctl" (the whole fleet) or "jailctl-local" (only here).
 */
static void
ctl_cmd_unban_jail(struct daemon *d, struct jail *j, const struct addr *a,
    json_t *done, const char *by)
{
	struct jail_ban **v;
	size_t n, i;

	if (a != NULL) {
		if (daemon_unban(d, j, a, by) == 0)
			json_array_append_new(
			    done, json_pack("{s:s, s:o}", "jail", j->name,
			              "addr", ctl_cmd_addr(a)));
		return;
	}
	v = jail_ban_list(j, &n);
	for (i = 0; i < n; i++) {
		json_array_append_new(
		    done, json_pack("{s:s, s:o}", "jail", j->name, "addr",
		              ctl_cmd_addr(&v[i]->addr)));
		daemon_unban(d, j, &v[i]->addr, by);
	}
	free(v);
}

/* Find a ban in j (or any jail) whose prefix covers a; NULL if none. */
static const struct jail_ban *
ctl_cmd_covering(
    struct daemon *d, struct jail *j, const struct addr *a, struct jail **where)
{
	const struct jail_ban *hit = NULL;
	struct jail_ban **v;
	size_t i, k, n;

	for (i = 0; i < daemon_njails(d) && hit == NULL; i++) {
		*where = daemon_jail(d, i);
		if (j != NULL && j != *where)
			continue;
		v = jail_ban_list(*where, &n);
		for (k = 0; k < n && hit == NULL; k++) {
			if (addr_contains(&v[k]->addr, a))
				hit = v[k];
		}
		free(v);
	}
	return hit;
}

/* Say a is not banned, or which prefix ban covers it and how to lift it. */
static json_t *
ctl_cmd_unban_none(struct daemon *d, struct jail *j, const struct addr *a,
    const char **code, char **msg)
{
	char text[ADDR_STRLEN], pfx[ADDR_STRLEN];
	const struct jail_ban *b;
	struct jail *where = NULL;

	addr_format(a, text, sizeof text);
	if ((b = ctl_cmd_covering(d, j, a, &where)) == NULL)
		return ctl_cmd_fail(
		    code, msg, "not-banned", "%s is not banned", text);
	addr_format(&b->addr, pfx, sizeof pfx);
	return ctl_cmd_fail(code, msg, "covered",
	    "%s is not banned by itself but covered by the ban of %s in jail "
	    "%s; lift that with: jailctl unban %s %s",
	    text, pfx, where->name, pfx, where->name);
}

static json_t *
ctl_cmd_unban(void *arg, const struct ctl_peer *peer, json_t *args,
    const char **code, char **msg)
{
	struct daemon *d = arg;
	const char *name = ctl_cmd_arg(args, "jail");
	int all = json_is_true(json_object_get(args, "all"));
	const char *by = json_is_true(json_object_get(args, "local"))
	                     ? "jailctl-local"
	                     : "jailctl";
	struct jail *j = NULL;
	struct addr a;
	json_t *done;
	size_t i;

	if (ctl_cmd_args_check(args, code, msg) != 0)
		return NULL;
	if (name != NULL && (j = ctl_cmd_jail(d, name, code, msg)) == NULL)
		return NULL;
	if (!all && ctl_cmd_parse_addr(args, &a, code, msg) != 0)
		return NULL;
	done = json_array();
	for (i = 0; i < daemon_njails(d); i++) {
		if (j == NULL || j == daemon_jail(d, i))
			ctl_cmd_unban_jail(
			    d, daemon_jail(d, i), all ? NULL : &a, done, by);
	}
	daemon_flush(d);
	if (!all && json_array_size(done) == 0) {
		json_decref(done);
		return ctl_cmd_unban_none(d, j, &a, code, msg);
	}
	return json_pack("{s:o}", "unbanned", done);
}

static json_t *
ctl_cmd_list(void *arg, const struct ctl_peer *peer, json_t *args,
    const char **code, char **msg)
{
	struct daemon *d = arg;
	const char *name = ctl_cmd_arg(args, "jail");
	struct jail *j = NULL;
	json_t *bans;
	size_t i;

	if (ctl_cmd_args_check(args, code, msg) != 0)
		return NULL;
	if (name != NULL && (j = ctl_cmd_jail(d, name, code, msg)) == NULL)
		return NULL;
	bans = json_array();
	for (i = 0; i < daemon_njails(d); i++) {
		if (j == NULL || j == daemon_jail(d, i))
			ctl_cmd_bans_add(bans, daemon_jail(d, i));
	}
	return json_pack("{s:o}", "bans", bans);
}

static int
ctl_cmd_history_one(const struct store_ban *b, void *arg)
{
	json_t *bans = arg;

	json_array_append_new(bans,
	    json_pack("{s:s, s:o, s:I, s:o, s:i, s:s, s:b, s:o, s:o, s:o}",
	        "jail", b->jail, "addr", ctl_cmd_addr(&b->addr), "start",
	        (json_int_t)b->start, "end", ctl_cmd_time(b->end), "failures",
	        b->failures, "reason", b->reason, "active", b->active, "lifted",
	        ctl_cmd_time(b->lifted), "lifted_by",
	        b->lifted_by[0] ? json_string(b->lifted_by) : json_null(),
	        "origin", ctl_cmd_origin(b->origin)));
	return 0;
}

static json_t *
ctl_cmd_history(void *arg, const struct ctl_peer *peer, json_t *args,
    const char **code, char **msg)
{
	struct daemon *d = arg;
	struct addr a;
	json_t *bans;

	if (ctl_cmd_args_check(args, code, msg) != 0)
		return NULL;
	if (ctl_cmd_parse_addr(args, &a, code, msg) != 0)
		return NULL;
	bans = json_array();
	if (store_ban_foreach_history(
	        daemon_store(d), &a, ctl_cmd_history_one, bans) != 0) {
		json_decref(bans);
		return ctl_cmd_fail(
		    code, msg, "store", "%s", store_errmsg(daemon_store(d)));
	}
	return json_pack("{s:o, s:o}", "addr", ctl_cmd_addr(&a), "bans", bans);
}

static json_t *
ctl_cmd_reload(void *arg, const struct ctl_peer *peer, json_t *args,
    const char **code, char **msg)
{
	struct daemon *d = arg;
	struct conf_errors errs = {NULL, 0};
	const char *name = ctl_cmd_arg(args, "jail");
	size_t i, len = 0;
	char *text;
	json_t *r;

	if (name != NULL && daemon_jail_find(d, name) == NULL)
		return ctl_cmd_fail(code, msg, "no-such-jail",
		    "no jail named %s (see jailctl status)", name);
	if (daemon_reload(d, &errs) == 0) {
		r = json_pack("{s:I}", "jails", (json_int_t)daemon_njails(d));
		if (daemon_restart_needed(d) != NULL)
			json_object_set_new(r, "restart_needed",
			    json_string(daemon_restart_needed(d)));
		return r;
	}
	for (i = 0; i < errs.n; i++)
		len += strlen(errs.msgs[i]) + 1;
	text = xcalloc(1, len + 1);
	for (i = 0; i < errs.n; i++) {
		strcat(text, errs.msgs[i]);
		if (i + 1 < errs.n)
			strcat(text, "\n");
	}
	conf_errors_clear(&errs);
	*code = "config";
	xasprintf(msg, "reload refused, the running config is kept:\n%s", text);
	free(text);
	return NULL;
}

/* The Prometheus text, as the metrics listener serves it. */
static json_t *
ctl_cmd_metrics(void *arg, const struct ctl_peer *peer, json_t *args,
    const char **code, char **msg)
{
	struct daemon *d = arg;
	char *text = metrics_render(d, daemon_metrics(d));
	json_t *r;

	if (text == NULL)
		return ctl_cmd_fail(code, msg, "internal", "%s",
		    "out of memory rendering the metrics");
	r = json_pack("{s:s}", "text", text);
	free(text);
	return r;
}

/* Answer that the daemon runs, with its version. */
static json_t *
ctl_cmd_ping(void *arg, const struct ctl_peer *peer, json_t *args,
    const char **code, char **msg)
{
	return json_pack("{s:s}", "version", PACKAGE_VERSION);
}

/* The fleet: this node, the others, the queue. */
static json_t *
ctl_cmd_fleet(void *arg, const struct ctl_peer *peer, json_t *args,
    const char **code, char **msg)
{
	struct daemon *d = arg;

	if (daemon_fleet(d) == NULL)
		return ctl_cmd_fail(code, msg, "no-fleet", "%s",
		    "no [fleet] in jaild.conf: this node shares nothing");
	return fleet_json(daemon_fleet(d));
}

const struct ctl_cmd ctl_cmd_table[] = {
    {"ping", ctl_cmd_ping, 0},
    {"status", ctl_cmd_status, 0},
    {"list", ctl_cmd_list, 0},
    {"history", ctl_cmd_history, 0},
    {"metrics", ctl_cmd_metrics, 0},
    {"fleet", ctl_cmd_fleet, 0},
    {"ban", ctl_cmd_ban, CTL_PRIVILEGED},
    {"unban", ctl_cmd_unban, CTL_PRIVILEGED},
    {"reload", ctl_cmd_reload, CTL_PRIVILEGED},
    {NULL, NULL, 0},
};
