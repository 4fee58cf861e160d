// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Space is spent with the caller's rights: over an ext4 that keeps half
 * its blocks for root (mkfs.ext4 -m 50), an ordinary user writing through
 * the mount meets ENOSPC where it does natively, while root, through the
 * mount too, still writes into the reserve.  Every call that allocates
 * (write, fallocate, copy_file_range, a growing truncate, create, mkdir,
 * a large xattr) answers the user as the backing filesystem answers it
 * natively.
 *
 * The backing is a loop-mounted ext4 image made here (the harness makes
 * XFS, which keeps no reserve for root); the test exits 77 without
 * mkfs.ext4 or loop devices.
 */
#include <check.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "as-user.h"
#include "ext4-test-util.h"
#include "harness.h"

/* One allocating call after the fill, natively and through the mount. */
struct alloc_op {
	const char *dir;
	const char *src; /* a file with data, for copy_file_range */
	int which;
	bool mounted; /* dir is in the mount: OP_PIN pins, else fallocates */
};

enum {
	OP_FALLOCATE,
	OP_COPY,
	OP_TRUNCATE,
	OP_MKDIR,
	OP_XATTR,
	OP_PIN,
	OP_COUNT
};
static const char *const op_names[] = { "fallocate",	  "copy_file_range",
					"truncate+write", "mkdir",
					"xattr",	  "pin of a hole" };

static int alloc_call(void *arg)
{
	struct alloc_op *o = arg;
	char p[PATH_MAX], big[3000];
	int fd, sfd, res = 0;
	loff_t off = 0;
	ssize_t n;

	snprintf(p, sizeof(p), "%s/op%d", o->dir, o->which);
	if (o->which == OP_MKDIR) {
		/* A directory of many names needs new blocks. */
		if (mkdir(p, 0755) < 0)
			return errno;
		for (fd = 0; fd < 200; fd++) {
			snprintf(p, sizeof(p), "%s/op%d/%0200d", o->dir,
				 o->which, fd);
			if (mknod(p, S_IFIFO | 0644, 0) < 0)
				return errno;
		}
		return 0;
	}
	fd = open(p, O_CREAT | O_RDWR | O_TRUNC, 0644);
	if (fd < 0)
		return errno;
	switch (o->which) {
	case OP_FALLOCATE:
		res = fallocate(fd, 0, 0, 4 * MIB);
		break;
	case OP_COPY:
		sfd = open(o->src, O_RDONLY);
		if (sfd < 0)
			return errno;
		n = copy_file_range(sfd, &off, fd, NULL, 4 * MIB, 0);
		close(sfd);
		/* A short copy is told apart from ENOSPC. */
		if (n >= 0 && n != 4 * MIB)
			errno = EIO;
		res = n == 4 * MIB ? 0 : -1;
		break;
	case OP_TRUNCATE:
		/* Growth itself is sparse: the write into it allocates. */
		memset(big, 'x', sizeof(big));
		res = ftruncate(fd, 4 * MIB);
		for (off = 0; res == 0 && off < 4 * MIB; off += sizeof(big))
			if (pwrite(fd, big, sizeof(big), off) < 0)
				res = -1;
		break;
	case OP_XATTR:
		memset(big, 'x', sizeof(big));
		res = fsetxattr(fd, "user.big", big, sizeof(big), 0);
		break;
	case OP_PIN:
		/*
		 * Pinning a hole allocates it: the user pays for it as for
		 * the fallocate it is natively.
		 */
		res = ftruncate(fd, 4 * MIB);
		if (res == 0 && o->mounted)
			res = fsetxattr(fd, "user.rdmafs.pin", "0+4M", 4, 0);
		else if (res == 0)
			res = fallocate(fd, 0, 0, 4 * MIB);
		break;
	}
	res = res < 0 ? errno : 0;
	close(fd);
	return res;
}

