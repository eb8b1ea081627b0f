/* The daemon: config, jails, sources, store and actions on one loop. */
#include <sys/stat.h>
#include <sys/time.h>
#include <errno.h>
#include <glob.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "addrmap.h"
#include "banq.h"
#include "bantime.h"
#include "config.h"
#include "ctl.h"
#include "ctl_cmd.h"
#include "daemon.h"
#include "daemon_private.h"
#include "duration.h"
#include "escalate.h"
#include "fleet.h"
#include "journal.h"
#include "log.h"
#include "metrics.h"
#include "platform.h"
#include "saturation.h"
#include "selfaddr.h"
#include "service.h"
#include "tracker.h"
#include "xmalloc.h"

#define DAEMON_DRAIN_SECONDS 70
#define DAEMON_PURGE_FIRST_MS 5000
#define DAEMON_SWEEP_MS (60 * 1000)
#ifndef JAILD_RUNDIR
#define JAILD_RUNDIR "/run/jaild"
#endif

/* Milliseconds of wall-clock time. */
static uint64_t
daemon_now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

/* Compile every enabled jail of cf; problems go to errs. */
struct jail **
daemon_jails_build(uv_loop_t *loop, const struct config *cf, size_t *n,
    struct conf_errors *errs)
{
	struct jail **v;
	char *cause;
	size_t i;

	v = xcalloc(cf->njails + 1, sizeof *v);
	*n = 0;
	for (i = 0; i < cf->njails; i++) {
		if (!cf->jails[i]->enabled ||
		    platform_check_jail(cf->jails[i], errs) > 0)
			continue;
		cause = NULL;
		v[*n] = jail_create(loop, cf->jails[i], &cause);
		if (v[*n] == NULL) {
			conf_errors_add(errs, cf->jails[i]->file,
			    cf->jails[i]->line, "jail %s: %s",
			    cf->jails[i]->name, cause);
			free(cause);
			continue;
		}
		saturation_check(cf->jails[i], errs);
		(*n)++;
	}
	return v;
}

void
daemon_jails_free(struct jail **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		saturation_free(v[i]->sat);
		jail_free(v[i]);
	}
	free(v);
}

/* Warn about logpaths that name no file yet: a typo, or a log to come. */
static void
daemon_check_logpaths(const struct config *cf)
{
	const struct jail_conf *jc;
	glob_t g;
	size_t i, k;

	for (i = 0; i < cf->njails; i++) {
		jc = cf->jails[i];
		for (k = 0; jc->enabled && k < jc->nlogpaths; k++) {
			if (strcmp(jc->logpaths[k], "-") == 0)
				continue;
			if (glob(jc->logpaths[k], 0, NULL, &g) != 0)
				log_warnx("jail %s: logpath %s: no such file "
				          "(yet); jaild will wait for it",
				    jc->name, jc->logpaths[k]);
			else
				globfree(&g);
		}
	}
}

int
daemon_check_config(const char *confdir, struct conf_errors *errs)
{
	struct config *cf;
	struct jail **v;
	uv_loop_t loop;
	size_t n;
	int rc;

	cf = config_load(confdir, errs);
	if (cf == NULL)
		return -1;
	daemon_check_logpaths(cf);
	uv_loop_init(&loop);
	v = daemon_jails_build(&loop, cf, &n, errs);
	daemon_jails_free(v, n);
	uv_run(&loop, UV_RUN_DEFAULT);
	rc = uv_loop_close(&loop);
	config_free(cf);
	(void)rc;
	return errs->n == 0 ? 0 : -1;
}

/* Queue an action call until the store has committed its ban. */
static void
daemon_pending_add(struct daemon *d, struct jail *j, const struct jail_ban *b,
    int unban, const char *matches)
{
	struct daemon_pending *p;

	if (d->npending == d->cpending) {
		d->cpending = d->cpending ? d->cpending * 2 : 64;
		d->pending =
		    xreallocarray(d->pending, d->cpending, sizeof *d->pending);
	}
	p = &d->pending[d->npending++];
	p->jail = j;
	p->ban = *b;
	p->unban = unban;
	p->matches = matches != NULL ? xstrdup(matches) : NULL;
}

