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

struct daemon;
struct jail;

enum saturation_mode {
	SATURATION_BAN, /* ban and evict the holders */
	SATURATION_REPORT, /* only log and show whom it would ban */
};

/* The saturation.* keys of a jail, parsed. */
struct saturation_opts {
	uint32_t idle_ms; /* saturation.idle: no data for this long */
	uint64_t maxbytes; /* saturation.maxbytes: at most this from the peer */
	unsigned minconns; /* saturation.minconns: per source or prefix */
	int prefix4; /* saturation.prefix4: 0 groups by source only */
	int prefix6;
	enum saturation_mode mode; /* saturation.mode */
	int64_t notify_interval; /* saturation.notify_interval, seconds */
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

struct saturation;

/* Check the saturation.* keys of jc; each problem goes to errs. */
int saturation_check(const struct jail_conf *jc, struct conf_errors *errs);

/*
 * A saturation line of jail j arrived (the daemon's line callback):
 * count the episode, look at the jail's ports for holders now, ban (or,
 * in report mode, list) them, and look again while some may qualify.
 * The state is made on first use and kept in j->sat.
 */
void saturation_signal(uv_loop_t *, struct daemon *d, struct jail *j,
    const char *line, size_t len, time_t now);

/* Stop the response (its timer) and free it; NULL is a no-op. */
void saturation_free(struct saturation *);

/* "ban", "report", or "off" (no saturation filter or no port list). */
const char *saturation_mode_name(const struct jail *j);

#endif
