// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for the index of pinned files (lib/core/pinindex.c), on a
 * scratch directory standing for the backing root: the set kept by
 * add/del/has/any/items, the log's line format, persistence across
 * close and reopen, compaction (at open, and after many deletions), and
 * a damaged log read back without losing an entry that a well-formed
 * line recorded: a torn last line (a crash in the middle of a write), a
 * short write (a full filesystem), garbage and over-long lines,
 * duplicates.  Then the store's own checks (a planted symlink, hard link
 * or another user's .rdmafs) and running out of descriptors.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "as-user.h"
#include "scratch-test-util.h"
#include "core/pinindex.h"

#define NOBODY 65534
#define MAXH 64

static char root[PATH_MAX];
static int rootfd = -1;

static void setup(void)
{
	scratch_make(root, "pinindex");
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(rootfd, 0);
}

static void teardown(void)
{
	close(rootfd);
	ck_assert_int_eq(scratch_remove(root), 0);
}

/* A handle of @n bytes: @seed, @seed + 1, ... */
static struct file_handle *mkfh(int type, unsigned int n, unsigned char seed)
{
	struct file_handle *fh = malloc(sizeof(*fh) + n);
	unsigned int i;

	ck_assert_ptr_nonnull(fh);
	fh->handle_type = type;
	fh->handle_bytes = n;
	for (i = 0; i < n; i++)
		fh->f_handle[i] = (unsigned char)(seed + i);
	return fh;
}

static bool fh_eq(const struct file_handle *a, const struct file_handle *b)
{
	return a->handle_type == b->handle_type &&
	       a->handle_bytes == b->handle_bytes &&
	       memcmp(a->f_handle, b->f_handle, a->handle_bytes) == 0;
}

static const char *store(const char *name)
{
	static char p[PATH_MAX + 64];

	snprintf(p, sizeof(p), "%s/" PIDX_DIR "/%s", root, name);
	return p;
}