/*
 * Forget the failures that fell out of findtime: without this an address
 * that never reaches maxretry would be counted, in memory, for ever.
 */
static void
daemon_sweep_cb(uv_timer_t *h)
{
	struct daemon *d = h->data;
	time_t now = time(NULL);
	size_t i;

	for (i = 0; i < d->njails; i++)
		tracker_expire(d->jails[i]->tracker, now);
}

/*
 * End of a loop turn: commit what this turn wrote, then let the actions
 * hear of it, then send their batches.  The order is the crash-safety
 * promise: a ban the firewall holds is always in the store.
 */
void
daemon_turn_flush(struct daemon *d)
{
	struct daemon_pending *p;
	size_t i;

	daemon_store_positions_save(d);
	daemon_store_flush(d);
	daemon_source_journals_save(d);
	for (i = 0; i < d->npending; i++) {
		p = &d->pending[i];
		if (p->unban)
			jail_actions_unban(p->jail, &p->ban);
		else
			jail_actions_ban(p->jail, &p->ban, p->matches);
		free(p->matches);
	}
	d->npending = 0;
	for (i = 0; i < d->njails; i++)
		jail_actions_flush(d->jails[i]);
	if (d->nretiring > 0)
		daemon_reload_reap(d);
}

static void
daemon_turn_end_cb(uv_prepare_t *h)
{
	daemon_turn_flush(h->data);
}

void
daemon_flush(struct daemon *d)
{
	daemon_turn_flush(d);
}

/* The ban time of a repeat offender, from its earlier bans in the store. */
static int64_t
daemon_bantime(
    struct daemon *d, struct jail *j, const struct addr *a, int64_t base)
{
	char *why = NULL, text[ADDR_STRLEN];
	int64_t t;
	int n;

	if (!bantime_enabled(j->bantime) || base == DURATION_FOREVER)
		return base;
	n = store_ban_count(
	    d->store, a, bantime_overalljails(j->bantime) ? NULL : j->name);
	if (n < 0) {
		log_warnx("jail %s: bantime.increment: %s", j->name,
		    store_errmsg(d->store));
		return base;
	}
	if (bantime_compute(j->bantime, base, n,
	        (double)arc4random() / 4294967296.0, &t, &why) != 0) {
		addr_format(a, text, sizeof text);
		log_warnx("jail %s: bantime.formula for %s (%d earlier "
		          "bans): %s",
		    j->name, text, n, why);
		free(why);
	}
	return t;
}

struct daemon_collect {
	struct jail_ban **v;
	size_t n;
};

static int
daemon_collect_one(const struct addr *key, void *value, void *arg)
{
	struct daemon_collect *c = arg;

	c->v[c->n++] = value;
	return 0;
}

/*
 * After host b's ban: if enough of its neighbours are banned, ban their
 * prefix instead (reason "subnet", never shorter than any ban it folds)
 * and lift the host bans inside it (by "folded").  Returns the ban that
 * now covers b's address.
 */
