/* Jails: a filter, a failure tracker, actions and the bans in force. */
#ifndef JAILD_JAIL_H
#define JAILD_JAIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <uv.h>

#include "action.h"
#include "addr.h"
#include "config.h"
#include "escalate.h"
#include "filter.h"

struct addrmap;
struct bantime;
struct saturation;
struct selfaddr;
struct tracker;

#define JAIL_SAT_WOULD_MAX 16

struct jail_ban {
	int64_t id; /* the store's row */
	struct addr addr;
	time_t start;
	time_t end; /* 0: permanent */
	int failures;
	char reason[32];
	char origin[64]; /* fleet: the node it came from; "" here */
};

struct jail_stats {
	uint64_t lines;
	uint64_t matched;
	uint64_t ignored;
	uint64_t total_failures;
	uint64_t total_bans;
	uint64_t total_unbans;
	uint64_t sat_count; /* saturation lines seen */
	time_t sat_last;
	uint64_t sat_holders;
	uint64_t sat_banned;
	uint64_t sat_episodes; /* runs of saturation lines (saturation.c) */
	size_t sat_nwould; /* report mode: last holders it would ban */
	struct addr sat_would[JAIL_SAT_WOULD_MAX];
	time_t sat_notify_last; /* last saturation.notify run, or 0 */
	uint64_t sat_notified; /* saturation.notify runs */
};

struct jail {
	char *name;
	const struct jail_conf *conf; /* borrowed from the daemon's config */
	struct filter *filter;
	struct filter *sat_filter;
	/* The saturation filter's goodregex as a filter of its own, or NULL */
	struct filter *good_filter;
	struct saturation *sat; /* the saturation response, daemon-owned */
	struct bantime *bantime; /* bantime.increment and its options */
	struct escalate_conf subnet; /* subnet.* */
	int ignoreself;
	const struct selfaddr *self; /* the daemon's, borrowed, or NULL */
	struct tracker *tracker;
	struct action **actions;
	size_t nactions;
	/* saturation.notify: started and stopped with the actions, or NULL */
	struct action *notify;
	struct addrmap *bans; /* host and prefix bans, by address */
	/*
	 * The prefix bans' addresses, apart: few, and each matched line must
	 * check them, so lookups never walk every host ban.
	 */
	struct addr *prefixes;
	size_t nprefixes;
	struct jail_stats stats;
};

enum jail_verdict {
	JAIL_NONE, /* no filter matched */
	JAIL_IGNORED, /* ignoreregex, ignoreip */
	JAIL_OLD, /* matched, but older than findtime */
	JAIL_BANNED, /* matched an address already banned */
	JAIL_FAILURE, /* counted, maxretry not reached */
	JAIL_BAN, /* maxretry reached: ban ev->addr */
	JAIL_SATURATION, /* the saturation filter matched */
	JAIL_GOOD, /* a goodregex matched: ev->addr completed a transaction */
};

struct jail_event {
	struct addr addr;
	time_t when;
	int failures;
	/* JAIL_BAN: the counted lines (allocated) when an action reports
	 * <matches>, else NULL; the caller frees it. */
	char *matches;
};

/*
 * Compile jc's filters and make (not start) its actions.  Errors name the
 * jail's file:line in *cause.
 */
struct jail *jail_create(uv_loop_t *, const struct jail_conf *jc, char **cause);
void jail_free(struct jail *);

/*
 * Offer one log line.  Pure apart from the jail's own counters: the
 * caller decides what a JAIL_BAN leads to.  now is the wall clock.
 */
enum jail_verdict jail_offer_line(struct jail *, const char *line, size_t len,
    time_t now, struct jail_event *ev);
/*
 * The same for a line whose literals were looked for already, once for
 * every jail on the log (filter_set.h): mask[0] for the filter, mask[1]
 * for the saturation filter, as filter_match_mask takes them.  With
 * both 0 the line cannot match: JAIL_NONE, and *ev is left alone.
 */
enum jail_verdict jail_offer_masked(struct jail *, const char *line, size_t len,
    time_t now, const uint64_t mask[2], struct jail_event *ev);

int jail_ignores(const struct jail *, const struct addr *);
/*
 * Tell whether banning a (a host or a prefix) would block an address the
 * jail ignores: 1 if a overlaps an ignoreip entry, 2 if it holds one of
 * the host's addresses (ignoreself); *hit is that entry or address.
 */
int jail_ignore_overlap(
    const struct jail *, const struct addr *a, struct addr *hit);
/* The ban covering a (itself, or a prefix containing it), or NULL. */
struct jail_ban *jail_ban_find(const struct jail *, const struct addr *a);
/* The ban of exactly a, or NULL. */
struct jail_ban *jail_ban_get(const struct jail *, const struct addr *a);
struct jail_ban *jail_ban_add(struct jail *, const struct jail_ban *b);
void jail_ban_remove(struct jail *, const struct addr *a);
size_t jail_ban_count(const struct jail *);
/* Every ban in address order; the caller frees the array. */
struct jail_ban **jail_ban_list(const struct jail *, size_t *n);

/* Tell every action of the jail; b is borrowed. */
void jail_actions_ban(
    struct jail *, const struct jail_ban *b, const char *matches);
void jail_actions_unban(struct jail *, const struct jail_ban *b);
int jail_actions_start(struct jail *, char **cause);
void jail_actions_stop(struct jail *);
void jail_actions_flush(struct jail *);
void jail_actions_restore(struct jail *);
/* Run the saturation.notify action, if any, for episode b. */
void jail_notify(struct jail *, const struct action_ban *b);
/*
 * At a reload that hands o's running actions to successor n: stop o's
 * notify action and start n's (it may have changed).
 */
void jail_notify_handover(struct jail *o, struct jail *n);
/* Fill an action_ban from a jail ban. */
void jail_ban_describe(const struct jail *, const struct jail_ban *b,
    const char *matches, struct action_ban *out);

#endif
