/* fleet_pg: the fleet's worker thread, the only code that talks to libpq. */
#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_LIBPQ
#include <libpq-fe.h>
#endif

#include "fleet_pg.h"
#include "log.h"
#include "xmalloc.h"

#ifdef HAVE_LIBPQ

#define FLEET_PG_BEAT_MS 2000 /* last_seen and a safety catch-up */
#define FLEET_PG_NODES_BEATS 5 /* read the node list every 5th beat */
#define FLEET_PG_RETRY_MS 1000 /* between connection attempts */
#define FLEET_PG_FETCH 10000 /* rows per catch-up query */
#define FLEET_PG_BACKLOG 50000 /* received events the loop has not taken */
#define FLEET_PG_SEND_MAX 5000 /* events per insert */
#define FLEET_PG_PURGE_MS (3600 * 1000)
#define FLEET_PG_KEEP 86400 /* seconds a row is kept after it ended */
#define FLEET_PG_LOCK "7587365523" /* the writers' advisory lock */
#define FLEET_PG_SCHEMA 1

/*
 * The schema, one entry per version, run under the advisory lock.  Append
 * only.  Ids are handed out and committed under FLEET_PG_LOCK, so a reader
 * that has seen id N has seen every id below it: "after the last id" is
 * a complete catch-up.
 */
static const char *const fleet_pg_migrations[FLEET_PG_SCHEMA] = {
    "CREATE TABLE jaild_events (id bigserial PRIMARY KEY, "
    "created timestamptz NOT NULL DEFAULT clock_timestamp(), "
    "node text NOT NULL, epoch text NOT NULL, seq bigint NOT NULL, "
    "kind text NOT NULL CHECK (kind IN ('ban', 'unban', 'failure')), "
    "jail text NOT NULL, addr text NOT NULL, start_at bigint NOT NULL, "
    "end_at bigint NOT NULL DEFAULT 0, failures int NOT NULL DEFAULT 0, "
    "reason text NOT NULL DEFAULT '', expires bigint, "
    "UNIQUE (node, epoch, seq));"
    "CREATE INDEX jaild_events_expires ON jaild_events (expires);"
    "CREATE INDEX jaild_events_addr ON jaild_events (jail, addr);"
    "CREATE TABLE jaild_nodes (node text PRIMARY KEY, "
    "last_seen timestamptz NOT NULL, applied bigint NOT NULL DEFAULT 0, "
    "queued bigint NOT NULL DEFAULT 0);",
};

struct fleet_pg {
	char *url, *node, *epoch;
	uv_async_t *bell;
	pthread_t thread;
	int wake[2]; /* the loop writes a byte to wake the worker */
	pthread_mutex_t mu;
	/* Shared, under mu. */
	int stop;
	struct fleet_event *out; /* to send, seq ascending */
	size_t nout, cout;
	struct fleet_event *in; /* received, not yet taken */
	size_t nin, cin, in_off;
	int64_t acked;
	int64_t applied;
	int connected;
	json_t *nodes;
	/* The worker's own. */
	PGconn *conn;
	int64_t cursor; /* the last id fetched */
	int catchup;
	int down_logged;
	time_t down_since;
	uint64_t next_beat, next_purge;
	unsigned beats;
};

/* A growing string, for array literals. */
struct fleet_pg_buf {
	char *s;
	size_t n, c;
};

static uint64_t
fleet_pg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
fleet_pg_buf_add(struct fleet_pg_buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->c) {
		b->c = (b->n + n + 1) * 2;
		b->s = xreallocarray(b->s, b->c, 1);
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

/* Append one quoted element of a PostgreSQL array literal. */
static void
fleet_pg_buf_elem(struct fleet_pg_buf *b, const char *s)
{
	fleet_pg_buf_add(b, b->n > 1 ? ",\"" : "\"", b->n > 1 ? 2 : 1);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fleet_pg_buf_add(b, "\\", 1);
		fleet_pg_buf_add(b, s, 1);
	}
	fleet_pg_buf_add(b, "\"", 1);
}

static void
fleet_pg_buf_int(struct fleet_pg_buf *b, int64_t v)
{
	char num[32];

	snprintf(num, sizeof num, "%lld", (long long)v);
	fleet_pg_buf_elem(b, num);
}

