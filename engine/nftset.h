/* nftset: reading an nftables set's elements over raw netlink, fast. */
#ifndef JAILD_NFTSET_H
#define JAILD_NFTSET_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* One element of a set: a host, or a prefix of an interval set. */
struct nftset_elem {
	struct addr addr;
	uint64_t
	    expires_ms; /* time left before the kernel drops it; 0: never */
};

/*
 * Dump the elements of set name in table (family inet) whose key is an
 * af address (AF_INET or AF_INET6), with one NFT_MSG_GETSETELEM dump: no
 * JSON and no nft cache.  An interval set's ranges come back as prefixes;
 * a range that is not a prefix, or a key of the wrong length, is skipped
 * and counted in *nodd (may be NULL).  *out (caller frees) is unsorted.
 * Returns 0, or -1 with *cause.
 */
int nftset_list(const char *table, const char *name, int af, int interval,
    struct nftset_elem **out, size_t *n, size_t *nodd, char **cause);

/*
 * The same for a hash set of hosts, for a stale sweep: a dump that a
 * concurrent change interrupts is read to its end anyway (the kernel
 * only ever reports elements the set held while the dump ran, but may
 * miss some), and *interrupted says so.
 */
int nftset_list_loose(const char *table, const char *name, int af,
    struct nftset_elem **out, size_t *n, int *interrupted, char **cause);

/*
 * Look up n hosts (all of family af) in hash set name by key, with
 * batches of non-dump NFT_MSG_GETSETELEM requests: one hash lookup
 * each, where a dump of a large set costs time quadratic in its size.
 * found[i] is set to 1 and expires_ms[i] to the time left if keys[i] is
 * in the set, found[i] to 0 if not.  Returns 0, or -1 with *cause.
 */
int nftset_get(const char *table, const char *name, int af,
    const struct addr *keys, size_t n, uint8_t *found, uint64_t *expires_ms,
    char **cause);

#endif
