// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for range parsing and formatting (lib/range.c). */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/range.h"

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define TiB (1ULL << 40)

struct parse_case {
	const char *in;
	size_t n; /* bytes of in to parse; 0 means strlen(in) */
	int err;
	uint64_t off, len;
	bool all;
};

/* Explicit lengths let rows carry NULs and unterminated tails. */
#define OK(s, o, l)                  \
	{                            \
		s, 0, 0, o, l, false \
	}
#define OKN(s, n, o, l)              \
	{                            \
		s, n, 0, o, l, false \
	}
#define ALL(s)                      \
	{                           \
		s, 0, 0, 0, 0, true \
	}
#define ALLN(s, n)                  \
	{                           \
		s, n, 0, 0, 0, true \
	}
#define BAD(s)                             \
	{                                  \
		s, 0, -EINVAL, 0, 0, false \
	}
#define BADN(s, n)                         \
	{                                  \
		s, n, -EINVAL, 0, 0, false \
	}

static const struct parse_case cases[] = {
	/* plain forms */
	OK("0+1", 0, 1),
	OK("4096+4096", 4096, 4096),
	OK("0+1M", 0, MiB),
	OK("0x200000+2M", 0x200000, 2 * MiB),
	OK("0X10+0Xa", 16, 10),
	OK("0xdeadBEEF+0x1", 0xdeadbeef, 1),
	OK("0x0010+1", 16, 1),
	OK("1K+1k", KiB, KiB),
	OK("2m+3g", 2 * MiB, 3 * GiB),
	OK("1T+1t", TiB, TiB),
	OK("0x1G+0x1T", GiB, TiB),
	OK("0K+1", 0, 1),
	OK("0x0+1", 0, 1),
	OK("0+9223372036854775807", 0, INT64_MAX),
	OK("9223372036854775806+1", INT64_MAX - 1, 1),
	OK("0x7ffffffffffffffe+1", INT64_MAX - 1, 1),
	OK("8388607T+1023G", 8388607 * TiB, 1023 * GiB),
	OK("0+0x7FFFFFFFFFFFFFFF", 0, INT64_MAX),
	ALL("all"),
	/* what tools add around a value */
	OK(" 0+1", 0, 1),
	OK("0+1 ", 0, 1),
	OK("\t0+1\t", 0, 1),
	OK("0+1\n", 0, 1),
	OK("  0+1M \n", 0, MiB),
	ALL("all\n"),
	ALL(" all "),
	OKN("0+1\0", 4, 0, 1),
	OKN("0+1\0\0\0", 6, 0, 1),
	OKN("0+1\n\0", 5, 0, 1),
	ALLN("all\0", 4),
	/* not NUL-terminated: only n bytes count */
	OKN("0+1Mgarbage", 4, 0, MiB),
	OKN("12+34+56", 5, 12, 34),
	ALLN("allx", 3),
	/* malformed */
	BAD(""),
	BADN("", 0),
	BAD(" "),
	BAD("\n"),
	BADN("\0\0", 2),
	BAD("0"),
	BAD("0+"),
	BAD("+1"),
	BAD("+"),
	BAD("++1"),
	BAD("0++1"),
	BAD("1+2+3"),
	BAD("-1+1"),
	BAD("0+-1"),
	BAD("0+0"),
	BAD("0+0x0"),
	BAD("0+0K"),
	BAD("0x+1"),
	BAD("0+0x"),
	BAD("0X+1"),
	BAD("K+1"),
	BAD("0+K"),
	BAD("0+0xK"),
	BAD("1KK+1"),
	BAD("0+1KK"),
	BAD("0+1KM"),
	BAD("0+1Kb"),
	BAD("0+1B"),
	BAD("0+1P"),
	BAD("0+1E"),
	BAD("0+1e3"),
	BAD("0+1.5M"),
	BAD("0+1 M"),
	BAD("0 +1"),
	BAD("0+ 1"),
	BAD("010+1"),
	BAD("0+010"),
	BAD("00+1"),
	BAD("0+0g1"),
	BAD("0xg+1"),
	BAD("0+0x1x"),
	BAD("0+1\n\n"),
	BAD("\n0+1"),
	BAD("0+1\r\n"),
	BADN("0+1\0x", 5),
	BADN("0\0+1", 4),
	BAD("ALL"),
	BAD("All"),
	BAD("all+1"),
	BAD("0+all"),
	BAD("alll"),
	BAD("al"),
	BAD("0+1,2+1"),
	BAD("0+1;"),
	/* overflow of a number, of a suffix, or of the end */
	BAD("0xFFFFFFFFFFFFFFFF+1"),
	BAD("0+0xFFFFFFFFFFFFFFFF"),
	BAD("0x10000000000000000+1"),
	BAD("18446744073709551615+1"),
	BAD("18446744073709551616+1"),
	BAD("99999999999999999999999+1"),
	BAD("9223372036854775808+1"),
	BAD("0+9223372036854775808"),
	BAD("0x8000000000000000+1"),
	BAD("9223372036854775807+1"),
	BAD("1+9223372036854775807"),
	BAD("16777216T+1"),
	BAD("8388608T+1"),
	BAD("0+8388608T"),
	BAD("8589934592G+1"),
	BAD("8796093022208M+1"),
	BAD("9007199254740992K+1"),
	BAD("4611686018427387904+4611686018427387904"),
	BAD("0x7FFFFFFFFFFFFFFF+1"),
	BAD("1T+8388607T"),
};

