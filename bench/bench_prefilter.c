/*
 * Prefilter engines compared on one log: per-filter literal search (each
 * jail alone), the shared bigram pass (filter_set.c), and Vectorscan
 * (Hyperscan) per line and over the whole buffer.  CPU time per line.
 *
 *   cc -O2 -I engine -I BUILD bench/bench_prefilter.c BUILD/engine/libengine.a
 * \
 *       $(pkg-config --cflags --libs libhs libpcre2-8 jansson sqlite3 libuv \
 *       libnftables) -lsystemd -DHAVE_HS -o bench_prefilter
 *   ./bench_prefilter CONFDIR LOG FILTER...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef HAVE_HS
#include <hs.h>
#endif

#include "conf.h"
#include "config.h"
#include "filter.h"
#include "filter_set.h"

#define BENCH_MAXLIT 4096

static struct filter *bench_f[256];
static size_t bench_nf;
static const char *bench_lit[BENCH_MAXLIT];
static size_t bench_litlen[BENCH_MAXLIT];
static unsigned bench_nlit;

static double
bench_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Read path whole. */
static char *
bench_read(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "r");
	char *buf;
	long n;

	if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0)
		exit(2);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, fp) != (size_t)n)
		exit(2);
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

/* Add both pieces of l to the literals Vectorscan looks for. */
static void
bench_add(const struct filter_lit *l)
{
	size_t k;

	for (k = 0; k < 2 && l->p[k].s != NULL && bench_nlit < BENCH_MAXLIT;
	     k++) {
		bench_lit[bench_nlit] = l->p[k].s;
		bench_litlen[bench_nlit++] = l->p[k].len;
	}
}

static void
bench_load(const char *confdir, const char *ref)
{
	struct conf_errors errs = {NULL, 0};
	struct filter_conf *fc;
	const struct filter_lit *l;
	char *cause = NULL;
	size_t i;

	if ((fc = config_load_filter(confdir, ref, &errs)) == NULL ||
	    (bench_f[bench_nf] = filter_create(fc, &cause)) == NULL) {
		fprintf(stderr, "%s: cannot load\n", ref);
		exit(2);
	}
	config_filter_free(fc);
	if (!filter_prefilterable(bench_f[bench_nf]))
		fprintf(stderr, "%s: not prefilterable\n", ref);
	else {
		if ((l = filter_pref_lit(bench_f[bench_nf])) != NULL)
			bench_add(l);
		for (i = 0; i < filter_nregex(bench_f[bench_nf]); i++)
			bench_add(filter_regex_lit(bench_f[bench_nf], i));
	}
	bench_nf++;
}

#ifdef HAVE_HS
static int
bench_hs_cb(unsigned id, unsigned long long from, unsigned long long to,
    unsigned flags, void *arg)
{
	(*(uint64_t *)arg) += id + 1;
	return 0;
}

/* Vectorscan: per line, and over the whole buffer. */
static void
bench_hs(const char *buf, size_t len, size_t nlines)
{
	hs_database_t *db;
	hs_compile_error_t *err;
	hs_scratch_t *scratch = NULL;
	unsigned flags[BENCH_MAXLIT], ids[BENCH_MAXLIT], i;
	const char *p = buf, *end = buf + len, *nl;
	uint64_t sink = 0;
	double t0;

	for (i = 0; i < bench_nlit; i++) {
		flags[i] = HS_FLAG_SINGLEMATCH;
		ids[i] = i;
	}
	if (hs_compile_lit_multi(bench_lit, flags, ids, bench_litlen,
	        bench_nlit, HS_MODE_BLOCK, NULL, &db, &err) != HS_SUCCESS ||
	    hs_alloc_scratch(db, &scratch) != HS_SUCCESS) {
		fprintf(stderr, "hs: cannot compile\n");
		exit(2);
	}
	t0 = bench_cpu();
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		hs_scan(
		    db, p, (unsigned)(nl - p), 0, scratch, bench_hs_cb, &sink);
		p = nl + 1;
	}
	printf("vectorscan, per line        %7.1f ns/line (%llu)\n",
	    (bench_cpu() - t0) * 1e9 / (double)nlines,
	    (unsigned long long)sink);
	hs_free_database(db);
	for (i = 0; i < bench_nlit; i++)
		flags[i] = 0;
	hs_compile_lit_multi(bench_lit, flags, ids, bench_litlen, bench_nlit,
	    HS_MODE_BLOCK, NULL, &db, &err);
	hs_alloc_scratch(db, &scratch);
	sink = 0;
	t0 = bench_cpu();
	hs_scan(db, buf, (unsigned)len, 0, scratch, bench_hs_cb, &sink);
	printf("vectorscan, whole buffer    %7.1f ns/line (%llu)\n",
	    (bench_cpu() - t0) * 1e9 / (double)nlines,
	    (unsigned long long)sink);
	hs_free_scratch(scratch);
	hs_free_database(db);
}
#endif

int
main(int argc, char **argv)
{
	struct filter_set *fs;
	const char *p, *end, *nl;
	char *buf;
	size_t len, nlines = 0, i, j;
	uint64_t sink = 0, passed = 0;
	double t0;

	if (argc < 4) {
		fprintf(
		    stderr, "usage: bench_prefilter CONFDIR LOG FILTER...\n");
		return 2;
	}
	for (i = 3; i < (size_t)argc && bench_nf < 256; i++)
		bench_load(argv[1], argv[i]);
	buf = bench_read(argv[2], &len);
	end = buf + len;
	fs = filter_set_create();
	for (i = 0; i < bench_nf; i++)
		filter_set_add(fs, bench_f[i]);
	for (p = buf; p < end; p = nl + 1, nlines++)
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
	printf("%zu filters, %u literals, %zu lines\n", bench_nf, bench_nlit,
	    nlines);

	t0 = bench_cpu();
	for (p = buf; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		for (j = 0; j < bench_nf; j++)
			sink +=
			    filter_prefilter(bench_f[j], p, (size_t)(nl - p));
	}
	printf("each filter alone           %7.1f ns/line\n",
	    (bench_cpu() - t0) * 1e9 / (double)nlines);

	t0 = bench_cpu();
	for (p = buf; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		filter_set_scan(fs, p, (size_t)(nl - p));
		for (j = 0; j < bench_nf; j++)
			sink += filter_set_mask(fs, j);
	}
	printf("filter_set (bigram), shared %7.1f ns/line\n",
	    (bench_cpu() - t0) * 1e9 / (double)nlines);
	for (p = buf; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		filter_set_scan(fs, p, (size_t)(nl - p));
		for (j = 0; j < bench_nf; j++)
			passed += filter_set_mask(fs, j) != 0;
	}
	printf("lines a filter must look at: %.2f per line (of %zu filters)\n",
	    (double)passed / (double)nlines, bench_nf);
#ifdef HAVE_HS
	bench_hs(buf, len, nlines);
#endif
	fprintf(stderr, "(%llu)\n", (unsigned long long)sink);
	filter_set_free(fs);
	for (i = 0; i < bench_nf; i++)
		filter_unref(bench_f[i]);
	free(buf);
	return 0;
}
