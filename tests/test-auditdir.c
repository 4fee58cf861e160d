// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for audit_unsafe_dir() (lib/core/auditdir.c): the audit log
 * may only live where nobody but root and the daemon's user can rename
 * or replace it, in every directory a lookup of its path passes through.
 * Owner cases need root (chown to nobody, or running as TEST_UID); they
 * say so and pass without it.  The scratch tree is under $TMPDIR, whose
 * own ancestors must be safe (/tmp is root's and sticky).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "as-user.h"
#include "scratch-test-util.h"
#include "core/audit.h"

#define NOBODY 65534
#define TEST_UID 4242

static char dir[PATH_MAX], real[PATH_MAX];

static const char *at(const char *rel)
{
	static char p[4][PATH_MAX + 64];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, rel);
	return p[i];
}

static const char *real_at(const char *rel)
{
	static char p[PATH_MAX + 64];

	snprintf(p, sizeof(p), "%s/%s", real, rel);
	return p;
}

static void mkdir_mode(const char *rel, mode_t mode)
{
	ck_assert_int_eq(mkdir(at(rel), 0700), 0);
	ck_assert_int_eq(chmod(at(rel), mode), 0);
}

static bool need_root(const char *what)
{
	if (geteuid() == 0)
		return true;
	fprintf(stderr, "skip part: %s needs root\n", what);
	return false;
}

/* Expects -EACCES naming @bad_rel (under the scratch dir's real path). */
static void expect_bad(const char *log_rel, const char *bad_rel)
{
	char bad[PATH_MAX] = "";
	int r = audit_unsafe_dir(at(log_rel), bad, sizeof(bad));

	ck_assert_msg(r == -EACCES, "%s: %d, want -EACCES", log_rel, r);
	ck_assert_str_eq(bad, real_at(bad_rel));
}

static void expect_ok(const char *log_rel)
{
	char bad[PATH_MAX] = "";
	int r = audit_unsafe_dir(at(log_rel), bad, sizeof(bad));

	ck_assert_msg(r == 0, "%s: %d (%s), want 0", log_rel, r, bad);
}

static void setup(void)
{
	scratch_make(dir, "auditdir");
	ck_assert_ptr_nonnull(realpath(dir, real));
	/* Readable for the TEST_UID cases; writable by us only. */
	ck_assert_int_eq(chmod(dir, 0755), 0);
}

static void teardown(void)
{
	ck_assert_int_eq(scratch_remove(dir), 0);
}

START_TEST(test_ok)
{
	char cwd[PATH_MAX];

	mkdir_mode("safe", 0700);
	mkdir_mode("safe/sub", 0755);
	expect_ok("log");
	expect_ok("safe/log");
	expect_ok("safe/sub/log");
	/* The file need not exist; nor is it looked at. */
	expect_ok("safe/sub/");
	/* Sticky: others cannot rename our entries. */
	mkdir_mode("sticky", 01777);
	expect_ok("sticky/log");
	/* A file in / and a bare name (the current directory). */
	ck_assert_int_eq(audit_unsafe_dir("/log", NULL, 0), 0);
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(at("safe")), 0);
	ck_assert_int_eq(audit_unsafe_dir("log", NULL, 0), 0);
	ck_assert_int_eq(audit_unsafe_dir("sub/log", NULL, 0), 0);
	ck_assert_int_eq(chdir(cwd), 0);
}
END_TEST

START_TEST(test_writable_by_others)
{
	char cwd[PATH_MAX];

	mkdir_mode("ww", 0777);
	mkdir_mode("safe", 0700);
	expect_bad("ww/log", "ww");
	mkdir_mode("gw", 0770);
	expect_bad("gw/log", "gw");
	mkdir_mode("ow", 0703);
	expect_bad("ow/log", "ow");
	/* The bad one nearest the root is named: here the parent. */
	mkdir_mode("ww/sub", 0700);
	mkdir_mode("ww/sub/deeper", 0700);
	expect_bad("ww/sub/deeper/log", "ww");
	/* A relative path, and a bare name in a bad current directory. */
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(at("ww")), 0);
	ck_assert_int_eq(audit_unsafe_dir("log", NULL, 0), -EACCES);
	ck_assert_int_eq(audit_unsafe_dir("sub/log", NULL, 0), -EACCES);
	ck_assert_int_eq(audit_unsafe_dir("../ww/sub/log", NULL, 0), -EACCES);
	ck_assert_int_eq(chdir(at("ww/sub")), 0);
	/*
	 * The log is reopened as cwd + "/" + path: through ww/sub, which
	 * whoever writes ww can replace with a link to anywhere.
	 */
	ck_assert_int_eq(audit_unsafe_dir("../../safe/log", NULL, 0), -EACCES);
	ck_assert_int_eq(audit_unsafe_dir("./log", NULL, 0), -EACCES);
	ck_assert_int_eq(chdir(cwd), 0);
	/* Made safe, it is accepted. */
	ck_assert_int_eq(chmod(at("ww"), 0755), 0);
	expect_ok("ww/sub/deeper/log");
}
END_TEST

