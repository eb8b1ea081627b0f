/* jailctl_test.h: the test command, a filter run over a log offline. */
#ifndef JAILCTL_TEST_H
#define JAILCTL_TEST_H

int jailctl_test_run(int, char **);

#endif