/* The whole text of @p (to free). */
static char *slurp(const char *p, size_t *len)
{
	FILE *f = fopen(p, "r");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	ck_assert_ptr_nonnull(f);
	do {
		if (n + 4096 + 1 > cap) {
			cap = 2 * cap + 8192;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
		r = fread(buf + n, 1, 4096, f);
		n += r;
	} while (r > 0);
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static char *read_log(size_t *len)
{
	return slurp(store("index"), len);
}

static size_t log_lines(void)
{
	char *s = read_log(NULL), *p;
	size_t n = 0;

	for (p = s; *p; p++)
		n += *p == '\n';
	free(s);
	return n;
}

static off_t log_size(void)
{
	struct stat st;

	ck_assert_int_eq(stat(store("index"), &st), 0);
	return st.st_size;
}

/* Writes @text to the log, replacing it or (@flags O_APPEND) after it. */
static void put_log(const char *text, int flags)
{
	int fd = open(store("index"), O_WRONLY | flags | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void xopen(struct pidx *x)
{
	ck_assert_int_eq(pidx_open(x, rootfd), 0);
}

static void reopen(struct pidx *x)
{
	pidx_close(x);
	xopen(x);
}

/* The item for (dev, ino) in a snapshot, or NULL. */
static const struct pidx_item *item(const struct pidx_item *it, ssize_t n,
				    uint64_t dev, uint64_t ino)
{
	ssize_t i;

	for (i = 0; i < n; i++)
		if (it[i].dev == dev && it[i].ino == ino)
			return &it[i];
	return NULL;
}

/* Asserts (dev, ino) is recorded with @fh and @hint (NULL: none). */
static void expect_entry(struct pidx *x, uint64_t dev, uint64_t ino,
			 const struct file_handle *fh, const char *hint)
{
	struct pidx_item *it;
	const struct pidx_item *e;
	ssize_t n = pidx_items(x, &it);

	ck_assert_int_ge(n, 0);
	ck_assert(pidx_has(x, dev, ino));
	e = item(it, n, dev, ino);
	ck_assert_msg(e, "(%llu, %llu) missing", (unsigned long long)dev,
		      (unsigned long long)ino);
	ck_assert(fh_eq(e->fh, fh));
	if (hint)
		ck_assert_str_eq(e->hint, hint);
	else
		ck_assert_ptr_null(e->hint);
	pidx_free_items(it, (size_t)n);
}

static ssize_t count(struct pidx *x)
{
	struct pidx_item *it;
	ssize_t n = pidx_items(x, &it);

	ck_assert_int_ge(n, 0);
	pidx_free_items(it, (size_t)n);
	return n;
}

/* ---- the set ---- */

START_TEST(test_open_creates_private_store)
{
	struct pidx x;
	struct stat st;
	struct pidx_item *it = NULL;

	xopen(&x);
	ck_assert_int_eq(stat(store(""), &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	ck_assert_int_eq(stat(store("index"), &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(st.st_size, 0);
	ck_assert(!pidx_any(&x));
	ck_assert(!pidx_has(&x, 1, 2));
	ck_assert_int_eq(pidx_items(&x, &it), 0);
	pidx_free_items(it, 0);
	pidx_close(&x);
}
END_TEST

START_TEST(test_add_has_del)
{
	struct file_handle *a = mkfh(1, 8, 0xf0), *b = mkfh(0x81, 20, 7);
	struct pidx x;
	char *log;

	xopen(&x);
	ck_assert_int_eq(pidx_add(&x, 1, 2, a, "a/b"), 0);
	ck_assert(pidx_any(&x));
	ck_assert(pidx_has(&x, 1, 2));
	ck_assert(!pidx_has(&x, 2, 1));
	ck_assert(!pidx_has(&x, 1, 3));
	expect_entry(&x, 1, 2, a, "a/b");
	/* The documented line: hex handle, hex path. */
	log = read_log(NULL);
	ck_assert_str_eq(log, "+ 1 2 1 f0f1f2f3f4f5f6f7 612f62\n");
	free(log);

	/* The same again writes nothing. */
	ck_assert_int_eq(pidx_add(&x, 1, 2, a, "a/b"), 0);
	ck_assert_uint_eq(log_lines(), 1);
	/* No handle: only a known inode's hint changes. */
	ck_assert_int_eq(pidx_add(&x, 5, 6, NULL, "x"), 0);
	ck_assert(!pidx_has(&x, 5, 6));
	ck_assert_uint_eq(log_lines(), 1);
	ck_assert_int_eq(pidx_add(&x, 1, 2, NULL, "c"), 0);
	expect_entry(&x, 1, 2, a, "c");
	/* No hint keeps the one known. */
	ck_assert_int_eq(pidx_add(&x, 1, 2, NULL, NULL), 0);
	expect_entry(&x, 1, 2, a, "c");
	ck_assert_uint_eq(log_lines(), 2);
	/* A new handle for the inode (its generation changed). */
	ck_assert_int_eq(pidx_add(&x, 1, 2, b, NULL), 0);
	expect_entry(&x, 1, 2, b, "c");

	ck_assert_int_eq(pidx_add(&x, 3, 4, a, NULL), 0);
	expect_entry(&x, 3, 4, a, NULL);
	ck_assert_int_eq(count(&x), 2);
	pidx_del(&x, 1, 2);
	ck_assert(!pidx_has(&x, 1, 2));
	ck_assert(pidx_any(&x));
	pidx_del(&x, 3, 4);
	ck_assert(!pidx_any(&x));
	ck_assert_int_eq(count(&x), 0);
	/* Deleting what is not there writes nothing. */
	ck_assert_uint_eq(log_lines(), 6);
	pidx_del(&x, 3, 4);
	pidx_del(&x, 9, 9);
	ck_assert_uint_eq(log_lines(), 6);
	log = read_log(NULL);
	ck_assert_ptr_nonnull(strstr(log, "\n+ 3 4 1 f0f1f2f3f4f5f6f7 -\n"));
	ck_assert_ptr_nonnull(strstr(log, "\n- 1 2\n- 3 4\n"));
	free(log);
	pidx_close(&x);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_persists_across_reopen)
{
	struct file_handle *fh[8];
	struct pidx x;
	int i;

	xopen(&x);
	for (i = 0; i < 8; i++) {
		fh[i] = mkfh(i, 4 + i, (unsigned char)(16 * i));
		ck_assert_int_eq(pidx_add(&x, 100, 200 + i, fh[i],
					  i % 2 ? "dir/f" : NULL),
				 0);
	}
	/* Extreme numbers, and the largest handle the kernel makes. */
	free(fh[7]);
	fh[7] = mkfh(-1, 128, 3);
	ck_assert_int_eq(pidx_add(&x, UINT64_MAX, UINT64_MAX, fh[7], "big"), 0);
	pidx_del(&x, 100, 203);
	pidx_del(&x, 100, 207);
	ck_assert_int_eq(pidx_add(&x, 100, 201, fh[1], "moved/f"), 0);
	reopen(&x);
	ck_assert_int_eq(count(&x), 7);
	ck_assert(!pidx_has(&x, 100, 203));
	ck_assert(!pidx_has(&x, 100, 207));
	expect_entry(&x, 100, 200, fh[0], NULL);
	expect_entry(&x, 100, 201, fh[1], "moved/f");
	expect_entry(&x, 100, 205, fh[5], "dir/f");
	expect_entry(&x, UINT64_MAX, UINT64_MAX, fh[7], "big");
	/* And once more, after a reopen that wrote nothing. */
	reopen(&x);
	ck_assert_int_eq(count(&x), 7);
	expect_entry(&x, 100, 206, fh[6], NULL);
	pidx_close(&x);
	for (i = 0; i < 8; i++)
		free(fh[i]);
}
END_TEST

START_TEST(test_odd_hints)
{
	static const char *const hints[] = {
		"with space",  "new\nline", "tab\there",   "\xff\xfe\x80",
		"back\\slash", "-",	    "+ 1 2 3 4 5", "%s%n",
	};
	struct file_handle *fh = mkfh(1, 8, 0);
	char *longest = malloc(PATH_MAX);
	struct pidx x;
	size_t i;

	ck_assert_ptr_nonnull(longest);
	memset(longest, 'p', PATH_MAX - 1);
	longest[PATH_MAX - 1] = '\0';
	xopen(&x);
	for (i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
		ck_assert_int_eq(pidx_add(&x, 7, i, fh, hints[i]), 0);
	ck_assert_int_eq(pidx_add(&x, 8, 1, fh, longest), 0);
	/* An empty hint is no hint. */
	ck_assert_int_eq(pidx_add(&x, 8, 2, fh, ""), 0);
	/* One line per entry, whatever the bytes. */
	ck_assert_uint_eq(log_lines(), i + 2);
	reopen(&x);
	for (i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
		expect_entry(&x, 7, i, fh, hints[i]);
	expect_entry(&x, 8, 1, fh, longest);
	expect_entry(&x, 8, 2, fh, NULL);
	pidx_close(&x);
	free(longest);
	free(fh);
}
END_TEST

START_TEST(test_many_entries)
{
	enum { N = 3000, FROM_LOG = 50000 };
	struct file_handle *fh = mkfh(1, 12, 1);
	struct pidx_item *it;
	struct pidx x;
	FILE *f;
	ssize_t n;
	size_t i;
	char hint[32];

	/* Through the API (each add synced), the table growing. */
	xopen(&x);
	for (i = 0; i < N; i++) {
		snprintf(hint, sizeof(hint), "d/%zu", i);
		fh->f_handle[0] = (unsigned char)i;
		ck_assert_int_eq(pidx_add(&x, i % 3, i, fh, hint), 0);
	}
	for (i = 0; i < N; i += 2)
		pidx_del(&x, i % 3, i);
	ck_assert_int_eq(count(&x), N / 2);
	for (i = 0; i < N; i++)
		ck_assert(pidx_has(&x, i % 3, i) == (i % 2 == 1));
	pidx_close(&x);

	/* A long log written by an earlier daemon. */
	f = fopen(store("index"), "w");
	ck_assert_ptr_nonnull(f);
	for (i = 0; i < FROM_LOG; i++)
		fprintf(f, "+ 9 %zu 1 %08zx %zx\n", i, i, i + 0x41);
	fclose(f);
	xopen(&x);
	n = pidx_items(&x, &it);
	ck_assert_int_eq(n, FROM_LOG);
	for (i = 0; i < FROM_LOG; i += 997) {
		const struct pidx_item *e = item(it, n, 9, i);

		ck_assert_ptr_nonnull(e);
		ck_assert_uint_eq(e->fh->handle_bytes, 4);
		ck_assert_uint_eq(e->fh->f_handle[3], i & 0xff);
		ck_assert_ptr_nonnull(e->hint);
	}
	pidx_free_items(it, (size_t)n);
	pidx_close(&x);
	free(fh);
}
END_TEST

/* ---- compaction ---- */

START_TEST(test_compacted_at_open)
{
	struct file_handle *fh = mkfh(1, 4, 9);
	struct pidx x;
	char *log;
	int i;

	xopen(&x);
	for (i = 0; i < 500; i++) {
		ck_assert_int_eq(pidx_add(&x, 1, 1000 + i, fh, "gone"), 0);
		pidx_del(&x, 1, 1000 + i);
	}
	ck_assert_int_eq(pidx_add(&x, 1, 1, fh, "one"), 0);
	ck_assert_int_eq(pidx_add(&x, 1, 2, fh, NULL), 0);
	ck_assert_int_eq(pidx_add(&x, 1, 3, fh, "x"), 0);
	ck_assert_int_eq(pidx_add(&x, 1, 3, fh, "three"), 0);
	ck_assert_uint_eq(log_lines(), 1004);
	reopen(&x);
	/* Rewritten to the live entries, nothing left over. */
	ck_assert_uint_eq(log_lines(), 3);
	ck_assert_int_eq(access(store("index.tmp"), F_OK), -1);
	log = read_log(NULL);
	ck_assert_ptr_null(strstr(log, "- "));
	ck_assert_ptr_nonnull(strstr(log, "+ 1 3 1 090a0b0c 7468726565\n"));
	free(log);
	ck_assert_int_eq(count(&x), 3);
	expect_entry(&x, 1, 1, fh, "one");
	expect_entry(&x, 1, 2, fh, NULL);
	expect_entry(&x, 1, 3, fh, "three");
	/* Appends go on after it, and survive the next open. */
	ck_assert_int_eq(pidx_add(&x, 1, 4, fh, NULL), 0);
	reopen(&x);
	ck_assert_int_eq(count(&x), 4);
	ck_assert_uint_eq(log_lines(), 4);
	pidx_close(&x);
	free(fh);
}
END_TEST

START_TEST(test_compacted_after_deletions)
{
	enum { N = 4300, KEEP = 10 };
	struct file_handle *fh = mkfh(1, 4, 0);
	struct pidx x;
	FILE *f;
	int i;

	ck_assert_int_eq(mkdir(store(""), 0700), 0);
	f = fopen(store("index"), "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fchmod(fileno(f), 0600), 0);
	for (i = 0; i < N; i++)
		fprintf(f, "+ 2 %d 1 00010203 -\n", i);
	fclose(f);
	xopen(&x);
	ck_assert_int_eq(count(&x), N);
	for (i = KEEP; i < N; i++)
		pidx_del(&x, 2, i);
	/* Compacted on the way: far fewer lines than were written. */
	ck_assert_uint_lt(log_lines(), N);
	/* And still appended to after the compaction. */
	ck_assert_int_eq(pidx_add(&x, 3, 3, fh, "new"), 0);
	reopen(&x);
	ck_assert_int_eq(count(&x), KEEP + 1);
	for (i = 0; i < KEEP; i++)
		expect_entry(&x, 2, i, fh, NULL);
	expect_entry(&x, 3, 3, fh, "new");
	pidx_close(&x);
	free(fh);
}
END_TEST

/* ---- a damaged log ---- */

/*
 * A crash in the middle of a write tears the last line: that entry was
 * never acknowledged and is dropped; the lines before it are kept, and
 * an entry added after the restart is kept at the next one, not glued
 * to the torn line and lost with it.
 */
START_TEST(test_torn_last_line)
{
	struct file_handle *a = mkfh(1, 8, 0x10), *b = mkfh(1, 8, 0x20);
	struct file_handle *c = mkfh(1, 8, 0x30);
	static const int cuts[] = { 1, 4, 7, 9, 20, 26, 29 };
	struct pidx x;
	off_t before;
	size_t i;

	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		xopen(&x);
		ck_assert_int_eq(pidx_add(&x, 1, 1, a, "a"), 0);
		before = log_size();
		ck_assert_int_eq(pidx_add(&x, 1, 2, b, "bb"), 0);
		pidx_close(&x);
		/* "+ 1 2 1 2021222324252627 6262\n": cut at cuts[i]. */
		ck_assert_int_eq(truncate(store("index"), before + cuts[i]), 0);
		xopen(&x);
		expect_entry(&x, 1, 1, a, "a");
		ck_assert_msg(!pidx_has(&x, 1, 2), "cut at %d", cuts[i]);
		ck_assert_int_eq(pidx_add(&x, 1, 3, c, "c"), 0);
		reopen(&x);
		expect_entry(&x, 1, 1, a, "a");
		expect_entry(&x, 1, 3, c, "c");
		ck_assert_msg(!pidx_has(&x, 1, 2), "cut at %d", cuts[i]);
		ck_assert_int_eq(count(&x), 2);
		pidx_close(&x);
		ck_assert_int_eq(unlink(store("index")), 0);
	}
	free(a);
	free(b);
	free(c);
}
END_TEST

/* Nothing before a well-formed line keeps it from being read. */
START_TEST(test_garbage_lines)
{
	struct file_handle *h12 = mkfh(1, 2, 1), *h34 = mkfh(1, 2, 3);
	struct file_handle *h2 = mkfh(2, 1, 2);
	struct pidx x;
	char *junk = malloc(20000);

	ck_assert_ptr_nonnull(junk);
	memset(junk, 'z', 19998);
	junk[19998] = '\n';
	junk[19999] = '\0';
	xopen(&x);
	pidx_close(&x);
	put_log("+ 5 6 1 0102 -\n"
		"garbage\n"
		"\n"
		"+ 1 2\n"
		"+ x y z w v\n"
		"- 9\n"
		"-\n"
		"+ 3 4 1 0102 6869\n"
		"+ 3 4 1 0102 6869\n"
		"+ 7 8 2 02 -\n"
		"- 7 8\n"
		"+ 7 8 2 02 -\n",
		O_TRUNC);
	/* A corrupt re-add of a recorded inode does not delete it. */
	put_log("+ 5 6 1 zz -\n+ 5 6 1 -\n", O_APPEND);
	/* A line longer than any the index writes, then good ones. */
	put_log(junk, O_APPEND);
	put_log("+ 11 12 1 0304 -\n", O_APPEND);
	xopen(&x);
	ck_assert_int_eq(count(&x), 4);
	expect_entry(&x, 5, 6, h12, NULL);
	expect_entry(&x, 3, 4, h12, "hi");
	expect_entry(&x, 7, 8, h2, NULL);
	expect_entry(&x, 11, 12, h34, NULL);
	pidx_close(&x);
	free(junk);
	free(h12);
	free(h34);
	free(h2);
}
END_TEST

/*
 * A short or failed write (a full filesystem; RLIMIT_FSIZE stands in
 * for it) reports an error; the entry is then not on the device, so
 * adding it again must write it (not answer "already there"), and the
 * part-line left behind must not swallow the next line.  In a child of
 * its own: Check's own files must not meet the limit.
 */
static int failing_appends(struct pidx *x, const struct file_handle *a,
			   const struct file_handle *b)
{
	struct rlimit old, lim;
	int err;

	signal(SIGXFSZ, SIG_IGN);
	CHILD_EXPECT(getrlimit(RLIMIT_FSIZE, &old) == 0);
	lim = old;
	lim.rlim_cur = (rlim_t)log_size() + 10;
	CHILD_EXPECT(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	err = pidx_add(x, 1, 2, b, "b");
	CHILD_EXPECT(err == -EIO);
	/* Nothing fits at all now: EFBIG. */
	lim.rlim_cur = (rlim_t)log_size();
	CHILD_EXPECT(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	err = pidx_add(x, 1, 2, b, "b");
	CHILD_EXPECT(err == -EFBIG);
	CHILD_EXPECT(setrlimit(RLIMIT_FSIZE, &old) == 0);
	/* Known in memory meanwhile (the listing may show it). */
	CHILD_EXPECT(pidx_has(x, 1, 2));
	/* The retry writes it. */
	CHILD_EXPECT(pidx_add(x, 1, 2, b, "b") == 0);
	CHILD_EXPECT(pidx_add(x, 1, 3, a, "c") == 0);
	return 0;
}

START_TEST(test_failed_append)
{
	struct file_handle *a = mkfh(1, 8, 1), *b = mkfh(1, 8, 2);
	struct pidx x;
	pid_t pid;
	int st;

	xopen(&x);
	ck_assert_int_eq(pidx_add(&x, 1, 1, a, "a"), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		st = failing_appends(&x, a, b);
		/* What the child had, freed: valgrind checks it too. */
		pidx_close(&x);
		free(a);
		free(b);
		_exit(st);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	pidx_close(&x);
	xopen(&x);
	expect_entry(&x, 1, 1, a, "a");
	expect_entry(&x, 1, 2, b, "b");
	expect_entry(&x, 1, 3, a, "c");
	ck_assert_int_eq(count(&x), 3);
	pidx_close(&x);
	free(a);
	free(b);
}
END_TEST

/* ---- the store's checks ---- */

START_TEST(test_planted_files_dropped)
{
	struct file_handle *fh = mkfh(1, 4, 4);
	char other[PATH_MAX + 16], *s;
	struct pidx x;
	FILE *f;

	xopen(&x);
	ck_assert_int_eq(pidx_add(&x, 1, 1, fh, NULL), 0);
	pidx_close(&x);

	/* A hard link to the log from elsewhere: the name goes. */
	snprintf(other, sizeof(other), "%s/other", root);
	ck_assert_int_eq(link(store("index"), other), 0);
	xopen(&x);
	ck_assert(!pidx_any(&x));
	ck_assert_int_eq(pidx_add(&x, 1, 2, fh, NULL), 0);
	pidx_close(&x);
	/* Their file kept what it had, and no line of ours since. */
	s = slurp(other, NULL);
	ck_assert_str_eq(s, "+ 1 1 1 04050607 -\n");
	free(s);
	ck_assert_int_eq(unlink(other), 0);

	/* A symlink in its place: removed, its target untouched. */
	f = fopen(other, "w");
	ck_assert_ptr_nonnull(f);
	fputs("theirs\n", f);
	fclose(f);
	ck_assert_int_eq(unlink(store("index")), 0);
	ck_assert_int_eq(symlink(other, store("index")), 0);
	xopen(&x);
	ck_assert(!pidx_any(&x));
	ck_assert_int_eq(pidx_add(&x, 1, 3, fh, NULL), 0);
	pidx_close(&x);
	s = slurp(other, NULL);
	ck_assert_str_eq(s, "theirs\n");
	free(s);

	/* One writable by others: not ours to trust. */
	ck_assert_int_eq(chmod(store("index"), 0622), 0);
	/* A leftover of a compaction: removed. */
	f = fopen(store("index.tmp"), "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	xopen(&x);
	ck_assert(!pidx_any(&x));
	ck_assert_int_eq(access(store("index.tmp"), F_OK), -1);
	pidx_close(&x);
	free(fh);
}
END_TEST

START_TEST(test_foreign_store_refused)
{
	struct file_handle *fh = mkfh(1, 4, 4);
	char target[PATH_MAX + 16], link[PATH_MAX + 16];
	struct pidx x;
	struct stat st;

	/* A symlink named .rdmafs: not followed, nothing made there. */
	snprintf(target, sizeof(target), "%s/elsewhere", root);
	ck_assert_int_eq(mkdir(target, 0777), 0);
	snprintf(link, sizeof(link), "%s/" PIDX_DIR, root);
	ck_assert_int_eq(symlink("elsewhere", link), 0);
	ck_assert_int_lt(pidx_open(&x, rootfd), 0);
	ck_assert(!pidx_any(&x));
	pidx_close(&x);
	/* Nothing was made where it points. */
	ck_assert_int_eq(rmdir(target), 0);
	ck_assert_int_eq(unlink(link), 0);

	if (geteuid() != 0) {
		fprintf(stderr, "skip part: chown to nobody needs root\n");
		free(fh);
		return;
	}
	/* Another user's .rdmafs, with their log in it: refused, kept. */
	xopen(&x);
	ck_assert_int_eq(pidx_add(&x, 1, 1, fh, NULL), 0);
	pidx_close(&x);
	ck_assert_int_eq(chown(store(""), NOBODY, NOBODY), 0);
	ck_assert_int_eq(pidx_open(&x, rootfd), -EPERM);
	ck_assert(!pidx_has(&x, 1, 1));
	pidx_close(&x);
	ck_assert_int_eq(stat(store("index"), &st), 0);
	ck_assert_int_gt(st.st_size, 0);
	free(fh);
}
END_TEST

/*
 * Out of descriptors at any point of pidx_open: it may fail, but must
 * not destroy the log, nor claim an add is on the device when it is not.
 */
START_TEST(test_out_of_descriptors)
{
	struct file_handle *fh = mkfh(1, 4, 4);
	struct pidx x;
	int extra, lowest, st;
	pid_t pid;

	xopen(&x);
	ck_assert_int_eq(pidx_add(&x, 1, 1, fh, "kept"), 0);
	pidx_close(&x);
	lowest = dup(0);
	ck_assert_int_ge(lowest, 0);
	close(lowest);
	for (extra = 0; extra < 6; extra++) {
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			struct rlimit r = { (rlim_t)(lowest + extra),
					    (rlim_t)(lowest + extra) };
			int fd;

			/* Nothing above the limit stays open. */
			for (fd = lowest; fd < 1024; fd++)
				if (fd != rootfd)
					close(fd);
			if (rootfd >= lowest + extra) {
				if (dup2(rootfd, lowest) < 0)
					_exit(10);
				rootfd = lowest;
			}
			if (setrlimit(RLIMIT_NOFILE, &r) < 0)
				_exit(11);
			/* 0 from pidx_add means "on the device". */
			st = pidx_open(&x, rootfd) == 0 &&
					     pidx_add(&x, 2, (uint64_t)extra,
						      fh, NULL) == 0
				     ? 0
				     : 1;
			pidx_close(&x);
			free(fh);
			_exit(st);
		}
		ck_assert_int_eq(waitpid(pid, &st, 0), pid);
		ck_assert(WIFEXITED(st));
		ck_assert_int_lt(WEXITSTATUS(st), 10);
		xopen(&x);
		expect_entry(&x, 1, 1, fh, "kept");
		ck_assert_msg(WEXITSTATUS(st) != 0 || pidx_has(&x, 2, extra),
			      "add reported done with %d spare fds but lost",
			      extra);
		pidx_close(&x);
	}
	free(fh);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pinindex");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	if (scratch_run_begin("pinindex") < 0) {
		perror("test-pinindex: scratch directory");
		return EXIT_FAILURE;
	}
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_open_creates_private_store);
	tcase_add_test(tc, test_add_has_del);
	tcase_add_test(tc, test_persists_across_reopen);
	tcase_add_test(tc, test_odd_hints);
	tcase_add_test(tc, test_many_entries);
	tcase_add_test(tc, test_compacted_at_open);
	tcase_add_test(tc, test_compacted_after_deletions);
	tcase_add_test(tc, test_torn_last_line);
	tcase_add_test(tc, test_garbage_lines);
	tcase_add_test(tc, test_failed_append);
	tcase_add_test(tc, test_planted_files_dropped);
	tcase_add_test(tc, test_foreign_store_refused);
	tcase_add_test(tc, test_out_of_descriptors);
	/* valgrind runs about 50 times slower */
	tcase_set_timeout(tc, 300);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	scratch_run_end();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
