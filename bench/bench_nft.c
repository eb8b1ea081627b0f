/*
 * Benchmark the native nftables action against one nft process per ban.
 * Each run happens in a fresh network namespace this program creates (it
 * dies with the run), so nothing touches the host's firewall.  Needs root.
 *
 * Build (after make, from the top of the tree):
 *   gcc -std=gnu11 -D_GNU_SOURCE -O2 -Iengine bench/bench_nft.c \
 *       engine/libengine.a -o bench_nft \
 *       $(pkg-config --cflags --libs libnftables jansson sqlite3 libuv \
 *       libpcre2-8 libnftnl libmnl)
 * Run:  ./bench_nft [RUNS]     (default 5; medians over RUNS are printed)
 *
 *   a) 1,000 single bans, ban()+flush() each: p50/p99 latency per ban,
 *      with evict = false, then with evict = true (the default; the
 *      eviction, a walk of the kernel's whole TCP hash, runs in a libuv
 *      worker: the loop is run, untimed, between bans)
 *   b) restore of 100,000 bans at start, cold (empty sets: after a reboot)
 *      and warm (sets hold them; 1% stale, 1% missing: after a restart);
 *      restore() is the critical path, the stale sweep (a worker's dump,
 *      then the deletes) is timed apart, until the set is exactly right
 *   e) listing that 100,000-element set: nftset's netlink dump (what
 *      restore uses) against "nft -j list set" (what it used before)
 *   c) 10,000 bans in one flush
 *   d) 200 bans as fail2ban does it: one "nft add element" process each
 */
#include <sys/types.h>
#include <sys/wait.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "action.h"
#include "action_nft.h"
#include "config.h"
#include "nftset.h"
#include "xmalloc.h"

#define BENCH_NFT_MAXRUNS 50

extern char **environ;

struct bench_nft {
	struct config_var vars[1];
	struct action_conf ac;
	struct jail_conf jc;
	struct action a;
	uv_loop_t loop;
};

static double
bench_nft_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
bench_nft_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The q-quantile of v[0..n) (sorts v). */
static double
bench_nft_quantile(double *v, size_t n, double q)
{
	qsort(v, n, sizeof *v, bench_nft_cmp);
	return v[(size_t)(q * (double)(n - 1) + 0.5)];
}

/* Address i of 10.0.0.0/8, spread so that none are adjacent (as the lab). */
static void
bench_nft_addr(size_t i, struct addr *a)
{
	uint32_t v = (uint32_t)((i * 7919 + 3) % (1u << 24));

	memset(a, 0, sizeof *a);
	a->family = AF_INET;
	a->prefixlen = 32;
	a->bytes[0] = 10;
	a->bytes[1] = (uint8_t)(v >> 16);
	a->bytes[2] = (uint8_t)(v >> 8);
	a->bytes[3] = (uint8_t)v;
}

/* Enter a new network namespace and start a fresh action in it. */
static void
bench_nft_setup(struct bench_nft *b, int evict)
{
	char *cause = NULL;

	if (unshare(CLONE_NEWNET) != 0) {
		perror("unshare(CLONE_NEWNET) (run as root)");
		exit(1);
	}
	if (system("ip link set lo up") != 0)
		exit(1);
	memset(b, 0, sizeof *b);
	b->ac.name = (char *)"nftables";
	b->ac.native = (char *)"nftables";
	b->vars[0].key = (char *)"evict";
	b->vars[0].value = (char *)(evict ? "true" : "false");
	b->ac.vars = b->vars;
	b->ac.nvars = 1;
	b->jc.name = (char *)"sendmail";
	b->jc.port = (char *)"smtp,465,submission";
	b->jc.protocol = (char *)"tcp";
	b->a.ops = &action_nft_ops;
	b->a.conf = &b->ac;
	b->a.jail = &b->jc;
	if (uv_loop_init(&b->loop) != 0)
		exit(1);
	b->a.loop = &b->loop;
	if (b->a.ops->start(&b->a, &cause) != 0) {
		fprintf(stderr, "%s\n", cause);
		exit(1);
	}
}

