/* The SQLite store: schema, migrations, bans and log positions on disk. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "addr.h"
#include "log.h"
#include "store.h"
#include "xmalloc.h"

#define STORE_BUSY_MS 10 /* the most a loop turn waits for a lock */

enum store_stmt_id {
	STORE_STMT_BEGIN,
	STORE_STMT_COMMIT,
	STORE_STMT_ROLLBACK,
	STORE_STMT_BAN_INSERT,
	STORE_STMT_BAN_LIFT,
	STORE_STMT_BAN_SET_END,
	STORE_STMT_BAN_ACTIVE,
	STORE_STMT_BAN_HISTORY,
	STORE_STMT_BAN_COUNT,
	STORE_STMT_POS_SAVE,
	STORE_STMT_POS_LOAD,
	STORE_STMT_PURGE,
	STORE_STMT_CURSOR_SAVE,
	STORE_STMT_CURSOR_LOAD,
	STORE_STMT_GOOD_SAVE,
	STORE_STMT_GOOD_LOAD,
	STORE_STMT_GOOD_PURGE,
	STORE_STMT_MAX
};

#define STORE_BAN_COLUMNS                                                      \
	"id, jail, addr, family, prefixlen, start, \"end\", failures, "        \
	"reason, active, lifted, lifted_by, origin"

/* Indexed by enum store_stmt_id; all prepared once in store_open. */
static const char *const store_stmt_sql[STORE_STMT_MAX] = {
    /* IMMEDIATE takes the write lock now, not at the first write. */
    [STORE_STMT_BEGIN] = "BEGIN IMMEDIATE",
    [STORE_STMT_COMMIT] = "COMMIT",
    [STORE_STMT_ROLLBACK] = "ROLLBACK",
    [STORE_STMT_BAN_INSERT] =
        "INSERT INTO bans (jail, addr, family, prefixlen, start, \"end\", "
        "failures, reason, active, lifted, lifted_by, origin) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, 0, NULL, ?9)",
    /* An expiry keeps lifted = 0 and clamps end to when it happened. */
    [STORE_STMT_BAN_LIFT] =
        "UPDATE bans SET active = 0, lifted = ?2, lifted_by = ?3, "
        "\"end\" = CASE WHEN ?4 IS NOT NULL AND (\"end\" = 0 OR "
        "\"end\" > ?4) THEN ?4 ELSE \"end\" END "
        "WHERE id = ?1 AND active = 1",
    [STORE_STMT_BAN_SET_END] =
        "UPDATE bans SET \"end\" = ?2 WHERE id = ?1 AND active = 1",
    [STORE_STMT_BAN_ACTIVE] = "SELECT " STORE_BAN_COLUMNS " FROM bans "
                              "WHERE active = 1 ORDER BY start, id",
    /* ?1 is a JSON array of the address and every prefix above it. */
    [STORE_STMT_BAN_HISTORY] =
        "SELECT " STORE_BAN_COLUMNS " FROM bans WHERE addr IN "
        "(SELECT value FROM json_each(?1)) ORDER BY start, id",
    [STORE_STMT_BAN_COUNT] = "SELECT count(*) FROM bans WHERE addr = ?1 "
                             "AND (?2 IS NULL OR jail = ?2)",
    [STORE_STMT_POS_SAVE] =
        "INSERT INTO positions (path, inode, \"offset\", headhash) "
        "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (path) DO UPDATE SET "
        "inode = excluded.inode, \"offset\" = excluded.\"offset\", "
        "headhash = excluded.headhash",
    [STORE_STMT_POS_LOAD] = "SELECT inode, \"offset\", headhash "
                            "FROM positions WHERE path = ?1",
    /* A lifted ban ends when lifted, an expired one at its end. */
    [STORE_STMT_PURGE] =
        "DELETE FROM bans WHERE id IN (SELECT id FROM bans WHERE "
        "active = 0 AND (lifted != 0 OR \"end\" != 0) AND "
        "(CASE WHEN lifted != 0 THEN lifted ELSE \"end\" END) < ?1 "
        "ORDER BY id LIMIT ?2)",
    [STORE_STMT_CURSOR_SAVE] =
        "INSERT INTO cursors (name, cursor) VALUES (?1, ?2) "
        "ON CONFLICT (name) DO UPDATE SET cursor = excluded.cursor",
    [STORE_STMT_CURSOR_LOAD] = "SELECT cursor FROM cursors WHERE name = ?1",
    [STORE_STMT_GOOD_SAVE] =
        "INSERT INTO good_senders (jail, addr, family, first, last, count) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (jail, addr) DO "
        "UPDATE SET last = max(last, excluded.last), count = "
        "excluded.count",
    [STORE_STMT_GOOD_LOAD] = "SELECT addr, family, first, last, count "
                             "FROM good_senders WHERE jail = ?1 AND "
                             "last >= ?2 ORDER BY last",
    [STORE_STMT_GOOD_PURGE] = "DELETE FROM good_senders WHERE last < ?1",
};

/*
 * Migration i takes a database from schema version i to i + 1, inside the
 * one transaction store_migrate opens.  Append only: never edit a shipped
 * entry, since databases in the field already ran it.
 */
