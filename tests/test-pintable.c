// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for the pin table (lib/pintable.c): the entry life cycle,
 * limits and counters, then lock-free readers racing writers that move
 * pins and create and remove files.  Run under ASan and valgrind, the
 * race test is also the use-after-free test for RCU-deferred frees.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/pintable.h"

static struct pin mkpin(uint64_t off, uint64_t len, uint32_t owner,
			int32_t holder)
{
	return (struct pin){
		.off = off, .len = len, .owner = owner, .holder = holder
	};
}

static void add_pin(struct ptab *t, uint64_t dev, uint64_t ino, uint64_t off,
		    uint64_t len, uint32_t owner, int32_t holder)
{
	struct ptab_file *f = ptab_get_or_create(t, dev, ino);
	struct pin p = mkpin(off, len, owner, holder);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(ptab_pin_add(t, f, &p, NULL), 0);
	ptab_file_unlock(t, f);
}

static void check_stats(struct ptab *t, uint64_t pins, uint64_t files)
{
	struct ptab_stats st;

	ptab_get_stats(t, &st);
	ck_assert_uint_eq(st.pins, pins);
	ck_assert_uint_eq(st.files, files);
}

START_TEST(test_life_cycle)
{
	struct ptab *t = ptab_new(NULL);
	struct ptab_file *f, *g;
	struct pin p = mkpin(0, 10, 1000, 0), got;
	uint64_t dev, ino;

	ck_assert_ptr_nonnull(t);
	ck_assert(!ptab_has_overlap(t, 1, 1, 0, UINT64_MAX));
	check_stats(t, 0, 0);

	f = ptab_get_or_create(t, 1, 1);
	ck_assert_ptr_nonnull(f);
	ptab_file_inode(f, &dev, &ino);
	ck_assert_uint_eq(dev, 1);
	ck_assert_uint_eq(ino, 1);
	ck_assert_int_eq(ptab_pin_add(t, f, &p, NULL), 0);
	ptab_file_unlock(t, f);
	check_stats(t, 1, 1);

	ck_assert(ptab_has_overlap(t, 1, 1, 9, 1));
	ck_assert(!ptab_has_overlap(t, 1, 1, 10, 100));
	ck_assert(!ptab_has_overlap(t, 1, 2, 0, 100));
	ck_assert(!ptab_has_overlap(t, 2, 1, 0, 100));

	g = ptab_get_or_create(t, 1, 1);
	ck_assert_ptr_eq(f, g);
	ck_assert_uint_eq(pset_count(ptab_file_pins(g)), 1);
	ck_assert_int_eq(ptab_pin_remove_exact(t, g, &p, 0, &got), 0);
	ck_assert_uint_eq(got.off, 0);
	ck_assert_int_eq(ptab_pin_remove_exact(t, g, &p, 0, NULL), -ENODATA);
	/* Left empty: the entry goes. */
	ptab_file_unlock(t, g);
	check_stats(t, 0, 0);
	ck_assert(!ptab_has_overlap(t, 1, 1, 0, UINT64_MAX));
	ptab_read_lock();
	ck_assert_ptr_null(ptab_find(t, 1, 1));
	ptab_read_unlock();

	/* An entry created and let go without pins leaves nothing either. */
	f = ptab_get_or_create(t, 5, 5);
	ck_assert_ptr_nonnull(f);
	ptab_file_unlock(t, f);
	check_stats(t, 0, 0);
	ptab_free(t);
}
END_TEST

START_TEST(test_dead_entry_seen_by_reader)
{
	struct ptab *t = ptab_new(NULL);
	struct ptab_file *f;
	struct pin p = mkpin(0, 1, 0, 0);

	ck_assert_ptr_nonnull(t);
	add_pin(t, 9, 9, 0, 1, 0, 0);
	ptab_read_lock();
	f = ptab_find(t, 9, 9);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(ptab_file_lock(f), 0);
	ck_assert_int_eq(ptab_pin_remove_exact(t, f, &p, 0, NULL), 0);
	ptab_file_unlock(t, f);
	/* Still inside the read section: f is dead but not freed. */
	ck_assert_int_eq(ptab_file_lock(f), -ENOENT);
	ck_assert_ptr_null(ptab_find(t, 9, 9));
	ptab_read_unlock();

	/* A new entry for the same inode is a new object. */
	add_pin(t, 9, 9, 0, 1, 0, 0);
	ck_assert(ptab_has_overlap(t, 9, 9, 0, 1));
	check_stats(t, 1, 1);
	ptab_free(t);
}
END_TEST

