/*
 * Unit tests for journal.c: the match syntax, and reading a real journal
 * served by a private systemd-journald namespace that the test starts.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <uv.h>

#include "journal.h"

#define TEST_JOURNALD "/lib/systemd/systemd-journald"
#define TEST_WAIT_MS 10000

struct test_jctx {
	char ns[64];
	char sock[96];
	char tag[48];
	pid_t journald;
	uv_loop_t loop;
	char *lines[32];
	size_t n;
};

static struct test_jctx T;

/* Remember a line as it is handed out. */
static void
test_journal_line_cb(struct journal *j, const char *line, size_t len, void *arg)
{
	if (T.n < sizeof T.lines / sizeof T.lines[0])
		T.lines[T.n++] = strndup(line, len);
}

static uint64_t
test_journal_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Run the loop until want lines came, or for at most ms. */
static void
test_journal_run(size_t want, unsigned ms)
{
	uint64_t end = test_journal_now_ms() + ms;

	while (T.n < want && test_journal_now_ms() < end) {
		uv_run(&T.loop, UV_RUN_NOWAIT);
		usleep(2000);
	}
}

/* Remove a directory tree with rm -rf (paths are ours, no quoting needed). */
static void
test_journal_rm(const char *path)
{
	char cmd[512];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", path);
}

/* Stop our journald and remove its socket dir and journal files. */
static void
test_journal_teardown(void)
{
	char path[256], mid[64] = "";
	FILE *f;
	size_t i;

	for (i = 0; i < T.n; i++)
		free(T.lines[i]);
	uv_run(&T.loop, UV_RUN_NOWAIT);
	uv_loop_close(&T.loop);
	if (T.journald <= 0)
		return;
	kill(T.journald, SIGTERM);
	waitpid(T.journald, NULL, 0);
	snprintf(path, sizeof path, "/run/systemd/journal.%s", T.ns);
	test_journal_rm(path);
	if ((f = fopen("/etc/machine-id", "r")) != NULL) {
		if (fscanf(f, "%32s", mid) != 1)
			mid[0] = '\0';
		fclose(f);
	}
	if (mid[0] == '\0')
		return;
	snprintf(path, sizeof path, "/var/log/journal/%s.%s", mid, T.ns);
	test_journal_rm(path);
	snprintf(path, sizeof path, "/run/log/journal/%s.%s", mid, T.ns);
	test_journal_rm(path);
}

static void
test_journal_setup(void)
{
	memset(&T, 0, sizeof T);
	cr_assert_eq(uv_loop_init(&T.loop), 0);
	snprintf(T.ns, sizeof T.ns, "jaildtest%ld", (long)getpid());
	snprintf(
	    T.tag, sizeof T.tag, "T%ld_%ld", (long)getpid(), (long)time(NULL));
}

TestSuite(journal, .init = test_journal_setup, .fini = test_journal_teardown);

/*
 * Start systemd-journald serving namespace T.ns, or skip with the reason:
 * this machine has no running journald, so the test brings its own.
 */
static void
test_journal_need_journald(void)
{
	struct stat st;
	uint64_t end;
	int fd;

	if (!journal_available())
		cr_skip_test("built without libsystemd");
	if (geteuid() != 0)
		cr_skip_test("needs root to run a private systemd-journald");
	if (access(TEST_JOURNALD, X_OK) != 0)
		cr_skip_test("no %s", TEST_JOURNALD);
	snprintf(T.sock, sizeof T.sock, "/run/systemd/journal.%s/socket", T.ns);
	T.journald = fork();
	cr_assert_neq(T.journald, -1);
	if (T.journald == 0) {
		fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(TEST_JOURNALD, TEST_JOURNALD, T.ns, (char *)NULL);
		_exit(127);
	}
	end = test_journal_now_ms() + 5000;
	while (stat(T.sock, &st) != 0 && test_journal_now_ms() < end)
		usleep(10000);
	if (stat(T.sock, &st) != 0)
		cr_skip_test("systemd-journald %s did not start", T.ns);
}

/* Log one entry to our journald in its native protocol. */
static void
test_journal_send(const char *ident, const char *tag, const char *msg)
{
	struct sockaddr_un sun;
	char b[512];
	int fd, n;

	uint64_t len = strlen(msg);
	int i;

	/* MESSAGE in the binary form, so that it may hold newlines. */
	n = snprintf(b, sizeof b,
	    "SYSLOG_IDENTIFIER=%s\nSYSLOG_PID=42\nJAILD_TEST=%s\nMESSAGE\n",
	    ident, tag);
	for (i = 0; i < 8; i++)
		b[n++] = (char)(len >> (8 * i));
	memcpy(b + n, msg, len);
	n += (int)len;
	b[n++] = '\n';
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", T.sock);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_neq(fd, -1);
	cr_assert_eq(
	    sendto(fd, b, (size_t)n, 0, (struct sockaddr *)&sun, sizeof sun), n,
	    "sendto %s: %s", T.sock, strerror(errno));
	close(fd);
}