static const char *
fleet_pg_kind_name(enum fleet_kind k)
{
	return k == FLEET_BAN ? "ban" : k == FLEET_UNBAN ? "unban" : "failure";
}

/* libpq's last error on one line (it ends in, and may hold, newlines). */
static const char *
fleet_pg_error(struct fleet_pg *pg)
{
	static __thread char buf[512];
	const char *m = pg->conn != NULL ? PQerrorMessage(pg->conn) : "";
	size_t i, n = 0;

	for (i = 0; m[i] != '\0' && n + 1 < sizeof buf; i++) {
		if (m[i] == '\n' || m[i] == '\t' || m[i] == '\r') {
			if (n > 0 && buf[n - 1] != ' ')
				buf[n++] = ' ';
		} else
			buf[n++] = m[i];
	}
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
	return buf;
}

/* Run sql; 0 if it returned status want. */
static int
fleet_pg_exec(struct fleet_pg *pg, const char *sql, ExecStatusType want)
{
	PGresult *r = PQexec(pg->conn, sql);
	int rc = PQresultStatus(r) == want ? 0 : -1;

	if (rc != 0 && PQstatus(pg->conn) == CONNECTION_OK)
		log_warnx("fleet: %s", fleet_pg_error(pg));
	PQclear(r);
	return rc;
}

/* Create or migrate the schema, under the writers' lock. */
static int
fleet_pg_migrate(struct fleet_pg *pg)
{
	PGresult *r;
	char sql[128];
	int v, i;

	if (fleet_pg_exec(pg,
	        "BEGIN; SELECT pg_advisory_xact_lock(" FLEET_PG_LOCK ");"
	        "CREATE TABLE IF NOT EXISTS jaild_schema (version int NOT "
	        "NULL)",
	        PGRES_COMMAND_OK) != 0)
		return -1;
	r = PQexec(pg->conn, "SELECT coalesce(max(version), 0) FROM "
	                     "jaild_schema");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		return -1;
	}
	v = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	if (v > FLEET_PG_SCHEMA) {
		log_warnx("fleet: the database has schema version %d, newer "
		          "than this jaild's %d: upgrade jaild",
		    v, FLEET_PG_SCHEMA);
		return -1;
	}
	for (i = v; i < FLEET_PG_SCHEMA; i++) {
		if (fleet_pg_exec(
		        pg, fleet_pg_migrations[i], PGRES_COMMAND_OK) != 0)
			return -1;
	}
	snprintf(sql, sizeof sql,
	    "DELETE FROM jaild_schema; INSERT INTO jaild_schema VALUES (%d);"
	    "COMMIT",
	    FLEET_PG_SCHEMA);
	if (fleet_pg_exec(pg, sql, PGRES_COMMAND_OK) != 0)
		return -1;
	if (v < FLEET_PG_SCHEMA)
		log_info("fleet: database schema %d created or migrated from "
		         "%d",
		    FLEET_PG_SCHEMA, v);
	return 0;
}

static void
fleet_pg_set_connected(struct fleet_pg *pg, int on)
{
	pthread_mutex_lock(&pg->mu);
	pg->connected = on;
	pthread_mutex_unlock(&pg->mu);
	uv_async_send(pg->bell);
}

/*
 * Connect.  Short network timeouts come first in the parameter list, so
 * the url's own win; they bound how long a dead peer can hold the worker.
 */
