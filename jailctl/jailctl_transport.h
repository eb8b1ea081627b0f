/* jailctl_transport.h: one request to jaild's socket and its reply. */
#ifndef JAILCTL_TRANSPORT_H
#define JAILCTL_TRANSPORT_H

#include <jansson.h>

/* Send cmd with args (taken) and return the result, or NULL (printed). */
json_t *jailctl_transport_call(const char *, json_t *);

#endif
