/* platform: which OS-specific parts this build has, and who needs them. */
#ifndef JAILD_PLATFORM_H
#define JAILD_PLATFORM_H

#include "conf.h"
#include "config.h"

/*
 * The parts configure may leave out, each behind its own interface: the
 * native firewall action (action_nft.c), the connection lister and
 * eviction of the saturation response (sockdiag.c, or sockdiag_none.c)
 * and the journal source (journal.c).
 */
#define PLATFORM_NFTABLES 0x1
#define PLATFORM_SOCKDIAG 0x2
#define PLATFORM_SYSTEMD 0x4

/* The PLATFORM_* parts this build has. */
unsigned platform_parts(void);

/*
 * The parts as one line for jaild -V, e.g. "+nftables +sockdiag -systemd";
 * borrowed.
 */
const char *platform_describe(void);

/*
 * Add an error naming the jail and the key (file:line) for each key of jc
 * that needs a part this build lacks.  Returns the number added.
 */
int platform_check_jail(const struct jail_conf *jc, struct conf_errors *errs);

#endif
