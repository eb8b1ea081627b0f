/* platform: the parts this build has, and refusing a jail that needs more. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "config.h"
#include "platform.h"

unsigned
platform_parts(void)
{
	unsigned p = 0;

#ifdef HAVE_NFTABLES
	p |= PLATFORM_NFTABLES;
#endif
#ifdef HAVE_SOCKDIAG
	p |= PLATFORM_SOCKDIAG;
#endif
#ifdef HAVE_SYSTEMD
	p |= PLATFORM_SYSTEMD;
#endif
	return p;
}

const char *
platform_describe(void)
{
	static char buf[64];
	unsigned p = platform_parts();

	snprintf(buf, sizeof buf, "%cnftables %csockdiag %csystemd",
	    p & PLATFORM_NFTABLES ? '+' : '-',
	    p & PLATFORM_SOCKDIAG ? '+' : '-',
	    p & PLATFORM_SYSTEMD ? '+' : '-');
	return buf;
}

/* Refuse a key of jc (or the jail line if unset) for a missing part. */
static int
platform_refuse(const struct jail_conf *jc, const char *key, const char *what,
    const char *option, struct conf_errors *errs)
{
	const struct config_var *v = config_var_find(jc->vars, jc->nvars, key);

	conf_errors_add(errs, v != NULL ? v->file : jc->file,
	    v != NULL ? v->line : jc->line,
	    "jail %s: %s: %s is not available in this build "
	    "(configured %s)",
	    jc->name, key, what, option);
	return 1;
}

int
platform_check_jail(const struct jail_conf *jc, struct conf_errors *errs)
{
	const struct config_var *v;
	unsigned p = platform_parts();
	int n = 0;
	size_t i;

	/* ac->line is where the jail named the action, in the jail's file. */
	for (i = 0; i < jc->nactions; i++) {
		if ((p & PLATFORM_NFTABLES) || jc->actions[i]->native == NULL)
			continue;
		v = config_var_find(jc->vars, jc->nvars, "action");
		conf_errors_add(errs, v != NULL ? v->file : jc->file,
		    jc->actions[i]->line,
		    "jail %s: action: the native %s action (%s) is not "
		    "available in this build (configured without nftables); "
		    "set banaction or action to a shell action such as pf, "
		    "ipfw or ipset",
		    jc->name, jc->actions[i]->native, jc->actions[i]->name);
		n++;
	}
	if (!(p & PLATFORM_SOCKDIAG) && jc->saturation_filter != NULL)
		n += platform_refuse(jc, "saturation.filter",
		    "the saturation response (it lists and evicts the "
		    "connections that hold the slots)",
		    "without sockdiag", errs);
	if (!(p & PLATFORM_SYSTEMD) && jc->backend != NULL &&
	    strcmp(jc->backend, "systemd") == 0)
		n += platform_refuse(jc, "backend", "the systemd journal",
		    "without systemd", errs);
	return n;
}