START_TEST(test_parse_table)
{
	const struct parse_case *c = &cases[_i];
	size_t n = c->n ? c->n : strlen(c->in);
	struct rng r = { 7, 7, true };
	int err;

	err = rng_parse(c->in, n, &r);
	ck_assert_msg(err == c->err, "\"%.*s\" (%zu bytes): got %d, want %d",
		      (int)n, c->in, n, err, c->err);
	if (err)
		return;
	ck_assert_msg(r.all == c->all, "\"%s\": all", c->in);
	ck_assert_msg(r.off == c->off && r.len == c->len,
		      "\"%s\": got %llu+%llu, want %llu+%llu", c->in,
		      (unsigned long long)r.off, (unsigned long long)r.len,
		      (unsigned long long)c->off, (unsigned long long)c->len);
}
END_TEST

START_TEST(test_parse_unterminated_buffer)
{
	/* The bytes after the value are unreadable to ASan if we overrun. */
	char *buf = malloc(5);
	struct rng r;

	ck_assert_ptr_nonnull(buf);
	memcpy(buf, "4K+1M", 5);
	ck_assert_int_eq(rng_parse(buf, 5, &r), 0);
	ck_assert_uint_eq(r.off, 4 * KiB);
	ck_assert_uint_eq(r.len, MiB);
	memcpy(buf, "0+0x1", 5);
	ck_assert_int_eq(rng_parse(buf, 5, &r), 0);
	ck_assert_uint_eq(r.len, 1);
	memcpy(buf, "0+0x ", 5);
	ck_assert_int_eq(rng_parse(buf, 5, &r), -EINVAL);
	ck_assert_int_eq(rng_parse(buf, 0, &r), -EINVAL);
	ck_assert_int_eq(rng_parse(NULL, 0, &r), -EINVAL);
	free(buf);
}
END_TEST

START_TEST(test_parse_list)
{
	struct rng r[4];
	size_t count = 99;
	const char *s;

	s = "0+1M,0x200000+2M";
	ck_assert_int_eq(rng_parse_list(s, strlen(s), r, 4, &count), 0);
	ck_assert_uint_eq(count, 2);
	ck_assert_uint_eq(r[0].off, 0);
	ck_assert_uint_eq(r[0].len, MiB);
	ck_assert_uint_eq(r[1].off, 2 * MiB);
	ck_assert_uint_eq(r[1].len, 2 * MiB);

	s = " 0+1 , all ,\t4K+4K\n";
	ck_assert_int_eq(rng_parse_list(s, strlen(s), r, 4, &count), 0);
	ck_assert_uint_eq(count, 3);
	ck_assert(r[1].all);
	ck_assert_uint_eq(r[2].off, 4 * KiB);

	s = "0+1";
	ck_assert_int_eq(rng_parse_list(s, strlen(s) + 1, r, 4, &count), 0);
	ck_assert_uint_eq(count, 1);

	/* Duplicates are the caller's business (two pins may be identical). */
	s = "0+1,0+1";
	ck_assert_int_eq(rng_parse_list(s, strlen(s), r, 4, &count), 0);
	ck_assert_uint_eq(count, 2);
}
END_TEST

START_TEST(test_parse_list_errors)
{
	static const char *const bad[] = {
		"",	     ",",     ",0+1",	 "0+1,",      "0+1,,2+1",
		"0+1, ,2+1", "0+1,x", "0+0,0+1", "0+1\n,1+1", "0+1,0+1\n\n",
		" , ",	     "all,,", "0+1;2+1",
	};
	struct rng r[4];
	size_t count = 99, i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(rng_parse_list(bad[i], strlen(bad[i]), r, 4,
					     &count) == -EINVAL,
			      "\"%s\" accepted", bad[i]);
	ck_assert_uint_eq(count, 99);
}
END_TEST

