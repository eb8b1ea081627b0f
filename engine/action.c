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
 * (it must accept NULL) and the last action_unref releases a itself.
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
	a->references = 1;
	a->conf = ac;
	a->jail = jc;
	a->config = jc->config != NULL ? config_ref(jc->config) : NULL;
	a->loop = loop;
#ifdef HAVE_NFTABLES
	if (ac->native != NULL && *ac->native != '\0') {
		a->ops = &action_nft_ops;
		return a;
	}
#endif
	a->ops = &action_shell_ops;
	if (action_shell_attach(a, cause) != 0) {
		config_unref(a->config);
		free(a);
		return NULL;
	}
	return a;
}

struct action *
action_ref(struct action *a)
{
	a->references++;
	return a;
}

void
action_unref(struct action *a)
{
	if (a == NULL || --a->references > 0)
		return;
	a->ops->free(a);
	config_unref(a->config);
	free(a);
}

void
action_free(struct action *a)
{
	action_unref(a);
}

int
action_busy(const struct action *a)
{
	return a->ops == &action_shell_ops && action_shell_pending(a) > 0;
}
