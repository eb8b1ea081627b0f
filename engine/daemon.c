/* The daemon: config, jails, sources, store and actions on one loop. */
#include <sys/stat.h>
#include <sys/time.h>
#include <errno.h>
#include <glob.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "addrmap.h"
#include "banq.h"
#include "bantime.h"
#include "config.h"
#include "ctl.h"
#include "ctl_cmd.h"
#include "daemon.h"
#include "duration.h"
#include "escalate.h"
#include "journal.h"
#include "log.h"
#include "metrics.h"
#include "saturation.h"
#include "selfaddr.h"
#include "service.h"
#include "tracker.h"
#include "xmalloc.h"

#define DAEMON_DRAIN_SECONDS 70
#define DAEMON_GLOB_MS 5000 /* logpath globs looked at again this often */
#define DAEMON_RETRY_MS 1000 /* store writes kept after a failed commit */
#define DAEMON_PURGE_FIRST_MS 5000
#define DAEMON_PURGE_EVERY_MS (3600 * 1000)
#define DAEMON_PURGE_BATCH 500 /* rows per purge transaction */
#define DAEMON_SWEEP_MS (60 * 1000)
#define DAEMON_PURGE_BATCHES 20 /* transactions per purge tick */
#ifndef JAILD_RUNDIR
#define JAILD_RUNDIR "/run/jaild"
#endif

/* One followed file and the jails that read it. */
struct daemon_source {
	struct daemon *d;
	char *path;
	struct source *src;
	struct jail **jails;
	size_t njails;
	uint64_t saved_offset;
	uint64_t saved_inode;
	int fresh; /* appeared while running: read from its start */
};

/* One journal match (backend = systemd) and the jails that read it. */
struct daemon_journal {
	struct daemon_source ds; /* path: "journal:MATCH", the store key */
	struct journal *jr;
	char *saved; /* the cursor last written to the store */
};

/*
 * One store write of a loop turn.  Writes are recorded during the turn and
 * replayed in one transaction at its end; a failed commit (disk full)
 * keeps them for the next try.  New bans get temporary negative ids until
 * their insert is committed.
 */
enum daemon_op_kind {
	DAEMON_OP_INSERT,
	DAEMON_OP_LIFT,
	DAEMON_OP_SET_END,
	DAEMON_OP_POS,
};

struct daemon_op {
	enum daemon_op_kind kind;
	struct store_ban ban; /* INSERT: the row, ban.id its temporary id */
	int64_t id; /* LIFT, SET_END: the ban (negative: temporary) */
	int64_t real; /* INSERT: the id the store gave, once replayed */
	time_t when; /* LIFT: when; SET_END: the new end */
	char by[32]; /* LIFT */
	char *path; /* POS */
	uint64_t inode, offset, headhash; /* POS */
};

/* An action call waiting for the store's commit. */
struct daemon_pending {
	struct jail *jail;
	struct jail_ban ban;
	int unban;
	char *matches;
};

struct daemon {
	uv_loop_t *loop;
	struct daemon_opts opts;
	struct config *config;
	/*
	 * What a reload replaced.  Kept actions still point into the old
	 * config, and stopped ones may still be running their actionstop.
	 */
	struct config **retired;
	size_t nretired;
	struct jail **retired_jails;
	size_t nretired_jails;
	struct store *store;
	struct ctl *ctl;
	struct jail **jails;
	size_t njails;
	struct daemon_source **sources;
	size_t nsources;
	struct banq *banq;
	struct daemon_pending *pending;
	size_t npending, cpending;
	struct daemon_op *ops; /* store writes not yet committed */
	size_t nops, cops;
	size_t *ins; /* during a replay: indices of the INSERT ops */
	int64_t next_temp; /* the next temporary ban id, negative */
	int store_down; /* a commit failed; ops are kept and retried */
	time_t store_down_since;
	uv_timer_t store_retry, purge;
	uv_timer_t sweep; /* forgets failures older than findtime */
	struct selfaddr *self; /* the host's addresses, for ignoreself */
	uv_timer_t expiry;
	uv_prepare_t turn_end;
	uv_signal_t sig_hup, sig_term, sig_int;
	time_t started;
	int stopping;
	struct daemon_journal **journals;
	size_t njournals;
	uv_timer_t globs; /* re-expands logpath globs */
	int globs_on;
	struct service_pidfile *pidfile;
	struct metrics *metrics;
};

