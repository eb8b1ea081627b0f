/* The literal prefilter: strings every match of a regex must contain. */
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

/* The runs of literal bytes of a pattern, in order. */
struct filter_lit_runs {
	char *buf; /* every run, back to back */
	size_t len;
	size_t start[2], n[2]; /* the two longest runs so far */
	size_t cur; /* where the current run starts in buf */
};

/* End the current run; keep it if it is one of the two longest. */
static void
filter_lit_flush(struct filter_lit_runs *r)
{
	size_t n = r->len - r->cur;

	if (n > r->n[0]) {
		r->start[1] = r->start[0];
		r->n[1] = r->n[0];
		r->start[0] = r->cur;
		r->n[0] = n;
	} else if (n > r->n[1]) {
		r->start[1] = r->cur;
		r->n[1] = n;
	}
	r->cur = r->len;
}

/*
 * Collect the runs of plain characters at the top level of the PCRE2
 * pattern p: every match contains each of them, in order, apart.
 * Anything unusual (top-level '|' or option setting, \Q, verbs such as
 * (*ACCEPT)) gives up: no literal only costs speed, a wrong one would
 * lose matches.
 */
static int
filter_lit_runs(const char *p, struct filter_lit_runs *r)
{
	const char *q;
	int opt, lit;
	char c = 0;

	if (strstr(p, "\\Q") != NULL || strstr(p, "(*") != NULL)
		return -1;
	while (*p != '\0') {
		lit = 0;
		if (*p == '|' || filter_lit_option(p))
			return -1;
		if (*p == '(')
			q = filter_lit_skip_group(p);
		else if (*p == '[')
			q = filter_lit_skip_class(p);
		else if (*p == '\\') {
			c = p[1];
			if (c == '\0' || strchr("cxopPgkNE", c) != NULL)
				return -1;
			lit = !isalnum((unsigned char)c);
			q = p + 2;
		} else {
			c = *p;
			lit = strchr(".^$*+?{)", c) == NULL;
			q = p + 1;
		}
		if (q == NULL)
			return -1;
		/* a '{' that is no quantifier here may be one elsewhere */
		if (*q == '{')
			lit = 0;
		q = filter_lit_skip_quant(q, &opt);
		if (lit && q == p + (*p == '\\' ? 2 : 1))
			r->buf[r->len++] = c;
		else
			filter_lit_flush(r);
		p = q;
	}
	filter_lit_flush(r);
	return 0;
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

/* Copy a piece and pick its rarest byte for memchr. */
static void
filter_lit_piece(struct filter_lit_piece *l, const char *s, size_t len)
{
	size_t i;

	l->s = xstrndup(s, len);
	l->len = len;
	l->rare = 0;
	for (i = 1; i < l->len; i++)
		if (filter_lit_rarity((unsigned char)l->s[i]) >
		    filter_lit_rarity((unsigned char)l->s[l->rare]))
			l->rare = i;
}

/*
 * Find piece l in s[0..len): memchr for its rarest byte, then compare.
 * Several times faster than memmem on log text, where the piece's first
 * bytes (often a space) are everywhere.
 */
static const char *
filter_lit_find_piece(
    const struct filter_lit_piece *l, const char *s, size_t len)
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

/* Tell whether either piece of l is in s[0..len). */
int
filter_lit_find(const struct filter_lit *l, const char *s, size_t len)
{
	return filter_lit_find_piece(&l->p[0], s, len) != NULL ||
	       (l->p[1].s != NULL &&
	           filter_lit_find_piece(&l->p[1], s, len) != NULL);
}

/* Tell whether c is a word byte: a date's lead never holds one. */
static int
filter_lit_word(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/*
 * With a date cut within the first lead bytes of a line, a run can only
 * be split if it begins with what came before the date: drop up to lead
 * bytes from its start (only non-word ones when nonword) and the rest is
 * in the line as read.
 */
static int
filter_lit_one(const struct filter_lit_runs *r, int lead, int nonword,
    struct filter_lit *l)
{
	size_t t = 0, n = r->n[0];
	const char *s = r->buf + r->start[0];

	while (
	    t < (size_t)lead && t < n && (!nonword || !filter_lit_word(s[t])))
		t++;
	if (n - t < FILTER_LIT_MIN)
		return -1;
	filter_lit_piece(&l->p[0], s + t, n - t);
	return 0;
}

/*
 * Choose two pieces every match of PCRE2 pattern p contains apart from
 * each other: the two longest runs, or the two halves of the longest,
 * whichever makes the shorter piece longer.
 */
static int
filter_lit_two(const struct filter_lit_runs *r, struct filter_lit *l)
{
	size_t h = r->n[0] / 2;

	if (r->n[1] >= h && r->n[1] >= FILTER_LIT_MIN) {
		filter_lit_piece(&l->p[0], r->buf + r->start[0], r->n[0]);
		filter_lit_piece(&l->p[1], r->buf + r->start[1], r->n[1]);
	} else if (h >= FILTER_LIT_MIN) {
		filter_lit_piece(&l->p[0], r->buf + r->start[0], r->n[0] - h);
		filter_lit_piece(
		    &l->p[1], r->buf + r->start[0] + r->n[0] - h, h);
	} else
		return -1;
	return 0;
}

/* Find the literal pieces of PCRE2 pattern p; see filter_lit.h. */
int
filter_lit_extract(const char *p, int lead, int nonword, struct filter_lit *l)
{
	struct filter_lit_runs r;
	int rc = -1;

	memset(l, 0, sizeof *l);
	memset(&r, 0, sizeof r);
	r.buf = xmalloc(strlen(p) + 1);
	if (filter_lit_runs(p, &r) == 0) {
		if (lead >= 0)
			rc = filter_lit_one(&r, lead, nonword, l);
		if (rc != 0)
			rc = filter_lit_two(&r, l);
	}
	free(r.buf);
	return rc;
}

void
filter_lit_clear(struct filter_lit *l)
{
	free(l->p[0].s);
	free(l->p[1].s);
	memset(l, 0, sizeof *l);
}