static const struct jail_ban *
daemon_escalate(struct daemon *d, struct jail *j, const struct jail_ban *b,
    const char *matches)
{
	struct escalate_guard g = {j->conf->ignoreip, j->conf->nignoreip,
	    j->ignoreself ? j->self : NULL};
	struct daemon_collect c;
	const struct jail_ban *pb = b;
	struct addr p, *fold = NULL;
	time_t now = time(NULL);
	int64_t bt = j->conf->bantime;
	size_t i, nfold = 0;

	c.v = xcalloc(jail_ban_count(j) + 1, sizeof *c.v);
	c.n = 0;
	addrmap_foreach(j->bans, daemon_collect_one, &c);
	if (escalate_decide(&j->subnet, c.v, c.n, &b->addr, now, &g, &p)) {
		fold = xcalloc(c.n + 1, sizeof *fold);
		for (i = 0; i < c.n; i++) {
			if (!escalate_folds(&p, &c.v[i]->addr))
				continue;
			fold[nfold++] = c.v[i]->addr;
			if (bt != DURATION_FOREVER &&
			    (c.v[i]->end == 0 || c.v[i]->end - now > bt))
				bt = c.v[i]->end == 0 ? DURATION_FOREVER
				                      : c.v[i]->end - now;
		}
		pb = daemon_ban(
		    d, j, &p, bt, (int)nfold, "subnet", matches, NULL);
		for (i = 0; i < nfold; i++)
			daemon_unban(d, j, &fold[i], "folded");
	}
	free(fold);
	free(c.v);
	return pb;
}

/*
 * Record ban nb of j (in force already: re-timed) in the store, the
 * expiry heap and the actions' queue.  A remote ban (nb->origin set)
 * never shortens one in force.
 */
static struct jail_ban *
daemon_ban_record(struct daemon *d, struct jail *j, const struct jail_ban *in,
    const char *matches)
{
	struct jail_ban nb = *in, *b;
	const struct addr *a = &nb.addr;

	if ((b = jail_ban_get(j, a)) != NULL) {
		if (nb.origin[0] != '\0' &&
		    (b->end == 0 || (nb.end != 0 && nb.end <= b->end)))
			return b;
		b->end = nb.end;
		daemon_store_op_update(d, b->id, b->end, NULL);
	} else {
		struct store_ban sb;

		memset(&sb, 0, sizeof sb);
		snprintf(sb.jail, sizeof sb.jail, "%s", j->name);
		sb.addr = *a;
		sb.start = nb.start;
		sb.end = nb.end;
		sb.failures = nb.failures;
		snprintf(sb.reason, sizeof sb.reason, "%s", nb.reason);
		snprintf(sb.origin, sizeof sb.origin, "%s", nb.origin);
		sb.active = 1;
		daemon_store_op_insert(d, &sb);
		nb.id = sb.id;
		b = jail_ban_add(j, &nb);
		j->stats.total_bans++;
	}
	if (b->end != 0) {
		banq_push(d->banq, b->end, j, a);
		daemon_arm_expiry(d);
	}
	daemon_pending_add(d, j, b, 0, matches);
	return b;
}

const struct jail_ban *
daemon_ban(struct daemon *d, struct jail *j, const struct addr *a,
    int64_t bantime, int failures, const char *reason, const char *matches,
    char **cause)
{
	struct jail_ban nb, *b;
	char text[ADDR_STRLEN], dur[32];
	time_t now = time(NULL);
	int grows = strcmp(reason, "manual") != 0 && jail_ban_get(j, a) == NULL;

	(void)cause; /* the store cannot refuse: writes wait for a commit */
	if (grows)
		bantime = daemon_bantime(d, j, a, bantime);
	memset(&nb, 0, sizeof nb);
	nb.addr = *a;
	nb.start = now;
	nb.end = bantime == DURATION_FOREVER ? 0 : now + bantime;
	nb.failures = failures;
	snprintf(nb.reason, sizeof nb.reason, "%s", reason);
	b = daemon_ban_record(d, j, &nb, matches);
	fleet_publish(
	    d->fleet, j, FLEET_BAN, a, b->start, b->end, failures, reason);
	addr_format(a, text, sizeof text);
	duration_format(bantime, dur, sizeof dur);
	log_info("jail %s: ban %s for %s (%s, %d failures)", j->name, text, dur,
	    reason, failures);
	if (grows && j->subnet.threshold > 0 && addr_is_host(a))
		return daemon_escalate(d, j, b, matches);
	return b;
}

