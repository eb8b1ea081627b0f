/* Declarations of the libc functions compat/ supplies where libc lacks them. */
#ifndef JAILD_COMPAT_H
#define JAILD_COMPAT_H

#include <stdint.h>
#include <stdlib.h>

#ifndef HAVE_ARC4RANDOM
uint32_t arc4random(void);
#endif

#endif
