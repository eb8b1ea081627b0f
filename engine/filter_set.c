/* Filter sets: the filters reading one log share a single literal pass. */
#include <stdlib.h>
#include <string.h>

#include "filter_set.h"
#include "xmalloc.h"

/*
 * How the pass works: each distinct literal (3 bytes or more) is anchored
 * on its rarest window of stride + 1 bytes, that is on stride overlapping
 * byte pairs ("bigrams") at off, off + 1, ...; stride is the shortest
 * literal's length less one, at most 4.  A 64 Kibit bitmap says which
 * bigrams anchor some literal.  The scan tests the bigram at every
 * stride-th position of the line, one bit test each: any occurrence of a
 * literal puts one of its anchors on such a position.  Only on a hit are
 * the literals anchored there compared.  The bitmap is 8 KiB, so it stays
 * in L1.  As fast as Vectorscan per line here, without the dependency:
 * bench/README.md.
 */

#define FILTER_SET_MAXSTRIDE 4
#define FILTER_SET_LEARN (1024 * 1024) /* bytes counted before re-anchoring */
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
	struct filter_set_anchor *anchors; /* stride per literal, by bigram */
	size_t nanchors;
	struct filter_set_bucket *buckets;
	size_t nbuckets; /* power of two */
	uint64_t bits[65536 / 64];
	uint64_t gen;
	size_t stride; /* bigrams tested: every stride-th position */
	int built;
	uint32_t *counts; /* bigrams seen while learning, or NULL */
	size_t learnt; /* bytes counted so far */
	int learning; /* 0 once anchored on counts */
};

struct filter_set *
filter_set_create(void)
{
	struct filter_set *fs = xcalloc(1, sizeof(struct filter_set));

	fs->learning = 1;
	return fs;
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

/* Drop the anchors, keep the literals: they are anchored again. */
static void
filter_set_unanchor(struct filter_set *fs)
{
	free(fs->anchors);
	free(fs->buckets);
	fs->anchors = NULL;
	fs->buckets = NULL;
	fs->nbuckets = fs->nanchors = 0;
	memset(fs->bits, 0, sizeof fs->bits);
}

void
filter_set_free(struct filter_set *fs)
{
	if (fs == NULL)
		return;
	filter_set_unbuild(fs);
	free(fs->counts);
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
	fs->learning = 1;
	fs->learnt = 0;
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
			for (k = 0; k < 2 && l->p[k].s != NULL; k++)
				filter_set_use(
				    fs, &l->p[k], s, FILTER_SET_PREF);
		}
		for (i = 0; i < filter_nregex(sl->f); i++) {
			l = filter_regex_lit(sl->f, i);
			for (k = 0; k < 2 && l->p[k].s != NULL; k++)
				filter_set_use(fs, &l->p[k], s, (int)i);
		}
	}
}

/* The two bytes at p as one number. */
static uint16_t
filter_set_bigram(const char *p)
{
	return (uint16_t)((unsigned char)p[0] | (unsigned char)p[1] << 8);
}

/*
 * Score the window of stride + 1 bytes at s: lower is rarer.  Learnt
 * counts of its bigrams if there are some, else a guess from the bytes.
 */
static uint64_t
filter_set_window(const struct filter_set *fs, const char *s)
{
	uint64_t score = 0;
	size_t k;

	for (k = 0; k < fs->stride; k++) {
		if (fs->counts != NULL)
			score += fs->counts[filter_set_bigram(s + k)];
		else
			score += 100 - (uint64_t)filter_lit_rarity(
			                   (unsigned char)s[k]);
	}
	if (fs->counts == NULL)
		score += 100 - (uint64_t)filter_lit_rarity(
		                   (unsigned char)s[fs->stride]);
	return score;
}

