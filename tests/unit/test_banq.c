#include <stdlib.h>

#include <criterion/criterion.h>

#include "banq.h"

Test(banq, pops_in_end_order_only_when_due)
{
	struct banq *q = banq_create();
	struct banq_entry e;
	struct addr a = {0};
	time_t ends[] = {50, 10, 40, 20, 30, 10};
	time_t last = 0;
	size_t i;

	a.family = AF_INET;
	a.prefixlen = 32;
	for (i = 0; i < sizeof ends / sizeof ends[0]; i++)
		banq_push(q, ends[i], NULL, &a);
	cr_assert_eq(banq_next(q), 10);
	cr_assert_eq(banq_pop_expired(q, 5, &e), -1);
	for (i = 0; i < 6; i++) {
		cr_assert_eq(banq_pop_expired(q, 100, &e), 0);
		cr_assert_geq(e.end, last);
		last = e.end;
	}
	cr_assert_eq(banq_pop_expired(q, 100, &e), -1);
	cr_assert_eq(banq_next(q), 0);
	banq_free(q);
}

Test(banq, random_order_stress)
{
	struct banq *q = banq_create();
	struct banq_entry e;
	struct addr a = {0};
	time_t last = 0;
	int i;

	srand(7);
	for (i = 0; i < 10000; i++)
		banq_push(q, 1 + rand() % 100000, &a, &a);
	cr_assert_eq(banq_count(q), 10000);
	for (i = 0; i < 10000; i++) {
		cr_assert_eq(banq_pop_expired(q, 200000, &e), 0);
		cr_assert_geq(e.end, last);
		cr_assert_eq(e.owner, &a);
		last = e.end;
	}
	banq_free(q);
}
