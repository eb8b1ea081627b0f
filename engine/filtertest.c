/* Offline filter runs for "jailctl test": match a whole file, count, time. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "addr.h"
#include "filter.h"
#include "filtertest.h"
#include "source.h"
#include "xmalloc.h"

#define FILTERTEST_CHUNK (256 * 1024) /* stays in L2 between passes */

/* One address and how often it matched. */
struct filtertest_slot {
	struct addr addr;
	uint64_t count;
	int used;
};

/* A run in progress: counters and the address table. */
struct filtertest {
	struct filter *f;
	int flags;
	FILE *out;
	time_t now;
	uint64_t lines, matched, ignored, hostless;
	uint64_t cut; /* over SOURCE_MAXLINE: not matched, as in the daemon */
	uint64_t *hits; /* per failregex */
	struct filtertest_slot *slots; /* open addressing, power of two */
	size_t nslots, nused;
	int sparse; /* every failregex has a literal: look at hits only */
	const char **next; /* next occurrence of each literal in the chunk */
	int *searched; /* next[i] is valid (NULL: no more in this chunk) */
};

/* Grow the address table to twice its size. */
static void
filtertest_grow(struct filtertest *t)
{
	struct filtertest_slot *old = t->slots;
	size_t i, j, n = t->nslots;

	t->nslots = n == 0 ? 1024 : n * 2;
	t->slots = xcalloc(t->nslots, sizeof *t->slots);
	for (i = 0; i < n; i++) {
		if (!old[i].used)
			continue;
		j = addr_hash(&old[i].addr) & (t->nslots - 1);
		while (t->slots[j].used)
			j = (j + 1) & (t->nslots - 1);
		t->slots[j] = old[i];
	}
	free(old);
}

/* Count one hit of a. */
static void
filtertest_count(struct filtertest *t, const struct addr *a)
{
	size_t j;

	if (t->nused * 2 >= t->nslots)
		filtertest_grow(t);
	j = addr_hash(a) & (t->nslots - 1);
	while (t->slots[j].used && !addr_equal(&t->slots[j].addr, a))
		j = (j + 1) & (t->nslots - 1);
	if (!t->slots[j].used) {
		t->slots[j].used = 1;
		t->slots[j].addr = *a;
		t->nused++;
	}
	t->slots[j].count++;
}

/* Match one line and account for it. */
static void
filtertest_line(struct filtertest *t, const char *line, size_t len)
{
	struct filter_result res;
	enum filter_verdict v;
	long n;
	int print;

	/* The daemon's rule: a final CR goes, an overlong line is skipped. */
	if ((n = source_line_trim(line, len)) < 0)
		return;
	len = (size_t)n;
	v = filter_match(t->f, line, len, t->now, &res);
	if (v == FILTER_MATCH) {
		t->matched++;
		if (res.regex >= 0)
			t->hits[res.regex]++;
		if (res.has_addr)
			filtertest_count(t, &res.addr);
		else
			t->hostless++;
		print = t->flags & FILTERTEST_PRINT_MATCHED;
	} else if (v == FILTER_IGNORED) {
		t->ignored++;
		print = t->flags & FILTERTEST_PRINT_IGNORED;
	} else
		print = t->flags & FILTERTEST_PRINT_UNMATCHED;
	if (print && t->out != NULL) {
		fwrite(line, 1, len, t->out);
		fputc('\n', t->out);
	}
}

/* Offer every line of buf[0..len) (whole lines) to the filter. */
static void
filtertest_all(struct filtertest *t, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *nl;

	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		t->lines++;
		if (source_line_trim(p, (size_t)(nl - p)) < 0)
			t->cut++;
		filtertest_line(t, p, (size_t)(nl - p));
		p = nl + 1;
	}
}

/* Sixteen bytes at once: GCC and clang lower this to SSE2/NEON. */
typedef unsigned char filtertest_v16 __attribute__((vector_size(16)));

/*
 * Count the newlines of buf[0..len), sixteen bytes at a time: memchr per
 * line costs a call per line, and most lines are never looked at
 * otherwise.  Byte counters are summed before they can overflow.
 */
