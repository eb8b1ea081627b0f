/* The saturation response: find the idle slot-holders of a full service. */
#ifndef JAILD_SATURATION_H
#define JAILD_SATURATION_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <uv.h>

#include "addr.h"
#include "config.h"
#include "sockdiag.h"
#include "store.h"

struct jail;
struct store;

enum saturation_mode {
	SATURATION_BAN, /* ban and evict the holders */
	SATURATION_REPORT, /* only log and show whom it would ban */
};

enum saturation_watch {
	SATURATION_WATCH_EPISODE, /* watch from the first saturation line */
	SATURATION_WATCH_ALWAYS, /* watch from the start */
};

/* The saturation.* keys of a jail, parsed. */
struct saturation_opts {
	uint32_t idle_ms; /* saturation.idle: no data for this long */
	/*
	 * A connection whose client spoke last (it waits for the server)
	 * needs this long instead, if longer (0: idle_ms).  Set per look.
	 */
	uint32_t waiting_ms;
	uint64_t maxbytes; /* saturation.maxbytes: at most this from the peer */
	unsigned minconns; /* saturation.minconns: per source or prefix */
	int prefix4; /* saturation.prefix4: 0 groups by source only */
	int prefix6;
	enum saturation_mode mode; /* saturation.mode */
	int64_t notify_interval; /* saturation.notify_interval, seconds */
	enum saturation_watch watch; /* saturation.watch */
	uint32_t pressure_idle_ms; /* saturation.pressure_idle */
	unsigned pressure; /* saturation.pressure, % of the child limit */
	unsigned pressure_high; /* saturation.pressure_high, % */
	unsigned slots; /* saturation.slots: the child limit; 0 learns it */
	unsigned prefixhosts; /* saturation.prefixhosts: 0 never */
	unsigned prefixhosts_full; /* the same while idle holders fill it */
	int64_t goodtime; /* saturation.goodtime: good senders kept */
};

/* One slot-holder: a source and how many idle connections it holds. */
struct saturation_holder {
	struct addr addr;
	unsigned conns;
};

/* What one look at the sockets decided. */
struct saturation_verdict {
	struct saturation_holder *holders; /* caller frees */
	size_t nholders;
	/*
	 * Sources not taken now only because a connection of theirs spoke
	 * too recently to tell: look again in wait_ms (0: none waits).
	 */
	uint32_t wait_ms;
};

/* How full the service is, from its open connections and child limit. */
enum saturation_level {
	SATURATION_CALM, /* below saturation.pressure, or no limit known */
	SATURATION_PRESSURE, /* holders are taken at saturation.idle */
	SATURATION_HIGH, /* refusing, or near the limit: pressure_idle */
};

/*
 * Read the saturation.* keys of jc into o (defaults for those unset).
 * Returns -1 with *cause naming file:line on a bad value.
 */
int saturation_opts_parse(
    const struct jail_conf *jc, struct saturation_opts *o, char **cause);

/*
 * Decide, from a list of server-side sockets, who holds the slots: the
 * sources none of whose connections sent more than maxbytes or sent
 * anything within idle_ms, with at least minconns such connections of
 * their own or within their prefix.  Addresses in ignore (n prefixes)
 * are never holders.  Pure: no clock, no kernel.
 */
void saturation_decide(const struct saturation_opts *o,
    const struct sockdiag_sock *socks, size_t nsocks, const struct addr *ignore,
    size_t nignore, struct saturation_verdict *out);

/*
 * The level for conns open connections against a child limit (0:
 * unknown), refusing: the service said it refuses connections lately.
 * Pure.
 */
enum saturation_level saturation_level(const struct saturation_opts *o,
    size_t conns, unsigned limit, int refusing);

/* The child limit a saturation line gives ("max 15"), or 0. */
unsigned saturation_line_limit(const char *line, size_t len);

/* Check the saturation.* keys of jc; each problem goes to errs. */
int saturation_check(const struct jail_conf *jc, struct conf_errors *errs);

/*
 * What the saturation response needs from its owner: a way to ban (a
 * host or a prefix, reason "saturation", through the jail's actions;
 * returns 0 or -1) and the store that keeps the good senders (asked each
 * time, as the owner may reopen it; NULL: none).
 */
struct saturation_env {
	int (*ban)(void *arg, struct jail *j, const struct addr *a,
	    int failures, const char *matches);
	struct store *(*store)(void *arg);
	void *arg;
};

/* Counters of one response, since it was made (start or reload). */
struct saturation_stats {
	uint64_t looks; /* socket lists read */
	uint64_t pressure_looks; /* of which found the service under pressure */
	uint64_t watch_banned; /* holders banned by the watch between lines */
	uint64_t prefix_banned; /* prefixes banned on evidence */
	/* prefix bans withheld: a good sender, ignoreip or own address in it */
	uint64_t prefix_spared;
	uint64_t good_learned; /* goodregex lines */
	size_t conns; /* open connections at the last look */
	unsigned limit; /* the child limit in use, 0 unknown */
	int watching;
	enum saturation_level level;
};

struct saturation;

/*
 * Make the response of jail j (which has a saturation.filter) and load
 * its good senders; with saturation.watch = always it starts watching.
 * env is copied.
 */
struct saturation *saturation_create(
    uv_loop_t *, struct jail *j, const struct saturation_env *env);

/*
 * A saturation line arrived: count the episode, learn the child limit,
 * look at the jail's ports for holders now (off the loop), ban (or, in
 * report mode, list) them, and keep watching the ports every second.
 */
void saturation_signal(
    struct saturation *, const char *line, size_t len, time_t now);

/* A goodregex line: a completed a transaction at when. */
void saturation_good(struct saturation *, const struct addr *a, time_t when);

/*
 * Stop watching, cancel what is queued, save the good senders, and free
 * the response once its handles are closed; NULL is a no-op.  A look
 * already running finishes in the worker and is then dropped.
 */
void saturation_free(struct saturation *);

/* Whether a look or an eviction is still running (for tests). */
int saturation_busy(const struct saturation *);

const struct saturation_stats *saturation_stats(const struct saturation *);
/* The good senders' count, and the max newest into out. */
size_t saturation_good_count(const struct saturation *);
size_t saturation_good_recent(
    const struct saturation *, struct store_good *out, size_t max);

/* "ban", "report", or "off" (no saturation filter or no port list). */
const char *saturation_mode_name(const struct jail *j);

#endif