static const char *const store_migrations[] = {
    /* 0 -> 1: the first schema. */
    "CREATE TABLE bans ("
    "id INTEGER PRIMARY KEY, jail TEXT NOT NULL, addr TEXT NOT NULL, "
    "family INT NOT NULL, prefixlen INT NOT NULL, start INT NOT NULL, "
    "\"end\" INT NOT NULL, failures INT NOT NULL DEFAULT 0, reason TEXT, "
    "active INT NOT NULL DEFAULT 1, lifted INT NOT NULL DEFAULT 0, "
    "lifted_by TEXT);"
    "CREATE INDEX bans_active ON bans (active);"
    "CREATE INDEX bans_addr ON bans (addr);"
    "CREATE INDEX bans_jail_addr ON bans (jail, addr);"
    "CREATE TABLE positions ("
    "path TEXT PRIMARY KEY, inode INT NOT NULL, \"offset\" INT NOT NULL, "
    "headhash INT NOT NULL);",
    /* 1 -> 2: journal cursors, the journal's log positions. */
    "CREATE TABLE cursors (name TEXT PRIMARY KEY, cursor TEXT NOT NULL);",
    /* 2 -> 3: good senders, hosts that completed a mail transaction. */
    "CREATE TABLE good_senders (jail TEXT NOT NULL, addr TEXT NOT NULL, "
    "family INT NOT NULL, first INT NOT NULL, last INT NOT NULL, "
    "count INT NOT NULL, PRIMARY KEY (jail, addr));"
    "CREATE INDEX good_senders_last ON good_senders (last);",
    /*
     * 3 -> 4: the fleet.  origin: the node a ban came from (NULL: here);
     * fleet_outbox: events not yet in PostgreSQL (fleet_store.c).
     */
    "ALTER TABLE bans ADD COLUMN origin TEXT;"
    "CREATE TABLE fleet_outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
    "kind TEXT NOT NULL, jail TEXT NOT NULL, addr TEXT NOT NULL, "
    "start INT NOT NULL, \"end\" INT NOT NULL, failures INT NOT NULL, "
    "reason TEXT NOT NULL);",
};

_Static_assert(sizeof store_migrations / sizeof store_migrations[0] ==
                   STORE_SCHEMA_VERSION,
    "one migration per schema version");

struct store {
	sqlite3 *db;
	char *path; /* NULL for ":memory:" */
	dev_t dev; /* the file opened at path, to notice it replaced */
	ino_t ino;
	int fresh; /* this open created the database */
	sqlite3_stmt *stmt[STORE_STMT_MAX];
	int in_txn; /* store_begin ran and store_commit has not */
	int txn_failed; /* the open transaction was rolled back by an error */
	char errmsg[512];
	char txn_errmsg[512]; /* why the open transaction failed */
};

/* Record a formatted error message for store_errmsg. */
static void LOG_PRINTF(2, 3)
    store_set_errmsg(struct store *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap);
	va_end(ap);
}

/* Record SQLite's latest error, with the OS reason for I/O failures. */
static void
store_set_sqlite_errmsg(struct store *s, int rc, const char *what)
{
	int prim = rc & 0xff, syserr = sqlite3_system_errno(s->db);

	if ((prim == SQLITE_IOERR || prim == SQLITE_FULL ||
	        prim == SQLITE_CANTOPEN) &&
	    syserr != 0)
		store_set_errmsg(s, "%s: %s (%s)", what, sqlite3_errmsg(s->db),
		    strerror(syserr));
	else
		store_set_errmsg(s, "%s: %s (sqlite code %d)", what,
		    sqlite3_errmsg(s->db), rc);
}

/*
 * After a failed statement inside store_begin's transaction, make sure the
 * transaction is gone (SQLite asks for an explicit ROLLBACK after FULL,
 * IOERR, BUSY and NOMEM, and may already have rolled back by itself) and
 * remember it, so that store_commit reports the loss and the next
 * store_begin starts clean.  Other errors (a constraint) leave it open.
 */
static void
store_txn_check(struct store *s, int rc)
{
	int prim = rc & 0xff;
	sqlite3_stmt *st = s->stmt[STORE_STMT_ROLLBACK];

	if (!s->in_txn || s->txn_failed)
		return;
	if (prim != SQLITE_FULL && prim != SQLITE_IOERR &&
	    prim != SQLITE_BUSY && prim != SQLITE_NOMEM &&
	    prim != SQLITE_CORRUPT && prim != SQLITE_READONLY &&
	    !sqlite3_get_autocommit(s->db))
		return;
	if (!sqlite3_get_autocommit(s->db)) {
		sqlite3_step(st);
		sqlite3_reset(st);
	}
	s->txn_failed = 1;
	snprintf(s->txn_errmsg, sizeof s->txn_errmsg, "%s", s->errmsg);
}

/* Step a statement that returns no rows, then reset it. */
static int
store_step_done(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc;

	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		store_set_sqlite_errmsg(s, rc, what);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_DONE)
		return 0;
	store_txn_check(s, rc);
	return -1;
}

/* Refuse writes once this turn's transaction has been lost. */
static int
store_writable(struct store *s)
{
	if (!s->txn_failed)
		return 0;
	store_set_errmsg(s, "transaction already failed: %s", s->txn_errmsg);
	return -1;
}

