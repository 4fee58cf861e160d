// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for the daemon's private directories (lib/core/storedir.c):
 * sdir_private_dir() makes BACKING/.rdmafs 0700 whatever the umask, takes
 * an existing one only when it is a real directory of our euid (a group
 * or other writable one is made 0700), and refuses a symlink, a file, a
 * FIFO or another user's directory without changing it; on a read-only
 * filesystem a missing one is -EROFS.  sdir_file_ok() takes only a
 * regular file of ours with one link, not writable by group or others.
 * The owner cases need root (chown, or running as TEST_UID), the
 * read-only case a tmpfs in a private mount namespace: they say so and
 * pass when that is not available.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "as-user.h"
#include "scratch-test-util.h"
#include "core/storedir.h"

#define NOBODY 65534
#define TEST_UID 4242

static char dir[PATH_MAX];
static int dfd = -1;

static void setup(void)
{
	scratch_make(dir, "storedir");
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dfd, 0);
}

static void teardown(void)
{
	close(dfd);
	ck_assert_int_eq(scratch_remove(dir), 0);
}

static struct stat stat_at(const char *name)
{
	struct stat st;

	ck_assert_int_eq(fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	return st;
}

static bool need_root(const char *what)
{
	if (geteuid() == 0)
		return true;
	fprintf(stderr, "skip part: %s needs root\n", what);
	return false;
}

/* ---- sdir_private_dir ---- */

START_TEST(test_created_0700_any_umask)
{
	static const mode_t masks[] = { 0, 022, 077, 0777 & ~0700 };
	char name[PATH_MAX + 8];
	struct stat st, a, b;
	bool created = false;
	mode_t old;
	size_t i;
	int fd, fd2;

	for (i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		snprintf(name, sizeof(name), ".rdmafs%zu", i);
		old = umask(masks[i]);
		fd = sdir_private_dir(dfd, name, name, &created);
		umask(old);
		ck_assert_int_ge(fd, 0);
		ck_assert(created);
		st = stat_at(name);
		ck_assert(S_ISDIR(st.st_mode));
		ck_assert_uint_eq(st.st_mode & 07777, 0700);
		ck_assert_uint_eq(st.st_uid, geteuid());
		/* The descriptor is that directory, open for reading. */
		ck_assert_int_eq(fstat(fd, &a), 0);
		ck_assert_uint_eq(a.st_ino, st.st_ino);
		ck_assert_int_eq(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
		ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);

		/* Again: the same directory, not created, nothing changed. */
		fd2 = sdir_private_dir(dfd, name, name, &created);
		ck_assert_int_ge(fd2, 0);
		ck_assert(!created);
		ck_assert_int_eq(fstat(fd2, &b), 0);
		ck_assert_uint_eq(b.st_ino, st.st_ino);
		ck_assert_uint_eq(b.st_mode & 07777, 0700);
		close(fd2);
		close(fd);
	}
	/* @created may be NULL; a path with AT_FDCWD works too. */
	snprintf(name, sizeof(name), "%s/.x", dir);
	fd = sdir_private_dir(AT_FDCWD, name, name, NULL);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_uint_eq(stat_at(".x").st_mode & 07777, 0700);
}
END_TEST

START_TEST(test_existing_modes)
{
	static const struct {
		mode_t in, out;
	} cases[] = {
		{ 0700, 0700 }, { 0755, 0755 },	 { 0500, 0500 },
		{ 0770, 0700 }, { 0777, 0700 },	 { 0702, 0700 },
		{ 0720, 0700 }, { 01777, 0700 }, /* sticky is no excuse */
	};
	struct stat st;
	size_t i;
	bool created = true;
	int fd;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(mkdirat(dfd, ".rdmafs", 0700), 0);
		ck_assert_int_eq(fchmodat(dfd, ".rdmafs", cases[i].in, 0), 0);
		fd = sdir_private_dir(dfd, ".rdmafs", "BACKING/.rdmafs",
				      &created);
		ck_assert_msg(fd >= 0, "mode %04o: %d", cases[i].in, fd);
		ck_assert(!created);
		st = stat_at(".rdmafs");
		ck_assert_msg((st.st_mode & 07777) == cases[i].out,
			      "mode %04o became %04o, want %04o", cases[i].in,
			      st.st_mode & 07777, cases[i].out);
		close(fd);
		ck_assert_int_eq(unlinkat(dfd, ".rdmafs", AT_REMOVEDIR), 0);
	}
}
END_TEST

