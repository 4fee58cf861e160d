// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for the one JSON string escape (lib/core/jsonesc.c): the
 * escape of every byte, UTF-8 validation, and the round trip that
 * rdmafsctl events relies on: escape, restore the bytes, parse with
 * json-c, and get the exact original bytes back.
 */
#include <check.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonesc.h"

struct buf {
	char s[8192];
	size_t n;
};

static void put_buf(void *ctx, const char *s, size_t n)
{
	struct buf *b = ctx;

	ck_assert_uint_lt(b->n + n, sizeof(b->s));
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

static const char *esc(struct buf *b, const char *s, size_t n)
{
	b->n = 0;
	b->s[0] = '\0';
	jesc_string(s, n, put_buf, b);
	return b->s;
}

/* The same bytes as test-audit.c's HOSTILE, and what each becomes. */
#define HOSTILE                                      \
	"q\"b\\s\n\t\x01\x7f"                        \
	"\xc3\xa9" /* é, valid */                   \
	"\xff" /* never valid */                     \
	"\xc3" /* a sequence cut short */            \
	"!"                                          \
	"\xe0\x80\x80" /* overlong NUL */            \
	"\xed\xa0\x80" /* a surrogate */             \
	"\xf4\x90\x80\x80" /* past U+10FFFF */       \
	"\xf0\x9f\x98\x80" /* U+1F600, valid */      \
	"\xc2\x85" /* U+0085, a C1 control, valid */ \
	" sp"

#define HOSTILE_JSON                                               \
	"\"q\\\"b\\\\s\\n\\t\\u0001\\u007f\xc3\xa9\\u00ff\\u00c3!" \
	"\\u00e0\\u0080\\u0080\\u00ed\\u00a0\\u0080"               \
	"\\u00f4\\u0090\\u0080\\u0080\xf0\x9f\x98\x80\xc2\x85 sp\""

START_TEST(test_hostile)
{
	struct buf b;

	ck_assert_str_eq(esc(&b, HOSTILE, strlen(HOSTILE)), HOSTILE_JSON);
	ck_assert_str_eq(esc(&b, "", 0), "\"\"");
	ck_assert_str_eq(esc(&b, "plain/path 1", 12), "\"plain/path 1\"");
	/* an embedded NUL is a byte like any other */
	ck_assert_str_eq(esc(&b, "a\0b", 3), "\"a\\u0000b\"");
	ck_assert_str_eq(esc(&b, "\r\b\f", 3), "\"\\r\\b\\f\"");
}
END_TEST

/* Each byte alone: what the rule says, and nothing else. */
START_TEST(test_every_byte)
{
	struct buf b;
	char want[16];
	int c;

	for (c = 0; c < 256; c++) {
		char ch = (char)c;

		esc(&b, &ch, 1);
		if (c == '"' || c == '\\')
			snprintf(want, sizeof(want), "\"\\%c\"", c);
		else if (c >= 0x20 && c < 0x7f)
			snprintf(want, sizeof(want), "\"%c\"", c);
		else if (c == '\n' || c == '\r' || c == '\t' || c == '\b' ||
			 c == '\f')
			continue;
		else
			snprintf(want, sizeof(want), "\"\\u%04x\"", c);
		ck_assert_msg(!strcmp(b.s, want), "byte 0x%02x: %s, want %s", c,
			      b.s, want);
	}
}
END_TEST

START_TEST(test_utf8_len)
{
	const unsigned char *u;

#define LEN(s) jesc_utf8_len((const unsigned char *)(s), sizeof(s) - 1)
	ck_assert_uint_eq(LEN("a"), 1);
	ck_assert_uint_eq(LEN("\xc3\xa9"), 2);
	ck_assert_uint_eq(LEN("\xe2\x82\xac"), 3);
	ck_assert_uint_eq(LEN("\xf0\x9f\x98\x80"), 4);
	ck_assert_uint_eq(LEN("\xf4\x8f\xbf\xbf"), 4); /* U+10FFFF */
	ck_assert_uint_eq(LEN("\xee\x80\x80"), 3); /* U+E000 */
	ck_assert_uint_eq(LEN("\xed\x9f\xbf"), 3); /* U+D7FF */
	ck_assert_uint_eq(LEN("\x80"), 0);
	ck_assert_uint_eq(LEN("\xc0\x80"), 0); /* overlong */
	ck_assert_uint_eq(LEN("\xc1\xbf"), 0);
	ck_assert_uint_eq(LEN("\xe0\x9f\xbf"), 0); /* overlong */
	ck_assert_uint_eq(LEN("\xed\xa0\x80"), 0); /* surrogate */
	ck_assert_uint_eq(LEN("\xf0\x8f\xbf\xbf"), 0); /* overlong */
	ck_assert_uint_eq(LEN("\xf4\x90\x80\x80"), 0); /* > U+10FFFF */
	ck_assert_uint_eq(LEN("\xf5\x80\x80\x80"), 0);
	ck_assert_uint_eq(LEN("\xe2\x82"), 0); /* cut short */
	ck_assert_uint_eq(LEN("\xe2\x82\x41"), 0);
#undef LEN
	/* never reads past n, even when the bytes after would complete it */
	u = (const unsigned char *)"\xe2\x82\xac";
	ck_assert_uint_eq(jesc_utf8_len(u, 2), 0);
}
END_TEST

START_TEST(test_restore_bytes)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "\"\\u00e9\"", "\"\xe9\"" },
		{ "\"\\u00E9\\u0080\\u00ff\"", "\"\xe9\x80\xff\"" },
		/* ASCII and control escapes are json-c's business */
		{ "\"\\u007f\\u0001\\n\"", "\"\\u007f\\u0001\\n\"" },
		/* an escaped backslash, then text that looks like an escape */
		{ "\"\\\\u00e9\"", "\"\\\\u00e9\"" },
		{ "\"\\\\\\u00e9\"", "\"\\\\\xe9\"" },
		/* not a byte escape */
		{ "\"\\u0100\\u00g0\\u00e\"", "\"\\u0100\\u00g0\\u00e\"" },
		{ "\"\\u00e", "\"\\u00e" },
		{ "\\", "\\" },
		{ "", "" },
		{ "{\"a\":\"\\u00c3\\u00a9\",\"b\":1}",
		  "{\"a\":\"\xc3\xa9\",\"b\":1}" },
	};
	char tmp[64];
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = strlen(cases[i].in);
		memcpy(tmp, cases[i].in, n);
		n = jesc_restore_bytes(tmp, n);
		ck_assert_msg(n == strlen(cases[i].out) &&
				      !memcmp(tmp, cases[i].out, n),
			      "case %zu: '%.*s'", i, (int)n, tmp);
	}
}
END_TEST