/* Bind text of at most max bytes, stopping at a NUL, or NULL. */
static void
store_bind_text(sqlite3_stmt *st, int i, const char *text, size_t max)
{
	if (text == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(
		    st, i, text, (int)strnlen(text, max), SQLITE_TRANSIENT);
}

/* Copy a text column into a fixed buffer, truncating. */
static void
store_column_copy(sqlite3_stmt *st, int i, char *buf, size_t len)
{
	const unsigned char *text = sqlite3_column_text(st, i);

	snprintf(buf, len, "%s", text != NULL ? (const char *)text : "");
}

/* Store families as 4 and 6: AF_INET6 differs between Linux and BSD. */
static int
store_family_code(const struct addr *a)
{
	return a->family == AF_INET ? 4 : 6;
}

/* Write a's canonical text into buf; -1 if a is not a valid address. */
static int
store_addr_text(const struct addr *a, char *buf, size_t len)
{
	struct addr check;

	if ((a->family != AF_INET && a->family != AF_INET6) ||
	    a->prefixlen > addr_max_prefixlen(a))
		return -1;
	addr_format(a, buf, len);
	/* Host bits set, or anything else that does not round-trip. */
	if (addr_parse(buf, &check) == -1 || !addr_equal(a, &check))
		return -1;
	return 0;
}

/* Fill b from the current row of a ban query; -1 if the row is unusable. */
static int
store_ban_row(sqlite3_stmt *st, struct store_ban *b)
{
	const unsigned char *text;
	char esc[128];

	memset(b, 0, sizeof *b);
	b->id = sqlite3_column_int64(st, 0);
	store_column_copy(st, 1, b->jail, sizeof b->jail);
	text = sqlite3_column_text(st, 2);
	if (text == NULL || addr_parse((const char *)text, &b->addr) == -1 ||
	    store_family_code(&b->addr) != sqlite3_column_int(st, 3) ||
	    b->addr.prefixlen != sqlite3_column_int(st, 4)) {
		text = text != NULL ? text : (const unsigned char *)"";
		log_escape((const char *)text, strlen((const char *)text), esc,
		    sizeof esc);
		log_warnx("store: ban %lld has a bad address \"%s\", skipped",
		    (long long)b->id, esc);
		return -1;
	}
	b->start = (time_t)sqlite3_column_int64(st, 5);
	b->end = (time_t)sqlite3_column_int64(st, 6);
	b->failures = sqlite3_column_int(st, 7);
	store_column_copy(st, 8, b->reason, sizeof b->reason);
	b->active = sqlite3_column_int(st, 9);
	b->lifted = (time_t)sqlite3_column_int64(st, 10);
	store_column_copy(st, 11, b->lifted_by, sizeof b->lifted_by);
	store_column_copy(st, 12, b->origin, sizeof b->origin);
	return 0;
}

/*
 * Run a bound ban query, calling cb for each usable row until it returns
 * non-zero.  If in is set, rows must also contain it (checked in C too).
 */
static int
store_ban_foreach(struct store *s, sqlite3_stmt *st, const struct addr *in,
    store_ban_cb cb, void *arg, const char *what)
{
	struct store_ban b;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (store_ban_row(st, &b) == -1)
			continue;
		if (in != NULL && !addr_contains(&b.addr, in))
			continue;
		if (cb(&b, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		store_set_sqlite_errmsg(s, rc, what);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_DONE)
		return 0;
	store_txn_check(s, rc);
	return -1;
}

/* Open path with mode 0600 before SQLite does, and tighten old files. */
static int
store_file_prepare(const char *path, char **cause)
{
	static const char *const suffixes[] = {"-wal", "-shm", "-journal"};
	struct stat sb;
	char *side;
	size_t i;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd == -1) {
		xasprintf(cause, "open %s: %s", path, strerror(errno));
		return -1;
	}
	errno = 0;
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    ((sb.st_mode & 07777) != 0600 && fchmod(fd, 0600) == -1)) {
		xasprintf(cause, "%s: %s", path,
		    errno != 0 ? strerror(errno) : "not a regular file");
		close(fd);
		return -1;
	}
	close(fd);
	/* SQLite gives -wal and -shm the db's mode, but not old ones. */
	for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		xasprintf(&side, "%s%s", path, suffixes[i]);
		if (chmod(side, 0600) == -1 && errno != ENOENT)
			log_warn("store: chmod %s", side);
		free(side);
	}
	return 0;
}

/*
 * Rename path to path.TAG-YYYYmmddHHMMSS, with its -wal and -shm if
 * sides is set (a corrupt file's WAL is its own; a file moved over ours
 * left its WAL behind, and the one at our path is ours).
 */
static int
store_move_aside(
    const char *path, const char *tag, int sides, char **to, char **cause)
{
	static const char *const suffixes[] = {"-wal", "-shm", "-journal"};
	char stamp[32], *from_side, *to_side;
	struct tm tm;
	time_t now = time(NULL);
	size_t i;
	int n;

	strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", localtime_r(&now, &tm));
	xasprintf(to, "%s.%s-%s", path, tag, stamp);
	/* Two files moved in one second must not overwrite each other. */
	for (n = 1; n < 100 && access(*to, F_OK) == 0; n++) {
		free(*to);
		xasprintf(to, "%s.%s-%s.%d", path, tag, stamp, n);
	}
	if (rename(path, *to) == -1) {
		xasprintf(
		    cause, "rename %s to %s: %s", path, *to, strerror(errno));
		free(*to);
		*to = NULL;
		return -1;
	}
	for (i = 0; sides && i < sizeof suffixes / sizeof suffixes[0]; i++) {
		xasprintf(&from_side, "%s%s", path, suffixes[i]);
		xasprintf(&to_side, "%s%s", *to, suffixes[i]);
		if (rename(from_side, to_side) == -1 && errno != ENOENT)
			log_warn("store: rename %s", from_side);
		free(from_side);
		free(to_side);
	}
	return 0;
}

