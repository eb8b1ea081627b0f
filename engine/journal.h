/* Journal sources: follow the systemd journal through a match, by cursor. */
#ifndef JAILD_JOURNAL_H
#define JAILD_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "source.h"

struct journal;

/* Called once per entry, formatted as a syslog line; line is borrowed. */
typedef void (*journal_line_cb)(
    struct journal *, const char *line, size_t len, void *arg);

/* 1 if this jaild was built with libsystemd (backend = systemd works). */
int journal_available(void);

/*
 * Check a journalmatch in fail2ban's syntax: FIELD=value terms separated
 * by blanks are ANDed (several values of one field ORed, as sd-journal
 * does), a lone "+" starts an alternative.  Returns 0, or -1 with *cause.
 */
int journal_match_check(const char *match, char **cause);

/*
 * Create a journal source reading entries that match (NULL or "": all).
 * ns names a journal namespace (NULL: the system journal, local only);
 * tests use one served by their own systemd-journald.
 */
struct journal *journal_create(uv_loop_t *, const char *match, const char *ns,
    journal_line_cb cb, void *arg, char **cause);
void journal_free(struct journal *);

/*
 * Start reading after cursor (the last entry handed out before), or, with
 * no cursor or one the journal no longer holds, with new entries only.
 */
int journal_start(struct journal *, const char *cursor, char **cause);

/* Read whatever entries are there now (also called by the watchers). */
void journal_poll(struct journal *);

const char *journal_match(const struct journal *);
/* The cursor of the last entry handed out, or NULL; borrowed. */
const char *journal_cursor(const struct journal *);
const struct source_stats *journal_stats(const struct journal *);

#endif