const struct jail_ban *
daemon_ban_remote(struct daemon *d, struct jail *j, const struct addr *a,
    time_t end, int failures, const char *reason, const char *origin)
{
	struct jail_ban nb;
	char text[ADDR_STRLEN];

	memset(&nb, 0, sizeof nb);
	nb.addr = *a;
	nb.start = time(NULL);
	nb.end = end;
	nb.failures = failures;
	snprintf(nb.reason, sizeof nb.reason, "%s", reason);
	snprintf(nb.origin, sizeof nb.origin, "%s", origin);
	addr_format(a, text, sizeof text);
	log_info("jail %s: ban %s from fleet node %s (%s, until %lld)", j->name,
	    text, origin, reason, (long long)end);
	return daemon_ban_record(d, j, &nb, NULL);
}

struct fleet *
daemon_fleet(const struct daemon *d)
{
	return d->fleet;
}

int
daemon_unban(
    struct daemon *d, struct jail *j, const struct addr *a, const char *by)
{
	struct jail_ban *b;
	char text[ADDR_STRLEN];

	if ((b = jail_ban_get(j, a)) == NULL)
		return -1;
	daemon_store_op_update(d, b->id, time(NULL), by);
	daemon_pending_add(d, j, b, 1, NULL);
	if (strcmp(by, "jailctl") == 0)
		fleet_publish(
		    d->fleet, j, FLEET_UNBAN, a, time(NULL), 0, 0, by);
	j->stats.total_unbans++;
	addr_format(a, text, sizeof text);
	log_info("jail %s: unban %s (%s)", j->name, text, by);
	jail_ban_remove(j, a);
	return 0;
}

/* Lift every ban whose time is up; stale heap entries are skipped. */
static void
daemon_expiry_cb(uv_timer_t *h)
{
	struct daemon *d = h->data;
	struct banq_entry e;
	struct jail_ban *b;
	time_t now = time(NULL);

	while (banq_pop_expired(d->banq, now, &e) == 0) {
		b = jail_ban_get(e.owner, &e.addr);
		if (b != NULL && b->end != 0 && b->end <= now)
			daemon_unban(d, e.owner, &e.addr, "expired");
	}
	daemon_arm_expiry(d);
}

/* Arm the one timer for the earliest ban end. */
void
daemon_arm_expiry(struct daemon *d)
{
	uint64_t now = daemon_now_ms(), when;
	time_t next = banq_next(d->banq);

	if (next == 0) {
		uv_timer_stop(&d->expiry);
		return;
	}
	when = (uint64_t)next * 1000;
	uv_timer_start(
	    &d->expiry, daemon_expiry_cb, when > now ? when - now : 0, 0);
}

struct daemon_restore_arg {
	struct daemon *d;
	time_t now;
	int64_t *expired;
	size_t nexpired;
};

/* Put one active ban from the store back into its jail. */
static int
daemon_restore_one(const struct store_ban *sb, void *arg)
{
	struct daemon_restore_arg *ra = arg;
	struct jail *j = daemon_jail_find(ra->d, sb->jail);
	struct jail_ban b;

	if (sb->end != 0 && sb->end <= ra->now) {
		ra->expired = xreallocarray(
		    ra->expired, ra->nexpired + 1, sizeof *ra->expired);
		ra->expired[ra->nexpired++] = sb->id;
		return 0;
	}
	if (j == NULL)
		return 0; /* a disabled jail: its bans wait in the store */
	memset(&b, 0, sizeof b);
	b.id = sb->id;
	b.addr = sb->addr;
	b.start = sb->start;
	b.end = sb->end;
	b.failures = sb->failures;
	snprintf(b.reason, sizeof b.reason, "%s", sb->reason);
	snprintf(b.origin, sizeof b.origin, "%s", sb->origin);
	jail_ban_add(j, &b);
	if (b.end != 0)
		banq_push(ra->d->banq, b.end, j, &b.addr);
	return 0;
}