static uint64_t
filtertest_nlines(const char *buf, size_t len)
{
	filtertest_v16 v, acc, nl = {0}, one = {0};
	uint64_t n = 0;
	size_t i = 0, j, k;

	nl += '\n';
	one += 1;
	while (i + 16 <= len) {
		acc = (filtertest_v16){0};
		for (k = 0; k < 255 && i + 16 <= len; k++, i += 16) {
			memcpy(&v, buf + i, 16);
			acc += (filtertest_v16)(v == nl) & one;
		}
		for (j = 0; j < 16; j++)
			n += acc[j];
	}
	for (; i < len; i++)
		n += buf[i] == '\n';
	return n;
}

/* The first line at or after p that holds some failregex's literal. */
static const char *
filtertest_next_hit(struct filtertest *t, const char *p, const char *end)
{
	const char *best = NULL;
	size_t i, n = filter_nregex(t->f);

	for (i = 0; i < n; i++) {
		if (!t->searched[i] || (t->next[i] != NULL && t->next[i] < p)) {
			t->next[i] =
			    filter_regex_find(t->f, i, p, (size_t)(end - p));
			t->searched[i] = 1;
		}
		if (t->next[i] != NULL && (best == NULL || t->next[i] < best))
			best = t->next[i];
	}
	return best;
}

/*
 * Count the overlong lines of buf[0..len) (whole lines), a window of
 * SOURCE_MAXLINE + 2 bytes at a time: a window holding a newline past
 * SOURCE_MAXLINE, or two, holds no overlong line, so ordinary lines cost
 * nothing each, as in filtertest_sparse.
 */
static void
filtertest_count_cut(struct filtertest *t, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *nl, *e;
	size_t win;

	while ((size_t)(end - p) > SOURCE_MAXLINE) {
		win = (size_t)(end - p);
		if (win > SOURCE_MAXLINE + 2)
			win = SOURCE_MAXLINE + 2;
		nl = memrchr(p, '\n', win);
		if (nl != NULL &&
		    ((size_t)(nl - p) <= SOURCE_MAXLINE ||
		        memchr(p, '\n', (size_t)(nl - p)) != NULL)) {
			p = nl + 1;
			continue;
		}
		/* The line at p is SOURCE_MAXLINE + 1 bytes or longer. */
		if ((e = nl) == NULL &&
		    (e = memchr(p, '\n', (size_t)(end - p))) == NULL)
			e = end;
		if (source_line_trim(p, (size_t)(e - p)) < 0)
			t->cut++;
		p = e < end ? e + 1 : end;
	}
}

/*
 * Offer only the lines that contain a failregex's literal: no other line
 * can match, and finding literals in the whole buffer is far cheaper than
 * looking at every line.
 */
static void
filtertest_sparse(struct filtertest *t, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *hit, *ls, *le;
	size_t i, n = filter_nregex(t->f);

	t->lines += filtertest_nlines(buf, len);
	if (len > 0 && buf[len - 1] != '\n')
		t->lines++;
	filtertest_count_cut(t, buf, len);
	for (i = 0; i < n; i++)
		t->searched[i] = 0;
	while (p < end && (hit = filtertest_next_hit(t, p, end)) != NULL) {
		ls = memrchr(p, '\n', (size_t)(hit - p));
		ls = ls == NULL ? p : ls + 1;
		if ((le = memchr(hit, '\n', (size_t)(end - hit))) == NULL)
			le = end;
		filtertest_line(t, ls, (size_t)(le - ls));
		p = le + 1;
	}
}

/* Set up the literal prefilter if every failregex has one. */
static void
filtertest_literals(struct filtertest *t)
{
	size_t i, n = filter_nregex(t->f);

	if (t->flags & FILTERTEST_PRINT_UNMATCHED)
		return;
	for (i = 0; i < n; i++)
		if (filter_regex_literal(t->f, i) == NULL)
			return;
	t->sparse = 1;
	t->next = xcalloc(n, sizeof *t->next);
	t->searched = xcalloc(n, sizeof *t->searched);
}

