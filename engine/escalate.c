/* Subnet escalation decisions: pure, over a jail's bans and the time. */
#include <stdlib.h>
#include <string.h>

#include "conf_table.h"
#include "config.h"
#include "escalate.h"
#include "jail.h"
#include "selfaddr.h"
#include "xmalloc.h"

/* Read one table-checked number of jc (its value or the default). */
static int
escalate_number(
    const struct jail_conf *jc, const char *key, int64_t *out, char **cause)
{
	const struct conf_table_entry *t =
	    conf_table_find(CONF_TABLE_JAIL, key);
	const char *v = NULL;
	char *why = NULL;
	size_t i;
	int line = jc->line;
	const char *file = jc->file;

	for (i = 0; i < jc->nvars; i++) {
		if (strcmp(jc->vars[i].key, key) == 0) {
			v = jc->vars[i].value;
			file = jc->vars[i].file;
			line = jc->vars[i].line;
		}
	}
	if (v == NULL)
		v = t != NULL ? t->dflt : NULL;
	*out = 0;
	if (v == NULL || t == NULL)
		return 0;
	v += strspn(v, " \t\n");
	if (conf_table_check(t, v, out, &why) == 0)
		return 0;
	xasprintf(cause, "%s:%d: %s", file, line, why);
	free(why);
	return -1;
}

int
escalate_conf_load(
    const struct jail_conf *jc, struct escalate_conf *ec, char **cause)
{
	int64_t threshold, p4, p6;

	memset(ec, 0, sizeof *ec);
	if (escalate_number(jc, "subnet.threshold", &threshold, cause) != 0 ||
	    escalate_number(jc, "subnet.prefix4", &p4, cause) != 0 ||
	    escalate_number(jc, "subnet.prefix6", &p6, cause) != 0 ||
	    escalate_number(jc, "subnet.window", &ec->window, cause) != 0)
		return -1;
	ec->threshold = (int)threshold;
	ec->prefix4 = (int)p4;
	ec->prefix6 = (int)p6;
	return 0;
}

int
escalate_folds(const struct addr *p, const struct addr *b)
{
	return addr_is_host(b) && !addr_equal(p, b) && addr_contains(p, b);
}

/* True if p overlaps an ignoreip entry or covers one of our addresses. */
static int
escalate_guarded(const struct escalate_guard *g, const struct addr *p)
{
	size_t i;

	if (g == NULL)
		return 0;
	for (i = 0; i < g->nignore; i++) {
		if (addr_contains(p, &g->ignore[i]) ||
		    addr_contains(&g->ignore[i], p))
			return 1;
	}
	return selfaddr_covers(g->self, p);
}

int
escalate_decide(const struct escalate_conf *ec, struct jail_ban *const *bans,
    size_t n, const struct addr *a, time_t now,
    const struct escalate_guard *guard, struct addr *out)
{
	struct addr p;
	size_t i;
	int len, count = 1; /* a itself */

	if (ec->threshold <= 0 || !addr_is_host(a))
		return 0;
	len = a->family == AF_INET ? ec->prefix4 : ec->prefix6;
	if (len <= 0 || len >= addr_max_prefixlen(a))
		return 0;
	p = *a;
	addr_truncate(&p, len);
	for (i = 0; i < n; i++) {
		if (addr_equal(&bans[i]->addr, &p) ||
		    (!addr_is_host(&bans[i]->addr) &&
		        addr_contains(&bans[i]->addr, a)))
			return 0; /* already covered by a prefix ban */
		if (!escalate_folds(&p, &bans[i]->addr) ||
		    addr_equal(&bans[i]->addr, a))
			continue;
		if (ec->window > 0 && bans[i]->start < now - ec->window)
			continue;
		count++;
	}
	if (count < ec->threshold || escalate_guarded(guard, &p))
		return 0;
	*out = p;
	return 1;
}
