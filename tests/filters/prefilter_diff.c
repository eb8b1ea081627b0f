/*
 * The prefilter's differential test: every filter on every sample line
 * gives the same result with the literal prefilter off, on (each filter
 * alone) and shared (one filter_set pass for all filters at once).
 */
#include <sys/stat.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "conf.h"
#include "config.h"
#include "filter.h"
#include "filter_set.h"
#include "xmalloc.h"

#define DIFF_NOW ((time_t)1795996800) /* 2026-11-30T00:00:00Z */
#define DIFF_MAXREPORT 50

/* The three copies of one filter. */
struct diff_filter {
	char *ref; /* "DIR/sshd.conf[mode=ddos]" */
	struct filter *off, *on, *set;
	size_t slot; /* in the shared set */
	unsigned long matched; /* lines the reference copy matched */
};

/* A sample file, its lines without comments. */
struct diff_sample {
	char *path;
	char **lines;
	size_t nlines;
};

struct diff {
	struct diff_filter *f;
	size_t nf;
	struct diff_sample *s;
	size_t ns;
	struct filter_set *fs;
	unsigned long checks, differ, skipped_refs;
};

static const char *const diff_modes[] = {"", "normal", "aggressive", "ddos",
    "extra", "auth", "rbl", "errors", "fallback", NULL};

/* Compile ref, or NULL (not a filter: common.conf and the like). */
static struct filter *
diff_compile(const char *ref)
{
	struct conf_errors errs = {NULL, 0};
	struct filter_conf *fc;
	struct filter *f = NULL;
	char *cause = NULL;

	if ((fc = config_load_filter(NULL, ref, &errs)) != NULL)
		f = filter_create(fc, &cause);
	free(cause);
	config_filter_free(fc);
	conf_errors_clear(&errs);
	return f;
}

/* Load the three copies of ref; 0 if it is a filter. */
static int
diff_add_filter(struct diff *d, const char *ref)
{
	struct diff_filter df;

	memset(&df, 0, sizeof df);
	if ((df.off = diff_compile(ref)) == NULL) {
		d->skipped_refs++;
		return -1;
	}
	df.on = diff_compile(ref);
	df.set = diff_compile(ref);
	if (df.on == NULL || df.set == NULL)
		abort();
	filter_prefilter_set(df.off, 0);
	df.ref = xstrdup(ref);
	df.slot = filter_set_add(d->fs, df.set);
	d->f = xreallocarray(d->f, d->nf + 1, sizeof *d->f);
	d->f[d->nf++] = df;
	return 0;
}

/* Tell whether path's text names a mode parameter. */
static int
diff_has_modes(const char *path)
{
	FILE *fp = fopen(path, "r");
	char buf[4096];
	int found = 0;

	while (fp != NULL && !found && fgets(buf, sizeof buf, fp) != NULL)
		found = strstr(buf, "mode") != NULL;
	if (fp != NULL)
		fclose(fp);
	return found;
}

/* Add every filter of dir, in each mode it may have. */
static void
diff_add_dir(struct diff *d, const char *dir)
{
	struct dirent **de;
	char *path, *ref;
	size_t len;
	int i, n, m;

	if ((n = scandir(dir, &de, NULL, alphasort)) < 0)
		return;
	for (i = 0; i < n; i++) {
		len = strlen(de[i]->d_name);
		if (len > 5 && strcmp(de[i]->d_name + len - 5, ".conf") == 0) {
			xasprintf(&path, "%s/%s", dir, de[i]->d_name);
			for (m = 0; diff_modes[m] != NULL; m++) {
				if (m > 0 && !diff_has_modes(path))
					break;
				if (m == 0)
					ref = xstrdup(path);
				else
					xasprintf(&ref, "%s[mode=%s]", path,
					    diff_modes[m]);
				diff_add_filter(d, ref);
				free(ref);
			}
			free(path);
		}
		free(de[i]);
	}
	free(de);
}

/* Read the lines of path, leaving out comments and blank lines. */
static void
diff_add_sample(struct diff *d, const char *path)
{
	struct diff_sample s;
	FILE *fp;
	char *line = NULL;
	size_t size = 0;
	ssize_t n;

	if ((fp = fopen(path, "r")) == NULL)
		return;
	memset(&s, 0, sizeof s);
	s.path = xstrdup(path);
	while ((n = getline(&line, &size, fp)) != -1) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		s.lines = xreallocarray(s.lines, s.nlines + 1, sizeof *s.lines);
		s.lines[s.nlines++] = xstrdup(line);
	}
	free(line);
	fclose(fp);
	d->s = xreallocarray(d->s, d->ns + 1, sizeof *d->s);
	d->s[d->ns++] = s;
}

