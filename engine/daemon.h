/* The daemon: config, jails, sources, store and actions on one loop. */
#ifndef JAILD_DAEMON_H
#define JAILD_DAEMON_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <uv.h>

#include "conf.h"
#include "jail.h"
#include "journal.h"
#include "source.h"
#include "store.h"

struct daemon_opts {
	const char *confdir;
	const char *socket_path; /* NULL: [jaild] socket */
	const char *db_path; /* NULL: [jaild] dbfile */
	const char *pidfile; /* NULL: [jaild] pidfile, if set */
	int foreground;
};

struct daemon;

/*
 * Load and check the configuration, open the store, bind the control
 * socket, restore the bans, start the actions and follow the logs.
 * Config problems go to errs; anything else to *cause.
 */
struct daemon *daemon_create(uv_loop_t *, const struct daemon_opts *,
    struct conf_errors *errs, char **cause);
/* Run until SIGTERM/SIGINT; returns 0 after a clean stop. */
int daemon_run(struct daemon *);
void daemon_free(struct daemon *);

/* Load confdir and compile every enabled jail, as "jaild -n" does. */
int daemon_check_config(const char *confdir, struct conf_errors *errs);

/* What the control commands see and do. */
size_t daemon_njails(const struct daemon *);
struct jail *daemon_jail(const struct daemon *, size_t i);
struct jail *daemon_jail_find(const struct daemon *, const char *name);
size_t daemon_nsources(const struct daemon *);
struct source *daemon_source(const struct daemon *, size_t i);
/* Journal sources (backend = systemd); NULL if one failed to open. */
size_t daemon_njournals(const struct daemon *);
struct journal *daemon_journal(const struct daemon *, size_t i);
struct store *daemon_store(const struct daemon *);
time_t daemon_started(const struct daemon *);
struct metrics *daemon_metrics(const struct daemon *);

/*
 * Ban a in j for bantime seconds (DURATION_FOREVER: permanent).  The ban
 * is written to the store before any action hears of it.  A ban already in
 * force is re-timed.  Returns the ban, or NULL with *cause.
 */
const struct jail_ban *daemon_ban(struct daemon *, struct jail *j,
    const struct addr *a, int64_t bantime, int failures, const char *reason,
    const char *matches, char **cause);
/*
 * Commit what this turn wrote and hand it to the actions now, instead of
 * at the end of the turn: a control command calls it before it replies,
 * so an acknowledged ban survives a kill -9 that follows the reply.
 */
void daemon_flush(struct daemon *);
/*
 * Apply a ban another node of the fleet made (origin), ending at end (0:
 * permanent): stored with its origin, never shared again, and never
 * shortening a ban already in force.
 */
const struct jail_ban *daemon_ban_remote(struct daemon *, struct jail *j,
    const struct addr *a, time_t end, int failures, const char *reason,
    const char *origin);
/* The fleet link, or NULL. */
struct fleet *daemon_fleet(const struct daemon *);
/*
 * Lift the ban of exactly a in j; by says who ("jailctl", "expired").
 * "jailctl" also lifts it on every node of the fleet; "jailctl-local"
 * only here.
 */
int daemon_unban(
    struct daemon *, struct jail *j, const struct addr *a, const char *by);
/* Re-read the config; swapped in only if valid.  Bans are kept. */
int daemon_reload(struct daemon *, struct conf_errors *errs);
/* The [jaild] keys the last reload could not apply ("socket, dbfile"). */
const char *daemon_restart_needed(const struct daemon *);

#endif
