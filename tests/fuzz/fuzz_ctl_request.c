/* libFuzzer target: ctl_proto_decode on hostile request lines. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * Decode one line; whatever passes must encode again (unless too long)
 * and decode to an equal message, as the server relies on.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *msg, *again;
	char *cause = NULL, *line;

	if (size > CTL_PROTO_MAXLINE)
		return 0;
	msg = ctl_proto_decode((const char *)data, size, &cause);
	if (msg == NULL) {
		if (cause == NULL)
			abort(); /* every failure must say why */
		free(cause);
		return 0;
	}
	line = ctl_proto_encode(msg);
	if (line != NULL) {
		if (strchr(line, '\n') != line + strlen(line) - 1)
			abort(); /* one message, one line */
		again = ctl_proto_decode(line, strlen(line), &cause);
		if (again == NULL || !json_equal(msg, again))
			abort();
		json_decref(again);
		free(line);
	}
	json_decref(msg);
	return 0;
}
