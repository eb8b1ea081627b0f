/* Offline filter runs for "jailctl test": match a whole file, count, time. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "addr.h"
#include "conf.h"
#include "config.h"
#include "filter.h"
#include "filter_set.h"
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

/* One filter of a run: its counters and address table. */
struct filtertest_one {
	struct filter *f;
	uint64_t matched, ignored, hostless;
	uint64_t *hits; /* per failregex */
	struct filtertest_slot *slots; /* open addressing, power of two */
	size_t nslots, nused;
};

/* A run in progress: the filters, sharing one literal pass a line. */
struct filtertest {
	struct filtertest_one *fl;
	size_t nf;
	struct filter_set *set; /* slot i is fl[i].f */
	int flags;
	FILE *out;
	time_t now;
	uint64_t lines, none; /* none: lines no filter matched */
	uint64_t cut; /* over SOURCE_MAXLINE: not matched, as in the daemon */
	int sparse; /* every filter skips lines without its literals */
};

/* Grow the address table to twice its size. */
static void
filtertest_grow(struct filtertest_one *t)
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
filtertest_count(struct filtertest_one *t, const struct addr *a)
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

/* Match one line with one filter and account for it; returns the verdict. */
static enum filter_verdict
filtertest_one_line(struct filtertest *t, struct filtertest_one *o, size_t slot,
    const char *line, size_t len)
{
	struct filter_result res;
	enum filter_verdict v;

	v = filter_match_mask(
	    o->f, line, len, t->now, filter_set_mask(t->set, slot), &res);
	if (v == FILTER_MATCH) {
		o->matched++;
		if (res.regex >= 0)
			o->hits[res.regex]++;
		if (res.has_addr)
			filtertest_count(o, &res.addr);
		else
			o->hostless++;
	} else if (v == FILTER_IGNORED)
		o->ignored++;
	return v;
}

/* Match one line with every filter and account for it. */
static void
filtertest_line(struct filtertest *t, const char *line, size_t len)
{
	int matched = 0, ignored = 0, print;
	enum filter_verdict v;
	size_t i;
	long n;

	/* The daemon's rule: a final CR goes, an overlong line is skipped. */
	if ((n = source_line_trim(line, len)) < 0) {
		t->none++;
		return;
	}
	len = (size_t)n;
	filter_set_scan(t->set, line, len);
	for (i = 0; i < t->nf; i++) {
		v = filtertest_one_line(t, &t->fl[i], i, line, len);
		matched |= v == FILTER_MATCH;
		ignored |= v == FILTER_IGNORED;
	}
	if (matched)
		print = t->flags & FILTERTEST_PRINT_MATCHED;
	else if (ignored)
		print = t->flags & FILTERTEST_PRINT_IGNORED;
	else
		print = t->flags & FILTERTEST_PRINT_UNMATCHED;
	t->none += !matched;
	if (print && t->out != NULL) {
		fwrite(line, 1, len, t->out);
		fputc('\n', t->out);
	}
}

/* Offer every line of buf[0..len) (whole lines) to the filters. */
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
 * Offer only the lines that contain a literal of some filter: no other
 * line can match, and one pass for every literal over the whole buffer is
 * far cheaper than looking at each line.
 */