static int
fleet_pg_connect(struct fleet_pg *pg)
{
	static const char *const keys[] = {"connect_timeout", "keepalives_idle",
	    "keepalives_interval", "keepalives_count", "tcp_user_timeout",
	    "application_name", "dbname", NULL};
	const char *vals[] = {
	    "5", "5", "2", "3", "10000", "jaild", pg->url, NULL};
	size_t nq;

	pg->conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(pg->conn) != CONNECTION_OK ||
	    PQsetnonblocking(pg->conn, 0) != 0 || fleet_pg_migrate(pg) != 0 ||
	    fleet_pg_exec(pg, "LISTEN jaild_fleet", PGRES_COMMAND_OK) != 0) {
		if (!pg->down_logged) {
			log_warnx("fleet: cannot reach PostgreSQL: %s; banning "
			          "goes on here and events are queued",
			    fleet_pg_error(pg));
			pg->down_logged = 1;
			pg->down_since = time(NULL);
		}
		PQfinish(pg->conn);
		pg->conn = NULL;
		return -1;
	}
	pthread_mutex_lock(&pg->mu);
	nq = pg->nout;
	pthread_mutex_unlock(&pg->mu);
	if (pg->down_logged)
		log_info("fleet: PostgreSQL reachable again after %lld s; "
		         "sending %zu queued events",
		    (long long)(time(NULL) - pg->down_since), nq);
	else
		log_info("fleet: connected as node %s", pg->node);
	pg->down_logged = 0;
	pg->catchup = 1;
	pg->next_beat = 0;
	fleet_pg_set_connected(pg, 1);
	return 0;
}

/* The connection broke: drop it, say so once, retry later. */
static void
fleet_pg_lost(struct fleet_pg *pg)
{
	if (!pg->down_logged) {
		log_warnx("fleet: lost PostgreSQL: %s; banning goes on here "
		          "and events are queued",
		    fleet_pg_error(pg));
		pg->down_logged = 1;
		pg->down_since = time(NULL);
	}
	PQfinish(pg->conn);
	pg->conn = NULL;
	fleet_pg_set_connected(pg, 0);
}

/* Fill the eight array literals of events v[0..n). */
static void
fleet_pg_arrays(const struct fleet_event *v, size_t n, struct fleet_pg_buf *a)
{
	size_t i, k;

	for (k = 0; k < 8; k++)
		fleet_pg_buf_add(&a[k], "{", 1);
	for (i = 0; i < n; i++) {
		fleet_pg_buf_int(&a[0], v[i].id);
		fleet_pg_buf_elem(&a[1], fleet_pg_kind_name(v[i].kind));
		fleet_pg_buf_elem(&a[2], v[i].jail);
		fleet_pg_buf_elem(&a[3], v[i].addr);
		fleet_pg_buf_int(&a[4], v[i].start);
		fleet_pg_buf_int(&a[5], v[i].end);
		fleet_pg_buf_int(&a[6], v[i].failures);
		fleet_pg_buf_elem(&a[7], v[i].reason);
	}
	for (k = 0; k < 8; k++)
		fleet_pg_buf_add(&a[k], "}", 1);
}

/*
 * Insert events v[0..n) in one transaction.  (node, epoch, seq) is
 * unique: an event sent again after a lost acknowledgement is dropped
 * by ON CONFLICT, so each is in the table exactly once.
 */
static int
fleet_pg_insert(struct fleet_pg *pg, const struct fleet_event *v, size_t n)
{
	static const char sql[] =
	    "INSERT INTO jaild_events (node, epoch, seq, kind, jail, addr, "
	    "start_at, end_at, failures, reason, expires) "
	    "SELECT $1, $2, s, k, j, a, st, en, f, r, CASE k WHEN 'ban' THEN "
	    "nullif(en, 0) WHEN 'failure' THEN st + 86400 ELSE st END "
	    "FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[], "
	    "$7::bigint[], $8::bigint[], $9::int[], $10::text[]) "
	    "AS u(s, k, j, a, st, en, f, r) ORDER BY s "
	    "ON CONFLICT (node, epoch, seq) DO NOTHING";
	struct fleet_pg_buf a[8];
	const char *params[10];
	PGresult *r;
	size_t k;
	int rc;

	memset(a, 0, sizeof a);
	fleet_pg_arrays(v, n, a);
	params[0] = pg->node;
	params[1] = pg->epoch;
	for (k = 0; k < 8; k++)
		params[2 + k] = a[k].s;
	rc = fleet_pg_exec(pg,
	    "BEGIN; SELECT pg_advisory_xact_lock(" FLEET_PG_LOCK ")",
	    PGRES_TUPLES_OK);
	if (rc == 0) {
		r = PQexecParams(
		    pg->conn, sql, 10, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			log_warnx("fleet: insert: %s", fleet_pg_error(pg));
			rc = -1;
		}
		PQclear(r);
	}
	if (rc == 0)
		rc = fleet_pg_exec(
		    pg, "NOTIFY jaild_fleet; COMMIT", PGRES_COMMAND_OK);
	for (k = 0; k < 8; k++)
		free(a[k].s);
	return rc;
}

