/* Unit tests for source.c: real files in a temp dir, a real libuv loop. */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
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

#include "source.h"

#define TEST_WAIT_MS 10000

struct test_lines {
	char **line;
	size_t *len;
	uint64_t *trunc; /* truncations counted when the line came */
	size_t n, cap;
	int free_in_cb;
};

struct test_ctx {
	char dir[64];
	char path[128];
	uv_loop_t loop;
	struct test_lines got;
	struct source *src;
};

static struct test_ctx T;

/* Remember a line (and the truncation count) as it is handed out. */
static void
test_line_cb(struct source *s, const char *line, size_t len, void *arg)
{
	struct test_lines *l = arg;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->line = realloc(l->line, l->cap * sizeof *l->line);
		l->len = realloc(l->len, l->cap * sizeof *l->len);
		l->trunc = realloc(l->trunc, l->cap * sizeof *l->trunc);
		cr_assert(l->line && l->len && l->trunc);
	}
	l->line[l->n] = malloc(len + 1);
	memcpy(l->line[l->n], line, len);
	l->line[l->n][len] = '\0';
	l->len[l->n] = len;
	l->trunc[l->n] = source_stats(s)->truncations;
	l->n++;
	if (l->free_in_cb) {
		source_free(s);
		T.src = NULL;
	}
}

static void
test_lines_clear(struct test_lines *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->line[i]);
	free(l->line);
	free(l->len);
	free(l->trunc);
	memset(l, 0, sizeof *l);
}

