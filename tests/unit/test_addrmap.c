#include <stdlib.h>

#include <criterion/criterion.h>

#include "addrmap.h"

static int freed;

static void
count_free(void *p)
{
	freed++;
	free(p);
}

static struct addr
host4(int i)
{
	struct addr a = {0};

	a.family = AF_INET;
	a.prefixlen = 32;
	a.bytes[0] = 10;
	a.bytes[1] = (uint8_t)(i >> 16);
	a.bytes[2] = (uint8_t)(i >> 8);
	a.bytes[3] = (uint8_t)i;
	return a;
}

Test(addrmap, put_get_del_across_growth)
{
	struct addrmap *m = addrmap_create(count_free);
	struct addr a;
	int i, *v;

	freed = 0;
	for (i = 0; i < 5000; i++) {
		a = host4(i);
		v = malloc(sizeof *v);
		*v = i;
		addrmap_put(m, &a, v);
	}
	cr_assert_eq(addrmap_count(m), 5000);
	for (i = 0; i < 5000; i++) {
		a = host4(i);
		v = addrmap_get(m, &a);
		cr_assert_not_null(v);
		cr_assert_eq(*v, i);
	}
	a = host4(42);
	cr_assert_eq(addrmap_del(m, &a), 0);
	cr_assert_null(addrmap_get(m, &a));
	cr_assert_eq(addrmap_del(m, &a), -1);
	cr_assert_eq(freed, 1);
	addrmap_free(m);
	cr_assert_eq(freed, 5000);
}

Test(addrmap, prefix_and_host_are_different_keys)
{
	struct addrmap *m = addrmap_create(NULL);
	struct addr host = host4(0), net = host4(0);
	int x = 1, y = 2;

	net.prefixlen = 24;
	addrmap_put(m, &host, &x);
	addrmap_put(m, &net, &y);
	cr_assert_eq(addrmap_get(m, &host), &x);
	cr_assert_eq(addrmap_get(m, &net), &y);
	addrmap_free(m);
}

static int
drop_odd(const struct addr *a, void *value, void *arg)
{
	return *(int *)value % 2;
}

Test(addrmap, foreach_deletes_what_fn_asks)
{
	struct addrmap *m = addrmap_create(free);
	struct addr a;
	int i, *v;

	for (i = 0; i < 100; i++) {
		a = host4(i);
		v = malloc(sizeof *v);
		*v = i;
		addrmap_put(m, &a, v);
	}
	addrmap_foreach(m, drop_odd, NULL);
	cr_assert_eq(addrmap_count(m), 50);
	a = host4(3);
	cr_assert_null(addrmap_get(m, &a));
	a = host4(4);
	cr_assert_not_null(addrmap_get(m, &a));
	addrmap_free(m);
}
