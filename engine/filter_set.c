/* Filter sets: the filters reading one log share a single literal pass. */
#include <stdlib.h>
#include <string.h>

#include "filter_set.h"
#include "xmalloc.h"

/*
 * How the pass works: each distinct literal (3 bytes or more) is anchored
 * on its rarest pair of overlapping byte pairs ("bigrams" at off and
 * off + 1).  A 64 Kibit bitmap says which bigrams anchor some literal.
 * The scan tests the bigram at every second position of the line, one
 * bit test each: an occurrence of a literal puts one of its two anchors
 * at an even position.  Only on a hit are the literals anchored there
 * compared.  The bitmap is 8 KiB, so it stays in L1.  As fast as
 * Vectorscan per line here, without the dependency: bench/README.md.
 */

#define FILTER_SET_PREF (-1) /* a use by the prefregex, not failregex i */

/* One filter using one literal. */
struct filter_set_use {
	size_t slot;
	int bit; /* failregex index, or FILTER_SET_PREF */
};

/* One distinct literal and the filters that use it. */
struct filter_set_lit {
	const char *s; /* borrowed from the filter */
	size_t len;
	struct filter_set_use *uses;
	size_t nuses;
	uint64_t seen; /* the scan that found it last */
};

/* A literal anchored at offset off on a bigram. */
struct filter_set_anchor {
	uint16_t bigram;
	uint16_t off;
	uint32_t lit;
};

/* One filter of the set and its result for the last line. */
struct filter_set_slot {
	struct filter *f;
	int all; /* not prefilterable: every line goes to the regexes */
	int need_pref; /* its prefregex has a literal */
	uint64_t gen; /* mask and pref belong to scan number gen */
	uint64_t mask;
	int pref;
};

/* Where a bigram's anchors start in the sorted array (open addressing). */
struct filter_set_bucket {
	uint32_t bigram; /* UINT32_MAX: empty */
	uint32_t first;
	uint32_t n;
};

struct filter_set {
	struct filter_set_slot *slots;
	size_t nslots;
	struct filter_set_lit *lits;
	size_t nlits;
	struct filter_set_anchor *anchors; /* two per literal, by bigram */
	size_t nanchors;
	struct filter_set_bucket *buckets;
	size_t nbuckets; /* power of two */
	uint64_t bits[65536 / 64];
	uint64_t gen;
	int built;
};

struct filter_set *
filter_set_create(void)
{
	return xcalloc(1, sizeof(struct filter_set));
}

/* Drop the literal index (rebuilt by the next scan). */
static void
filter_set_unbuild(struct filter_set *fs)
{
	size_t i;

	for (i = 0; i < fs->nlits; i++)
		free(fs->lits[i].uses);
	free(fs->lits);
	free(fs->anchors);
	free(fs->buckets);
	fs->lits = NULL;
	fs->anchors = NULL;
	fs->buckets = NULL;
	fs->nlits = fs->nbuckets = fs->nanchors = 0;
	memset(fs->bits, 0, sizeof fs->bits);
	fs->built = 0;
}

void
filter_set_free(struct filter_set *fs)
{
	if (fs == NULL)
		return;
	filter_set_unbuild(fs);
	free(fs->slots);
	free(fs);
}

size_t
filter_set_add(struct filter_set *fs, struct filter *f)
{
	struct filter_set_slot *sl;

	fs->slots = xreallocarray(fs->slots, fs->nslots + 1, sizeof *fs->slots);
	sl = &fs->slots[fs->nslots];
	memset(sl, 0, sizeof *sl);
	sl->f = f;
	sl->all = f != NULL && !filter_prefilterable(f);
	filter_set_unbuild(fs);
	return fs->nslots++;
}

size_t
filter_set_size(const struct filter_set *fs)
{
	return fs->nslots;
}

/* Record that literal l sets slot's regex bit. */
static void
filter_set_use(struct filter_set *fs, const struct filter_lit_piece *l,
    size_t slot, int bit)
{
	struct filter_set_lit *sl;
	size_t i;

	for (i = 0; i < fs->nlits; i++)
		if (fs->lits[i].len == l->len &&
		    memcmp(fs->lits[i].s, l->s, l->len) == 0)
			break;
	if (i == fs->nlits) {
		fs->lits =
		    xreallocarray(fs->lits, fs->nlits + 1, sizeof *fs->lits);
		memset(&fs->lits[i], 0, sizeof fs->lits[i]);
		fs->lits[i].s = l->s;
		fs->lits[i].len = l->len;
		fs->nlits++;
	}
	sl = &fs->lits[i];
	sl->uses = xreallocarray(sl->uses, sl->nuses + 1, sizeof *sl->uses);
	sl->uses[sl->nuses].slot = slot;
	sl->uses[sl->nuses++].bit = bit;
}

