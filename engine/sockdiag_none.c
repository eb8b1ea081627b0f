/* The connection lister of a build without sock_diag: there is none. */
#include <errno.h>
#include <stddef.h>

#include "sockdiag.h"
#include "xmalloc.h"

/*
 * platform_check_jail refuses a jail with saturation.filter in such a
 * build, so these run only if a caller forgot to check: they fail with
 * ENOSYS and say why rather than report zero connections.
 */
static int
sockdiag_none(char **cause)
{
	xasprintf(cause, "listing connections is not available in this build "
	                 "(configured without sockdiag)");
	errno = ENOSYS;
	return -1;
}

int
sockdiag_foreach(uint8_t family, const uint16_t *lports, size_t nlports,
    sockdiag_cb cb, void *arg, char **cause)
{
	return sockdiag_none(cause);
}

int
sockdiag_destroy(const struct sockdiag_sock *s, char **cause)
{
	return sockdiag_none(cause);
}

int
sockdiag_destroy_from(const struct addr *prefix, const uint16_t *lports,
    size_t nlports, unsigned *destroyed, char **cause)
{
	*destroyed = 0;
	return sockdiag_none(cause);
}

int
sockdiag_destroy_from_list(const struct addr *prefixes, size_t n,
    const uint16_t *lports, size_t nlports, unsigned *destroyed, char **cause)
{
	size_t i;

	for (i = 0; i < n; i++)
		destroyed[i] = 0;
	return sockdiag_none(cause);
}