START_TEST(test_limits)
{
	struct ptab_limits lim = { .pins_per_file = 2, .pins = 3 };
	struct ptab *t = ptab_new(&lim);
	struct ptab_file *f;
	struct pin p = mkpin(0, 1, 0, 0);

	ck_assert_ptr_nonnull(t);
	f = ptab_get_or_create(t, 1, 1);
	ck_assert_int_eq(ptab_pin_add(t, f, &p, NULL), 0);
	ck_assert_int_eq(ptab_pin_add(t, f, &p, NULL), 0);
	ck_assert_int_eq(ptab_pin_add(t, f, &p, NULL), -ENOSPC);
	ptab_file_unlock(t, f);
	check_stats(t, 2, 1);

	f = ptab_get_or_create(t, 1, 2);
	ck_assert_int_eq(ptab_pin_add(t, f, &p, NULL), 0);
	ck_assert_int_eq(ptab_pin_add(t, f, &p, NULL), -ENOSPC);
	ptab_file_unlock(t, f);
	check_stats(t, 3, 2);

	/* A file whose first pin fails is not left behind. */
	f = ptab_get_or_create(t, 1, 3);
	ck_assert_int_eq(ptab_pin_add(t, f, &p, NULL), -ENOSPC);
	ptab_file_unlock(t, f);
	check_stats(t, 3, 2);

	/* Invalid pins do not consume the table's budget. */
	f = ptab_get_or_create(t, 1, 2);
	ck_assert_int_eq(ptab_pin_remove_exact(t, f, &p, 0, NULL), 0);
	p.len = 0;
	ck_assert_int_eq(ptab_pin_add(t, f, &p, NULL), -EINVAL);
	p.len = 1;
	ck_assert_int_eq(ptab_pin_add(t, f, &p, NULL), 0);
	ptab_file_unlock(t, f);
	check_stats(t, 3, 2);
	ptab_free(t);
}
END_TEST

/* Stored pins load past every limit, count, and block new pins. */
START_TEST(test_load_ignores_limits)
{
	struct ptab_limits lim = { .pins_per_file = 2, .pins = 3 };
	struct ptab *t = ptab_new(&lim);
	struct ptab_file *f;
	struct pin p = mkpin(0, 1, 0, 0);
	int i;

	ck_assert_ptr_nonnull(t);
	f = ptab_get_or_create(t, 1, 1);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(ptab_pin_load(t, f, &p, NULL), 0);
	ck_assert_int_eq(ptab_pin_add(t, f, &p, NULL), -ENOSPC);
	ptab_file_unlock(t, f);
	check_stats(t, 5, 1);
	f = ptab_get_or_create(t, 1, 2);
	ck_assert_int_eq(ptab_pin_add(t, f, &p, NULL), -ENOSPC);
	ptab_file_unlock(t, f);
	check_stats(t, 5, 1);
	/* Removing down below the limits makes room again. */
	f = ptab_get_or_create(t, 1, 1);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(ptab_pin_remove_exact(t, f, &p, 0, NULL), 0);
	ck_assert_int_eq(ptab_pin_add(t, f, &p, NULL), -ENOSPC);
	ptab_file_unlock(t, f);
	f = ptab_get_or_create(t, 1, 2);
	ck_assert_int_eq(ptab_pin_add(t, f, &p, NULL), 0);
	ptab_file_unlock(t, f);
	check_stats(t, 3, 2);
	ptab_free(t);
}
END_TEST

static bool all_pins(const struct pin *p, void *arg)
{
	return true;
}

/*
 * The tag tells a file from a later one with the same inode number, and
 * goes with its entry.
 */