/* Send what is queued, FLEET_PG_SEND_MAX events per transaction. */
static int
fleet_pg_flush_out(struct fleet_pg *pg)
{
	struct fleet_event *v;
	size_t n;

	for (;;) {
		pthread_mutex_lock(&pg->mu);
		n = pg->nout < FLEET_PG_SEND_MAX ? pg->nout : FLEET_PG_SEND_MAX;
		v = n > 0 ? xreallocarray(NULL, n, sizeof *v) : NULL;
		if (n > 0)
			memcpy(v, pg->out, n * sizeof *v);
		pthread_mutex_unlock(&pg->mu);
		if (n == 0)
			return 0;
		if (fleet_pg_insert(pg, v, n) != 0) {
			free(v);
			return -1;
		}
		pthread_mutex_lock(&pg->mu);
		memmove(pg->out, pg->out + n, (pg->nout - n) * sizeof *v);
		pg->nout -= n;
		pg->acked = v[n - 1].id;
		pthread_mutex_unlock(&pg->mu);
		free(v);
		uv_async_send(pg->bell);
	}
}

/* Copy one fetched row into e; -1 if a field does not fit. */
static int
fleet_pg_row(PGresult *r, int i, struct fleet_event *e)
{
	const char *kind = PQgetvalue(r, i, 2);

	memset(e, 0, sizeof *e);
	e->id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
	e->kind = strcmp(kind, "ban") == 0     ? FLEET_BAN
	          : strcmp(kind, "unban") == 0 ? FLEET_UNBAN
	                                       : FLEET_FAILURE;
	if (snprintf(e->node, sizeof e->node, "%s", PQgetvalue(r, i, 1)) >=
	        (int)sizeof e->node ||
	    snprintf(e->jail, sizeof e->jail, "%s", PQgetvalue(r, i, 3)) >=
	        (int)sizeof e->jail ||
	    snprintf(e->addr, sizeof e->addr, "%s", PQgetvalue(r, i, 4)) >=
	        (int)sizeof e->addr)
		e->addr[0] = '\0'; /* refused by the loop as invalid */
	e->start = strtoll(PQgetvalue(r, i, 5), NULL, 10);
	e->end = strtoll(PQgetvalue(r, i, 6), NULL, 10);
	e->failures = atoi(PQgetvalue(r, i, 7));
	snprintf(e->reason, sizeof e->reason, "%s", PQgetvalue(r, i, 8));
	e->created_ms = strtoll(PQgetvalue(r, i, 9), NULL, 10);
	return 0;
}

/* Append the rows of r to the received events and ring the bell. */
static void
fleet_pg_received(struct fleet_pg *pg, PGresult *r)
{
	int i, n = PQntuples(r);

	pthread_mutex_lock(&pg->mu);
	if (pg->nin + (size_t)n > pg->cin) {
		pg->cin = (pg->nin + (size_t)n) * 2;
		pg->in = xreallocarray(pg->in, pg->cin, sizeof *pg->in);
	}
	for (i = 0; i < n; i++)
		fleet_pg_row(r, i, &pg->in[pg->nin++]);
	pthread_mutex_unlock(&pg->mu);
	uv_async_send(pg->bell);
}

