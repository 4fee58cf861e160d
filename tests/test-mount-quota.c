// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A user's disk quota holds through the mount: with a hard limit of
 * 1 MiB for the test user on the backing ext4, writing through the mount
 * fails with EDQUOT there, as it does natively, although the daemon runs
 * as root (whose CAP_SYS_RESOURCE would pass any hard limit).
 *
 * Needs a kernel with ext4 quota (CONFIG_QUOTA and CONFIG_QFMT_V2) and
 * setquota (package quota); exits 77 without them.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ext4-test-util.h"

#define LIMIT_KIB 1024

static int set_limit(const struct mnt *m)
{
	return harness_sh("setquota -u %d 0 %d 0 0 '%s' 2>/dev/null", TEST_UID,
			  LIMIT_KIB, m->backing);
}

START_TEST(test_quota_hard_limit)
{
	struct fill *nat, *thr;
	struct mnt m;

	ck_assert_int_eq(ext4_setup(&m, "-O quota", "usrquota"), 0);
	ck_assert_int_eq(set_limit(&m), 0);
	nat = fill_as(TEST_UID, bk_path(&m, "native"));
	ck_assert_int_eq(nat->err, EDQUOT);
	ck_assert_int_eq(unlink(bk_path(&m, "native")), 0);
	thr = fill_as(TEST_UID, mnt_path(&m, "through"));
	ck_assert_msg(
		thr->err == EDQUOT,
		"through the mount: %s after %lld bytes (natively EDQUOT after %lld)",
		strerror(thr->err), thr->written, nat->written);
	ck_assert_int_le(thr->written, (long long)LIMIT_KIB * 1024);
	ck_assert_int_eq(mnt_teardown(&m), 0);
}
END_TEST

static void require_quota(void)
{
	struct mnt m;
	int st;

	if (harness_sh("command -v setquota mkfs.ext4 >/dev/null 2>&1") != 0) {
		fprintf(stderr, "skip: setquota or mkfs.ext4 not found\n");
		exit(SKIP_CODE);
	}
	if (ext4_setup(&m, "-O quota", "usrquota") != 0) {
		fprintf(stderr,
			"skip: no ext4 with user quota here (a kernel without CONFIG_QFMT_V2, or no loop devices)\n");
		exit(SKIP_CODE);
	}
	st = set_limit(&m);
	mnt_teardown(&m);
	if (st != 0) {
		fprintf(stderr, "skip: setquota failed on ext4\n");
		exit(SKIP_CODE);
	}
}

int main(void)
{
	Suite *s = suite_create("mount-quota");
	TCase *tc = tcase_create("quota");
	SRunner *sr;
	int failed;

	harness_require_root_fuse();
	require_quota();
	umask(022);
	tcase_add_test(tc, test_quota_hard_limit);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
