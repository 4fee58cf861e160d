// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * librdmafs and the pin code under a hostile or careless caller (issue 8
 * review): descriptors whose path or mount is not what the library
 * expects.
 *  - the mount point hidden by another mount after the file was opened:
 *    rdmafs_unpin() unpins through the descriptor instead of answering
 *    ESTALE for a file that is fine;
 *  - no /proc (a chroot): the library cannot tell where a descriptor is,
 *    so -ENOTSUP, not -EBADF for a good descriptor;
 *  - a file really named "... (deleted)": pinned, listed by its path and
 *    unpinned by rdmafs_unpin() (the daemon took the name for the mark
 *    of an unlinked file);
 *  - a deleted file still answers ESTALE (mount-librdmafs) and a name
 *    replaced by another file too, so the fixes never unpin another file.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "as-user.h"
#include "librdmafs-test-util.h"

static void main_setup(void)
{
	own_mount(NULL, "hostile");
}

/* Runs @fn in a child (namespaces and chroot stay there); its status. */
static int in_child(int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(fn(arg));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "child died: %d", status);
	return WEXITSTATUS(status);
}

static size_t npins(int fd)
{
	struct rdmafs_pin *p;
	size_t n;

	ck_assert_int_eq(rdmafs_file_pins(fd, &p, &n), 0);
	rdmafs_pins_free(p, n);
	return n;
}

struct over_arg {
	int fd;
	char path[PATH_MAX];
};

#define CHILD_CHECK(cond, code)                                            \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, \
				#cond);                                    \
			return code;                                       \
		}                                                          \
	} while (0)

static int overmount_child(void *arg)
{
	struct over_arg *a = arg;
	struct rdmafs_range r = R(0, 4096);
	int ret;

	CHILD_CHECK(unshare(CLONE_NEWNS) == 0, 2);
	CHILD_CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0, 3);
	/*
	 * Opened in this namespace: a descriptor of the parent's is on a
	 * mount this namespace does not list (-ENOTSUP, rightly).
	 */
	a->fd = open(a->path, O_RDWR | O_CLOEXEC);
	CHILD_CHECK(a->fd >= 0, 7);
	CHILD_CHECK(mount("none", M.mountpoint, "tmpfs", 0, NULL) == 0, 4);
	ret = rdmafs_unpin(a->fd, &r, 0);
	if (ret) {
		fprintf(stderr, "unpin under another mount: %s\n",
			rdmafs_strerror(ret));
		return 5;
	}
	/* "all" too, with no pin left: the daemon's answer, not ESTALE */
	ret = rdmafs_unpin(a->fd, NULL, 0);
	CHILD_CHECK(ret == -ENODATA, 6);
	return 0;
}

START_TEST(test_unpin_overmounted)
{
	struct rdmafs_range r = R(0, 4096);
	struct over_arg a;

	a.fd = make_file("over", "f", 16 * KIB, 0644);
	snprintf(a.path, sizeof(a.path), "%s", mp("over/f"));
	ck_assert_int_eq(rdmafs_pin(a.fd, &r, 1, 0), 0);
	ck_assert_int_eq(in_child(overmount_child, &a), 0);
	ck_assert_uint_eq(npins(a.fd), 0);
	close(a.fd);
}
END_TEST

struct noproc_arg {
	int fd;
	char root[PATH_MAX];
};

static int noproc_child(void *arg)
{
	struct noproc_arg *a = arg;
	struct rdmafs_range r = R(0, 4096);
	struct rdmafs_pin *p;
	size_t n;
	int ret;

	CHILD_CHECK(chroot(a->root) == 0 && chdir("/") == 0, 2);
	ret = rdmafs_pin(a->fd, &r, 1, 0);
	if (ret != -ENOTSUP) {
		fprintf(stderr, "pin without /proc: %d\n", ret);
		return 3;
	}
	CHILD_CHECK(rdmafs_unpin(a->fd, &r, 0) == -ENOTSUP, 4);
	CHILD_CHECK(rdmafs_file_pins(a->fd, &p, &n) == -ENOTSUP, 5);
	/* a descriptor that is not open is still EBADF */
	CHILD_CHECK(rdmafs_pin(999, &r, 1, 0) == -EBADF, 6);
	CHILD_CHECK(rdmafs_unpin(999, &r, 0) == -EBADF, 7);
	return 0;
}

