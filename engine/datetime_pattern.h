/* A compiled datepattern: the kinds of pattern and their PCRE2 form. */
#ifndef JAILD_DATETIME_PATTERN_H
#define JAILD_DATETIME_PATTERN_H

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif

#include <stddef.h>

#include <pcre2.h>

enum datetime_kind {
	DATETIME_DEFAULT, /* {DATE}: the built-in set */
	DATETIME_ISO, /* {ISO8601} */
	DATETIME_EPOCH, /* {EPOCH} */
	DATETIME_LEPOCH, /* {LEPOCH}: seconds, milli- or microseconds */
	DATETIME_NONE, /* {NONE}: lines carry no date */
	DATETIME_REGEX, /* strptime-style, compiled to PCRE2 */
	DATETIME_EMBED, /* "PRE{DATE}POST": regexes around a default date */
	DATETIME_TAI64N, /* daemontools' "@4000000063ab0d3f2c9e1e34" */
	DATETIME_MARK, /* a regex without fields: the line has no date */
};

/* Fields a strptime-style pattern can capture, in group-name order. */
enum datetime_field {
	DATETIME_F_Y,
	DATETIME_F_y,
	DATETIME_F_m,
	DATETIME_F_b,
	DATETIME_F_d,
	DATETIME_F_H,
	DATETIME_F_I,
	DATETIME_F_M,
	DATETIME_F_S,
	DATETIME_F_p,
	DATETIME_F_j,
	DATETIME_F_s,
	DATETIME_F_z,
	DATETIME_F_Z,
	DATETIME_NFIELDS
};

struct datetime_pat {
	enum datetime_kind kind;
	int anchored; /* {^LN-BEG}: only at the start of the line */
	char *desc;
	pcre2_code *re;
	pcre2_match_data *md;
	pcre2_code *post; /* DATETIME_EMBED: what must follow the date */
	pcre2_match_data *post_md;
	int grp[DATETIME_NFIELDS]; /* capture group number, or -1 */
	int cs, ce; /* DATETIME_EMBED: groups marking the cut, or -1 */
};

/*
 * Parse one line of a spec into p (zeroed by the caller): a {KEYWORD} or a
 * strptime pattern.  Returns -1 with *cause on error; p then still needs
 * datetime_pattern_clear.
 */
int datetime_pattern_compile(
    struct datetime_pat *p, const char *spec, char **cause);
/* Compile fail2ban's default templates into a new array *fbp of *nfbp. */
int datetime_pattern_fallback(
    struct datetime_pat **fbp, size_t *nfbp, char **cause);
/* Free what p holds (not p itself). */
void datetime_pattern_clear(struct datetime_pat *p);

#endif
