/* Actions: make the shell or native implementation an action file names. */
#include <stdlib.h>
#include <string.h>

#include "action.h"
#include "action_shell.h"
#include "xmalloc.h"

/*
 * Contract with the implementations: action_create fills struct action;
 * the shell one attaches its state here, a native one makes its state
 * when it needs it (a->impl starts NULL).  ops->free releases a->impl
 * (it must accept NULL) and action_free releases a itself.
 */
struct action *
action_create(uv_loop_t *loop, const struct action_conf *ac,
    const struct jail_conf *jc, char **cause)
{
	struct action *a;

	if (ac->native != NULL && *ac->native != '\0' &&
	    strcmp(ac->native, "nftables") != 0) {
		xasprintf(cause, "jail %s: action %s: unknown native action %s",
		    jc->name, ac->name, ac->native);
		return NULL;
	}
#ifndef HAVE_NFTABLES
	if (ac->native != NULL && *ac->native != '\0') {
		xasprintf(cause,
		    "jail %s: action %s: native action %s is not available "
		    "in this build (configured without nftables)",
		    jc->name, ac->name, ac->native);
		return NULL;
	}
#endif
	a = xcalloc(1, sizeof *a);
	a->conf = ac;
	a->jail = jc;
	a->loop = loop;
#ifdef HAVE_NFTABLES
	if (ac->native != NULL && *ac->native != '\0') {
		a->ops = &action_nft_ops;
		return a;
	}
#endif
	a->ops = &action_shell_ops;
	if (action_shell_attach(a, cause) != 0) {
		free(a);
		return NULL;
	}
	return a;
}

/* Release an action; a shell command still running is killed. */
void
action_free(struct action *a)
{
	if (a == NULL)
		return;
	a->ops->free(a);
	free(a);
}
