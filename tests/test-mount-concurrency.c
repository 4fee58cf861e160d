// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Many threads at once through one mount.
 *
 * Each worker thread does, for a few seconds, a random mix of:
 *  - I/O on files only it uses, which it also renames between
 *    directories; their content must end as it wrote them;
 *  - I/O on its own byte range (a stripe) of files every thread writes;
 *    stripes are not page-aligned, so neighbours share pages and any lost
 *    update in a read-modify-write shows;
 *  - creates, unlinks, hard links, mkdir/rmdir and renames of a small set
 *    of names that every thread uses in every directory, so the same names
 *    are renamed across directories and over each other at once;
 *  - listings of those directories.
 * Only the errors that the races make legitimate (ENOENT, EEXIST) are
 * accepted; the daemon must survive and unmount cleanly.  It runs with the
 * default options, with writeback, with cache=always (cached listings and
 * negative entries) and with a tiny descriptor cache (inodes reopened by
 * handle all the time).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define NTHREADS 6
#define NDIRS 4
#define NNAMES 10 /* churned names n0.. and s0.. in every directory */
#define OWN_FILES 3
#define OWN_MAX (192u << 10)
#define OWN_IO (48u << 10)
#define NSHARED 2
#define STRIPE 10000u /* deliberately not a multiple of the page size */
#define RUN_MS 3000

struct own {
	int dir; /* which d<N> it is in now */
	unsigned char *data;
	size_t size;
};

struct worker {
	pthread_t th;
	int id;
	const struct mnt *m;
	uint64_t rng;
	struct own own[OWN_FILES];
	unsigned char stripe[NSHARED][STRIPE];
	int shared_fd[NSHARED];
	char err[512]; /* the first unexpected result */
	unsigned long ops, renames, creates, unlinks, links, listings, dirops;
};

static atomic_bool stop;
static bool exchange_ok; /* RENAME_EXCHANGE works on this backing */

static uint64_t rnd(struct worker *w)
{
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return w->rng * 2685821657736338717ull;
}

static unsigned int below(struct worker *w, unsigned int n)
{
	return (unsigned int)(rnd(w) % n);
}

static void report(struct worker *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void report(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	if (w->err[0])
		return;
	va_start(ap, fmt);
	vsnprintf(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
	/* One failure is enough: stop the others so it is not buried. */
	atomic_store(&stop, true);
}

/* True for a result the races make legitimate. */
static bool racy(int err, int ok1, int ok2)
{
	return err == ok1 || err == ok2;
}

static const char *own_path(struct worker *w, int k, int dir)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "d%d/t%dk%d", dir, w->id, k);
	return mnt_path(w->m, rel);
}

static const char *churn_path(struct worker *w, char kind)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "d%u/%c%u", below(w, NDIRS), kind,
		 below(w, NNAMES));
	return mnt_path(w->m, rel);
}

static void fill(struct worker *w, unsigned char *p, size_t n)
{
	uint64_t v = rnd(w);
	size_t i;

	for (i = 0; i < n; i++) {
		if ((i & 7) == 0)
			v = v * 6364136223846793005ull + 1442695040888963407ull;
		p[i] = (unsigned char)(v >> (8 * (i & 7)));
	}
}

/* Compares the whole of @fd with @data of @size bytes. */
static int same_content(int fd, const unsigned char *data, size_t size,
			off_t base, size_t *bad)
{
	unsigned char buf[16384];
	size_t off = 0, i;
	ssize_t n;

	while (off < size) {
		size_t want =
			size - off < sizeof(buf) ? size - off : sizeof(buf);

		n = pread(fd, buf, want, base + (off_t)off);
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		for (i = 0; i < (size_t)n; i++) {
			if (buf[i] != data[off + i]) {
				*bad = off + i;
				return 1;
			}
		}
		off += (size_t)n;
	}
	*bad = off;
	return off == size ? 0 : 1;
}

