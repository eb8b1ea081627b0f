/* jailctl_test.c: the test command, a filter run over a log offline. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "conf.h"
#include "config.h"
#include "filter.h"
#include "filtertest.h"
#include "jailctl.h"
#include "jailctl_output.h"
#include "jailctl_test.h"

#ifndef JAILD_CONFDIR
#define JAILD_CONFDIR "/etc/jaild"
#endif
#define JAILCTL_TOP_ADDRS 20

/* Print a filter test report for people. */
static void
jailctl_test_print(const json_t *r)
{
	static const char *const rh[] = {"#", "HITS", "REGEX"};
	static const char *const ah[] = {"ADDRESS", "COUNT"};
	struct jailctl_output_table *t;
	const char *row[3];
	char b[5][64];
	json_t *v;
	size_t i;

	printf("filter       %s\n", jailctl_output_get(r, "filter", b[0], 64));
	printf("datepattern  %s\n",
	    jailctl_output_get(r, "datepattern", b[0], 64));
	printf("lines        %s read: %s matched, %s ignored, %s missed, "
	       "%s without address\n",
	    jailctl_output_get(r, "lines", b[0], 64),
	    jailctl_output_get(r, "matched", b[1], 64),
	    jailctl_output_get(r, "ignored", b[2], 64),
	    jailctl_output_get(r, "missed", b[3], 64),
	    jailctl_output_get(r, "hostless", b[4], 64));
	if (json_integer_value(json_object_get(r, "cut")) > 0)
		printf("cut          %s lines over 64 KiB, not matched (as "
		       "jaild)\n",
		    jailctl_output_get(r, "cut", b[0], 64));
	printf("time         %.3f s, %.0f lines/s\n",
	    json_number_value(json_object_get(r, "seconds")),
	    json_number_value(json_object_get(r, "lines_per_second")));
	t = jailctl_output_table_create(3, rh);
	json_array_foreach(json_object_get(r, "regexes"), i, v)
	{
		snprintf(b[0], 64, "%zu", i + 1);
		row[0] = b[0];
		row[1] = jailctl_output_get(v, "hits", b[1], 64);
		row[2] = jailctl_output_get(v, "regex", b[2], 64);
		jailctl_output_table_add(t, row);
	}
	fputc('\n', stdout);
	jailctl_output_table_print(t);
	jailctl_output_table_free(t);
	if (json_array_size(json_object_get(r, "addresses")) == 0)
		return;
	t = jailctl_output_table_create(2, ah);
	json_array_foreach(json_object_get(r, "addresses"), i, v)
	{
		if (i == JAILCTL_TOP_ADDRS)
			break;
		row[0] = jailctl_output_get(v, "addr", b[0], 64);
		row[1] = jailctl_output_get(v, "count", b[1], 64);
		jailctl_output_table_add(t, row);
	}
	fputc('\n', stdout);
	jailctl_output_table_print(t);
	jailctl_output_table_free(t);
}

/* Print a several-filter test report: coverage per filter. */
static void
jailctl_test_print_many(const json_t *r)
{
	static const char *const h[] = {
	    "FILTER", "MATCHED", "IGNORED", "ADDRESSES", "HOSTLESS"};
	struct jailctl_output_table *t;
	const char *row[5];
	char b[5][64];
	json_t *v;
	size_t i;

	printf("lines        %s read, %s matched by no filter\n",
	    jailctl_output_get(r, "lines", b[0], 64),
	    jailctl_output_get(r, "none", b[1], 64));
	if (json_integer_value(json_object_get(r, "cut")) > 0)
		printf("cut          %s lines over 64 KiB, not matched (as "
		       "jaild)\n",
		    jailctl_output_get(r, "cut", b[0], 64));
	printf("time         %.3f s, %.0f lines/s\n\n",
	    json_number_value(json_object_get(r, "seconds")),
	    json_number_value(json_object_get(r, "lines_per_second")));
	t = jailctl_output_table_create(5, h);
	json_array_foreach(json_object_get(r, "filters"), i, v)
	{
		row[0] = jailctl_output_get(v, "filter", b[0], 64);
		row[1] = jailctl_output_get(v, "matched", b[1], 64);
		row[2] = jailctl_output_get(v, "ignored", b[2], 64);
		snprintf(b[3], 64, "%zu",
		    json_array_size(json_object_get(v, "addresses")));
		row[3] = b[3];
		row[4] = jailctl_output_get(v, "hostless", b[4], 64);
		jailctl_output_table_add(t, row);
	}
	jailctl_output_table_print(t);
	jailctl_output_table_free(t);
	fflush(stdout);
	json_array_foreach(json_object_get(r, "skipped"), i, v) fprintf(stderr,
	    "skipped %s: %s\n", json_string_value(json_object_get(v, "filter")),
	    json_string_value(json_object_get(v, "error")));
}

