// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for rdmafsctl's reading of the pin listing and the status
 * (tools/ctl_parse.c): escapes, lines, pages and the walk over them, fed
 * through a fake getxattr so that races a mount cannot reproduce on
 * demand (a value growing between probe and fetch, a page vanishing) are
 * covered too.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/proto_parse.h"

/* ---- a fake mount root: named values, with scripted misbehaviour ---- */

#define FAKE_MAX 64

struct fake {
	const char *name[FAKE_MAX];
	char *value[FAKE_MAX];
	int n;
	/* the value of grow_name gains a byte before each of its fetches */
	const char *grow_name;
	int grow_times;
	/* vanish_name reads as ENODATA that many times */
	const char *vanish_name;
	int vanish_times;
	int calls;
};

static void fake_add(struct fake *f, const char *name, const char *value)
{
	ck_assert_int_lt(f->n, FAKE_MAX);
	f->name[f->n] = name;
	f->value[f->n] = strdup(value);
	ck_assert_ptr_nonnull(f->value[f->n]);
	f->n++;
}

static void fake_free(struct fake *f)
{
	int i;

	for (i = 0; i < f->n; i++)
		free(f->value[i]);
}

static ssize_t fake_get(void *ctx, const char *name, void *buf, size_t size)
{
	struct fake *f = ctx;
	size_t len;
	int i;

	f->calls++;
	if (f->vanish_name && !strcmp(name, f->vanish_name) &&
	    f->vanish_times > 0) {
		f->vanish_times--;
		return -ENODATA;
	}
	for (i = 0; i < f->n; i++) {
		if (strcmp(f->name[i], name))
			continue;
		if (buf && f->grow_name && !strcmp(name, f->grow_name) &&
		    f->grow_times > 0) {
			size_t old = strlen(f->value[i]);
			char *v = realloc(f->value[i], old + 2);

			ck_assert_ptr_nonnull(v);
			/* grows by a blank line: still a valid page */
			v[old] = '\n';
			v[old + 1] = '\0';
			f->value[i] = v;
			f->grow_times--;
		}
		len = strlen(f->value[i]);
		if (!size)
			return (ssize_t)len;
		if (size < len)
			return -ERANGE;
		memcpy(buf, f->value[i], len);
		return (ssize_t)len;
	}
	return -ENODATA;
}

/* ---- escapes ---- */

