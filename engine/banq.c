/* The expiry heap: a binary min-heap of ban ends. */
#include <stdlib.h>

#include "banq.h"
#include "xmalloc.h"

/*
 * Entries are never removed from the middle: an unbanned or re-timed ban
 * leaves a stale entry that the owner recognises and skips when it pops,
 * which keeps every operation O(log n) without back-pointers.
 */
struct banq {
	struct banq_entry *heap;
	size_t n, cap;
};

struct banq *
banq_create(void)
{
	return xcalloc(1, sizeof(struct banq));
}

void
banq_free(struct banq *q)
{
	if (q == NULL)
		return;
	free(q->heap);
	free(q);
}

static void
banq_swap(struct banq *q, size_t i, size_t j)
{
	struct banq_entry tmp = q->heap[i];

	q->heap[i] = q->heap[j];
	q->heap[j] = tmp;
}

/* Move entry i up until its parent ends no later. */
static void
banq_sift_up(struct banq *q, size_t i)
{
	size_t parent;

	while (i > 0) {
		parent = (i - 1) / 2;
		if (q->heap[parent].end <= q->heap[i].end)
			break;
		banq_swap(q, i, parent);
		i = parent;
	}
}

/* Move entry i down until both children end no earlier. */
static void
banq_sift_down(struct banq *q, size_t i)
{
	size_t l, r, least;

	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		least = i;
		if (l < q->n && q->heap[l].end < q->heap[least].end)
			least = l;
		if (r < q->n && q->heap[r].end < q->heap[least].end)
			least = r;
		if (least == i)
			return;
		banq_swap(q, i, least);
		i = least;
	}
}

void
banq_push(struct banq *q, time_t end, void *owner, const struct addr *a)
{
	if (q->n == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 64;
		q->heap = xreallocarray(q->heap, q->cap, sizeof *q->heap);
	}
	q->heap[q->n].end = end;
	q->heap[q->n].owner = owner;
	q->heap[q->n].addr = *a;
	banq_sift_up(q, q->n++);
}

time_t
banq_next(const struct banq *q)
{
	return q->n == 0 ? 0 : q->heap[0].end;
}

int
banq_pop_expired(struct banq *q, time_t now, struct banq_entry *out)
{
	if (q->n == 0 || q->heap[0].end > now)
		return -1;
	*out = q->heap[0];
	q->heap[0] = q->heap[--q->n];
	banq_sift_down(q, 0);
	return 0;
}

size_t
banq_count(const struct banq *q)
{
	return q->n;
}
