// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for the growable string buffer (lib/core/strbuf.c). */
#include <check.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"

START_TEST(test_empty)
{
	struct sbuf b = SBUF_INIT;

	ck_assert_str_eq(sbuf_str(&b), "");
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(sbuf_err(&b), 0);
	sbuf_add(&b, "", 0);
	ck_assert_str_eq(sbuf_str(&b), "");
	ck_assert_int_eq(sbuf_err(&b), 0);
	sbuf_free(&b);
	sbuf_free(&b); /* twice is fine */
}
END_TEST

START_TEST(test_append_and_grow)
{
	struct sbuf b = SBUF_INIT;
	char *want = malloc(200001);
	size_t i;

	ck_assert_ptr_nonnull(want);
	/* Across many reallocations, every byte lands where it should. */
	for (i = 0; i < 20000; i++) {
		sbuf_printf(&b, "%09zu\n", i);
		snprintf(want + 10 * i, 11, "%09zu\n", i);
	}
	ck_assert_int_eq(sbuf_err(&b), 0);
	ck_assert_uint_eq(b.len, 200000);
	ck_assert_uint_ge(b.cap, b.len + 1);
	ck_assert_int_eq(memcmp(b.buf, want, 200000), 0);
	ck_assert_int_eq(b.buf[b.len], '\0');
	free(want);
	sbuf_free(&b);
}
END_TEST

START_TEST(test_embedded_nul_and_puts)
{
	struct sbuf b = SBUF_INIT;

	sbuf_add(&b, "a\0b", 3);
	sbuf_puts(&b, "cd");
	ck_assert_uint_eq(b.len, 5);
	ck_assert_int_eq(memcmp(b.buf, "a\0bcd", 6), 0);
	sbuf_free(&b);
}
END_TEST

START_TEST(test_long_printf)
{
	struct sbuf b = SBUF_INIT;
	char *big = malloc(100001);

	/* Longer than any fixed scratch buffer: never cut. */
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', 100000);
	big[100000] = '\0';
	sbuf_printf(&b, "<%s>", big);
	ck_assert_int_eq(sbuf_err(&b), 0);
	ck_assert_uint_eq(b.len, 100002);
	ck_assert_int_eq(b.buf[0], '<');
	ck_assert_int_eq(b.buf[100001], '>');
	free(big);
	sbuf_free(&b);
}
END_TEST

START_TEST(test_sticky_enomem)
{
	struct sbuf b = SBUF_INIT;

	sbuf_puts(&b, "kept");
	/* Too big to allocate (beyond PTRDIFF_MAX): nothing is read. */
	sbuf_add(&b, "", (size_t)PTRDIFF_MAX);
	ck_assert_int_eq(sbuf_err(&b), -ENOMEM);
	/* Later appends do nothing: no value with a hole in it. */
	sbuf_puts(&b, "more");
	sbuf_printf(&b, "%d", 42);
	ck_assert_int_eq(sbuf_err(&b), -ENOMEM);
	ck_assert_str_eq(sbuf_str(&b), "kept");
	/* Overflowing size_t is the same error, not a wrap. */
	sbuf_reset(&b);
	ck_assert_int_eq(sbuf_err(&b), 0);
	ck_assert_str_eq(sbuf_str(&b), "");
	sbuf_puts(&b, "x");
	sbuf_add(&b, "", SIZE_MAX);
	ck_assert_int_eq(sbuf_err(&b), -ENOMEM);
	ck_assert_uint_eq(b.len, 1);
	sbuf_free(&b);
	ck_assert_int_eq(sbuf_err(&b), 0);
	ck_assert_ptr_null(b.buf);
}
END_TEST

START_TEST(test_reset_keeps_memory)
{
	struct sbuf b = SBUF_INIT;
	char *p;

	sbuf_puts(&b, "hello");
	p = b.buf;
	sbuf_reset(&b);
	ck_assert_ptr_eq(b.buf, p);
	ck_assert_uint_eq(b.len, 0);
	sbuf_puts(&b, "hi");
	ck_assert_str_eq(sbuf_str(&b), "hi");
	sbuf_free(&b);
}
END_TEST

static Suite *strbuf_suite(void)
{
	Suite *s = suite_create("strbuf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_append_and_grow);
	tcase_add_test(tc, test_embedded_nul_and_puts);
	tcase_add_test(tc, test_long_printf);
	tcase_add_test(tc, test_sticky_enomem);
	tcase_add_test(tc, test_reset_keeps_memory);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(strbuf_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