START_TEST(test_unescape)
{
	static const struct {
		const char *in;
		const char *out; /* NULL: -EINVAL */
		size_t out_len;
	} cases[] = {
		{ "plain/file", "plain/file", 10 },
		{ "a\\040b", "a b", 3 },
		{ "\\011tab\\012nl", "\ttab\nnl", 7 },
		{ "back\\134slash", "back\\slash", 10 },
		{ "\\043hash", "#hash", 5 },
		{ "x\\101\\377", "xA\377", 3 },
		{ "", "", 0 },
		{ "\\", NULL, 0 },
		{ "a\\04", NULL, 0 },
		{ "a\\048", NULL, 0 },
		{ "a\\x41", NULL, 0 },
		{ "a\\400", NULL, 0 },
		{ "a\\000", NULL, 0 },
		{ "raw space", NULL, 0 },
		{ "raw\ttab", NULL, 0 },
		{ "raw\nnl", NULL, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = NULL;
		size_t len = 0;
		int ret = proto_unescape(cases[i].in, strlen(cases[i].in), &out,
					 &len);

		if (!cases[i].out) {
			ck_assert_msg(ret == -EINVAL, "'%s' gave %d",
				      cases[i].in, ret);
			continue;
		}
		ck_assert_msg(ret == 0, "'%s' gave %d", cases[i].in, ret);
		ck_assert_uint_eq(len, cases[i].out_len);
		ck_assert(!memcmp(out, cases[i].out, len));
		ck_assert_int_eq(out[len], '\0');
		free(out);
	}
	/* a NUL inside the bytes given is refused, not cut at */
	{
		char *out;
		size_t len;

		ck_assert_int_eq(proto_unescape("a\0b", 3, &out, &len),
				 -EINVAL);
	}
}
END_TEST

/* ---- lines ---- */

static struct proto_pin parse_ok(const char *line)
{
	struct proto_pin pin;
	const char *why = NULL;
	int ret = proto_parse_pin_line(line, strlen(line), &pin, &why);

	ck_assert_msg(ret == 0, "'%s' refused: %s", line, why ? why : "?");
	return pin;
}

START_TEST(test_line_normal)
{
	struct proto_pin p;

	p = parse_ok(
		"dir/file 0+1048576 owner=0 holder=- since=2026-11-25T09:40:00Z");
	ck_assert_str_eq(p.path, "dir/file");
	ck_assert_uint_eq(p.path_len, 8);
	ck_assert(!p.all);
	ck_assert_uint_eq(p.off, 0);
	ck_assert_uint_eq(p.len, 1048576);
	ck_assert_uint_eq(p.owner, 0);
	ck_assert_int_eq(p.holder, 0);
	ck_assert_str_eq(p.since, "2026-11-25T09:40:00Z");
	free(p.path);

	p = parse_ok(
		"f 4096+4096 owner=4294967295 holder=- since=2026-01-01T00:00:00.123456789+00:00");
	ck_assert_uint_eq(p.off, 4096);
	ck_assert_uint_eq(p.owner, 4294967295u);
	ck_assert_str_eq(p.since, "2026-01-01T00:00:00.123456789+00:00");
	free(p.path);

	p = parse_ok(
		"f 9223372036854775806+1 owner=1 holder=- since=2026-01-01T00:00:00Z");
	ck_assert_uint_eq(p.off, 9223372036854775806ULL);
	free(p.path);
}
END_TEST

START_TEST(test_line_all_and_holder)
{
	struct proto_pin p;

	p = parse_ok("big all owner=1000 holder=- since=2026-11-25T09:41:12Z");
	ck_assert(p.all);
	ck_assert_uint_eq(p.off, 0);
	ck_assert_uint_eq(p.len, 0);
	ck_assert_uint_eq(p.owner, 1000);
	free(p.path);

	p = parse_ok("f 0+1 owner=1000 holder=4242 since=2026-11-25T09:41:12Z");
	ck_assert_int_eq(p.holder, 4242);
	free(p.path);

	/* fields in another order, and ones this version does not know */
	p = parse_ok(
		"f 0+1 since=2026-11-25T09:41:12Z mode=rw holder=7 owner=3 x=");
	ck_assert_int_eq(p.holder, 7);
	ck_assert_uint_eq(p.owner, 3);
	free(p.path);
}
END_TEST

START_TEST(test_line_escaped_path)
{
	struct proto_pin p;

	p = parse_ok(
		"my\\040dir/\\043tab\\011nl\\012back\\134 0+1 owner=0 holder=- since=2026-11-25T09:40:00Z");
	ck_assert_uint_eq(p.path_len, strlen("my dir/#tab\tnl\nback\\"));
	ck_assert_str_eq(p.path, "my dir/#tab\tnl\nback\\");
	free(p.path);
}
END_TEST

static const char *const bad_lines[] = {
	"",
	"   ",
	"path",
	"path 0+1",
	"path 0+1 owner=0 holder=-",
	"path 0+1 owner=0 since=2026-11-25T09:40:00Z",
	"path 0+1 holder=- since=2026-11-25T09:40:00Z",
	/* ranges: plain decimal only, length >= 1, within off_t */
	"path 0+0 owner=0 holder=- since=2026-11-25T09:40:00Z",
	"path 01+1 owner=0 holder=- since=2026-11-25T09:40:00Z",
	"path 0x10+1 owner=0 holder=- since=2026-11-25T09:40:00Z",
	"path 0+1M owner=0 holder=- since=2026-11-25T09:40:00Z",
	"path -1+1 owner=0 holder=- since=2026-11-25T09:40:00Z",
	"path 1+ owner=0 holder=- since=2026-11-25T09:40:00Z",
	"path +1 owner=0 holder=- since=2026-11-25T09:40:00Z",
	"path 1+1+1 owner=0 holder=- since=2026-11-25T09:40:00Z",
	"path 1 owner=0 holder=- since=2026-11-25T09:40:00Z",
	"path ALL owner=0 holder=- since=2026-11-25T09:40:00Z",
	"path 9223372036854775807+1 owner=0 holder=- since=2026-11-25T09:40:00Z",
	"path 18446744073709551616+1 owner=0 holder=- since=2026-11-25T09:40:00Z",
	/* fields */
	"path 0+1 owner=-1 holder=- since=2026-11-25T09:40:00Z",
	"path 0+1 owner=4294967296 holder=- since=2026-11-25T09:40:00Z",
	"path 0+1 owner= holder=- since=2026-11-25T09:40:00Z",
	"path 0+1 owner=0 owner=0 holder=- since=2026-11-25T09:40:00Z",
	"path 0+1 owner=0 holder=0 since=2026-11-25T09:40:00Z",
	"path 0+1 owner=0 holder=abc since=2026-11-25T09:40:00Z",
	"path 0+1 owner=0 holder=-- since=2026-11-25T09:40:00Z",
	"path 0+1 owner=0 holder=2147483648 since=2026-11-25T09:40:00Z",
	"path 0+1 owner=0 holder=- holder=1 since=2026-11-25T09:40:00Z",
	"path 0+1 owner=0 holder=- since=",
	"path 0+1 owner=0 holder=- since=yesterday",
	"path 0+1 owner=0 holder=- since=2026-11-25T09:40:00Z\"",
	"path 0+1 owner=0 holder=- since=1 since=2",
	"path 0+1 owner=0 holder=- since=2026-11-25T09:40:00Z stray",
	"path 0+1 owner=0 holder=- since=2026-11-25T09:40:00Z =x",
	/* the path */
	"bad\\escape 0+1 owner=0 holder=- since=2026-11-25T09:40:00Z",
	"bad\\000 0+1 owner=0 holder=- since=2026-11-25T09:40:00Z",
};

START_TEST(test_line_malformed)
{
	const char *line = bad_lines[_i];
	struct proto_pin pin = { 0 };
	const char *why = NULL;
	int ret;

	ret = proto_parse_pin_line(line, strlen(line), &pin, &why);
	ck_assert_msg(ret == -EINVAL, "'%s' gave %d", line, ret);
	ck_assert_msg(why && *why, "'%s' refused without a reason", line);
	ck_assert_ptr_null(pin.path);
}
END_TEST

/* ---- pages ---- */

#define LINE(path, range) \
	path " " range " owner=0 holder=- since=2026-11-25T09:40:00Z\n"

START_TEST(test_page_plain)
{
	struct proto_pins pins = { 0 };
	struct proto_err err = { { 0 } };
	const char page[] = LINE("a", "0+1")
		LINE("b", "all") "\n" LINE("c\\040d", "4096+8192");
	char *next = (char *)"unset";

	ck_assert_int_eq(proto_parse_page(page, strlen(page), "p", 0, &pins,
					  &next, &err),
			 0);
	ck_assert_ptr_null(next);
	ck_assert_uint_eq(pins.n, 3);
	ck_assert_str_eq(pins.v[0].path, "a");
	ck_assert(pins.v[1].all);
	ck_assert_str_eq(pins.v[2].path, "c d");
	ck_assert_uint_eq(pins.v[2].len, 8192);
	proto_pins_free(&pins);
	ck_assert_uint_eq(pins.n, 0);

	/* no final newline, trailing NULs, an empty page */
	ck_assert_int_eq(proto_parse_page("a 0+1 owner=0 holder=- since=1Z\0\0",
					  34, "p", 0, &pins, &next, &err),
			 0);
	ck_assert_uint_eq(pins.n, 1);
	ck_assert_str_eq(pins.v[0].since, "1Z");
	proto_pins_free(&pins);
	ck_assert_int_eq(proto_parse_page("", 0, "p", 0, &pins, &next, &err),
			 0);
	ck_assert_uint_eq(pins.n, 0);
	ck_assert_ptr_null(next);
}
END_TEST

START_TEST(test_page_more)
{
	struct proto_pins pins = { 0 };
	struct proto_err err = { { 0 } };
	const char page[] = LINE("a", "0+1") "#more user.rdmafs.pins.1\n\n";
	char *next = NULL;

	ck_assert_int_eq(proto_parse_page(page, strlen(page), "p", 3, &pins,
					  &next, &err),
			 0);
	ck_assert_str_eq(next, "user.rdmafs.pins.1");
	ck_assert_uint_eq(pins.n, 1);
	ck_assert_uint_eq(pins.v[0].page, 3);
	free(next);
	proto_pins_free(&pins);

	/* without a final newline */
	ck_assert_int_eq(proto_parse_page("#more user.rdmafs.pins.7", 24, "p",
					  0, &pins, &next, &err),
			 0);
	ck_assert_str_eq(next, "user.rdmafs.pins.7");
	free(next);
}
END_TEST

static const char *const bad_pages[] = {
	/* #more must be last */
	"#more user.rdmafs.pins.1\n" LINE("a", "0+1"),
	"#more user.rdmafs.pins.1\n#more user.rdmafs.pins.2\n",
	/* with exactly one name */
	"#more\n",
	"#more \n",
	"#more a b\n",
	"#moreuser.rdmafs.pins.1\n",
	/* no other directive exists */
	"#truncated\n",
	LINE("a", "0+1") "#\n",
	/* a malformed line anywhere spoils the page */
	LINE("a", "0+1") LINE("b", "1+0") LINE("c", "0+1"),
	LINE("a", "0+1") "garbage\n",
};

START_TEST(test_page_malformed)
{
	const char *page = bad_pages[_i];
	struct proto_pins pins = { 0 };
	struct proto_err err = { { 0 } };
	char *next = NULL;

	ck_assert_int_eq(proto_parse_page(page, strlen(page), "the-page", 0,
					  &pins, &next, &err),
			 -EINVAL);
	ck_assert_ptr_null(next);
	ck_assert_msg(strstr(err.msg, "the-page, line "), "message '%s'",
		      err.msg);
	proto_pins_free(&pins);
}
END_TEST

START_TEST(test_page_error_names_line)
{
	struct proto_pins pins = { 0 };
	struct proto_err err = { { 0 } };
	const char page[] = LINE("a", "0+1") LINE("b", "0+1") "b 0+x\n";
	char *next = NULL;

	ck_assert_int_eq(proto_parse_page(page, strlen(page),
					  "user.rdmafs.pins.4", 0, &pins, &next,
					  &err),
			 -EINVAL);
	ck_assert_msg(strstr(err.msg, "user.rdmafs.pins.4, line 3: bad range"),
		      "message '%s'", err.msg);
	ck_assert_msg(strstr(err.msg, "'b 0+x'"), "message '%s'", err.msg);
	proto_pins_free(&pins);

	/* a NUL in the middle is not a trailing one */
	ck_assert_int_eq(
		proto_parse_page("a\0 0+1", 6, "p", 0, &pins, &next, &err),
		-EINVAL);
	proto_pins_free(&pins);
}
END_TEST

/* ---- reading values ---- */

START_TEST(test_read_value)
{
	struct fake f = { .n = 0 };
	char *val;
	size_t len;

	fake_add(&f, "x", "hello");
	fake_add(&f, "empty", "");
	ck_assert_int_eq(proto_read_value(fake_get, &f, "x", &val, &len), 0);
	ck_assert_uint_eq(len, 5);
	ck_assert_str_eq(val, "hello");
	free(val);

	ck_assert_int_eq(proto_read_value(fake_get, &f, "empty", &val, &len),
			 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(val, "");
	free(val);

	ck_assert_int_eq(proto_read_value(fake_get, &f, "nope", &val, &len),
			 -ENODATA);

	/* grew twice between probe and fetch: asked again, read whole */
	f.grow_name = "x";
	f.grow_times = 2;
	ck_assert_int_eq(proto_read_value(fake_get, &f, "x", &val, &len), 0);
	ck_assert_str_eq(val, "hello\n\n");
	free(val);

	/* never stops growing: gives up instead of spinning */
	f.grow_times = 1000;
	ck_assert_int_eq(proto_read_value(fake_get, &f, "x", &val, &len),
			 -EAGAIN);
	fake_free(&f);
}
END_TEST

/* ---- walking the pages ---- */

START_TEST(test_read_pins_pages)
{
	struct fake f = { .n = 0 };
	struct proto_pins pins = { 0 };
	struct proto_err err;

	fake_add(&f, "user.rdmafs.pins",
		 LINE("a", "0+1")
			 LINE("b", "all") "#more user.rdmafs.pins.1\n");
	fake_add(&f, "user.rdmafs.pins.1",
		 LINE("c", "0+1") "#more user.rdmafs.pins.2\n");
	fake_add(&f, "user.rdmafs.pins.2", LINE("\\043d", "5+5"));
	ck_assert_int_eq(proto_read_pins(fake_get, &f, &pins, &err), 0);
	ck_assert_uint_eq(pins.n, 4);
	ck_assert_str_eq(pins.v[0].path, "a");
	ck_assert_str_eq(pins.v[1].path, "b");
	ck_assert_str_eq(pins.v[2].path, "c");
	ck_assert_str_eq(pins.v[3].path, "#d");
	ck_assert_uint_eq(pins.v[3].page, 2);
	proto_pins_free(&pins);
	fake_free(&f);
}
END_TEST

START_TEST(test_read_pins_none)
{
	struct fake f = { .n = 0 };
	struct proto_pins pins = { 0 };
	struct proto_err err;

	fake_add(&f, "user.rdmafs.pins", "");
	ck_assert_int_eq(proto_read_pins(fake_get, &f, &pins, &err), 0);
	ck_assert_uint_eq(pins.n, 0);
	fake_free(&f);

	/* not rdmafs: the caller must see ENODATA itself */
	f = (struct fake){ .n = 0 };
	ck_assert_int_eq(proto_read_pins(fake_get, &f, &pins, &err), -ENODATA);
}
END_TEST

START_TEST(test_read_pins_bad_next)
{
	static const char *const nexts[] = {
		"#more user.rdmafs.pins\n", /* back to the start */
		"#more user.rdmafs.pins.0\n",  "#more user.rdmafs.pins.01\n",
		"#more user.rdmafs.pinsX1\n",  "#more user.rdmafs.status\n",
		"#more trusted.rdmafs.pins\n",
	};
	size_t i;

	for (i = 0; i < sizeof(nexts) / sizeof(nexts[0]); i++) {
		struct fake f = { .n = 0 };
		struct proto_pins pins = { 0 };
		struct proto_err err;

		fake_add(&f, "user.rdmafs.pins", nexts[i]);
		ck_assert_msg(proto_read_pins(fake_get, &f, &pins, &err) ==
				      -EINVAL,
			      "'%s' accepted", nexts[i]);
		ck_assert_ptr_nonnull(strstr(err.msg, "next page"));
		fake_free(&f);
	}
}
END_TEST

START_TEST(test_read_pins_loop)
{
	/* a page naming itself or an earlier one would never end */
	struct fake f = { .n = 0 };
	struct proto_pins pins = { 0 };
	struct proto_err err;

	fake_add(&f, "user.rdmafs.pins", "#more user.rdmafs.pins.2\n");
	fake_add(&f, "user.rdmafs.pins.2", "#more user.rdmafs.pins.2\n");
	ck_assert_int_eq(proto_read_pins(fake_get, &f, &pins, &err), -EINVAL);
	ck_assert_uint_eq(pins.n, 0);
	fake_free(&f);

	f = (struct fake){ .n = 0 };
	fake_add(&f, "user.rdmafs.pins", "#more user.rdmafs.pins.3\n");
	fake_add(&f, "user.rdmafs.pins.3", "#more user.rdmafs.pins.1\n");
	ck_assert_int_eq(proto_read_pins(fake_get, &f, &pins, &err), -EINVAL);
	fake_free(&f);
}
END_TEST

START_TEST(test_read_pins_malformed_later_page)
{
	struct fake f = { .n = 0 };
	struct proto_pins pins = { 0 };
	struct proto_err err;

	fake_add(&f, "user.rdmafs.pins",
		 LINE("a", "0+1") "#more user.rdmafs.pins.1\n");
	fake_add(&f, "user.rdmafs.pins.1", LINE("b", "0+1") "oops\n");
	ck_assert_int_eq(proto_read_pins(fake_get, &f, &pins, &err), -EINVAL);
	/* nothing half-read is handed out */
	ck_assert_uint_eq(pins.n, 0);
	ck_assert_ptr_null(pins.v);
	ck_assert_msg(strstr(err.msg, "user.rdmafs.pins.1, line 2"),
		      "message '%s'", err.msg);
	fake_free(&f);
}
END_TEST

START_TEST(test_read_pins_vanished_page)
{
	struct fake f = { .n = 0 };
	struct proto_pins pins = { 0 };
	struct proto_err err;

	fake_add(&f, "user.rdmafs.pins",
		 LINE("a", "0+1") "#more user.rdmafs.pins.1\n");
	fake_add(&f, "user.rdmafs.pins.1", LINE("b", "0+1"));
	/* once: the walk starts over and reads each pin once */
	f.vanish_name = "user.rdmafs.pins.1";
	f.vanish_times = 1;
	ck_assert_int_eq(proto_read_pins(fake_get, &f, &pins, &err), 0);
	ck_assert_uint_eq(pins.n, 2);
	ck_assert_str_eq(pins.v[0].path, "a");
	ck_assert_str_eq(pins.v[1].path, "b");
	proto_pins_free(&pins);

	/* for good: a clear "try again", not a short listing */
	f.vanish_times = 1000;
	ck_assert_int_eq(proto_read_pins(fake_get, &f, &pins, &err), -EAGAIN);
	ck_assert_uint_eq(pins.n, 0);
	fake_free(&f);
}
END_TEST

START_TEST(test_read_pins_repeats)
{
	struct fake f = { .n = 0 };
	struct proto_pins pins = { 0 };
	struct proto_err err;

	/* b moved down to page 1 between the reads: listed once */
	fake_add(&f, "user.rdmafs.pins",
		 LINE("a", "0+1") LINE("b", "0+1")
			 LINE("b", "0+1") "#more user.rdmafs.pins.1\n");
	fake_add(&f, "user.rdmafs.pins.1",
		 LINE("b", "0+1") LINE("b", "0+2")
			 LINE("c", "0+1") "#more user.rdmafs.pins.2\n");
	fake_add(&f, "user.rdmafs.pins.2", LINE("c", "0+1") LINE("a", "0+1"));
	ck_assert_int_eq(proto_read_pins(fake_get, &f, &pins, &err), 0);
	/* a, b, b (twice on one page: the daemon said so), b 0+2, c */
	ck_assert_uint_eq(pins.n, 5);
	ck_assert_str_eq(pins.v[0].path, "a");
	ck_assert_str_eq(pins.v[1].path, "b");
	ck_assert_str_eq(pins.v[2].path, "b");
	ck_assert_str_eq(pins.v[3].path, "b");
	ck_assert_uint_eq(pins.v[3].len, 2);
	ck_assert_str_eq(pins.v[4].path, "c");
	proto_pins_free(&pins);
	fake_free(&f);
}
END_TEST

/* As the daemon pages: whole lines, each value under 64 KiB. */
START_TEST(test_read_pins_many)
{
	enum { NPINS = 1500, PAGE_MAX = 65536 };
	struct fake f = { .n = 0 };
	struct proto_pins pins = { 0 };
	static char names[FAKE_MAX][32];
	struct proto_err err;
	char line[512], *page;
	size_t len = 0, i;
	int npage = 0;

	page = malloc(PAGE_MAX + 1);
	ck_assert_ptr_nonnull(page);
	for (i = 0; i < NPINS; i++) {
		int n = snprintf(
			line, sizeof(line),
			"dir\\040with\\040blanks/%0200zu %zu+4096 owner=%zu holder=- since=2026-11-25T09:40:00Z\n",
			i, i * 4096, i % 7);
		const char *more = "#more user.rdmafs.pins.NN\n";

		if (len + (size_t)n + strlen(more) > PAGE_MAX) {
			snprintf(names[npage + 1], sizeof(names[0]),
				 "user.rdmafs.pins.%d", npage + 1);
			len += (size_t)sprintf(page + len, "#more %s\n",
					       names[npage + 1]);
			ck_assert_uint_le(len, PAGE_MAX);
			fake_add(&f, npage ? names[npage] : "user.rdmafs.pins",
				 page);
			npage++;
			len = 0;
		}
		memcpy(page + len, line, (size_t)n + 1);
		len += (size_t)n;
	}
	fake_add(&f, npage ? names[npage] : "user.rdmafs.pins", page);
	ck_assert_int_ge(npage, 4);

	ck_assert_int_eq(proto_read_pins(fake_get, &f, &pins, &err), 0);
	ck_assert_uint_eq(pins.n, NPINS);
	for (i = 0; i < NPINS; i++) {
		snprintf(line, sizeof(line), "dir with blanks/%0200zu", i);
		ck_assert_str_eq(pins.v[i].path, line);
		ck_assert_uint_eq(pins.v[i].off, i * 4096);
		ck_assert_uint_eq(pins.v[i].owner, i % 7);
	}
	proto_pins_free(&pins);
	fake_free(&f);
	free(page);
}
END_TEST

/* ---- status ---- */

START_TEST(test_status)
{
	const char val[] = "version=0.1.0\npins=3\n\nfiles_pinned=2\n"
			   "policy=refuse\nempty=\nmax_pins=65536\n";
	struct proto_kv *kv;
	struct proto_err err;
	size_t n;

	ck_assert_int_eq(proto_parse_status(val, strlen(val), &kv, &n, &err),
			 0);
	ck_assert_uint_eq(n, 6);
	ck_assert_str_eq(kv[0].key, "version");
	ck_assert_str_eq(kv[0].val, "0.1.0");
	ck_assert_str_eq(kv[2].key, "files_pinned");
	ck_assert_str_eq(kv[3].val, "refuse");
	ck_assert_str_eq(kv[4].val, "");
	ck_assert_str_eq(kv[5].val, "65536");
	proto_kv_free(kv, n);

	ck_assert_int_eq(proto_parse_status("", 0, &kv, &n, &err), 0);
	ck_assert_uint_eq(n, 0);
	proto_kv_free(kv, n);

	ck_assert_int_eq(
		proto_parse_status("a=1\nnoequals\n", 12, &kv, &n, &err),
		-EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "line 2"));
	ck_assert_int_eq(proto_parse_status("=1\n", 3, &kv, &n, &err), -EINVAL);
	ck_assert_int_eq(proto_parse_status("a b=1\n", 6, &kv, &n, &err),
			 -EINVAL);
	ck_assert_int_eq(proto_parse_status("a=1\na=2\n", 8, &kv, &n, &err),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "repeated"));
}
END_TEST

