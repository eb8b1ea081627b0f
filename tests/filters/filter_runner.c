/* The filter corpus runner: check annotated sample logs, print TAP. */
#include <sys/stat.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "addr.h"
#include "conf.h"
#include "config.h"
#include "filter.h"
#include "xmalloc.h"

#define RUNNER_MAXFILTERS 8 /* option sets of one "# filterOptions:" line */

struct runner {
	const char *filterdir;
	int fail2ban; /* fail2ban's corpus: skip what jaild does not do */
	int n; /* TAP test number */
	int failed;
	int skipped;
};

/* One sample file in progress. */
struct runner_file {
	const char *name; /* "sshd.log" */
	const char *filter; /* "sshd" */
	struct filter *f[RUNNER_MAXFILTERS];
	char *fdesc[RUNNER_MAXFILTERS];
	size_t nf;
	json_t *want; /* the pending annotation */
	int wantline;
	time_t now; /* the last annotated time: "now" for lines without one */
	int broken; /* the filter did not load: every check fails */
};

/* Print one TAP result. */
static void runner_tap(struct runner *r, int ok, const char *file, int line,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
runner_tap(
    struct runner *r, int ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	r->n++;
	printf("%sok %d - %s:%d", ok ? "" : "not ", r->n, file, line);
	if (fmt != NULL) {
		printf(" ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	printf("\n");
	if (!ok)
		r->failed++;
}

static void
runner_free_filters(struct runner_file *rf)
{
	size_t i;

	for (i = 0; i < rf->nf; i++) {
		filter_unref(rf->f[i]);
		free(rf->fdesc[i]);
	}
	rf->nf = 0;
}

/* Load the filter with one set of options ({"mode": "aggressive"}). */
static int
runner_load(
    struct runner *r, struct runner_file *rf, json_t *opts, char **cause)
{
	struct conf_errors errs = {NULL, 0};
	struct filter_conf *fc;
	struct filter *f = NULL;
	char *ref, *tmp;
	const char *k;
	json_t *v;
	int first = 1;

	xasprintf(&ref, "%s/%s.conf", r->filterdir, rf->filter);
	if (json_is_object(opts) && json_object_size(opts) > 0) {
		json_object_foreach(opts, k, v)
		{
			if (!json_is_string(v))
				continue;
			xasprintf(&tmp, "%s%s%s=%s", ref, first ? "[" : ", ", k,
			    json_string_value(v));
			free(ref);
			ref = tmp;
			first = 0;
		}
		if (!first) {
			xasprintf(&tmp, "%s]", ref);
			free(ref);
			ref = tmp;
		}
	}
	fc = config_load_filter(NULL, ref, &errs);
	if (fc == NULL)
		xasprintf(cause, "%s", errs.n > 0 ? errs.msgs[0] : ref);
	else
		f = filter_create(fc, cause);
	config_filter_free(fc);
	conf_errors_clear(&errs);
	if (f == NULL || rf->nf == RUNNER_MAXFILTERS) {
		free(ref);
		filter_unref(f);
		return -1;
	}
	rf->f[rf->nf] = f;
	rf->fdesc[rf->nf++] = ref;
	return 0;
}

/* Handle "# filterOptions: {...}" or "[{...}, {...}]": reload. */
static void
runner_options(
    struct runner *r, struct runner_file *rf, const char *text, int lineno)
{
	json_error_t jerr;
	json_t *j, *o;
	size_t i;
	char *cause = NULL;

	runner_free_filters(rf);
	if ((j = json_loads(text, JSON_DECODE_ANY, &jerr)) == NULL) {
		runner_tap(
		    r, 0, rf->name, lineno, "bad filterOptions: %s", jerr.text);
		rf->broken = 1;
		return;
	}
	rf->broken = 0;
	if (json_is_array(j)) {
		json_array_foreach(
		    j, i, o) if (runner_load(r, rf, o, &cause)) break;
	} else
		runner_load(r, rf, j, &cause);
	if (cause != NULL) {
		runner_tap(r, 0, rf->name, lineno, "filter: %s", cause);
		rf->broken = 1;
		free(cause);
	}
	json_decref(j);
}

/*
 * Parse "YYYY-mm-ddTHH:MM:SS[.frac]" in the local zone: UTC for jaild's
 * samples, Europe/Zurich for fail2ban's (the zone of its test suite).
 */
static int
runner_time(const char *s, time_t *out)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof tm);
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	tm.tm_isdst = -1;
	*out = mktime(&tm);
	return 0;
}

/* The annotation's host in canonical form, or NULL to skip the check. */
static int
runner_want_host(json_t *want, char *buf, size_t size)
{
	json_t *h = json_object_get(want, "host");
	struct addr a;

	buf[0] = '\0';
	if (json_is_array(h))
		h = json_array_get(h, 0);
	if (!json_is_string(h))
		return 0;
	if (addr_parse(json_string_value(h), &a) != 0)
		return -1; /* a DNS name: jaild does not resolve */
	addr_format(&a, buf, size);
	return 1;
}

/* Compare one filter's verdict on line with the annotation. */
static int
runner_check_one(struct filter *f, json_t *want, const char *line, time_t *now,
    char *why, size_t whysize)
{
	struct filter_result res;
	enum filter_verdict v;
	int match = json_is_true(json_object_get(want, "match"));
	json_t *jt = json_object_get(want, "time");
	time_t t = time(NULL);
	char wanth[ADDR_STRLEN], goth[ADDR_STRLEN] = "";
	int hostcheck;

	if (json_is_string(jt) && runner_time(json_string_value(jt), &t) != 0)
		jt = NULL;
	/* now = the expected time: a year-less stamp gets that year */
	v = filter_match(f, line, strlen(line), t, &res);
	*now = t;
	if (v == FILTER_MATCH && res.has_addr)
		addr_format(&res.addr, goth, sizeof goth);
	if (!match) {
		if (v != FILTER_MATCH)
			return 0;
		snprintf(why, whysize, "expected no match, got %s (regex %d)",
		    goth[0] ? goth : "a hostless match", res.regex);
		return -1;
	}
	if (v != FILTER_MATCH) {
		snprintf(why, whysize, "expected a match, got %s",
		    v == FILTER_IGNORED ? "ignored" : "none");
		return -1;
	}
	hostcheck = runner_want_host(want, wanth, sizeof wanth);
	if (hostcheck > 0 && strcmp(wanth, goth) != 0) {
		snprintf(why, whysize, "expected host %s got %s", wanth,
		    goth[0] ? goth : "(none)");
		return -1;
	}
	if (json_is_string(jt) && (!res.has_time || res.when != t)) {
		snprintf(why, whysize, "expected time %s got %lld",
		    json_string_value(jt), (long long)res.when);
		return -1;
	}
	return 0;
}

/*
 * Feed a line without annotation to every filter: the file is a stream,
 * as in fail2ban's samplestestcase, so multi-line buffers, <F-MLFID>
 * sessions and the last date carry from line to line.
 */
static void
runner_feed(struct runner_file *rf, const char *line)
{
	struct filter_result res;
	size_t i;

	for (i = 0; i < rf->nf; i++)
		filter_match(rf->f[i], line, strlen(line), rf->now, &res);
}

/* Check a sample line against the pending annotation. */
static void
runner_check(
    struct runner *r, struct runner_file *rf, const char *line, int lineno)
{
	char why[512], wanth[ADDR_STRLEN];
	size_t i;
	int bad = 0;
	time_t now = rf->now;

	if (rf->broken) {
		runner_tap(r, 0, rf->name, lineno, "filter did not load");
		return;
	}
	if (r->fail2ban &&
	    (json_object_get(rf->want, "constraint") != NULL ||
	        runner_want_host(rf->want, wanth, sizeof wanth) < 0)) {
		r->skipped++;
		runner_tap(r, 1, rf->name, lineno, "# SKIP DNS or constraint");
		runner_feed(rf, line);
		return;
	}
	/* every filter sees every line, even after one disagreed */
	for (i = 0; i < rf->nf; i++) {
		if (runner_check_one(
		        rf->f[i], rf->want, line, &now, why, sizeof why) != 0 &&
		    !bad++)
			runner_tap(r, 0, rf->name, lineno, "%s: %s",
			    rf->fdesc[i], why);
	}
	rf->now = now;
	if (!bad)
		runner_tap(r, 1, rf->name, lineno, NULL);
}

/* Handle one line of a sample file. */
static void
runner_line(struct runner *r, struct runner_file *rf, char *line, int lineno)
{
	json_error_t jerr;
	char *p;

	if ((p = strstr(line, "# filterOptions:")) == line) {
		runner_options(r, rf, p + 16, lineno);
		return;
	}
	if ((p = strstr(line, "# failJSON:")) == line) {
		json_decref(rf->want);
		rf->want = json_loads(p + 11, 0, &jerr);
		rf->wantline = lineno;
		if (rf->want == NULL)
			runner_tap(r, 0, rf->name, lineno, "bad failJSON: %s",
			    jerr.text);
		return;
	}
	if (line[0] == '#' || line[0] == '\0')
		return;
	if (rf->want == NULL) {
		if (!rf->broken)
			runner_feed(rf, line);
		return;
	}
	runner_check(r, rf, line, lineno);
	json_decref(rf->want);
	rf->want = NULL;
}

/* Check every annotated line of path against filter name. */
static void
runner_file(
    struct runner *r, const char *path, const char *name, const char *filter)
{
	struct runner_file rf;
	FILE *fp;
	char *line = NULL;
	size_t size = 0;
	ssize_t n;
	int lineno = 0;

	memset(&rf, 0, sizeof rf);
	rf.name = name;
	rf.filter = filter;
	rf.now = time(NULL);
	if ((fp = fopen(path, "r")) == NULL) {
		runner_tap(r, 0, name, 0, "cannot open");
		return;
	}
	runner_options(r, &rf, "{}", 0);
	while ((n = getline(&line, &size, fp)) != -1) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		runner_line(r, &rf, line, lineno);
	}
	free(line);
	fclose(fp);
	json_decref(rf.want);
	runner_free_filters(&rf);
}