START_TEST(test_errors)
{
	char bad[8];

	ck_assert_int_eq(audit_unsafe_dir(at("missing/log"), NULL, 0), -ENOENT);
	mkdir_mode("ww", 0777);
	/* @bad is cut to its size, always terminated. */
	memset(bad, 'x', sizeof(bad));
	ck_assert_int_eq(audit_unsafe_dir(at("ww/log"), bad, sizeof(bad)),
			 -EACCES);
	ck_assert_uint_eq(strlen(bad), sizeof(bad) - 1);
	ck_assert(strncmp(bad, real, sizeof(bad) - 1) == 0);
	/* A file where a directory should be. */
	ck_assert_int_eq(close(open(at("file"), O_CREAT | O_WRONLY, 0600)), 0);
	ck_assert_int_eq(audit_unsafe_dir(at("file/log"), NULL, 0), -ENOTDIR);
}
END_TEST

START_TEST(test_other_owner)
{
	if (!need_root("chown to nobody"))
		return;
	mkdir_mode("theirs", 0755);
	ck_assert_int_eq(chown(at("theirs"), NOBODY, NOBODY), 0);
	expect_bad("theirs/log", "theirs");
	mkdir_mode("theirs/mine", 0700);
	expect_bad("theirs/mine/log", "theirs");
	/* Sticky does not help a directory its owner can rename in. */
	ck_assert_int_eq(chmod(at("theirs"), 01755), 0);
	expect_bad("theirs/log", "theirs");
}
END_TEST

static char child_log[PATH_MAX + 64];

static int as_test_uid(void *want)
{
	int r = audit_unsafe_dir(child_log, NULL, 0);

	CHILD_EXPECT(r == *(int *)want);
	return 0;
}

/* For a daemon that is not root: root's and its own are fine. */
START_TEST(test_user_daemon)
{
	int want;

	if (!need_root("running as another user"))
		return;
	mkdir_mode("user", 0755);
	ck_assert_int_eq(chown(at("user"), TEST_UID, TEST_UID), 0);
	snprintf(child_log, sizeof(child_log), "%s", at("user/log"));
	want = 0;
	ck_assert_int_eq(as_user(TEST_UID, TEST_UID, 022, as_test_uid, &want),
			 0);
	mkdir_mode("user2", 0755);
	ck_assert_int_eq(chown(at("user2"), NOBODY, NOBODY), 0);
	snprintf(child_log, sizeof(child_log), "%s", at("user2/log"));
	want = -EACCES;
	ck_assert_int_eq(as_user(TEST_UID, TEST_UID, 022, as_test_uid, &want),
			 0);
}
END_TEST

/* A link to a bad directory: the directory it leads to is named. */
START_TEST(test_symlink_to_bad)
{
	mkdir_mode("ww", 0777);
	ck_assert_int_eq(symlink("ww", at("link")), 0);
	expect_bad("link/log", "ww");
	mkdir_mode("safe", 0700);
	ck_assert_int_eq(symlink("safe", at("good")), 0);
	expect_ok("good/log");
	/* A link in a safe place to a safe place, absolute. */
	ck_assert_int_eq(symlink(at("safe"), at("abs")), 0);
	expect_ok("abs/log");
}
END_TEST

/*
 * A link that others can replace: it sits in a directory open to all,
 * so whoever swaps it between two reopens of the log chooses where the
 * daemon's lines go, even though the directory it leads to now is safe.
 */
START_TEST(test_symlink_in_bad_dir)
{
	mkdir_mode("safe", 0700);
	mkdir_mode("ww", 0777);
	ck_assert_int_eq(symlink(at("safe"), at("ww/link")), 0);
	expect_bad("ww/link/log", "ww");
	/* Two links deep: the second lives in the open directory. */
	ck_assert_int_eq(symlink(at("ww/link"), at("first")), 0);
	expect_bad("first/log", "ww");
	ck_assert_int_eq(symlink("ww", at("towards")), 0);
	expect_bad("towards/link/log", "ww");
}
END_TEST

/* In a sticky directory, a link of another user is theirs to replace. */
START_TEST(test_foreign_symlink_in_sticky_dir)
{
	if (!need_root("lchown to nobody"))
		return;
	mkdir_mode("safe", 0700);
	mkdir_mode("sticky", 01777);
	ck_assert_int_eq(symlink(at("safe"), at("sticky/link")), 0);
	expect_ok("sticky/link/log");
	ck_assert_int_eq(lchown(at("sticky/link"), NOBODY, NOBODY), 0);
	expect_bad("sticky/link/log", "sticky");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("auditdir");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	if (scratch_run_begin("auditdir") < 0) {
		perror("test-auditdir: scratch directory");
		return EXIT_FAILURE;
	}
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ok);
	tcase_add_test(tc, test_writable_by_others);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_other_owner);
	tcase_add_test(tc, test_user_daemon);
	tcase_add_test(tc, test_symlink_to_bad);
	tcase_add_test(tc, test_symlink_in_bad_dir);
	tcase_add_test(tc, test_foreign_symlink_in_sticky_dir);
	/* valgrind runs about 50 times slower */
	tcase_set_timeout(tc, 300);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	scratch_run_end();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