/* Bring back the store's active bans; lift those that ran out meanwhile. */
static int
daemon_restore(struct daemon *d, char **cause)
{
	struct daemon_restore_arg ra = {d, time(NULL), NULL, 0};
	size_t i;

	if (store_ban_foreach_active(d->store, daemon_restore_one, &ra) != 0) {
		xasprintf(cause, "store: %s", store_errmsg(d->store));
		free(ra.expired);
		return -1;
	}
	/* Committed with the first turn's writes (kept if it is locked). */
	for (i = 0; i < ra.nexpired; i++)
		daemon_store_op_update(d, ra.expired[i], ra.now, "expired");
	free(ra.expired);
	for (i = 0; i < d->njails; i++)
		log_info("jail %s: %zu active ban%s restored",
		    d->jails[i]->name, jail_ban_count(d->jails[i]),
		    jail_ban_count(d->jails[i]) == 1 ? "" : "s");
	return 0;
}

/* Start every jail's actions and make them hold the jail's bans. */
int
daemon_actions_start(struct daemon *d, struct jail **v, size_t n, char **cause)
{
	size_t i, k;

	daemon_store_check(d); /* a restore sweeps on the store's word */
	for (i = 0; i < n; i++) {
		for (k = 0; k < v[i]->nactions; k++)
			v[i]->actions[k]->keep_unknown = d->store_partial;
		if (jail_actions_start(v[i], cause) != 0)
			return -1;
		jail_actions_restore(v[i]);
		jail_actions_flush(v[i]);
	}
	return 0;
}

/* Reload once for the SIGHUPs that came since the last turn. */
static void
daemon_hup_cb(uv_timer_t *h)
{
	struct daemon *d = h->data;
	struct conf_errors errs = {NULL, 0};
	size_t i;

	if (daemon_reload(d, &errs) != 0) {
		for (i = 0; i < errs.n; i++)
			log_warnx("reload refused: %s", errs.msgs[i]);
	}
	conf_errors_clear(&errs);
}

static void
daemon_signal_cb(uv_signal_t *h, int signum)
{
	struct daemon *d = h->data;

	if (signum == SIGHUP) {
		uv_timer_start(&d->hup, daemon_hup_cb, 0, 0);
		return;
	}
	log_info("signal %d: stopping", signum);
	d->stopping = 1;
	uv_stop(d->loop);
}

/* Resolve a [jaild] group name (key names it in a warning), or -1. */
static gid_t
daemon_ctl_group(const char *key, const char *name)
{
	struct group *gr;

	if (name == NULL || *name == '\0')
		return (gid_t)-1;
	if ((gr = getgrnam(name)) == NULL) {
		log_warnx("%s %s: no such group", key, name);
		return (gid_t)-1;
	}
	return gr->gr_gid;
}

/*
 * The control socket's group from cf, and in *admin the admin group.
 * Without ctl_group the admins own the socket, or they could not reach it.
 */
static gid_t
daemon_socket_group(const struct config *cf, gid_t *admin)
{
	gid_t group;

	*admin = daemon_ctl_group("ctl_admin_group", cf->ctl_admin_group);
	group = daemon_ctl_group("ctl_group", cf->ctl_group);
	return group != (gid_t)-1 ? group : *admin;
}

/* Create the directory holding path (the database's), mode 0700. */
static void
daemon_mkdir_parent(const char *path)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');

	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			log_warn("mkdir %s", dir);
	}
	free(dir);
}

/* Open the store and the control socket, the two things that must work. */
static int
daemon_open(struct daemon *d, char **cause)
{
	const char *db = d->opts.db_path ? d->opts.db_path : d->config->db_path;
	const char *sock =
	    d->opts.socket_path ? d->opts.socket_path : d->config->socket_path;
	char *why = NULL;
	gid_t group, admin;

	if (strcmp(db, ":memory:") != 0)
		daemon_mkdir_parent(db);
	if ((d->store = store_open(db, &why)) == NULL) {
		xasprintf(cause, "store %s: %s", db, why);
		free(why);
		return -1;
	}
	daemon_store_watch(d);
	group = daemon_socket_group(d->config, &admin);
	d->ctl = ctl_create(d->loop, sock, group, ctl_cmd_table, d, &why);
	if (d->ctl == NULL) {
		xasprintf(cause, "control socket %s: %s", sock, why);
		free(why);
		return -1;
	}
	ctl_set_admin_group(d->ctl, admin);
	return 0;
}