START_TEST(test_symlink_refused)
{
	struct stat st;
	int fd;

	/* A link to a directory of ours, open to all: not followed. */
	ck_assert_int_eq(mkdirat(dfd, "target", 0777), 0);
	ck_assert_int_eq(fchmodat(dfd, "target", 0777, 0), 0);
	ck_assert_int_eq(symlinkat("target", dfd, ".rdmafs"), 0);
	fd = sdir_private_dir(dfd, ".rdmafs", ".rdmafs", NULL);
	/* O_DIRECTORY is checked first: ENOTDIR (ELOOP on older kernels). */
	ck_assert_msg(fd == -ENOTDIR || fd == -ELOOP, "%d", fd);
	/* Neither the link nor its target changed. */
	st = stat_at(".rdmafs");
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_uint_eq(stat_at("target").st_mode & 07777, 0777);

	/* A dangling link: nothing is created where it points. */
	ck_assert_int_eq(symlinkat("nowhere", dfd, ".dangling"), 0);
	fd = sdir_private_dir(dfd, ".dangling", ".dangling", NULL);
	ck_assert_int_lt(fd, 0);
	ck_assert_int_eq(faccessat(dfd, "nowhere", F_OK, AT_SYMLINK_NOFOLLOW),
			 -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(test_not_a_directory)
{
	int fd;

	fd = openat(dfd, ".rdmafs", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(sdir_private_dir(dfd, ".rdmafs", ".rdmafs", NULL),
			 -ENOTDIR);
	ck_assert(S_ISREG(stat_at(".rdmafs").st_mode));
	/* A FIFO: refused at once, not waited on for a writer. */
	ck_assert_int_eq(mkfifoat(dfd, ".fifo", 0600), 0);
	ck_assert_int_eq(sdir_private_dir(dfd, ".fifo", ".fifo", NULL),
			 -ENOTDIR);
	/* A parent that does not exist. */
	ck_assert_int_eq(sdir_private_dir(dfd, "no/such", "no/such", NULL),
			 -ENOENT);
}
END_TEST

START_TEST(test_other_owner_refused)
{
	struct stat st;
	int fd;

	if (!need_root("chown to nobody"))
		return;
	ck_assert_int_eq(mkdirat(dfd, ".rdmafs", 0700), 0);
	ck_assert_int_eq(fchownat(dfd, ".rdmafs", NOBODY, NOBODY, 0), 0);
	fd = sdir_private_dir(dfd, ".rdmafs", "BACKING/.rdmafs", NULL);
	ck_assert_int_eq(fd, -EPERM);
	/* Even writable by all, it is refused, not "repaired". */
	ck_assert_int_eq(fchmodat(dfd, ".rdmafs", 0777, 0), 0);
	ck_assert_int_eq(sdir_private_dir(dfd, ".rdmafs", ".rdmafs", NULL),
			 -EPERM);
	st = stat_at(".rdmafs");
	ck_assert_uint_eq(st.st_uid, NOBODY);
	ck_assert_uint_eq(st.st_mode & 07777, 0777);
}
END_TEST

static char child_path[PATH_MAX + 16];

static int as_other(void *arg)
{
	int fd = sdir_private_dir(AT_FDCWD, child_path, child_path, NULL);

	CHILD_EXPECT(fd == *(int *)arg);
	return 0;
}

/*
 * The other way round: a user's daemon finds root's directory.  Its
 * owner is the reason (EPERM) when it can be opened; a 0700 one cannot
 * even be opened (EACCES).
 */
START_TEST(test_root_dir_refused_to_user)
{
	int want = -EPERM;

	if (!need_root("running as another user"))
		return;
	ck_assert_int_eq(chmod(dir, 0755), 0);
	ck_assert_int_eq(mkdirat(dfd, ".rdmafs", 0755), 0);
	ck_assert_int_eq(fchmodat(dfd, ".rdmafs", 0755, 0), 0);
	snprintf(child_path, sizeof(child_path), "%s/.rdmafs", dir);
	ck_assert_int_eq(as_user(TEST_UID, TEST_UID, 022, as_other, &want), 0);
	ck_assert_int_eq(fchmodat(dfd, ".rdmafs", 0700, 0), 0);
	want = -EACCES;
	ck_assert_int_eq(as_user(TEST_UID, TEST_UID, 022, as_other, &want), 0);
	ck_assert_uint_eq(stat_at(".rdmafs").st_mode & 07777, 0700);
}
END_TEST

/*
 * A read-only filesystem: a missing directory is -EROFS (not -ENOENT),
 * one writable by others is taken with a warning (nobody can change it
 * either), another user's is still refused.
 */
START_TEST(test_read_only)
{
	char mnt[PATH_MAX + 8];
	struct stat st;
	int mfd, fd, err;

	if (!need_root("a read-only tmpfs"))
		return;
	err = scratch_private_mounts();
	if (err) {
		fprintf(stderr, "skip part: no mount namespace: %s\n",
			strerror(-err));
		return;
	}
	snprintf(mnt, sizeof(mnt), "%s/ro", dir);
	ck_assert_int_eq(mkdir(mnt, 0755), 0);
	ck_assert_int_eq(mount("tmpfs", mnt, "tmpfs", 0, "size=1m"), 0);
	mfd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(mfd, 0);
	ck_assert_int_eq(mkdirat(mfd, "open", 0777), 0);
	ck_assert_int_eq(fchmodat(mfd, "open", 0777, 0), 0);
	ck_assert_int_eq(mkdirat(mfd, "theirs", 0700), 0);
	ck_assert_int_eq(fchownat(mfd, "theirs", NOBODY, NOBODY, 0), 0);
	ck_assert_int_eq(
		mount("none", mnt, "none", MS_REMOUNT | MS_RDONLY, NULL), 0);

	ck_assert_int_eq(sdir_private_dir(mfd, ".rdmafs", ".rdmafs", NULL),
			 -EROFS);
	fd = sdir_private_dir(mfd, "open", "open", NULL);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0777);
	close(fd);
	ck_assert_int_eq(sdir_private_dir(mfd, "theirs", "theirs", NULL),
			 -EPERM);
	close(mfd);
	ck_assert_int_eq(umount2(mnt, MNT_DETACH), 0);
}
END_TEST

/* ---- sdir_file_ok ---- */

static int make_file(const char *name, mode_t mode)
{
	int fd = openat(dfd, name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	return fd;
}

START_TEST(test_file_ok)
{
	static const struct {
		mode_t mode;
		int want;
	} cases[] = {
		{ 0600, 0 },	  { 0644, 0 },	    { 0400, 0 },
		{ 0000, 0 },	  { 0620, -EPERM }, { 0602, -EPERM },
		{ 0666, -EPERM }, { 0622, -EPERM },
	};
	char name[32];
	size_t i;
	int fd;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(name, sizeof(name), "f%zu", i);
		fd = make_file(name, cases[i].mode);
		ck_assert_msg(sdir_file_ok(fd, name) == cases[i].want,
			      "mode %04o", cases[i].mode);
		close(fd);
	}
}
END_TEST

START_TEST(test_file_refused_kinds)
{
	int fd;

	/* Two links: someone else may hold the other name. */
	fd = make_file("index", 0600);
	ck_assert_int_eq(sdir_file_ok(fd, "index"), 0);
	ck_assert_int_eq(linkat(dfd, "index", dfd, "other", 0), 0);
	ck_assert_int_eq(sdir_file_ok(fd, "index"), -EPERM);
	ck_assert_int_eq(unlinkat(dfd, "other", 0), 0);
	ck_assert_int_eq(sdir_file_ok(fd, "index"), 0);
	close(fd);

	/* Not regular: a directory, a FIFO, a symlink itself (O_PATH). */
	ck_assert_int_eq(sdir_file_ok(dfd, "dir"), -EPERM);
	ck_assert_int_eq(mkfifoat(dfd, "fifo", 0600), 0);
	fd = openat(dfd, "fifo", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sdir_file_ok(fd, "fifo"), -EPERM);
	close(fd);
	ck_assert_int_eq(symlinkat("index", dfd, "link"), 0);
	fd = openat(dfd, "link", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sdir_file_ok(fd, "link"), -EPERM);
	close(fd);

	/* A closed descriptor: fstat's error. */
	ck_assert_int_eq(sdir_file_ok(fd, "closed"), -EBADF);

	if (!need_root("chown to nobody"))
		return;
	fd = make_file("theirs", 0600);
	ck_assert_int_eq(fchown(fd, NOBODY, NOBODY), 0);
	ck_assert_int_eq(sdir_file_ok(fd, "theirs"), -EPERM);
	close(fd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("storedir");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	if (scratch_run_begin("storedir") < 0) {
		perror("test-storedir: scratch directory");
		return EXIT_FAILURE;
	}
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_created_0700_any_umask);
	tcase_add_test(tc, test_existing_modes);
	tcase_add_test(tc, test_symlink_refused);
	tcase_add_test(tc, test_not_a_directory);
	tcase_add_test(tc, test_other_owner_refused);
	tcase_add_test(tc, test_root_dir_refused_to_user);
	tcase_add_test(tc, test_read_only);
	tcase_add_test(tc, test_file_ok);
	tcase_add_test(tc, test_file_refused_kinds);
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