/* Queue ban i (600 s) on b. */
static void
bench_nft_ban(struct bench_nft *b, size_t i)
{
	struct action_ban ban;

	memset(&ban, 0, sizeof ban);
	ban.jail = "sendmail";
	ban.start = time(NULL);
	ban.end = ban.start + 600;
	bench_nft_addr(i, &ban.addr);
	b->a.ops->ban(&b->a, &ban);
}

/* a) one ban per flush: fills p50 and p99 in ms. */
static void
bench_nft_single(size_t n, int evict, double *p50, double *p99)
{
	struct bench_nft b;
	double *lat = xcalloc(n, sizeof *lat), t;
	size_t i;

	bench_nft_setup(&b, evict);
	for (i = 0; i < n; i++) {
		t = bench_nft_now();
		bench_nft_ban(&b, i);
		b.a.ops->flush(&b.a);
		lat[i] = bench_nft_now() - t;
		uv_run(&b.loop, UV_RUN_NOWAIT);
	}
	uv_run(&b.loop, UV_RUN_DEFAULT);
	if (b.a.stats.failures != 0)
		fprintf(stderr, "single: %llu failures\n",
		    (unsigned long long)b.a.stats.failures);
	*p50 = bench_nft_quantile(lat, n, 0.5);
	*p99 = bench_nft_quantile(lat, n, 0.99);
	b.a.ops->free(&b.a);
	free(lat);
}

/* The store's bans: addresses first..first+n; each ends at a fixed time. */
static struct action_ban *
bench_nft_store(size_t first, size_t n)
{
	static time_t t0;
	struct action_ban *bans = xcalloc(n, sizeof *bans);
	size_t i;

	if (t0 == 0)
		t0 = time(NULL);
	for (i = 0; i < n; i++) {
		bans[i].jail = "sendmail";
		bans[i].start = t0;
		bans[i].end = t0 + 900 + (time_t)((first + i) % 3600);
		bench_nft_addr(first + i, &bans[i].addr);
	}
	return bans;
}

/* e) list the n-element set: netlink dump, then "nft -j list set"; ms. */
static void
bench_nft_listing(size_t n, double *dump, double *json)
{
	struct nftset_elem *e = NULL;
	char *cause = NULL;
	size_t ne = 0;
	double t;

	t = bench_nft_now();
	if (nftset_list("jaild", "sendmail_v4", AF_INET, 0, &e, &ne, NULL,
	        &cause) != 0 ||
	    ne != n) {
		fprintf(stderr, "listing: %s (%zu)\n", cause, ne);
		exit(1);
	}
	*dump = bench_nft_now() - t;
	free(e);
	t = bench_nft_now();
	if (system("nft -j list set inet jaild sendmail_v4 >/dev/null") != 0)
		exit(1);
	*json = bench_nft_now() - t;
}

/* b) restore n bans: cold (empty sets), then warm; ms of each. */
static void
bench_nft_restore(size_t n, double *cold, double *warm, double *sweep,
    double *dump, double *json)
{
	struct action_ban *bans = bench_nft_store(0, n), *shifted;
	struct bench_nft b;
	double t;

	bench_nft_setup(&b, 0);
	t = bench_nft_now();
	b.a.ops->restore(&b.a, bans, n);
	*cold = bench_nft_now() - t;
	uv_run(&b.loop, UV_RUN_DEFAULT);
	b.a.ops->free(&b.a);
	/* A restart: the kernel kept the sets; the store moved on by 1%. */
	shifted = bench_nft_store(n / 100, n);
	b.a.ops->start(&b.a, NULL);
	t = bench_nft_now();
	b.a.ops->restore(&b.a, shifted, n);
	*warm = bench_nft_now() - t;
	t = bench_nft_now();
	uv_run(&b.loop, UV_RUN_DEFAULT); /* the stale sweep */
	*sweep = bench_nft_now() - t;
	bench_nft_listing(n, dump, json);
	if (b.a.stats.failures != 0)
		fprintf(stderr, "restore: %llu failures\n",
		    (unsigned long long)b.a.stats.failures);
	b.a.ops->free(&b.a);
	free(bans);
	free(shifted);
}

/* c) n bans in one flush; ms. */
static double
bench_nft_batch(size_t n)
{
	struct bench_nft b;
	double t;
	size_t i;

	bench_nft_setup(&b, 0);
	t = bench_nft_now();
	for (i = 0; i < n; i++)
		bench_nft_ban(&b, i);
	b.a.ops->flush(&b.a);
	t = bench_nft_now() - t;
	b.a.ops->free(&b.a);
	return t;
}