START_TEST(test_no_proc)
{
	struct noproc_arg a;
	char *tmp = getenv("TMPDIR");

	snprintf(a.root, sizeof(a.root), "%s/rdmafs-noproc.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(a.root));
	a.fd = make_file("noproc", "f", 16 * KIB, 0644);
	ck_assert_int_eq(in_child(noproc_child, &a), 0);
	/* and nothing was pinned */
	ck_assert_uint_eq(npins(a.fd), 0);
	close(a.fd);
	rmdir(a.root);
}
END_TEST

START_TEST(test_deleted_suffix_name)
{
	struct rdmafs_range r = R(0, 4096);
	struct rdmafs_mount *m;
	struct rdmafs_pin *p;
	struct stat st;
	size_t n, i;
	bool listed = false;
	char v[256];
	int fd = make_file("dsfx", "y (deleted)", 16 * KIB, 0644);

	ck_assert_int_eq(rdmafs_pin(fd, &r, 1, 0), 0);
	/* listed by its path, not as "?ino=N" */
	ck_assert_int_eq(rdmafs_mount_open(M.mountpoint, &m), 0);
	ck_assert_int_eq(rdmafs_mount_pins(m, &p, &n), 0);
	for (i = 0; i < n; i++) {
		ck_assert_msg(strncmp(p[i].path, "?ino=", 5) != 0,
			      "listed as %s", p[i].path);
		listed |= !strcmp(p[i].path, "dsfx/y (deleted)");
	}
	rdmafs_pins_free(p, n);
	ck_assert(listed);
	ck_assert_int_eq(rdmafs_unpin(fd, &r, 0), 0);
	ck_assert_uint_eq(npins(fd), 0);

	/* the daemon's root unpin by that name, with its ino */
	ck_assert_int_eq(rdmafs_pin(fd, &r, 1, 0), 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	snprintf(v, sizeof(v), "dsfx/y\\040(deleted) 0+4096 ino=%" PRIu64,
		 (uint64_t)st.st_ino);
	ck_assert_int_eq(
		setxattr(M.mountpoint, "user.rdmafs.unpin", v, strlen(v), 0),
		0);
	ck_assert_uint_eq(npins(fd), 0);
	rdmafs_mount_close(m);
	close(fd);
}
END_TEST

/*
 * "x (deleted)" now names another file, while the pinned one was
 * unlinked: the daemon's name check must not take the other file's
 * name for the pinned file's.
 */
START_TEST(test_deleted_suffix_not_confused)
{
	struct rdmafs_range r = R(0, 4096);
	int gone = make_file("dsfx2", "x", 16 * KIB, 0644);
	int other = make_file("dsfx2", "x (deleted)", 16 * KIB, 0644);

	ck_assert_int_eq(rdmafs_pin(gone, &r, 1, 0), 0);
	ck_assert_int_eq(rdmafs_pin(other, &r, 1, 0), 0);
	/* a second name keeps the inode linked: nlink stays 1 */
	ck_assert_int_eq(link(mp("dsfx2/x"), mp("dsfx2/keep")), 0);
	ck_assert_int_eq(unlink(mp("dsfx2/x")), 0);
	/* its descriptor's path is "dsfx2/x (deleted)": another file's */
	ck_assert_int_eq(rdmafs_unpin(gone, &r, 0), -ESTALE);
	ck_assert_uint_eq(npins(other), 1);
	ck_assert_uint_eq(npins(gone), 1);
	ck_assert_int_eq(rdmafs_unpin(other, &r, 0), 0);
	ck_assert_int_eq(fsetxattr(gone, "user.rdmafs.unpin", "all", 3, 0), 0);
	close(gone);
	close(other);
}
END_TEST

/*
 * A file deeper than PATH_MAX: pinned through the file, so unpinned too
 * (there is no path to send through the root).
 */
START_TEST(test_unpin_path_too_long)
{
	struct rdmafs_range r = R(0, 4096);
	char name[251];
	size_t depth = 0;
	int dir, next, fd;

	memset(name, 'd', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	dir = open_m(".", O_RDONLY | O_DIRECTORY);
	/* 17 * 251 bytes: over PATH_MAX (4096) below the mount point */
	for (depth = 0; depth < 17; depth++) {
		ck_assert(mkdirat(dir, name, 0755) == 0 || errno == EEXIST);
		next = openat(dir, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		ck_assert_int_ge(next, 0);
		close(dir);
		dir = next;
	}
	fd = openat(dir, "f", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 16 * KIB), 0);
	ck_assert_int_eq(rdmafs_pin(fd, &r, 1, 0), 0);
	ck_assert_int_eq(rdmafs_unpin(fd, &r, 0), 0);
	ck_assert_uint_eq(npins(fd), 0);
	ck_assert_int_eq(rdmafs_pin(fd, &r, 1, 0), 0);
	ck_assert_int_eq(rdmafs_unpin(fd, NULL, 0), 0);
	ck_assert_uint_eq(npins(fd), 0);
	close(fd);
	close(dir);
}
END_TEST

/*
 * RDMAFS_WHOLE names the whole-file pin: unpinning it keeps the caller's
 * other pins (it used to be sent as `all`, every pin of the caller).
 */
START_TEST(test_unpin_whole_keeps_others)
{
	struct rdmafs_range part = R(0, 4096), whole = R(0, RDMAFS_WHOLE);
	struct rdmafs_pin *p;
	size_t n;
	int fd = make_file("whole", "f", 16 * KIB, 0644);

	ck_assert_int_eq(rdmafs_pin(fd, &part, 1, 0), 0);
	ck_assert_int_eq(rdmafs_pin(fd, &whole, 1, 0), 0);
	ck_assert_uint_eq(npins(fd), 2);
	ck_assert_int_eq(rdmafs_unpin(fd, &whole, 0), 0);
	ck_assert_int_eq(rdmafs_file_pins(fd, &p, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(p[0].range.offset, 0);
	ck_assert_uint_eq(p[0].range.length, 4096);
	rdmafs_pins_free(p, n);
	ck_assert_int_eq(rdmafs_unpin(fd, &whole, 0), -ENODATA);
	ck_assert_uint_eq(npins(fd), 1);
	/* the same through the file's own attribute */
	ck_assert_int_eq(rdmafs_pin(fd, &whole, 1, 0), 0);
	ck_assert_int_eq(fsetxattr(fd, "user.rdmafs.unpin", "whole", 5, 0), 0);
	ck_assert_uint_eq(npins(fd), 1);
	/* `all` is still every pin of the caller */
	ck_assert_int_eq(rdmafs_pin(fd, &whole, 1, 0), 0);
	ck_assert_int_eq(rdmafs_unpin(fd, NULL, 0), 0);
	ck_assert_uint_eq(npins(fd), 0);
	close(fd);
}
END_TEST

/* Any int is an argument: -INT_MIN overflowed (UBSan said so). */
START_TEST(test_strerror_any_int)
{
	ck_assert_str_eq(rdmafs_strerror(INT_MIN), "unknown error");
	ck_assert_str_eq(rdmafs_strerror(INT_MAX), "unknown error");
	ck_assert_str_eq(rdmafs_strerror(-ETXTBSY), rdmafs_strerror(ETXTBSY));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mount-libhostile");
	TCase *tc = tcase_create("hostile");
	SRunner *sr;
	int failed;

	harness_require_root_fuse();
	umask(022);
	leftovers_init("hostile");

	tcase_add_unchecked_fixture(tc, main_setup, teardown);
	tcase_add_test(tc, test_unpin_overmounted);
	tcase_add_test(tc, test_no_proc);
	tcase_add_test(tc, test_deleted_suffix_name);
	tcase_add_test(tc, test_deleted_suffix_not_confused);
	tcase_add_test(tc, test_strerror_any_int);
	tcase_add_test(tc, test_unpin_path_too_long);
	tcase_add_test(tc, test_unpin_whole_keeps_others);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	harness_cleanup_leftovers(leftovers);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