static int
runner_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* List the sample files in dir that have a filter, sorted. */
static char **
runner_list(struct runner *r, const char *dir, size_t *n)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL, *conf, *base;
	size_t len;
	struct stat sb;

	*n = 0;
	if ((d = opendir(dir)) == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		len = strlen(de->d_name);
		base = len > 4 && strcmp(de->d_name + len - 4, ".log") == 0
		           ? xstrndup(de->d_name, len - 4)
		           : xstrdup(de->d_name);
		xasprintf(&conf, "%s/%s.conf", r->filterdir, base);
		if (stat(conf, &sb) == 0) {
			names = xreallocarray(names, *n + 1, sizeof *names);
			names[(*n)++] = xstrdup(de->d_name);
		}
		free(conf);
		free(base);
	}
	closedir(d);
	qsort(names, *n, sizeof *names, runner_cmp);
	return names;
}

int
main(int argc, char **argv)
{
	struct runner r;
	char **names, *path, *filter;
	size_t i, n, len;

	memset(&r, 0, sizeof r);
	if (argc > 1 && strcmp(argv[1], "--fail2ban") == 0) {
		r.fail2ban = 1;
		argv++;
		argc--;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: filter_runner [--fail2ban] FILTERDIR "
		                "SAMPLEDIR\n");
		return 2;
	}
	setenv("TZ", r.fail2ban ? "Europe/Zurich" : "UTC", 1);
	tzset();
	r.filterdir = argv[1];
	if ((names = runner_list(&r, argv[2], &n)) == NULL || n == 0) {
		fprintf(stderr, "filter_runner: no samples in %s\n", argv[2]);
		return 1;
	}
	for (i = 0; i < n; i++) {
		len = strlen(names[i]);
		filter = len > 4 && strcmp(names[i] + len - 4, ".log") == 0
		             ? xstrndup(names[i], len - 4)
		             : xstrdup(names[i]);
		xasprintf(&path, "%s/%s", argv[2], names[i]);
		runner_file(&r, path, names[i], filter);
		free(path);
		free(filter);
		free(names[i]);
	}
	free(names);
	printf("1..%d\n", r.n);
	fprintf(stderr, "filter_runner: %d checks, %d failed, %d skipped\n",
	    r.n, r.failed, r.skipped);
	return r.failed ? 1 : 0;
}