static void op_own_io(struct worker *w)
{
	int k = (int)below(w, OWN_FILES);
	struct own *o = &w->own[k];
	const char *path = own_path(w, k, o->dir);
	size_t len = 1 + below(w, OWN_IO), off = below(w, OWN_MAX - OWN_IO);
	int fd = open(path, O_RDWR), r;
	unsigned char buf[OWN_IO];
	struct stat st;
	size_t bad;

	if (fd < 0)
		return report(w, "open %s: %s", path, strerror(errno));
	switch (below(w, 4)) {
	case 0:
	case 1:
		fill(w, buf, len);
		if (pwrite(fd, buf, len, (off_t)off) != (ssize_t)len) {
			report(w, "pwrite %s %zu@%zu: %s", path, len, off,
			       strerror(errno));
			break;
		}
		memcpy(o->data + off, buf, len);
		if (off + len > o->size)
			o->size = off + len;
		break;
	case 2:
		len = below(w, OWN_MAX);
		if (ftruncate(fd, (off_t)len) < 0) {
			report(w, "ftruncate %s %zu: %s", path, len,
			       strerror(errno));
			break;
		}
		if (len < o->size)
			memset(o->data + len, 0, o->size - len);
		o->size = len;
		break;
	default:
		if (fstat(fd, &st) < 0) {
			report(w, "fstat %s: %s", path, strerror(errno));
			break;
		}
		if ((size_t)st.st_size != o->size) {
			report(w, "fstat %s: size %jd, expected %zu", path,
			       (intmax_t)st.st_size, o->size);
			break;
		}
		r = same_content(fd, o->data, o->size, 0, &bad);
		if (r)
			report(w, "%s: differs at byte %zu (%s)", path, bad,
			       r < 0 ? strerror(-r) : "content");
		break;
	}
	if (below(w, 16) == 0 && fsync(fd) < 0)
		report(w, "fsync %s: %s", path, strerror(errno));
	if (close(fd) < 0)
		report(w, "close %s: %s", path, strerror(errno));
}

static void op_own_rename(struct worker *w)
{
	int k = (int)below(w, OWN_FILES), to = (int)below(w, NDIRS);
	struct own *o = &w->own[k];
	char from[PATH_MAX];

	snprintf(from, sizeof(from), "%s", own_path(w, k, o->dir));
	if (rename(from, own_path(w, k, to)) < 0)
		return report(w, "rename %s -> %s: %s", from,
			      own_path(w, k, to), strerror(errno));
	o->dir = to;
	w->renames++;
}

static void op_stripe(struct worker *w)
{
	int s = (int)below(w, NSHARED), fd = w->shared_fd[s];
	size_t len = 1 + below(w, STRIPE), off = below(w, STRIPE - len + 1);
	off_t base = (off_t)w->id * STRIPE;
	unsigned char buf[STRIPE];
	size_t bad;
	int r;

	if (below(w, 2)) {
		fill(w, buf, len);
		if (pwrite(fd, buf, len, base + (off_t)off) != (ssize_t)len)
			return report(w, "pwrite shared%d: %s", s,
				      strerror(errno));
		memcpy(w->stripe[s] + off, buf, len);
		return;
	}
	r = same_content(fd, w->stripe[s], STRIPE, base, &bad);
	if (r)
		report(w, "shared%d: stripe %d differs at byte %zu (%s)", s,
		       w->id, bad, r < 0 ? strerror(-r) : "content");
}

static void op_create(struct worker *w)
{
	const char *path = churn_path(w, 'n');
	char note[64];
	int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644), n;

	if (fd < 0) {
		if (!racy(errno, EEXIST, ENOENT))
			report(w, "create %s: %s", path, strerror(errno));
		return;
	}
	n = snprintf(note, sizeof(note), "made by thread %d\n", w->id);
	if (write(fd, note, (size_t)n) != n)
		report(w, "write %s: %s", path, strerror(errno));
	if (close(fd) < 0)
		report(w, "close %s: %s", path, strerror(errno));
	w->creates++;
}

