/* The fleet: the loop's side of the link to the other servers. */
#include <sys/socket.h>
#include <sys/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "fleet.h"
#include "fleet_pg.h"
#include "fleet_store.h"
#include "jail.h"
#include "log.h"
#include "selfaddr.h"
#include "store.h"
#include "tracker.h"
#include "xmalloc.h"

#define FLEET_APPLY_MAX 10000 /* remote events applied per loop turn */

struct fleet {
	uv_loop_t *loop;
	struct daemon *d;
	char *node;
	int minprefix4, minprefix6;
	struct store *store;
	struct fleet_store *fs;
	struct fleet_pg *pg;
	uv_async_t bell;
	/* Local events of this turn, not yet in the outbox. */
	struct fleet_event *pending;
	size_t npending, cpending;
	int64_t cursor; /* the last remote id applied */
	int64_t cursor_saved; /* ... and committed with its bans */
	int64_t acked; /* the highest seq PostgreSQL has */
	int64_t acked_saved; /* ... and dropped from the outbox */
	int64_t handed; /* the highest seq given to the worker */
	struct fleet_stats st;
};

static uint64_t
fleet_now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

/* Parse and check a remote row's address: -1 and a reason if refused. */
static int
fleet_check_addr(const struct fleet *f, const struct fleet_event *e,
    struct addr *a, const char **why)
{
	int min;

	if (addr_parse(e->addr, a) != 0) {
		*why = "not an address or prefix";
		return -1;
	}
	min = a->family == AF_INET ? f->minprefix4 : f->minprefix6;
	if (a->prefixlen == 0 || (!addr_is_host(a) && a->prefixlen < min)) {
		*why = "prefix shorter than minprefix";
		return -1;
	}
	return 0;
}

/* True if a covers, or lies in, one of j's ignoreip or this host. */
static int
fleet_ignores(const struct jail *j, const struct addr *a)
{
	size_t i;

	if (jail_ignores(j, a))
		return 1;
	for (i = 0; i < j->conf->nignoreip; i++) {
		if (addr_contains(a, &j->conf->ignoreip[i]))
			return 1;
	}
	return j->ignoreself && selfaddr_covers(j->self, a);
}

/* Count a remote failure; ban here when the fleet's count reaches maxretry. */
static void
fleet_apply_failure(struct fleet *f, struct jail *j, const struct addr *a,
    const struct fleet_event *e)
{
	time_t now = time(NULL);
	int n;

	if (jail_ban_find(j, a) != NULL || jail_ignores(j, a))
		return;
	n = tracker_add(j->tracker, a, (time_t)e->start, now, "", 0);
	if (n < j->conf->maxretry)
		return;
	tracker_forget(j->tracker, a);
	daemon_ban(f->d, j, a, j->conf->bantime, n, "failures", NULL, NULL);
}

/* Apply one remote event of a shared jail. */
static void
fleet_apply_one(struct fleet *f, struct jail *j, const struct addr *a,
    const struct fleet_event *e)
{
	char by[32];

	switch (e->kind) {
	case FLEET_BAN:
		if (e->end != 0 && e->end <= time(NULL))
			return; /* over already */
		if (fleet_ignores(j, a)) {
			f->st.ignored++;
			log_info("fleet: ban of %s in %s from %s not applied: "
			         "it covers ignoreip or ignoreself here",
			    e->addr, j->name, e->node);
			return;
		}
		daemon_ban_remote(f->d, j, a, (time_t)e->end, e->failures,
		    e->reason, e->node);
		f->st.applied++;
		if (e->created_ms > 0)
			f->st.lag =
			    (double)((int64_t)fleet_now_ms() - e->created_ms) /
			    1000.0;
		break;
	case FLEET_UNBAN:
		snprintf(by, sizeof by, "fleet:%.25s", e->node);
		if (daemon_unban(f->d, j, a, by) == 0)
			f->st.applied++;
		break;
	case FLEET_FAILURE:
		if (fleet_conf_mode(j->conf) == FLEET_COUNT)
			fleet_apply_failure(f, j, a, e);
		break;
	}
}

/* Check a remote event and apply it if this node shares its jail. */
static void
fleet_apply(struct fleet *f, const struct fleet_event *e)
{
	char esc[128];
	const char *why = NULL;
	struct jail *j;
	struct addr a;

	f->cursor = e->id;
	if (strcmp(e->node, f->node) == 0)
		return; /* our own */
	f->st.received++;
	if (fleet_check_addr(f, e, &a, &why) != 0) {
		f->st.refused++;
		log_escape(e->addr, strlen(e->addr), esc, sizeof esc);
		log_warnx("fleet: event %lld from %s refused: \"%s\": %s",
		    (long long)e->id, e->node, esc, why);
		return;
	}
	j = daemon_jail_find(f->d, e->jail);
	if (j == NULL || fleet_conf_mode(j->conf) == FLEET_OFF)
		return; /* not shared here */
	fleet_apply_one(f, j, &a, e);
}

