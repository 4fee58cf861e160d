// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for the per-file pin set (lib/pinset.c): edge cases, then a
 * long run of random operations checked step by step against a plain
 * array that answers every question by brute force.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/pinset.h"

static struct pin mkpin(uint64_t off, uint64_t len, uint32_t owner,
			int32_t holder)
{
	return (struct pin){ .off = off,
			     .len = len,
			     .owner = owner,
			     .holder = holder,
			     .since_ns = 1 };
}

static struct pin mkall(uint32_t owner, int32_t holder)
{
	return (struct pin){ .all = true, .owner = owner, .holder = holder };
}

/* Collects the ids a walk reports, in order. */
struct ids {
	uint64_t v[64];
	size_t n;
};

static int collect(const struct pin *p, void *arg)
{
	struct ids *ids = arg;

	ck_assert_uint_lt(ids->n, 64);
	ids->v[ids->n++] = p->id;
	return 0;
}

static struct ids overlaps(const struct pset *s, uint64_t off, uint64_t len)
{
	struct ids ids = { .n = 0 };

	ck_assert_int_eq(pset_overlaps(s, off, len, collect, &ids), 0);
	return ids;
}

START_TEST(test_empty)
{
	struct pset s;

	pset_init(&s, 0);
	ck_assert_uint_eq(pset_count(&s), 0);
	ck_assert(!pset_any_overlap(&s, 0, UINT64_MAX));
	ck_assert_uint_eq(overlaps(&s, 0, UINT64_MAX).n, 0);
	ck_assert_int_eq(pset_verify(&s), 0);
	pset_destroy(&s);
}
END_TEST

START_TEST(test_identical_ranges_two_owners)
{
	struct pset s;
	struct pin a = mkpin(4096, 4096, 1000, 0);
	struct pin b = mkpin(4096, 4096, 1001, 0);
	struct pin got;
	uint64_t ida, idb;
	struct ids ids;

	pset_init(&s, 0);
	ck_assert_int_eq(pset_add(&s, &a, &ida), 0);
	ck_assert_int_eq(pset_add(&s, &b, &idb), 0);
	ck_assert_uint_ne(ida, idb);
	ids = overlaps(&s, 8191, 1);
	ck_assert_uint_eq(ids.n, 2);
	ck_assert_uint_eq(ids.v[0], ida);
	ck_assert_uint_eq(ids.v[1], idb);
	ck_assert(!pset_any_overlap(&s, 8192, 100));
	ck_assert(!pset_any_overlap(&s, 0, 4096));

	/* Each owner removes its own; the other's stays. */
	ck_assert_int_eq(pset_remove_exact(&s, &b, 0, &got), 0);
	ck_assert_uint_eq(got.id, idb);
	ck_assert_uint_eq(got.owner, 1001);
	ck_assert_int_eq(pset_remove_exact(&s, &b, 0, NULL), -ENODATA);
	ck_assert(pset_any_overlap(&s, 4096, 1));
	/* Wrong holder, then any holder. */
	a.holder = 77;
	ck_assert_int_eq(pset_remove_exact(&s, &a, 0, NULL), -ENODATA);
	ck_assert_int_eq(pset_remove_exact(&s, &a, PSET_ANY_HOLDER, NULL), 0);
	ck_assert_uint_eq(pset_count(&s), 0);
	pset_destroy(&s);
}
END_TEST

START_TEST(test_same_pin_twice_removes_oldest)
{
	struct pset s;
	struct pin p = mkpin(0, 10, 5, 0), got;
	uint64_t id1, id2;

	pset_init(&s, 0);
	ck_assert_int_eq(pset_add(&s, &p, &id1), 0);
	ck_assert_int_eq(pset_add(&s, &p, &id2), 0);
	ck_assert_int_eq(pset_remove_exact(&s, &p, 0, &got), 0);
	ck_assert_uint_eq(got.id, id1);
	ck_assert_int_eq(pset_remove_exact(&s, &p, 0, &got), 0);
	ck_assert_uint_eq(got.id, id2);
	ck_assert_int_eq(pset_remove_exact(&s, &p, 0, &got), -ENODATA);
	pset_destroy(&s);
}
END_TEST