static uint64_t
test_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Run the loop (events only, no direct polls) until want lines or timeout. */
static void
test_run_until(size_t want)
{
	uint64_t end = test_now_ms() + TEST_WAIT_MS;

	while (T.got.n < want && test_now_ms() < end) {
		uv_run(&T.loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
}

static void
test_setup(void)
{
	strcpy(T.dir, "/tmp/test_source.XXXXXX");
	cr_assert_not_null(mkdtemp(T.dir));
	snprintf(T.path, sizeof T.path, "%s/app.log", T.dir);
	cr_assert_eq(uv_loop_init(&T.loop), 0);
	memset(&T.got, 0, sizeof T.got);
	T.src = NULL;
}

static void
test_teardown(void)
{
	DIR *d;
	struct dirent *de;
	char p[512];

	source_free(T.src);
	uv_run(&T.loop, UV_RUN_NOWAIT);
	cr_expect_eq(uv_loop_close(&T.loop), 0, "handles left open");
	test_lines_clear(&T.got);
	if ((d = opendir(T.dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(p, sizeof p, "%s/%s", T.dir, de->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(T.dir);
}

TestSuite(source, .init = test_setup, .fini = test_teardown);

/* Append bytes to a file (creating it). */
static void
test_append(const char *path, const void *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);

	cr_assert_neq(fd, -1, "%s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, p, len), (ssize_t)len);
	close(fd);
}

static void
test_appends(const char *path, const char *str)
{
	test_append(path, str, strlen(str));
}

static void
test_start(const struct source_pos *resume, int from_start)
{
	char *cause = NULL;

	T.src = source_create(&T.loop, T.path, test_line_cb, &T.got);
	cr_assert_eq(source_start(T.src, resume, from_start, &cause), 0, "%s",
	    cause ? cause : "");
}

static void
test_expect_line(size_t i, const char *want)
{
	cr_assert_gt(T.got.n, i, "line %zu missing", i);
	cr_expect_str_eq(T.got.line[i], want, "line %zu", i);
}

/* Append a numbered line "seq=N" padded to about 40 bytes. */
static size_t
test_seqline(char *buf, size_t size, int seq)
{
	return (size_t)snprintf(
	    buf, size, "seq=%08d lorem ipsum dolor sit\n", seq);
}

static void
test_append_seq(const char *path, int from, int to)
{
	char b[64];
	int i;

	for (i = from; i < to; i++)
		test_append(path, b, test_seqline(b, sizeof b, i));
}

Test(source, reads_appended_lines_from_start)
{
	test_appends(T.path, "one\ntwo\n");
	test_start(NULL, 1);
	test_run_until(2);
	test_appends(T.path, "three\n");
	test_run_until(3);
	cr_assert_eq(T.got.n, 3);
	test_expect_line(0, "one");
	test_expect_line(2, "three");
	cr_expect_eq(source_stats(T.src)->lines, 3);
	cr_expect_eq(source_stats(T.src)->bytes, 14);
	cr_expect_str_eq(source_path(T.src), T.path);
}

Test(source, starts_at_end_and_skips_partial_tail)
{
	struct source_pos pos;

	test_appends(T.path, "old1\nold2\npartial-old");
	test_start(NULL, 0);
	source_poll(T.src);
	cr_assert_eq(T.got.n, 0);
	test_appends(T.path, "-rest\nnew\n");
	test_run_until(1);
	source_poll(T.src);
	/* The tail of a line whose start was skipped is never handed out. */
	cr_assert_eq(T.got.n, 1);
	test_expect_line(0, "new");
	source_position(T.src, &pos);
	cr_expect_eq(pos.offset, strlen("old1\nold2\npartial-old-rest\nnew\n"));
}

Test(source, holds_partial_line_and_strips_cr)
{
	test_start(NULL, 1);
	test_appends(T.path, "hello wo");
	source_poll(T.src);
	source_poll(T.src);
	cr_assert_eq(T.got.n, 0);
	test_appends(T.path, "rld\r\nsecond\r");
	source_poll(T.src);
	cr_assert_eq(T.got.n, 1);
	test_expect_line(0, "hello world");
	test_appends(T.path, "\n\r\n\n");
	source_poll(T.src);
	cr_assert_eq(T.got.n, 4);
	test_expect_line(1, "second");
	cr_expect_eq(T.got.len[2], 0);
	cr_expect_eq(T.got.len[3], 0);
}

/* Issue #13: the cut part was matched; an overlong line is now skipped. */
Test(source, skips_and_counts_long_lines)
{
	size_t big = SOURCE_MAXLINE * 3 + 17, i;
	char *p = malloc(big + 1);

	for (i = 0; i < big; i++)
		p[i] = (char)('a' + i % 26);
	p[big] = '\n';
	test_start(NULL, 1);
	test_append(T.path, p, big / 2);
	source_poll(T.src);
	test_append(T.path, p + big / 2, big + 1 - big / 2);
	test_appends(T.path, "after\n");
	source_poll(T.src);
	cr_assert_eq(T.got.n, 1);
	test_expect_line(0, "after");
	cr_expect_eq(source_cut(T.src), 1);
	cr_expect_eq(source_stats(T.src)->lines, 2);
	free(p);
}

Test(source, line_of_exactly_maxline_with_crlf_is_not_cut)
{
	char *p = malloc(SOURCE_MAXLINE + 2);

	memset(p, 'x', SOURCE_MAXLINE);
	p[SOURCE_MAXLINE] = '\r';
	p[SOURCE_MAXLINE + 1] = '\n';
	test_start(NULL, 1);
	test_append(T.path, p, SOURCE_MAXLINE + 2);
	source_poll(T.src);
	cr_assert_eq(T.got.n, 1);
	cr_expect_eq(T.got.len[0], SOURCE_MAXLINE);
	cr_expect_eq(source_cut(T.src), 0);
	free(p);
}

Test(source, passes_binary_bytes_through)
{
	static const char junk[] = "a\0b\xff\xfe\x80z\n\x1b[31m\n";

	test_start(NULL, 1);
	test_append(T.path, junk, sizeof junk - 1);
	source_poll(T.src);
	cr_assert_eq(T.got.n, 2);
	cr_assert_eq(T.got.len[0], 7);
	cr_expect_eq(memcmp(T.got.line[0], "a\0b\xff\xfe\x80z", 7), 0);
	cr_expect_eq(T.got.len[1], 5);
}

Test(source, follows_truncation)
{
	test_appends(T.path, "aaaa 1\naaaa 2\naaaa 3\n");
	test_start(NULL, 1);
	test_run_until(3);
	cr_assert_eq(truncate(T.path, 0), 0);
	test_appends(T.path, "b1\n");
	test_run_until(4);
	source_poll(T.src);
	cr_assert_eq(T.got.n, 4);
	test_expect_line(3, "b1");
	cr_expect_eq(source_stats(T.src)->truncations, 1);
}

Test(source, copytruncate_regrown_past_offset_is_seen_by_head)
{
	char copy[160];

	test_append_seq(T.path, 0, 10);
	test_start(NULL, 1);
	source_poll(T.src);
	cr_assert_eq(T.got.n, 10);
	/* Copy, truncate, and grow past our offset before we look again. */
	snprintf(copy, sizeof copy, "%s.1", T.path);
	cr_assert_eq(link(T.path, copy), 0);
	cr_assert_eq(truncate(T.path, 0), 0);
	test_append_seq(T.path, 10, 30);
	source_poll(T.src);
	cr_assert_eq(T.got.n, 30, "got %zu", T.got.n);
	test_expect_line(10, "seq=00000010 lorem ipsum dolor sit");
	test_expect_line(29, "seq=00000029 lorem ipsum dolor sit");
	cr_expect_eq(source_stats(T.src)->truncations, 1);
}

Test(source, rename_create_rotation_loses_nothing)
{
	char old[160];
	int fd;

	test_appends(T.path, "a1\n");
	test_start(NULL, 1);
	test_run_until(1);
	fd = open(T.path, O_WRONLY | O_APPEND);
	cr_assert_neq(fd, -1);
	snprintf(old, sizeof old, "%s.1", T.path);
	cr_assert_eq(rename(T.path, old), 0);
	test_appends(T.path, "");
	/* The writer has not reopened yet: it still writes the old file. */
	cr_assert_eq(write(fd, "a2\na3-partial", 13), 13);
	source_poll(T.src);
	test_appends(T.path, "b1\n");
	cr_assert_eq(write(fd, "a4\n", 3), 3);
	close(fd);
	test_run_until(4);
	source_poll(T.src);
	cr_assert_eq(T.got.n, 4, "got %zu", T.got.n);
	test_expect_line(1, "a2");
	test_expect_line(2, "a3-partiala4");
	test_expect_line(3, "b1");
	cr_expect_eq(source_stats(T.src)->rotations, 1);
}

Test(source, partial_line_flushed_at_rotation)
{
	char old[160];

	test_start(NULL, 1);
	test_appends(T.path, "x1\nx2-no-newline");
	source_poll(T.src);
	snprintf(old, sizeof old, "%s.1", T.path);
	cr_assert_eq(rename(T.path, old), 0);
	test_appends(T.path, "y1\n");
	test_run_until(3);
	cr_assert_eq(T.got.n, 3);
	test_expect_line(1, "x2-no-newline");
	test_expect_line(2, "y1");
}

Test(source, waits_for_late_creation)
{
	struct source_pos pos;

	test_start(NULL, 0);
	source_poll(T.src);
	source_position(T.src, &pos);
	cr_expect_eq(pos.inode, 0);
	test_appends(T.path, "first\nsecond\n");
	test_run_until(2);
	cr_assert_eq(T.got.n, 2);
	test_expect_line(0, "first");
}

Test(source, waits_for_missing_directory)
{
	snprintf(T.path, sizeof T.path, "%s/sub/app.log", T.dir);
	test_start(NULL, 0);
	uv_run(&T.loop, UV_RUN_NOWAIT); /* consume the start's poll */
	snprintf(T.path, sizeof T.path, "%s/sub", T.dir);
	cr_assert_eq(mkdir(T.path, 0755), 0);
	strcat(T.path, "/app.log");
	test_appends(T.path, "late\n");
	test_run_until(1); /* only the 1 s timer sees this one */
	cr_assert_eq(T.got.n, 1);
	test_expect_line(0, "late");
	source_free(T.src);
	T.src = NULL;
	unlink(T.path);
	snprintf(T.path, sizeof T.path, "%s/sub", T.dir);
	rmdir(T.path);
}

Test(source, deletion_then_recreation)
{
	int fd;

	test_appends(T.path, "d1\n");
	test_start(NULL, 1);
	test_run_until(1);
	fd = open(T.path, O_WRONLY | O_APPEND);
	cr_assert_eq(unlink(T.path), 0);
	cr_assert_eq(write(fd, "d2\n", 3), 3);
	close(fd);
	test_run_until(2);
	source_poll(T.src);
	cr_assert_eq(T.got.n, 2);
	test_appends(T.path, "e1\n");
	test_run_until(3);
	cr_assert_eq(T.got.n, 3);
	test_expect_line(1, "d2");
	test_expect_line(2, "e1");
}

Test(source, resume_neither_duplicates_nor_skips)
{
	struct source_pos pos;

	test_appends(T.path, "r1\nr2\nr3-partial");
	test_start(NULL, 1);
	source_poll(T.src);
	cr_assert_eq(T.got.n, 2);
	source_position(T.src, &pos);
	cr_expect_eq(pos.offset, 6);
	cr_expect_neq(pos.headhash, 0);
	source_free(T.src);
	T.src = NULL;
	test_appends(T.path, "-end\nr4\n");
	test_start(&pos, 0);
	source_poll(T.src);
	cr_assert_eq(T.got.n, 4);
	test_expect_line(2, "r3-partial-end");
	test_expect_line(3, "r4");
}

Test(source, resume_finishes_file_rotated_while_stopped)
{
	struct source_pos pos;
	char old[160], other[160];

	test_appends(T.path, "f1\nf2\n");
	test_start(NULL, 1);
	source_poll(T.src);
	source_position(T.src, &pos);
	source_free(T.src);
	T.src = NULL;
	/* Stopped: the old file grows, is rotated, a new one is written. */
	test_appends(T.path, "f3\nf4\n");
	snprintf(old, sizeof old, "%s.1", T.path);
	cr_assert_eq(rename(T.path, old), 0);
	/* A decoy with the same first line but another inode. */
	snprintf(other, sizeof other, "%s.2", T.path);
	test_appends(other, "f1\nXX\nYY\n");
	test_appends(T.path, "g1\ng2\n");
	test_start(&pos, 0);
	test_run_until(6);
	cr_assert_eq(T.got.n, 6);
	test_expect_line(2, "f3");
	test_expect_line(3, "f4");
	test_expect_line(4, "g1");
	test_expect_line(5, "g2");
	test_appends(T.path, "g3\n");
	test_run_until(7);
	cr_assert_eq(T.got.n, 7);
	test_expect_line(6, "g3");
	source_position(T.src, &pos);
	cr_expect_eq(pos.offset, 9);
}

Test(source, resume_with_rotated_file_gone_starts_at_end)
{
	struct source_pos pos;

	test_appends(T.path, "f1\nf2\n");
	test_start(NULL, 1);
	source_poll(T.src);
	source_position(T.src, &pos);
	source_free(T.src);
	T.src = NULL;
	cr_assert_eq(unlink(T.path), 0);
	test_appends(T.path, "g1\ng2\ng3\n");
	test_start(&pos, 0);
	source_poll(T.src);
	cr_assert_eq(T.got.n, 2);
	test_appends(T.path, "g4\n");
	source_poll(T.src);
	cr_assert_eq(T.got.n, 3);
	test_expect_line(2, "g4");
}

Test(source, resume_with_rewritten_head_starts_at_end)
{
	struct source_pos pos;
	int fd;

	test_appends(T.path, "h1\nh2\n");
	test_start(NULL, 1);
	source_poll(T.src);
	source_position(T.src, &pos);
	source_free(T.src);
	T.src = NULL;
	/* Same inode, other content: copytruncate while we were down. */
	fd = open(T.path, O_WRONLY | O_TRUNC);
	cr_assert_eq(write(fd, "k1\nk2\nk3\n", 9), 9);
	close(fd);
	test_start(&pos, 0);
	test_appends(T.path, "k4\n");
	source_poll(T.src);
	cr_assert_eq(T.got.n, 3);
	test_expect_line(2, "k4");
}

Test(source, refuses_a_directory)
{
	char *cause = NULL;

	strcpy(T.path, T.dir);
	T.src = source_create(&T.loop, T.path, test_line_cb, &T.got);
	cr_assert_eq(source_start(T.src, NULL, 1, &cause), -1);
	cr_assert_not_null(cause);
	cr_expect_not_null(strstr(cause, T.dir));
	free(cause);
}

Test(source, free_null_and_free_in_callback)
{
	source_free(NULL);
	test_appends(T.path, "z1\nz2\n");
	T.got.free_in_cb = 1;
	test_start(NULL, 1);
	source_poll(T.src);
	cr_assert_eq(T.got.n, 1);
	cr_assert_null(T.src);
}

Test(source, stop_keeps_position)
{
	struct source_pos pos;

	test_appends(T.path, "s1\ns2\n");
	test_start(NULL, 1);
	source_poll(T.src);
	source_stop(T.src);
	source_poll(T.src);
	source_position(T.src, &pos);
	cr_expect_eq(pos.offset, 6);
	cr_expect_neq(pos.inode, 0);
}

Test(source, stdin_pipe_until_eof)
{
	int p[2];
	uint64_t end = test_now_ms() + TEST_WAIT_MS;

	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(dup2(p[0], 0), 0);
	close(p[0]);
	strcpy(T.path, "-");
	test_start(NULL, 1);
	cr_assert_eq(write(p[1], "p1\np2\r\nlast", 11), 11);
	close(p[1]);
	while (!source_eof(T.src) && test_now_ms() < end) {
		uv_run(&T.loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
	cr_assert(source_eof(T.src));
	cr_assert_eq(T.got.n, 3);
	test_expect_line(1, "p2");
	test_expect_line(2, "last");
}

Test(source, stdin_regular_file)
{
	char f[160];
	int fd;
	uint64_t end = test_now_ms() + TEST_WAIT_MS;

	snprintf(f, sizeof f, "%s/in", T.dir);
	test_appends(f, "i1\ni2\ni3");
	fd = open(f, O_RDONLY);
	cr_assert_eq(dup2(fd, 0), 0);
	close(fd);
	strcpy(T.path, "-");
	test_start(NULL, 1);
	while (!source_eof(T.src) && test_now_ms() < end) {
		uv_run(&T.loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
	cr_assert(source_eof(T.src));
	cr_assert_eq(T.got.n, 3);
	test_expect_line(2, "i3");
}

/*
 * Rotation torture.  A child appends numbered lines at about 10,000/s;
 * the parent runs the source's loop and rotates the file every 200 ms.
 */
enum test_rot { TEST_RENAME, TEST_COPYTRUNC_LOCKED, TEST_COPYTRUNC };

static volatile sig_atomic_t test_hup;

static void
test_hup_handler(int sig)
{
	test_hup = 1;
}

/* The writer: one write(2) per line, reopening the path on SIGHUP. */
static void __attribute__((noreturn))
test_writer(const char *path, const char *lockpath, int n)
{
	struct sigaction sa;
	char b[64];
	size_t len;
	int fd, lfd = -1, i;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = test_hup_handler;
	sigaction(SIGHUP, &sa, NULL);
	if (lockpath != NULL)
		lfd = open(lockpath, O_RDWR | O_CREAT, 0644);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
	for (i = 0; i < n && fd != -1; i++) {
		/* Like a busy daemon, notice the HUP a little late. */
		if (test_hup && i % 100 == 50) {
			test_hup = 0;
			close(fd);
			fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
		}
		len = test_seqline(b, sizeof b, i);
		if (lfd != -1)
			flock(lfd, LOCK_EX);
		if (write(fd, b, len) != (ssize_t)len)
			_exit(2);
		if (lfd != -1)
			flock(lfd, LOCK_UN);
		if (i % 100 == 99)
			usleep(10000);
	}
	_exit(fd == -1 ? 1 : 0);
}

/* Copy the file to dst, as logrotate's copytruncate does, then truncate. */
static void
test_copytruncate(const char *path, const char *dst)
{
	char b[65536];
	ssize_t n;
	int in, out;

	in = open(path, O_RDWR);
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert(in != -1 && out != -1);
	while ((n = read(in, b, sizeof b)) > 0)
		cr_assert_eq(write(out, b, (size_t)n), n);
	cr_assert_eq(ftruncate(in, 0), 0);
	close(in);
	close(out);
}

/* Read all the writer has put in the file so far (it is blocked). */
static void
test_drain(void)
{
	struct source_pos pos;
	struct stat st;
	int i;

	for (i = 0; i < 1000; i++) {
		source_poll(T.src);
		source_position(T.src, &pos);
		if (stat(T.path, &st) == 0 &&
		    pos.offset == (uint64_t)st.st_size)
			return;
		usleep(1000);
	}
	cr_assert_fail("reader did not catch up");
}

/* Rotate once; rename waits for the source to have moved to the new file. */
static int
test_rotate(enum test_rot how, pid_t child, int lfd, int k)
{
	struct source_pos pos;
	struct stat st;
	char dst[200];

	snprintf(dst, sizeof dst, "%s.%d", T.path, k);
	if (how == TEST_RENAME) {
		source_position(T.src, &pos);
		if (stat(T.path, &st) == -1 || pos.inode != st.st_ino)
			return 0;
		cr_assert_eq(rename(T.path, dst), 0);
		close(open(T.path, O_WRONLY | O_CREAT, 0644));
		kill(child, SIGHUP);
		return 1;
	}
	if (how == TEST_COPYTRUNC_LOCKED) {
		flock(lfd, LOCK_EX);
		test_drain();
	}
	test_copytruncate(T.path, dst);
	if (how == TEST_COPYTRUNC_LOCKED)
		flock(lfd, LOCK_UN);
	return 1;
}

/* Parse "seq=N" from a line. */
static int
test_seq(size_t i)
{
	cr_assert(T.got.len[i] > 12 && memcmp(T.got.line[i], "seq=", 4) == 0,
	    "line %zu mangled: %s", i, T.got.line[i]);
	return atoi(T.got.line[i] + 4);
}

/* Last sequence number in the file at path, or -1. */
static int
test_last_in_file(const char *path, int *first)
{
	FILE *f = fopen(path, "r");
	char b[128];
	int last = -1;

	*first = -1;
	if (f == NULL)
		return -1;
	while (fgets(b, sizeof b, f) != NULL) {
		last = atoi(b + 4);
		if (*first == -1)
			*first = last;
	}
	fclose(f);
	return last;
}

/* Tell whether the parent may stop: every line the test can expect came. */
static int
test_torture_done(enum test_rot how, int n)
{
	int first, last;

	if (how != TEST_COPYTRUNC)
		return T.got.n >= (size_t)n;
	last = test_last_in_file(T.path, &first);
	return last == -1 || (T.got.n > 0 && test_seq(T.got.n - 1) == last);
}

/* Run writer, rotator and reader until done; returns the rotation count. */
static int
test_torture_run(enum test_rot how, int n)
{
	char lockpath[160];
	uint64_t end, last_rot;
	int status = -1, k = 0, lfd;
	pid_t child, r;

	snprintf(lockpath, sizeof lockpath, "%s/lock", T.dir);
	lfd = open(lockpath, O_RDWR | O_CREAT, 0644);
	test_appends(T.path, "");
	test_start(NULL, 1);
	child = fork();
	cr_assert_neq(child, -1);
	if (child == 0)
		test_writer(
		    T.path, how == TEST_COPYTRUNC_LOCKED ? lockpath : NULL, n);
	end = test_now_ms() + 20000 + (uint64_t)n / 5;
	last_rot = test_now_ms();
	while (test_now_ms() < end) {
		uv_run(&T.loop, UV_RUN_NOWAIT);
		usleep(500);
		if (status == -1 && (r = waitpid(child, &status, WNOHANG)) != 0)
			cr_assert_eq(r, child);
		if (status == -1 && test_now_ms() - last_rot >= 200) {
			k += test_rotate(how, child, lfd, k + 1);
			last_rot = test_now_ms();
		}
		if (status != -1 && test_torture_done(how, n))
			break;
	}
	if (status == -1) {
		kill(child, SIGKILL);
		waitpid(child, &status, 0);
		cr_assert_fail("writer did not finish");
	}
	close(lfd);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return k;
}

static void
test_torture(enum test_rot how)
{
	const char *env = getenv("JAILD_TORTURE_LONG");
	int n = env != NULL && *env == '1' ? 100000 : 30000;
	int k, first, last;
	size_t i;

	k = test_torture_run(how, n);
	cr_assert_geq(k, 5, "only %d rotations", k);
	cr_assert_gt(T.got.n, 0);
	/* Never a line twice, never out of order. */
	for (i = 1; i < T.got.n; i++)
		cr_assert_gt(test_seq(i), test_seq(i - 1),
		    "line %zu: %d after %d", i, test_seq(i), test_seq(i - 1));
	if (how != TEST_COPYTRUNC) {
		/* Rename, and copytruncate under the writer's lock: all once.
		 */
		cr_assert_eq(T.got.n, (size_t)n, "got %zu of %d", T.got.n, n);
		return;
	}
	/*
	 * Unlocked copytruncate: lines written between the copy and the
	 * truncate are in no file at all, and lines that reached the copy
	 * but were truncated before we read them cannot be read by anyone
	 * following the path; neither loss is ours.  What we can prove: we
	 * read each generation of the file as a gap-free prefix, i.e. every
	 * gap in the sequence falls on a truncation we detected; seq 0 was
	 * seen; and the final generation was read to its end.
	 */
	cr_assert_eq(test_seq(0), 0);
	for (i = 1; i < T.got.n; i++)
		if (test_seq(i) != test_seq(i - 1) + 1)
			cr_assert_gt(T.got.trunc[i], T.got.trunc[i - 1],
			    "gap before %d without a truncation", test_seq(i));
	last = test_last_in_file(T.path, &first);
	if (last >= 0)
		cr_assert_eq(test_seq(T.got.n - 1), last);
}

Test(source, torture_rename_create, .timeout = 200)
{
	test_torture(TEST_RENAME);
}

Test(source, torture_copytruncate_locked, .timeout = 200)
{
	test_torture(TEST_COPYTRUNC_LOCKED);
}

Test(source, torture_copytruncate, .timeout = 200)
{
	test_torture(TEST_COPYTRUNC);
}