/*
 * Take the pidfile (by default only when detached: tests run many -f
 * daemons at once) and start the metrics (lag timer, listener).
 */
static int
daemon_service_start(struct daemon *d, char **cause)
{
	const char *pf = d->opts.pidfile ? d->opts.pidfile : d->config->pidfile;

	if (pf == NULL && !d->opts.foreground)
		pf = JAILD_RUNDIR "/jaild.pid";
	if (pf != NULL && *pf != '\0')
		daemon_mkdir_parent(pf);
	if (pf != NULL && *pf != '\0' &&
	    (d->pidfile = service_pidfile_create(pf, cause)) == NULL)
		return -1;
	d->metrics =
	    metrics_create(d->loop, d, d->config->metrics_listen, cause);
	return d->metrics == NULL ? -1 : 0;
}

/* Whether a [jaild] string differs between two configs (NULL is ""). */
static int
daemon_jaild_changed(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") != 0;
}

/* Note key among the [jaild] settings a reload could not apply. */
static void
daemon_restart_note(struct daemon *d, const char *key)
{
	char *s;

	xasprintf(&s, "%s%s%s", d->restart_needed ? d->restart_needed : "",
	    d->restart_needed ? ", " : "", key);
	free(d->restart_needed);
	d->restart_needed = s;
}

/* Give the control socket the configured groups (reload, or start). */
static void
daemon_apply_groups(struct daemon *d)
{
	gid_t group, admin;
	char *cause = NULL;

	group = daemon_socket_group(d->config, &admin);
	if (ctl_set_group(d->ctl, group, &cause) != 0) {
		log_warnx("reload: ctl_group: %s", cause);
		daemon_restart_note(d, "ctl_group");
	}
	free(cause);
	ctl_set_admin_group(d->ctl, admin);
}

/*
 * After a reload, apply the [jaild] settings that changed: the control
 * group and the metrics listener now; the rest is noted as needing a
 * restart (a command-line -S, -D or -p keeps its setting anyway).
 */
void
daemon_apply_jaild(struct daemon *d, const struct config *old)
{
	const struct config *cf = d->config;
	struct metrics *m;
	char *cause = NULL;

	free(d->restart_needed);
	d->restart_needed = NULL;
	if (d->opts.socket_path == NULL &&
	    daemon_jaild_changed(old->socket_path, cf->socket_path))
		daemon_restart_note(d, "socket");
	if (d->opts.db_path == NULL &&
	    daemon_jaild_changed(old->db_path, cf->db_path))
		daemon_restart_note(d, "dbfile");
	if (d->opts.pidfile == NULL &&
	    daemon_jaild_changed(old->pidfile, cf->pidfile))
		daemon_restart_note(d, "pidfile");
	if (daemon_jaild_changed(old->ctl_group, cf->ctl_group) ||
	    daemon_jaild_changed(old->ctl_admin_group, cf->ctl_admin_group))
		daemon_apply_groups(d);
	if (daemon_jaild_changed(old->metrics_listen, cf->metrics_listen)) {
		if ((m = metrics_replace(
		         d->metrics, cf->metrics_listen, &cause)) != NULL)
			d->metrics = m;
		else {
			log_warnx("reload: %s", cause);
			daemon_restart_note(d, "metrics_listen");
		}
		free(cause);
	}
	if (d->restart_needed != NULL)
		log_warnx("reload: restart needed for: %s", d->restart_needed);
}

