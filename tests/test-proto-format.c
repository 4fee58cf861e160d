// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for the listing writer (lib/core/proto_format.c), read back
 * by the client's parser (lib/core/proto_parse.c): what the daemon
 * writes is exactly what librdmafs and rdmafsctl read.
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/proto_format.h"
#include "core/proto_parse.h"

/* Formats @p after @path, parses it back, and compares every field. */
static void round_trip(const char *path, const struct pin *p, const char *since)
{
	struct sbuf b = SBUF_INIT;
	struct proto_pin got;
	const char *why = NULL;
	int err;

	proto_format_pin_line(&b, path, p);
	ck_assert_int_eq(sbuf_err(&b), 0);
	ck_assert_uint_ge(b.len, 1);
	/* One line, ended by its newline. */
	ck_assert_int_eq(b.buf[b.len - 1], '\n');
	ck_assert_ptr_eq(memchr(b.buf, '\n', b.len), b.buf + b.len - 1);
	err = proto_parse_pin_line(b.buf, b.len - 1, &got, &why);
	ck_assert_msg(err == 0, "%s: %s", b.buf, why ? why : "?");
	ck_assert_uint_eq(got.path_len, strlen(path));
	ck_assert_int_eq(memcmp(got.path, path, got.path_len + 1), 0);
	ck_assert_int_eq(got.all, p->all);
	if (!p->all) {
		ck_assert_uint_eq(got.off, p->off);
		ck_assert_uint_eq(got.len, p->len);
	}
	ck_assert_uint_eq(got.owner, p->owner);
	ck_assert_int_eq(got.holder, p->holder);
	if (since)
		ck_assert_str_eq(got.since, since);
	free(got.path);
	sbuf_free(&b);
}

START_TEST(test_line_exact)
{
	struct pin p = { .off = 0,
			 .len = 1 << 20,
			 .owner = 0,
			 .since_ns = 1795599600LL * 1000000000 + 999999999 };
	struct sbuf b = SBUF_INIT;

	/* The format doc/pins.md shows, to the byte. */
	proto_format_pin_line(&b, "data/f", &p);
	ck_assert_str_eq(
		sbuf_str(&b),
		"data/f 0+1048576 owner=0 holder=- since=2026-11-25T09:40:00Z\n");
	sbuf_reset(&b);
	p = (struct pin){ .all = true, .owner = 1000, .holder = 4242 };
	proto_format_pin_line(&b, NULL, &p);
	ck_assert_str_eq(
		sbuf_str(&b),
		"all owner=1000 holder=4242 since=1970-01-01T00:00:00Z\n");
	sbuf_reset(&b);
	proto_format_pin_line(&b, "a b\\#", &p);
	ck_assert_str_eq(
		sbuf_str(&b),
		"a\\040b\\134# all owner=1000 holder=4242 since=1970-01-01T00:00:00Z\n");
	sbuf_free(&b);
}
END_TEST

START_TEST(test_round_trip_fields)
{
	struct pin p = { .off = 4096, .len = 8192, .owner = 1000 };
	char path[300];
	int c;

	round_trip("f", &p, "1970-01-01T00:00:00Z");
	p.holder = 77;
	p.owner = UINT32_MAX - 1;
	p.since_ns = 1795599600LL * 1000000000;
	round_trip("dir/sub/file", &p, "2026-11-25T09:40:00Z");
	p = (struct pin){ .off = INT64_MAX - 1, .len = 1, .holder = INT32_MAX };
	round_trip("big", &p, NULL);
	p = (struct pin){ .all = true, .owner = 0 };
	round_trip("#leading hash", &p, NULL);
	round_trip("?ino=1234", &p, NULL);
	/* Every byte 1..255 in a path reads back as itself. */
	for (c = 1; c < 256; c++) {
		snprintf(path, sizeof(path), "x%cy%c", c, c);
		round_trip(path, &p, NULL);
	}
	memset(path, 0, sizeof(path));
	for (c = 1; c < 256; c++)
		path[c - 1] = (char)c;
	round_trip(path, &p, NULL);
}
END_TEST

