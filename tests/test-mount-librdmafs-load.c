// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * librdmafs under load, against a real mount (issue 8): the mount-wide
 * listing with more pins than one 64 KiB page, threads pinning,
 * unpinning and listing at once through one shared mount handle, a pin
 * limit (ENOSPC, all or none), and why unpin goes through the mount
 * root: under policy=defer a truncate parked on a pinned file ends
 * within 100 ms of rdmafs_unpin() returning (500 ms when the machine is
 * overloaded, as in mount-mediate).
 *
 * Two mounts: "paging" (defaults, its own so that its 1200 pins count
 * nowhere else) and "limits" (max_pins_per_file=2, policy=defer).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "clock-test-util.h"
#include "librdmafs-test-util.h"

static void paging_setup(void)
{
	own_mount(NULL, "paging");
}

static void limits_setup(void)
{
	own_mount("max_pins_per_file=2,policy=defer,break_timeout=30",
		  "limits");
}

/* ================= paging ================= */

#define NFILES 4
#define PER_FILE 300

START_TEST(test_mount_pins_pages)
{
	struct rdmafs_range r[64];
	struct rdmafs_pin *p;
	struct rdmafs_mount *m;
	char name[160], *page;
	size_t n, i, hits[NFILES] = { 0 };
	ssize_t len;
	int f, j, k, fd;

	ck_assert_int_eq(mkdir(mp("pages"), 0755), 0);
	for (f = 0; f < NFILES; f++) {
		/* long names: fewer pins fill a 64 KiB page */
		snprintf(name, sizeof(name), "f%d_", f);
		while (strlen(name) < 120)
			strcat(name, "x");
		fd = make_file("pages", name, 4 * KIB, 0644);
		for (j = 0; j < PER_FILE; j += 60) {
			for (k = 0; k < 60; k++)
				r[k] = R((uint64_t)(j + k), 1);
			ck_assert_int_eq(rdmafs_pin(fd, r, 60, 0), 0);
		}
		close(fd);
	}
	/* more than one page: page 0 names the next */
	page = malloc(64 * KIB + 1);
	ck_assert_ptr_nonnull(page);
	len = getxattr(M.mountpoint, PINS, page, 64 * KIB);
	ck_assert_int_gt(len, 0);
	page[len] = '\0';
	ck_assert_ptr_nonnull(strstr(page, "#more " PINS "."));
	free(page);

	ck_assert_int_eq(rdmafs_mount_open(M.mountpoint, &m), 0);
	ck_assert_int_eq(rdmafs_mount_pins(m, &p, &n), 0);
	ck_assert_uint_eq(n, NFILES * PER_FILE);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(sscanf(p[i].path, "pages/f%d_", &f), 1);
		ck_assert_int_lt(f, NFILES);
		ck_assert_uint_eq(strlen(p[i].path), strlen("pages/") + 120);
		ck_assert_uint_lt(p[i].range.offset, PER_FILE);
		ck_assert_uint_eq(p[i].range.length, 1);
		hits[f]++;
	}
	for (f = 0; f < NFILES; f++)
		ck_assert_uint_eq(hits[f], PER_FILE);
	printf("mount-librdmafs: %zu pins read over several pages\n", n);
	rdmafs_pins_free(p, n);
	rdmafs_mount_close(m);
}
END_TEST

/* ================= threads ================= */

#define NTHREADS 6
#define ROUNDS 30

struct worker {
	struct rdmafs_mount *m;
	int fd, id, err;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	struct rdmafs_pin *p;
	size_t n;
	int i, ret;

	for (i = 0; i < ROUNDS && !w->err; i++) {
		struct rdmafs_range r[2] = { R((uint64_t)i * 4096, 4096),
					     R(256 * KIB, 4096) };

		ret = rdmafs_pin(w->fd, r, 2, 0);
		if (!ret)
			ret = rdmafs_file_pins(w->fd, &p, &n);
		if (!ret) {
			rdmafs_pins_free(p, n);
			ret = n == 2 ? 0 : -EPROTO;
		}
		if (!ret)
			ret = rdmafs_unpin(w->fd, &r[0], 0);
		if (!ret)
			ret = rdmafs_unpin(w->fd, NULL, 0);
		/* one in three reads the listing meanwhile */
		if (!ret && w->id % 3 == 0) {
			ret = rdmafs_mount_pins(w->m, &p, &n);
			if (!ret)
				rdmafs_pins_free(p, n);
		}
		if (ret)
			w->err = ret;
	}
	return NULL;
}

