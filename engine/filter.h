/* Filters: compile fail2ban-style regexes with PCRE2 JIT, match lines. */
#ifndef JAILD_FILTER_H
#define JAILD_FILTER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "config.h"
#include "filter_lit.h"

enum filter_verdict {
	FILTER_NOMATCH = 0,
	FILTER_IGNORED, /* a failregex matched, then an ignoreregex */
	FILTER_MATCH,
};

struct filter_result {
	enum filter_verdict verdict;
	int has_addr; /* 0 for hostless matches (saturation lines) */
	struct addr addr;
	int has_time;
	time_t when;
	int regex; /* index of the failregex that matched */
	char id[64]; /* <F-ID>, or "" */
	char user[128]; /* <F-USER>, or "" */
};

struct filter;

/*
 * Compile every regex of fc (JIT).  Tags are expanded first: <HOST>,
 * <ADDR>, <IP4>, <IP6> capture an address (never a DNS name), <F-ID>...
 * </F-ID> and <F-USER>...</F-USER> capture fields.  An error names the
 * regex's file:line in *cause.
 */
struct filter *filter_create(const struct filter_conf *fc, char **cause);
void filter_ref(struct filter *);
void filter_unref(struct filter *);

/*
 * Match one line (not NUL-terminated, no trailing newline).  The date is
 * found with the filter's datepattern and cut out of the line before the
 * regexes run, as fail2ban does; now infers a missing year.
 */
enum filter_verdict filter_match(struct filter *f, const char *line, size_t len,
    time_t now, struct filter_result *res);

#define FILTER_MASK_ALL (~(uint64_t)0)
/*
 * The same, for a line whose literals were looked for already (one pass
 * for many filters, filter_set.h): bit i of mask says failregex i's
 * literal is in the line (failregexes from 64 on are always tried); 0
 * means none is, or the prefregex's literal is missing.  FILTER_MASK_ALL
 * tries every failregex.  Ignored for multi-line filters.
 */
enum filter_verdict filter_match_mask(struct filter *f, const char *line,
    size_t len, time_t now, uint64_t mask, struct filter_result *res);

/*
 * The literal prefilter: a line that holds none of the literals of a
 * prefilterable filter cannot match it.  A filter is prefilterable when
 * it is single-line, has at most 64 failregexes and each has a literal.
 * filter_prefilter_set(f, 0) turns it off (tests compare both ways).
 */
int filter_prefilterable(const struct filter *);
/* Look for f's literals in line on its own: the mask for one filter. */
uint64_t filter_prefilter(const struct filter *f, const char *line, size_t len);
void filter_prefilter_set(struct filter *, int on);
/* The literal the prefregex (every line) or failregex i requires; NULL. */
const struct filter_lit *filter_pref_lit(const struct filter *);
const struct filter_lit *filter_regex_lit(const struct filter *, size_t i);

const char *filter_name(const struct filter *);
size_t filter_nregex(const struct filter *);
const char *filter_regex_source(const struct filter *, size_t i);
const char *filter_datepattern(const struct filter *);

#endif