/*
 * Run PRAGMA integrity_check (indexes too, unlike quick_check: 0.8 s for
 * 300,000 rows here): 0 if the database is sound, 1 if it is corrupt
 * or not a database at all (why in *cause), -1 on any other error.
 */
static int
store_check(struct store *s, char **cause)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *text;
	int rc, ret = -1;

	rc = sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		text = sqlite3_column_text(st, 0);
		if (text != NULL && strcmp((const char *)text, "ok") == 0)
			ret = 0;
		else {
			ret = 1;
			xasprintf(cause, "integrity_check: %s",
			    text != NULL ? (const char *)text : "no result");
		}
	} else {
		ret = ((rc & 0xff) == SQLITE_NOTADB ||
		          (rc & 0xff) == SQLITE_CORRUPT)
		          ? 1
		          : -1;
		xasprintf(cause, "%s", sqlite3_errmsg(s->db));
	}
	sqlite3_finalize(st);
	return ret;
}

/* Open the SQLite handle; 1 if the file turned out corrupt. */
static int
store_open_db(struct store *s, const char *path, int isfile, char **cause)
{
	int rc, flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;

	if (isfile && store_file_prepare(path, cause) == -1)
		return -1;
	rc = sqlite3_open_v2(path, &s->db, flags, NULL);
	if (rc != SQLITE_OK) {
		xasprintf(cause, "sqlite open %s: %s", path,
		    s->db != NULL ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		return -1;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, 5000);
	return store_check(s, cause);
}

/* Close a corrupt database without checkpointing into it. */
static void
store_close_corrupt(sqlite3 *db)
{
	sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_close(db);
}

/*
 * Hard-link path-wal to path-wal.keep before SQLite sees it: on a corrupt
 * database SQLite deletes the WAL at close, and we want to keep it.
 * Returns the link's name, or NULL if there is no WAL.
 */
static char *
store_wal_keep(const char *path)
{
	char *wal, *keep;

	xasprintf(&wal, "%s-wal", path);
	xasprintf(&keep, "%s-wal.keep", path);
	if (unlink(keep) == -1 && errno != ENOENT)
		log_warn("store: unlink %s", keep);
	if (link(wal, keep) == -1) {
		if (errno != ENOENT)
			log_warn("store: link %s", wal);
		free(keep);
		keep = NULL;
	}
	free(wal);
	return keep;
}

/* Move the kept WAL next to the corrupt file moved to to, or drop it. */
static void
store_wal_settle(char *keep, const char *to)
{
	char *dst;

	if (keep == NULL)
		return;
	/* If SQLite left the WAL in place, it was moved with the file. */
	dst = NULL;
	if (to != NULL)
		xasprintf(&dst, "%s-wal", to);
	if (dst != NULL && access(dst, F_OK) == -1) {
		if (rename(keep, dst) == -1)
			log_warn("store: rename %s", keep);
	} else if (unlink(keep) == -1)
		log_warn("store: unlink %s", keep);
	free(dst);
	free(keep);
}

/*
 * Move a directory (or anything but a regular file) standing at path
 * aside, as a corrupt database is: jaild that will not start bans nobody.
 */
static int
store_path_clear(const char *path, char **cause)
{
	struct stat sb;
	char *to = NULL;

	if (stat(path, &sb) == -1 || S_ISREG(sb.st_mode))
		return 0;
	if (store_move_aside(path, "notafile", 0, &to, cause) == -1)
		return -1;
	log_warnx("store: %s is not a regular file: moved it to %s and "
	          "started a fresh database",
	    path, to);
	free(to);
	return 0;
}

/*
 * Open the database, moving a corrupt file aside once and starting a
 * fresh one: losing the ban history is better than a daemon that will
 * not start and so bans nobody.
 */
static int
store_open_checked(struct store *s, const char *path, char **cause)
{
	int isfile = strcmp(path, ":memory:") != 0 && *path != '\0';
	char *why = NULL, *to = NULL, *keep;
	int rc;

	if (isfile && store_path_clear(path, cause) == -1)
		return -1;
	keep = isfile ? store_wal_keep(path) : NULL;
	rc = store_open_db(s, path, isfile, &why);
	if (rc == 1 && isfile) {
		store_close_corrupt(s->db);
		s->db = NULL;
		if (store_move_aside(path, "corrupt", 1, &to, cause) == -1)
			goto fail;
		log_warnx("store: %s is corrupt (%s): moved it to %s and "
		          "started a fresh database",
		    path, why, to);
		free(why);
		why = NULL;
		rc = store_open_db(s, path, isfile, &why);
	}
	store_wal_settle(keep, to);
	keep = NULL;
	if (rc != 0) {
		xasprintf(cause, "database %s: %s", path, why);
		goto fail;
	}
	free(why);
	free(to);
	return 0;
fail:
	store_wal_settle(keep, NULL);
	free(why);
	free(to);
	return -1;
}

/* Run SQL text that needs no binding; cause says why it failed. */
static int
store_exec(struct store *s, const char *sql, char **cause)
{
	char *err = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &err) == SQLITE_OK)
		return 0;
	xasprintf(cause, "%s", err != NULL ? err : sqlite3_errmsg(s->db));
	sqlite3_free(err);
	return -1;
}

