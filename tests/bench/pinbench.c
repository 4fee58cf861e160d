// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pinbench: what pins cost at scale.  Times pin add/remove and overlap
 * lookups through the pin table with N pins in one file and with N
 * files of one pin each (N = 100000 unless given), and prints ns/op.
 *
 *   pinbench [N [THREADS]]
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/pintable.h"

static uint64_t rnd_state = 88172645463325252ULL;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void report(const char *what, uint64_t ns, uint64_t ops)
{
	printf("  %-44s %9.1f ns/op  (%llu ops)\n", what, (double)ns / ops,
	       (unsigned long long)ops);
}

/* A random order of 0..n-1, so that nothing is inserted sorted. */
static uint64_t *shuffled(uint64_t n)
{
	uint64_t *v = malloc(n * sizeof(*v)), i;

	if (!v) {
		perror("Couldn't allocate");
		exit(1);
	}
	for (i = 0; i < n; i++)
		v[i] = i;
	for (i = n - 1; i > 0; i--) {
		uint64_t j = rnd() % (i + 1), x = v[i];

		v[i] = v[j];
		v[j] = x;
	}
	return v;
}

/* Pin k of the one-file case: 4 KiB at slot k of 8 KiB, so gaps miss. */
static struct pin slot_pin(uint64_t k)
{
	return (struct pin){ .off = k * 8192, .len = 4096, .owner = 1000 };
}

static int count_pin(const struct pin *p, void *arg)
{
	++*(uint64_t *)arg;
	return 0;
}

static void one_file(uint64_t n)
{
	struct ptab *t = ptab_new(NULL);
	uint64_t *order = shuffled(n), i, t0, found = 0, hits = 0;
	struct ptab_file *f;
	struct pset raw;

	if (!t) {
		perror("Couldn't create the pin table");
		exit(1);
	}
	printf("one file, %llu pins:\n", (unsigned long long)n);

	t0 = now_ns();
	for (i = 0; i < n; i++) {
		struct pin p = slot_pin(order[i]);

		f = ptab_get_or_create(t, 1, 1);
		if (!f || ptab_pin_add(t, f, &p, NULL)) {
			fprintf(stderr, "Couldn't add pin %llu\n",
				(unsigned long long)i);
			exit(1);
		}
		ptab_file_unlock(t, f);
	}
	report("add (get_or_create + add + unlock)", now_ns() - t0, n);

	t0 = now_ns();
	for (i = 0; i < n; i++) {
		/* Even i inside a pin, odd i in the gap after it. */
		uint64_t k = order[i];
		uint64_t off = k * 8192 + (i & 1 ? 4096 : 0) + 100;

		hits += ptab_has_overlap(t, 1, 1, off, 1000);
	}
	report("has_overlap (half hit, half miss)", now_ns() - t0, n);
	if (hits != (n + 1) / 2)
		fprintf(stderr, "unexpected: %llu hits\n",
			(unsigned long long)hits);
	/* The same question again and again: the cost without cache misses. */
	t0 = now_ns();
	for (i = 0; i < n; i++)
		hits += ptab_has_overlap(t, 1, 1, 8192 * 77 + 100, 1000);
	report("has_overlap, same range (cache-hot)", now_ns() - t0, n);

	t0 = now_ns();
	for (i = 0; i < n; i++) {
		uint64_t off = (rnd() % n) * 8192;

		f = ptab_get_or_create(t, 1, 1);
		/* A 64 KiB window: 8 pins reported each time. */
		pset_overlaps(ptab_file_pins(f), off, 65536, count_pin, &found);
		ptab_file_unlock(t, f);
	}
	report("overlaps, 64 KiB window (lock + walk)", now_ns() - t0, n);

	t0 = now_ns();
	for (i = 0; i < n; i++) {
		struct pin p = slot_pin(order[n - 1 - i]);

		f = ptab_get_or_create(t, 1, 1);
		if (!f || ptab_pin_remove_exact(t, f, &p, 0, NULL)) {
			fprintf(stderr, "Couldn't remove pin %llu\n",
				(unsigned long long)i);
			exit(1);
		}
		ptab_file_unlock(t, f);
	}
	report("remove_exact (get + remove + unlock)", now_ns() - t0, n);

	/* The set alone, without table, lock or hash lookup. */
	pset_init(&raw, 0);
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		struct pin p = slot_pin(order[i]);

		pset_add(&raw, &p, NULL);
	}
	report("pset_add alone", now_ns() - t0, n);
	t0 = now_ns();
	for (i = 0; i < n; i++)
		hits += pset_any_overlap(&raw, (rnd() % n) * 8192 + 4096, 4096);
	report("pset_any_overlap alone (miss)", now_ns() - t0, n);
	t0 = now_ns();
	pset_remove_owner(&raw, 999);
	report("pset_remove_owner, no match (whole set)", now_ns() - t0, 1);
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		struct pin p = slot_pin(order[i]);

		pset_remove_exact(&raw, &p, 0, NULL);
	}
	report("pset_remove_exact alone", now_ns() - t0, n);
	pset_destroy(&raw);

	ptab_free(t);
	free(order);
}