START_TEST(test_all_pins)
{
	struct pset s;
	struct pin all = mkall(0, 0), r = mkpin(100, 1, 0, 0), got;
	uint64_t id;

	pset_init(&s, 0);
	/* Whatever off/len say, an all pin is stored as off = len = 0. */
	all.off = 1234;
	all.len = 0;
	ck_assert_int_eq(pset_add(&s, &all, &id), 0);
	ck_assert(pset_any_overlap(&s, 0, 1));
	ck_assert(pset_any_overlap(&s, UINT64_MAX - 1, 1));
	ck_assert(pset_any_overlap(&s, 1ULL << 62, UINT64_MAX));
	ck_assert(!pset_any_overlap(&s, 5, 0));
	ck_assert_uint_eq(overlaps(&s, 7, 1).n, 1);

	/* A range key does not match the all pin, nor the reverse. */
	ck_assert_int_eq(pset_add(&s, &r, NULL), 0);
	r.off = 0;
	r.len = 0;
	ck_assert_int_eq(pset_remove_exact(&s, &r, PSET_ANY_OWNER, NULL),
			 -ENODATA);
	ck_assert_int_eq(pset_remove_exact(&s, &all, 0, &got), 0);
	ck_assert(got.all);
	ck_assert_uint_eq(got.off, 0);
	ck_assert_uint_eq(got.id, id);
	ck_assert_int_eq(pset_remove_exact(&s, &all, 0, NULL), -ENODATA);
	ck_assert(!pset_any_overlap(&s, 0, 100));
	ck_assert(pset_any_overlap(&s, 0, 101));
	pset_destroy(&s);
}
END_TEST

START_TEST(test_zero_size_file)
{
	/* A zero-size file can only carry all pins; they still guard it. */
	struct pset s;
	struct pin bad = mkpin(0, 0, 0, 0), all = mkall(3, 0);

	pset_init(&s, 0);
	ck_assert_int_eq(pset_add(&s, &bad, NULL), -EINVAL);
	ck_assert_int_eq(pset_add(&s, &all, NULL), 0);
	/* unlink asks about the whole file, truncate-to-0 about nothing. */
	ck_assert(pset_any_overlap(&s, 0, UINT64_MAX));
	ck_assert(!pset_any_overlap(&s, 0, 0));
	pset_destroy(&s);
}
END_TEST

START_TEST(test_uint64_limits)
{
	struct pset s;
	struct pin top = mkpin(UINT64_MAX - 1, 1, 0, 0);
	struct pin whole = mkpin(0, UINT64_MAX, 1, 0);
	struct pin over = mkpin(UINT64_MAX, 1, 0, 0);
	struct pin over2 = mkpin(2, UINT64_MAX - 1, 0, 0);
	uint64_t idt, idw;
	struct ids ids;

	pset_init(&s, 0);
	ck_assert_int_eq(pset_add(&s, &over, NULL), -EINVAL);
	ck_assert_int_eq(pset_add(&s, &over2, NULL), -EINVAL);
	ck_assert_int_eq(pset_add(&s, &top, &idt), 0);
	ck_assert(pset_any_overlap(&s, UINT64_MAX - 1, 1));
	ck_assert(pset_any_overlap(&s, UINT64_MAX - 1, UINT64_MAX));
	ck_assert(!pset_any_overlap(&s, UINT64_MAX, UINT64_MAX));
	ck_assert(!pset_any_overlap(&s, 0, UINT64_MAX - 1));
	ck_assert(pset_any_overlap(&s, 0, UINT64_MAX));
	ck_assert_int_eq(pset_add(&s, &whole, &idw), 0);
	ids = overlaps(&s, UINT64_MAX - 2, 2);
	ck_assert_uint_eq(ids.n, 2);
	ck_assert_uint_eq(ids.v[0], idw);
	ck_assert_uint_eq(ids.v[1], idt);
	ck_assert_int_eq(pset_remove_id(&s, UINT64_MAX - 1, idt, NULL), 0);
	ck_assert_int_eq(pset_remove_id(&s, UINT64_MAX - 1, idt, NULL),
			 -ENOENT);
	ck_assert_int_eq(pset_verify(&s), 0);
	pset_destroy(&s);
}
END_TEST