/* Opens a churned file that someone may unlink meanwhile: I/O must work. */
static void op_churn_io(struct worker *w)
{
	const char *path = churn_path(w, 'n');
	unsigned char buf[4096];
	int fd = open(path, O_RDWR);
	struct stat st;
	ssize_t n;

	if (fd < 0) {
		if (!racy(errno, ENOENT, ENOENT))
			report(w, "open %s: %s", path, strerror(errno));
		return;
	}
	fill(w, buf, sizeof(buf));
	if (pwrite(fd, buf, 1 + below(w, sizeof(buf)), below(w, 65536)) < 0)
		report(w, "pwrite %s: %s", path, strerror(errno));
	n = pread(fd, buf, sizeof(buf), 0);
	if (n < 0)
		report(w, "pread %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0)
		report(w, "fstat %s (open): %s", path, strerror(errno));
	if (close(fd) < 0)
		report(w, "close %s: %s", path, strerror(errno));
}

static void op_unlink(struct worker *w)
{
	const char *path = churn_path(w, 'n');

	if (unlink(path) == 0)
		w->unlinks++;
	else if (!racy(errno, ENOENT, ENOENT))
		report(w, "unlink %s: %s", path, strerror(errno));
}

static void op_stat(struct worker *w)
{
	const char *path = churn_path(w, below(w, 2) ? 'n' : 's');
	struct stat st;

	if (stat(path, &st) < 0 && !racy(errno, ENOENT, ENOENT))
		report(w, "stat %s: %s", path, strerror(errno));
}

static void op_link(struct worker *w)
{
	char from[PATH_MAX];
	const char *to;

	snprintf(from, sizeof(from), "%s", churn_path(w, 'n'));
	to = churn_path(w, 'n');
	if (link(from, to) == 0)
		w->links++;
	else if (!racy(errno, ENOENT, EEXIST))
		report(w, "link %s -> %s: %s", from, to, strerror(errno));
}

static void op_rename(struct worker *w, char kind)
{
	char from[PATH_MAX];
	const char *to;
	unsigned int flags = 0;
	int res;

	snprintf(from, sizeof(from), "%s", churn_path(w, kind));
	to = churn_path(w, kind);
	switch (below(w, 4)) {
	case 0:
		flags = RENAME_NOREPLACE;
		break;
	case 1:
		flags = exchange_ok ? RENAME_EXCHANGE : 0;
		break;
	}
	res = renameat2(AT_FDCWD, from, AT_FDCWD, to, flags);
	if (res == 0) {
		w->renames++;
		return;
	}
	/*
	 * A missing source or (no-replace) a present target are the races;
	 * a directory renamed over a directory another thread just filled
	 * cannot happen, as nothing is ever made inside s<N>.
	 */
	if (!racy(errno, ENOENT, flags == RENAME_NOREPLACE ? EEXIST : ENOENT))
		report(w, "rename%s %s -> %s: %s",
		       flags == RENAME_NOREPLACE  ? "(noreplace)"
		       : flags == RENAME_EXCHANGE ? "(exchange)"
						  : "",
		       from, to, strerror(errno));
}

static void op_dir(struct worker *w)
{
	const char *path = churn_path(w, 's');

	w->dirops++;
	if (below(w, 2)) {
		if (mkdir(path, 0755) < 0 && !racy(errno, EEXIST, ENOENT))
			report(w, "mkdir %s: %s", path, strerror(errno));
	} else {
		if (rmdir(path) < 0 && !racy(errno, ENOENT, ENOENT))
			report(w, "rmdir %s: %s", path, strerror(errno));
	}
}

static bool valid_name(const char *name, int *thread, int *k)
{
	unsigned int a, b;
	char c;

	*thread = -1;
	*k = -1;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return true;
	if (sscanf(name, "t%uk%u%c", &a, &b, &c) == 2 && a < NTHREADS &&
	    b < OWN_FILES) {
		*thread = (int)a;
		*k = (int)b;
		return true;
	}
	return (name[0] == 'n' || name[0] == 's') &&
	       sscanf(name + 1, "%u%c", &a, &c) == 1 && a < NNAMES;
}

/*
 * Lists a directory that others are changing.  Names come and go, but my
 * own files, which only I move, must be listed exactly once each.
 */
static void op_list(struct worker *w)
{
	int dir = (int)below(w, NDIRS), seen[OWN_FILES] = { 0 }, t, k;
	char rel[16];
	const char *path;
	struct dirent *de;
	DIR *d;

	snprintf(rel, sizeof(rel), "d%d", dir);
	path = mnt_path(w->m, rel);
	d = opendir(path);
	if (!d)
		return report(w, "opendir %s: %s", path, strerror(errno));
	w->listings++;
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de)
			break;
		if (!valid_name(de->d_name, &t, &k)) {
			report(w, "readdir %s: unexpected name '%s'", path,
			       de->d_name);
			break;
		}
		if (t == w->id)
			seen[k]++;
	}
	if (errno)
		report(w, "readdir %s: %s", path, strerror(errno));
	closedir(d);
	for (k = 0; k < OWN_FILES; k++) {
		int want = w->own[k].dir == dir;

		if (seen[k] != want)
			report(w,
			       "readdir %s: t%dk%d listed %d times, expected %d",
			       path, w->id, k, seen[k], want);
	}
}