/*
 * Set the pragmas.  WAL with synchronous=NORMAL makes each commit durable
 * against a crash or kill -9 of the process (the WAL is in the kernel's
 * page cache); only a power loss or kernel crash can lose the last
 * commits, and never corrupts the file.  That is what jaild promises.
 */
static int
store_setup(struct store *s, const char *path, char **cause)
{
	char *why = NULL;

	if (store_exec(s, "PRAGMA journal_mode = WAL", &why) == -1 ||
	    store_exec(s, "PRAGMA synchronous = NORMAL", &why) == -1 ||
	    store_exec(s, "PRAGMA foreign_keys = ON", &why) == -1) {
		xasprintf(cause, "database %s: %s", path, why);
		free(why);
		return -1;
	}
	return 0;
}

/* Read PRAGMA user_version into *version. */
static int
store_user_version(struct store *s, int *version)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* Bring the schema to STORE_SCHEMA_VERSION in one transaction. */
static int
store_migrate(struct store *s, const char *path, char **cause)
{
	char *why = NULL, sql[64];
	int v = 0, i;

	if (store_exec(s, "BEGIN IMMEDIATE", &why) == -1)
		goto fail;
	if (store_user_version(s, &v) == -1) {
		why = xstrdup(sqlite3_errmsg(s->db));
		goto fail;
	}
	if (v > STORE_SCHEMA_VERSION || v < 0) {
		xasprintf(cause,
		    "database %s has schema version %d, this jaild knows up "
		    "to %d: upgrade jaild or move the file aside",
		    path, v, STORE_SCHEMA_VERSION);
		goto rollback;
	}
	for (i = v; i < STORE_SCHEMA_VERSION; i++) {
		if (store_exec(s, store_migrations[i], &why) == -1)
			goto fail;
	}
	snprintf(
	    sql, sizeof sql, "PRAGMA user_version = %d", STORE_SCHEMA_VERSION);
	if (store_exec(s, sql, &why) == -1 || store_exec(s, "COMMIT", &why))
		goto fail;
	s->fresh = v == 0;
	if (v != 0 && v != STORE_SCHEMA_VERSION)
		log_info("store: %s migrated from schema version %d to %d",
		    path, v, STORE_SCHEMA_VERSION);
	return 0;
fail:
	xasprintf(cause, "database %s: schema: %s", path, why);
	free(why);
rollback:
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* Prepare every statement the store uses. */
static int
store_prepare(struct store *s, char **cause)
{
	int i, rc;

	for (i = 0; i < STORE_STMT_MAX; i++) {
		rc = sqlite3_prepare_v3(s->db, store_stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &s->stmt[i], NULL);
		if (rc != SQLITE_OK) {
			xasprintf(cause, "prepare \"%s\": %s",
			    store_stmt_sql[i], sqlite3_errmsg(s->db));
			return -1;
		}
	}
	return 0;
}

/* Remember which file path names, to notice it deleted or replaced. */
static int
store_identify(struct store *s, const char *path, char **cause)
{
	struct stat sb;

	if (strcmp(path, ":memory:") == 0 || *path == '\0')
		return 0;
	if (stat(path, &sb) == -1) {
		xasprintf(cause, "database %s: %s", path, strerror(errno));
		return -1;
	}
	s->path = xstrdup(path);
	s->dev = sb.st_dev;
	s->ino = sb.st_ino;
	return 0;
}

struct store *
store_open(const char *path, char **cause)
{
	struct store *s;

	s = xcalloc(1, sizeof *s);
	if (store_open_checked(s, path, cause) == -1 ||
	    store_setup(s, path, cause) == -1 ||
	    store_migrate(s, path, cause) == -1 ||
	    store_prepare(s, cause) == -1 ||
	    store_identify(s, path, cause) == -1)
		goto fail;
	/*
	 * From now on the daemon's loop uses the handle: never wait long
	 * for another process's lock.  A busy write fails, and the daemon
	 * keeps it and retries (its backlog).
	 */
	sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
	return s;
fail:
	store_close(s);
	return NULL;
}

const char *
store_path(const struct store *s)
{
	return s->path;
}

int
store_fresh(const struct store *s)
{
	return s->fresh;
}

int
store_replaced(const struct store *s)
{
	struct stat sb;

	if (s->path == NULL)
		return 0;
	if (stat(s->path, &sb) == -1)
		return errno == ENOENT || errno == ENOTDIR ? 1 : 0;
	return sb.st_dev != s->dev || sb.st_ino != s->ino ||
	       !S_ISREG(sb.st_mode);
}

/* Copy the open database, WAL included, into a new file at to. */
static int
store_copy(struct store *s, const char *to, char **cause)
{
	sqlite3 *dst = NULL;
	sqlite3_backup *b;
	int rc;

	if (unlink(to) == -1 && errno != ENOENT) {
		xasprintf(cause, "unlink %s: %s", to, strerror(errno));
		return -1;
	}
	rc = sqlite3_open_v2(
	    to, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc == SQLITE_OK) {
		b = sqlite3_backup_init(dst, "main", s->db, "main");
		if (b == NULL)
			rc = sqlite3_errcode(dst);
		else {
			rc = sqlite3_backup_step(b, -1);
			rc = sqlite3_backup_finish(b) == SQLITE_OK &&
			             rc == SQLITE_DONE
			         ? SQLITE_OK
			         : sqlite3_errcode(dst);
		}
	}
	if (rc != SQLITE_OK)
		xasprintf(cause, "copy to %s: %s", to,
		    dst != NULL ? sqlite3_errmsg(dst) : sqlite3_errstr(rc));
	if (sqlite3_close(dst) != SQLITE_OK && rc == SQLITE_OK) {
		xasprintf(cause, "copy to %s: close failed", to);
		rc = SQLITE_ERROR;
	}
	if (rc != SQLITE_OK)
		(void)unlink(to);
	return rc == SQLITE_OK ? 0 : -1;
}

/*
 * Take the path back for the database: move aside whatever stands there
 * now (only the file: the -wal and -shm at the path are ours), and drop
 * our sidecars, which the open handle keeps by descriptor.
 */
static void
store_path_reclaim(const char *path)
{
	static const char *const suffixes[] = {"-wal", "-shm"};
	struct stat sb;
	char *to = NULL, *why = NULL, *side;
	size_t i;

	if (lstat(path, &sb) == 0) {
		if (store_move_aside(path, "replaced", 0, &to, &why) == -1) {
			log_warnx("store: %s", why);
			free(why);
		} else
			log_warnx(
			    "store: moved what replaced %s to %s", path, to);
		free(to);
	}
	for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		xasprintf(&side, "%s%s", path, suffixes[i]);
		if (unlink(side) == -1 && errno != ENOENT)
			log_warn("store: unlink %s", side);
		free(side);
	}
}

