// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The caller's ACLs, umask and the mount's atime flags, as the backing
 * filesystem would apply them natively.
 *
 * - POSIX ACLs: an entry that grants a user access grants it through the
 *   mount too, one that denies denies, and a chmod through the mount
 *   narrows the ACL mask at once (the kernel's cached ACL is dropped).
 * - Default ACLs: what a user (or root) creates with umask 022 or 077 in
 *   a directory with a default ACL gets the mode and ACL it gets natively
 *   in a sibling directory, which means the umask is not applied twice
 *   and not before the backing filesystem sees the default ACL.
 * - atime: with -o noatime on the rdmafs mount (at mount time or by a
 *   later remount), reading a file or listing a directory through the
 *   mount leaves the backing atime alone; without it, the backing's own
 *   relatime rule updates it.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "as-user.h"
#include "harness.h"

#define ACL_ACCESS "system.posix_acl_access"
#define ACL_DEFAULT "system.posix_acl_default"
#define DAY (24 * 3600)

static struct mnt M;

static void acl_setup(void)
{
	ck_assert_int_eq(mnt_setup(&M, NULL, false), 0);
}

static void acl_teardown(void)
{
	mnt_teardown(&M);
}

static void put(const char *path, const char *data, mode_t mode)
{
	int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, mode);

	ck_assert_msg(fd >= 0, "create %s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(chmod(path, mode), 0);
}

static int open_read(void *arg)
{
	char buf[64];
	int fd = open(arg, O_RDONLY);

	if (fd < 0)
		return errno;
	if (read(fd, buf, sizeof(buf)) < 0)
		return errno;
	close(fd);
	return 0;
}

static int user_reads(const char *path)
{
	return as_user(TEST_UID, TEST_GID, 022, open_read, (void *)path);
}

/* ---- ACLs are enforced ---- */

START_TEST(test_acl_grants)
{
	const char *f = mnt_path(&M, "granted");

	put(f, "secret\n", 0600);
	ck_assert_int_eq(user_reads(f), EACCES);
	ck_assert_int_eq(harness_sh("setfacl -m u:%d:r '%s'", TEST_UID, f), 0);
	ck_assert_int_eq(user_reads(f), 0);
	ck_assert_int_eq(user_reads(bk_path(&M, "granted")), 0);
	ck_assert_int_gt(getxattr(bk_path(&M, "granted"), ACL_ACCESS, NULL, 0),
			 0);
	/* chmod narrows the mask to nothing: the entry no longer grants. */
	ck_assert_int_eq(chmod(f, 0600), 0);
	ck_assert_int_eq(user_reads(f), EACCES);
	ck_assert_int_eq(user_reads(bk_path(&M, "granted")), EACCES);
	ck_assert_int_eq(harness_sh("setfacl -m m::r '%s'", f), 0);
	ck_assert_int_eq(user_reads(f), 0);
	/* Removed through the mount: the mode bits decide again. */
	ck_assert_int_eq(harness_sh("setfacl -b '%s'", f), 0);
	ck_assert_int_eq(user_reads(f), EACCES);
}
END_TEST

START_TEST(test_acl_denies)
{
	const char *f = mnt_path(&M, "denied");

	put(f, "public\n", 0644);
	ck_assert_int_eq(user_reads(f), 0);
	ck_assert_int_eq(harness_sh("setfacl -m u:%d:- '%s'", TEST_UID, f), 0);
	ck_assert_int_eq(user_reads(bk_path(&M, "denied")), EACCES);
	ck_assert_int_eq(user_reads(f), EACCES);
}
END_TEST

/* ---- default ACLs and the umask ---- */

static const char *const items[] = { "file", "file640", "dir", "fifo" };

static int create_items(void *arg)
{
	const char *base = arg;
	char p[PATH_MAX];
	int fd;

	snprintf(p, sizeof(p), "%s/file", base);
	fd = open(p, O_CREAT | O_EXCL | O_WRONLY, 0666);
	if (fd < 0)
		return 10;
	close(fd);
	snprintf(p, sizeof(p), "%s/file640", base);
	fd = open(p, O_CREAT | O_EXCL | O_WRONLY, 0640);
	if (fd < 0)
		return 11;
	close(fd);
	snprintf(p, sizeof(p), "%s/dir", base);
	if (mkdir(p, 0777) < 0)
		return 12;
	snprintf(p, sizeof(p), "%s/fifo", base);
	if (mknod(p, S_IFIFO | 0666, 0) < 0)
		return 13;
	return 0;
}

/* The raw ACL xattr @name of @path: its length, 0 for none. */
static ssize_t acl_of(const char *path, const char *name, char *buf,
		      size_t size)
{
	ssize_t n = getxattr(path, name, buf, size);

	if (n < 0 && errno == ENODATA)
		return 0;
	ck_assert_msg(n >= 0, "getxattr %s %s: %s", path, name,
		      strerror(errno));
	return n;
}

/* What @base_a/ITEM and @base_b/ITEM (backing paths) hold is the same. */
static void same_items(const char *base_a, const char *base_b)
{
	char pa[2 * PATH_MAX], pb[2 * PATH_MAX], a[512], b[512];
	const char *names[] = { ACL_ACCESS, ACL_DEFAULT };
	struct stat sa, sb;
	size_t i, j;

	for (i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		snprintf(pa, sizeof(pa), "%s/%s", base_a, items[i]);
		snprintf(pb, sizeof(pb), "%s/%s", base_b, items[i]);
		ck_assert_int_eq(lstat(pa, &sa), 0);
		ck_assert_int_eq(lstat(pb, &sb), 0);
		ck_assert_msg(sa.st_mode == sb.st_mode,
			      "%s: mode %o natively, %o through the mount",
			      items[i], sa.st_mode, sb.st_mode);
		ck_assert_uint_eq(sa.st_uid, sb.st_uid);
		for (j = 0; j < 2; j++) {
			ssize_t na = acl_of(pa, names[j], a, sizeof(a));
			ssize_t nb = acl_of(pb, names[j], b, sizeof(b));

			ck_assert_msg(na == nb && memcmp(a, b, na) == 0,
				      "%s: %s differs", items[i], names[j]);
		}
	}
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	ck_assert_int_eq(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

/*
 * In a directory with a default ACL and in one without, as @uid under
 * @mask: natively in the backing and through the mount, the same result.
 */
static void check_creation(uid_t uid, mode_t mask)
{
	char nat[PATH_MAX], thr[PATH_MAX], rel[64], file[PATH_MAX + 8];
	const char *kinds[] = { "acl", "plain" };
	size_t k;

	for (k = 0; k < 2; k++) {
		snprintf(rel, sizeof(rel), "%s_%u_%03o_nat", kinds[k], uid,
			 mask);
		snprintf(nat, sizeof(nat), "%s", bk_path(&M, rel));
		snprintf(rel, sizeof(rel), "%s_%u_%03o_thr", kinds[k], uid,
			 mask);
		snprintf(thr, sizeof(thr), "%s", bk_path(&M, rel));
		ck_assert_int_eq(mkdir(nat, 0777), 0);
		ck_assert_int_eq(mkdir(thr, 0777), 0);
		ck_assert_int_eq(chmod(nat, 0777), 0);
		ck_assert_int_eq(chmod(thr, 0777), 0);
		if (k == 0)
			ck_assert_int_eq(
				harness_sh(
					"setfacl -d -m u::rwx,g::rwx,o::rx,u:%d:rwx '%s' '%s'",
					TEST_UID, nat, thr),
				0);
		ck_assert_int_eq(as_user(uid, uid ? TEST_GID : 0, mask,
					 create_items, nat),
				 0);
		ck_assert_int_eq(as_user(uid, uid ? TEST_GID : 0, mask,
					 create_items,
					 (void *)mnt_path(&M, rel)),
				 0);
		same_items(nat, thr);
		/*
		 * Natively the default ACL, not the umask, shapes the
		 * mode (the group bits show its mask); without one the
		 * umask does.
		 */
		snprintf(file, sizeof(file), "%s/file", nat);
		ck_assert_uint_eq(mode_of(file), k == 0 ? 0664 : 0666 & ~mask);
	}
}

START_TEST(test_default_acl_user_022)
{
	check_creation(TEST_UID, 022);
}
END_TEST

START_TEST(test_default_acl_user_077)
{
	check_creation(TEST_UID, 077);
}
END_TEST

START_TEST(test_default_acl_root_077)
{
	check_creation(0, 077);
}
END_TEST

/* ---- atime ---- */

static time_t atime_of(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_atime;
}

/* The atime of @path two days back: relatime would update it. */
static time_t age(const char *path)
{
	struct timespec ts[2] = { { .tv_sec = time(NULL) - 2 * DAY },
				  { .tv_nsec = UTIME_OMIT } };

	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
	return ts[0].tv_sec;
}

static void list_dir(const char *path)
{
	DIR *d = opendir(path);

	ck_assert_ptr_nonnull(d);
	while (readdir(d))
		;
	closedir(d);
}

/*
 * Ages the backing file and directory, reads and lists them through the
 * mount, and says whether each backing atime moved.
 */
static void touch_through(const struct mnt *m, const char *bk_file,
			  const char *bk_dir, bool *file_moved, bool *dir_moved)
{
	time_t f = age(bk_file), d = age(bk_dir);

	ck_assert_int_eq(open_read((void *)mnt_path(m, "a/file")), 0);
	list_dir(mnt_path(m, "a"));
	*file_moved = atime_of(bk_file) != f;
	*dir_moved = atime_of(bk_dir) != d;
}

static void make_tree(const char *bk_dir, const char *bk_file)
{
	ck_assert_int_eq(mkdir(bk_dir, 0755), 0);
	put(bk_file, "data\n", 0644);
}

START_TEST(test_noatime)
{
	char f[PATH_MAX], d[PATH_MAX];
	bool fm, dm;
	struct mnt m;

	ck_assert_int_eq(mnt_setup(&m, "noatime", false), 0);
	snprintf(d, sizeof(d), "%s", bk_path(&m, "a"));
	snprintf(f, sizeof(f), "%s", bk_path(&m, "a/file"));
	make_tree(d, f);
	touch_through(&m, f, d, &fm, &dm);
	ck_assert_msg(!fm, "a read through a noatime mount moved the atime");
	ck_assert_msg(!dm, "a listing through a noatime mount moved the atime");
	ck_assert_int_eq(mnt_teardown(&m), 0);
}
END_TEST

START_TEST(test_atime_default)
{
	char f[PATH_MAX], d[PATH_MAX];
	bool fm, dm;
	struct mnt m;

	ck_assert_int_eq(mnt_setup(&m, NULL, false), 0);
	snprintf(d, sizeof(d), "%s", bk_path(&m, "a"));
	snprintf(f, sizeof(f), "%s", bk_path(&m, "a/file"));
	make_tree(d, f);
	touch_through(&m, f, d, &fm, &dm);
	ck_assert_msg(fm, "relatime: a read should move a 2-day-old atime");
	ck_assert_msg(dm, "relatime: a listing should move a 2-day-old atime");
	ck_assert_int_eq(mnt_teardown(&m), 0);
}
END_TEST

/* Until the daemon has seen the remount: the watcher runs apart. */
static void eventually_moves(const struct mnt *m, const char *f, const char *d,
			     bool want)
{
	struct timespec tick = { 0, 50 * 1000000L };
	bool fm = !want, dm = !want;
	int i;

	for (i = 0; i < 100 && (fm != want || dm != want); i++) {
		touch_through(m, f, d, &fm, &dm);
		nanosleep(&tick, NULL);
	}
	ck_assert_msg(fm == want && dm == want,
		      "after the remount: file atime %s, directory atime %s",
		      fm ? "moved" : "kept", dm ? "moved" : "kept");
}

START_TEST(test_remount_noatime)
{
	char f[PATH_MAX], d[PATH_MAX];
	struct mnt m;

	ck_assert_int_eq(mnt_setup(&m, NULL, false), 0);
	snprintf(d, sizeof(d), "%s", bk_path(&m, "a"));
	snprintf(f, sizeof(f), "%s", bk_path(&m, "a/file"));
	make_tree(d, f);
	eventually_moves(&m, f, d, true);
	/* The per-mount flags, as mount -o remount,noatime changes them. */
	ck_assert_int_eq(mount(NULL, m.mountpoint, NULL,
			       MS_REMOUNT | MS_BIND | MS_NOATIME, NULL),
			 0);
	eventually_moves(&m, f, d, false);
	ck_assert_int_eq(mount(NULL, m.mountpoint, NULL,
			       MS_REMOUNT | MS_BIND | MS_RELATIME, NULL),
			 0);
	eventually_moves(&m, f, d, true);
	/* nodiratime: directories only. */
	ck_assert_int_eq(
		mount(NULL, m.mountpoint, NULL,
		      MS_REMOUNT | MS_BIND | MS_RELATIME | MS_NODIRATIME, NULL),
		0);
	{
		struct timespec tick = { 0, 50 * 1000000L };
		bool fm = false, dm = true;
		int i;

		for (i = 0; i < 100 && (!fm || dm); i++) {
			touch_through(&m, f, d, &fm, &dm);
			nanosleep(&tick, NULL);
		}
		ck_assert_msg(fm && !dm, "nodiratime: file %s, directory %s",
			      fm ? "moved" : "kept", dm ? "moved" : "kept");
	}
	ck_assert_int_eq(mnt_teardown(&m), 0);
}
END_TEST

/*
 * The daemon's descriptor of the backing directory under an overmount:
 * the one directory it holds open that is not on the FUSE mount.
 */
static void backing_under(const struct mnt *m, char *out, size_t size)
{
	char fdp[PATH_MAX], link[PATH_MAX];
	struct statfs sf;
	struct stat top, st;
	DIR *dir;
	struct dirent *e;
	ssize_t n;

	out[0] = '\0';
	ck_assert_int_eq(stat(m->mountpoint, &top), 0);
	snprintf(fdp, sizeof(fdp), "/proc/%d/fd", (int)m->daemon);
	dir = opendir(fdp);
	ck_assert_ptr_nonnull(dir);
	while ((e = readdir(dir))) {
		snprintf(fdp, sizeof(fdp), "/proc/%d/fd/%s", (int)m->daemon,
			 e->d_name);
		n = readlink(fdp, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = '\0';
		if (strcmp(link, m->mountpoint) != 0 || stat(fdp, &st) < 0 ||
		    !S_ISDIR(st.st_mode) || st.st_dev == top.st_dev ||
		    statfs(fdp, &sf) < 0)
			continue;
		snprintf(out, size, "%s", fdp);
		break;
	}
	closedir(dir);
	ck_assert_msg(out[0], "no descriptor of the backing directory");
}

START_TEST(test_noatime_overmount)
{
	char root[PATH_MAX], f[PATH_MAX], d[PATH_MAX];
	bool fm, dm;
	struct mnt m;

	/* Two lines for one path in mountinfo: the backing's and ours. */
	ck_assert_int_eq(mnt_setup(&m, "noatime", true), 0);
	backing_under(&m, root, sizeof(root));
	snprintf(d, sizeof(d), "%s/a", root);
	snprintf(f, sizeof(f), "%s/a/file", root);
	ck_assert_int_eq(mkdir(mnt_path(&m, "a"), 0755), 0);
	put(mnt_path(&m, "a/file"), "data\n", 0644);
	touch_through(&m, f, d, &fm, &dm);
	ck_assert_msg(!fm && !dm, "overmount, noatime: file %s, directory %s",
		      fm ? "moved" : "kept", dm ? "moved" : "kept");
	ck_assert_int_eq(mnt_teardown(&m), 0);
}
END_TEST

/* ACLs need setfacl and a backing filesystem that stores them. */
static void require_acl(void)
{
	struct mnt m;
	int st;

	if (harness_sh("command -v setfacl >/dev/null 2>&1") != 0) {
		fprintf(stderr, "skip: setfacl not found (package acl)\n");
		exit(SKIP_CODE);
	}
	if (mnt_setup(&m, NULL, false) != 0) {
		fprintf(stderr, "couldn't mount rdmafs\n");
		exit(EXIT_FAILURE);
	}
	st = harness_sh("setfacl -m u:%d:r '%s' 2>/dev/null", TEST_UID,
			m.backing);
	mnt_teardown(&m);
	if (st != 0) {
		fprintf(stderr, "skip: the test backing has no POSIX ACLs\n");
		exit(SKIP_CODE);
	}
}

int main(void)
{
	Suite *s = suite_create("mount-creds");
	TCase *acl = tcase_create("acl");
	TCase *atime = tcase_create("atime");
	SRunner *sr;
	int failed;

	harness_require_root_fuse();
	require_acl();
	umask(022);
	tcase_add_unchecked_fixture(acl, acl_setup, acl_teardown);
	tcase_add_test(acl, test_acl_grants);
	tcase_add_test(acl, test_acl_denies);
	tcase_add_test(acl, test_default_acl_user_022);
	tcase_add_test(acl, test_default_acl_user_077);
	tcase_add_test(acl, test_default_acl_root_077);
	tcase_set_timeout(acl, 60);
	suite_add_tcase(s, acl);
	tcase_add_test(atime, test_noatime);
	tcase_add_test(atime, test_atime_default);
	tcase_add_test(atime, test_remount_noatime);
	tcase_add_test(atime, test_noatime_overmount);
	tcase_set_timeout(atime, 60);
	suite_add_tcase(s, atime);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