START_TEST(test_user_stops_at_reserve)
{
	struct statvfs sv;
	struct fill *nat, *thr, *root;
	long long reserve, free_bytes;
	struct mnt m;
	int i, rn, rt;

	ck_assert_int_eq(ext4_setup(&m, "-m 50", NULL), 0);
	ck_assert_int_eq(statvfs(m.backing, &sv), 0);
	reserve = (long long)(sv.f_bfree - sv.f_bavail) * sv.f_frsize;
	ck_assert_int_gt(reserve, IMG_MIB * MIB / 3);

	/* Natively first: its space comes back at once on unlink. */
	nat = fill_as(TEST_UID, bk_path(&m, "native"));
	ck_assert_int_eq(nat->err, ENOSPC);
	ck_assert_int_eq(unlink(bk_path(&m, "native")), 0);
	thr = fill_as(TEST_UID, mnt_path(&m, "through"));
	ck_assert_int_eq(thr->err, ENOSPC);
	/* Within a megabyte: the filesystem's own metadata varies. */
	ck_assert_msg(
		thr->written <= nat->written + MIB &&
			thr->written >= nat->written - MIB,
		"the user wrote %lld bytes through the mount, %lld natively",
		thr->written, nat->written);
	ck_assert_int_eq(statvfs(m.backing, &sv), 0);
	free_bytes = (long long)(sv.f_bfree * sv.f_frsize);
	ck_assert_msg(free_bytes >= reserve - MIB,
		      "the reserve is spent: %lld bytes free of %lld",
		      free_bytes, reserve);

	/* Each allocating call, as the user: the native answer. */
	ck_assert_int_eq(
		harness_sh("head -c 4M /dev/zero > '%s'", bk_path(&m, "src")),
		0);
	ck_assert_int_eq(mkdir(bk_path(&m, "n"), 0777), 0);
	ck_assert_int_eq(mkdir(bk_path(&m, "t"), 0777), 0);
	ck_assert_int_eq(chmod(bk_path(&m, "n"), 0777), 0);
	ck_assert_int_eq(chmod(bk_path(&m, "t"), 0777), 0);
	for (i = 0; i < OP_COUNT; i++) {
		struct alloc_op on = { bk_path(&m, "n"), bk_path(&m, "src"), i,
				       false };
		struct alloc_op ot = { mnt_path(&m, "t"), mnt_path(&m, "src"),
				       i, true };

		rn = as_user(TEST_UID, TEST_GID, 022, alloc_call, &on);
		rt = as_user(TEST_UID, TEST_GID, 022, alloc_call, &ot);
		ck_assert_msg(
			rn == rt,
			"%s as the user: %s natively, %s through the mount",
			op_names[i], rn ? strerror(rn) : "done",
			rt ? strerror(rt) : "done");
		ck_assert_msg(rn == ENOSPC, "%s natively: %s", op_names[i],
			      rn ? strerror(rn) : "done");
	}

	/* Root, through the mount, still has its reserve. */
	root = fill_as(0, mnt_path(&m, "root"));
	ck_assert_int_eq(root->err, ENOSPC);
	ck_assert_msg(root->written >= reserve / 2,
		      "root wrote only %lld bytes into a %lld-byte reserve",
		      root->written, reserve);
	ck_assert_int_eq(mnt_teardown(&m), 0);
}
END_TEST

static void require_ext4(void)
{
	struct mnt m;

	if (harness_sh("command -v mkfs.ext4 >/dev/null 2>&1") != 0) {
		fprintf(stderr, "skip: mkfs.ext4 not found (e2fsprogs)\n");
		exit(SKIP_CODE);
	}
	if (ext4_setup(&m, "", NULL) != 0) {
		fprintf(stderr, "skip: no loop-mounted ext4 here\n");
		exit(SKIP_CODE);
	}
	mnt_teardown(&m);
}

int main(void)
{
	Suite *s = suite_create("mount-space");
	TCase *tc = tcase_create("reserve");
	SRunner *sr;
	int failed;

	harness_require_root_fuse();
	require_ext4();
	umask(022);
	tcase_add_test(tc, test_user_stops_at_reserve);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
