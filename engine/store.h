/* The store: bans and log positions in one SQLite file. */
#ifndef JAILD_STORE_H
#define JAILD_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"

#define STORE_SCHEMA_VERSION 4

struct store_ban {
	int64_t id;
	char jail[64];
	struct addr addr; /* host or prefix */
	time_t start;
	time_t end; /* 0: permanent */
	int failures;
	char reason[32]; /* "failures", "manual", "saturation", ... */
	int active;
	time_t lifted; /* 0 while active or when it simply expired */
	char lifted_by[32]; /* "expired", "jailctl", ... */
	char origin[64]; /* fleet: the node it came from; "" here */
};

struct store_pos {
	char path[4096];
	uint64_t inode;
	uint64_t offset;
	uint64_t headhash; /* hash of the file's first line */
};

/* A good sender: an address that completed a transaction (goodregex). */
struct store_good {
	char jail[64];
	struct addr addr;
	time_t first;
	time_t last;
	int64_t count;
};

struct store;

/*
 * Open (creating) path, or ":memory:".  WAL, schema created or checked: a
 * database from a newer jaild is refused with a message.  The file is made
 * mode 0600; a corrupt file, or a directory, at path is moved aside.  Once
 * open, a lock held by another process fails a write within 10 ms.
 */
struct store *store_open(const char *path, char **cause);
void store_close(struct store *);

/* The database's path, or NULL for ":memory:". */
const char *store_path(const struct store *);
/* Whether this open created the database (it knows no earlier bans). */
int store_fresh(const struct store *);
/* Whether path no longer names the open file: deleted or replaced. */
int store_replaced(const struct store *);
/*
 * After store_replaced: move what stands at the path aside, copy the open
 * (unlinked) database back to the path and open it; *copied is 0 if the
 * copy failed and the new database is fresh.  Returns the new store and
 * closes s, or NULL with *cause and s untouched.
 */
struct store *store_reopen(struct store *s, int *copied, char **cause);

/* One transaction per loop turn; begin is a no-op if one is open. */
int store_begin(struct store *);
int store_commit(struct store *);

/* Insert a ban (active); sets b->id.  Returns 0 or -1. */
int store_ban_insert(struct store *, struct store_ban *b);
/* Mark ban id lifted at when, by whom ("expired", "jailctl", ...). */
int store_ban_lift(struct store *, int64_t id, time_t when, const char *by);
/* Extend or shorten an active ban (re-ban while banned, manual ban). */
int store_ban_set_end(struct store *, int64_t id, time_t end);

typedef int (*store_ban_cb)(const struct store_ban *, void *arg);

/* Every active ban, in start order; the callback returns non-zero to stop. */
int store_ban_foreach_active(struct store *, store_ban_cb, void *arg);
/* Every ban, active or not, of addr or of a prefix containing it. */
int store_ban_foreach_history(
    struct store *, const struct addr *, store_ban_cb, void *arg);
/* How many bans addr had before (for bantime.increment). */
int store_ban_count(struct store *, const struct addr *, const char *jail);

int store_pos_save(struct store *, const struct store_pos *);
/* Returns 0 and fills pos, or -1 if the path has no saved position. */
int store_pos_load(struct store *, const char *path, struct store_pos *pos);

/* The journal's positions: a cursor per journal source name. */
int store_cursor_save(struct store *, const char *name, const char *cursor);
/* Returns the saved cursor (the caller frees it) or NULL. */
char *store_cursor_load(struct store *, const char *name);

/* Delete lifted bans that ended before cutoff; returns rows deleted. */
int store_purge(struct store *, time_t cutoff, int limit);

/* Insert or update a good sender of a jail (inside a transaction). */
int store_good_save(struct store *, const struct store_good *g);
typedef int (*store_good_cb)(const struct store_good *, void *arg);
/* Every good sender of jail last seen at or after since. */
int store_good_foreach(struct store *, const char *jail, time_t since,
    store_good_cb cb, void *arg);
/* Forget good senders last seen before cutoff; returns how many. */
int store_good_purge(struct store *, time_t cutoff);

const char *store_errmsg(struct store *);

/* The SQLite handle, for the fleet's tables (fleet_store.c); borrowed. */
struct sqlite3 *store_sqlite(struct store *);

#endif