/* The worker rang: take acknowledgements and apply what arrived. */
static void
fleet_bell_cb(uv_async_t *h)
{
	struct fleet *f = h->data;
	struct fleet_event *v;
	int64_t acked;
	size_t n, i;
	int more;

	n = fleet_pg_take(f->pg, &v, FLEET_APPLY_MAX, &acked, &more);
	if (acked > f->acked) {
		f->st.sent += (uint64_t)(acked - f->acked);
		f->acked = acked;
	}
	for (i = 0; i < n; i++)
		fleet_apply(f, &v[i]);
	free(v);
	f->st.connected = fleet_pg_connected(f->pg);
	if (more)
		uv_async_send(&f->bell); /* the rest next turn */
}

void
fleet_publish(struct fleet *f, const struct jail *j, enum fleet_kind kind,
    const struct addr *a, time_t start, time_t end, int failures,
    const char *reason)
{
	enum fleet_mode m;
	struct fleet_event *e;

	if (f == NULL || (m = fleet_conf_mode(j->conf)) == FLEET_OFF ||
	    (kind == FLEET_FAILURE && m != FLEET_COUNT))
		return;
	if (f->npending == f->cpending) {
		f->cpending = f->cpending ? f->cpending * 2 : 64;
		f->pending =
		    xreallocarray(f->pending, f->cpending, sizeof *f->pending);
	}
	e = &f->pending[f->npending++];
	memset(e, 0, sizeof *e);
	e->kind = kind;
	snprintf(e->node, sizeof e->node, "%s", f->node);
	snprintf(e->jail, sizeof e->jail, "%s", j->name);
	addr_format(a, e->addr, sizeof e->addr);
	e->start = start;
	e->end = end;
	e->failures = failures;
	snprintf(e->reason, sizeof e->reason, "%s", reason ? reason : "");
}

int
fleet_store_dirty(const struct fleet *f)
{
	return f != NULL && (f->npending > 0 || f->cursor != f->cursor_saved ||
	                        f->acked > f->acked_saved);
}

/* Write the cursor, the new events and the acknowledged drops. */
int
fleet_store_write(struct fleet *f, struct store *st)
{
	char cur[32];
	size_t i;

	if (f == NULL)
		return 0;
	for (i = 0; i < f->npending; i++) {
		if (fleet_store_outbox_add(f->fs, &f->pending[i]) != 0)
			return -1;
	}
	if (f->acked > f->acked_saved &&
	    fleet_store_outbox_drop(f->fs, f->acked) != 0)
		return -1;
	if (f->cursor != f->cursor_saved) {
		snprintf(cur, sizeof cur, "%lld", (long long)f->cursor);
		if (store_cursor_save(st, "fleet", cur) != 0)
			return -1;
	}
	return 0;
}

/* After the commit: hand the new events to the worker. */
void
fleet_store_done(struct fleet *f)
{
	if (f == NULL)
		return;
	if (f->npending > 0) {
		fleet_pg_send(f->pg, f->pending, f->npending);
		if (f->handed == 0)
			f->acked = f->acked_saved = f->pending[0].id - 1;
		f->handed = f->pending[f->npending - 1].id;
		f->npending = 0;
	}
	f->acked_saved = f->acked;
	f->cursor_saved = f->cursor;
	fleet_pg_applied(f->pg, f->cursor);
}

/* Read the cursor and the epoch (made once per database) from the store. */
static int
fleet_load_state(struct fleet *f, char **epoch, char **cause)
{
	char *cur;
	uint32_t r[2];

	cur = store_cursor_load(f->store, "fleet");
	f->cursor = f->cursor_saved = cur != NULL ? strtoll(cur, NULL, 10) : 0;
	free(cur);
	*epoch = store_cursor_load(f->store, "fleet.epoch");
	if (*epoch != NULL)
		return 0;
	/*
	 * The outbox's seq starts again in a new database: the epoch keeps
	 * its events apart from those an earlier database sent as this node.
	 */
	r[0] = arc4random();
	r[1] = arc4random();
	xasprintf(epoch, "%08x%08x", r[0], r[1]);
	if (store_begin(f->store) != 0 ||
	    store_cursor_save(f->store, "fleet.epoch", *epoch) != 0 ||
	    store_commit(f->store) != 0) {
		xasprintf(cause, "store: %s", store_errmsg(f->store));
		free(*epoch);
		*epoch = NULL;
		return -1;
	}
	return 0;
}