START_TEST(test_tag_and_publish)
{
	struct ptab_limits lim = { 0 };
	struct ptab *t = ptab_new(&lim);
	struct ptab_file *f;
	struct pin p = mkpin(0, 10, 0, 0);
	const char a[] = "handle-a", b[] = "handle-b";

	ck_assert_ptr_nonnull(t);
	f = ptab_get_or_create(t, 1, 2);
	ck_assert_ptr_nonnull(f);
	/* Unknown on either side: cannot tell, so not different. */
	ck_assert(!ptab_file_tag_differs(f, a, sizeof(a)));
	ck_assert_int_eq(ptab_file_set_tag(f, a, sizeof(a)), 0);
	ck_assert(!ptab_file_tag_differs(f, a, sizeof(a)));
	ck_assert(!ptab_file_tag_differs(f, NULL, 0));
	ck_assert(ptab_file_tag_differs(f, b, sizeof(b)));
	ck_assert(ptab_file_tag_differs(f, a, sizeof(a) - 1));
	ck_assert_int_eq(ptab_pin_add(t, f, &p, NULL), 0);
	ptab_file_publish(f);
	ck_assert_int_eq(ptab_file_set_tag(f, b, sizeof(b)), 0);
	ck_assert(!ptab_file_tag_differs(f, b, sizeof(b)));
	ptab_file_unlock(t, f);
	ck_assert(ptab_has_overlap(t, 1, 2, 0, 10));
	f = ptab_get_or_create(t, 1, 2);
	ck_assert(ptab_file_tag_differs(f, a, sizeof(a)));
	ck_assert_uint_eq(ptab_pin_remove_if(t, f, all_pins, NULL), 1);
	ptab_file_unlock(t, f);
	ptab_free(t);
}
END_TEST

START_TEST(test_per_user)
{
	struct ptab_limits lim = { .pins_per_user = 2, .pins = 6 };
	struct ptab *t = ptab_new(&lim);
	struct ptab_file *f;
	struct pin u = mkpin(0, 1, 42, 0), v = mkpin(0, 1, 43, 0);
	struct pin r = mkpin(0, 1, 0, 0);
	uint64_t id;

	ck_assert_ptr_nonnull(t);
	f = ptab_get_or_create(t, 1, 1);
	ck_assert_int_eq(ptab_pin_add(t, f, &u, NULL), 0);
	ck_assert_int_eq(ptab_pin_add(t, f, &u, &id), 0);
	ck_assert_int_eq(ptab_pin_add(t, f, &u, NULL), -ENOSPC);
	ck_assert_uint_eq(ptab_user_pins(t, 42), 2);
	/* Another user and root are not held back by uid 42. */
	ck_assert_int_eq(ptab_pin_add(t, f, &v, NULL), 0);
	ck_assert_int_eq(ptab_pin_add(t, f, &r, NULL), 0);
	ck_assert_int_eq(ptab_pin_add(t, f, &r, NULL), 0);
	ck_assert_int_eq(ptab_pin_add(t, f, &r, NULL), 0);
	/* Root is bounded by the whole table. */
	ck_assert_int_eq(ptab_pin_add(t, f, &r, NULL), -ENOSPC);
	/* Loaded pins count for their owner. */
	ck_assert_int_eq(ptab_pin_load(t, f, &v, NULL), 0);
	ck_assert_uint_eq(ptab_user_pins(t, 43), 2);
	ck_assert_int_eq(ptab_pin_remove_id(t, f, 0, id, NULL), 0);
	ck_assert_uint_eq(ptab_user_pins(t, 42), 1);
	ck_assert_uint_eq(ptab_pin_remove_if(t, f, all_pins, NULL), 6);
	ck_assert_uint_eq(ptab_user_pins(t, 42), 0);
	ck_assert_uint_eq(ptab_user_pins(t, 43), 0);
	ck_assert_uint_eq(ptab_user_pins(t, 0), 0);
	ptab_file_unlock(t, f);
	check_stats(t, 0, 0);
	ptab_free(t);
}
END_TEST

static int count_file(struct ptab *t, struct ptab_file *f, void *arg)
{
	uint64_t *n = arg;

	*n += pset_count(ptab_file_pins(f));
	return 0;
}

static int stop_early(struct ptab *t, struct ptab_file *f, void *arg)
{
	return ++*(int *)arg == 2 ? -EINTR : 0;
}

static bool owner_is_7(const struct pin *p, void *arg)
{
	return p->owner == 7;
}

static int drop_owner_7(struct ptab *t, struct ptab_file *f, void *arg)
{
	*(size_t *)arg += ptab_pin_remove_if(t, f, owner_is_7, NULL);
	return 0;
}