START_TEST(test_limit)
{
	struct pset s;
	struct pin p = mkpin(0, 1, 0, 0);

	pset_init(&s, 3);
	ck_assert_int_eq(pset_add(&s, &p, NULL), 0);
	ck_assert_int_eq(pset_add(&s, &p, NULL), 0);
	ck_assert_int_eq(pset_add(&s, &p, NULL), 0);
	ck_assert_int_eq(pset_add(&s, &p, NULL), -ENOSPC);
	ck_assert_int_eq(pset_remove_exact(&s, &p, 0, NULL), 0);
	ck_assert_int_eq(pset_add(&s, &p, NULL), 0);
	ck_assert_uint_eq(pset_count(&s), 3);
	pset_destroy(&s);
	/* Destroyed sets are empty and usable. */
	ck_assert_uint_eq(pset_count(&s), 0);
	ck_assert_int_eq(pset_add(&s, &p, NULL), 0);
	pset_destroy(&s);
}
END_TEST

static int stop_at_third(const struct pin *p, void *arg)
{
	int *n = arg;

	return ++*n == 3 ? 42 : 0;
}

START_TEST(test_walk_order_and_stop)
{
	struct pset s;
	struct ids ids = { .n = 0 };
	uint64_t offs[] = { 50, 10, 30, 10, 20, 40, 0 }, i;
	int n = 0;

	pset_init(&s, 0);
	for (i = 0; i < 7; i++) {
		struct pin p = mkpin(offs[i], 5, 0, 0);

		ck_assert_int_eq(pset_add(&s, &p, NULL), 0);
	}
	ck_assert_int_eq(pset_foreach(&s, collect, &ids), 0);
	/* ids are 1..7 in add order; sorted by offset, then id. */
	ck_assert_uint_eq(ids.n, 7);
	ck_assert_uint_eq(ids.v[0], 7);
	ck_assert_uint_eq(ids.v[1], 2);
	ck_assert_uint_eq(ids.v[2], 4);
	ck_assert_uint_eq(ids.v[3], 5);
	ck_assert_uint_eq(ids.v[6], 1);
	ck_assert_int_eq(pset_foreach(&s, stop_at_third, &n), 42);
	n = 0;
	ck_assert_int_eq(pset_overlaps(&s, 0, 100, stop_at_third, &n), 42);
	ck_assert_int_eq(n, 3);
	pset_destroy(&s);
}
END_TEST

START_TEST(test_remove_owner_and_holder)
{
	struct pset s;
	int i;

	pset_init(&s, 0);
	for (i = 0; i < 1000; i++) {
		struct pin p =
			mkpin((uint64_t)i * 7 % 500, 3, (uint32_t)(i % 4),
			      i % 5 ? 0 : 900 + i % 3);

		ck_assert_int_eq(pset_add(&s, &p, NULL), 0);
	}
	ck_assert_uint_eq(pset_remove_owner(&s, 2), 250);
	ck_assert_int_eq(pset_verify(&s), 0);
	ck_assert_uint_eq(pset_remove_owner(&s, 2), 0);
	/* holders 900..902 each held every 15th of the 1000, owner 2 gone */
	ck_assert_uint_eq(pset_remove_holder(&s, 901) +
				  pset_remove_holder(&s, 900) +
				  pset_remove_holder(&s, 902),
			  150);
	ck_assert_uint_eq(pset_count(&s), 600);
	ck_assert_int_eq(pset_verify(&s), 0);
	ck_assert_uint_eq(pset_remove_owner(&s, 0) + pset_remove_owner(&s, 1) +
				  pset_remove_owner(&s, 3),
			  600);
	ck_assert_uint_eq(pset_count(&s), 0);
	ck_assert_int_eq(pset_verify(&s), 0);
	pset_destroy(&s);
}
END_TEST

