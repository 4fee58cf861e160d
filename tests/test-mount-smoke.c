// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The harness itself: rdmafs mounts over a scratch backing directory,
 * serves its files, and leaves with no process behind after unmount.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static void write_file(const char *path, const char *data)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	ck_assert_int_eq(close(fd), 0);
}

static void read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, size - 1);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	close(fd);
}

START_TEST(test_mount_serves_backing)
{
	struct mnt m;
	struct stat a, b;
	char buf[64];

	ck_assert_int_eq(mnt_setup(&m, NULL, false), 0);
	write_file(bk_path(&m, "before"), "native");
	read_file(mnt_path(&m, "before"), buf, sizeof(buf));
	ck_assert_str_eq(buf, "native");
	write_file(mnt_path(&m, "after"), "through");
	read_file(bk_path(&m, "after"), buf, sizeof(buf));
	ck_assert_str_eq(buf, "through");
	/* The backing inode number shows through. */
	ck_assert_int_eq(stat(mnt_path(&m, "after"), &a), 0);
	ck_assert_int_eq(stat(bk_path(&m, "after"), &b), 0);
	ck_assert_uint_eq(a.st_ino, b.st_ino);
	ck_assert_int_eq(mnt_teardown(&m), 0);
}
END_TEST

START_TEST(test_overmount_hides_backing)
{
	struct mnt m;
	char buf[64];

	ck_assert_int_eq(mnt_setup(&m, NULL, true), 0);
	write_file(mnt_path(&m, "f"), "over");
	read_file(mnt_path(&m, "f"), buf, sizeof(buf));
	ck_assert_str_eq(buf, "over");
	ck_assert_int_eq(mnt_teardown(&m), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mount-smoke");
	TCase *tc = tcase_create("smoke");
	SRunner *sr;
	int failed;

	harness_require_root_fuse();
	tcase_add_test(tc, test_mount_serves_backing);
	tcase_add_test(tc, test_overmount_hides_backing);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
