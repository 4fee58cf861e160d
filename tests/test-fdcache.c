// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for the bounded descriptor cache (lib/fdcache.c). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/fdcache.h"

static int opens;

static int open_null(void *arg)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	__atomic_add_fetch(&opens, 1, __ATOMIC_RELAXED);
	return fd < 0 ? -errno : fd;
}

static int open_fail(void *arg)
{
	return -ESTALE;
}

static bool fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

START_TEST(test_init_rejects_zero)
{
	struct fdc c;

	ck_assert_int_eq(fdc_init(&c, 0), -EINVAL);
}
END_TEST

START_TEST(test_hit_after_miss)
{
	struct fdc c;
	struct fdc_entry e;
	struct fdc_stats st;
	int fd1, fd2;

	ck_assert_int_eq(fdc_init(&c, 4), 0);
	fdc_entry_init(&e);
	opens = 0;
	fd1 = fdc_get(&c, &e, open_null, NULL);
	ck_assert_int_ge(fd1, 0);
	fdc_put(&c, &e);
	fd2 = fdc_get(&c, &e, open_null, NULL);
	ck_assert_int_eq(fd1, fd2);
	fdc_put(&c, &e);
	ck_assert_int_eq(opens, 1);
	fdc_get_stats(&c, &st);
	ck_assert_uint_eq(st.hits, 1);
	ck_assert_uint_eq(st.misses, 1);
	ck_assert_uint_eq(st.open, 1);
	fdc_drop(&c, &e);
	ck_assert(!fd_is_open(fd1));
	fdc_destroy(&c);
}
END_TEST

START_TEST(test_evicts_least_recent_idle)
{
	struct fdc c;
	struct fdc_entry e[5];
	int fd[5], i;

	ck_assert_int_eq(fdc_init(&c, 3), 0);
	for (i = 0; i < 5; i++) {
		fdc_entry_init(&e[i]);
		fd[i] = fdc_get(&c, &e[i], open_null, NULL);
		ck_assert_int_ge(fd[i], 0);
		fdc_put(&c, &e[i]);
	}
	/* Entries 0 and 1 were the least recently used: closed. */
	ck_assert_int_eq(e[0].fd, -1);
	ck_assert_int_eq(e[1].fd, -1);
	for (i = 2; i < 5; i++)
		ck_assert_int_eq(e[i].fd, fd[i]);
	/* Touching 2 makes 3 the oldest. */
	ck_assert_int_eq(fdc_get(&c, &e[2], open_null, NULL), fd[2]);
	fdc_put(&c, &e[2]);
	ck_assert_int_ge(fdc_get(&c, &e[0], open_null, NULL), 0);
	fdc_put(&c, &e[0]);
	ck_assert_int_eq(e[3].fd, -1);
	ck_assert_int_eq(e[2].fd, fd[2]);
	for (i = 0; i < 5; i++)
		fdc_drop(&c, &e[i]);
	fdc_destroy(&c);
}
END_TEST

START_TEST(test_in_use_never_closed)
{
	struct fdc c;
	struct fdc_entry e[4];
	struct fdc_stats st;
	int fd[4], i;

	ck_assert_int_eq(fdc_init(&c, 1), 0);
	for (i = 0; i < 4; i++) {
		fdc_entry_init(&e[i]);
		fd[i] = fdc_get(&c, &e[i], open_null, NULL);
	}
	/* Over the cap while in use: all still open. */
	for (i = 0; i < 4; i++)
		ck_assert(fd_is_open(fd[i]));
	fdc_get_stats(&c, &st);
	ck_assert_uint_eq(st.open, 4);
	for (i = 0; i < 4; i++)
		fdc_put(&c, &e[i]);
	fdc_get_stats(&c, &st);
	ck_assert_uint_eq(st.open, 1);
	ck_assert_int_eq(e[3].fd, fd[3]);
	fdc_destroy(&c);
	ck_assert(!fd_is_open(fd[3]));
}
END_TEST

START_TEST(test_open_error_passed_through)
{
	struct fdc c;
	struct fdc_entry e;

	ck_assert_int_eq(fdc_init(&c, 2), 0);
	fdc_entry_init(&e);
	ck_assert_int_eq(fdc_get(&c, &e, open_fail, NULL), -ESTALE);
	ck_assert_int_eq(e.fd, -1);
	fdc_destroy(&c);
}
END_TEST