static Suite *ctl_parse_suite(void)
{
	Suite *s = suite_create("ctl-parse");
	TCase *tc;

	tc = tcase_create("lines");
	tcase_add_test(tc, test_unescape);
	tcase_add_test(tc, test_line_normal);
	tcase_add_test(tc, test_line_all_and_holder);
	tcase_add_test(tc, test_line_escaped_path);
	tcase_add_loop_test(tc, test_line_malformed, 0,
			    sizeof(bad_lines) / sizeof(bad_lines[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("pages");
	tcase_add_test(tc, test_page_plain);
	tcase_add_test(tc, test_page_more);
	tcase_add_loop_test(tc, test_page_malformed, 0,
			    sizeof(bad_pages) / sizeof(bad_pages[0]));
	tcase_add_test(tc, test_page_error_names_line);
	suite_add_tcase(s, tc);

	tc = tcase_create("walk");
	tcase_add_test(tc, test_read_value);
	tcase_add_test(tc, test_read_pins_pages);
	tcase_add_test(tc, test_read_pins_none);
	tcase_add_test(tc, test_read_pins_bad_next);
	tcase_add_test(tc, test_read_pins_loop);
	tcase_add_test(tc, test_read_pins_malformed_later_page);
	tcase_add_test(tc, test_read_pins_vanished_page);
	tcase_add_test(tc, test_read_pins_repeats);
	tcase_add_test(tc, test_read_pins_many);
	suite_add_tcase(s, tc);

	tc = tcase_create("status");
	tcase_add_test(tc, test_status);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ctl_parse_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