START_TEST(test_threads)
{
	struct worker w[NTHREADS];
	pthread_t t[NTHREADS];
	struct rdmafs_mount *m;
	struct rdmafs_status *st;
	char name[16];
	int64_t before;
	int i;

	ck_assert_int_eq(rdmafs_mount_open(M.mountpoint, &m), 0);
	ck_assert_int_eq(rdmafs_mount_status(m, &st), 0);
	before = st->pins;
	rdmafs_status_free(st);
	for (i = 0; i < NTHREADS; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		w[i] = (struct worker){ .m = m, .id = i };
		w[i].fd = make_file("threads", name, 512 * KIB, 0644);
	}
	for (i = 0; i < NTHREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], NULL);
		ck_assert_msg(w[i].err == 0, "thread %d: %s", i,
			      strerror(-w[i].err));
		close(w[i].fd);
	}
	ck_assert_int_eq(rdmafs_mount_status(m, &st), 0);
	ck_assert_int_eq(st->pins, before);
	rdmafs_status_free(st);
	rdmafs_mount_close(m);
}
END_TEST

/* ================= limits and defer ================= */

START_TEST(test_enospc)
{
	struct rdmafs_range r[3] = { R(0, 4096), R(4096, 4096), R(8192, 4096) };
	struct rdmafs_pin *p;
	size_t n;
	int fd = make_file("nospc", "f", 16 * KIB, 0644);

	ck_assert_int_eq(rdmafs_pin(fd, r, 3, 0), -ENOSPC);
	ck_assert_int_eq(rdmafs_file_pins(fd, &p, &n), 0);
	ck_assert_uint_eq(n, 0); /* all or none */
	ck_assert_int_eq(rdmafs_pin(fd, r, 2, 0), 0);
	ck_assert_int_eq(rdmafs_pin(fd, &r[2], 1, 0), -ENOSPC);
	/* a repeat adds nothing, so it passes the limit */
	ck_assert_int_eq(rdmafs_pin(fd, r, 1, 0), 0);
	ck_assert_int_eq(rdmafs_unpin(fd, NULL, 0), 0);
	close(fd);
}
END_TEST

struct parked {
	const char *path;
	int err;
	int64_t t1;
	bool done;
};

static void *do_truncate(void *arg)
{
	struct parked *t = arg;

	t->err = truncate(t->path, 0) < 0 ? errno : 0;
	t->t1 = now_ms();
	__atomic_store_n(&t->done, true, __ATOMIC_RELEASE);
	return NULL;
}

START_TEST(test_unpin_releases_parked_truncate)
{
	struct rdmafs_range r = R(0, 64 * KIB);
	struct parked t = { 0 };
	pthread_t th;
	int64_t tu, took, woke, lim = wake_limit();
	struct stat st;
	int fd = make_file("defer", "f", 256 * KIB, 0644);

	ck_assert_int_eq(rdmafs_pin(fd, &r, 1, 0), 0);
	t.path = mp("defer/f");
	ck_assert_int_eq(pthread_create(&th, NULL, do_truncate, &t), 0);
	sleep_ms(300);
	ck_assert_msg(!__atomic_load_n(&t.done, __ATOMIC_ACQUIRE),
		      "the truncate was not parked: %s", strerror(t.err));
	tu = now_ms();
	ck_assert_int_eq(rdmafs_unpin(fd, &r, 0), 0);
	woke = now_ms();
	took = woke - tu;
	pthread_join(th, NULL);
	ck_assert_int_eq(t.err, 0);
	printf("mount-librdmafs: rdmafs_unpin took %" PRId64
	       " ms; the truncate ended %" PRId64 " ms after it returned\n",
	       took, t.t1 - woke);
	ck_assert_msg(took < lim, "rdmafs_unpin took %" PRId64 " ms", took);
	ck_assert_msg(t.t1 - woke < lim,
		      "the truncate ended %" PRId64 " ms after the unpin",
		      t.t1 - woke);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	close(fd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mount-librdmafs-load");
	TCase *pg = tcase_create("paging");
	TCase *lim = tcase_create("limits");
	SRunner *sr;
	int failed;

	harness_require_root_fuse();
	umask(022);
	leftovers_init("libload");

	tcase_add_unchecked_fixture(pg, paging_setup, teardown);
	/* threads first: their listing is one page, read at once */
	tcase_add_test(pg, test_threads);
	tcase_add_test(pg, test_mount_pins_pages);
	tcase_set_timeout(pg, 120);
	suite_add_tcase(s, pg);

	tcase_add_unchecked_fixture(lim, limits_setup, teardown);
	tcase_add_test(lim, test_enospc);
	tcase_add_test(lim, test_unpin_releases_parked_truncate);
	tcase_set_timeout(lim, 60);
	suite_add_tcase(s, lim);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	harness_cleanup_leftovers(leftovers);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
