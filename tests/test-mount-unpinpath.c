// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unpin by path through the mount root (doc/pins.md), with the optional
 * `ino=N` that librdmafs sends so that rdmafs_unpin(fd) never unpins
 * another file that took the name since (issue 8):
 *  - the number is the backing inode's, as stat(2) through the mount
 *    shows it;
 *  - ino of another file (the name renamed away, or replaced): ESTALE,
 *    nothing unpinned; the right ino unpins; no ino: as before;
 *  - a malformed value (a bad or repeated ino=, an unknown token, a
 *    "\000" in the path): EINVAL, nothing unpinned.
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "harness.h"
#include "pin-test-util.h"

#define UNPIN "user.rdmafs.unpin"

static struct mnt M;

/* @rel in the mount, into @buf (mnt_path()'s result does not last). */
static const char *mp(char *buf, const char *rel)
{
	snprintf(buf, PATH_MAX, "%s", mnt_path(&M, rel));
	return buf;
}

/* 0 or the errno of user.rdmafs.unpin = @v on the mount root. */
static int root_unpin(const char *v)
{
	return setxattr(M.mountpoint, UNPIN, v, strlen(v), 0) < 0 ? errno : 0;
}

static int root_unpinf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static int root_unpinf(const char *fmt, ...)
{
	char v[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	return root_unpin(v);
}

/* How many pins the file at @path has (0 for ENODATA). */
static int npins(const char *path)
{
	char v[4096];
	ssize_t n = getxattr(path, "user.rdmafs.pin", v, sizeof(v) - 1);
	int lines = 0;
	ssize_t i;

	if (n < 0) {
		ck_assert_int_eq(errno, ENODATA);
		return 0;
	}
	for (i = 0; i < n; i++)
		lines += v[i] == '\n';
	return lines;
}

static uint64_t ino_of(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return (uint64_t)st.st_ino;
}

static void setup(void)
{
	char p[PATH_MAX];
	int err;

	ck_assert_int_eq(mnt_setup(&M, NULL, false), 0);
	printf("mount-unpinpath: %s backing\n", M.xfs ? "xfs" : "tmpdir");
	fflush(stdout);
	mp(p, "probe");
	put_file(p, "x", 1, 0644);
	err = pin(p, "0+1");
	if (err) {
		printf("mount-unpinpath: no pins on this backing (%s)\n",
		       strerror(err));
		mnt_teardown(&M);
		exit(SKIP_CODE);
	}
	ck_assert_int_eq(unpin(p, "all"), 0);
}

static void teardown(void)
{
	mnt_teardown(&M);
}

START_TEST(test_ino_is_backing_inode)
{
	char p[PATH_MAX], b[PATH_MAX];

	put_file(mp(p, "same"), "abc", 3, 0644);
	snprintf(b, sizeof(b), "%s", bk_path(&M, "same"));
	/* What librdmafs sends (fstat through the mount) is what the daemon
	 * compares (fstat of the backing file). */
	ck_assert_uint_eq(ino_of(p), ino_of(b));
}
END_TEST

START_TEST(test_ino_match_and_mismatch)
{
	char a[PATH_MAX], b[PATH_MAX];
	uint64_t ia, ib;

	put_file(mp(a, "a"), "0123456789", 10, 0644);
	put_file(mp(b, "b"), "0123456789", 10, 0644);
	ck_assert_int_eq(pin(a, "0+4"), 0);
	ia = ino_of(a);
	ib = ino_of(b);
	ck_assert_uint_ne(ia, ib);

	/* Another file's number: refused, the pin stays. */
	ck_assert_int_eq(root_unpinf("a 0+4 ino=%" PRIu64, ib), ESTALE);
	ck_assert_int_eq(npins(a), 1);
	/* A number no file has. */
	ck_assert_int_eq(root_unpinf("a 0+4 ino=%" PRIu64, ia + 1000000),
			 ESTALE);
	ck_assert_int_eq(npins(a), 1);
	/* Its own: unpinned. */
	ck_assert_int_eq(root_unpinf("a 0+4 ino=%" PRIu64 "\n", ia), 0);
	ck_assert_int_eq(npins(a), 0);
	/* Nothing left: ENODATA, the number being right. */
	ck_assert_int_eq(root_unpinf("a 0+4 ino=%" PRIu64, ia), ENODATA);

	/* Without ino=, as before. */
	ck_assert_int_eq(pin(a, "all"), 0);
	ck_assert_int_eq(root_unpin("a all"), 0);
	ck_assert_int_eq(npins(a), 0);
}
END_TEST

/* The case ino= is for: the name now leads to another file. */
START_TEST(test_replaced_file)
{
	char r[PATH_MAX], old[PATH_MAX];
	uint64_t iold;

	mkdir(mp(r, "d"), 0755);
	put_file(mp(r, "d/r"), "0123456789", 10, 0644);
	ck_assert_int_eq(pin(r, "0+8"), 0);
	iold = ino_of(r);
	/* Renamed away, and a new file pinned the same way under the name. */
	ck_assert_int_eq(rename(r, mp(old, "d/r.old")), 0);
	put_file(r, "0123456789", 10, 0644);
	ck_assert_int_eq(pin(r, "0+8"), 0);

	ck_assert_int_eq(root_unpinf("d/r 0+8 ino=%" PRIu64, iold), ESTALE);
	ck_assert_int_eq(npins(r), 1);
	ck_assert_int_eq(npins(old), 1);
	ck_assert_int_eq(root_unpinf("d/r.old 0+8 ino=%" PRIu64, iold), 0);
	ck_assert_int_eq(npins(old), 0);
	ck_assert_int_eq(npins(r), 1);
	ck_assert_int_eq(root_unpinf("d/r 0+8 ino=%" PRIu64, ino_of(r)), 0);
	ck_assert_int_eq(npins(r), 0);
}
END_TEST

START_TEST(test_malformed)
{
	static const char *const bad[] = {
		"m 0+4 ino=",	  "m 0+4 ino=0",
		"m 0+4 ino=-1",	  "m 0+4 ino=1x",
		"m 0+4 ino=0x10", "m 0+4 ino=012",
		"m 0+4 inode=1",  "m 0+4 x",
		"m 0+4  ino=1",	  "m 0+4 ino=1 ino=1",
		"m ino=1 0+4",	  "m\\000x 0+4",
		"m\\000 0+4",	  "m 0+4 ino=99999999999999999999",
	};
	char m[PATH_MAX];
	size_t i;

	put_file(mp(m, "m"), "0123456789", 10, 0644);
	ck_assert_int_eq(pin(m, "0+4"), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int err = root_unpin(bad[i]);

		ck_assert_msg(err == EINVAL, "\"%s\": %s", bad[i],
			      strerror(err));
		ck_assert_int_eq(npins(m), 1);
	}
	/* "\000" never cuts the path short to the pinned "m". */
	ck_assert_int_eq(root_unpinf("m\\000 0+4 ino=%" PRIu64, ino_of(m)),
			 EINVAL);
	ck_assert_int_eq(npins(m), 1);
	ck_assert_int_eq(root_unpinf("m 0+4 ino=%" PRIu64, ino_of(m)), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mount-unpinpath");
	TCase *tc = tcase_create("unpinpath");
	SRunner *sr;
	int failed;

	harness_require_root_fuse();
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ino_is_backing_inode);
	tcase_add_test(tc, test_ino_match_and_mismatch);
	tcase_add_test(tc, test_replaced_file);
	tcase_add_test(tc, test_malformed);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