/* Escape, restore, parse with json-c: the exact bytes again. */
static void round_trip(const char *s, size_t n)
{
	struct buf b;
	json_object *o;
	size_t len;

	esc(&b, s, n);
	len = jesc_restore_bytes(b.s, b.n);
	b.s[len] = '\0';
	o = json_tokener_parse(b.s);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(json_object_get_type(o), json_type_string);
	ck_assert_int_eq(json_object_get_string_len(o), (int)n);
	ck_assert(!memcmp(json_object_get_string(o), s, n));
	json_object_put(o);
}

START_TEST(test_round_trip)
{
	char s[64];
	unsigned int seed = 1;
	int i, j, n;

	round_trip(HOSTILE, strlen(HOSTILE));
	for (i = 0; i < 256; i++) {
		s[0] = (char)i;
		round_trip(s, 1);
	}
	/* random bytes, biased to the high half where the rules differ */
	for (i = 0; i < 5000; i++) {
		n = rand_r(&seed) % (int)sizeof(s);
		for (j = 0; j < n; j++) {
			int r = rand_r(&seed);

			s[j] = (char)(r & 1 ? 0x80 | (r >> 1) : r >> 1);
		}
		round_trip(s, (size_t)n);
	}
}
END_TEST

/* Without the restore, a generic parser reads a byte as Latin-1. */
START_TEST(test_generic_parser)
{
	struct buf b;
	json_object *o;

	esc(&b, "caf\xe9", 4);
	o = json_tokener_parse(b.s);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(json_object_get_string(o), "caf\xc3\xa9");
	json_object_put(o);
}
END_TEST

static Suite *jsonesc_suite(void)
{
	Suite *s = suite_create("jsonesc");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_hostile);
	tcase_add_test(tc, test_every_byte);
	tcase_add_test(tc, test_utf8_len);
	tcase_add_test(tc, test_restore_bytes);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_generic_parser);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(jsonesc_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