START_TEST(test_foreach_and_holders)
{
	struct ptab *t = ptab_new(NULL);
	uint64_t n = 0, ino;
	size_t dropped = 0;
	int calls = 0;

	ck_assert_ptr_nonnull(t);
	for (ino = 1; ino <= 100; ino++) {
		add_pin(t, 3, ino, 0, 4096, 0, 0);
		add_pin(t, 3, ino, 0, 4096, 0, 4242);
		if (ino % 10 == 0)
			add_pin(t, 3, ino, 8192, 1, 7, 4242);
	}
	check_stats(t, 210, 100);
	ck_assert_int_eq(ptab_foreach_file(t, count_file, &n), 0);
	ck_assert_uint_eq(n, 210);
	ck_assert_int_eq(ptab_foreach_file(t, stop_early, &calls), -EINTR);
	ck_assert_int_eq(calls, 2);

	ck_assert_uint_eq(ptab_remove_holder(t, 4242), 110);
	ck_assert_uint_eq(ptab_remove_holder(t, 4242), 0);
	ck_assert_uint_eq(ptab_remove_holder(t, 0), 0);
	check_stats(t, 100, 100);
	ck_assert(ptab_has_overlap(t, 3, 50, 0, 1));
	ck_assert(!ptab_has_overlap(t, 3, 50, 8192, 1));

	/* Emptying files from inside the walk removes them. */
	add_pin(t, 4, 1, 0, 1, 7, 0);
	add_pin(t, 4, 2, 0, 1, 7, 0);
	ck_assert_int_eq(ptab_foreach_file(t, drop_owner_7, &dropped), 0);
	ck_assert_uint_eq(dropped, 2);
	check_stats(t, 100, 100);
	ptab_free(t);
}
END_TEST

/*
 * The race.  Inode roles (dev 1):
 *   1  keeps a pin on [0, 1) throughout; a writer adds and removes others
 *   2  has exactly one pin at all times, moved by remove-then-add under
 *      one lock hold
 *   3  never pinned
 *   100..163  created with two pins and removed again, over and over
 */
#define CHURN_FIRST 100
#define CHURN_FILES 64
#define READERS 4

struct race {
	struct ptab *t;
	int writers_done; /* atomic */
	unsigned long errors; /* atomic; threads must not ck_assert */
	unsigned long reads; /* atomic */
	unsigned long live_seen; /* atomic */
	int iterations;
};

static void race_error(struct race *r)
{
	__atomic_add_fetch(&r->errors, 1, __ATOMIC_RELAXED);
}

static void *reader(void *arg)
{
	struct race *r = arg;
	unsigned long n = 0, live = 0;
	uint64_t i = 0;

	while (!__atomic_load_n(&r->writers_done, __ATOMIC_ACQUIRE)) {
		uint64_t ino = CHURN_FIRST + i++ % CHURN_FILES;
		struct ptab_file *f;

		if (!ptab_has_overlap(r->t, 1, 1, 0, 1))
			race_error(r);
		if (!ptab_has_overlap(r->t, 1, 2, 0, UINT64_MAX))
			race_error(r);
		if (ptab_has_overlap(r->t, 1, 3, 0, UINT64_MAX))
			race_error(r);
		/* Churned files: any answer, but never a torn one. */
		(void)ptab_has_overlap(r->t, 1, ino, 0, UINT64_MAX);
		ptab_read_lock();
		f = ptab_find(r->t, 1, ino);
		if (f && !ptab_file_lock(f)) {
			if (pset_count(ptab_file_pins(f)) != 2)
				race_error(r);
			ptab_file_unlock(r->t, f);
			live++;
		}
		ptab_read_unlock();
		n++;
	}
	__atomic_add_fetch(&r->reads, n, __ATOMIC_RELAXED);
	__atomic_add_fetch(&r->live_seen, live, __ATOMIC_RELAXED);
	return NULL;
}

/* Moves the single pin of inode 2 and toggles extra pins on inode 1. */
static void *mover(void *arg)
{
	struct race *r = arg;
	int i;

	for (i = 0; i < r->iterations; i++) {
		struct ptab_file *f = ptab_get_or_create(r->t, 1, 2);
		struct pin old = mkpin((uint64_t)i, 1, 0, 0);
		struct pin new = mkpin((uint64_t)i + 1, 1, 0, 0);

		if (!f)
			return race_error(r), NULL;
		if (ptab_pin_remove_exact(r->t, f, &old, 0, NULL) ||
		    ptab_pin_add(r->t, f, &new, NULL))
			race_error(r);
		ptab_file_unlock(r->t, f);

		f = ptab_get_or_create(r->t, 1, 1);
		if (!f)
			return race_error(r), NULL;
		new = mkpin(4096 + (uint64_t)(i % 8), 100, 1, 0);
		if (i % 16 < 8) {
			if (ptab_pin_add(r->t, f, &new, NULL))
				race_error(r);
		} else if (ptab_pin_remove_exact(r->t, f, &new, 0, NULL)) {
			race_error(r);
		}
		ptab_file_unlock(r->t, f);
	}
	return NULL;
}

