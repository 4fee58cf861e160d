// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for the on-disk pin record (lib/pinstore.c): the documented
 * layout, round trips of random sets, what encode leaves out (session
 * pins) and refuses (a short buffer), and every kind of damaged value,
 * which decode must reject as -EUCLEAN without reporting a single pin.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/pinset.h"
#include "core/pinstore.h"

#define MAXP 512
/* pstore_size() as a constant expression, for array sizes. */
#define SZ(n) (PSTORE_HDR + (n)*PSTORE_REC)

struct got {
	struct pin v[MAXP];
	size_t n;
};

static int collect(const struct pin *p, void *arg)
{
	struct got *g = arg;

	ck_assert_uint_lt(g->n, MAXP);
	g->v[g->n++] = *p;
	return 0;
}

static struct pin mkpin(uint64_t off, uint64_t len, uint32_t owner,
			int32_t holder, int64_t since)
{
	return (struct pin){ .off = off,
			     .len = len,
			     .owner = owner,
			     .holder = holder,
			     .since_ns = since };
}

static void add(struct pset *s, struct pin p)
{
	ck_assert_int_eq(pset_add(s, &p, NULL), 0);
}

/* Independent CRC-32 (IEEE 802.3, reflected, as zlib's crc32()). */
static uint32_t ref_crc32(const unsigned char *p, size_t n)
{
	uint32_t c = ~0u;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

static uint64_t le(const unsigned char *p, int bytes)
{
	uint64_t v = 0;
	int i;

	for (i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void put_le(unsigned char *p, uint64_t v, int bytes)
{
	int i;

	for (i = 0; i < bytes; i++, v >>= 8)
		p[i] = (unsigned char)v;
}

/* Recomputes the checksum after a deliberate change to the records. */
static void reseal(unsigned char *b, size_t len)
{
	put_le(b + 12, ref_crc32(b + PSTORE_HDR, len - PSTORE_HDR), 4);
}

static int decode_expect_clean_fail(const unsigned char *b, size_t len)
{
	struct got g = { .n = 0 };
	int err = pstore_decode(b, len, collect, &g);

	/* A damaged value reports no pin at all, not a prefix of them. */
	ck_assert_uint_eq(g.n, 0);
	return err;
}

START_TEST(test_crc_reference)
{
	/* The check value of CRC-32/ISO-HDLC. */
	ck_assert_uint_eq(ref_crc32((const unsigned char *)"123456789", 9),
			  0xcbf43926u);
}
END_TEST

START_TEST(test_empty_set_is_zero_bytes)
{
	unsigned char buf[64];
	struct pset s;

	pset_init(&s, 0);
	memset(buf, 0xaa, sizeof(buf));
	ck_assert_int_eq(pstore_encode(&s, buf, sizeof(buf)), 0);
	/* Only session pins: nothing to store either. */
	add(&s, mkpin(0, 4096, 0, 1234, 1));
	add(&s, (struct pin){ .all = true, .owner = 5, .holder = 77 });
	ck_assert_int_eq(pstore_encode(&s, buf, sizeof(buf)), 0);
	ck_assert_int_eq(pstore_encode(&s, buf, PSTORE_HDR), 0);
	/* And a zero-length value is not a valid record. */
	ck_assert_int_eq(decode_expect_clean_fail(buf, 0), -EUCLEAN);
	pset_destroy(&s);
}
END_TEST

START_TEST(test_layout)
{
	unsigned char buf[SZ(2)];
	struct pset s;
	struct got g = { .n = 0 };

	pset_init(&s, 0);
	add(&s,
	    mkpin(0x1122334455667788ull, 0x0102030405060708ull, 4242, 0, -5));
	add(&s, (struct pin){ .all = true, .owner = 7, .since_ns = 99 });
	ck_assert_int_eq(pstore_encode(&s, buf, sizeof(buf)), pstore_size(2));
	ck_assert_int_eq(memcmp(buf, "RDPN", 4), 0);
	ck_assert_uint_eq(le(buf + 4, 2), 1); /* version */
	ck_assert_uint_eq(le(buf + 6, 2), PSTORE_REC);
	ck_assert_uint_eq(le(buf + 8, 4), 2);
	ck_assert_uint_eq(le(buf + 12, 4),
			  ref_crc32(buf + PSTORE_HDR, 2 * PSTORE_REC));
	/* (offset, id) order: the all pin, stored at offset 0, first. */
	ck_assert_uint_eq(le(buf + 16, 8), 0);
	ck_assert_uint_eq(le(buf + 24, 8), 0);
	ck_assert_uint_eq(le(buf + 32, 4), 7);
	ck_assert_uint_eq(le(buf + 36, 4), 1); /* flags: all */
	ck_assert_uint_eq(le(buf + 40, 8), 99);
	ck_assert_uint_eq(le(buf + 48, 8), 0x1122334455667788ull);
	ck_assert_uint_eq(le(buf + 56, 8), 0x0102030405060708ull);
	ck_assert_uint_eq(le(buf + 64, 4), 4242);
	ck_assert_uint_eq(le(buf + 68, 4), 0);
	ck_assert_uint_eq(le(buf + 72, 8), (uint64_t)-5);

	ck_assert_int_eq(pstore_decode(buf, sizeof(buf), collect, &g), 0);
	ck_assert_uint_eq(g.n, 2);
	ck_assert(g.v[0].all);
	ck_assert_uint_eq(g.v[0].off, 0);
	ck_assert_uint_eq(g.v[0].len, 0);
	ck_assert_uint_eq(g.v[0].owner, 7);
	ck_assert_int_eq(g.v[0].since_ns, 99);
	ck_assert(!g.v[1].all);
	ck_assert_uint_eq(g.v[1].off, 0x1122334455667788ull);
	ck_assert_uint_eq(g.v[1].len, 0x0102030405060708ull);
	ck_assert_uint_eq(g.v[1].owner, 4242);
	ck_assert_int_eq(g.v[1].since_ns, -5);
	ck_assert_int_eq(g.v[1].holder, 0);
	ck_assert_uint_eq(g.v[1].id, 0);
	pset_destroy(&s);
}
END_TEST

/* The expected decoding of @s: its persistent pins, in walk order. */
static int collect_persistent(const struct pin *p, void *arg)
{
	return p->holder ? 0 : collect(p, arg);
}

START_TEST(test_random_round_trip)
{
	static unsigned char buf[SZ(MAXP)];
	static struct got want, got;
	unsigned int seed = 12345 + (unsigned int)_i;
	struct pset s;
	size_t i, n, need;
	ssize_t len;
	int round;

	for (round = 0; round < 50; round++) {
		pset_init(&s, 0);
		n = (size_t)rand_r(&seed) % 300;
		for (i = 0; i < n; i++) {
			struct pin p;
			int kind = rand_r(&seed) % 10;

			if (kind == 0) {
				p = (struct pin){ .all = true };
			} else {
				uint64_t off = (uint64_t)rand_r(&seed) << 20 |
					       (uint64_t)rand_r(&seed);
				uint64_t l = 1 + (uint64_t)rand_r(&seed);

				if (kind == 1) /* near the top of off_t */
					off = INT64_MAX - l - off % 1000;
				p = mkpin(off, l, 0, 0, 0);
			}
			p.owner = (uint32_t)rand_r(&seed) % 3
					  ? 0
					  : (uint32_t)rand_r(&seed);
			p.holder = rand_r(&seed) % 3 ? 0 : 1 + rand_r(&seed);
			p.since_ns = (int64_t)rand_r(&seed) * 1000000007ll;
			add(&s, p);
			/* Sometimes the very same pin twice. */
			if (rand_r(&seed) % 8 == 0)
				add(&s, p);
		}
		want.n = 0;
		ck_assert_int_eq(pset_foreach(&s, collect_persistent, &want),
				 0);
		need = want.n ? pstore_size(want.n) : 0;

		len = pstore_encode(&s, buf, sizeof(buf));
		ck_assert_int_eq(len, (ssize_t)need);
		if (need) {
			/* Exactly enough room is enough; one byte less is not. */
			ck_assert_int_eq(pstore_encode(&s, buf, need), need);
			ck_assert_int_eq(pstore_encode(&s, buf, need - 1),
					 -ENOSPC);
		}
		got.n = 0;
		if (!need) {
			pset_destroy(&s);
			continue;
		}
		ck_assert_int_eq(pstore_decode(buf, (size_t)len, collect, &got),
				 0);
		ck_assert_uint_eq(got.n, want.n);
		for (i = 0; i < got.n; i++) {
			ck_assert_int_eq(got.v[i].all, want.v[i].all);
			ck_assert_uint_eq(got.v[i].off, want.v[i].off);
			ck_assert_uint_eq(got.v[i].len, want.v[i].len);
			ck_assert_uint_eq(got.v[i].owner, want.v[i].owner);
			ck_assert_int_eq(got.v[i].since_ns, want.v[i].since_ns);
			ck_assert_int_eq(got.v[i].holder, 0);
			ck_assert_uint_eq(got.v[i].id, 0);
		}
		pset_destroy(&s);
	}
}
END_TEST

START_TEST(test_too_small_buffer)
{
	unsigned char buf[SZ(3)];
	struct pset s;
	size_t size;

	pset_init(&s, 0);
	add(&s, mkpin(0, 1, 0, 0, 1));
	add(&s, mkpin(10, 1, 0, 0, 1));
	add(&s, mkpin(20, 1, 0, 0, 1));
	/* A session pin takes no room. */
	add(&s, mkpin(30, 1, 0, 99, 1));
	for (size = 0; size < pstore_size(3); size++)
		ck_assert_int_eq(pstore_encode(&s, buf, size), -ENOSPC);
	ck_assert_int_eq(pstore_encode(&s, buf, pstore_size(3)),
			 pstore_size(3));
	pset_destroy(&s);
}
END_TEST

/* A valid two-pin record to damage. */
static size_t good_record(unsigned char *buf, size_t size)
{
	struct pset s;
	ssize_t n;

	pset_init(&s, 0);
	add(&s, mkpin(4096, 8192, 1000, 0, 1700000000000000000ll));
	add(&s, (struct pin){ .all = true, .owner = 0, .since_ns = 1 });
	n = pstore_encode(&s, buf, size);
	pset_destroy(&s);
	ck_assert_int_eq(n, pstore_size(2));
	ck_assert_int_eq(decode_expect_clean_fail(buf, 0), -EUCLEAN);
	return (size_t)n;
}

START_TEST(test_corrupt_header)
{
	unsigned char good[SZ(2)], b[sizeof(good) + PSTORE_REC];
	struct got g = { .n = 0 };
	size_t len = good_record(good, sizeof(good));

	ck_assert_int_eq(pstore_decode(good, len, collect, &g), 0);
	ck_assert_uint_eq(g.n, 2);

	/* Bad magic. */
	memcpy(b, good, len);
	b[0] = 'X';
	ck_assert_int_eq(decode_expect_clean_fail(b, len), -EUCLEAN);
	memcpy(b, good, len);
	memcpy(b, "rdpn", 4);
	ck_assert_int_eq(decode_expect_clean_fail(b, len), -EUCLEAN);
	/* Another version, older or newer. */
	memcpy(b, good, len);
	put_le(b + 4, 2, 2);
	ck_assert_int_eq(decode_expect_clean_fail(b, len), -EUCLEAN);
	put_le(b + 4, 0, 2);
	ck_assert_int_eq(decode_expect_clean_fail(b, len), -EUCLEAN);
	/* Another record size. */
	memcpy(b, good, len);
	put_le(b + 6, PSTORE_REC + 8, 2);
	ck_assert_int_eq(decode_expect_clean_fail(b, len), -EUCLEAN);
	/* A count that disagrees with the length, or is zero. */
	memcpy(b, good, len);
	put_le(b + 8, 3, 4);
	ck_assert_int_eq(decode_expect_clean_fail(b, len), -EUCLEAN);
	put_le(b + 8, 1, 4);
	ck_assert_int_eq(decode_expect_clean_fail(b, len), -EUCLEAN);
	put_le(b + 8, 0, 4);
	ck_assert_int_eq(decode_expect_clean_fail(b, PSTORE_HDR), -EUCLEAN);
	put_le(b + 8, 0x80000002u, 4);
	ck_assert_int_eq(decode_expect_clean_fail(b, len), -EUCLEAN);
	/* A wrong checksum field. */
	memcpy(b, good, len);
	b[12] ^= 1;
	ck_assert_int_eq(decode_expect_clean_fail(b, len), -EUCLEAN);
}
END_TEST

START_TEST(test_corrupt_length)
{
	unsigned char good[SZ(2)], b[sizeof(good) + PSTORE_REC];
	size_t len = good_record(good, sizeof(good)), cut;

	/* Truncated anywhere, header included. */
	for (cut = 0; cut < len; cut++)
		ck_assert_int_eq(decode_expect_clean_fail(good, cut), -EUCLEAN);
	/* Trailing bytes, whether a partial or a whole extra record. */
	memcpy(b, good, len);
	memset(b + len, 0, PSTORE_REC);
	ck_assert_int_eq(decode_expect_clean_fail(b, len + 1), -EUCLEAN);
	ck_assert_int_eq(decode_expect_clean_fail(b, len + PSTORE_REC),
			 -EUCLEAN);
	/* Even when the checksum is made to cover the extra record. */
	put_le(b + len + 8, 1, 8);
	reseal(b, len + PSTORE_REC);
	ck_assert_int_eq(decode_expect_clean_fail(b, len + PSTORE_REC),
			 -EUCLEAN);
}
END_TEST

START_TEST(test_corrupt_flipped_bits)
{
	unsigned char good[SZ(2)], b[sizeof(good)];
	size_t len = good_record(good, sizeof(good)), bit;

	/* Every single-bit error anywhere is caught. */
	for (bit = 0; bit < len * 8; bit++) {
		memcpy(b, good, len);
		b[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		ck_assert_msg(decode_expect_clean_fail(b, len) == -EUCLEAN,
			      "bit %zu flipped went unnoticed", bit);
	}
}
END_TEST

START_TEST(test_corrupt_records_checksummed)
{
	unsigned char good[SZ(2)], b[sizeof(good)];
	size_t len = good_record(good, sizeof(good));
	/* The second record holds the 4096+8192 pin. */
	unsigned char *r = b + PSTORE_HDR + PSTORE_REC;

	/* A record that is consistent by checksum but not as a range. */
	memcpy(b, good, len);
	put_le(r + 8, 0, 8); /* length 0 */
	reseal(b, len);
	ck_assert_int_eq(decode_expect_clean_fail(b, len), -EUCLEAN);
	memcpy(b, good, len);
	put_le(r, UINT64_MAX - 10, 8); /* end past 2^64 */
	reseal(b, len);
	ck_assert_int_eq(decode_expect_clean_fail(b, len), -EUCLEAN);
}
END_TEST

static int stop_at_second(const struct pin *p, void *arg)
{
	int *n = arg;

	return ++*n == 2 ? 42 : 0;
}

START_TEST(test_visitor_stops)
{
	unsigned char good[SZ(2)];
	size_t len = good_record(good, sizeof(good));
	int n = 0;

	ck_assert_int_eq(pstore_decode(good, len, stop_at_second, &n), 42);
	ck_assert_int_eq(n, 2);
}
END_TEST

START_TEST(test_all_pins)
{
	unsigned char buf[SZ(4)];
	struct got g = { .n = 0 };
	struct pset s;
	ssize_t n;
	size_t i;

	pset_init(&s, 0);
	add(&s, (struct pin){ .all = true, .owner = 0, .since_ns = 10 });
	add(&s, (struct pin){ .all = true, .owner = 4242, .since_ns = 20 });
	/* A session `all` pin is not stored. */
	add(&s, (struct pin){ .all = true, .owner = 1, .holder = 321 });
	add(&s, mkpin(0, 1, 4242, 0, 30));
	n = pstore_encode(&s, buf, sizeof(buf));
	ck_assert_int_eq(n, pstore_size(3));
	ck_assert_int_eq(pstore_decode(buf, (size_t)n, collect, &g), 0);
	ck_assert_uint_eq(g.n, 3);
	for (i = 0; i < 2; i++) {
		ck_assert(g.v[i].all);
		ck_assert_uint_eq(g.v[i].off, 0);
		ck_assert_uint_eq(g.v[i].len, 0);
		ck_assert_int_eq(g.v[i].holder, 0);
	}
	ck_assert_uint_eq(g.v[0].owner, 0);
	ck_assert_uint_eq(g.v[1].owner, 4242);
	ck_assert(!g.v[2].all);
	ck_assert_uint_eq(g.v[2].len, 1);

	/* Decoded pins go back into a set as they came out. */
	pset_destroy(&s);
	pset_init(&s, 0);
	for (i = 0; i < g.n; i++)
		ck_assert_int_eq(pset_add(&s, &g.v[i], NULL), 0);
	ck_assert_uint_eq(pset_count(&s), 3);
	ck_assert(pset_any_overlap(&s, UINT64_MAX - 1, 1));
	ck_assert_int_eq(pset_verify(&s), 0);
	ck_assert_int_eq(pstore_encode(&s, buf, sizeof(buf)), n);
	pset_destroy(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pinstore");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_crc_reference);
	tcase_add_test(tc, test_empty_set_is_zero_bytes);
	tcase_add_test(tc, test_layout);
	tcase_add_loop_test(tc, test_random_round_trip, 0, 4);
	tcase_add_test(tc, test_too_small_buffer);
	tcase_add_test(tc, test_corrupt_header);
	tcase_add_test(tc, test_corrupt_length);
	tcase_add_test(tc, test_corrupt_flipped_bits);
	tcase_add_test(tc, test_corrupt_records_checksummed);
	tcase_add_test(tc, test_visitor_stops);
	tcase_add_test(tc, test_all_pins);
	/* valgrind runs about 50 times slower */
	tcase_set_timeout(tc, 300);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