/* Fetch every event after the cursor, while the loop keeps up. */
static int
fleet_pg_catchup(struct fleet_pg *pg)
{
	static const char sql[] =
	    "SELECT id, node, kind, jail, addr, start_at, end_at, failures, "
	    "reason, (extract(epoch FROM created) * 1000)::bigint "
	    "FROM jaild_events WHERE id > $1 ORDER BY id LIMIT 10000";
	char cur[32];
	const char *params[1] = {cur};
	PGresult *r;
	size_t backlog;
	int n;

	while (pg->catchup) {
		pthread_mutex_lock(&pg->mu);
		backlog = pg->nin - pg->in_off;
		pthread_mutex_unlock(&pg->mu);
		if (backlog >= FLEET_PG_BACKLOG)
			return 0; /* the loop wakes us when it took them */
		snprintf(cur, sizeof cur, "%lld", (long long)pg->cursor);
		r = PQexecParams(pg->conn, sql, 1, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			PQclear(r);
			return -1;
		}
		n = PQntuples(r);
		if (n > 0) {
			pg->cursor = strtoll(PQgetvalue(r, n - 1, 0), NULL, 10);
			fleet_pg_received(pg, r);
		}
		PQclear(r);
		if (n < FLEET_PG_FETCH)
			pg->catchup = 0;
	}
	return 0;
}

/* Read the node list into pg->nodes. */
static int
fleet_pg_read_nodes(struct fleet_pg *pg)
{
	PGresult *r;
	json_t *a;
	int i;

	r = PQexec(pg->conn,
	    "SELECT node, extract(epoch FROM last_seen)::bigint, applied, "
	    "queued, (SELECT coalesce(max(id), 0) FROM jaild_events) "
	    "FROM jaild_nodes ORDER BY node");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		return -1;
	}
	a = json_array();
	for (i = 0; i < PQntuples(r); i++)
		json_array_append_new(a,
		    json_pack("{s:s, s:I, s:I, s:I, s:I}", "node",
		        PQgetvalue(r, i, 0), "last_seen",
		        (json_int_t)strtoll(PQgetvalue(r, i, 1), NULL, 10),
		        "applied",
		        (json_int_t)strtoll(PQgetvalue(r, i, 2), NULL, 10),
		        "queued",
		        (json_int_t)strtoll(PQgetvalue(r, i, 3), NULL, 10),
		        "behind",
		        (json_int_t)(strtoll(PQgetvalue(r, i, 4), NULL, 10) -
		                     strtoll(PQgetvalue(r, i, 2), NULL, 10))));
	PQclear(r);
	pthread_mutex_lock(&pg->mu);
	json_decref(pg->nodes);
	pg->nodes = a;
	pthread_mutex_unlock(&pg->mu);
	return 0;
}

/* Delete rows that ended FLEET_PG_KEEP ago, and the bans an unban lifted. */
static int
fleet_pg_purge(struct fleet_pg *pg)
{
	char sql[512];
	long long cutoff = (long long)time(NULL) - FLEET_PG_KEEP;

	snprintf(sql, sizeof sql,
	    "DELETE FROM jaild_events b USING jaild_events u WHERE "
	    "b.kind = 'ban' AND u.kind = 'unban' AND u.jail = b.jail AND "
	    "u.addr = b.addr AND u.id > b.id AND u.expires < %lld;"
	    "DELETE FROM jaild_events WHERE expires < %lld",
	    cutoff, cutoff);
	return fleet_pg_exec(pg, sql, PGRES_COMMAND_OK);
}

/* Every FLEET_PG_BEAT_MS: say we live, read the nodes, look for events. */
static int
fleet_pg_beat(struct fleet_pg *pg)
{
	static const char sql[] =
	    "INSERT INTO jaild_nodes (node, last_seen, applied, queued) "
	    "VALUES ($1, now(), $2, $3) ON CONFLICT (node) DO UPDATE SET "
	    "last_seen = now(), applied = excluded.applied, "
	    "queued = excluded.queued";
	char applied[32], queued[32];
	const char *params[3] = {pg->node, applied, queued};
	uint64_t now = fleet_pg_now_ms();
	PGresult *r;
	int ok;

	if (now < pg->next_beat)
		return 0;
	pg->next_beat = now + FLEET_PG_BEAT_MS;
	pthread_mutex_lock(&pg->mu);
	snprintf(applied, sizeof applied, "%lld", (long long)pg->applied);
	snprintf(queued, sizeof queued, "%zu", pg->nout);
	pthread_mutex_unlock(&pg->mu);
	r = PQexecParams(pg->conn, sql, 3, NULL, params, NULL, NULL, 0);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	/*
	 * Every node reading every node's row is N^2 rows: at 1,000 nodes
	 * 100,000 rows a second if done every beat, so less often.
	 */
	if (!ok || (pg->beats++ % FLEET_PG_NODES_BEATS == 0 &&
	               fleet_pg_read_nodes(pg) != 0))
		return -1;
	pg->catchup = 1;
	if (now >= pg->next_purge) {
		pg->next_purge = now + FLEET_PG_PURGE_MS;
		return fleet_pg_purge(pg);
	}
	return 0;
}