/* Pick the offset of l's rarest window of stride + 1 bytes. */
static uint16_t
filter_set_anchor_off(
    const struct filter_set *fs, const struct filter_set_lit *l)
{
	size_t i, best = 0;
	uint64_t score, top = UINT64_MAX;

	for (i = 0; i + fs->stride < l->len && i < UINT16_MAX - fs->stride;
	     i++) {
		if ((score = filter_set_window(fs, l->s + i)) < top) {
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

/* Anchor every literal on its rarest window and index the anchors. */
static void
filter_set_anchor(struct filter_set *fs)
{
	struct filter_set_anchor *a;
	size_t i, k;
	uint16_t off;

	fs->anchors = xcalloc(fs->stride * fs->nlits + 1, sizeof *fs->anchors);
	for (i = 0; i < fs->nlits; i++) {
		off = filter_set_anchor_off(fs, &fs->lits[i]);
		for (k = 0; k < fs->stride; k++) {
			a = &fs->anchors[fs->nanchors++];
			a->off = (uint16_t)(off + k);
			a->lit = (uint32_t)i;
			a->bigram = filter_set_bigram(fs->lits[i].s + off + k);
		}
	}
	filter_set_index(fs);
}

/* Build the literal index from the slots' filters. */
static void
filter_set_build(struct filter_set *fs)
{
	size_t i;

	filter_set_collect(fs);
	fs->stride = FILTER_SET_MAXSTRIDE;
	for (i = 0; i < fs->nlits; i++)
		if (fs->lits[i].len - 1 < fs->stride)
			fs->stride = fs->lits[i].len - 1;
	filter_set_anchor(fs);
	fs->built = 1;
}

/*
 * Count the bigrams of the first text scanned; after FILTER_SET_LEARN
 * bytes, anchor the literals again on the bigrams that were rarest in
 * it.  A guess from English letter frequencies picks pairs such as "ec"
 * that log text is full of; the log itself knows better.
 */
static void
filter_set_learn(struct filter_set *fs, const char *s, size_t len)
{
	size_t i;

	if (fs->counts == NULL)
		fs->counts = xcalloc(65536, sizeof *fs->counts);
	for (i = 0; i + 1 < len; i++)
		fs->counts[filter_set_bigram(s + i)]++;
	if ((fs->learnt += len) < FILTER_SET_LEARN)
		return;
	filter_set_unanchor(fs);
	filter_set_anchor(fs);
	free(fs->counts);
	fs->counts = NULL;
	fs->learning = 0;
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

/* Tell whether the bigram at s is some literal's anchor. */
static inline uint64_t
filter_set_bit(const struct filter_set *fs, const char *s)
{
	uint16_t bg = filter_set_bigram(s);

	return fs->bits[bg >> 6] & ((uint64_t)1 << (bg & 63));
}

/*
 * The first tested position from i on whose bigram is an anchor, or len.
 * Four positions are tested per branch: hits are rare.
 */
static inline size_t
filter_set_next(
    const struct filter_set *fs, const char *s, size_t len, size_t i)
{
	size_t st = fs->stride;

	for (; i + 3 * st + 1 < len; i += 4 * st)
		if (filter_set_bit(fs, s + i) | filter_set_bit(fs, s + i + st) |
		    filter_set_bit(fs, s + i + 2 * st) |
		    filter_set_bit(fs, s + i + 3 * st))
			break;
	for (; i + 1 < len; i += st)
		if (filter_set_bit(fs, s + i))
			return i;
	return len;
}

/*
 * Look for every literal of the set in line[0..len), in one pass.  An
 * occurrence's anchors lie before its last byte, so the positions tested
 * (i + 1 < len) reach them all.
 */
void
filter_set_scan(struct filter_set *fs, const char *line, size_t len)
{
	size_t i;

	if (!fs->built)
		filter_set_build(fs);
	if (fs->learning)
		filter_set_learn(fs, line, len);
	fs->gen++;
	for (i = 0; (i = filter_set_next(fs, line, len, i)) < len;
	     i += fs->stride)
		filter_set_verify(fs, line, len, i);
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
	size_t i;

	if (!fs->built)
		filter_set_build(fs);
	if (fs->learning)
		filter_set_learn(fs, buf, len);
	for (i = 0; (i = filter_set_next(fs, buf, len, i)) < len;
	     i += fs->stride)
		if (filter_set_any(fs, buf, len, i))
			return buf + i;
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
