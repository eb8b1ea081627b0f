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
 * What every match of a regex contains.  The regexes see the line with
 * its date cut out, so a string of the match may be split by the date in
 * the line as read.  When the date may sit anywhere, the literal is two
 * separate pieces: the cut can split at most one, so a line holding
 * neither cannot match.  When the date can only start within the first
 * bytes of the line, one piece (p[1].s == NULL) is enough: a run less
 * what could have come before the date.  p[0].s == NULL: no usable
 * literal.
 */
struct filter_lit {
	struct filter_lit_piece p[2];
};

/*
 * Find the pieces in the PCRE2 pattern p (tags already expanded), from
 * its top-level runs of plain characters, each piece at least 3 bytes.
 * lead and nonword are datetime_lead's answer for the filter's dates.
 * Returns 0 with *l set, or -1 with *l zeroed when the pattern has none
 * that is safe to use (top-level '|' or option setting, verbs): missing a
 * literal only costs speed, a wrong one loses matches.
 */
int filter_lit_extract(
    const char *p, int lead, int nonword, struct filter_lit *l);
void filter_lit_clear(struct filter_lit *l);

/* Tell whether either piece of l is in s[0..len). */
int filter_lit_find(const struct filter_lit *l, const char *s, size_t len);

/* Guess how rare byte c is in log text: higher is rarer. */
int filter_lit_rarity(unsigned char c);

#endif