static int
fleet_pg_stopping(struct fleet_pg *pg)
{
	int stop;

	pthread_mutex_lock(&pg->mu);
	stop = pg->stop;
	pthread_mutex_unlock(&pg->mu);
	return stop;
}

/*
 * Sleep until the loop wakes us, the connection has input, or ms pass.
 * Returns 1 if the connection has input.
 */
static int
fleet_pg_wait(struct fleet_pg *pg, int sock, int ms)
{
	struct pollfd p[2];
	char buf[64];
	int n = 1;

	p[0].fd = pg->wake[0];
	p[0].events = POLLIN;
	if (sock >= 0) {
		p[1].fd = sock;
		p[1].events = POLLIN;
		n = 2;
	}
	if (poll(p, n, ms) <= 0)
		return 0;
	if (p[0].revents & POLLIN)
		while (read(pg->wake[0], buf, sizeof buf) > 0)
			;
	return n == 2 && (p[1].revents & (POLLIN | POLLHUP | POLLERR));
}

/* Take the notifications: each means new rows. */
static int
fleet_pg_input(struct fleet_pg *pg)
{
	PGnotify *nt;

	if (!PQconsumeInput(pg->conn))
		return -1;
	while ((nt = PQnotifies(pg->conn)) != NULL) {
		pg->catchup = 1;
		PQfreemem(nt);
	}
	return 0;
}

/* Milliseconds the worker may sleep now. */
static int
fleet_pg_timeout(struct fleet_pg *pg)
{
	uint64_t now = fleet_pg_now_ms();

	if (pg->catchup)
		return 50; /* the loop's backlog is full: look again soon */
	return pg->next_beat > now ? (int)(pg->next_beat - now) : 0;
}

static void *
fleet_pg_main(void *arg)
{
	struct fleet_pg *pg = arg;

	while (!fleet_pg_stopping(pg)) {
		if (pg->conn == NULL && fleet_pg_connect(pg) != 0) {
			fleet_pg_wait(pg, -1, FLEET_PG_RETRY_MS);
			continue;
		}
		if (fleet_pg_flush_out(pg) != 0 || fleet_pg_beat(pg) != 0 ||
		    fleet_pg_catchup(pg) != 0) {
			fleet_pg_lost(pg);
			continue;
		}
		if (fleet_pg_wait(
		        pg, PQsocket(pg->conn), fleet_pg_timeout(pg)) &&
		    fleet_pg_input(pg) != 0)
			fleet_pg_lost(pg);
	}
	PQfinish(pg->conn);
	pg->conn = NULL;
	return NULL;
}

struct fleet_pg *
fleet_pg_start(const char *url, const char *node, const char *epoch,
    int64_t cursor, uv_async_t *bell, char **cause)
{
	struct fleet_pg *pg = xcalloc(1, sizeof *pg);
	int i;

	pg->url = xstrdup(url);
	pg->node = xstrdup(node);
	pg->epoch = xstrdup(epoch);
	pg->cursor = pg->applied = cursor;
	pg->bell = bell;
	pg->nodes = json_array();
	pthread_mutex_init(&pg->mu, NULL);
	if (pipe(pg->wake) != 0) {
		xasprintf(cause, "pipe: %s", strerror(errno));
		goto fail;
	}
	for (i = 0; i < 2; i++)
		fcntl(pg->wake[i], F_SETFL,
		    fcntl(pg->wake[i], F_GETFL) | O_NONBLOCK);
	if ((errno = pthread_create(&pg->thread, NULL, fleet_pg_main, pg)) !=
	    0) {
		xasprintf(cause, "thread: %s", strerror(errno));
		close(pg->wake[0]);
		close(pg->wake[1]);
		goto fail;
	}
	return pg;
fail:
	pthread_mutex_destroy(&pg->mu);
	json_decref(pg->nodes);
	free(pg->url);
	free(pg->node);
	free(pg->epoch);
	free(pg);
	return NULL;
}