/* Read in chunk by chunk, handing whole lines on. */
static void
filtertest_read(struct filtertest *t, FILE *in)
{
	char *buf = xmalloc(FILTERTEST_CHUNK + 1);
	size_t have = 0, n, whole, skip;
	const char *nl;
	int cut = 0; /* the rest of an overlong line is being dropped */

	for (;;) {
		n = fread(buf + have, 1, FILTERTEST_CHUNK - have, in);
		have += n;
		if (have == 0)
			break;
		if (cut) {
			nl = memchr(buf, '\n', have);
			skip = nl == NULL ? have : (size_t)(nl - buf) + 1;
			cut = nl == NULL;
			memmove(buf, buf + skip, have - skip);
			have -= skip;
			continue;
		}
		nl = memrchr(buf, '\n', have);
		if (n == 0 || nl == NULL)
			whole = have; /* end of file, or an overlong line */
		else
			whole = (size_t)(nl - buf) + 1;
		cut = n != 0 && nl == NULL;
		if (t->sparse)
			filtertest_sparse(t, buf, whole);
		else
			filtertest_all(t, buf, whole);
		memmove(buf, buf + whole, have - whole);
		have -= whole;
	}
	free(buf);
}

/* Order addresses by hits, most first, then by address. */
static int
filtertest_cmp(const void *a, const void *b)
{
	const struct filtertest_slot *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return addr_cmp(&x->addr, &y->addr);
}

/* Build the addresses array, most hits first. */
static json_t *
filtertest_addresses(struct filtertest *t)
{
	json_t *arr = json_array();
	char buf[ADDR_STRLEN];
	size_t i, n = 0;

	for (i = 0; i < t->nslots; i++)
		if (t->slots[i].used)
			t->slots[n++] = t->slots[i];
	if (n > 1) /* slots is NULL when nothing matched: no qsort(NULL) */
		qsort(t->slots, n, sizeof *t->slots, filtertest_cmp);
	for (i = 0; i < n; i++) {
		addr_format(&t->slots[i].addr, buf, sizeof buf);
		json_array_append_new(
		    arr, json_pack("{s:s, s:I}", "addr", buf, "count",
		             (json_int_t)t->slots[i].count));
	}
	return arr;
}

/* Build the report of a finished run. */
static json_t *
filtertest_report(struct filtertest *t, double secs)
{
	json_t *regexes = json_array();
	const char *dp = filter_datepattern(t->f);
	size_t i;

	for (i = 0; i < filter_nregex(t->f); i++)
		json_array_append_new(
		    regexes, json_pack("{s:s, s:I}", "regex",
		                 filter_regex_source(t->f, i), "hits",
		                 (json_int_t)t->hits[i]));
	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:f, s:f, s:o, s:o, "
	                 "s:I, s:I}",
	    "filter", filter_name(t->f), "datepattern",
	    dp != NULL ? dp : "(default)", "lines", (json_int_t)t->lines,
	    "matched", (json_int_t)t->matched, "ignored",
	    (json_int_t)t->ignored, "missed",
	    (json_int_t)(t->lines - t->matched - t->ignored - t->cut),
	    "seconds", secs, "lines_per_second",
	    secs > 0 ? (double)t->lines / secs : 0.0, "regexes", regexes,
	    "addresses", filtertest_addresses(t), "hostless",
	    (json_int_t)t->hostless, "cut", (json_int_t)t->cut);
}

/* Run f over every line of in and report what matched, and how fast. */
json_t *
filtertest_run(struct filter *f, FILE *in, int flags, FILE *out)
{
	struct filtertest t;
	struct timespec t0, t1;
	json_t *report;

	memset(&t, 0, sizeof t);
	t.f = f;
	t.flags = flags;
	t.out = out;
	t.now = time(NULL);
	t.hits = xcalloc(filter_nregex(f) + 1, sizeof *t.hits);
	filtertest_literals(&t);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	filtertest_read(&t, in);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	report =
	    filtertest_report(&t, (double)(t1.tv_sec - t0.tv_sec) +
	                              (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	free(t.hits);
	free(t.slots);
	free(t.next);
	free(t.searched);
	return report;
}