/* Collect the literals of every prefilterable filter: either piece. */
static void
filter_set_collect(struct filter_set *fs)
{
	const struct filter_lit *l;
	struct filter_set_slot *sl;
	size_t s, i, k;

	for (s = 0; s < fs->nslots; s++) {
		sl = &fs->slots[s];
		if (sl->f == NULL || sl->all)
			continue;
		if ((l = filter_pref_lit(sl->f)) != NULL) {
			sl->need_pref = 1;
			for (k = 0; k < 2; k++)
				filter_set_use(
				    fs, &l->p[k], s, FILTER_SET_PREF);
		}
		for (i = 0; i < filter_nregex(sl->f); i++) {
			l = filter_regex_lit(sl->f, i);
			for (k = 0; k < 2; k++)
				filter_set_use(fs, &l->p[k], s, (int)i);
		}
	}
}

/* Pick the offset of l's rarest two overlapping bigrams (three bytes). */
static uint16_t
filter_set_anchor_off(const struct filter_set_lit *l)
{
	size_t i, best = 0;
	int score, top = -1;

	for (i = 0; i + 2 < l->len && i < UINT16_MAX - 1; i++) {
		score = filter_lit_rarity((unsigned char)l->s[i]) +
		        2 * filter_lit_rarity((unsigned char)l->s[i + 1]) +
		        filter_lit_rarity((unsigned char)l->s[i + 2]);
		if (score > top) {
			top = score;
			best = i;
		}
	}
	return (uint16_t)best;
}

static int
filter_set_anchor_cmp(const void *a, const void *b)
{
	const struct filter_set_anchor *x = a, *y = b;

	return (int)x->bigram - (int)y->bigram;
}

static uint16_t
filter_set_bigram(const char *p)
{
	return (uint16_t)((unsigned char)p[0] | (unsigned char)p[1] << 8);
}

static size_t
filter_set_hash(uint32_t bigram, size_t nbuckets)
{
	return (size_t)((bigram * 0x9E3779B1u) >> 8) & (nbuckets - 1);
}

/* Index the anchors by bigram: the bitmap and the bucket table. */
static void
filter_set_index(struct filter_set *fs)
{
	struct filter_set_bucket *b;
	size_t i, h;

	qsort(fs->anchors, fs->nanchors, sizeof *fs->anchors,
	    filter_set_anchor_cmp);
	for (fs->nbuckets = 16; fs->nbuckets < fs->nanchors * 2;)
		fs->nbuckets *= 2;
	fs->buckets = xcalloc(fs->nbuckets, sizeof *fs->buckets);
	for (i = 0; i < fs->nbuckets; i++)
		fs->buckets[i].bigram = UINT32_MAX;
	for (i = 0; i < fs->nanchors; i++) {
		h = filter_set_hash(fs->anchors[i].bigram, fs->nbuckets);
		while ((b = &fs->buckets[h])->bigram != UINT32_MAX &&
		       b->bigram != fs->anchors[i].bigram)
			h = (h + 1) & (fs->nbuckets - 1);
		if (b->bigram == UINT32_MAX) {
			b->bigram = fs->anchors[i].bigram;
			b->first = (uint32_t)i;
		}
		b->n++;
		fs->bits[b->bigram >> 6] |= (uint64_t)1 << (b->bigram & 63);
	}
}

/* Build the literal index from the slots' filters. */
static void
filter_set_build(struct filter_set *fs)
{
	struct filter_set_anchor *a;
	size_t i, k;
	uint16_t off;

	filter_set_collect(fs);
	fs->anchors = xcalloc(2 * fs->nlits + 1, sizeof *fs->anchors);
	for (i = 0; i < fs->nlits; i++) {
		off = filter_set_anchor_off(&fs->lits[i]);
		for (k = 0; k < 2; k++) {
			a = &fs->anchors[fs->nanchors++];
			a->off = (uint16_t)(off + k);
			a->lit = (uint32_t)i;
			a->bigram = filter_set_bigram(fs->lits[i].s + off + k);
		}
	}
	filter_set_index(fs);
	fs->built = 1;
}