/* Load and compile a filter as a jail would; errors are printed. */
static struct filter *
jailctl_test_filter(const char *confdir, const char *ref)
{
	struct conf_errors errs = {NULL, 0};
	struct filter_conf *fc;
	struct filter *f;
	char *cause = NULL;
	size_t i;

	fc = config_load_filter(confdir, ref, &errs);
	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	conf_errors_clear(&errs);
	if (fc == NULL) {
		if (i == 0)
			jailctl_warnx("cannot load filter %s", ref);
		return NULL;
	}
	f = filter_create(fc, &cause);
	config_filter_free(fc);
	if (f == NULL) {
		jailctl_warnx("%s", cause != NULL ? cause : "bad filter");
		free(cause);
	}
	return f;
}

/* jailctl test: run one filter or several (--all) over a log, offline. */
int
jailctl_test_run(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"print-matched", no_argument, NULL, 'm'},
	    {"print-unmatched", no_argument, NULL, 'u'},
	    {"print-ignored", no_argument, NULL, 'i'},
	    {"all", no_argument, NULL, 'a'}, {NULL, 0, NULL, 0}};
	const char *confdir = JAILD_CONFDIR, *path;
	struct filter *f = NULL;
	json_t *report;
	FILE *in;
	char *cause = NULL;
	int ch, flags = 0, all = 0, nref;

	optind = 0; /* glibc: rescan from argv[1] */
	while ((ch = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			confdir = optarg;
			break;
		case 'm':
			flags |= FILTERTEST_PRINT_MATCHED;
			break;
		case 'u':
			flags |= FILTERTEST_PRINT_UNMATCHED;
			break;
		case 'i':
			flags |= FILTERTEST_PRINT_IGNORED;
			break;
		case 'a':
			all = 1;
			break;
		default:
			jailctl_usage_of("test");
			return 2;
		}
	}
	nref = argc - optind - 1;
	if (nref < (all ? 0 : 1) || (all && nref > 0)) {
		jailctl_warnx("test: %s",
		    argc - optind == 0
		        ? (all ? "missing LOG" : "missing FILTER LOG")
		    : all ? "--all takes no FILTER"
		          : "missing LOG");
		jailctl_usage_of("test");
		return 2;
	}
	path = argv[argc - 1];
	in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (in == NULL) {
		jailctl_warnx("%s: %s", path, strerror(errno));
		return 1;
	}
	if (all || nref > 1) {
		report = filtertest_many(confdir, argv + optind, (size_t)nref,
		    all, in, flags, stdout, &cause);
		if (report == NULL)
			jailctl_warnx("%s", cause != NULL ? cause : "failed");
		free(cause);
	} else {
		f = jailctl_test_filter(confdir, argv[optind]);
		report =
		    f != NULL ? filtertest_run(f, in, flags, stdout) : NULL;
	}
	if (in != stdin)
		fclose(in);
	filter_unref(f);
	if (report == NULL)
		return 1;
	jailctl_output_print(report,
	    all || nref > 1 ? jailctl_test_print_many : jailctl_test_print);
	json_decref(report);
	return 0;
}
