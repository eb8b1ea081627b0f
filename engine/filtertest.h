/* Offline filter runs for "jailctl test": what matched, and how fast. */
#ifndef JAILD_FILTERTEST_H
#define JAILD_FILTERTEST_H

#include <stdio.h>

#include <jansson.h>

#include "filter.h"

#define FILTERTEST_PRINT_MATCHED 0x1
#define FILTERTEST_PRINT_UNMATCHED 0x2
#define FILTERTEST_PRINT_IGNORED 0x4

/*
 * Run f over every line of in.  Lines selected by flags are written to
 * out as they are met (out may be NULL).  Returns the report:
 *   {"filter":…, "datepattern":…, "lines":N, "matched":N, "ignored":N,
 *    "missed":N, "seconds":S, "lines_per_second":R,
 *    "regexes":[{"regex":…, "hits":N}],
 *    "addresses":[{"addr":…, "count":N}] (most hits first),
 *    "hostless":N (matches without an address),
 *    "cut":N (lines over SOURCE_MAXLINE: never matched, as in jaild)}
 * now decides missing years; times are not checked against findtime.
 */
json_t *filtertest_run(struct filter *f, FILE *in, int flags, FILE *out);

/*
 * Run n filters over in at once, one literal pass a line for all of them
 * (filter_set.h).  A line is printed under FILTERTEST_PRINT_MATCHED if
 * some filter matched it, _IGNORED if none matched and some ignored it,
 * _UNMATCHED if none matched or ignored it.  Returns
 *   {"lines":N, "none":N (lines no filter matched, cut ones too),
 *    "cut":N, "seconds":S,
 *    "lines_per_second":R, "filters":[the report above, per filter]}
 */
json_t *filtertest_run_many(
    struct filter **f, size_t n, FILE *in, int flags, FILE *out);

/*
 * Load the filters refs[0..nrefs) as jails of confdir would, or with all
 * every filter of confdir's filters/ and filter_dirs, and run them as
 * filtertest_run_many.  With all, files that are no filter or do not
 * load are listed in "skipped":[{"filter":…, "error":…}].  NULL with
 * *cause if a named filter does not load.
 */
json_t *filtertest_many(const char *confdir, char *const *refs, size_t nrefs,
    int all, FILE *in, int flags, FILE *out, char **cause);

#endif
