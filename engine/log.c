/* Logging to syslog, or to stderr in the foreground. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static int log_foreground = 1;
static int log_level_verbose;

/* Start logging; in the background everything goes to syslog. */
void
log_init(int foreground, int verbose)
{
	log_foreground = foreground;
	log_level_verbose = verbose;
	if (!foreground)
		openlog("jaild", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int
log_verbose(void)
{
	return log_level_verbose;
}

/* Copy src into dst with control and non-ASCII bytes escaped as \xNN. */
void
log_escape(const char *src, size_t len, char *dst, size_t dstlen)
{
	size_t i, o = 0;
	unsigned char c;

	if (dstlen == 0)
		return;
	for (i = 0; i < len && o + 5 < dstlen; i++) {
		c = (unsigned char)src[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			dst[o++] = (char)c;
		else
			o +=
			    (size_t)snprintf(dst + o, dstlen - o, "\\x%02x", c);
	}
	dst[o] = '\0';
}

/* Write one message; the caller has already formatted it. */
static void
log_emit(int pri, const char *msg)
{
	char stamp[32];
	struct tm tm;
	time_t now;

	if (!log_foreground) {
		syslog(pri, "%s", msg);
		return;
	}
	now = time(NULL);
	localtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(stderr, "%s jaild: %s\n", stamp, msg);
}

static void log_vmsg(int, int, const char *, va_list) LOG_PRINTF(3, 0);

/* Format and emit, optionally appending the saved errno's text. */
static void
log_vmsg(int pri, int with_errno, const char *fmt, va_list ap)
{
	char buf[4096];
	int saved = errno;
	size_t n;

	vsnprintf(buf, sizeof buf, fmt, ap);
	if (with_errno) {
		n = strlen(buf);
		snprintf(buf + n, sizeof buf - n, ": %s", strerror(saved));
	}
	log_emit(pri, buf);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_WARNING, 1, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_WARNING, 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_INFO, 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_level_verbose)
		return;
	va_start(ap, fmt);
	log_vmsg(LOG_DEBUG, 0, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_CRIT, 1, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_CRIT, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