/* d) n bans, one "nft add element" process each; ms per ban. */
static double
bench_nft_fork(size_t n)
{
	struct bench_nft b;
	char elem[64], *argv[] = {(char *)"nft", (char *)"add",
	                   (char *)"element", (char *)"inet", (char *)"jaild",
	                   (char *)"sendmail_v4", elem, NULL};
	struct addr a;
	double t;
	size_t i;
	pid_t pid;
	int st;

	bench_nft_setup(&b, 0);
	t = bench_nft_now();
	for (i = 0; i < n; i++) {
		bench_nft_addr(i, &a);
		snprintf(elem, sizeof elem, "{ 10.%u.%u.%u timeout 600s }",
		    a.bytes[1], a.bytes[2], a.bytes[3]);
		if (posix_spawnp(&pid, "nft", NULL, NULL, argv, environ) != 0 ||
		    waitpid(pid, &st, 0) != pid || st != 0) {
			fprintf(stderr, "nft add element failed\n");
			exit(1);
		}
	}
	t = (bench_nft_now() - t) / (double)n;
	b.a.ops->free(&b.a);
	return t;
}

int
main(int argc, char **argv)
{
	double p50[BENCH_NFT_MAXRUNS], p99[BENCH_NFT_MAXRUNS];
	double e50[BENCH_NFT_MAXRUNS], e99[BENCH_NFT_MAXRUNS];
	double cold[BENCH_NFT_MAXRUNS], warm[BENCH_NFT_MAXRUNS];
	double batch[BENCH_NFT_MAXRUNS], fork1[BENCH_NFT_MAXRUNS];
	double dump[BENCH_NFT_MAXRUNS], json[BENCH_NFT_MAXRUNS];
	double sweep[BENCH_NFT_MAXRUNS];
	int i, runs = argc > 1 ? atoi(argv[1]) : 5;
	size_t r;

	if (runs < 1 || runs > BENCH_NFT_MAXRUNS)
		runs = 5;
	r = (size_t)runs;
	for (i = 0; i < runs; i++) {
		bench_nft_single(1000, 0, &p50[i], &p99[i]);
		bench_nft_single(1000, 1, &e50[i], &e99[i]);
		bench_nft_restore(
		    100000, &cold[i], &warm[i], &sweep[i], &dump[i], &json[i]);
		batch[i] = bench_nft_batch(10000);
		fork1[i] = bench_nft_fork(200);
		fprintf(stderr,
		    "run %d: %.2f %.2f %.2f %.2f %.0f %.0f %.0f %.0f %.2f\n", i,
		    p50[i], p99[i], e50[i], e99[i], cold[i], warm[i], sweep[i],
		    batch[i], fork1[i]);
	}
	printf("medians of %d runs (ms)\n", runs);
	printf("a) 1000 single bans, ban+flush: p50 %.2f  p99 %.2f\n",
	    bench_nft_quantile(p50, r, 0.5), bench_nft_quantile(p99, r, 0.5));
	printf("a') the same with evict: p50 %.2f  p99 %.2f\n",
	    bench_nft_quantile(e50, r, 0.5), bench_nft_quantile(e99, r, 0.5));
	printf("b) restore 100000: cold %.0f  warm (1%% churn) %.0f  then "
	       "stale sweep off the loop %.0f\n",
	    bench_nft_quantile(cold, r, 0.5), bench_nft_quantile(warm, r, 0.5),
	    bench_nft_quantile(sweep, r, 0.5));
	printf("e) list 100000: netlink dump %.0f  nft -j list set %.0f\n",
	    bench_nft_quantile(dump, r, 0.5), bench_nft_quantile(json, r, 0.5));
	printf("c) 10000 bans, one flush: %.0f\n",
	    bench_nft_quantile(batch, r, 0.5));
	printf("d) nft process per ban (200): %.2f per ban = %.1fx (a) p50\n",
	    bench_nft_quantile(fork1, r, 0.5),
	    bench_nft_quantile(fork1, r, 0.5) /
	        bench_nft_quantile(p50, r, 0.5));
	return 0;
}
