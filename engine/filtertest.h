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

#endif
