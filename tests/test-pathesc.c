// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for the listing's path escape and the root unpin value
 * (lib/core/pathesc.c): one codec, strict on what it reads.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pathesc.h"

/* Unescapes the NUL-terminated @s; returns the error, the result in *@out. */
static int unesc(const char *s, char **out, size_t *len)
{
	*out = NULL;
	return pesc_unescape(s, strlen(s), out, len);
}

START_TEST(test_nul_is_refused)
{
	char *out;

	/* issue 8: "\000" used to cut the path short ("a" of "a\000b"). */
	ck_assert_int_eq(unesc("a\\000b", &out, NULL), -EINVAL);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(unesc("\\000", &out, NULL), -EINVAL);
	ck_assert_int_eq(unesc("x\\000", &out, NULL), -EINVAL);
	/* A raw NUL inside the bytes given is no path either. */
	ck_assert_int_eq(pesc_unescape("a\0b", 3, &out, NULL), -EINVAL);
}
END_TEST

START_TEST(test_malformed_escapes)
{
	static const char *const bad[] = {
		"\\",	 "a\\",	  "a\\1",  "a\\12",
		"\\8aa", "\\18a", "\\400", "\\777",
		"\\x41", "\\\\",  "a b",   "a\tb",
		"a\nb",	 " ",	  "\\0",   "\\1234" /* ok: \123 then 4 */,
	};
	size_t i;
	char *out;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int err = unesc(bad[i], &out, NULL);

		if (strcmp(bad[i], "\\1234") == 0) {
			ck_assert_int_eq(err, 0);
			ck_assert_str_eq(out, "S4");
			free(out);
			continue;
		}
		ck_assert_msg(err == -EINVAL, "\"%s\" gave %d", bad[i], err);
	}
}
END_TEST

START_TEST(test_escape_rules)
{
	char out[64], *back;
	size_t len;

	ck_assert_int_eq(pesc_escape("a b\tc\nd\\e", out, sizeof(out)), 21);
	ck_assert_str_eq(out, "a\\040b\\011c\\012d\\134e");
	/* '#' only where a line starts, where it would read as "#more". */
	ck_assert_int_gt(pesc_escape("#x#", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "\\043x#");
	ck_assert_int_eq(unesc(out, &back, &len), 0);
	ck_assert_str_eq(back, "#x#");
	ck_assert_uint_eq(len, 3);
	free(back);
	/* Too small: nothing, never a cut path. */
	ck_assert_int_eq(pesc_escape("a b", out, 5), -ENAMETOOLONG);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(pesc_escape("a b", out, 7), 6);
}
END_TEST

/* Every byte 1..255, alone and in company, comes back the same. */
START_TEST(test_round_trip_every_byte)
{
	char path[4], all[256], esc[PESC_MAX(255)], *back;
	size_t len;
	int c, e;

	for (c = 1; c < 256; c++) {
		path[0] = (char)c;
		path[1] = 'x';
		path[2] = (char)c;
		path[3] = '\0';
		e = pesc_escape(path, esc, sizeof(esc));
		ck_assert_int_ge(e, 3);
		ck_assert_ptr_null(memchr(esc, ' ', (size_t)e));
		ck_assert_ptr_null(memchr(esc, '\t', (size_t)e));
		ck_assert_ptr_null(memchr(esc, '\n', (size_t)e));
		ck_assert_int_ne(esc[0], '#');
		ck_assert_int_eq(pesc_unescape(esc, (size_t)e, &back, &len), 0);
		ck_assert_uint_eq(len, 3);
		ck_assert_int_eq(memcmp(back, path, 4), 0);
		free(back);
		/* Any byte may also be written escaped, and reads the same. */
		snprintf(esc, sizeof(esc), "\\%03o", c);
		ck_assert_int_eq(unesc(esc, &back, &len), 0);
		ck_assert_uint_eq(len, 1);
		ck_assert_int_eq((unsigned char)back[0], c);
		free(back);
		all[c - 1] = (char)c;
	}
	all[255] = '\0';
	e = pesc_escape(all, esc, sizeof(esc));
	ck_assert_int_gt(e, 255);
	ck_assert_int_eq(pesc_unescape(esc, (size_t)e, &back, &len), 0);
	ck_assert_uint_eq(len, 255);
	ck_assert_int_eq(memcmp(back, all, 256), 0);
	free(back);
}
END_TEST

/* Parses @v (NUL-terminated) with the ino token allowed. */
static int unpin_value(const char *v, char **path, struct rng *r, uint64_t *ino)
{
	*path = NULL;
	return pesc_parse_path_range(v, strlen(v), path, r, ino);
}

START_TEST(test_unpin_value)
{
	struct rng r;
	uint64_t ino = 99;
	char *path;

	ck_assert_int_eq(unpin_value("d/f 0+1M", &path, &r, &ino), 0);
	ck_assert_str_eq(path, "d/f");
	ck_assert(!r.all && r.off == 0 && r.len == 1 << 20);
	ck_assert_uint_eq(ino, 0); /* not given */
	free(path);

	ck_assert_int_eq(unpin_value("a\\040b all ino=1234\n", &path, &r, &ino),
			 0);
	ck_assert_str_eq(path, "a b");
	ck_assert(r.all);
	ck_assert_uint_eq(ino, 1234);
	free(path);

	ck_assert_int_eq(unpin_value("f 4096+4K ino=18446744073709551615",
				     &path, &r, &ino),
			 0);
	ck_assert_uint_eq(ino, UINT64_MAX);
	ck_assert(r.off == 4096 && r.len == 4096);
	free(path);

	/* strlen() + 1, as setfattr and C callers send it. */
	ck_assert_int_eq(
		pesc_parse_path_range("f 0+1 ino=7", 12, &path, &r, &ino), 0);
	ck_assert_uint_eq(ino, 7);
	free(path);
}
END_TEST

START_TEST(test_unpin_value_malformed)
{
	static const char *const bad[] = {
		"",
		"f",
		" 0+1",
		"f ",
		"f  0+1",
		"f 0+1 ",
		"f 0+0",
		"f 0+1 ino=",
		"f 0+1 ino=0",
		"f 0+1 ino=012",
		"f 0+1 ino=-1",
		"f 0+1 ino=+1",
		"f 0+1 ino=1x",
		"f 0+1 ino=0x10",
		"f 0+1 ino=18446744073709551616",
		"f 0+1 ino=99999999999999999999",
		"f 0+1 ino=1 ino=1",
		"f 0+1 ino=1 x",
		"f 0+1 inode=1",
		"f 0+1 1",
		"f ino=1 0+1",
		"a\\000b 0+1",
		"a\\000b 0+1 ino=1",
		"a\\4 0+1",
		"a\\400 0+1",
	};
	struct rng r;
	uint64_t ino;
	size_t i;
	char *path;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int err = unpin_value(bad[i], &path, &r, &ino);

		ck_assert_msg(err == -EINVAL, "\"%s\" gave %d", bad[i], err);
		ck_assert_ptr_null(path);
	}
	/* A caller that takes no ino refuses the token. */
	ck_assert_int_eq(
		pesc_parse_path_range("f 0+1 ino=3", 11, &path, &r, NULL),
		-EINVAL);
	ck_assert_int_eq(pesc_parse_path_range("f 0+1", 5, &path, &r, NULL), 0);
	free(path);
}
END_TEST