struct store *
store_reopen(struct store *s, int *copied, char **cause)
{
	struct store *n;
	char *tmp, *why = NULL;

	*copied = 0;
	if (s->in_txn) {
		xasprintf(cause, "reopen: a transaction is open");
		return NULL;
	}
	store_path_reclaim(s->path);
	xasprintf(&tmp, "%s.restore", s->path);
	if (store_copy(s, tmp, &why) == 0) {
		if (rename(tmp, s->path) == 0)
			*copied = 1;
		else
			xasprintf(&why, "rename %s: %s", tmp, strerror(errno));
	}
	free(tmp);
	if ((n = store_open(s->path, cause)) == NULL) {
		free(why); /* tried again at the next check: say it once */
		return NULL;
	}
	if (!*copied)
		log_warnx("store: cannot copy the open database: %s", why);
	free(why);
	/* Its WAL is unlinked: close without a checkpoint into nothing. */
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	store_close(s);
	return n;
}

/* Commit what is pending, finalize every statement and close. */
void
store_close(struct store *s)
{
	int i;

	if (s == NULL)
		return;
	if (s->in_txn && store_commit(s) == -1)
		log_warnx("store: at close: %s", s->errmsg);
	for (i = 0; i < STORE_STMT_MAX; i++)
		sqlite3_finalize(s->stmt[i]);
	if (s->db != NULL && sqlite3_close(s->db) != SQLITE_OK)
		log_warnx("store: close: %s", sqlite3_errmsg(s->db));
	free(s->path);
	free(s);
}

/* Open this loop turn's transaction, unless one is open. */
int
store_begin(struct store *s)
{
	if (s->in_txn)
		return 0;
	if (store_step_done(s, s->stmt[STORE_STMT_BEGIN], "begin") == -1)
		return -1;
	s->in_txn = 1;
	s->txn_failed = 0;
	return 0;
}

/*
 * Commit this turn's transaction.  On failure it is rolled back, so the
 * caller must keep what it wrote for the next try, and store_begin works.
 */
int
store_commit(struct store *s)
{
	if (!s->in_txn)
		return 0;
	if (s->txn_failed) {
		s->in_txn = s->txn_failed = 0;
		store_set_errmsg(
		    s, "transaction rolled back: %s", s->txn_errmsg);
		return -1;
	}
	if (sqlite3_get_autocommit(s->db)) {
		s->in_txn = 0;
		store_set_errmsg(s, "transaction rolled back by sqlite");
		return -1;
	}
	if (store_step_done(s, s->stmt[STORE_STMT_COMMIT], "commit") == 0) {
		s->in_txn = 0;
		return 0;
	}
	/* store_txn_check rolled back if it had to; make sure of it. */
	if (!sqlite3_get_autocommit(s->db)) {
		sqlite3_step(s->stmt[STORE_STMT_ROLLBACK]);
		sqlite3_reset(s->stmt[STORE_STMT_ROLLBACK]);
	}
	s->in_txn = s->txn_failed = 0;
	return -1;
}

/* Insert b as an active ban and set b->id. */
int
store_ban_insert(struct store *s, struct store_ban *b)
{
	sqlite3_stmt *st = s->stmt[STORE_STMT_BAN_INSERT];
	char text[ADDR_STRLEN];

	if (store_writable(s) == -1)
		return -1;
	if (store_addr_text(&b->addr, text, sizeof text) == -1) {
		store_set_errmsg(s, "insert ban: invalid address");
		return -1;
	}
	if (b->jail[0] == '\0') {
		store_set_errmsg(s, "insert ban: no jail name");
		return -1;
	}
	store_bind_text(st, 1, b->jail, sizeof b->jail);
	store_bind_text(st, 2, text, sizeof text);
	sqlite3_bind_int(st, 3, store_family_code(&b->addr));
	sqlite3_bind_int(st, 4, b->addr.prefixlen);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)b->start);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)b->end);
	sqlite3_bind_int(st, 7, b->failures);
	store_bind_text(st, 8, b->reason, sizeof b->reason);
	if (b->origin[0] != '\0')
		store_bind_text(st, 9, b->origin, sizeof b->origin);
	if (store_step_done(s, st, "insert ban") == -1)
		return -1;
	b->id = sqlite3_last_insert_rowid(s->db);
	b->active = 1;
	b->lifted = 0;
	b->lifted_by[0] = '\0';
	return 0;
}

