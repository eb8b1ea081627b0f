/* The literal prefilter: strings every match of a regex must contain. */
#ifndef JAILD_FILTER_LIT_H
#define JAILD_FILTER_LIT_H

#include <stddef.h>

/* One string, and the index of its rarest byte (memchr looks for it). */
struct filter_lit_piece {
	char *s;
	size_t len;
	size_t rare;
};

/*
 * Two strings that every match of a regex contains, apart from each
 * other.  The regexes see the line with its date cut out, so a string
 * of the match may be split by the date in the line as read: at most one
 * of two separate pieces can be, so a line holding neither piece cannot
 * match.  p[0].s == NULL: the regex has no usable literal.
 */
struct filter_lit {
	struct filter_lit_piece p[2];
};

/*
 * Find the pieces in the PCRE2 pattern p (tags already expanded): the two
 * longest top-level runs of plain characters, or the halves of the
 * longest, each at least 3 bytes.  Returns 0 with *l set, or -1 with *l
 * zeroed when the pattern has none that is safe to use (top-level '|' or
 * option setting, verbs): missing a literal only costs speed, a wrong one
 * loses matches.
 */
int filter_lit_extract(const char *p, struct filter_lit *l);
void filter_lit_clear(struct filter_lit *l);

/* Tell whether either piece of l is in s[0..len). */
int filter_lit_find(const struct filter_lit *l, const char *s, size_t len);

/* Guess how rare byte c is in log text: higher is rarer. */
int filter_lit_rarity(unsigned char c);

#endif
