/* The literal prefilter: a string every match of a regex must contain. */
#ifndef JAILD_FILTER_LIT_H
#define JAILD_FILTER_LIT_H

#include <stddef.h>

struct filter_lit {
	char *s; /* NULL: the regex has no usable literal */
	size_t len;
	size_t rare; /* index of its rarest byte: memchr looks for that */
};

/*
 * Find the longest run of plain characters that every match of the
 * PCRE2 pattern p (tags already expanded) must contain.  Returns 0 with
 * *l set, or -1 with *l zeroed when the pattern has none that is safe to
 * use (too short, top-level '|', option settings): missing a literal only
 * costs speed, a wrong one loses matches.
 */
int filter_lit_extract(const char *p, struct filter_lit *l);
void filter_lit_clear(struct filter_lit *l);

/* Find l's literal in s[0..len); NULL if absent. */
const char *filter_lit_find(
    const struct filter_lit *l, const char *s, size_t len);

/* Guess how rare byte c is in log text: higher is rarer. */
int filter_lit_rarity(unsigned char c);

#endif