START_TEST(test_parse_list_too_many)
{
	const char *s = "0+1,1+1,2+1,3+1,4+1";
	struct rng r[4];
	size_t count = 99;

	ck_assert_int_eq(rng_parse_list(s, strlen(s), r, 4, &count), -E2BIG);
	ck_assert_int_eq(rng_parse_list(s, 15, r, 4, &count), 0);
	ck_assert_uint_eq(count, 4);
	ck_assert_int_eq(rng_parse_list(s, strlen(s), r, 0, &count), -E2BIG);
	/* Malformed wins over too many: the value is wrong whatever max. */
	s = "0+1,1+1,2+1,3+1,4+1,x";
	ck_assert_int_eq(rng_parse_list(s, strlen(s), r, 4, &count), -EINVAL);
}
END_TEST

START_TEST(test_format)
{
	struct rng r = { .off = 4096, .len = MiB };
	struct rng all = { .all = true };
	struct rng max = { .off = INT64_MAX - 1, .len = 1 };
	char buf[RNG_FMT_MAX];

	ck_assert_int_eq(rng_format(&r, buf, sizeof(buf)), 12);
	ck_assert_str_eq(buf, "4096+1048576");
	ck_assert_int_eq(rng_format(&all, buf, sizeof(buf)), 3);
	ck_assert_str_eq(buf, "all");
	ck_assert_int_eq(rng_format(&max, buf, sizeof(buf)), 21);
	ck_assert_str_eq(buf, "9223372036854775806+1");
	/* Exactly room for text and NUL, then one byte short. */
	ck_assert_int_eq(rng_format(&r, buf, 13), 12);
	ck_assert_int_eq(rng_format(&r, buf, 12), -ENOSPC);
	ck_assert_int_eq(rng_format(&all, buf, 3), -ENOSPC);
	ck_assert_int_eq(rng_format(&all, NULL, 0), -ENOSPC);
}
END_TEST

START_TEST(test_format_round_trip)
{
	char buf[RNG_FMT_MAX];
	unsigned int seed = 12345;
	size_t i, j;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct parse_case *c = &cases[i];
		struct rng a, b;
		int n;

		if (c->err || rng_parse(c->in, c->n ? c->n : strlen(c->in), &a))
			continue;
		n = rng_format(&a, buf, sizeof(buf));
		ck_assert_int_gt(n, 0);
		ck_assert_int_eq(rng_parse(buf, (size_t)n, &b), 0);
		ck_assert(a.all == b.all && a.off == b.off && a.len == b.len);
	}
	/* Random ranges across the whole off_t space. */
	for (j = 0; j < 10000; j++) {
		/* rand_r() gives 31 bits: three of them cover 63. */
		uint64_t off = (uint64_t)rand_r(&seed) << 32 ^
			       (uint64_t)rand_r(&seed) << 16 ^
			       (uint64_t)rand_r(&seed);
		struct rng a = { .off = off,
				 .len = 1 + (uint64_t)rand_r(&seed) };
		struct rng b;
		int n;

		if (a.len > (uint64_t)INT64_MAX - a.off)
			a.off = 0;
		n = rng_format(&a, buf, sizeof(buf));
		ck_assert_int_gt(n, 0);
		ck_assert_int_eq(rng_parse(buf, (size_t)n, &b), 0);
		ck_assert(!b.all && a.off == b.off && a.len == b.len);
	}
}
END_TEST

START_TEST(test_helpers)
{
	struct rng r = { .off = 10, .len = 5 };
	struct rng all = { .all = true };

	ck_assert_uint_eq(rng_end(&r), 15);
	ck_assert_uint_eq(rng_end(&all), UINT64_MAX);
	ck_assert_uint_eq(rng_end_sat(UINT64_MAX - 1, 5), UINT64_MAX);

	ck_assert(rng_overlaps(10, 5, 14, 1));
	ck_assert(!rng_overlaps(10, 5, 15, 1));
	ck_assert(!rng_overlaps(10, 5, 0, 10));
	ck_assert(rng_overlaps(10, 5, 0, 11));
	ck_assert(rng_overlaps(0, UINT64_MAX, UINT64_MAX - 1, 1));
	ck_assert(rng_overlaps(UINT64_MAX - 1, UINT64_MAX, 5, UINT64_MAX));
	ck_assert(!rng_overlaps(10, 0, 0, 100));
	ck_assert(!rng_overlaps(0, 100, 10, 0));

	ck_assert(rng_within(&r, 15));
	ck_assert(!rng_within(&r, 14));
	ck_assert(!rng_within(&r, 0));
	ck_assert(rng_within(&all, 0));
	r = (struct rng){ .off = 16, .len = 1 };
	ck_assert(!rng_within(&r, 15));
}
END_TEST

static Suite *range_suite(void)
{
	Suite *s = suite_create("range");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_parse_table, 0,
			    sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_parse_unterminated_buffer);
	tcase_add_test(tc, test_parse_list);
	tcase_add_test(tc, test_parse_list_errors);
	tcase_add_test(tc, test_parse_list_too_many);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_format_round_trip);
	tcase_add_test(tc, test_helpers);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(range_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