/* Add every regular file of dir and of its subdirectories (one level). */
static void
diff_add_samples(struct diff *d, const char *dir, int depth)
{
	struct dirent **de;
	struct stat sb;
	char *path;
	int i, n;

	if ((n = scandir(dir, &de, NULL, alphasort)) < 0)
		return;
	for (i = 0; i < n; i++) {
		xasprintf(&path, "%s/%s", dir, de[i]->d_name);
		if (de[i]->d_name[0] == '.' || stat(path, &sb) != 0)
			;
		else if (S_ISDIR(sb.st_mode) && depth == 0)
			diff_add_samples(d, path, 1);
		else if (S_ISREG(sb.st_mode) &&
		         (depth > 0 || strstr(de[i]->d_name, ".") == NULL ||
		             strstr(de[i]->d_name, ".log") != NULL))
			diff_add_sample(d, path);
		free(path);
		free(de[i]);
	}
	free(de);
}

/* Describe a result in buf. */
static void
diff_fmt(enum filter_verdict v, const struct filter_result *r, char *buf,
    size_t size)
{
	char a[ADDR_STRLEN] = "-";

	if (v != FILTER_NOMATCH && r->has_addr)
		addr_format(&r->addr, a, sizeof a);
	snprintf(buf, size,
	    "verdict %d regex %d addr %s id '%s' user '%s' time %lld", (int)v,
	    v != FILTER_NOMATCH ? r->regex : -1, a,
	    v != FILTER_NOMATCH ? r->id : "",
	    v != FILTER_NOMATCH ? r->user : "",
	    v != FILTER_NOMATCH && r->has_time ? (long long)r->when : -1LL);
}

/* Compare one filter's three results on one line. */
static void
diff_compare(struct diff *d, struct diff_filter *df, const char *path,
    size_t lineno, const char *line)
{
	struct filter_result r[3];
	enum filter_verdict v[3];
	char b[3][512];
	size_t len = strlen(line), k;

	v[0] = filter_match(df->off, line, len, DIFF_NOW, &r[0]);
	v[1] = filter_match(df->on, line, len, DIFF_NOW, &r[1]);
	v[2] = filter_match_mask(df->set, line, len, DIFF_NOW,
	    filter_set_mask(d->fs, df->slot), &r[2]);
	d->checks++;
	if (v[0] == FILTER_MATCH)
		df->matched++;
	for (k = 0; k < 3; k++)
		diff_fmt(v[k], &r[k], b[k], sizeof b[k]);
	if (strcmp(b[0], b[1]) == 0 && strcmp(b[0], b[2]) == 0)
		return;
	if (d->differ++ < DIFF_MAXREPORT)
		printf("DIFFER %s on %s line %zu: %s\n  off:    %s\n  on:     "
		       "%s\n  shared: %s\n",
		    df->ref, path, lineno + 1, line, b[0], b[1], b[2]);
}

/* Feed every sample, line by line, to every filter. */
static void
diff_run(struct diff *d)
{
	struct diff_sample *s;
	size_t i, l, k;

	for (i = 0; i < d->ns; i++) {
		s = &d->s[i];
		for (l = 0; l < s->nlines; l++) {
			filter_set_scan(
			    d->fs, s->lines[l], strlen(s->lines[l]));
			for (k = 0; k < d->nf; k++)
				diff_compare(
				    d, &d->f[k], s->path, l, s->lines[l]);
		}
	}
}

static void
diff_free(struct diff *d)
{
	size_t i, l;

	filter_set_free(d->fs);
	for (i = 0; i < d->nf; i++) {
		filter_unref(d->f[i].off);
		filter_unref(d->f[i].on);
		filter_unref(d->f[i].set);
		free(d->f[i].ref);
	}
	free(d->f);
	for (i = 0; i < d->ns; i++) {
		for (l = 0; l < d->s[i].nlines; l++)
			free(d->s[i].lines[l]);
		free(d->s[i].lines);
		free(d->s[i].path);
	}
	free(d->s);
}

int
main(int argc, char **argv)
{
	struct diff d;
	unsigned long lines = 0, matched = 0;
	size_t i;
	int c;

	memset(&d, 0, sizeof d);
	d.fs = filter_set_create();
	setenv("TZ", "UTC", 1);
	tzset();
	while ((c = getopt(argc, argv, "f:s:")) != -1) {
		if (c == 'f')
			diff_add_dir(&d, optarg);
		else if (c == 's')
			diff_add_samples(&d, optarg, 0);
		else {
			fprintf(stderr,
			    "usage: prefilter_diff [-f FILTERDIR]... "
			    "[-s SAMPLEDIR]...\n");
			return 2;
		}
	}
	diff_run(&d);
	for (i = 0; i < d.ns; i++)
		lines += d.s[i].nlines;
	for (i = 0; i < d.nf; i++)
		matched += d.f[i].matched;
	printf("prefilter_diff: %zu filters (%lu files not filters), %zu "
	       "samples, %lu lines, %lu checks, %lu matches, %lu differ\n",
	    d.nf, d.skipped_refs, d.ns, lines, d.checks, matched, d.differ);
	c = d.differ > 0 || d.nf == 0 || d.ns == 0 || matched == 0;
	diff_free(&d);
	return c;
}
