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
#include "config.h"
#include "ctl.h"
#include "ctl_cmd.h"
#include "daemon.h"
#include "duration.h"
#include "log.h"
#include "xmalloc.h"

#define DAEMON_DRAIN_SECONDS 70

/* One followed file and the jails that read it. */
struct daemon_source {
	struct daemon *d;
	char *path;
	struct source *src;
	struct jail **jails;
	size_t njails;
	uint64_t saved_offset;
	uint64_t saved_inode;
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
	uv_timer_t expiry;
	uv_prepare_t turn_end;
	uv_signal_t sig_hup, sig_term, sig_int;
	time_t started;
	int stopping;
};

static void daemon_arm_expiry(struct daemon *);
static void daemon_sources_create(struct daemon *);

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
			    cf->jails[i]->line, "jail %s: %s", cf->jails[i]->name,
			    cause);
			free(cause);
			continue;
		}
		(*n)++;
	}
	return v;
}

static void
daemon_jails_free(struct jail **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		jail_free(v[i]);
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
		d->pending = xreallocarray(d->pending, d->cpending,
		    sizeof *d->pending);
	}
	p = &d->pending[d->npending++];
	p->jail = j;
	p->ban = *b;
	p->unban = unban;
	p->matches = matches != NULL ? xstrdup(matches) : NULL;
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
		if (sp.offset == ds->saved_offset && sp.inode == ds->saved_inode)
			continue;
		memset(&pos, 0, sizeof pos);
		snprintf(pos.path, sizeof pos.path, "%s", ds->path);
		pos.inode = sp.inode;
		pos.offset = sp.offset;
		pos.headhash = sp.headhash;
		store_begin(d->store);
		if (store_pos_save(d->store, &pos) == 0) {
			ds->saved_offset = sp.offset;
			ds->saved_inode = sp.inode;
		}
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
	if (store_commit(d->store) != 0)
		log_warnx("store: commit failed: %s", store_errmsg(d->store));
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