const char *
daemon_restart_needed(const struct daemon *d)
{
	return d->restart_needed;
}

/* Set up the loop's own handles: turn end, expiry, signals. */
static void
daemon_handles_init(struct daemon *d)
{
	uv_prepare_init(d->loop, &d->turn_end);
	d->turn_end.data = d;
	uv_prepare_start(&d->turn_end, daemon_turn_end_cb);
	uv_timer_init(d->loop, &d->expiry);
	d->expiry.data = d;
	uv_signal_init(d->loop, &d->sig_hup);
	uv_signal_init(d->loop, &d->sig_term);
	uv_signal_init(d->loop, &d->sig_int);
	d->sig_hup.data = d->sig_term.data = d->sig_int.data = d;
	uv_signal_start(&d->sig_hup, daemon_signal_cb, SIGHUP);
	uv_signal_start(&d->sig_term, daemon_signal_cb, SIGTERM);
	uv_signal_start(&d->sig_int, daemon_signal_cb, SIGINT);
	uv_timer_init(d->loop, &d->store_retry);
	uv_timer_init(d->loop, &d->purge);
	uv_timer_init(d->loop, &d->sweep);
	uv_timer_init(d->loop, &d->hup);
	uv_timer_init(d->loop, &d->store_check);
	d->store_retry.data = d->purge.data = d->sweep.data = d->hup.data = d;
	d->store_check.data = d;
}

/* Read the host's addresses (again) and lend them to jails v (ignoreself). */
void
daemon_self_attach(struct daemon *d, struct jail **v, size_t n)
{
	char *cause = NULL;
	size_t i;

	if (d->self != NULL)
		selfaddr_refresh(d->self, &cause);
	else if ((d->self = selfaddr_create(&cause)) == NULL)
		d->self = selfaddr_create_from(NULL, 0);
	if (cause != NULL) {
		log_warnx("ignoreself: %s", cause);
		free(cause);
	}
	for (i = 0; i < n; i++)
		v[i]->self = d->self;
}

struct daemon *
daemon_create(uv_loop_t *loop, const struct daemon_opts *opts,
    struct conf_errors *errs, char **cause)
{
	struct daemon *d;

	d = xcalloc(1, sizeof *d);
	d->loop = loop;
	d->opts = *opts;
	d->started = time(NULL);
	d->banq = banq_create();
	daemon_handles_init(d);
	if ((d->config = config_load(opts->confdir, errs)) == NULL)
		goto fail;
	d->jails = daemon_jails_build(loop, d->config, &d->njails, errs);
	if (errs->n > 0)
		goto fail;
	daemon_self_attach(d, d->jails, d->njails);
	if (daemon_open(d, cause) != 0 || daemon_service_start(d, cause) != 0 ||
	    daemon_restore(d, cause) != 0)
		goto fail;
	if (daemon_actions_start(d, d->jails, d->njails, cause) != 0)
		goto fail;
	if (d->config->fleet != NULL &&
	    (d->fleet = fleet_create(
	         loop, d, d->config->fleet, d->store, cause)) == NULL)
		goto fail;
	daemon_source_create_all(d);
	daemon_arm_expiry(d);
	uv_timer_start(
	    &d->purge, daemon_store_purge_cb, DAEMON_PURGE_FIRST_MS, 0);
	uv_timer_start(
	    &d->sweep, daemon_sweep_cb, DAEMON_SWEEP_MS, DAEMON_SWEEP_MS);
	log_info("started: %zu jails, %zu sources", d->njails, d->nsources);
	return d;
fail:
	daemon_free(d);
	return NULL;
}

int
daemon_run(struct daemon *d)
{
	uv_run(d->loop, UV_RUN_DEFAULT);
	return 0;
}

static void
daemon_close_cb(uv_handle_t *h)
{
}

static void
daemon_drain_timeout_cb(uv_timer_t *h)
{
	log_warnx("stop: actions still running after %d s, not waiting",
	    DAEMON_DRAIN_SECONDS);
	uv_stop(h->loop);
}

