/* arc4random for a libc without it (glibc before 2.36): the kernel's. */
#include <sys/types.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"

/*
 * jaild draws only a few numbers (ban-time jitter), so a read of
 * /dev/urandom per call is cheap enough and needs no state to reseed
 * after a fork.  If the device cannot be read (a chroot without /dev),
 * fall back to random(3) seeded once from the clock and pid: the
 * jitter needs spread, not secrecy.
 */
uint32_t
arc4random(void)
{
	static int seeded;
	uint32_t v;
	ssize_t n = -1;
	int fd;

	if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, &v, sizeof v);
		close(fd);
	}
	if (n == (ssize_t)sizeof v)
		return v;
	if (!seeded) {
		srandom((unsigned)time(NULL) ^ (unsigned)getpid());
		seeded = 1;
	}
	return ((uint32_t)random() << 16) ^ (uint32_t)random();
}
