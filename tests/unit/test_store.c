/* Unit tests for the SQLite store, on real files and :memory:. */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sqlite3.h>

#include "addr.h"
#include "store.h"

static char test_store_dir[] = "/tmp/test_store.XXXXXX";
static int test_store_have_dir;

static void
test_store_setup(void)
{
	cr_assert_not_null(mkdtemp(test_store_dir));
	test_store_have_dir = 1;
}

static int
test_store_rm(
    const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
test_store_teardown(void)
{
	if (test_store_have_dir)
		nftw(test_store_dir, test_store_rm, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(store, .init = test_store_setup, .fini = test_store_teardown);

/* Path of name inside the test's temporary directory (static buffer). */
static const char *
test_store_path(const char *name)
{
	static char buf[2][4096];
	static int n;

	n = !n;
	snprintf(buf[n], sizeof buf[n], "%s/%s", test_store_dir, name);
	return buf[n];
}

static struct store *
test_store_open(const char *path)
{
	struct store *s;
	char *cause = NULL;

	s = store_open(path, &cause);
	cr_assert_not_null(s, "store_open %s: %s", path, cause);
	return s;
}

static struct store_ban
test_store_ban(const char *jail, const char *addr, time_t start, time_t end)
{
	struct store_ban b;

	memset(&b, 0, sizeof b);
	snprintf(b.jail, sizeof b.jail, "%s", jail);
	cr_assert_eq(addr_parse(addr, &b.addr), 0, "parse %s", addr);
	b.start = start;
	b.end = end;
	b.failures = 5;
	snprintf(b.reason, sizeof b.reason, "failures");
	return b;
}

static int64_t
test_store_insert(struct store *s, const char *jail, const char *addr,
    time_t start, time_t end)
{
	struct store_ban b = test_store_ban(jail, addr, start, end);

	cr_assert_eq(
	    store_ban_insert(s, &b), 0, "insert %s: %s", addr, store_errmsg(s));
	cr_assert_gt(b.id, 0);
	return b.id;
}

#define TEST_STORE_MAX 64

struct test_store_list {
	int n;
	struct store_ban bans[TEST_STORE_MAX];
	char text[TEST_STORE_MAX][ADDR_STRLEN];
	int stop_after;
};

static int
test_store_collect(const struct store_ban *b, void *arg)
{
	struct test_store_list *l = arg;

	cr_assert_lt(l->n, TEST_STORE_MAX);
	l->bans[l->n] = *b;
	addr_format(&b->addr, l->text[l->n], sizeof l->text[l->n]);
	l->n++;
	return l->stop_after != 0 && l->n >= l->stop_after;
}

static void
test_store_active(struct store *s, struct test_store_list *l)
{
	memset(l, 0, sizeof *l);
	cr_assert_eq(store_ban_foreach_active(s, test_store_collect, l), 0,
	    "%s", store_errmsg(s));
}

static void
test_store_history(struct store *s, const char *addr, struct test_store_list *l)
{
	struct addr a;

	memset(l, 0, sizeof *l);
	cr_assert_eq(addr_parse(addr, &a), 0);
	cr_assert_eq(store_ban_foreach_history(s, &a, test_store_collect, l), 0,
	    "%s", store_errmsg(s));
}

/* Run one SQL query on the file directly; returns the first int column. */
static long long
test_store_sql_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -1;

	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void
test_store_sql_exec(const char *path, const char *sql)
{
	sqlite3 *db;

	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
}

static void
test_store_write_file(const char *path, const void *data, size_t len)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_neq(fd, -1);
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* Count directory entries whose name starts with prefix. */
static int
test_store_count_prefix(const char *prefix)
{
	DIR *d;
	struct dirent *de;
	int n = 0;

	d = opendir(test_store_dir);
	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

/* Count files named prefix*-wal of exactly size bytes. */
static int
test_store_count_wal_of_size(const char *prefix, off_t size)
{
	DIR *d;
	struct dirent *de;
	struct stat sb;
	size_t len;
	int n = 0;

	d = opendir(test_store_dir);
	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0 ||
		    len < 4 || strcmp(de->d_name + len - 4, "-wal") != 0)
			continue;
		if (stat(test_store_path(de->d_name), &sb) == 0 &&
		    sb.st_size == size)
			n++;
	}
	closedir(d);
	return n;
}

Test(store, round_trip_v4_v6_prefixes_permanent)
{
	struct store *s = test_store_open(":memory:");
	struct test_store_list l;
	struct store_ban b;

	test_store_insert(s, "sshd", "2001:db8::/64", 300, 900);
	test_store_insert(s, "sendmail", "192.0.2.7", 100, 700);
	test_store_insert(s, "sendmail", "2001:db8::1", 200, 0);
	test_store_insert(s, "sshd", "198.51.100.0/24", 400, 1000);
	test_store_active(s, &l);
	cr_assert_eq(l.n, 4);
	cr_assert_str_eq(l.text[0], "192.0.2.7");
	cr_assert_str_eq(l.text[1], "2001:db8::1");
	cr_assert_str_eq(l.text[2], "2001:db8::/64");
	cr_assert_str_eq(l.text[3], "198.51.100.0/24");
	b = l.bans[0];
	cr_assert_str_eq(b.jail, "sendmail");
	cr_assert_eq(b.start, 100);
	cr_assert_eq(b.end, 700);
	cr_assert_eq(b.failures, 5);
	cr_assert_str_eq(b.reason, "failures");
	cr_assert_eq(b.active, 1);
	cr_assert_eq(b.lifted, 0);
	cr_assert_eq(l.bans[1].end, 0, "permanent stays 0");
	cr_assert_eq(l.bans[2].addr.family, AF_INET6);
	cr_assert_eq(l.bans[2].addr.prefixlen, 64);
	cr_assert_eq(l.bans[3].addr.prefixlen, 24);
	store_close(s);
}

Test(store, callback_stops_iteration)
{
	struct store *s = test_store_open(":memory:");
	struct test_store_list l;

	test_store_insert(s, "j", "192.0.2.1", 1, 0);
	test_store_insert(s, "j", "192.0.2.2", 2, 0);
	test_store_insert(s, "j", "192.0.2.3", 3, 0);
	memset(&l, 0, sizeof l);
	l.stop_after = 2;
	cr_assert_eq(store_ban_foreach_active(s, test_store_collect, &l), 0);
	cr_assert_eq(l.n, 2);
	/* The statement was reset: a second walk sees everything. */
	test_store_active(s, &l);
	cr_assert_eq(l.n, 3);
	store_close(s);
}

struct test_store_reenter {
	struct store *s;
	int lifted, nested;
};

static int
test_store_lift_cb(const struct store_ban *b, void *arg)
{
	struct test_store_reenter *r = arg;
	struct test_store_list l;

	r->nested = store_ban_foreach_active(r->s, test_store_collect, &l);
	if (store_ban_lift(r->s, b->id, 99, "expired") == 0)
		r->lifted++;
	return 0;
}

Test(store, callback_may_lift_but_not_reenter)
{
	struct store *s = test_store_open(":memory:");
	struct test_store_reenter r = {s, 0, 0};
	struct test_store_list l;

	test_store_insert(s, "j", "192.0.2.1", 1, 5);
	test_store_insert(s, "j", "192.0.2.2", 2, 6);
	cr_assert_eq(store_ban_foreach_active(s, test_store_lift_cb, &r), 0);
	cr_assert_eq(r.lifted, 2);
	cr_assert_eq(r.nested, -1);
	test_store_active(s, &l);
	cr_assert_eq(l.n, 0);
	store_close(s);
}

Test(store, lift_and_set_end)
{
	struct store *s = test_store_open(":memory:");
	struct test_store_list l;
	int64_t a, b;

	a = test_store_insert(s, "j", "192.0.2.1", 10, 100);
	b = test_store_insert(s, "j", "192.0.2.2", 20, 200);
	cr_assert_eq(store_ban_set_end(s, b, 5000), 0, "%s", store_errmsg(s));
	cr_assert_eq(store_ban_lift(s, a, 50, "jailctl"), 0);
	test_store_active(s, &l);
	cr_assert_eq(l.n, 1);
	cr_assert_eq(l.bans[0].id, b);
	cr_assert_eq(l.bans[0].end, 5000);

	test_store_history(s, "192.0.2.1", &l);
	cr_assert_eq(l.n, 1);
	cr_assert_eq(l.bans[0].active, 0);
	cr_assert_eq(l.bans[0].lifted, 50);
	cr_assert_str_eq(l.bans[0].lifted_by, "jailctl");
	cr_assert_eq(l.bans[0].end, 100);

	/* A lifted ban can be neither lifted again nor extended. */
	cr_assert_eq(store_ban_lift(s, a, 60, "jailctl"), -1);
	cr_assert(strstr(store_errmsg(s), "not active") != NULL);
	cr_assert_eq(store_ban_set_end(s, a, 9000), -1);
	cr_assert_eq(store_ban_lift(s, 12345, 60, "jailctl"), -1);

	/* An expiry leaves lifted at 0 (store.h) and keeps its end. */
	cr_assert_eq(store_ban_lift(s, b, 5001, "expired"), 0);
	test_store_history(s, "192.0.2.2", &l);
	cr_assert_eq(l.n, 1);
	cr_assert_eq(l.bans[0].active, 0);
	cr_assert_eq(l.bans[0].lifted, 0);
	cr_assert_eq(l.bans[0].end, 5000);
	cr_assert_str_eq(l.bans[0].lifted_by, "expired");
	store_close(s);
}

Test(store, expiry_of_permanent_records_end)
{
	struct store *s = test_store_open(":memory:");
	struct test_store_list l;
	int64_t id;

	id = test_store_insert(s, "j", "192.0.2.9", 10, 0);
	cr_assert_eq(store_ban_lift(s, id, 777, "expired"), 0);
	test_store_history(s, "192.0.2.9", &l);
	cr_assert_eq(l.n, 1);
	cr_assert_eq(l.bans[0].end, 777);
	store_close(s);
}

Test(store, persists_across_reopen)
{
	const char *path = test_store_path("jaild.db");
	struct store *s = test_store_open(path);
	struct test_store_list l;
	int64_t id;

	id = test_store_insert(s, "sendmail", "203.0.113.5", 100, 0);
	test_store_insert(s, "sendmail", "2001:db8:1::/48", 50, 900);
	cr_assert_eq(
	    store_ban_lift(
	        s, test_store_insert(s, "x", "192.0.2.1", 1, 2), 3, "jailctl"),
	    0);
	store_close(s);

	s = test_store_open(path);
	test_store_active(s, &l);
	cr_assert_eq(l.n, 2);
	cr_assert_str_eq(l.text[0], "2001:db8:1::/48");
	cr_assert_str_eq(l.text[1], "203.0.113.5");
	cr_assert_eq(l.bans[1].id, id);
	cr_assert_eq(l.bans[1].end, 0);
	store_close(s);
}

Test(store, history_includes_containing_prefixes)
{
	struct store *s = test_store_open(":memory:");
	struct test_store_list l;

	test_store_insert(s, "a", "10.0.0.5", 50, 0);
	test_store_insert(s, "a", "10.0.0.0/8", 10, 0);
	test_store_insert(s, "b", "10.0.0.0/24", 30, 0);
	test_store_insert(s, "a", "10.1.0.0/16", 20, 0);
	test_store_insert(s, "a", "10.0.0.6", 40, 0);
	test_store_insert(s, "a", "0.0.0.0/0", 5, 0);
	test_store_insert(s, "a", "::/0", 6, 0);
	test_store_insert(s, "a", "2001:db8::1", 100, 0);
	test_store_insert(s, "a", "2001:db8::/64", 90, 0);
	test_store_insert(s, "a", "2001:db8:0:1::/64", 80, 0);
	test_store_insert(s, "a", "2001:db8::/32", 70, 0);
	test_store_insert(s, "a", "2001:db8::2", 60, 0);
	test_store_insert(s, "a", "2001:db9::/32", 1, 0);

	test_store_history(s, "10.0.0.5", &l);
	cr_assert_eq(l.n, 4);
	cr_assert_str_eq(l.text[0], "0.0.0.0/0");
	cr_assert_str_eq(l.text[1], "10.0.0.0/8");
	cr_assert_str_eq(l.text[2], "10.0.0.0/24");
	cr_assert_str_eq(l.text[3], "10.0.0.5");

	test_store_history(s, "2001:db8::1", &l);
	cr_assert_eq(l.n, 4);
	cr_assert_str_eq(l.text[0], "::/0");
	cr_assert_str_eq(l.text[1], "2001:db8::/32");
	cr_assert_str_eq(l.text[2], "2001:db8::/64");
	cr_assert_str_eq(l.text[3], "2001:db8::1");

	/* A prefix's history holds the prefixes above it, not its hosts. */
	test_store_history(s, "10.0.0.0/24", &l);
	cr_assert_eq(l.n, 3);
	cr_assert_str_eq(l.text[2], "10.0.0.0/24");

	test_store_history(s, "192.0.2.1", &l);
	cr_assert_eq(l.n, 1);
	cr_assert_str_eq(l.text[0], "0.0.0.0/0");
	store_close(s);
}

Test(store, count_per_jail_and_all)
{
	struct store *s = test_store_open(":memory:");
	struct addr a, other;

	cr_assert_eq(addr_parse("192.0.2.1", &a), 0);
	cr_assert_eq(addr_parse("192.0.2.2", &other), 0);
	cr_assert_eq(store_ban_count(s, &a, NULL), 0);
	test_store_insert(s, "sshd", "192.0.2.1", 1, 2);
	test_store_insert(s, "sshd", "192.0.2.1", 3, 4);
	test_store_insert(s, "mail", "192.0.2.1", 5, 6);
	test_store_insert(s, "mail", "192.0.2.0/24", 5, 6);
	cr_assert_eq(store_ban_count(s, &a, "sshd"), 2);
	cr_assert_eq(store_ban_count(s, &a, "mail"), 1);
	cr_assert_eq(store_ban_count(s, &a, "nope"), 0);
	cr_assert_eq(store_ban_count(s, &a, NULL), 3);
	cr_assert_eq(store_ban_count(s, &other, NULL), 0);
	store_close(s);
}

Test(store, positions_save_load_replace)
{
	const char *path = test_store_path("pos.db");
	struct store *s = test_store_open(path);
	struct store_pos p, q;

	memset(&p, 0, sizeof p);
	snprintf(p.path, sizeof p.path, "/var/log/mail.log");
	p.inode = 1234;
	p.offset = 99;
	p.headhash = UINT64_MAX - 7; /* above INT64_MAX */
	cr_assert_eq(store_pos_save(s, &p), 0, "%s", store_errmsg(s));
	cr_assert_eq(store_pos_load(s, "/var/log/mail.log", &q), 0);
	cr_assert_str_eq(q.path, p.path);
	cr_assert_eq(q.inode, 1234);
	cr_assert_eq(q.offset, 99);
	cr_assert_eq(q.headhash, UINT64_MAX - 7);

	p.inode = 5678;
	p.offset = 1ULL << 40;
	cr_assert_eq(store_pos_save(s, &p), 0);
	store_close(s);
	s = test_store_open(path);
	cr_assert_eq(store_pos_load(s, "/var/log/mail.log", &q), 0);
	cr_assert_eq(q.inode, 5678);
	cr_assert_eq(q.offset, 1ULL << 40);
	cr_assert_eq(store_pos_load(s, "/var/log/other", &q), -1);
	cr_assert(strstr(store_errmsg(s), "no position") != NULL);
	store_close(s);
	cr_assert_eq(
	    test_store_sql_int(path, "SELECT count(*) FROM positions"), 1);
}

Test(store, purge_with_limit)
{
	struct store *s = test_store_open(":memory:");
	struct test_store_list l;
	struct addr a;
	int i, n, total = 0;
	char text[32];
	int64_t id;

	/* 25 bans lifted at 100, 5 expired at end 150, 1 lifted late. */
	for (i = 0; i < 25; i++) {
		snprintf(text, sizeof text, "192.0.2.%d", i);
		id = test_store_insert(s, "j", text, 10, 500);
		cr_assert_eq(store_ban_lift(s, id, 100, "jailctl"), 0);
	}
	for (i = 0; i < 5; i++) {
		snprintf(text, sizeof text, "198.51.100.%d", i);
		id = test_store_insert(s, "j", text, 10, 150);
		cr_assert_eq(store_ban_lift(s, id, 160, "expired"), 0);
	}
	id = test_store_insert(s, "j", "203.0.113.1", 10, 150);
	cr_assert_eq(store_ban_lift(s, id, 5000, "jailctl"), 0);
	test_store_insert(s, "j", "203.0.113.2", 10, 150); /* still active */
	test_store_insert(s, "j", "203.0.113.3", 10, 0); /* permanent */

	for (i = 0; i < 10; i++) {
		n = store_purge(s, 1000, 7);
		cr_assert_geq(n, 0, "%s", store_errmsg(s));
		cr_assert_leq(n, 7);
		total += n;
		if (n == 0)
			break;
	}
	cr_assert_eq(total, 30);
	cr_assert_eq(store_purge(s, 1000, 7), 0);
	cr_assert_eq(addr_parse("203.0.113.1", &a), 0);
	cr_assert_eq(store_ban_count(s, &a, NULL), 1);
	test_store_active(s, &l);
	cr_assert_eq(l.n, 2);
	cr_assert_eq(store_purge(s, 6000, 100), 1);
	store_close(s);
}

Test(store, file_mode_0600)
{
	const char *path = test_store_path("mode.db");
	const char *wal = test_store_path("mode.db-wal");
	struct store *s;
	struct stat sb;
	mode_t old;

	old = umask(0);
	s = test_store_open(path);
	test_store_insert(s, "j", "192.0.2.1", 1, 0);
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq(sb.st_mode & 07777, 0600);
	cr_assert_eq(stat(wal, &sb), 0, "WAL mode is on");
	cr_assert_eq(sb.st_mode & 07777, 0600);
	store_close(s);

	/* An existing, too open file is tightened. */
	cr_assert_eq(chmod(path, 0666), 0);
	s = test_store_open(path);
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq(sb.st_mode & 07777, 0600);
	store_close(s);
	umask(old);
}

Test(store, refuses_newer_schema)
{
	const char *path = test_store_path("new.db");
	struct store *s;
	char *cause = NULL, want[64];

	test_store_sql_exec(path, "CREATE TABLE future (x); "
	                          "PRAGMA user_version = 99;");
	s = store_open(path, &cause);
	cr_assert_null(s);
	cr_assert_not_null(cause);
	cr_assert(strstr(cause, "schema version 99") != NULL, "%s", cause);
	snprintf(want, sizeof want, "knows up to %d", STORE_SCHEMA_VERSION);
	cr_assert(strstr(cause, want) != NULL, "%s", cause);
	cr_assert(strstr(cause, "upgrade jaild") != NULL, "%s", cause);
	free(cause);
	/* Refused, not touched: the file is still the newer database. */
	cr_assert_eq(test_store_sql_int(path, "PRAGMA user_version"), 99);
	cr_assert_eq(test_store_count_prefix("new.db.corrupt"), 0);
}

Test(store, migrates_empty_file)
{
	const char *path = test_store_path("empty.db");
	struct store *s;

	test_store_write_file(path, "", 0);
	s = test_store_open(path);
	test_store_insert(s, "j", "192.0.2.1", 1, 0);
	store_close(s);
	cr_assert_eq(test_store_sql_int(path, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	cr_assert_eq(test_store_sql_int(path, "SELECT count(*) FROM bans"), 1);
	cr_assert_eq(test_store_sql_int(path,
	                 "SELECT count(*) FROM sqlite_master WHERE type = "
	                 "'index' AND name LIKE 'bans_%'"),
	    3);
}

Test(store, reopens_current_version)
{
	const char *path = test_store_path("v1.db");
	struct store *s;
	struct test_store_list l;

	s = test_store_open(path);
	test_store_insert(s, "j", "192.0.2.1", 1, 0);
	store_close(s);
	cr_assert_eq(test_store_sql_int(path, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	s = test_store_open(path);
	test_store_active(s, &l);
	cr_assert_eq(l.n, 1);
	store_close(s);
	cr_assert_eq(test_store_sql_int(path, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
}

Test(store, journal_cursor_round_trip_and_v1_upgrade)
{
	const char *path = test_store_path("v1cur.db");
	struct store *s;
	struct store_pos pos;
	char *c;

	/* A database as schema version 1 left it, with a position. */
	test_store_sql_exec(path,
	    "CREATE TABLE bans (id INTEGER PRIMARY KEY, jail TEXT NOT NULL, "
	    "addr TEXT NOT NULL, family INT NOT NULL, prefixlen INT NOT NULL, "
	    "start INT NOT NULL, \"end\" INT NOT NULL, failures INT NOT NULL "
	    "DEFAULT 0, reason TEXT, active INT NOT NULL DEFAULT 1, lifted "
	    "INT NOT NULL DEFAULT 0, lifted_by TEXT);"
	    "CREATE INDEX bans_active ON bans (active);"
	    "CREATE INDEX bans_addr ON bans (addr);"
	    "CREATE INDEX bans_jail_addr ON bans (jail, addr);"
	    "CREATE TABLE positions (path TEXT PRIMARY KEY, inode INT NOT "
	    "NULL, \"offset\" INT NOT NULL, headhash INT NOT NULL);"
	    "INSERT INTO positions VALUES ('/var/log/mail.log', 7, 99, 5);"
	    "PRAGMA user_version = 1;");
	s = test_store_open(path);
	cr_assert_eq(store_pos_load(s, "/var/log/mail.log", &pos), 0);
	cr_expect_eq(pos.offset, 99);
	cr_assert_null(store_cursor_load(s, "journal:x"));
	cr_assert_eq(store_begin(s), 0);
	cr_assert_eq(store_cursor_save(s, "journal:x", "s=abc;i=1"), 0);
	cr_assert_eq(store_cursor_save(s, "journal:x", "s=abc;i=2"), 0);
	cr_assert_eq(store_commit(s), 0);
	store_close(s);
	cr_assert_eq(test_store_sql_int(path, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	s = test_store_open(path);
	c = store_cursor_load(s, "journal:x");
	cr_assert_not_null(c);
	cr_expect_str_eq(c, "s=abc;i=2");
	free(c);
	store_close(s);
}

static int
test_store_good_collect(const struct store_good *g, void *arg)
{
	struct store_good *out = arg;
	size_t i;

	for (i = 0; out[i].jail[0] != '\0'; i++)
		;
	out[i] = *g;
	return 0;
}

Test(store, good_senders_v2_upgrade_round_trip_and_purge)
{
	const char *path = test_store_path("v2good.db");
	struct store_good g, got[8];
	struct store *s;

	/* A database as schema version 2 left it. */
	test_store_sql_exec(path,
	    "CREATE TABLE bans (id INTEGER PRIMARY KEY, jail TEXT NOT NULL, "
	    "addr TEXT NOT NULL, family INT NOT NULL, prefixlen INT NOT NULL, "
	    "start INT NOT NULL, \"end\" INT NOT NULL, failures INT NOT NULL "
	    "DEFAULT 0, reason TEXT, active INT NOT NULL DEFAULT 1, lifted "
	    "INT NOT NULL DEFAULT 0, lifted_by TEXT);"
	    "CREATE TABLE positions (path TEXT PRIMARY KEY, inode INT NOT "
	    "NULL, \"offset\" INT NOT NULL, headhash INT NOT NULL);"
	    "CREATE TABLE cursors (name TEXT PRIMARY KEY, cursor TEXT NOT "
	    "NULL);"
	    "PRAGMA user_version = 2;");
	s = test_store_open(path);
	memset(&g, 0, sizeof g);
	strcpy(g.jail, "sendmail");
	cr_assert_eq(addr_parse("192.0.2.7", &g.addr), 0);
	g.first = 1000;
	g.last = 2000;
	g.count = 3;
	cr_assert_eq(store_begin(s), 0);
	cr_assert_eq(store_good_save(s, &g), 0);
	cr_assert_eq(addr_parse("2001:db8::7", &g.addr), 0);
	g.last = 500;
	cr_assert_eq(store_good_save(s, &g), 0);
	/* An update never moves last back, and takes the new count. */
	cr_assert_eq(addr_parse("192.0.2.7", &g.addr), 0);
	g.last = 1500;
	g.count = 4;
	cr_assert_eq(store_good_save(s, &g), 0);
	cr_assert_eq(store_commit(s), 0);
	store_close(s);
	cr_assert_eq(test_store_sql_int(path, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);

	s = test_store_open(path);
	memset(got, 0, sizeof got);
	cr_assert_eq(
	    store_good_foreach(s, "sendmail", 0, test_store_good_collect, got),
	    0);
	cr_assert_str_eq(got[0].jail, "sendmail");
	cr_assert_eq(got[0].last, 500, "oldest first");
	cr_assert_eq(got[1].last, 2000);
	cr_assert_eq(got[1].count, 4);
	cr_assert_eq(got[1].first, 1000);
	cr_assert_null(got[2].jail[0] == '\0' ? NULL : "a third row");
	memset(got, 0, sizeof got);
	cr_assert_eq(
	    store_good_foreach(s, "other", 0, test_store_good_collect, got), 0);
	cr_assert_eq(got[0].jail[0], '\0', "another jail's senders");
	cr_assert_eq(store_begin(s), 0);
	cr_assert_eq(store_good_purge(s, 1000), 1);
	cr_assert_eq(store_commit(s), 0);
	memset(got, 0, sizeof got);
	cr_assert_eq(
	    store_good_foreach(s, "sendmail", 0, test_store_good_collect, got),
	    0);
	cr_assert_eq(got[0].last, 2000);
	cr_assert_eq(got[1].jail[0], '\0');
	store_close(s);
}

Test(store, refuses_foreign_database_at_version_0)
{
	const char *path = test_store_path("foreign.db");
	struct store *s;
	char *cause = NULL;

	test_store_sql_exec(path, "CREATE TABLE bans (who TEXT);");
	s = store_open(path, &cause);
	cr_assert_null(s);
	cr_assert(strstr(cause, "already exists") != NULL, "%s", cause);
	free(cause);
	/* The failed migration was rolled back whole. */
	cr_assert_eq(test_store_sql_int(path, "PRAGMA user_version"), 0);
	cr_assert_eq(test_store_sql_int(path,
	                 "SELECT count(*) FROM sqlite_master WHERE name = "
	                 "'positions'"),
	    0);
}

Test(store, corrupt_file_moved_aside)
{
	const char *path = test_store_path("bad.db");
	char buf[8192];
	struct store *s;
	struct test_store_list l;

	/* A real database whose pages are then overwritten. */
	s = test_store_open(path);
	test_store_insert(s, "j", "192.0.2.1", 1, 0);
	store_close(s);
	memset(buf, 0xa5, sizeof buf);
	memcpy(buf, "SQLite format 3", 16);
	buf[16] = 0x10; /* page size 4096 */
	buf[17] = 0x00;
	test_store_write_file(path, buf, sizeof buf);
	test_store_write_file(test_store_path("bad.db-wal"), buf, 100);

	s = test_store_open(path);
	cr_assert_eq(test_store_count_prefix("bad.db.corrupt-"), 3,
	    "db, -wal and -shm are moved");
	cr_assert_eq(test_store_count_prefix("bad.db-wal.keep"), 0);
	cr_assert_eq(test_store_count_wal_of_size("bad.db.corrupt-", 100), 1,
	    "the WAL is kept intact");
	test_store_active(s, &l);
	cr_assert_eq(l.n, 0);
	test_store_insert(s, "j", "192.0.2.2", 1, 0);
	test_store_active(s, &l);
	cr_assert_eq(l.n, 1);
	store_close(s);
}

Test(store, garbage_file_moved_aside)
{
	const char *path = test_store_path("garbage.db");
	char buf[3000];
	struct store *s;
	struct stat sb;
	size_t i;
	unsigned int seed = 42;

	for (i = 0; i < sizeof buf; i++)
		buf[i] = (char)rand_r(&seed);
	test_store_write_file(path, buf, sizeof buf);
	s = test_store_open(path);
	cr_assert_eq(test_store_count_prefix("garbage.db.corrupt-"), 1);
	test_store_insert(s, "j", "2001:db8::5", 1, 0);
	store_close(s);
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq(sb.st_mode & 07777, 0600);
	cr_assert_eq(test_store_sql_int(path, "SELECT count(*) FROM bans"), 1);

	/* Plain text is not a database either. */
	test_store_write_file(path, "hello, this is not sqlite\n", 26);
	s = test_store_open(path);
	store_close(s);
	cr_assert_geq(test_store_count_prefix("garbage.db.corrupt-"), 2);
}

Test(store, directory_is_moved_aside_not_corruption)
{
	const char *path = test_store_path("adir");
	struct store *s;

	cr_assert_eq(mkdir(path, 0700), 0);
	s = test_store_open(path);
	cr_assert(store_fresh(s));
	cr_assert_eq(test_store_count_prefix("adir.notafile-"), 1);
	cr_assert_eq(test_store_count_prefix("adir.corrupt"), 0);
	store_close(s);
}

Test(store, fresh_only_when_created)
{
	const char *path = test_store_path("fresh.db");
	struct store *s = test_store_open(path);

	cr_assert(store_fresh(s));
	cr_assert_not(store_replaced(s));
	store_close(s);
	s = test_store_open(path);
	cr_assert_not(store_fresh(s));
	store_close(s);
}

Test(store, deleted_file_put_back_whole)
{
	const char *path = test_store_path("del.db");
	struct store *s = test_store_open(path), *n;
	struct store_pos pos = {.inode = 7, .offset = 99, .headhash = 3};
	struct test_store_list l;
	char *cause = NULL;
	int copied;

	snprintf(pos.path, sizeof pos.path, "/var/log/maillog");
	test_store_insert(s, "j", "192.0.2.1", 1, 0);
	cr_assert_eq(store_pos_save(s, &pos), 0);
	cr_assert_eq(unlink(path), 0);
	cr_assert(store_replaced(s));
	/* Written after the unlink: only the open handle has it. */
	test_store_insert(s, "j", "192.0.2.2", 2, 0);
	n = store_reopen(s, &copied, &cause);
	cr_assert_not_null(n, "%s", cause);
	cr_assert(copied);
	cr_assert_not(store_replaced(n));
	cr_assert_not(store_fresh(n));
	test_store_active(n, &l);
	cr_assert_eq(l.n, 2);
	memset(&pos, 0, sizeof pos);
	cr_assert_eq(store_pos_load(n, "/var/log/maillog", &pos), 0);
	cr_assert_eq(pos.offset, 99);
	store_close(n);
	cr_assert_eq(test_store_sql_int(path, "SELECT count(*) FROM bans"), 2);
}

Test(store, replacement_moved_aside)
{
	char path[4096], other[4096];
	struct store *s, *n;
	struct test_store_list l;
	char *cause = NULL;
	int copied;

	snprintf(path, sizeof path, "%s", test_store_path("rep.db"));
	snprintf(other, sizeof other, "%s", test_store_path("other"));
	s = test_store_open(path);
	test_store_insert(s, "j", "192.0.2.1", 1, 0);
	test_store_write_file(other, "not ours\n", 9);
	cr_assert_eq(rename(other, path), 0);
	cr_assert(store_replaced(s));
	n = store_reopen(s, &copied, &cause);
	cr_assert_not_null(n, "%s", cause);
	cr_assert(copied);
	cr_assert_eq(test_store_count_prefix("rep.db.replaced-"), 1);
	test_store_active(n, &l);
	cr_assert_eq(l.n, 1);
	store_close(n);
}

Test(store, transaction_commit)
{
	const char *path = test_store_path("txn.db");
	struct store *s = test_store_open(path);
	struct test_store_list l;

	cr_assert_eq(store_commit(s), 0, "commit without begin is a no-op");
	cr_assert_eq(store_begin(s), 0);
	cr_assert_eq(store_begin(s), 0, "nested begin is a no-op");
	test_store_insert(s, "j", "192.0.2.1", 1, 0);
	test_store_insert(s, "j", "192.0.2.2", 2, 0);
	/* Another connection sees nothing until the commit. */
	cr_assert_eq(test_store_sql_int(path, "SELECT count(*) FROM bans"), 0);
	cr_assert_eq(store_commit(s), 0, "%s", store_errmsg(s));
	cr_assert_eq(test_store_sql_int(path, "SELECT count(*) FROM bans"), 2);
	cr_assert_eq(store_commit(s), 0);

	/* Autocommit outside a transaction. */
	test_store_insert(s, "j", "192.0.2.3", 3, 0);
	cr_assert_eq(test_store_sql_int(path, "SELECT count(*) FROM bans"), 3);

	/* store_close commits what is pending. */
	cr_assert_eq(store_begin(s), 0);
	test_store_insert(s, "j", "192.0.2.4", 4, 0);
	store_close(s);
	s = test_store_open(path);
	test_store_active(s, &l);
	cr_assert_eq(l.n, 4);
	store_close(s);
}

/* A commit survives kill -9 of the process that made it (WAL+NORMAL). */
Test(store, commit_survives_kill_9)
{
	const char *path = test_store_path("kill.db");
	struct store *s;
	struct test_store_list l;
	int fds[2], status;
	pid_t pid;
	char c;

	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		close(fds[0]);
		s = store_open(path, NULL);
		if (s != NULL && store_begin(s) == 0) {
			struct store_ban b =
			    test_store_ban("j", "192.0.2.1", 1, 0);
			if (store_ban_insert(s, &b) == 0 &&
			    store_commit(s) == 0)
				(void)write(fds[1], "k", 1);
			store_begin(s); /* left open: must be lost */
			b = test_store_ban("j", "192.0.2.2", 2, 0);
			store_ban_insert(s, &b);
		}
		(void)write(fds[1], "d", 1);
		for (;;)
			pause();
	}
	close(fds[1]);
	cr_assert_eq(read(fds[0], &c, 1), 1);
	cr_assert_eq(c, 'k', "the child could not commit");
	cr_assert_eq(read(fds[0], &c, 1), 1);
	cr_assert_eq(kill(pid, SIGKILL), 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	close(fds[0]);

	s = test_store_open(path);
	test_store_active(s, &l);
	cr_assert_eq(l.n, 1);
	cr_assert_str_eq(l.text[0], "192.0.2.1");
	store_close(s);
}

/*
 * Stop the WAL from growing much: RLIMIT_FSIZE binds root too, unlike
 * file modes.  Criterion runs each test in its own process.
 */
static void
test_store_limit_wal(const char *wal, struct rlimit *old)
{
	struct rlimit rl;
	struct stat sb;

	cr_assert_eq(stat(wal, &sb), 0, "no WAL: %s", wal);
	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(getrlimit(RLIMIT_FSIZE, old), 0);
	rl = *old;
	rl.rlim_cur = (rlim_t)sb.st_size + 4096;
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
}

/*
 * A failed commit (the file may not grow: RLIMIT_FSIZE, which binds root
 * too) is reported, rolled back, and the store works once space is back.
 */
Test(store, failed_commit_recovers)
{
	const char *path = test_store_path("full.db");
	struct store *s = test_store_open(path);
	struct test_store_list l;
	struct rlimit old;
	struct store_ban b;
	char text[32];
	int i;

	test_store_insert(s, "j", "192.0.2.1", 1, 0);
	test_store_limit_wal(test_store_path("full.db-wal"), &old);
	cr_assert_eq(store_begin(s), 0);
	/* Few enough rows to stay in the page cache until the commit. */
	for (i = 0; i < 500; i++) {
		snprintf(text, sizeof text, "10.%d.%d.1", i / 250, i % 250);
		b = test_store_ban("j", text, 10 + i, 0);
		cr_assert_eq(store_ban_insert(s, &b), 0, "%s", store_errmsg(s));
	}
	cr_assert_eq(store_commit(s), -1, "commit must fail");
	cr_assert(
	    strstr(store_errmsg(s), "commit") != NULL, "%s", store_errmsg(s));
	cr_log_info("commit failed as expected: %s", store_errmsg(s));

	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	cr_assert_eq(store_begin(s), 0, "%s", store_errmsg(s));
	test_store_insert(s, "j", "192.0.2.2", 2, 0);
	cr_assert_eq(store_commit(s), 0, "%s", store_errmsg(s));
	test_store_active(s, &l);
	cr_assert_eq(l.n, 2, "the failed turn left nothing behind");
	store_close(s);
	cr_assert_eq(test_store_sql_int(path, "SELECT count(*) FROM bans"), 2);
}

/*
 * A write that fails inside the turn's transaction (the page cache spills
 * into a WAL that may not grow) loses the whole turn, says so at commit,
 * and refuses further writes until then rather than autocommit them.
 */
Test(store, failed_write_in_transaction_recovers)
{
	const char *path = test_store_path("spill.db");
	struct store *s = test_store_open(path);
	struct rlimit old;
	struct store_ban b;
	char text[32];
	int i, failed = 0;

	test_store_insert(s, "j", "192.0.2.1", 1, 0);
	test_store_limit_wal(test_store_path("spill.db-wal"), &old);
	cr_assert_eq(store_begin(s), 0);
	for (i = 0; i < 200000 && !failed; i++) {
		snprintf(text, sizeof text, "10.%d.%d.%d", i / 62500,
		    i / 250 % 250, i % 250);
		b = test_store_ban("j", text, 10 + i, 0);
		failed = store_ban_insert(s, &b) == -1;
	}
	cr_assert(failed, "the page cache never spilled");
	cr_log_info("insert %d failed as expected: %s", i, store_errmsg(s));
	b = test_store_ban("j", "192.0.2.3", 3, 0);
	cr_assert_eq(store_ban_insert(s, &b), -1);
	cr_assert(strstr(store_errmsg(s), "already failed") != NULL);
	cr_assert_eq(store_commit(s), -1);
	cr_assert(strstr(store_errmsg(s), "rolled back") != NULL);

	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	cr_assert_eq(store_begin(s), 0, "%s", store_errmsg(s));
	test_store_insert(s, "j", "192.0.2.2", 2, 0);
	cr_assert_eq(store_commit(s), 0, "%s", store_errmsg(s));
	store_close(s);
	cr_assert_eq(test_store_sql_int(path, "SELECT count(*) FROM bans"), 2);
}

Test(store, rejects_invalid_input)
{
	struct store *s = test_store_open(":memory:");
	struct test_store_list l;
	struct store_ban b;

	b = test_store_ban("j", "192.0.2.0/24", 1, 0);
	b.addr.bytes[3] = 7; /* host bits under a /24 */
	cr_assert_eq(store_ban_insert(s, &b), -1);
	cr_assert(strstr(store_errmsg(s), "invalid address") != NULL);
	b = test_store_ban("j", "192.0.2.1", 1, 0);
	b.addr.family = 99;
	cr_assert_eq(store_ban_insert(s, &b), -1);
	b = test_store_ban("j", "192.0.2.1", 1, 0);
	b.addr.prefixlen = 33;
	cr_assert_eq(store_ban_insert(s, &b), -1);
	b = test_store_ban("", "192.0.2.1", 1, 0);
	cr_assert_eq(store_ban_insert(s, &b), -1);

	/* Hostile text is data, stored and returned verbatim. */
	b = test_store_ban("x'); DROP TABLE bans; --", "192.0.2.1", 1, 0);
	memset(b.reason, 'r', sizeof b.reason); /* not NUL-terminated */
	cr_assert_eq(store_ban_insert(s, &b), 0, "%s", store_errmsg(s));
	test_store_active(s, &l);
	cr_assert_eq(l.n, 1);
	cr_assert_str_eq(l.bans[0].jail, "x'); DROP TABLE bans; --");
	cr_assert_eq(strlen(l.bans[0].reason), sizeof b.reason - 1);
	store_close(s);
}

Test(store, skips_rows_with_bad_addresses)
{
	const char *path = test_store_path("rows.db");
	struct store *s;
	struct test_store_list l;

	s = test_store_open(path);
	test_store_insert(s, "j", "192.0.2.1", 1, 0);
	test_store_insert(s, "j", "192.0.2.2", 2, 0);
	store_close(s);
	/* Hand edits: text that is no address, and a family mismatch. */
	test_store_sql_exec(path,
	    "INSERT INTO bans (jail, addr, family, prefixlen, start, \"end\", "
	    "failures, active) VALUES ('j', '1.2.3.4; rm -rf /', 4, 32, 3, "
	    "0, 1, 1), ('j', '192.0.2.9', 6, 32, 4, 0, 1, 1);");
	s = test_store_open(path);
	test_store_active(s, &l);
	cr_assert_eq(l.n, 2);
	cr_assert_str_eq(l.text[0], "192.0.2.1");
	cr_assert_str_eq(l.text[1], "192.0.2.2");
	store_close(s);
}

Test(store, close_null_and_errmsg)
{
	store_close(NULL);
	cr_assert_str_eq(store_errmsg(NULL), "no store");
}

/* A fleet ban keeps the node it came from; a local one has none. */
Test(store, origin_round_trip)
{
	struct store *s = test_store_open(":memory:");
	struct store_ban b = test_store_ban("j", "192.0.2.9", 10, 0);
	struct test_store_list l;

	snprintf(b.origin, sizeof b.origin, "%s", "mx2.example.org");
	cr_assert_eq(store_ban_insert(s, &b), 0, "%s", store_errmsg(s));
	test_store_insert(s, "j", "192.0.2.10", 10, 0);
	test_store_active(s, &l);
	cr_assert_eq(l.n, 2);
	cr_assert_str_eq(l.bans[0].origin, "mx2.example.org");
	cr_assert_str_eq(l.bans[1].origin, "");
	test_store_history(s, "192.0.2.9", &l);
	cr_assert_eq(l.n, 1);
	cr_assert_str_eq(l.bans[0].origin, "mx2.example.org");
	store_close(s);
}