const struct jail_ban *
daemon_ban(struct daemon *d, struct jail *j, const struct addr *a,
    int64_t bantime, int failures, const char *reason, const char *matches,
    char **cause)
{
	struct jail_ban nb, *b;
	char text[ADDR_STRLEN], dur[32];
	time_t now = time(NULL);

	memset(&nb, 0, sizeof nb);
	nb.addr = *a;
	nb.start = now;
	nb.end = bantime == DURATION_FOREVER ? 0 : now + bantime;
	nb.failures = failures;
	snprintf(nb.reason, sizeof nb.reason, "%s", reason);
	store_begin(d->store);
	if ((b = jail_ban_get(j, a)) != NULL) {
		b->end = nb.end;
		if (store_ban_set_end(d->store, b->id, b->end) != 0)
			log_warnx("store: %s", store_errmsg(d->store));
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
		if (store_ban_insert(d->store, &sb) != 0) {
			xasprintf(cause, "store: %s", store_errmsg(d->store));
			return NULL;
		}
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
	return b;
}

int
daemon_unban(struct daemon *d, struct jail *j, const struct addr *a,
    const char *by)
{
	struct jail_ban *b;
	char text[ADDR_STRLEN];

	if ((b = jail_ban_get(j, a)) == NULL)
		return -1;
	store_begin(d->store);
	if (store_ban_lift(d->store, b->id, time(NULL), by) != 0)
		log_warnx("store: %s", store_errmsg(d->store));
	daemon_pending_add(d, j, b, 1, NULL);
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
	uv_timer_start(&d->expiry, daemon_expiry_cb, when > now ? when - now : 0,
	    0);
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
			copy = xstrndup(line, len);
			if (daemon_ban(ds->d, j, &ev.addr, j->conf->bantime,
			    ev.failures, "failures", copy, &cause) == NULL) {
				log_warnx("jail %s: %s", j->name, cause);
				free(cause);
				cause = NULL;
			}
			free(copy);
			break;
		case JAIL_SATURATION:
			log_info("jail %s: saturation signal (%llu seen)",
			    j->name, (unsigned long long)j->stats.sat_count);
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
	d->sources = xreallocarray(d->sources, d->nsources + 1,
	    sizeof *d->sources);
	d->sources[d->nsources++] = ds;
	return ds;
}

static void
daemon_source_attach(struct daemon *d, const char *path, struct jail *j)
{
	struct daemon_source *ds = daemon_source_get(d, path);

	ds->jails = xreallocarray(ds->jails, ds->njails + 1,
	    sizeof *ds->jails);
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

	for (i = 0; i < d->njails; i++)
		daemon_jail_attach(d, d->jails[i]);
	for (i = 0; i < d->nsources; i++)
		daemon_source_start(d, d->sources[i]);
}

static void
daemon_sources_free(struct daemon *d)
{
	size_t i;

	daemon_positions_save(d);
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
		ra->expired = xreallocarray(ra->expired, ra->nexpired + 1,
		    sizeof *ra->expired);
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
	struct daemon_restore_arg ra = { d, time(NULL), NULL, 0 };
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
daemon_actions_start(struct daemon *d, struct jail **v, size_t n,
    char **cause)
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
	struct conf_errors errs = { NULL, 0 };
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
	const char *sock = d->opts.socket_path ? d->opts.socket_path :
	    d->config->socket_path;
	char *why = NULL;

	if (strcmp(db, ":memory:") != 0)
		daemon_mkdir_parent(db);
	if ((d->store = store_open(db, &why)) == NULL) {
		xasprintf(cause, "store %s: %s", db, why);
		free(why);
		return -1;
	}
	d->ctl = ctl_create(d->loop, sock, daemon_ctl_group(d->config),
	    ctl_cmd_table, d, &why);
	if (d->ctl == NULL) {
		xasprintf(cause, "control socket %s: %s", sock, why);
		free(why);
		return -1;
	}
	return 0;
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
	if (daemon_open(d, cause) != 0 || daemon_restore(d, cause) != 0)
		goto fail;
	if (daemon_actions_start(d, d->jails, d->njails, cause) != 0)
		goto fail;
	daemon_sources_create(d);
	daemon_arm_expiry(d);
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
	uv_timer_start(&watchdog, daemon_drain_timeout_cb,
	    DAEMON_DRAIN_SECONDS * 1000, 0);
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
	ctl_free(d->ctl);
	for (i = 0; i < d->njails; i++)
		jail_actions_stop(d->jails[i]);
	uv_close((uv_handle_t *)&d->turn_end, daemon_close_cb);
	uv_close((uv_handle_t *)&d->expiry, daemon_close_cb);
	uv_close((uv_handle_t *)&d->sig_hup, daemon_close_cb);
	uv_close((uv_handle_t *)&d->sig_term, daemon_close_cb);
	uv_close((uv_handle_t *)&d->sig_int, daemon_close_cb);
	daemon_drain(d->loop);
	daemon_jails_free(d->jails, d->njails);
	daemon_drain(d->loop);
	store_close(d->store);
	banq_free(d->banq);
	free(d->pending);
	config_free(d->config);
	daemon_jails_free(d->retired_jails, d->nretired_jails);
	for (i = 0; i < d->nretired; i++)
		config_free(d->retired[i]);
	free(d->retired);
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
		if (!daemon_action_same(o->actions[i]->conf,
		    n->actions[i]->conf))
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

	if ((cf = config_load(d->opts.confdir, errs)) == NULL)
		return -1;
	v = daemon_jails_build(d->loop, cf, &n, errs);
	if (errs->n > 0) {
		daemon_jails_free(v, n);
		config_free(cf);
		return -1;
	}
	daemon_turn_flush(d);
	daemon_sources_free(d);
	daemon_jails_swap(d, v, n);
	d->retired = xreallocarray(d->retired, d->nretired + 1,
	    sizeof *d->retired);
	d->retired[d->nretired++] = d->config;
	d->config = cf;
	daemon_banq_rebuild(d);
	daemon_sources_create(d);
	log_info("reloaded: %zu jails, %zu sources", d->njails, d->nsources);
	return 0;
}
