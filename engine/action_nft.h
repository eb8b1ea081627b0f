/* The native nftables action: jaild's own table, sets and rules in-process. */
#ifndef JAILD_ACTION_NFT_H
#define JAILD_ACTION_NFT_H

#include <stddef.h>

#include "action.h"
#include "addr.h"

/* Longest element timeout nft accepts; longer bans get no timeout. */
#define ACTION_NFT_TIMEOUT_MAX 99999999

/*
 * Map a jail name to an nft identifier, deterministically: [A-Za-z0-9_]
 * kept, anything else becomes '_', at most 32 characters, a leading 'j'
 * if it does not start with a letter; if anything changed, "_" and a hex
 * hash of the original name are appended so two jails never collide.
 * Returns an allocated string.
 */
char *action_nft_name(const char *jail);

/*
 * Read the elements of a's four sets from the kernel (after start).
 * *out (caller frees) gets hosts and prefixes, unsorted.  Returns 0 or
 * -1 with *cause.
 */
int action_nft_list(
    struct action *a, struct addr **out, size_t *n, char **cause);

#endif
