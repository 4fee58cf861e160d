// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The parsers librdmafs adds to core/proto_parse: a file's own pins (the
 * value of user.rdmafs.pin, lines without a path) and `since`, RFC 3339
 * as the daemon writes it, to seconds since the Epoch.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/proto_parse.h"

START_TEST(test_file_pins)
{
	const char *v =
		"0+1048576 owner=0 holder=- since=2026-11-25T09:40:00Z\n"
		"all owner=1000 holder=4242 since=2026-11-25T09:41:12Z\n"
		"\n";
	struct proto_pins pins = { 0 };
	struct proto_err err = { { 0 } };

	ck_assert_int_eq(proto_parse_file_pins(v, strlen(v) + 1, &pins, &err),
			 0);
	ck_assert_uint_eq(pins.n, 2);
	ck_assert_ptr_null(pins.v[0].path);
	ck_assert_uint_eq(pins.v[0].len, 1048576);
	ck_assert(!pins.v[0].all);
	ck_assert(pins.v[1].all);
	ck_assert_uint_eq(pins.v[1].owner, 1000);
	ck_assert_int_eq(pins.v[1].holder, 4242);
	ck_assert_str_eq(pins.v[1].since, "2026-11-25T09:41:12Z");
	proto_pins_free(&pins);

	ck_assert_int_eq(proto_parse_file_pins("", 0, &pins, &err), 0);
	ck_assert_uint_eq(pins.n, 0);

	/* a listing line (with a path) is not a file's line */
	v = "0+1 owner=0 holder=- since=2026-11-25T09:40:00Z\n"
	    "f 0+1 owner=0 holder=- since=2026-11-25T09:40:00Z\n";
	ck_assert_int_eq(proto_parse_file_pins(v, strlen(v), &pins, &err),
			 -EINVAL);
	ck_assert_uint_eq(pins.n, 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "line 2"));
	v = "0+1 owner=0 since=2026-11-25T09:40:00Z";
	ck_assert_int_eq(proto_parse_file_pins(v, strlen(v), &pins, &err),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "no holder="));
	ck_assert_int_eq(
		proto_parse_file_pins("0+1 owner=0\0x", 13, &pins, &err),
		-EINVAL);
}
END_TEST

START_TEST(test_since)
{
	static const struct {
		const char *s;
		int64_t want;
	} ok[] = {
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2026-11-25T09:40:00Z", 1795599600 },
		{ "2000-02-29T23:59:59z", 951868799 },
		{ "2026-01-01T00:00:00.123456789+00:00", 1767225600 },
		{ "2026-01-01T02:00:00+02:00", 1767225600 },
		{ "2025-12-31T23:00:00-01:00", 1767225600 },
		{ "1969-12-31T23:59:59Z", -1 },
	};
	static const char *bad[] = {
		"",
		"1Z",
		"2026-11-25 09:40:00Z",
		"2026-11-25T09:40:00",
		"2026-13-01T00:00:00Z",
		"2026-02-30T00:00:00Z",
		"2026-11-25T24:00:00Z",
		"2026-11-25T09:40:00.Z",
		"2026-11-25T09:40:00+0200",
		"2026-11-25T09:40:00Zx",
		"2026-1-25T09:40:00Z",
	};
	int64_t sec;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_msg(proto_parse_since(ok[i].s, &sec) == 0,
			      "'%s' refused", ok[i].s);
		ck_assert_msg(sec == ok[i].want, "'%s': %lld, not %lld",
			      ok[i].s, (long long)sec, (long long)ok[i].want);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(proto_parse_since(bad[i], &sec) == -EINVAL,
			      "'%s' accepted", bad[i]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proto-file");
	TCase *tc = tcase_create("file");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_file_pins);
	tcase_add_test(tc, test_since);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
