/* Logging to syslog, or to stderr in the foreground. */
#ifndef JAILD_LOG_H
#define JAILD_LOG_H

#include <stdarg.h>

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

void log_init(int foreground, int verbose);
int log_verbose(void);
void log_warn(const char *, ...) LOG_PRINTF(1, 2);
void log_warnx(const char *, ...) LOG_PRINTF(1, 2);
void log_info(const char *, ...) LOG_PRINTF(1, 2);
void log_debug(const char *, ...) LOG_PRINTF(1, 2);
void fatal(const char *, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));
void fatalx(const char *, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));
void log_escape(const char *src, size_t len, char *dst, size_t dstlen);

#endif