/* Mark literal i found: set the bits of every filter that uses it. */
static void
filter_set_found(struct filter_set *fs, struct filter_set_lit *l)
{
	struct filter_set_slot *sl;
	size_t i;

	l->seen = fs->gen;
	for (i = 0; i < l->nuses; i++) {
		sl = &fs->slots[l->uses[i].slot];
		if (sl->gen != fs->gen) {
			sl->gen = fs->gen;
			sl->mask = 0;
			sl->pref = 0;
		}
		if (l->uses[i].bit == FILTER_SET_PREF)
			sl->pref = 1;
		else
			sl->mask |= (uint64_t)1 << l->uses[i].bit;
	}
}

/* Compare the literals anchored on the bigram at line[pos]. */
static void
filter_set_verify(
    struct filter_set *fs, const char *line, size_t len, size_t pos)
{
	const struct filter_set_bucket *b;
	const struct filter_set_anchor *a;
	struct filter_set_lit *l;
	uint32_t bigram = filter_set_bigram(line + pos);
	size_t h, i;

	h = filter_set_hash(bigram, fs->nbuckets);
	while ((b = &fs->buckets[h])->bigram != bigram) {
		if (b->bigram == UINT32_MAX)
			return;
		h = (h + 1) & (fs->nbuckets - 1);
	}
	for (i = 0; i < b->n; i++) {
		a = &fs->anchors[b->first + i];
		l = &fs->lits[a->lit];
		if (l->seen == fs->gen || pos < a->off ||
		    pos - a->off + l->len > len)
			continue;
		if (memcmp(line + pos - a->off, l->s, l->len) == 0)
			filter_set_found(fs, l);
	}
}

/*
 * Look for every literal of the set in line[0..len), in one pass.  The
 * last byte of an even-length line is never a bigram's start: no literal
 * (3 bytes or more) can have both anchors there.
 */
void
filter_set_scan(struct filter_set *fs, const char *line, size_t len)
{
	uint16_t bg;
	size_t i;

	if (!fs->built)
		filter_set_build(fs);
	fs->gen++;
	for (i = 0; i + 1 < len; i += 2) {
		bg = filter_set_bigram(line + i);
		if (fs->bits[bg >> 6] & ((uint64_t)1 << (bg & 63)))
			filter_set_verify(fs, line, len, i);
	}
}

/* Tell whether some literal anchored on the bigram at buf[pos] is there. */
static int
filter_set_any(
    const struct filter_set *fs, const char *buf, size_t len, size_t pos)
{
	const struct filter_set_bucket *b;
	const struct filter_set_anchor *a;
	const struct filter_set_lit *l;
	uint32_t bigram = filter_set_bigram(buf + pos);
	size_t h, i;

	h = filter_set_hash(bigram, fs->nbuckets);
	while ((b = &fs->buckets[h])->bigram != bigram) {
		if (b->bigram == UINT32_MAX)
			return 0;
		h = (h + 1) & (fs->nbuckets - 1);
	}
	for (i = 0; i < b->n; i++) {
		a = &fs->anchors[b->first + i];
		l = &fs->lits[a->lit];
		if (pos >= a->off && pos - a->off + l->len <= len &&
		    memcmp(buf + pos - a->off, l->s, l->len) == 0)
			return 1;
	}
	return 0;
}

/* Find the first literal of the set in buf[0..len); see filter_set.h. */
const char *
filter_set_find(struct filter_set *fs, const char *buf, size_t len)
{
	uint16_t bg;
	size_t i;

	if (!fs->built)
		filter_set_build(fs);
	for (i = 0; i + 1 < len; i += 2) {
		bg = filter_set_bigram(buf + i);
		if ((fs->bits[bg >> 6] & ((uint64_t)1 << (bg & 63))) &&
		    filter_set_any(fs, buf, len, i))
			return buf + i;
	}
	return NULL;
}

/* Tell whether every filter of the set can skip lines by literals. */
int
filter_set_prefilterable(const struct filter_set *fs)
{
	size_t i;

	for (i = 0; i < fs->nslots; i++)
		if (fs->slots[i].all)
			return 0;
	return 1;
}

/* The mask of slot for the line scanned last. */
uint64_t
filter_set_mask(const struct filter_set *fs, size_t slot)
{
	const struct filter_set_slot *sl = &fs->slots[slot];

	if (sl->all)
		return FILTER_MASK_ALL;
	if (sl->gen != fs->gen || (sl->need_pref && !sl->pref))
		return 0;
	return sl->mask;
}