START_TEST(test_adopt_and_shrink)
{
	struct fdc c;
	struct fdc_entry e[3];
	int i, fd;

	ck_assert_int_eq(fdc_init(&c, 8), 0);
	for (i = 0; i < 3; i++) {
		fdc_entry_init(&e[i]);
		fd = open("/dev/null", O_RDONLY);
		fdc_adopt(&c, &e[i], fd);
		ck_assert_int_eq(e[i].fd, fd);
	}
	ck_assert_uint_eq(fdc_shrink(&c, 1), 2);
	ck_assert_int_eq(e[0].fd, -1);
	ck_assert_int_eq(e[1].fd, -1);
	ck_assert_int_ge(e[2].fd, 0);
	fdc_destroy(&c);
}
END_TEST

/* When the process is out of descriptors the cache gives its idle ones. */
START_TEST(test_recovers_from_emfile)
{
	struct fdc c;
	struct fdc_entry e[8], last;
	int i, fd = 0, filler[4096], nfill = 0;
	struct rlimit rl, saved;

	ck_assert_int_eq(fdc_init(&c, 64), 0);
	for (i = 0; i < 8; i++) {
		fdc_entry_init(&e[i]);
		ck_assert_int_ge(fdc_get(&c, &e[i], open_null, NULL), 0);
		fdc_put(&c, &e[i]);
	}
	/* Exhaust the table (bounded: lower the soft limit first). */
	getrlimit(RLIMIT_NOFILE, &rl);
	saved = rl;
	rl.rlim_cur = 256;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	while (nfill < 4096) {
		fd = open("/dev/null", O_RDONLY);
		if (fd < 0)
			break;
		filler[nfill++] = fd;
		if (nfill == 4096)
			break;
	}
	ck_assert_int_lt(fd, 0);
	fdc_entry_init(&last);
	fd = fdc_get(&c, &last, open_null, NULL);
	ck_assert_int_ge(fd, 0);
	fdc_put(&c, &last);
	for (i = 0; i < nfill; i++)
		close(filler[i]);
	setrlimit(RLIMIT_NOFILE, &saved);
	fdc_drop(&c, &last);
	fdc_destroy(&c);
}
END_TEST

struct hammer {
	struct fdc *c;
	struct fdc_entry *e;
	int n;
	unsigned int seed;
};

static void *hammer_thread(void *arg)
{
	struct hammer *h = arg;
	int i;

	for (i = 0; i < 20000; i++) {
		struct fdc_entry *e = &h->e[rand_r(&h->seed) % h->n];
		int fd = fdc_get(h->c, e, open_null, NULL);

		if (fd < 0 || !fd_is_open(fd))
			return (void *)1;
		fdc_put(h->c, e);
	}
	return NULL;
}

START_TEST(test_concurrent_get_put)
{
	struct fdc c;
	struct fdc_entry e[64];
	struct hammer h[4];
	pthread_t t[4];
	struct fdc_stats st;
	void *res;
	int i;

	ck_assert_int_eq(fdc_init(&c, 16), 0);
	for (i = 0; i < 64; i++)
		fdc_entry_init(&e[i]);
	for (i = 0; i < 4; i++) {
		h[i] = (struct hammer){ &c, e, 64, (unsigned int)i + 1 };
		pthread_create(&t[i], NULL, hammer_thread, &h[i]);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], &res);
		ck_assert_ptr_null(res);
	}
	fdc_get_stats(&c, &st);
	ck_assert_uint_le(st.open, 16);
	for (i = 0; i < 64; i++)
		ck_assert_uint_eq(e[i].users, 0);
	for (i = 0; i < 64; i++)
		fdc_drop(&c, &e[i]);
	fdc_get_stats(&c, &st);
	ck_assert_uint_eq(st.open, 0);
	fdc_destroy(&c);
}
END_TEST

static Suite *fdcache_suite(void)
{
	Suite *s = suite_create("fdcache");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_init_rejects_zero);
	tcase_add_test(tc, test_hit_after_miss);
	tcase_add_test(tc, test_evicts_least_recent_idle);
	tcase_add_test(tc, test_in_use_never_closed);
	tcase_add_test(tc, test_open_error_passed_through);
	tcase_add_test(tc, test_adopt_and_shrink);
	tcase_add_test(tc, test_recovers_from_emfile);
	tcase_add_test(tc, test_concurrent_get_put);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(fdcache_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
