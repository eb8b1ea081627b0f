/* Shell actions: fail2ban action files run through /bin/sh, safely. */
#ifndef JAILD_ACTION_SHELL_H
#define JAILD_ACTION_SHELL_H

#include "action.h"

/*
 * Render command key ("actionban") of ac for ban b (NULL for start/stop):
 * replace every <tag> by its value, recursively through ac's vars.  Values
 * that come from outside (ip, matches, user names) are validated and
 * shell-quoted so they can never run a command.  Returns an allocated
 * command line, "" when the key is empty or absent, or NULL with *cause.
 */
char *action_shell_render(const struct action_conf *ac,
    const struct jail_conf *jc, const char *key, const struct action_ban *b,
    char **cause);

/* Quote s for /bin/sh: the result is one word that expands to s. */
char *action_shell_quote(const char *s);

/*
 * Give a (made by action_create) its shell state, after rendering every
 * command once so a loop or bad tag is reported now, naming jail and
 * action.  ops->free releases it.
 */
int action_shell_attach(struct action *a, char **cause);

/*
 * Commands queued or running (actionstop included): after stop(), run the
 * loop until this is 0, with a bound of your own.
 */
size_t action_shell_pending(const struct action *a);

/* Retry a failed ban/unban up to attempts times, backoff_ms doubling. */
void action_shell_set_retry(
    struct action *a, int attempts, uint64_t backoff_ms);

#endif