/* Open and start a journal source on our namespace. */
static struct journal *
test_journal_open(const char *match, const char *cursor)
{
	struct journal *j;
	char *cause = NULL;

	j = journal_create(
	    &T.loop, match, T.ns, test_journal_line_cb, NULL, &cause);
	cr_assert_not_null(j, "%s", cause ? cause : "");
	cr_assert_eq(
	    journal_start(j, cursor, &cause), 0, "%s", cause ? cause : "");
	return j;
}

Test(journal, match_syntax)
{
	const char *good[] = {"", "_SYSTEMD_UNIT=sshd.service + _COMM=sshd",
	    "_SYSTEMD_UNIT=sendmail.service _COMM=sm-mta",
	    "SYSLOG_FACILITY=2 SYSLOG_FACILITY=3", "MESSAGE="};
	const char *bad[] = {"+ _COMM=sshd", "_COMM=sshd +", "sshd",
	    "_comm=sshd", "=x", "A=1 + + B=2", "1X=y"};
	char *cause;
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		cause = NULL;
		cr_expect_eq(journal_match_check(good[i], &cause), 0,
		    "refused '%s': %s", good[i], cause ? cause : "");
		free(cause);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		cr_expect_eq(journal_match_check(bad[i], &cause), -1,
		    "accepted '%s'", bad[i]);
		cr_expect(
		    cause == NULL || strstr(cause, "journalmatch") != NULL);
		free(cause);
	}
}

Test(journal, without_libsystemd_says_why)
{
	struct journal *j;
	char *cause = NULL;

	if (journal_available())
		cr_skip_test("built with libsystemd");
	j = journal_create(
	    &T.loop, "", NULL, test_journal_line_cb, NULL, &cause);
	cr_assert_null(j);
	cr_assert_not_null(strstr(cause, "libsystemd"));
	free(cause);
}

Test(journal, follows_matches_formats_and_resumes_by_cursor, .timeout = 60)
{
	char match[256], alt[64], stamp[8], *cursor;
	struct journal *j;

	test_journal_need_journald();
	snprintf(alt, sizeof alt, "alt%s", T.tag);
	snprintf(match, sizeof match,
	    "JAILD_TEST=%s SYSLOG_IDENTIFIER=sm-mta + SYSLOG_IDENTIFIER=%s",
	    T.tag, alt);
	test_journal_send("sm-mta", T.tag, "before start: not read");
	usleep(200000);
	j = test_journal_open(match, NULL);
	test_journal_run(1, 300);
	cr_assert_eq(T.n, 0, "an old entry was read: %s", T.lines[0]);
	test_journal_send("sm-mta", T.tag, "one");
	test_journal_send("sm-mta", "other", "other tag");
	test_journal_send("sshd", T.tag, "other identifier");
	test_journal_send(alt, "x", "two\nlines");
	test_journal_send("sm-mta", T.tag, "three");
	test_journal_run(3, TEST_WAIT_MS);
	test_journal_run(4, 300);
	cr_assert_eq(T.n, 3, "got %zu entries", T.n);
	/* "Nov 28 00:39:11 host sm-mta[42]: one" */
	cr_expect(strlen(T.lines[0]) > 16 && T.lines[0][15] == ' ');
	memcpy(stamp, T.lines[0], 3);
	stamp[3] = '\0';
	cr_expect(strstr("JanFebMarAprMayJunJulAugSepOctNovDec", stamp) != NULL,
	    "stamp: %s", T.lines[0]);
	cr_expect_not_null(
	    strstr(T.lines[0], " sm-mta[42]: one"), "%s", T.lines[0]);
	cr_expect_not_null(
	    strstr(T.lines[1], "[42]: two\\nlines"), "%s", T.lines[1]);
	cr_expect_not_null(strstr(T.lines[2], ": three"), "%s", T.lines[2]);
	cr_expect_eq(journal_stats(j)->lines, 3);
	cr_assert_not_null(journal_cursor(j));
	cursor = strdup(journal_cursor(j));
	journal_free(j);

	/* Stopped: two entries come; a restart at the cursor reads them. */
	test_journal_send("sm-mta", T.tag, "four");
	test_journal_send("sm-mta", T.tag, "five");
	usleep(200000);
	j = test_journal_open(match, cursor);
	test_journal_run(5, TEST_WAIT_MS);
	test_journal_run(6, 300);
	cr_assert_eq(T.n, 5, "got %zu entries after the restart", T.n);
	cr_expect_not_null(strstr(T.lines[3], ": four"), "%s", T.lines[3]);
	cr_expect_not_null(strstr(T.lines[4], ": five"), "%s", T.lines[4]);
	journal_free(j);
	free(cursor);
}
