/* fleet_store: the fleet's outbox in the local SQLite store. */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "fleet_store.h"
#include "store.h"
#include "xmalloc.h"

enum fleet_store_stmt {
	FLEET_STORE_ADD,
	FLEET_STORE_DROP,
	FLEET_STORE_LOAD,
	FLEET_STORE_MAX
};

static const char *const fleet_store_sql[FLEET_STORE_MAX] = {
    /* Parenthesised: clang's -Wstring-concatenation takes a split
     * literal in an array for a missing comma. */
    [FLEET_STORE_ADD] = ("INSERT INTO fleet_outbox (kind, jail, addr, start, "
                         "\"end\", failures, reason) "
                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
    [FLEET_STORE_DROP] = "DELETE FROM fleet_outbox WHERE seq <= ?1",
    [FLEET_STORE_LOAD] = ("SELECT seq, kind, jail, addr, start, \"end\", "
                          "failures, reason FROM fleet_outbox ORDER BY seq"),
};

struct fleet_store {
	sqlite3 *db;
	sqlite3_stmt *stmt[FLEET_STORE_MAX];
	char errmsg[256];
};

struct fleet_store *
fleet_store_open(struct store *st, char **cause)
{
	struct fleet_store *fs = xcalloc(1, sizeof *fs);
	int i;

	fs->db = store_sqlite(st);
	for (i = 0; i < FLEET_STORE_MAX; i++) {
		if (sqlite3_prepare_v3(fs->db, fleet_store_sql[i], -1,
		        SQLITE_PREPARE_PERSISTENT, &fs->stmt[i],
		        NULL) != SQLITE_OK) {
			xasprintf(cause, "outbox: %s", sqlite3_errmsg(fs->db));
			fleet_store_close(fs);
			return NULL;
		}
	}
	return fs;
}

void
fleet_store_close(struct fleet_store *fs)
{
	int i;

	if (fs == NULL)
		return;
	for (i = 0; i < FLEET_STORE_MAX; i++)
		sqlite3_finalize(fs->stmt[i]);
	free(fs);
}

static const char *const fleet_store_kinds[] = {"ban", "unban", "failure"};

/* Step a statement that returns no rows, then reset it. */
static int
fleet_store_step(struct fleet_store *fs, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE)
		snprintf(fs->errmsg, sizeof fs->errmsg, "outbox: %s",
		    sqlite3_errmsg(fs->db));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
fleet_store_outbox_add(struct fleet_store *fs, struct fleet_event *e)
{
	sqlite3_stmt *st = fs->stmt[FLEET_STORE_ADD];

	sqlite3_bind_text(st, 1, fleet_store_kinds[e->kind], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, e->jail, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, e->addr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, e->start);
	sqlite3_bind_int64(st, 5, e->end);
	sqlite3_bind_int(st, 6, e->failures);
	sqlite3_bind_text(st, 7, e->reason, -1, SQLITE_STATIC);
	if (fleet_store_step(fs, st) != 0)
		return -1;
	e->id = sqlite3_last_insert_rowid(fs->db);
	return 0;
}

int
fleet_store_outbox_drop(struct fleet_store *fs, int64_t upto)
{
	sqlite3_stmt *st = fs->stmt[FLEET_STORE_DROP];

	sqlite3_bind_int64(st, 1, upto);
	return fleet_store_step(fs, st);
}

/* Copy a text column into buf. */
static void
fleet_store_text(sqlite3_stmt *st, int i, char *buf, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	snprintf(buf, len, "%s", t != NULL ? (const char *)t : "");
}

int
fleet_store_outbox_load(
    struct fleet_store *fs, struct fleet_event **v, size_t *n)
{
	sqlite3_stmt *st = fs->stmt[FLEET_STORE_LOAD];
	struct fleet_event *e;
	char kind[16];
	size_t c = 0;
	int rc, k;

	*v = NULL;
	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == c) {
			c = c ? c * 2 : 64;
			*v = xreallocarray(*v, c, sizeof **v);
		}
		e = &(*v)[(*n)++];
		memset(e, 0, sizeof *e);
		e->id = sqlite3_column_int64(st, 0);
		fleet_store_text(st, 1, kind, sizeof kind);
		for (k = 0; k < 3; k++) {
			if (strcmp(kind, fleet_store_kinds[k]) == 0)
				e->kind = (enum fleet_kind)k;
		}
		fleet_store_text(st, 2, e->jail, sizeof e->jail);
		fleet_store_text(st, 3, e->addr, sizeof e->addr);
		e->start = sqlite3_column_int64(st, 4);
		e->end = sqlite3_column_int64(st, 5);
		e->failures = sqlite3_column_int(st, 6);
		fleet_store_text(st, 7, e->reason, sizeof e->reason);
	}
	if (rc != SQLITE_DONE)
		snprintf(fs->errmsg, sizeof fs->errmsg, "outbox: %s",
		    sqlite3_errmsg(fs->db));
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

const char *
fleet_store_errmsg(struct fleet_store *fs)
{
	return fs->errmsg;
}