static void
filtertest_sparse(struct filtertest *t, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *hit, *ls, *le;
	uint64_t lines, looked = 0;

	lines = filtertest_nlines(buf, len);
	if (len > 0 && buf[len - 1] != '\n')
		lines++;
	filtertest_count_cut(t, buf, len);
	while (p < end &&
	       (hit = filter_set_find(t->set, p, (size_t)(end - p))) != NULL) {
		ls = memrchr(p, '\n', (size_t)(hit - p));
		ls = ls == NULL ? p : ls + 1;
		if ((le = memchr(hit, '\n', (size_t)(end - hit))) == NULL)
			le = end;
		filtertest_line(t, ls, (size_t)(le - ls));
		looked++;
		p = le + 1;
	}
	t->lines += lines;
	t->none += lines - looked; /* the lines not looked at */
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
filtertest_addresses(struct filtertest_one *o)
{
	json_t *arr = json_array();
	char buf[ADDR_STRLEN];
	size_t i, n = 0;

	for (i = 0; i < o->nslots; i++)
		if (o->slots[i].used)
			o->slots[n++] = o->slots[i];
	if (n > 1) /* slots is NULL when nothing matched: no qsort(NULL) */
		qsort(o->slots, n, sizeof *o->slots, filtertest_cmp);
	for (i = 0; i < n; i++) {
		addr_format(&o->slots[i].addr, buf, sizeof buf);
		json_array_append_new(
		    arr, json_pack("{s:s, s:I}", "addr", buf, "count",
		             (json_int_t)o->slots[i].count));
	}
	return arr;
}

/* Build the report of one filter of a finished run. */
static json_t *
filtertest_report(struct filtertest *t, struct filtertest_one *o, double secs)
{
	json_t *regexes = json_array();
	const char *dp = filter_datepattern(o->f);
	size_t i;

	for (i = 0; i < filter_nregex(o->f); i++)
		json_array_append_new(
		    regexes, json_pack("{s:s, s:I}", "regex",
		                 filter_regex_source(o->f, i), "hits",
		                 (json_int_t)o->hits[i]));
	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:f, s:f, s:o, s:o, "
	                 "s:I, s:I}",
	    "filter", filter_name(o->f), "datepattern",
	    dp != NULL ? dp : "(default)", "lines", (json_int_t)t->lines,
	    "matched", (json_int_t)o->matched, "ignored",
	    (json_int_t)o->ignored, "missed",
	    (json_int_t)(t->lines - o->matched - o->ignored - t->cut),
	    "seconds", secs, "lines_per_second",
	    secs > 0 ? (double)t->lines / secs : 0.0, "regexes", regexes,
	    "addresses", filtertest_addresses(o), "hostless",
	    (json_int_t)o->hostless, "cut", (json_int_t)t->cut);
}

/* Run the filters over in; returns the report of each, and the time. */
static json_t *
filtertest_go(
    struct filter **f, size_t n, FILE *in, int flags, FILE *out, double *secs)
{
	struct filtertest t;
	struct timespec t0, t1;
	json_t *reports = json_array();
	size_t i;

	memset(&t, 0, sizeof t);
	t.nf = n;
	t.fl = xcalloc(n, sizeof *t.fl);
	t.set = filter_set_create();
	t.flags = flags;
	t.out = out;
	t.now = time(NULL);
	for (i = 0; i < n; i++) {
		t.fl[i].f = f[i];
		t.fl[i].hits =
		    xcalloc(filter_nregex(f[i]) + 1, sizeof(uint64_t));
		filter_set_add(t.set, f[i]);
	}
	t.sparse = filter_set_prefilterable(t.set) &&
	           !(flags & FILTERTEST_PRINT_UNMATCHED);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	filtertest_read(&t, in);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*secs = (double)(t1.tv_sec - t0.tv_sec) +
	        (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	for (i = 0; i < n; i++) {
		json_array_append_new(
		    reports, filtertest_report(&t, &t.fl[i], *secs));
		free(t.fl[i].hits);
		free(t.fl[i].slots);
	}
	json_array_append_new(
	    reports, json_pack("{s:I, s:I, s:I}", "lines", (json_int_t)t.lines,
	                 "none", (json_int_t)t.none, "cut", (json_int_t)t.cut));
	filter_set_free(t.set);
	free(t.fl);
	return reports;
}

/* Run f over every line of in and report what matched, and how fast. */
json_t *
filtertest_run(struct filter *f, FILE *in, int flags, FILE *out)
{
	json_t *reports, *r;
	double secs;

	reports = filtertest_go(&f, 1, in, flags, out, &secs);
	r = json_incref(json_array_get(reports, 0));
	json_decref(reports);
	return r;
}

/* Run several filters over in at once; report coverage per filter. */
json_t *
filtertest_run_many(struct filter **f, size_t n, FILE *in, int flags, FILE *out)
{
	json_t *reports, *total;
	double secs;

	reports = filtertest_go(f, n, in, flags, out, &secs);
	total = json_incref(json_array_get(reports, n));
	json_array_remove(reports, n);
	json_object_set_new(total, "seconds", json_real(secs));
	json_object_set_new(total, "lines_per_second",
	    json_real(secs > 0 ? (double)json_integer_value(
	                             json_object_get(total, "lines")) /
	                             secs
	                       : 0.0));
	json_object_set_new(total, "filters", reports);
	return total;
}

/* Load and compile a filter as a jail would; NULL with *cause. */
static struct filter *
filtertest_load(const char *confdir, const char *ref, char **cause)
{
	struct conf_errors errs = {NULL, 0};
	struct filter_conf *fc;
	struct filter *f = NULL;

	if ((fc = config_load_filter(confdir, ref, &errs)) == NULL)
		xasprintf(cause, "%s",
		    errs.n > 0 ? errs.msgs[0] : "cannot load filter");
	else
		f = filter_create(fc, cause);
	config_filter_free(fc);
	conf_errors_clear(&errs);
	return f;
}

static int
filtertest_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add the name of every NAME.conf in dir to names, once. */
static void
filtertest_dir_names(const char *dir, char ***names, size_t *n)
{
	struct dirent *de;
	DIR *d;
	size_t len, i;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len <= 5 || de->d_name[0] == '.' ||
		    strcmp(de->d_name + len - 5, ".conf") != 0)
			continue;
		for (i = 0; i < *n; i++)
			if (strncmp((*names)[i], de->d_name, len - 5) == 0 &&
			    (*names)[i][len - 5] == '\0')
				break;
		if (i < *n)
			continue;
		*names = xreallocarray(*names, *n + 1, sizeof **names);
		(*names)[(*n)++] = xstrndup(de->d_name, len - 5);
	}
	closedir(d);
}