/*
 * Run the loop until the handles being closed and the actions' stop
 * commands are done, but never longer than DAEMON_DRAIN_SECONDS: the
 * watchdog timer is unreferenced so it alone does not keep the loop up.
 */
static void
daemon_drain(uv_loop_t *loop)
{
	uv_timer_t watchdog;

	uv_timer_init(loop, &watchdog);
	uv_timer_start(
	    &watchdog, daemon_drain_timeout_cb, DAEMON_DRAIN_SECONDS * 1000, 0);
	uv_unref((uv_handle_t *)&watchdog);
	uv_run(loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&watchdog, daemon_close_cb);
	uv_run(loop, UV_RUN_NOWAIT);
}

void
daemon_free(struct daemon *d)
{
	size_t i;

	if (d == NULL)
		return;
	if (d->store != NULL)
		daemon_turn_flush(d);
	daemon_source_free_all(d);
	if (d->store != NULL)
		daemon_store_final(d);
	fleet_free(d->fleet);
	ctl_free(d->ctl);
	metrics_free(d->metrics);
	free(d->restart_needed);
	for (i = 0; i < d->njails; i++) {
		/* Its watch and looks must not hold the drain below. */
		saturation_free(d->jails[i]->sat);
		d->jails[i]->sat = NULL;
		jail_actions_stop(d->jails[i]);
	}
	uv_close((uv_handle_t *)&d->turn_end, daemon_close_cb);
	uv_close((uv_handle_t *)&d->expiry, daemon_close_cb);
	uv_close((uv_handle_t *)&d->sig_hup, daemon_close_cb);
	uv_close((uv_handle_t *)&d->sig_term, daemon_close_cb);
	uv_close((uv_handle_t *)&d->sig_int, daemon_close_cb);
	uv_close((uv_handle_t *)&d->store_retry, daemon_close_cb);
	uv_close((uv_handle_t *)&d->purge, daemon_close_cb);
	uv_close((uv_handle_t *)&d->sweep, daemon_close_cb);
	uv_close((uv_handle_t *)&d->hup, daemon_close_cb);
	uv_close((uv_handle_t *)&d->store_check, daemon_close_cb);
	if (d->globs_on)
		uv_close((uv_handle_t *)&d->globs, daemon_close_cb);
	daemon_drain(d->loop);
	daemon_jails_free(d->jails, d->njails);
	daemon_reload_reap_all(d);
	daemon_drain(d->loop);
	store_close(d->store);
	banq_free(d->banq);
	free(d->pending);
	free(d->ops);
	free(d->ins);
	selfaddr_free(d->self);
	config_unref(d->config);
	service_pidfile_free(d->pidfile);
	free(d);
}

size_t
daemon_njails(const struct daemon *d)
{
	return d->njails;
}

struct jail *
daemon_jail(const struct daemon *d, size_t i)
{
	return i < d->njails ? d->jails[i] : NULL;
}

struct jail *
daemon_jail_find(const struct daemon *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->njails; i++) {
		if (strcmp(d->jails[i]->name, name) == 0)
			return d->jails[i];
	}
	return NULL;
}

size_t
daemon_nsources(const struct daemon *d)
{
	return d->nsources;
}

struct source *
daemon_source(const struct daemon *d, size_t i)
{
	return i < d->nsources ? d->sources[i]->src : NULL;
}

size_t
daemon_njournals(const struct daemon *d)
{
	return d->njournals;
}

struct journal *
daemon_journal(const struct daemon *d, size_t i)
{
	return i < d->njournals ? d->journals[i]->jr : NULL;
}

struct store *
daemon_store(const struct daemon *d)
{
	return d->store;
}

time_t
daemon_started(const struct daemon *d)
{
	return d->started;
}

struct metrics *
daemon_metrics(const struct daemon *d)
{
	return d->metrics;
}
