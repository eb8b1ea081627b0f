/* libFuzzer target: arbitrary bytes as a config file through conf_read. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Write data to a temp file, parse it, and touch every result. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/fuzz_conf_parse.XXXXXX";
	struct conf_errors errs = {NULL, 0};
	struct conf_file *cf;
	size_t i, j, total = 0;
	int fd;

	if ((fd = mkstemp(path)) == -1)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		unlink(path);
		return 0;
	}
	close(fd);
	cf = conf_read(path, &errs);
	unlink(path);
	for (i = 0; cf != NULL && i < cf->nsections; i++) {
		for (j = 0; j < cf->sections[i].nentries; j++) {
			total += strlen(cf->sections[i].entries[j].value);
			if (conf_get(&cf->sections[i],
			        cf->sections[i].entries[j].key) == NULL)
				abort();
		}
	}
	for (i = 0; i < errs.n; i++)
		total += strlen(errs.msgs[i]);
	conf_file_free(cf);
	conf_errors_clear(&errs);
	return total == (size_t)-1;
}
