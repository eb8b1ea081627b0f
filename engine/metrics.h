/* Metrics: Prometheus text from the daemon's state, loop lag, listener. */
#ifndef JAILD_METRICS_H
#define JAILD_METRICS_H

#include <stdint.h>

#include <uv.h>

struct daemon;
struct metrics;

#define METRICS_MAXREQUEST 4096 /* bytes of an HTTP request we read */
#define METRICS_MAXCLIENTS 16
#define METRICS_CLIENT_TIMEOUT_MS 5000

/*
 * Start measuring the loop's lag and, if listen ("127.0.0.1:9433",
 * "[::1]:9433") is not NULL or empty, serve GET /metrics there.  A bind
 * failure returns NULL with *cause.  d is borrowed for the whole life.
 */
struct metrics *metrics_create(
    uv_loop_t *, struct daemon *d, const char *listen, char **cause);
/*
 * Serve on listen instead (NULL or "": nowhere), keeping the lag figures:
 * returns the new metrics and frees old, or NULL with *cause (old stays).
 */
struct metrics *metrics_replace(
    struct metrics *old, const char *listen, char **cause);
/* Close every handle; the memory goes once the loop has run them out. */
void metrics_free(struct metrics *);

/* The Prometheus text exposition of d (m: its lag figures, or NULL). */
char *metrics_render(struct daemon *d, const struct metrics *m);

/* Record one lag sample in nanoseconds (the timer does; tests too). */
void metrics_lag_record(struct metrics *, uint64_t ns);

/* Port the listener is bound to (useful with port 0), or -1. */
int metrics_port(const struct metrics *);

#endif
