/* Service plumbing: the pidfile and readiness notification to a manager. */
#ifndef JAILD_SERVICE_H
#define JAILD_SERVICE_H

#include <sys/types.h>

struct service_pidfile;

/*
 * Create and lock path, and write our pid in it.  If another live process
 * holds the lock, fail with *cause naming its pid: only one jaild may run
 * on one pidfile.  The lock lives as long as the returned object (and is
 * inherited across fork, so daemon(3) keeps it).
 */
struct service_pidfile *service_pidfile_create(const char *path, char **cause);
/* Rewrite the pid (after daemon(3) changed it). */
int service_pidfile_update(struct service_pidfile *, char **cause);
/* Remove the file and release the lock; NULL is a no-op. */
void service_pidfile_free(struct service_pidfile *);
/* Pid held by a locked pidfile, or -1 if none or not locked. */
pid_t service_pidfile_owner(const char *path);

/*
 * Send one sd_notify(3) state ("READY=1", "STOPPING=1", "RELOADING=1",
 * "STATUS=...", newline separated) to $NOTIFY_SOCKET.  Returns 0 when
 * sent or when no manager listens (unset variable), -1 with errno.
 */
int service_notify(const char *state);
int service_notifyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