static void
fleet_pg_wake(struct fleet_pg *pg)
{
	ssize_t n = write(pg->wake[1], "x", 1);

	(void)n; /* a full pipe already wakes the worker */
}

void
fleet_pg_stop(struct fleet_pg *pg)
{
	if (pg == NULL)
		return;
	pthread_mutex_lock(&pg->mu);
	pg->stop = 1;
	pthread_mutex_unlock(&pg->mu);
	fleet_pg_wake(pg);
	pthread_join(pg->thread, NULL);
	close(pg->wake[0]);
	close(pg->wake[1]);
	pthread_mutex_destroy(&pg->mu);
	json_decref(pg->nodes);
	free(pg->out);
	free(pg->in);
	free(pg->url);
	free(pg->node);
	free(pg->epoch);
	free(pg);
}

void
fleet_pg_send(struct fleet_pg *pg, const struct fleet_event *v, size_t n)
{
	if (n == 0)
		return;
	pthread_mutex_lock(&pg->mu);
	if (pg->nout + n > pg->cout) {
		pg->cout = (pg->nout + n) * 2;
		pg->out = xreallocarray(pg->out, pg->cout, sizeof *pg->out);
	}
	memcpy(pg->out + pg->nout, v, n * sizeof *v);
	pg->nout += n;
	pthread_mutex_unlock(&pg->mu);
	fleet_pg_wake(pg);
}

size_t
fleet_pg_take(struct fleet_pg *pg, struct fleet_event **v, size_t max,
    int64_t *acked, int *more)
{
	size_t n, left;

	pthread_mutex_lock(&pg->mu);
	left = pg->nin - pg->in_off;
	n = left < max ? left : max;
	*v = n > 0 ? xreallocarray(NULL, n, sizeof **v) : NULL;
	if (n > 0)
		memcpy(*v, pg->in + pg->in_off, n * sizeof **v);
	pg->in_off += n;
	if (pg->in_off == pg->nin)
		pg->in_off = pg->nin = 0;
	*more = pg->nin > pg->in_off;
	*acked = pg->acked;
	pthread_mutex_unlock(&pg->mu);
	if (left >= FLEET_PG_BACKLOG)
		fleet_pg_wake(pg); /* it waits for room */
	return n;
}

void
fleet_pg_applied(struct fleet_pg *pg, int64_t id)
{
	pthread_mutex_lock(&pg->mu);
	pg->applied = id;
	pthread_mutex_unlock(&pg->mu);
}

int
fleet_pg_connected(struct fleet_pg *pg)
{
	int c;

	pthread_mutex_lock(&pg->mu);
	c = pg->connected;
	pthread_mutex_unlock(&pg->mu);
	return c;
}

json_t *
fleet_pg_nodes(struct fleet_pg *pg)
{
	json_t *a;

	pthread_mutex_lock(&pg->mu);
	a = json_deep_copy(pg->nodes);
	pthread_mutex_unlock(&pg->mu);
	return a;
}

#else /* !HAVE_LIBPQ: the config refuses [fleet], so none of this runs */

struct fleet_pg *
fleet_pg_start(const char *url, const char *node, const char *epoch,
    int64_t cursor, uv_async_t *bell, char **cause)
{
	xasprintf(cause, "this jaild was built without libpq");
	return NULL;
}

void
fleet_pg_stop(struct fleet_pg *pg)
{
}

void
fleet_pg_send(struct fleet_pg *pg, const struct fleet_event *v, size_t n)
{
}

size_t
fleet_pg_take(struct fleet_pg *pg, struct fleet_event **v, size_t max,
    int64_t *acked, int *more)
{
	*v = NULL;
	*more = 0;
	*acked = 0;
	return 0;
}

void
fleet_pg_applied(struct fleet_pg *pg, int64_t id)
{
}

int
fleet_pg_connected(struct fleet_pg *pg)
{
	return 0;
}

json_t *
fleet_pg_nodes(struct fleet_pg *pg)
{
	return json_array();
}

#endif