START_TEST(test_since)
{
	char buf[PROTO_SINCE_MAX];

	ck_assert_int_eq(proto_format_since(0, buf, sizeof(buf)), 20);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00Z");
	/* A second started is not yet the next one. */
	ck_assert_int_eq(proto_format_since(1999999999, buf, sizeof(buf)), 20);
	ck_assert_str_eq(buf, "1970-01-01T00:00:01Z");
	/* Before 1970, rounded down (not towards zero). */
	ck_assert_int_eq(proto_format_since(-1, buf, sizeof(buf)), 20);
	ck_assert_str_eq(buf, "1969-12-31T23:59:59Z");
	ck_assert_int_eq(proto_format_since(0, buf, 20), -ENOSPC);
	ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(test_page_names)
{
	char name[PROTO_PAGE_NAME_MAX];
	unsigned long pg;
	struct sbuf b = SBUF_INIT;

	proto_page_name(0, name, sizeof(name));
	ck_assert_str_eq(name, "user.rdmafs.pins");
	proto_page_name(12, name, sizeof(name));
	ck_assert_str_eq(name, "user.rdmafs.pins.12");
	ck_assert_int_lt(proto_page_name(ULONG_MAX, name, sizeof(name)),
			 (int)sizeof(name));
	ck_assert(proto_page_parse(name, &pg));
	ck_assert_uint_eq(pg, ULONG_MAX);

	ck_assert(proto_page_parse("user.rdmafs.pins", &pg) && pg == 0);
	ck_assert(proto_page_parse("user.rdmafs.pins.1", &pg) && pg == 1);
	ck_assert(proto_page_parse("user.rdmafs.pins.907", &pg) && pg == 907);
	ck_assert(!proto_page_parse("user.rdmafs.pins.", &pg));
	ck_assert(!proto_page_parse("user.rdmafs.pins.0", &pg));
	ck_assert(!proto_page_parse("user.rdmafs.pins.01", &pg));
	ck_assert(!proto_page_parse("user.rdmafs.pins.+1", &pg));
	ck_assert(!proto_page_parse("user.rdmafs.pins.-1", &pg));
	ck_assert(!proto_page_parse("user.rdmafs.pins.1x", &pg));
	ck_assert(!proto_page_parse("user.rdmafs.pins.99999999999999999999999",
				    &pg));
	ck_assert(!proto_page_parse("user.rdmafs.pinsx", &pg));
	ck_assert(!proto_page_parse("user.rdmafs.pin", &pg));

	/* The "#more" line names the next page as the parser expects it. */
	proto_format_more(&b, 0);
	ck_assert_str_eq(sbuf_str(&b), "#more user.rdmafs.pins.1\n");
	sbuf_free(&b);
}
END_TEST

/* A whole page with "#more" reads back through the page parser. */
START_TEST(test_page_round_trip)
{
	struct sbuf b = SBUF_INIT;
	struct proto_pins pins = { 0 };
	struct proto_err perr;
	struct pin p = { .off = 0, .len = 4096, .owner = 5 };
	char *next = NULL;

	proto_format_pin_line(&b, "one", &p);
	p.all = true;
	proto_format_pin_line(&b, "two words", &p);
	proto_format_more(&b, 3);
	ck_assert_int_eq(proto_parse_page(b.buf, b.len, "user.rdmafs.pins.3", 3,
					  &pins, &next, &perr),
			 0);
	ck_assert_uint_eq(pins.n, 2);
	ck_assert_str_eq(pins.v[0].path, "one");
	ck_assert_str_eq(pins.v[1].path, "two words");
	ck_assert(pins.v[1].all);
	ck_assert_str_eq(next, "user.rdmafs.pins.4");
	free(next);
	proto_pins_free(&pins);
	sbuf_free(&b);
}
END_TEST

static Suite *proto_format_suite(void)
{
	Suite *s = suite_create("proto-format");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_line_exact);
	tcase_add_test(tc, test_round_trip_fields);
	tcase_add_test(tc, test_since);
	tcase_add_test(tc, test_page_names);
	tcase_add_test(tc, test_page_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(proto_format_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
