/* daemon_store: the daemon's store writes, recorded and committed per turn. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon_private.h"
#include "fleet.h"
#include "jail.h"
#include "log.h"
#include "source.h"
#include "store.h"
#include "xmalloc.h"

#define DAEMON_RETRY_MS 1000 /* store writes kept after a failed commit */
#define DAEMON_PURGE_EVERY_MS (3600 * 1000)
#define DAEMON_PURGE_BATCH 500 /* rows per purge transaction */
#define DAEMON_PURGE_BATCHES 20 /* transactions per purge tick */
#define DAEMON_CHECK_MS 2000 /* is the database file still ours? */

/* Append a blank store write to this turn's record. */
static struct daemon_op *
daemon_store_op_add(struct daemon *d, enum daemon_op_kind kind)
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
void
daemon_store_op_insert(struct daemon *d, struct store_ban *b)
{
	struct daemon_op *op = daemon_store_op_add(d, DAEMON_OP_INSERT);

	if (d->next_temp >= 0)
		d->next_temp = -1;
	b->id = d->next_temp--;
	op->ban = *b;
}

/* Record a lift (by != NULL) or a change of end of ban id. */
void
daemon_store_op_update(
    struct daemon *d, int64_t id, time_t when, const char *by)
{
	struct daemon_op *op;

	op = daemon_store_op_add(
	    d, by != NULL ? DAEMON_OP_LIFT : DAEMON_OP_SET_END);
	op->id = id;
	op->when = when;
	if (by != NULL)
		snprintf(op->by, sizeof op->by, "%s", by);
}

static void
daemon_store_op_pos(struct daemon *d, const struct store_pos *pos)
{
	struct daemon_op *op = daemon_store_op_add(d, DAEMON_OP_POS);

	op->path = xstrdup(pos->path);
	op->inode = pos->inode;
	op->offset = pos->offset;
	op->headhash = pos->headhash;
}

/* The committed id of a temporary one, from this replay's inserts. */
static int64_t
daemon_store_op_resolve(struct daemon *d, size_t nins, int64_t id)
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
daemon_store_op_run(struct daemon *d, struct daemon_op *op, size_t *nins)
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
		    daemon_store_op_resolve(d, *nins, op->id), op->when,
		    op->by);
	case DAEMON_OP_SET_END:
		return store_ban_set_end(d->store,
		    daemon_store_op_resolve(d, *nins, op->id), op->when);
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
daemon_store_ops_settle(struct daemon *d, size_t nins)
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
 * Record every ban in memory as a new insert, and every position and
 * cursor as moved, dropping the writes kept so far: the store is new
 * and memory holds what is in force.
 */
static void
daemon_store_rewrite(struct daemon *d)
{
	struct store_ban sb;
	struct jail_ban **v;
	size_t i, k, n, nbans = 0;

	for (i = 0; i < d->nops; i++)
		free(d->ops[i].path);
	d->nops = 0;
	for (i = 0; i < d->njails; i++) {
		v = jail_ban_list(d->jails[i], &n);
		for (k = 0; k < n; k++, nbans++) {
			memset(&sb, 0, sizeof sb);
			snprintf(
			    sb.jail, sizeof sb.jail, "%s", d->jails[i]->name);
			sb.addr = v[k]->addr;
			sb.start = v[k]->start;
			sb.end = v[k]->end;
			sb.failures = v[k]->failures;
			snprintf(
			    sb.reason, sizeof sb.reason, "%s", v[k]->reason);
			daemon_store_op_insert(d, &sb);
			v[k]->id = sb.id;
		}
		free(v);
	}
	for (i = 0; i < d->nsources; i++)
		d->sources[i]->saved_offset = UINT64_MAX;
	for (i = 0; i < d->njournals; i++) {
		free(d->journals[i]->saved);
		d->journals[i]->saved = NULL;
	}
	daemon_store_positions_save(d);
	log_warnx("store: wrote %zu active bans back from memory", nbans);
}

/*
 * If the database file was deleted or replaced (or a directory now
 * stands at its path), writes would go to a file nobody will open
 * again.  Put the open database back at its path, or else a new one
 * filled from memory.  Returns -1 if the path could not be taken back.
 */
