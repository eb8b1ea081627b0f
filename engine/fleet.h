/* The fleet: the link to the other servers, sharing bans through PostgreSQL. */
#ifndef JAILD_FLEET_H
#define JAILD_FLEET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>
#include <uv.h>

#include "addr.h"
#include "fleet_conf.h"

struct daemon;
struct jail;
struct store;

enum fleet_kind {
	FLEET_BAN,
	FLEET_UNBAN,
	FLEET_FAILURE,
};

/* One row of the shared events table, as it travels. */
struct fleet_event {
	int64_t id; /* PostgreSQL's id (incoming) or the outbox seq */
	enum fleet_kind kind;
	char node[64]; /* where it happened */
	char jail[64];
	char addr[64]; /* text, checked before any use */
	int64_t start; /* ban: start; failure: the line's time */
	int64_t end; /* ban: end, 0 permanent */
	int failures;
	char reason[32];
	int64_t created_ms; /* incoming: when PostgreSQL got it */
};

/* What jailctl fleet and the metrics show. */
struct fleet_stats {
	int connected;
	uint64_t sent; /* events PostgreSQL acknowledged */
	uint64_t received; /* remote events applied or refused */
	uint64_t applied;
	uint64_t refused; /* bad rows */
	uint64_t ignored; /* would cover ignoreip/ignoreself here */
	size_t queued; /* events not yet acknowledged */
	double lag; /* seconds, the last remote event applied */
	int64_t cursor; /* the last id applied */
};

struct fleet;

/*
 * Start the link described by fc: load the events the outbox still holds,
 * the applied cursor, and start the worker thread that talks to
 * PostgreSQL.  The loop thread never waits on the network.
 */
struct fleet *fleet_create(uv_loop_t *, struct daemon *d,
    const struct fleet_conf *fc, struct store *st, char **cause);
void fleet_free(struct fleet *);

/* Share a local event of jail j (no-op if j's fleet mode is off). */
void fleet_publish(struct fleet *, const struct jail *j, enum fleet_kind kind,
    const struct addr *a, time_t start, time_t end, int failures,
    const char *reason);

/*
 * Inside the turn's open store transaction: write the new outgoing
 * events and the applied cursor.  fleet_store_done follows a successful
 * commit; after a failed one the writes are made again next time.
 */
int fleet_store_dirty(const struct fleet *);
int fleet_store_write(struct fleet *, struct store *);
void fleet_store_done(struct fleet *);

void fleet_stats(const struct fleet *, struct fleet_stats *out);
/* jailctl fleet: this node, the nodes PostgreSQL knows, the queue. */
json_t *fleet_json(const struct fleet *);
/* The jaild_fleet_* metrics; nothing for a NULL fleet. */
void fleet_metrics_render(FILE *out, const struct fleet *);

#endif