static void *churner(void *arg)
{
	struct race *r = arg;
	int i;

	for (i = 0; i < r->iterations; i++) {
		uint64_t ino = CHURN_FIRST + (uint64_t)i % CHURN_FILES;
		struct ptab_file *f = ptab_get_or_create(r->t, 1, ino);
		struct pin a = mkpin(0, 4096, 0, 0);
		struct pin b = mkpin(1 << 20, 1, 0, 77);
		size_t n;

		if (!f)
			return race_error(r), NULL;
		n = pset_count(ptab_file_pins(f));
		if (n == 0) {
			if (ptab_pin_add(r->t, f, &a, NULL) ||
			    ptab_pin_add(r->t, f, &b, NULL))
				race_error(r);
		} else if (n != 2 ||
			   ptab_pin_remove_exact(r->t, f, &a, 0, NULL) ||
			   ptab_pin_remove_exact(r->t, f, &b, 0, NULL)) {
			race_error(r);
		}
		ptab_file_unlock(r->t, f);
	}
	return NULL;
}

START_TEST(test_concurrent_readers_and_writers)
{
	/* A multiple of 2 * CHURN_FILES and of 16: every file ends empty. */
	struct race r = { .iterations = 20480 };
	pthread_t rd[READERS], mv, ch;
	int i;

	r.t = ptab_new(NULL);
	ck_assert_ptr_nonnull(r.t);
	add_pin(r.t, 1, 1, 0, 1, 0, 0);
	add_pin(r.t, 1, 2, 0, 1, 0, 0);

	for (i = 0; i < READERS; i++)
		ck_assert_int_eq(pthread_create(&rd[i], NULL, reader, &r), 0);
	ck_assert_int_eq(pthread_create(&mv, NULL, mover, &r), 0);
	ck_assert_int_eq(pthread_create(&ch, NULL, churner, &r), 0);
	pthread_join(mv, NULL);
	pthread_join(ch, NULL);
	__atomic_store_n(&r.writers_done, 1, __ATOMIC_RELEASE);
	for (i = 0; i < READERS; i++)
		pthread_join(rd[i], NULL);

	ck_assert_uint_eq(r.errors, 0);
	ck_assert_uint_gt(r.reads, 0);
	/* Churned files end empty, extra pins on inode 1 are gone. */
	check_stats(r.t, 2, 2);
	ck_assert(ptab_has_overlap(r.t, 1, 2, (uint64_t)r.iterations, 1));
	ck_assert(!ptab_has_overlap(r.t, 1, 2, 0, (uint64_t)r.iterations));
	ptab_free(r.t);
}
END_TEST

static void *short_lived(void *arg)
{
	struct ptab *t = arg;

	/* Registers lazily; must unregister by itself when it returns. */
	return ptab_has_overlap(t, 1, 1, 0, 1) ? t : NULL;
}

START_TEST(test_thread_churn)
{
	struct ptab *t = ptab_new(NULL);
	struct pin p = mkpin(0, 1, 0, 0);
	struct ptab_file *f;
	int i;

	ck_assert_ptr_nonnull(t);
	add_pin(t, 1, 1, 0, 1, 0, 0);
	/* Worker threads come and go, as libfuse's do. */
	for (i = 0; i < 64; i++) {
		pthread_t th;
		void *ret;

		ck_assert_int_eq(pthread_create(&th, NULL, short_lived, t), 0);
		pthread_join(th, &ret);
		ck_assert_ptr_eq(ret, t);
	}
	/* Grace periods now must not wait for (or touch) exited readers. */
	f = ptab_get_or_create(t, 1, 1);
	ck_assert_int_eq(ptab_pin_remove_exact(t, f, &p, 0, NULL), 0);
	ptab_file_unlock(t, f);
	ck_assert_int_eq(ptab_thread_online(), 0);
	ptab_free(t);
	ptab_thread_offline();
	ptab_thread_offline();
}
END_TEST

static Suite *pintable_suite(void)
{
	Suite *s = suite_create("pintable");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_life_cycle);
	tcase_add_test(tc, test_dead_entry_seen_by_reader);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_load_ignores_limits);
	tcase_add_test(tc, test_per_user);
	tcase_add_test(tc, test_tag_and_publish);
	tcase_add_test(tc, test_foreach_and_holders);
	tcase_add_test(tc, test_concurrent_readers_and_writers);
	tcase_add_test(tc, test_thread_churn);
	tcase_set_timeout(tc, 600);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pintable_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
