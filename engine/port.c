/* Port lists: parse service names, numbers and ranges into merged ranges. */
#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include "port.h"
#include "xmalloc.h"

/* Look name up as a service of proto, or of tcp then udp if proto is vague. */
static int
port_lookup_service(const char *name, const char *proto, uint16_t *out)
{
	static const char *const any[] = {"tcp", "udp", "sctp", NULL};
	const char *one[] = {proto, NULL};
	const char *const *p = any;
	struct servent *se;
	size_t i;

	for (i = 0; name[i] != '\0'; i++) {
		if (!isalnum((unsigned char)name[i]) && name[i] != '-' &&
		    name[i] != '_' && name[i] != '.' && name[i] != '+')
			return -1;
	}
	if (i == 0 || i > 64)
		return -1;
	if (proto != NULL && strcmp(proto, "all") != 0 &&
	    strchr(proto, ',') == NULL && strchr(proto, ' ') == NULL)
		p = one;
	for (; *p != NULL; p++) {
		se = getservbyname(name, *p);
		if (se != NULL && ntohs((uint16_t)se->s_port) != 0) {
			*out = ntohs((uint16_t)se->s_port);
			return 0;
		}
	}
	return -1;
}

/* Parse one port: a decimal number 1..65535 or a service name. */
static int
port_parse_one(const char *tok, const char *proto, uint16_t *out)
{
	unsigned long v = 0;
	size_t i;

	if (*tok == '\0')
		return -1;
	for (i = 0; tok[i] != '\0'; i++) {
		if (!isdigit((unsigned char)tok[i]))
			return port_lookup_service(tok, proto, out);
		v = v * 10 + (unsigned long)(tok[i] - '0');
		if (v > 65535)
			return -1;
	}
	if (v == 0)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* Parse one item: a port, or a range split at the first ':' or '-'. */
static int
port_parse_item(const char *tok, const char *proto, struct port_range *r)
{
	char *copy, *sep;
	int rc = -1;

	if (port_parse_one(tok, proto, &r->lo) == 0) {
		r->hi = r->lo;
		return 0;
	}
	copy = xstrdup(tok);
	sep = strchr(copy, ':');
	if (sep == NULL)
		sep = strchr(copy, '-');
	if (sep == NULL)
		goto out;
	*sep = '\0';
	/* fail2ban's "0:65535" (every port) starts a range at 0. */
	if (strcmp(copy, "0") == 0)
		r->lo = 0;
	else if (port_parse_one(copy, proto, &r->lo) != 0)
		goto out;
	if (port_parse_one(sep + 1, proto, &r->hi) == 0 && r->lo <= r->hi)
		rc = 0;
out:
	free(copy);
	return rc;
}

static int
port_range_cmp(const void *a, const void *b)
{
	const struct port_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return (x->hi > y->hi) - (x->hi < y->hi);
}

/* Sort ranges and merge the ones that overlap or touch; returns the count. */
static size_t
port_merge(struct port_range *r, size_t n)
{
	size_t i, k = 0;

	if (n == 0)
		return 0;
	qsort(r, n, sizeof *r, port_range_cmp);
	for (i = 1; i < n; i++) {
		if ((uint32_t)r[i].lo <= (uint32_t)r[k].hi + 1) {
			if (r[i].hi > r[k].hi)
				r[k].hi = r[i].hi;
		} else
			r[++k] = r[i];
	}
	return k + 1;
}

/* Parse a port list (see port.h). */
int
port_parse_list(const char *s, const char *proto, struct port_range **out,
    size_t *n, char **cause)
{
	char *copy = NULL, *tok, *save = NULL;
	struct port_range *r = NULL;
	size_t nr = 0;

	*out = NULL;
	*n = 0;
	if (s == NULL)
		return 0;
	copy = xstrdup(s);
	for (tok = strtok_r(copy, ", \t\n", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t\n", &save)) {
		if (strcasecmp(tok, "any") == 0 ||
		    strcasecmp(tok, "all") == 0) {
			free(r);
			free(copy);
			return 0;
		}
		r = xreallocarray(r, nr + 1, sizeof *r);
		if (port_parse_item(tok, proto, &r[nr]) != 0) {
			xasprintf(cause, "bad port \"%s\" in \"%s\"", tok, s);
			goto fail;
		}
		nr++;
	}
	free(copy);
	*n = port_merge(r, nr);
	*out = r;
	if (*n == 1 && r[0].lo <= 1 && r[0].hi == 65535)
		*n = 0; /* every port: the same as "any" */
	if (*n == 0) {
		free(r);
		*out = NULL;
	}
	return 0;
fail:
	free(r);
	free(copy);
	return -1;
}

/* Expand ranges into every port they hold (see port.h). */
uint16_t *
port_expand(const struct port_range *r, size_t n, size_t *nout)
{
	uint16_t *p;
	size_t i, total = 0, k = 0;
	uint32_t v;

	for (i = 0; i < n; i++)
		total += (size_t)r[i].hi - r[i].lo + 1;
	p = xreallocarray(NULL, total ? total : 1, sizeof *p);
	for (i = 0; i < n; i++) {
		for (v = r[i].lo; v <= r[i].hi; v++)
			p[k++] = (uint16_t)v;
	}
	*nout = k;
	return p;
}

/* Format ranges as an nft anonymous set (see port.h). */
char *
port_format_nft(const struct port_range *r, size_t n)
{
	char *buf, *p;
	size_t i, len = 4 + n * 14;

	p = buf = xmalloc(len);
	p += sprintf(p, "{ ");
	for (i = 0; i < n; i++) {
		if (i > 0)
			p += sprintf(p, ", ");
		if (r[i].lo == r[i].hi)
			p += sprintf(p, "%u", r[i].lo);
		else
			p += sprintf(p, "%u-%u", r[i].lo, r[i].hi);
	}
	sprintf(p, " }");
	return buf;
}