/*
 * Mark an active ban lifted.  "expired" keeps lifted at 0, as store.h
 * says, and records the expiry in end; -1 if the ban is not active.
 */
int
store_ban_lift(struct store *s, int64_t id, time_t when, const char *by)
{
	sqlite3_stmt *st = s->stmt[STORE_STMT_BAN_LIFT];
	int expired = by != NULL && strcmp(by, "expired") == 0;

	if (store_writable(s) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, expired ? 0 : (sqlite3_int64)when);
	store_bind_text(st, 3, by, sizeof(((struct store_ban *)0)->lifted_by));
	if (expired)
		sqlite3_bind_int64(st, 4, (sqlite3_int64)when);
	if (store_step_done(s, st, "lift ban") == -1)
		return -1;
	if (sqlite3_changes(s->db) == 0) {
		store_set_errmsg(
		    s, "lift ban: ban %lld is not active", (long long)id);
		return -1;
	}
	return 0;
}

/* Change the end of an active ban; -1 if it is not active. */
int
store_ban_set_end(struct store *s, int64_t id, time_t end)
{
	sqlite3_stmt *st = s->stmt[STORE_STMT_BAN_SET_END];

	if (store_writable(s) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)end);
	if (store_step_done(s, st, "set ban end") == -1)
		return -1;
	if (sqlite3_changes(s->db) == 0) {
		store_set_errmsg(
		    s, "set ban end: ban %lld is not active", (long long)id);
		return -1;
	}
	return 0;
}

/* Refuse a query whose statement is already running (a re-entrant cb). */
static int
store_stmt_idle(struct store *s, sqlite3_stmt *st, const char *what)
{
	if (!sqlite3_stmt_busy(st))
		return 0;
	store_set_errmsg(s, "%s: called again from its own callback", what);
	return -1;
}

/* Call cb for every active ban, oldest first. */
int
store_ban_foreach_active(struct store *s, store_ban_cb cb, void *arg)
{
	sqlite3_stmt *st = s->stmt[STORE_STMT_BAN_ACTIVE];

	if (store_stmt_idle(s, st, "active bans") == -1)
		return -1;
	return store_ban_foreach(s, st, NULL, cb, arg, "active bans");
}

/*
 * Call cb for every ban of a or of a prefix containing it, oldest first.
 * The candidates (a cut to each shorter length) go to SQL as one JSON
 * array, so the addr index finds them exactly, v4 and v6 alike.
 */
int
store_ban_foreach_history(
    struct store *s, const struct addr *a, store_ban_cb cb, void *arg)
{
	sqlite3_stmt *st = s->stmt[STORE_STMT_BAN_HISTORY];
	char text[ADDR_STRLEN], *json;
	size_t len = 0, size = 129 * (ADDR_STRLEN + 3) + 3;
	struct addr cut;
	int pl;

	if (store_stmt_idle(s, st, "history") == -1)
		return -1;
	if (store_addr_text(a, text, sizeof text) == -1) {
		store_set_errmsg(s, "history: invalid address");
		return -1;
	}
	json = xmalloc(size);
	json[len++] = '[';
	for (pl = a->prefixlen; pl >= 0; pl--) {
		cut = *a;
		addr_truncate(&cut, pl);
		addr_format(&cut, text, sizeof text);
		len += (size_t)snprintf(json + len, size - len, "%s\"%s\"",
		    pl == a->prefixlen ? "" : ",", text);
	}
	snprintf(json + len, size - len, "]");
	sqlite3_bind_text(st, 1, json, -1, free);
	return store_ban_foreach(s, st, a, cb, arg, "history");
}

/* Count the bans of exactly a, in jail or in every jail if jail is NULL. */
int
store_ban_count(struct store *s, const struct addr *a, const char *jail)
{
	sqlite3_stmt *st = s->stmt[STORE_STMT_BAN_COUNT];
	char text[ADDR_STRLEN];
	int rc, n = 0;

	if (store_addr_text(a, text, sizeof text) == -1) {
		store_set_errmsg(s, "count bans: invalid address");
		return -1;
	}
	store_bind_text(st, 1, text, sizeof text);
	store_bind_text(st, 2, jail, sizeof(((struct store_ban *)0)->jail));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	else
		store_set_sqlite_errmsg(s, rc, "count bans");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_ROW)
		return n;
	store_txn_check(s, rc);
	return -1;
}

/* Save (or replace) the read position of a log file. */
int
store_pos_save(struct store *s, const struct store_pos *pos)
{
	sqlite3_stmt *st = s->stmt[STORE_STMT_POS_SAVE];

	if (store_writable(s) == -1)
		return -1;
	if (pos->path[0] == '\0') {
		store_set_errmsg(s, "save position: empty path");
		return -1;
	}
	/* SQLite integers are signed: the bits round-trip through casts. */
	store_bind_text(st, 1, pos->path, sizeof pos->path);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)pos->inode);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)pos->offset);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)pos->headhash);
	return store_step_done(s, st, "save position");
}