/* The brute-force model: an array in insertion (= id) order. */
struct model {
	struct pin *v;
	size_t n, cap;
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

/* xorshift64*: a fixed, portable sequence, unlike rand(). */
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static uint64_t rnd_below(uint64_t n)
{
	return rnd() % n;
}

static bool model_overlaps(const struct pin *p, uint64_t off, uint64_t len)
{
	uint64_t end = len > UINT64_MAX - off ? UINT64_MAX : off + len;

	return len && p->off < end && pin_end(p) > off;
}

static bool model_matches(const struct pin *p, const struct pin *key,
			  unsigned int flags)
{
	if (p->all != key->all)
		return false;
	if (!p->all && (p->off != key->off || p->len != key->len))
		return false;
	if (!(flags & PSET_ANY_OWNER) && p->owner != key->owner)
		return false;
	if (!(flags & PSET_ANY_HOLDER) && p->holder != key->holder)
		return false;
	return true;
}

/* Field by field: memcmp() would compare padding too. */
static bool pin_equal(const struct pin *a, const struct pin *b)
{
	return a->off == b->off && a->len == b->len && a->all == b->all &&
	       a->owner == b->owner && a->holder == b->holder &&
	       a->since_ns == b->since_ns && a->id == b->id;
}

static void model_del(struct model *m, size_t i)
{
	memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof(m->v[0]));
	m->n--;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_key(const void *a, const void *b)
{
	const struct pin *x = a, *y = b;

	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

struct idvec {
	uint64_t *v;
	size_t n;
	uint64_t last_off; /* walks must come in (offset, id) order */
	uint64_t last_id;
};

static int collect_vec(const struct pin *p, void *arg)
{
	struct idvec *iv = arg;

	ck_assert(iv->n == 0 || p->off > iv->last_off ||
		  (p->off == iv->last_off && p->id > iv->last_id));
	iv->last_off = p->off;
	iv->last_id = p->id;
	iv->v[iv->n++] = p->id;
	return 0;
}

static struct pin random_pin(const struct model *m)
{
	struct pin p;
	uint64_t r = rnd_below(1000);

	/* Owners and holders from small sets, so that keys collide. */
	p = mkpin(0, 0, (uint32_t)rnd_below(6),
		  rnd_below(3) ? 0 : 100 + (int32_t)rnd_below(4));
	if (r < 10) {
		p.all = true;
	} else if (r < 20) {
		uint64_t k = 1 + rnd_below(1 << 20);

		p.off = UINT64_MAX - k;
		p.len = 1 + rnd_below(k);
	} else if (r < 60 && m->n) {
		/* The same range as a live pin, from whoever. */
		const struct pin *q = &m->v[rnd_below(m->n)];

		p.all = q->all;
		p.off = q->off;
		p.len = q->len;
	} else {
		p.off = rnd_below(1 << 24);
		p.len = 1 + (rnd_below(4) ? rnd_below(1 << 16)
					  : rnd_below(1 << 22));
	}
	return p;
}

static void random_query(uint64_t *off, uint64_t *len)
{
	uint64_t r = rnd_below(100);

	*off = rnd_below(1 << 24);
	*len = 1 + rnd_below(1 << 16);
	if (r < 3)
		*len = 0;
	else if (r < 6)
		*len = UINT64_MAX;
	else if (r < 9)
		*off = UINT64_MAX - rnd_below(1 << 21);
	else if (r < 12)
		*len = 1;
}

static void check_query(const struct pset *s, const struct model *m,
			uint64_t *want, uint64_t *got)
{
	struct idvec iv = { .v = got };
	uint64_t off, len;
	size_t i, nw = 0;

	random_query(&off, &len);
	for (i = 0; i < m->n; i++)
		if (model_overlaps(&m->v[i], off, len))
			want[nw++] = m->v[i].id;
	ck_assert_int_eq(pset_overlaps(s, off, len, collect_vec, &iv), 0);
	ck_assert_uint_eq(iv.n, nw);
	qsort(want, nw, sizeof(*want), cmp_u64);
	qsort(got, iv.n, sizeof(*got), cmp_u64);
	ck_assert(!memcmp(want, got, nw * sizeof(*want)));
	ck_assert(pset_any_overlap(s, off, len) == (nw > 0));
}

static void check_all(const struct pset *s, const struct model *m,
		      uint64_t *got)
{
	struct pin *sorted = malloc((m->n + 1) * sizeof(*sorted));
	struct idvec iv = { .v = got };
	size_t i;

	ck_assert_ptr_nonnull(sorted);
	memcpy(sorted, m->v, m->n * sizeof(*sorted));
	qsort(sorted, m->n, sizeof(*sorted), cmp_key);
	ck_assert_int_eq(pset_verify(s), 0);
	ck_assert_uint_eq(pset_count(s), m->n);
	ck_assert_int_eq(pset_foreach(s, collect_vec, &iv), 0);
	ck_assert_uint_eq(iv.n, m->n);
	for (i = 0; i < m->n; i++)
		ck_assert_uint_eq(got[i], sorted[i].id);
	free(sorted);
}

#define RANDOM_OPS 20000

START_TEST(test_random_against_model)
{
	struct model m = { .cap = RANDOM_OPS };
	struct pset s;
	uint64_t *want, *got, op;
	size_t i, peak = 0, queries = 0, hits = 0;

	m.v = malloc(m.cap * sizeof(*m.v));
	want = malloc(m.cap * sizeof(*want));
	got = malloc(m.cap * sizeof(*got));
	ck_assert(m.v && want && got);
	pset_init(&s, 0);

	for (op = 0; op < RANDOM_OPS; op++) {
		uint64_t r = rnd_below(1000);

		if (r < 450) {
			struct pin p = random_pin(&m);
			uint64_t id;

			ck_assert_int_eq(pset_add(&s, &p, &id), 0);
			if (p.all)
				p.off = p.len = 0;
			p.id = id;
			m.v[m.n++] = p;
		} else if (r < 650) {
			/* remove_exact: usually a live key, else a random one. */
			struct pin key = rnd_below(4) && m.n
						 ? m.v[rnd_below(m.n)]
						 : random_pin(&m);
			unsigned int flags = (unsigned int)rnd_below(4);
			struct pin removed;
			int err;

			if (rnd_below(2))
				key.owner = (uint32_t)rnd_below(6);
			err = pset_remove_exact(&s, &key, flags, &removed);
			for (i = 0; i < m.n; i++)
				if (model_matches(&m.v[i], &key, flags))
					break;
			if (i == m.n) {
				ck_assert_int_eq(err, -ENODATA);
			} else {
				ck_assert_int_eq(err, 0);
				ck_assert_uint_eq(removed.id, m.v[i].id);
				ck_assert(pin_equal(&removed, &m.v[i]));
				model_del(&m, i);
				hits++;
			}
		} else if (r < 700) {
			/* remove_id, sometimes of a pin already gone */
			uint64_t off, id;
			struct pin removed;

			if (m.n && rnd_below(4)) {
				i = rnd_below(m.n);
				off = m.v[i].off;
				id = m.v[i].id;
				ck_assert_int_eq(
					pset_remove_id(&s, off, id, &removed),
					0);
				ck_assert_uint_eq(removed.id, id);
				model_del(&m, i);
			} else {
				off = rnd_below(1 << 24);
				id = op + 1000000;
				ck_assert_int_eq(
					pset_remove_id(&s, off, id, NULL),
					-ENOENT);
			}
		} else if (r < 999) {
			check_query(&s, &m, want, got);
			queries++;
		} else {
			/* rare bulk removal, else the set would not grow */
			uint32_t owner = (uint32_t)rnd_below(6);
			int32_t holder = 100 + (int32_t)rnd_below(4);
			bool by_owner = rnd_below(2);
			size_t n = by_owner ? pset_remove_owner(&s, owner)
					    : pset_remove_holder(&s, holder);
			size_t k = 0;

			for (i = 0; i < m.n;) {
				if (by_owner ? m.v[i].owner == owner
					     : m.v[i].holder == holder) {
					model_del(&m, i);
					k++;
				} else {
					i++;
				}
			}
			ck_assert_uint_eq(n, k);
		}
		if (m.n > peak)
			peak = m.n;
		if (op % 1000 == 999)
			check_all(&s, &m, got);
	}
	check_all(&s, &m, got);
	/* The run must have exercised what it claims to. */
	ck_assert_uint_ge(peak, 2000);
	ck_assert_uint_ge(queries, 5000);
	ck_assert_uint_ge(hits, 500);
	pset_destroy(&s);
	free(m.v);
	free(want);
	free(got);
}
END_TEST

static Suite *pinset_suite(void)
{
	Suite *s = suite_create("pinset");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_identical_ranges_two_owners);
	tcase_add_test(tc, test_same_pin_twice_removes_oldest);
	tcase_add_test(tc, test_all_pins);
	tcase_add_test(tc, test_zero_size_file);
	tcase_add_test(tc, test_uint64_limits);
	tcase_add_test(tc, test_limit);
	tcase_add_test(tc, test_walk_order_and_stop);
	tcase_add_test(tc, test_remove_owner_and_holder);
	tcase_add_test(tc, test_random_against_model);
	/* valgrind runs the model about 50 times slower */
	tcase_set_timeout(tc, 600);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pinset_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
