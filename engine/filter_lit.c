/* The literal prefilter: a string every match of a regex must contain. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "filter_lit.h"
#include "xmalloc.h"

#define FILTER_LIT_MIN 3 /* shorter literals do not pay for memmem */

/* Skip a character class starting at p ('['); returns past its ']'. */
static const char *
filter_lit_skip_class(const char *p)
{
	p++;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	while (*p != '\0' && *p != ']') {
		if (*p == '\\' && p[1] != '\0')
			p++;
		else if (p[0] == '[' && p[1] == ':') {
			const char *e = strstr(p + 2, ":]");
			if (e != NULL)
				p = e + 1;
		}
		p++;
	}
	return *p == ']' ? p + 1 : NULL;
}

/* Skip a group starting at p ('('); returns past its ')', or NULL. */
static const char *
filter_lit_skip_group(const char *p)
{
	int depth = 0;

	while (*p != '\0') {
		if (*p == '\\') {
			if (*++p == '\0')
				return NULL;
		} else if (*p == '[') {
			if ((p = filter_lit_skip_class(p)) == NULL)
				return NULL;
			continue;
		} else if (*p == '(')
			depth++;
		else if (*p == ')' && --depth == 0)
			return p + 1;
		p++;
	}
	return NULL;
}

/* Skip a quantifier at p, if there is one; *opt says it allows zero. */
static const char *
filter_lit_skip_quant(const char *p, int *opt)
{
	const char *q;

	*opt = 0;
	if (*p == '*' || *p == '?')
		*opt = 1;
	else if (*p == '{') {
		q = p + 1;
		if (!isdigit((unsigned char)*q))
			return p;
		*opt = *q == '0' && !isdigit((unsigned char)q[1]);
		q += strspn(q, "0123456789,");
		if (*q != '}')
			return p;
		p = q;
	} else if (*p != '+')
		return p;
	p++;
	if (*p == '?' || *p == '+')
		p++;
	return p;
}

/*
 * Tell whether p starts an option setting such as "(?i)" that holds to
 * the end of the enclosing group.  At the top level it changes the rest
 * of the pattern (case, spaces); inside a group it ends with the group,
 * which is skipped anyway, and "(?i:...)" is a group of its own.
 */
static int
filter_lit_option(const char *p)
{
	if (p[0] != '(' || p[1] != '?')
		return 0;
	p += 2;
	p +=
	    strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ^-");
	return *p == ')';
}

/* A run of literal bytes being collected. */
struct filter_lit_run {
	char *s;
	size_t len;
};

/* Keep the longer of the current run and the best one. */
static void
filter_lit_flush(struct filter_lit_run *cur, struct filter_lit_run *best)
{
	if (cur->len > best->len) {
		memcpy(best->s, cur->s, cur->len);
		best->len = cur->len;
	}
	cur->len = 0;
}

/*
 * Find the longest literal that every match of the PCRE2 pattern p must
 * contain: a run of plain characters at the top level of the pattern.
 * Anything unusual (top-level '|' or option setting, \Q, verbs) gives
 * up: no literal only costs speed, a wrong one would lose matches.
 */
static int
filter_lit_longest(const char *p, struct filter_lit_run *best)
{
	struct filter_lit_run cur;
	const char *q;
	int opt, lit;
	char c;

	cur.s = xmalloc(strlen(p) + 1);
	cur.len = 0;
	/* \Q quotes and (*ACCEPT) and other verbs: not worth the risk */
	if (strstr(p, "\\Q") != NULL || strstr(p, "(*") != NULL)
		goto none;
	while (*p != '\0') {
		lit = 0;
		if (*p == '|' || filter_lit_option(p))
			goto none;
		if (*p == '(')
			q = filter_lit_skip_group(p);
		else if (*p == '[')
			q = filter_lit_skip_class(p);
		else if (*p == '\\') {
			c = p[1];
			if (c == '\0' || strchr("cxopPgkNE", c) != NULL)
				goto none;
			lit = !isalnum((unsigned char)c);
			q = p + 2;
		} else {
			c = *p;
			lit = strchr(".^$*+?{)", c) == NULL;
			q = p + 1;
		}
		if (q == NULL)
			goto none;
		q = filter_lit_skip_quant(q, &opt);
		if (lit && q == p + (*p == '\\' ? 2 : 1))
			cur.s[cur.len++] = c;
		else
			filter_lit_flush(&cur, best);
		p = q;
	}
	filter_lit_flush(&cur, best);
	free(cur.s);
	return 0;
none:
	free(cur.s);
	return -1;
}

/* Guess how rare byte c is in log text: higher is rarer. */
int
filter_lit_rarity(unsigned char c)
{
	static const char order[] = "etaoinsrhldcumfpgwybvkxjqz";
	const char *p;

	if (c == ' ' || isdigit(c))
		return 0;
	if ((p = strchr(order, tolower(c))) != NULL)
		return 2 + (int)(p - order) + (isupper(c) ? 30 : 0);
	return isalnum(c) ? 1 : 20; /* punctuation: in between */
}

/* Pick the rarest byte of the literal for memchr. */
static void
filter_lit_rare(struct filter_lit *l)
{
	size_t i;

	l->rare = 0;
	for (i = 1; i < l->len; i++)
		if (filter_lit_rarity((unsigned char)l->s[i]) >
		    filter_lit_rarity((unsigned char)l->s[l->rare]))
			l->rare = i;
}

/*
 * Find l's literal in s[0..len): memchr for its rarest byte, then
 * compare.  Several times faster than memmem on log text, where the
 * literal's first bytes (often a space) are everywhere.
 */
const char *
filter_lit_find(const struct filter_lit *l, const char *s, size_t len)
{
	const char *p, *end, *q;
	unsigned char c;

	if (len < l->len)
		return NULL;
	c = (unsigned char)l->s[l->rare];
	p = s + l->rare;
	end = s + len - (l->len - l->rare - 1);
	while (p < end && (q = memchr(p, c, (size_t)(end - p))) != NULL) {
		if (memcmp(q - l->rare, l->s, l->len) == 0)
			return q - l->rare;
		p = q + 1;
	}
	return NULL;
}

/* Find the literal every match of PCRE2 pattern p contains. */
int
filter_lit_extract(const char *p, struct filter_lit *l)
{
	struct filter_lit_run best;

	memset(l, 0, sizeof *l);
	best.s = xmalloc(strlen(p) + 1);
	best.len = 0;
	if (filter_lit_longest(p, &best) != 0 || best.len < FILTER_LIT_MIN) {
		free(best.s);
		return -1;
	}
	best.s[best.len] = '\0';
	l->s = best.s;
	l->len = best.len;
	filter_lit_rare(l);
	return 0;
}

void
filter_lit_clear(struct filter_lit *l)
{
	free(l->s);
	memset(l, 0, sizeof *l);
}