/* Give the worker what the outbox kept from before (a restart). */
static int
fleet_load_outbox(struct fleet *f, char **cause)
{
	struct fleet_event *v;
	size_t n, i;

	if (fleet_store_outbox_load(f->fs, &v, &n) != 0) {
		xasprintf(cause, "%s", fleet_store_errmsg(f->fs));
		return -1;
	}
	for (i = 0; i < n; i++)
		snprintf(v[i].node, sizeof v[i].node, "%s", f->node);
	if (n > 0) {
		f->acked = f->acked_saved = v[0].id - 1;
		f->handed = v[n - 1].id;
		fleet_pg_send(f->pg, v, n);
		log_info("fleet: %zu events from before wait to be sent", n);
	}
	free(v);
	return 0;
}

struct fleet *
fleet_create(uv_loop_t *loop, struct daemon *d, const struct fleet_conf *fc,
    struct store *st, char **cause)
{
	struct fleet *f = xcalloc(1, sizeof *f);
	char *epoch = NULL;

	f->loop = loop;
	f->d = d;
	f->node = xstrdup(fc->node);
	f->minprefix4 = fc->minprefix4;
	f->minprefix6 = fc->minprefix6;
	f->store = st;
	uv_async_init(loop, &f->bell, fleet_bell_cb);
	f->bell.data = f;
	if ((f->fs = fleet_store_open(st, cause)) == NULL ||
	    fleet_load_state(f, &epoch, cause) != 0)
		goto fail;
	f->pg =
	    fleet_pg_start(fc->url, f->node, epoch, f->cursor, &f->bell, cause);
	free(epoch);
	if (f->pg == NULL || fleet_load_outbox(f, cause) != 0)
		goto fail;
	return f;
fail:
	fleet_free(f);
	return NULL;
}

static void
fleet_close_cb(uv_handle_t *h)
{
	free(h->data);
}

void
fleet_free(struct fleet *f)
{
	if (f == NULL)
		return;
	fleet_pg_stop(f->pg);
	fleet_store_close(f->fs);
	free(f->pending);
	free(f->node);
	/* The handle is closed on the loop; f goes with it. */
	uv_close((uv_handle_t *)&f->bell, fleet_close_cb);
}

void
fleet_stats(const struct fleet *f, struct fleet_stats *out)
{
	*out = f->st;
	out->connected = fleet_pg_connected(f->pg);
	out->queued =
	    (size_t)(f->handed > f->acked ? f->handed - f->acked : 0) +
	    f->npending;
	out->cursor = f->cursor;
}

json_t *
fleet_json(const struct fleet *f)
{
	struct fleet_stats s;

	fleet_stats(f, &s);
	return json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, "
	                 "s:o}",
	    "node", f->node, "connected", s.connected, "queued",
	    (json_int_t)s.queued, "sent", (json_int_t)s.sent, "received",
	    (json_int_t)s.received, "applied", (json_int_t)s.applied, "refused",
	    (json_int_t)s.refused, "ignored", (json_int_t)s.ignored, "cursor",
	    (json_int_t)s.cursor, "lag", s.lag, "nodes", fleet_pg_nodes(f->pg));
}

/* The jaild_fleet_* metrics (nothing without a fleet). */
void
fleet_metrics_render(FILE *out, const struct fleet *f)
{
	struct fleet_stats s;

	if (f == NULL)
		return;
	fleet_stats(f, &s);
	fprintf(out,
	    "# HELP jaild_fleet_connected 1 while PostgreSQL is reachable.\n"
	    "# TYPE jaild_fleet_connected gauge\njaild_fleet_connected %d\n"
	    "# HELP jaild_fleet_lag_seconds From a remote event's insert to "
	    "its application here (the last one).\n"
	    "# TYPE jaild_fleet_lag_seconds gauge\n"
	    "jaild_fleet_lag_seconds %.3f\n"
	    "# HELP jaild_fleet_events_sent_total Events PostgreSQL "
	    "acknowledged.\n# TYPE jaild_fleet_events_sent_total counter\n"
	    "jaild_fleet_events_sent_total %llu\n"
	    "# HELP jaild_fleet_events_received_total Remote events read.\n"
	    "# TYPE jaild_fleet_events_received_total counter\n"
	    "jaild_fleet_events_received_total %llu\n"
	    "# HELP jaild_fleet_events_refused_total Remote events refused "
	    "(bad address, prefix too short).\n"
	    "# TYPE jaild_fleet_events_refused_total counter\n"
	    "jaild_fleet_events_refused_total %llu\n"
	    "# HELP jaild_fleet_bans_ignored_total Remote bans not applied: "
	    "they cover ignoreip or ignoreself here.\n"
	    "# TYPE jaild_fleet_bans_ignored_total counter\n"
	    "jaild_fleet_bans_ignored_total %llu\n"
	    "# HELP jaild_fleet_queue_length Events waiting to be sent.\n"
	    "# TYPE jaild_fleet_queue_length gauge\n"
	    "jaild_fleet_queue_length %zu\n",
	    s.connected, s.lag, (unsigned long long)s.sent,
	    (unsigned long long)s.received, (unsigned long long)s.refused,
	    (unsigned long long)s.ignored, s.queued);
}