/*
 * PESC_WHOLE: exactly the whole-file pin, where `all` is every pin of
 * the caller; only the calls that take it accept it.
 */
START_TEST(test_unpin_whole)
{
	struct rng r;
	uint64_t ino;
	bool whole = true;
	char *path = NULL;

	ck_assert_int_eq(pesc_parse_unpin("d/f whole ino=5", 15, &path, &r,
					  &ino, &whole),
			 0);
	ck_assert_str_eq(path, "d/f");
	ck_assert(r.all && whole && ino == 5);
	free(path);
	ck_assert_int_eq(
		pesc_parse_unpin("d/f all", 7, &path, &r, &ino, &whole), 0);
	ck_assert(r.all && !whole);
	free(path);
	path = NULL;
	ck_assert_int_eq(
		pesc_parse_unpin("d/f wholes", 10, &path, &r, &ino, &whole),
		-EINVAL);
	ck_assert_ptr_null(path);
	/* not a range: the plain parser refuses it */
	ck_assert_int_eq(pesc_parse_path_range("d/f whole", 9, &path, &r, &ino),
			 -EINVAL);
	ck_assert_ptr_null(path);

	ck_assert_int_eq(pesc_parse_unpin_range("whole\n", 6, &r, &whole), 0);
	ck_assert(r.all && whole);
	ck_assert_int_eq(pesc_parse_unpin_range("whole", 6, &r, &whole), 0);
	ck_assert(r.all && whole);
	ck_assert_int_eq(pesc_parse_unpin_range("all", 3, &r, &whole), 0);
	ck_assert(r.all && !whole);
	ck_assert_int_eq(pesc_parse_unpin_range("4K+4K", 5, &r, &whole), 0);
	ck_assert(!r.all && !whole && r.off == 4096 && r.len == 4096);
	ck_assert_int_eq(pesc_parse_unpin_range("whol", 4, &r, &whole),
			 -EINVAL);
	ck_assert_int_eq(pesc_parse_unpin_range("whole 0+1", 9, &r, &whole),
			 -EINVAL);
}
END_TEST

static Suite *pathesc_suite(void)
{
	Suite *s = suite_create("pathesc");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_nul_is_refused);
	tcase_add_test(tc, test_malformed_escapes);
	tcase_add_test(tc, test_escape_rules);
	tcase_add_test(tc, test_round_trip_every_byte);
	tcase_add_test(tc, test_unpin_value);
	tcase_add_test(tc, test_unpin_value_malformed);
	tcase_add_test(tc, test_unpin_whole);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pathesc_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
