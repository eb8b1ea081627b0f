/*
 * libFuzzer target: the literal prefilter never changes a result.  The
 * input is a failregex, a newline, and log lines; each line must get the
 * same verdict, regex, address and time with the prefilter off and on
 * (through a filter_set, whose mask must equal the filter's own search).
 * A wrong literal would lose matches.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "config.h"
#include "filter.h"
#include "filter_set.h"

#define FUZZ_NOW ((time_t)1795996800)

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * Compile regex as the only failregex of a filter; NULL if it is bad.  A
 * regex that begins with "{^LN-BEG}" gets that datepattern (dates only at
 * the line start: one literal piece), others the default (two pieces).
 */
static struct filter *
fuzz_prefilter_filter(char *regex)
{
	struct config_regex cr = {regex, (char *)"fuzz", 1};
	struct filter_conf fc;
	char *cause = NULL;
	struct filter *f;

	memset(&fc, 0, sizeof fc);
	if (strncmp(regex, "{^LN-BEG}", 9) == 0) {
		fc.datepattern = (char *)"{^LN-BEG}";
		cr.pattern = regex + 9;
	}
	fc.name = (char *)"fuzz";
	fc.failregex = &cr;
	fc.nfailregex = 1;
	f = filter_create(&fc, &cause);
	free(cause);
	return f;
}

/* Abort unless the two results are the same. */
static void
fuzz_prefilter_same(enum filter_verdict v1, const struct filter_result *r1,
    enum filter_verdict v2, const struct filter_result *r2)
{
	if (v1 != v2)
		abort();
	if (v1 == FILTER_NOMATCH)
		return;
	if (r1->regex != r2->regex || r1->has_addr != r2->has_addr ||
	    (r1->has_addr && !addr_equal(&r1->addr, &r2->addr)) ||
	    r1->has_time != r2->has_time ||
	    (r1->has_time && r1->when != r2->when) ||
	    strcmp(r1->id, r2->id) != 0 || strcmp(r1->user, r2->user) != 0)
		abort();
}

/* The filters of the last regex: inputs often differ in lines only. */
static struct {
	char *regex;
	struct filter *off, *on;
	struct filter_set *fs;
} fuzz_prefilter_last;

/* Compile regex twice (prefilter off, on), or reuse the last ones. */
static int
fuzz_prefilter_get(char *regex)
{
	if (fuzz_prefilter_last.regex != NULL &&
	    strcmp(fuzz_prefilter_last.regex, regex) == 0) {
		free(regex);
		return fuzz_prefilter_last.off != NULL ? 0 : -1;
	}
	filter_unref(fuzz_prefilter_last.off);
	filter_unref(fuzz_prefilter_last.on);
	filter_set_free(fuzz_prefilter_last.fs);
	free(fuzz_prefilter_last.regex);
	memset(&fuzz_prefilter_last, 0, sizeof fuzz_prefilter_last);
	fuzz_prefilter_last.regex = regex;
	if ((fuzz_prefilter_last.off = fuzz_prefilter_filter(regex)) == NULL)
		return -1;
	fuzz_prefilter_last.on = fuzz_prefilter_filter(regex);
	filter_prefilter_set(fuzz_prefilter_last.off, 0);
	fuzz_prefilter_last.fs = filter_set_create();
	filter_set_add(fuzz_prefilter_last.fs, fuzz_prefilter_last.on);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct filter_result r[2];
	enum filter_verdict v[2];
	const char *p, *end, *nl;
	uint64_t mask;
	size_t n;

	if ((nl = memchr(data, '\n', size)) == NULL ||
	    memchr(data, '\0', (size_t)(nl - (const char *)data)) != NULL)
		return 0;
	n = (size_t)(nl - (const char *)data);
	if (fuzz_prefilter_get(strndup((const char *)data, n)) != 0)
		return 0;
	end = (const char *)data + size;
	for (p = nl + 1; p <= end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		v[0] = filter_match(
		    fuzz_prefilter_last.off, p, n, FUZZ_NOW, &r[0]);
		/* the shared pass and the filter's own search agree */
		filter_set_scan(fuzz_prefilter_last.fs, p, n);
		mask = filter_set_mask(fuzz_prefilter_last.fs, 0);
		if (mask != filter_prefilter(fuzz_prefilter_last.on, p, n))
			abort();
		v[1] = filter_match_mask(
		    fuzz_prefilter_last.on, p, n, FUZZ_NOW, mask, &r[1]);
		fuzz_prefilter_same(v[0], &r[0], v[1], &r[1]);
	}
	return 0;
}
