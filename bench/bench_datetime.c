/*
 * Times datetime_find on 1M log lines per format and prints ns per call
 * (CPU time, the best of BENCH_ROUNDS rounds, so a busy machine matters
 * less).
 * Standalone, not part of make check:
 *   gcc -O2 -Iengine bench/bench_datetime.c engine/datetime.c \
 *       engine/xmalloc.c -o bench_datetime $(pkg-config --libs libpcre2-8)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "datetime.h"

#define BENCH_NLINES 1024
#define BENCH_CALLS 1000000
#define BENCH_ROUNDS 5

struct bench_case {
	const char *name;
	const char *spec;
	const char *fmt; /* printf format taking day, hour, min, sec, n */
};

static const struct bench_case bench_cases[] = {
    {"BSD syslog, default set", NULL,
        "Nov %2d %02d:%02d:%02d mx sm-mta[%d]: AB12345: "
        "[192.0.2.7] did not issue MAIL/EXPN/VRFY/ETRN during connection "
        "to MTA"},
    {"ISO 8601, default set", NULL,
        "2026-11-%02dT%02d:%02d:%02d.397078+00:00 mx sshd[%d]: Failed "
        "password for root from 192.0.2.7 port 22 ssh2"},
    {"BSD syslog, {^LN-BEG}", "{^LN-BEG}",
        "Nov %2d %02d:%02d:%02d mx sm-mta[%d]: AB12345: lost input"},
    {"date mid-line, default set", NULL,
        "mx sm-mta[77]: note %d %02d:%02d:%02d at 2026-11-27 23:58:15 [%d]"},
    {"no date, default set", NULL,
        "mx sm-mta[77]: note %d %02d:%02d:%02d no date in this line %d"},
    {"strptime %b %d %H:%M:%S (PCRE2)", "%b %d %H:%M:%S",
        "Nov %2d %02d:%02d:%02d mx sm-mta[%d]: AB12345: lost input"},
};

/* Nanoseconds of CPU time used by this thread. */
static double
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Run one case: build lines, time BENCH_CALLS lookups, print the cost. */
static int
bench_run(const struct bench_case *c, time_t now)
{
	static char lines[BENCH_NLINES][256];
	static size_t lens[BENCH_NLINES];
	struct datetime *dt;
	char *cause = NULL;
	double t0, t1, best = 0;
	time_t when, t, sum = 0;
	struct tm tm;
	size_t start, end;
	int i, r, found = 0;

	if ((dt = datetime_create(c->spec, &cause)) == NULL) {
		fprintf(stderr, "%s: %s\n", c->name, cause);
		free(cause);
		return -1;
	}
	/* The formats are the constant table above. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	/* Like a real log: time goes forward, a line every few seconds. */
	for (i = 0; i < BENCH_NLINES; i++) {
		t = now - 86400 + i * 7;
		gmtime_r(&t, &tm);
		lens[i] = (size_t)snprintf(lines[i], sizeof lines[i], c->fmt,
		    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, 1000 + i);
	}
#pragma GCC diagnostic pop
	for (r = 0; r < BENCH_ROUNDS; r++) {
		found = 0;
		sum = 0;
		t0 = bench_now_ns();
		for (i = 0; i < BENCH_CALLS; i++) {
			if (datetime_find(dt, lines[i % BENCH_NLINES],
			        lens[i % BENCH_NLINES], now, &when, &start,
			        &end) == 0) {
				found++;
				sum += when;
			}
		}
		t1 = bench_now_ns();
		if (r == 0 || t1 - t0 < best)
			best = t1 - t0;
	}
	printf("%-34s %7.1f ns/call  (%d/%d found, checksum %lld)\n", c->name,
	    best / BENCH_CALLS, found, BENCH_CALLS, (long long)sum);
	datetime_free(dt);
	return 0;
}

/* Run every case, or only case argv[1] (0-based), for perf stat. */
int
main(int argc, char **argv)
{
	time_t now = 1795996800; /* 2026-11-30 00:00:00 UTC */
	size_t i, n = sizeof bench_cases / sizeof bench_cases[0];
	int rc = 0;

	for (i = 0; i < n; i++) {
		if (argc > 1 && (size_t)atoi(argv[1]) != i)
			continue;
		if (bench_run(&bench_cases[i], now) != 0)
			rc = 1;
	}
	return rc;
}