static void daemon_arm_expiry(struct daemon *);
static void daemon_sources_create(struct daemon *);
static int daemon_journal_attach(struct daemon *, struct jail *);
static void daemon_journals_start(struct daemon *);
static void daemon_journals_save(struct daemon *);
static void daemon_journals_free(struct daemon *);
static void daemon_globs_arm(struct daemon *);

/* Milliseconds of wall-clock time. */
static uint64_t
daemon_now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

/* Compile every enabled jail of cf; problems go to errs. */
static struct jail **
daemon_jails_build(uv_loop_t *loop, const struct config *cf, size_t *n,
    struct conf_errors *errs)
{
	struct jail **v;
	char *cause;
	size_t i;

	v = xcalloc(cf->njails + 1, sizeof *v);
	*n = 0;
	for (i = 0; i < cf->njails; i++) {
		if (!cf->jails[i]->enabled)
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

static void
daemon_jails_free(struct jail **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		saturation_free(v[i]->sat);
		jail_free(v[i]);
	}
	free(v);
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

/* Append a blank store write to this turn's record. */
static struct daemon_op *
daemon_op_add(struct daemon *d, enum daemon_op_kind kind)
{
	struct daemon_op *op;

	if (d->nops == d->cops) {
		d->cops = d->cops ? d->cops * 2 : 64;
		d->ops = xreallocarray(d->ops, d->cops, sizeof *d->ops);
	}
	op = &d->ops[d->nops++];
	memset(op, 0, sizeof *op);
	op->kind = kind;
	return op;
}

/* Record a ban insert; b->id becomes a temporary id until committed. */
static void
daemon_op_insert(struct daemon *d, struct store_ban *b)
{
	struct daemon_op *op = daemon_op_add(d, DAEMON_OP_INSERT);

	if (d->next_temp >= 0)
		d->next_temp = -1;
	b->id = d->next_temp--;
	op->ban = *b;
}

/* Record a lift (by != NULL) or a change of end of ban id. */
static void
daemon_op_update(struct daemon *d, int64_t id, time_t when, const char *by)
{
	struct daemon_op *op;

	op = daemon_op_add(d, by != NULL ? DAEMON_OP_LIFT : DAEMON_OP_SET_END);
	op->id = id;
	op->when = when;
	if (by != NULL)
		snprintf(op->by, sizeof op->by, "%s", by);
}

static void
daemon_op_pos(struct daemon *d, const struct store_pos *pos)
{
	struct daemon_op *op = daemon_op_add(d, DAEMON_OP_POS);

	op->path = xstrdup(pos->path);
	op->inode = pos->inode;
	op->offset = pos->offset;
	op->headhash = pos->headhash;
}

/* The committed id of a temporary one, from this replay's inserts. */
static int64_t
daemon_op_resolve(struct daemon *d, size_t nins, int64_t id)
{
	size_t lo = 0, hi = nins, mid;
	int64_t t;

	if (id >= 0)
		return id;
	/* Temporary ids decrease in record order: binary search. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		t = d->ops[d->ins[mid]].ban.id;
		if (t == id)
			return d->ops[d->ins[mid]].real;
		if (t > id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* Run one recorded write in the open transaction. */
static int
daemon_op_run(struct daemon *d, struct daemon_op *op, size_t *nins)
{
	struct store_ban sb;
	struct store_pos pos;

	switch (op->kind) {
	case DAEMON_OP_INSERT:
		d->ins[(*nins)++] = (size_t)(op - d->ops);
		sb = op->ban;
		if (store_ban_insert(d->store, &sb) != 0)
			return -1;
		op->real = sb.id;
		return 0;
	case DAEMON_OP_LIFT:
		return store_ban_lift(d->store,
		    daemon_op_resolve(d, *nins, op->id), op->when, op->by);
	case DAEMON_OP_SET_END:
		return store_ban_set_end(
		    d->store, daemon_op_resolve(d, *nins, op->id), op->when);
	case DAEMON_OP_POS:
		memset(&pos, 0, sizeof pos);
		snprintf(pos.path, sizeof pos.path, "%s", op->path);
		pos.inode = op->inode;
		pos.offset = op->offset;
		pos.headhash = op->headhash;
		return store_pos_save(d->store, &pos);
	}
	return -1;
}

/* Give the jails' bans the ids their committed inserts got. */
static void
daemon_ops_settle(struct daemon *d, size_t nins)
{
	struct daemon_op *op;
	struct jail_ban *b;
	struct jail *j;
	size_t i;

	for (i = 0; i < nins; i++) {
		op = &d->ops[d->ins[i]];
		if ((j = daemon_jail_find(d, op->ban.jail)) != NULL &&
		    (b = jail_ban_get(j, &op->ban.addr)) != NULL &&
		    b->id == op->ban.id)
			b->id = op->real;
	}
	for (i = 0; i < d->nops; i++)
		free(d->ops[i].path);
	d->nops = 0;
}

/*
 * Replay the recorded writes in one transaction and commit.  A write
 * that fails alone (a lift of a ban already lifted) is logged and
 * skipped; a failed commit keeps every write for the next try.
 */
static int
daemon_ops_commit(struct daemon *d)
{
	size_t i, nins = 0, nfailed = 0;
	char first[256] = "";

	d->ins = xreallocarray(d->ins, d->nops + 1, sizeof *d->ins);
	if (store_begin(d->store) != 0)
		return -1;
	for (i = 0; i < d->nops; i++) {
		if (daemon_op_run(d, &d->ops[i], &nins) != 0 && nfailed++ == 0)
			snprintf(
			    first, sizeof first, "%s", store_errmsg(d->store));
	}
	if (store_commit(d->store) != 0)
		return -1;
	if (nfailed > 0)
		log_warnx(
		    "store: %zu writes failed, the first: %s", nfailed, first);
	daemon_ops_settle(d, nins);
	return 0;
}

static void
daemon_store_retry_cb(uv_timer_t *h)
{
	struct daemon *d = h->data;
	size_t n = d->nops;

	if (daemon_ops_commit(d) != 0)
		return;
	d->store_down = 0;
	uv_timer_stop(&d->store_retry);
	log_info("store: writable again: committed %zu writes kept since "
	         "it failed %lld s ago",
	    n, (long long)(time(NULL) - d->store_down_since));
}

/*
 * Commit this turn's writes.  When the store cannot be written (disk
 * full, I/O error) bans go on in memory and in the firewall; the writes
 * are kept and retried every DAEMON_RETRY_MS, with one line when it
 * fails and one when it recovers.
 */
static void
daemon_store_flush(struct daemon *d)
{
	if (d->nops == 0 || d->store_down)
		return;
	if (daemon_ops_commit(d) == 0)
		return;
	d->store_down = 1;
	d->store_down_since = time(NULL);
	log_warnx("store: cannot write the database: %s; bans go on in "
	          "memory and in the firewall, %zu writes are kept and retried "
	          "every %d ms",
	    store_errmsg(d->store), d->nops, DAEMON_RETRY_MS);
	uv_timer_start(&d->store_retry, daemon_store_retry_cb, DAEMON_RETRY_MS,
	    DAEMON_RETRY_MS);
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

/* Delete old history in small transactions; come back soon if more. */
static void
daemon_purge_cb(uv_timer_t *h)
{
	struct daemon *d = h->data;
	time_t cutoff = time(NULL) - (time_t)d->config->dbpurgeage;
	uint64_t next = DAEMON_PURGE_EVERY_MS;
	int i, rc = DAEMON_PURGE_BATCH, total = 0;

	daemon_store_flush(d);
	for (i = 0;
	     d->config->dbpurgeage > 0 && !d->store_down && d->nops == 0 &&
	     i < DAEMON_PURGE_BATCHES && rc == DAEMON_PURGE_BATCH;
	     i++) {
		if (store_begin(d->store) != 0 ||
		    (rc = store_purge(d->store, cutoff, DAEMON_PURGE_BATCH)) <
		        0 ||
		    store_commit(d->store) != 0) {
			log_warnx("store: purge: %s", store_errmsg(d->store));
			store_commit(d->store);
			break;
		}
		total += rc;
	}
	if (rc == DAEMON_PURGE_BATCH)
		next = DAEMON_RETRY_MS;
	if (total > 0)
		log_info("store: purged %d bans that ended before %lld", total,
		    (long long)cutoff);
	uv_timer_start(h, daemon_purge_cb, next, 0);
}

/* Save the position of every source that moved, in the open transaction. */
static void
daemon_positions_save(struct daemon *d)
{
	struct daemon_source *ds;
	struct source_pos sp;
	struct store_pos pos;
	size_t i;

	for (i = 0; i < d->nsources; i++) {
		ds = d->sources[i];
		if (ds->src == NULL || strcmp(ds->path, "-") == 0)
			continue;
		source_position(ds->src, &sp);
		if (sp.offset == ds->saved_offset &&
		    sp.inode == ds->saved_inode)
			continue;
		memset(&pos, 0, sizeof pos);
		snprintf(pos.path, sizeof pos.path, "%s", ds->path);
		pos.inode = sp.inode;
		pos.offset = sp.offset;
		pos.headhash = sp.headhash;
		daemon_op_pos(d, &pos);
		ds->saved_offset = sp.offset;
		ds->saved_inode = sp.inode;
	}
}

/*
 * End of a loop turn: commit what this turn wrote, then let the actions
 * hear of it, then send their batches.  The order is the crash-safety
 * promise: a ban the firewall holds is always in the store.
 */
static void
daemon_turn_flush(struct daemon *d)
{
	struct daemon_pending *p;
	size_t i;

	daemon_positions_save(d);
	daemon_store_flush(d);
	daemon_journals_save(d);
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
	if ((b = jail_ban_get(j, a)) != NULL) {
		b->end = nb.end;
		daemon_op_update(d, b->id, b->end, NULL);
	} else {
		struct store_ban sb;

		memset(&sb, 0, sizeof sb);
		snprintf(sb.jail, sizeof sb.jail, "%s", j->name);
		sb.addr = *a;
		sb.start = nb.start;
		sb.end = nb.end;
		sb.failures = failures;
		snprintf(sb.reason, sizeof sb.reason, "%s", reason);
		sb.active = 1;
		daemon_op_insert(d, &sb);
		nb.id = sb.id;
		b = jail_ban_add(j, &nb);
		j->stats.total_bans++;
	}
	if (b->end != 0) {
		banq_push(d->banq, b->end, j, a);
		daemon_arm_expiry(d);
	}
	daemon_pending_add(d, j, b, 0, matches);
	addr_format(a, text, sizeof text);
	duration_format(bantime, dur, sizeof dur);
	log_info("jail %s: ban %s for %s (%s, %d failures)", j->name, text, dur,
	    reason, failures);
	if (grows && j->subnet.threshold > 0 && addr_is_host(a))
		return daemon_escalate(d, j, b, matches);
	return b;
}

int
daemon_unban(
    struct daemon *d, struct jail *j, const struct addr *a, const char *by)
{
	struct jail_ban *b;
	char text[ADDR_STRLEN];

	if ((b = jail_ban_get(j, a)) == NULL)
		return -1;
	daemon_op_update(d, b->id, time(NULL), by);
	daemon_pending_add(d, j, b, 1, NULL);
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
static void
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

/* Offer one line to every jail reading this source. */
static void
daemon_line_cb(struct source *src, const char *line, size_t len, void *arg)
{
	struct daemon_source *ds = arg;
	struct jail_event ev;
	struct jail *j;
	char *cause = NULL, *copy;
	time_t now = time(NULL);
	size_t i;

	for (i = 0; i < ds->njails; i++) {
		j = ds->jails[i];
		switch (jail_offer_line(j, line, len, now, &ev)) {
		case JAIL_BAN:
			copy = ev.matches != NULL ? ev.matches
			                          : xstrndup(line, len);
			if (daemon_ban(ds->d, j, &ev.addr, j->conf->bantime,
			        ev.failures, "failures", copy,
			        &cause) == NULL) {
				log_warnx("jail %s: %s", j->name, cause);
				free(cause);
				cause = NULL;
			}
			free(copy);
			break;
		case JAIL_SATURATION:
			log_info("jail %s: saturation signal (%llu seen)",
			    j->name, (unsigned long long)j->stats.sat_count);
			saturation_signal(
			    ds->d->loop, ds->d, j, line, len, now);
			break;
		default:
			break;
		}
	}
}

/* Find the source for path, creating it. */
static struct daemon_source *
daemon_source_get(struct daemon *d, const char *path)
{
	struct daemon_source *ds;
	size_t i;

	for (i = 0; i < d->nsources; i++) {
		if (strcmp(d->sources[i]->path, path) == 0)
			return d->sources[i];
	}
	ds = xcalloc(1, sizeof *ds);
	ds->d = d;
	ds->path = xstrdup(path);
	d->sources =
	    xreallocarray(d->sources, d->nsources + 1, sizeof *d->sources);
	d->sources[d->nsources++] = ds;
	return ds;
}

static void
daemon_source_attach(struct daemon *d, const char *path, struct jail *j)
{
	struct daemon_source *ds = daemon_source_get(d, path);

	ds->jails = xreallocarray(ds->jails, ds->njails + 1, sizeof *ds->jails);
	ds->jails[ds->njails++] = j;
}

/* Expand j's logpaths (globs) and attach j to each file. */
static void
daemon_jail_attach(struct daemon *d, struct jail *j)
{
	const struct jail_conf *jc = j->conf;
	glob_t g;
	size_t i, k;

	for (i = 0; i < jc->nlogpaths; i++) {
		if (strpbrk(jc->logpaths[i], "*?[") == NULL) {
			daemon_source_attach(d, jc->logpaths[i], j);
			continue;
		}
		memset(&g, 0, sizeof g);
		if (glob(jc->logpaths[i], 0, NULL, &g) != 0) {
			log_warnx("jail %s: logpath %s matches no file yet",
			    j->name, jc->logpaths[i]);
			globfree(&g);
			continue;
		}
		for (k = 0; k < g.gl_pathc; k++)
			daemon_source_attach(d, g.gl_pathv[k], j);
		globfree(&g);
	}
}

/* Start following one source where the store says it stopped. */
static void
daemon_source_start(struct daemon *d, struct daemon_source *ds)
{
	struct store_pos pos;
	struct source_pos sp, *resume = NULL;
	char *cause = NULL;
	int stdin_src = strcmp(ds->path, "-") == 0;

	ds->src = source_create(d->loop, ds->path, daemon_line_cb, ds);
	stdin_src |= ds->fresh; /* read a fresh file, or stdin, whole */
	if (!stdin_src && store_pos_load(d->store, ds->path, &pos) == 0) {
		sp.inode = pos.inode;
		sp.offset = pos.offset;
		sp.headhash = pos.headhash;
		resume = &sp;
		ds->saved_offset = pos.offset;
		ds->saved_inode = pos.inode;
	}
	if (source_start(ds->src, resume, stdin_src, &cause) != 0) {
		log_warnx("source %s: %s", ds->path, cause);
		free(cause);
	}
}

static void
daemon_sources_create(struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->njails; i++) {
		if (daemon_journal_attach(d, d->jails[i]) != 0)
			daemon_jail_attach(d, d->jails[i]);
	}
	for (i = 0; i < d->nsources; i++)
		daemon_source_start(d, d->sources[i]);
	daemon_journals_start(d);
	daemon_globs_arm(d);
}

static void
daemon_sources_free(struct daemon *d)
{
	size_t i;

	daemon_positions_save(d);
	daemon_journals_free(d);
	for (i = 0; i < d->nsources; i++) {
		source_free(d->sources[i]->src);
		free(d->sources[i]->jails);
		free(d->sources[i]->path);
		free(d->sources[i]);
	}
	free(d->sources);
	d->sources = NULL;
	d->nsources = 0;
}

/* Offer a journal entry to the journal's jails, as a file line is. */
static void
daemon_journal_line_cb(
    struct journal *jr, const char *line, size_t len, void *arg)
{
	struct daemon_journal *dj = arg;

	daemon_line_cb(NULL, line, len, &dj->ds);
}

/*
 * Attach j to the journal source of its filter's journalmatch when its
 * backend is systemd (jails with the same match share one); returns -1
 * for a jail that follows files.
 */
static int
daemon_journal_attach(struct daemon *d, struct jail *j)
{
	const char *match =
	    j->conf->filter != NULL ? j->conf->filter->journalmatch : NULL;
	struct daemon_journal *dj = NULL;
	char *name;
	size_t i;

	if (j->conf->backend == NULL || strcmp(j->conf->backend, "systemd"))
		return -1;
	xasprintf(&name, "journal:%s", match != NULL ? match : "");
	for (i = 0; i < d->njournals && dj == NULL; i++) {
		if (strcmp(d->journals[i]->ds.path, name) == 0)
			dj = d->journals[i];
	}
	if (dj == NULL) {
		dj = xcalloc(1, sizeof *dj);
		dj->ds.d = d;
		dj->ds.path = name;
		d->journals = xreallocarray(
		    d->journals, d->njournals + 1, sizeof *d->journals);
		d->journals[d->njournals++] = dj;
	} else
		free(name);
	dj->ds.jails = xreallocarray(
	    dj->ds.jails, dj->ds.njails + 1, sizeof *dj->ds.jails);
	dj->ds.jails[dj->ds.njails++] = j;
	return 0;
}

/* Open every journal source and start it at its saved cursor. */
static void
daemon_journals_start(struct daemon *d)
{
	struct daemon_journal *dj;
	const char *match;
	char *cause = NULL;
	size_t i;

	for (i = 0; i < d->njournals; i++) {
		dj = d->journals[i];
		match = dj->ds.path + strlen("journal:");
		dj->jr = journal_create(
		    d->loop, match, NULL, daemon_journal_line_cb, dj, &cause);
		if (dj->jr != NULL) {
			dj->saved = store_cursor_load(d->store, dj->ds.path);
			if (journal_start(dj->jr, dj->saved, &cause) == 0)
				continue;
		}
		log_warnx("source %s: %s", dj->ds.path, cause);
		free(cause);
		cause = NULL;
	}
}

/* Write the cursors that moved, in a transaction of their own. */
static void
daemon_journals_save(struct daemon *d)
{
	struct daemon_journal *dj;
	const char *c;
	size_t i;
	int begun = 0;

	for (i = 0; i < d->njournals && !d->store_down; i++) {
		dj = d->journals[i];
		c = dj->jr != NULL ? journal_cursor(dj->jr) : NULL;
		if (c == NULL || (dj->saved != NULL && !strcmp(c, dj->saved)))
			continue;
		if (!begun++ && store_begin(d->store) != 0)
			break;
		if (store_cursor_save(d->store, dj->ds.path, c) != 0)
			break;
		free(dj->saved);
		dj->saved = xstrdup(c);
	}
	if (begun && store_commit(d->store) != 0)
		log_warnx("store: journal cursor: %s", store_errmsg(d->store));
}

/* Save the cursors and close every journal source. */
static void
daemon_journals_free(struct daemon *d)
{
	struct daemon_journal *dj;
	size_t i;

	daemon_journals_save(d);
	for (i = 0; i < d->njournals; i++) {
		dj = d->journals[i];
		journal_free(dj->jr);
		free(dj->ds.jails);
		free(dj->ds.path);
		free(dj->saved);
		free(dj);
	}
	free(d->journals);
	d->journals = NULL;
	d->njournals = 0;
}

/* Attach j to path if it is not there yet; start the path if new. */
static void
daemon_glob_add(struct daemon *d, const char *path, struct jail *j)
{
	struct daemon_source *ds = NULL;
	size_t i;

	for (i = 0; i < d->nsources && ds == NULL; i++) {
		if (strcmp(d->sources[i]->path, path) == 0)
			ds = d->sources[i];
	}
	for (i = 0; ds != NULL && i < ds->njails; i++) {
		if (ds->jails[i] == j)
			return;
	}
	log_info("jail %s: logpath glob now matches %s", j->name, path);
	daemon_source_attach(d, path, j);
	if (ds != NULL)
		return;
	ds = d->sources[d->nsources - 1];
	ds->fresh = 1;
	daemon_source_start(d, ds);
}

/* Expand every logpath glob again: files that appeared are followed. */
static void
daemon_globs_cb(uv_timer_t *h)
{
	struct daemon *d = h->data;
	const struct jail_conf *jc;
	glob_t g;
	size_t i, k, n;

	for (i = 0; i < d->njails; i++) {
		jc = d->jails[i]->conf;
		if (jc->backend != NULL && strcmp(jc->backend, "systemd") == 0)
			continue;
		for (k = 0; k < jc->nlogpaths; k++) {
			if (strpbrk(jc->logpaths[k], "*?[") == NULL)
				continue;
			memset(&g, 0, sizeof g);
			if (glob(jc->logpaths[k], 0, NULL, &g) == 0) {
				for (n = 0; n < g.gl_pathc; n++)
					daemon_glob_add(
					    d, g.gl_pathv[n], d->jails[i]);
			}
			globfree(&g);
		}
	}
}

/* Start the glob timer once; it then runs until the daemon stops. */
static void
daemon_globs_arm(struct daemon *d)
{
	if (d->globs_on)
		return;
	uv_timer_init(d->loop, &d->globs);
	d->globs.data = d;
	uv_timer_start(
	    &d->globs, daemon_globs_cb, DAEMON_GLOB_MS, DAEMON_GLOB_MS);
	d->globs_on = 1;
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
	store_begin(d->store);
	for (i = 0; i < ra.nexpired; i++)
		store_ban_lift(d->store, ra.expired[i], ra.now, "expired");
	store_commit(d->store);
	free(ra.expired);
	for (i = 0; i < d->njails; i++)
		log_info("jail %s: %zu active bans restored", d->jails[i]->name,
		    jail_ban_count(d->jails[i]));
	return 0;
}

/* Start every jail's actions and make them hold the jail's bans. */
static int
daemon_actions_start(struct daemon *d, struct jail **v, size_t n, char **cause)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (jail_actions_start(v[i], cause) != 0)
			return -1;
		jail_actions_restore(v[i]);
		jail_actions_flush(v[i]);
	}
	return 0;
}

static void
daemon_signal_cb(uv_signal_t *h, int signum)
{
	struct daemon *d = h->data;
	struct conf_errors errs = {NULL, 0};
	size_t i;

	if (signum == SIGHUP) {
		if (daemon_reload(d, &errs) != 0) {
			for (i = 0; i < errs.n; i++)
				log_warnx("reload refused: %s", errs.msgs[i]);
		}
		conf_errors_clear(&errs);
		return;
	}
	log_info("signal %d: stopping", signum);
	d->stopping = 1;
	uv_stop(d->loop);
}

/* Resolve the ctl group name from [jaild] ctl_group, or -1. */
static gid_t
daemon_ctl_group(const struct config *cf)
{
	struct group *gr;

	if (cf->ctl_group == NULL || *cf->ctl_group == '\0')
		return (gid_t)-1;
	if ((gr = getgrnam(cf->ctl_group)) == NULL) {
		log_warnx("ctl_group %s: no such group", cf->ctl_group);
		return (gid_t)-1;
	}
	return gr->gr_gid;
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

	if (strcmp(db, ":memory:") != 0)
		daemon_mkdir_parent(db);
	if ((d->store = store_open(db, &why)) == NULL) {
		xasprintf(cause, "store %s: %s", db, why);
		free(why);
		return -1;
	}
	d->ctl = ctl_create(
	    d->loop, sock, daemon_ctl_group(d->config), ctl_cmd_table, d, &why);
	if (d->ctl == NULL) {
		xasprintf(cause, "control socket %s: %s", sock, why);
		free(why);
		return -1;
	}
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
	d->store_retry.data = d->purge.data = d->sweep.data = d;
}

/* Read the host's addresses (again) and lend them to jails v (ignoreself). */
static void
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

/* Commit what is left at stop; what cannot be is read again at start. */
static void
daemon_store_final(struct daemon *d)
{
	size_t i;

	if (d->nops > 0 && daemon_ops_commit(d) != 0) {
		log_warnx("store: %zu writes could not be committed at stop "
		          "(%s): their log lines will be read again",
		    d->nops, store_errmsg(d->store));
		for (i = 0; i < d->nops; i++)
			free(d->ops[i].path);
		d->nops = 0;
	}
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
	daemon_sources_create(d);
	daemon_arm_expiry(d);
	uv_timer_start(&d->purge, daemon_purge_cb, DAEMON_PURGE_FIRST_MS, 0);
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
	daemon_sources_free(d);
	if (d->store != NULL)
		daemon_store_final(d);
	ctl_free(d->ctl);
	metrics_free(d->metrics);
	for (i = 0; i < d->njails; i++)
		jail_actions_stop(d->jails[i]);
	uv_close((uv_handle_t *)&d->turn_end, daemon_close_cb);
	uv_close((uv_handle_t *)&d->expiry, daemon_close_cb);
	uv_close((uv_handle_t *)&d->sig_hup, daemon_close_cb);
	uv_close((uv_handle_t *)&d->sig_term, daemon_close_cb);
	uv_close((uv_handle_t *)&d->sig_int, daemon_close_cb);
	uv_close((uv_handle_t *)&d->store_retry, daemon_close_cb);
	uv_close((uv_handle_t *)&d->purge, daemon_close_cb);
	uv_close((uv_handle_t *)&d->sweep, daemon_close_cb);
	if (d->globs_on)
		uv_close((uv_handle_t *)&d->globs, daemon_close_cb);
	daemon_drain(d->loop);
	daemon_jails_free(d->jails, d->njails);
	daemon_drain(d->loop);
	store_close(d->store);
	banq_free(d->banq);
	free(d->pending);
	free(d->ops);
	free(d->ins);
	selfaddr_free(d->self);
	config_free(d->config);
	daemon_jails_free(d->retired_jails, d->nretired_jails);
	for (i = 0; i < d->nretired; i++)
		config_free(d->retired[i]);
	free(d->retired);
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

/* Two action configs that would do exactly the same thing. */
static int
daemon_action_same(const struct action_conf *a, const struct action_conf *b)
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
daemon_str_same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	       (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Whether jail n's actions can be the running ones of jail o. */
static int
daemon_actions_same(const struct jail *o, const struct jail *n)
{
	size_t i;

	if (o->nactions != n->nactions ||
	    !daemon_str_same(o->conf->port, n->conf->port) ||
	    !daemon_str_same(o->conf->protocol, n->conf->protocol))
		return 0;
	for (i = 0; i < o->nactions; i++) {
		if (!daemon_action_same(
		        o->actions[i]->conf, n->actions[i]->conf))
			return 0;
	}
	return 1;
}

/* Hand the running actions of o to n, dropping n's unstarted ones. */
static void
daemon_actions_move(struct jail *o, struct jail *n)
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

/* Move o's bans and counters into its successor n. */
static void
daemon_jail_succeed(struct jail *o, struct jail *n)
{
	struct addrmap *tmp = n->bans;

	n->bans = o->bans;
	o->bans = tmp;
	n->nprefixes = o->nprefixes;
	o->nprefixes = 0;
	n->stats = o->stats;
}

/* Lift every ban of a jail that the new config no longer has. */
static void
daemon_jail_retire(struct daemon *d, struct jail *o)
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

/*
 * Switch to the new jails: successors inherit bans and, when nothing about
 * them changed, the running actions; the rest are started and restored.
 */
static void
daemon_jails_swap(struct daemon *d, struct jail **v, size_t n)
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
			daemon_jail_retire(d, o);
			continue;
		}
		daemon_jail_succeed(o, nj);
		if (daemon_actions_same(o, nj))
			daemon_actions_move(o, nj);
		else {
			jail_actions_stop(o);
			started[k - 1] = 0;
		}
	}
	d->retired_jails = xreallocarray(d->retired_jails,
	    d->nretired_jails + d->njails, sizeof *d->retired_jails);
	for (i = 0; i < d->njails; i++)
		d->retired_jails[d->nretired_jails++] = d->jails[i];
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
daemon_banq_rebuild(struct daemon *d)
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
	struct config *cf;
	struct jail **v;
	size_t n;

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
	daemon_sources_free(d);
	daemon_jails_swap(d, v, n);
	d->retired =
	    xreallocarray(d->retired, d->nretired + 1, sizeof *d->retired);
	d->retired[d->nretired++] = d->config;
	d->config = cf;
	daemon_banq_rebuild(d);
	daemon_sources_create(d);
	log_info("reloaded: %zu jails, %zu sources", d->njails, d->nsources);
	service_notifyf(
	    "READY=1\nSTATUS=%zu jails, %zu sources", d->njails, d->nsources);
	return 0;
}
