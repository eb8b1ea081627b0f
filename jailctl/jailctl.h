/* jailctl.h: the command-line state every part of jailctl reads. */
#ifndef JAILCTL_H
#define JAILCTL_H

#include <time.h>

#define JAILCTL_SOCKET "/run/jaild/jaild.sock"

/* Command-line state shared by the printers and the transport. */
struct jailctl_state {
	const char *socket;
	int socket_given; /* by -S or $JAILD_SOCKET, not the default */
	int json;
	int colour;
	time_t now;
};

extern struct jailctl_state jailctl;

void jailctl_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Print the usage of one command (or all, if unknown) on stderr. */
void jailctl_usage_of(const char *);

#endif