struct lookers {
	struct ptab *t;
	uint64_t n;
	uint64_t hits;
};

static void *look(void *arg)
{
	struct lookers *l = arg;
	uint64_t i, hits = 0, x = (uint64_t)(uintptr_t)&i | 1;

	for (i = 0; i < l->n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		hits += ptab_has_overlap(l->t, 2, x % l->n, 0, 4096);
	}
	__atomic_add_fetch(&l->hits, hits, __ATOMIC_RELAXED);
	return NULL;
}

static void many_files(uint64_t n, int threads)
{
	struct ptab *t = ptab_new(NULL);
	uint64_t *order = shuffled(n), i, t0, hits = 0;
	struct lookers l = { .t = t, .n = n };
	pthread_t *th = calloc((size_t)threads, sizeof(*th));
	struct pin p = { .off = 0, .len = 4096, .owner = 1000 };
	struct ptab_stats st;
	struct ptab_file *f;
	int k;

	if (!t || !th) {
		perror("Couldn't create the pin table");
		exit(1);
	}
	printf("%llu files, one pin each:\n", (unsigned long long)n);

	t0 = now_ns();
	for (i = 0; i < n; i++) {
		f = ptab_get_or_create(t, 2, order[i]);
		if (!f || ptab_pin_add(t, f, &p, NULL)) {
			fprintf(stderr, "Couldn't pin file %llu\n",
				(unsigned long long)i);
			exit(1);
		}
		ptab_file_unlock(t, f);
	}
	report("add (create entry + add + unlock)", now_ns() - t0, n);

	t0 = now_ns();
	for (i = 0; i < n; i++)
		hits += ptab_has_overlap(t, 2, rnd() % n, 0, 4096);
	report("has_overlap, pinned file, hit", now_ns() - t0, n);
	t0 = now_ns();
	for (i = 0; i < n; i++)
		hits += ptab_has_overlap(t, 2, rnd() % n, 8192, 4096);
	report("has_overlap, pinned file, miss", now_ns() - t0, n);
	t0 = now_ns();
	for (i = 0; i < n; i++)
		hits += ptab_has_overlap(t, 3, rnd() % n, 0, 4096);
	report("has_overlap, file without pins (lock-free)", now_ns() - t0, n);
	t0 = now_ns();
	for (i = 0; i < n; i++)
		hits += ptab_has_overlap(t, 3, 77, 0, 4096);
	report("has_overlap, same file without pins (hot)", now_ns() - t0, n);
	if (hits != n)
		fprintf(stderr, "unexpected: %llu hits\n",
			(unsigned long long)hits);

	t0 = now_ns();
	for (k = 0; k < threads; k++)
		if (pthread_create(&th[k], NULL, look, &l)) {
			fprintf(stderr, "Couldn't start thread %d\n", k);
			exit(1);
		}
	for (k = 0; k < threads; k++)
		pthread_join(th[k], NULL);
	{
		char what[64];

		snprintf(what, sizeof(what),
			 "has_overlap, %d threads (wall/op)", threads);
		report(what, now_ns() - t0, n * (uint64_t)threads);
	}

	ptab_get_stats(t, &st);
	if (st.files != n || st.pins != n)
		fprintf(stderr, "unexpected: %llu files, %llu pins\n",
			(unsigned long long)st.files,
			(unsigned long long)st.pins);

	t0 = now_ns();
	for (i = 0; i < n; i++) {
		f = ptab_get_or_create(t, 2, order[i]);
		if (!f || ptab_pin_remove_exact(t, f, &p, 0, NULL)) {
			fprintf(stderr, "Couldn't unpin file %llu\n",
				(unsigned long long)i);
			exit(1);
		}
		ptab_file_unlock(t, f);
	}
	report("remove (remove + unlock + entry freed)", now_ns() - t0, n);

	t0 = now_ns();
	ptab_free(t);
	report("ptab_free (waits for deferred frees)", now_ns() - t0, 1);
	free(order);
	free(th);
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 100000;
	int threads = argc > 2 ? atoi(argv[2]) : 4;

	if (n < 2 || threads < 1) {
		fprintf(stderr, "usage: %s [N [THREADS]]\n", argv[0]);
		return 2;
	}
	one_file(n);
	many_files(n, threads);
	return 0;
}