/* Load the saved position of path into pos. */
int
store_pos_load(struct store *s, const char *path, struct store_pos *pos)
{
	sqlite3_stmt *st = s->stmt[STORE_STMT_POS_LOAD];
	int rc;

	store_bind_text(st, 1, path, sizeof pos->path);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(pos, 0, sizeof *pos);
		snprintf(pos->path, sizeof pos->path, "%s", path);
		pos->inode = (uint64_t)sqlite3_column_int64(st, 0);
		pos->offset = (uint64_t)sqlite3_column_int64(st, 1);
		pos->headhash = (uint64_t)sqlite3_column_int64(st, 2);
	} else if (rc == SQLITE_DONE)
		store_set_errmsg(s, "load position: no position for %s", path);
	else
		store_set_sqlite_errmsg(s, rc, "load position");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		store_txn_check(s, rc);
	return -1;
}

/* Save (or replace) the journal cursor of the source called name. */
int
store_cursor_save(struct store *s, const char *name, const char *cursor)
{
	sqlite3_stmt *st = s->stmt[STORE_STMT_CURSOR_SAVE];

	if (store_writable(s) == -1)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, cursor, -1, SQLITE_TRANSIENT);
	return store_step_done(s, st, "save cursor");
}

/* Load the saved journal cursor of name; the caller frees it. */
char *
store_cursor_load(struct store *s, const char *name)
{
	sqlite3_stmt *st = s->stmt[STORE_STMT_CURSOR_LOAD];
	char *cursor = NULL;
	int rc;

	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
		cursor = xstrdup((const char *)sqlite3_column_text(st, 0));
	else if (rc == SQLITE_DONE)
		store_set_errmsg(s, "load cursor: no cursor for %s", name);
	else
		store_set_sqlite_errmsg(s, rc, "load cursor");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		store_txn_check(s, rc);
	return cursor;
}

/*
 * Delete at most limit inactive bans that ended (lifted or expired) before
 * cutoff; returns how many.  Call it repeatedly to keep transactions small.
 */
int
store_purge(struct store *s, time_t cutoff, int limit)
{
	sqlite3_stmt *st = s->stmt[STORE_STMT_PURGE];

	if (store_writable(s) == -1)
		return -1;
	if (limit <= 0)
		return 0;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)cutoff);
	sqlite3_bind_int(st, 2, limit);
	if (store_step_done(s, st, "purge") == -1)
		return -1;
	return sqlite3_changes(s->db);
}

/* Insert or update one good sender (see store.h). */
int
store_good_save(struct store *s, const struct store_good *g)
{
	sqlite3_stmt *st = s->stmt[STORE_STMT_GOOD_SAVE];
	char text[ADDR_STRLEN];

	if (store_writable(s) == -1)
		return -1;
	if (store_addr_text(&g->addr, text, sizeof text) == -1) {
		store_set_errmsg(s, "good sender: bad address");
		return -1;
	}
	store_bind_text(st, 1, g->jail, sizeof g->jail);
	sqlite3_bind_text(st, 2, text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 3, store_family_code(&g->addr));
	sqlite3_bind_int64(st, 4, (sqlite3_int64)g->first);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)g->last);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)g->count);
	return store_step_done(s, st, "save good sender");
}

/* Call cb for each good sender of jail seen since (see store.h). */
int
store_good_foreach(struct store *s, const char *jail, time_t since,
    store_good_cb cb, void *arg)
{
	sqlite3_stmt *st = s->stmt[STORE_STMT_GOOD_LOAD];
	const unsigned char *text;
	struct store_good g;
	int rc;

	store_bind_text(st, 1, jail, sizeof g.jail);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)since);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&g, 0, sizeof g);
		snprintf(g.jail, sizeof g.jail, "%s", jail);
		text = sqlite3_column_text(st, 0);
		if (text == NULL ||
		    addr_parse((const char *)text, &g.addr) == -1 ||
		    store_family_code(&g.addr) != sqlite3_column_int(st, 1))
			continue; /* a damaged row teaches nothing */
		g.first = (time_t)sqlite3_column_int64(st, 2);
		g.last = (time_t)sqlite3_column_int64(st, 3);
		g.count = sqlite3_column_int64(st, 4);
		if (cb(&g, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		store_set_sqlite_errmsg(s, rc, "load good senders");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_DONE)
		return 0;
	store_txn_check(s, rc);
	return -1;
}

/* Forget the good senders not seen since cutoff (see store.h). */
int
store_good_purge(struct store *s, time_t cutoff)
{
	sqlite3_stmt *st = s->stmt[STORE_STMT_GOOD_PURGE];

	if (store_writable(s) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)cutoff);
	if (store_step_done(s, st, "purge good senders") == -1)
		return -1;
	return sqlite3_changes(s->db);
}

/* The SQLite handle, for the fleet's own tables (fleet_store.c). */
sqlite3 *
store_sqlite(struct store *s)
{
	return s->db;
}

/* Why the last call failed; borrowed, valid until the next call. */
const char *
store_errmsg(struct store *s)
{
	if (s == NULL)
		return "no store";
	return s->errmsg[0] != '\0' ? s->errmsg : "no error";
}