/*
 * Load every filter of confdir (its filters/ and filter_dirs), sorted by
 * name; files that are no filter (common.conf) or do not load are listed
 * in skipped with the reason.
 */
static struct filter **
filtertest_load_all(
    const char *confdir, size_t *nf, json_t *skipped, char **cause)
{
	struct conf_errors errs = {NULL, 0};
	struct filter **f = NULL;
	char **dirs, **names = NULL, *why;
	size_t ndirs, n = 0, i;

	*nf = 0;
	if ((dirs = config_filter_dirs(confdir, &ndirs, &errs)) == NULL) {
		xasprintf(cause, "%s", errs.n > 0 ? errs.msgs[0] : confdir);
		conf_errors_clear(&errs);
		return NULL;
	}
	for (i = 0; i < ndirs; i++) {
		filtertest_dir_names(dirs[i], &names, &n);
		free(dirs[i]);
	}
	free(dirs);
	if (n > 0)
		qsort(names, n, sizeof *names, filtertest_strcmp);
	f = xcalloc(n + 1, sizeof *f);
	for (i = 0; i < n; i++) {
		why = NULL;
		if ((f[*nf] = filtertest_load(confdir, names[i], &why)) != NULL)
			(*nf)++;
		else
			json_array_append_new(
			    skipped, json_pack("{s:s, s:s}", "filter", names[i],
			                 "error", why != NULL ? why : "?"));
		free(why);
		free(names[i]);
	}
	free(names);
	return f;
}

/* Run several filters (refs, or every filter with all) over in. */
json_t *
filtertest_many(const char *confdir, char *const *refs, size_t nrefs, int all,
    FILE *in, int flags, FILE *out, char **cause)
{
	struct filter **f;
	json_t *skipped = json_array(), *report = NULL;
	size_t nf = 0, i;

	if (all)
		f = filtertest_load_all(confdir, &nf, skipped, cause);
	else {
		f = xcalloc(nrefs + 1, sizeof *f);
		for (nf = 0; nf < nrefs; nf++)
			if ((f[nf] = filtertest_load(
			         confdir, refs[nf], cause)) == NULL)
				break;
	}
	if (f != NULL && (all || nf == nrefs)) {
		if (nf == 0)
			xasprintf(cause, "no filter in %s", confdir);
		else {
			report = filtertest_run_many(f, nf, in, flags, out);
			json_object_set(report, "skipped", skipped);
		}
	}
	for (i = 0; f != NULL && i < nf; i++)
		filter_unref(f[i]);
	free(f);
	json_decref(skipped);
	return report;
}