int
daemon_store_check(struct daemon *d)
{
	struct store *n;
	char *cause = NULL;
	int copied;

	if (!store_replaced(d->store))
		return 0;
	if (!d->store_lost)
		log_warnx("store: %s was deleted or replaced while jaild "
		          "runs: putting the database back",
		    store_path(d->store));
	if ((n = store_reopen(d->store, &copied, &cause)) == NULL) {
		if (!d->store_lost)
			log_warnx("store: cannot put it back (%s): writing "
			          "to the deleted file, retrying every %d ms",
			    cause, DAEMON_CHECK_MS);
		free(cause);
		d->store_lost = 1;
		return -1;
	}
	d->store = n;
	d->store_lost = 0;
	if (copied)
		log_warnx("store: %s is back, with every ban, position and "
		          "%zu writes still to commit",
		    store_path(d->store), d->nops);
	else {
		d->store_partial = 1;
		daemon_store_rewrite(d);
	}
	return 0;
}

static void
daemon_store_check_cb(uv_timer_t *h)
{
	struct daemon *d = h->data;

	if (daemon_store_check(d) == 0 && d->nops > 0 && !d->store_down)
		daemon_store_flush(d);
}

/* Start watching the database's path. */
void
daemon_store_watch(struct daemon *d)
{
	d->store_partial = store_fresh(d->store);
	uv_timer_start(&d->store_check, daemon_store_check_cb, DAEMON_CHECK_MS,
	    DAEMON_CHECK_MS);
}

/*
 * Replay the recorded writes in one transaction and commit.  A write
 * that fails alone (a lift of a ban already lifted) is logged and
 * skipped; a failed commit keeps every write for the next try.
 */
static int
daemon_store_ops_commit(struct daemon *d)
{
	size_t i, nins = 0, nfailed = 0;
	char first[256] = "";
	int fleet_rc;

	daemon_store_check(d);
	d->ins = xreallocarray(d->ins, d->nops + 1, sizeof *d->ins);
	if (store_begin(d->store) != 0)
		return -1;
	for (i = 0; i < d->nops; i++) {
		if (daemon_store_op_run(d, &d->ops[i], &nins) != 0 &&
		    nfailed++ == 0)
			snprintf(
			    first, sizeof first, "%s", store_errmsg(d->store));
	}
	fleet_rc = fleet_store_write(d->fleet, d->store);
	if (store_commit(d->store) != 0)
		return -1;
	if (fleet_rc == 0)
		fleet_store_done(d->fleet);
	if (nfailed > 0)
		log_warnx(
		    "store: %zu writes failed, the first: %s", nfailed, first);
	daemon_store_ops_settle(d, nins);
	return 0;
}

static void
daemon_store_retry_cb(uv_timer_t *h)
{
	struct daemon *d = h->data;
	size_t n = d->nops;

	if (daemon_store_ops_commit(d) != 0)
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
void
daemon_store_flush(struct daemon *d)
{
	if ((d->nops == 0 && !fleet_store_dirty(d->fleet)) || d->store_down)
		return;
	if (daemon_store_ops_commit(d) == 0)
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

/* Delete old history in small transactions; come back soon if more. */
void
daemon_store_purge_cb(uv_timer_t *h)
{
	struct daemon *d = h->data;
	time_t cutoff = time(NULL) - (time_t)d->config->dbpurgeage;
	uint64_t next = DAEMON_PURGE_EVERY_MS;
	int i, rc = DAEMON_PURGE_BATCH, total = 0;

	daemon_store_check(d); /* never purge a file that is gone */
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
	uv_timer_start(h, daemon_store_purge_cb, next, 0);
}

/* Record the position of every source that moved, for this turn's commit. */
void
daemon_store_positions_save(struct daemon *d)
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
		daemon_store_op_pos(d, &pos);
		ds->saved_offset = sp.offset;
		ds->saved_inode = sp.inode;
	}
}

/* Commit what is left at stop; what cannot be is read again at start. */
void
daemon_store_final(struct daemon *d)
{
	size_t i;

	if ((d->nops > 0 || fleet_store_dirty(d->fleet)) &&
	    daemon_store_ops_commit(d) != 0) {
		log_warnx("store: %zu writes could not be committed at stop "
		          "(%s): their log lines will be read again",
		    d->nops, store_errmsg(d->store));
		for (i = 0; i < d->nops; i++)
			free(d->ops[i].path);
		d->nops = 0;
	}
}