static void *work(void *arg)
{
	struct worker *w = arg;

	while (!atomic_load(&stop)) {
		unsigned int op = below(w, 100);

		w->ops++;
		if (op < 22)
			op_own_io(w);
		else if (op < 27)
			op_own_rename(w);
		else if (op < 42)
			op_stripe(w);
		else if (op < 52)
			op_create(w);
		else if (op < 59)
			op_churn_io(w);
		else if (op < 66)
			op_unlink(w);
		else if (op < 71)
			op_stat(w);
		else if (op < 75)
			op_link(w);
		else if (op < 86)
			op_rename(w, 'n');
		else if (op < 89)
			op_rename(w, 's');
		else if (op < 93)
			op_dir(w);
		else
			op_list(w);
	}
	return NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* RENAME_EXCHANGE needs support from the backing filesystem. */
static bool probe_exchange(const struct mnt *m)
{
	int a = open(mnt_path(m, "xa"), O_CREAT | O_WRONLY, 0644);
	int b = open(mnt_path(m, "xb"), O_CREAT | O_WRONLY, 0644);
	bool ok;

	ck_assert(a >= 0 && b >= 0);
	close(a);
	close(b);
	ok = renameat2(AT_FDCWD, mnt_path(m, "xa"), AT_FDCWD, mnt_path(m, "xb"),
		       RENAME_EXCHANGE) == 0;
	if (!ok)
		ck_assert_msg(errno == EINVAL || errno == ENOSYS,
			      "RENAME_EXCHANGE: %s", strerror(errno));
	unlink(mnt_path(m, "xa"));
	unlink(mnt_path(m, "xb"));
	return ok;
}

static void check_final(struct mnt *m, struct worker *w, bool backing)
{
	const char *how = backing ? "backing" : "mount";
	char rel[64];
	const char *path;
	struct stat st;
	size_t bad;
	int k, s, fd, r;

	for (k = 0; k < OWN_FILES; k++) {
		struct own *o = &w->own[k];

		snprintf(rel, sizeof(rel), "d%d/t%dk%d", o->dir, w->id, k);
		path = backing ? bk_path(m, rel) : mnt_path(m, rel);
		fd = open(path, O_RDONLY);
		ck_assert_msg(fd >= 0, "%s %s: %s", how, rel, strerror(errno));
		ck_assert_int_eq(fstat(fd, &st), 0);
		ck_assert_msg((size_t)st.st_size == o->size,
			      "%s %s: size %jd, expected %zu", how, rel,
			      (intmax_t)st.st_size, o->size);
		r = same_content(fd, o->data, o->size, 0, &bad);
		ck_assert_msg(r == 0, "%s %s: differs at byte %zu", how, rel,
			      bad);
		close(fd);
	}
	for (s = 0; s < NSHARED; s++) {
		snprintf(rel, sizeof(rel), "shared%d", s);
		path = backing ? bk_path(m, rel) : mnt_path(m, rel);
		fd = open(path, O_RDONLY);
		ck_assert_msg(fd >= 0, "%s %s: %s", how, rel, strerror(errno));
		r = same_content(fd, w->stripe[s], STRIPE,
				 (off_t)w->id * STRIPE, &bad);
		ck_assert_msg(r == 0, "%s %s: stripe %d differs at byte %zu",
			      how, rel, w->id, bad);
		close(fd);
	}
}

static void run_mode(const char *opts)
{
	struct worker *w = calloc(NTHREADS, sizeof(*w));
	unsigned long ops = 0, renames = 0, creates = 0, unlinks = 0;
	unsigned long links = 0, listings = 0, dirops = 0;
	struct mnt m;
	char rel[64];
	int i, k, s, fd, st;

	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(mnt_setup(&m, opts, false), 0);
	atomic_store(&stop, false);
	exchange_ok = probe_exchange(&m);
	for (i = 0; i < NDIRS; i++) {
		snprintf(rel, sizeof(rel), "d%d", i);
		ck_assert_int_eq(mkdir(mnt_path(&m, rel), 0755), 0);
	}
	for (s = 0; s < NSHARED; s++) {
		snprintf(rel, sizeof(rel), "shared%d", s);
		fd = open(mnt_path(&m, rel), O_CREAT | O_RDWR, 0644);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(ftruncate(fd, NTHREADS * STRIPE), 0);
		close(fd);
	}
	for (i = 0; i < NTHREADS; i++) {
		w[i].id = i;
		w[i].m = &m;
		w[i].rng = 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1);
		for (k = 0; k < OWN_FILES; k++) {
			w[i].own[k].dir = k % NDIRS;
			w[i].own[k].data = calloc(1, OWN_MAX);
			ck_assert_ptr_nonnull(w[i].own[k].data);
			fd = open(own_path(&w[i], k, k % NDIRS),
				  O_CREAT | O_EXCL | O_WRONLY, 0644);
			ck_assert_int_ge(fd, 0);
			close(fd);
		}
		for (s = 0; s < NSHARED; s++) {
			snprintf(rel, sizeof(rel), "shared%d", s);
			/* Each thread its own open file, as separate users. */
			w[i].shared_fd[s] = open(mnt_path(&m, rel), O_RDWR);
			ck_assert_int_ge(w[i].shared_fd[s], 0);
		}
	}

	for (i = 0; i < NTHREADS; i++)
		ck_assert_int_eq(pthread_create(&w[i].th, NULL, work, &w[i]),
				 0);
	sleep_ms(RUN_MS);
	atomic_store(&stop, true);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(w[i].th, NULL);

	for (i = 0; i < NTHREADS; i++) {
		ck_assert_msg(!w[i].err[0], "-o %s: thread %d: %s",
			      opts ? opts : "(defaults)", i, w[i].err);
		for (s = 0; s < NSHARED; s++)
			ck_assert_int_eq(close(w[i].shared_fd[s]), 0);
		ops += w[i].ops;
		renames += w[i].renames;
		creates += w[i].creates;
		unlinks += w[i].unlinks;
		links += w[i].links;
		listings += w[i].listings;
		dirops += w[i].dirops;
	}
	fprintf(stderr,
		"concurrency -o %s: %lu ops: %lu renames, %lu creates, %lu unlinks, %lu links, %lu mkdir/rmdir, %lu listings%s\n",
		opts ? opts : "(defaults)", ops, renames, creates, unlinks,
		links, dirops, listings,
		exchange_ok ? "" : " (no RENAME_EXCHANGE here)");
	/* Enough work happened for the run to mean something. */
	ck_assert_uint_gt(ops, 1000);
	ck_assert_uint_gt(renames, 100);

	for (i = 0; i < NTHREADS; i++)
		check_final(&m, &w[i], false);
	/* The files are closed: even a writeback cache has flushed them. */
	for (i = 0; i < NTHREADS; i++)
		check_final(&m, &w[i], true);

	/* Still serving, then gone cleanly. */
	ck_assert_int_eq(waitpid(m.daemon, &st, WNOHANG), 0);
	ck_assert_int_eq(access(mnt_path(&m, "d0"), F_OK), 0);
	ck_assert_int_eq(mnt_teardown(&m), 0);
	for (i = 0; i < NTHREADS; i++)
		for (k = 0; k < OWN_FILES; k++)
			free(w[i].own[k].data);
	free(w);
}

START_TEST(test_concurrency_default)
{
	run_mode(NULL);
}
END_TEST

START_TEST(test_concurrency_writeback)
{
	run_mode("writeback");
}
END_TEST

START_TEST(test_concurrency_cache_always)
{
	run_mode("cache=always");
}
END_TEST

/* A tiny descriptor cache: inodes are reopened by handle all the time. */
START_TEST(test_concurrency_small_fd_cache)
{
	run_mode("fd_cache=8");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mount-concurrency");
	TCase *tc = tcase_create("concurrency");
	SRunner *sr;
	int failed;

	harness_require_root_fuse();
	tcase_add_test(tc, test_concurrency_default);
	tcase_add_test(tc, test_concurrency_writeback);
	tcase_add_test(tc, test_concurrency_cache_always);
	tcase_add_test(tc, test_concurrency_small_fd_cache);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
