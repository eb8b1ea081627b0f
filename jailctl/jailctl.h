/* jailctl.h: the command-line state every part of jailctl reads. */
#ifndef JAILCTL_H
#define JAILCTL_H

#include <time.h>

#define JAILCTL_SOCKET "/run/jaild/jaild.sock"

/* Command-line state shared by the printers and the transport. */
struct jailctl_state {
	const char *socket;
	int json;
	int colour;
	time_t now;
};

extern struct jailctl_state jailctl;

void jailctl_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void jailctl_usage(void);

#endif
