// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The data path (DESIGN §9): with kernel passthrough, reads, writes and
 * mmap of a file in the mount reach the backing file without the daemon,
 * and a store through a shared mapping is the backing file's own page at
 * once; every layout change still meets the pins.  A build on libfuse
 * 3.14 says why it serves through the daemon, and refuses to be asked for
 * what it cannot do.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "harness.h"

#define KIB 1024

static struct mnt M;

/* The value of @key in the mount's status, or "" (static buffer). */
static const char *status_get(const char *key)
{
	static char st[8192], val[256];
	ssize_t n = getxattr(M.mountpoint, "user.rdmafs.status", st,
			     sizeof(st) - 1);
	size_t klen = strlen(key);
	char *p;

	ck_assert_int_gt(n, 0);
	st[n] = '\0';
	val[0] = '\0';
	for (p = st; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			snprintf(val, sizeof(val), "%.*s",
				 (int)strcspn(p + klen + 1, "\n"),
				 p + klen + 1);
			break;
		}
	}
	return val;
}

static bool on_libfuse_314(void)
{
	return !strncmp(status_get("libfuse"), "3.14", 4);
}

static void put_file(const char *path, size_t size, int seed)
{
	char *buf = malloc(size);
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);

	ck_assert_ptr_nonnull(buf);
	ck_assert_int_ge(fd, 0);
	memset(buf, 'a' + seed, size);
	ck_assert_int_eq(write(fd, buf, size), (ssize_t)size);
	ck_assert_int_eq(close(fd), 0);
	free(buf);
}

static void mount_with(const char *opts)
{
	ck_assert_int_eq(mnt_setup(&M, opts, false), 0);
}

START_TEST(test_default_data_path)
{
	mount_with(NULL);
	if (on_libfuse_314()) {
		ck_assert_str_eq(status_get("data_path"), "daemon");
		ck_assert_ptr_nonnull(
			strstr(status_get("data_path_why"), "libfuse 3.14"));
	} else {
		/* This kernel has FUSE passthrough; root has CAP_SYS_ADMIN. */
		ck_assert_str_eq(status_get("data_path"), "passthrough");
	}
	ck_assert_int_eq(mnt_teardown(&M), 0);
}
END_TEST

/*
 * A store through a shared mapping of a file in the mount is in the
 * backing file at once, before any msync: the mapping is the backing
 * file's.  Through the daemon it would sit in FUSE's page cache.
 */
START_TEST(test_mmap_is_backing_page)
{
	char got[16] = { 0 };
	char *p;
	int fd, bfd;

	mount_with(NULL);
	if (on_libfuse_314()) {
		mnt_teardown(&M);
		return;
	}
	put_file(mnt_path(&M, "m"), 64 * KIB, 0);
	fd = open(mnt_path(&M, "m"), O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	p = mmap(NULL, 64 * KIB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(p, MAP_FAILED);
	memcpy(p + 8 * KIB, "stored-by-mmap", 14);
	bfd = open(bk_path(&M, "m"), O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(bfd, 0);
	ck_assert_int_eq(pread(bfd, got, 14, 8 * KIB), 14);
	ck_assert_str_eq(got, "stored-by-mmap");
	/* And the other way: a write to the backing file shows in the map. */
	ck_assert_int_eq(close(bfd), 0);
	bfd = open(bk_path(&M, "m"), O_WRONLY | O_CLOEXEC);
	ck_assert_int_eq(pwrite(bfd, "from-backing", 12, 16 * KIB), 12);
	ck_assert_int_eq(memcmp(p + 16 * KIB, "from-backing", 12), 0);
	ck_assert_int_eq(close(bfd), 0);
	ck_assert_int_eq(munmap(p, 64 * KIB), 0);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(mnt_teardown(&M), 0);
}
END_TEST

/*
 * Reads, writes and a mapping of an open passthrough file go on while the
 * daemon is stopped: none of them is a FUSE request.  A child does them
 * and reports through a pipe; it stays until the daemon runs again, since
 * closing its copy of the descriptor is a FLUSH the daemon must answer.
 */
START_TEST(test_io_without_daemon)
{
	int fd, st, res[2], go[2];
	struct pollfd pfd;
	char result = 0;
	pid_t child;
	char *p;

	mount_with(NULL);
	if (on_libfuse_314()) {
		mnt_teardown(&M);
		return;
	}
	put_file(mnt_path(&M, "io"), 256 * KIB, 1);
	fd = open(mnt_path(&M, "io"), O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	p = mmap(NULL, 256 * KIB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(p, MAP_FAILED);
	ck_assert_int_eq(pipe(res), 0);
	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(kill(M.daemon, SIGSTOP), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		char buf[4 * KIB], r = '0';

		if (pread(fd, buf, sizeof(buf), 100 * KIB) != sizeof(buf) ||
		    buf[0] != 'b')
			r = '1';
		else if (pwrite(fd, "written", 7, 200 * KIB) != 7)
			r = '2';
		/* Beyond the end: the size changes without asking. */
		else if (pwrite(fd, "grown", 5, 300 * KIB) != 5)
			r = '3';
		else if (p[128 * KIB] != 'b')
			r = '4';
		else
			p[129 * KIB] = 'M';
		if (write(res[1], &r, 1) != 1 || read(go[0], &r, 1) < 0)
			_exit(1);
		_exit(0);
	}
	pfd.fd = res[0];
	pfd.events = POLLIN;
	st = poll(&pfd, 1, 5000);
	if (st == 1 && read(res[0], &result, 1) != 1)
		result = 0;
	ck_assert_int_eq(kill(M.daemon, SIGCONT), 0);
	ck_assert_int_eq(write(go[1], "x", 1), 1);
	ck_assert_int_eq(waitpid(child, &st, 0), child);
	ck_assert_msg(result != 0,
		      "I/O on a passthrough file waited for the daemon");
	ck_assert_msg(result == '0', "the child failed at step %c", result);
	ck_assert_int_eq(p[129 * KIB], 'M');
	ck_assert_int_eq(munmap(p, 256 * KIB), 0);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(mnt_teardown(&M), 0);
}
END_TEST

/*
 * Many opens of one file in different modes share its backing file, one
 * after another and at once; after the last close the next open
 * registers the file again.
 */
START_TEST(test_opens_share_backing)
{
	int fds[6], i;
	long before, after;
	char buf[8];

	mount_with(NULL);
	if (on_libfuse_314()) {
		mnt_teardown(&M);
		return;
	}
	put_file(mnt_path(&M, "s"), 64 * KIB, 2);
	before = atol(status_get("passthrough_files"));
	fds[0] = open(mnt_path(&M, "s"), O_RDONLY | O_CLOEXEC);
	fds[1] = open(mnt_path(&M, "s"), O_WRONLY | O_CLOEXEC);
	fds[2] = open(mnt_path(&M, "s"), O_RDWR | O_APPEND | O_CLOEXEC);
	fds[3] = open(mnt_path(&M, "s"), O_RDWR | O_DIRECT | O_CLOEXEC);
	fds[4] = open(mnt_path(&M, "s"), O_RDONLY | O_NOATIME | O_CLOEXEC);
	fds[5] = open(mnt_path(&M, "s"), O_RDWR | O_SYNC | O_CLOEXEC);
	for (i = 0; i < 6; i++)
		ck_assert_msg(fds[i] >= 0, "open %d: %s", i, strerror(errno));
	after = atol(status_get("passthrough_files"));
	ck_assert_int_eq(after, before + 1);
	ck_assert_int_eq(pwrite(fds[1], "one", 3, 0), 3);
	ck_assert_int_eq(write(fds[2], "end", 3), 3);
	ck_assert_int_eq(pread(fds[0], buf, 3, 0), 3);
	ck_assert_int_eq(memcmp(buf, "one", 3), 0);
	ck_assert_int_eq(pread(fds[4], buf, 3, 64 * KIB), 3);
	ck_assert_int_eq(memcmp(buf, "end", 3), 0);
	for (i = 0; i < 6; i++)
		ck_assert_int_eq(close(fds[i]), 0);
	/* The RELEASEs are asynchronous: the id goes with the last. */
	for (i = 0; i < 50; i++) {
		fds[0] = open(mnt_path(&M, "s"), O_RDONLY | O_CLOEXEC);
		ck_assert_int_ge(fds[0], 0);
		ck_assert_int_eq(close(fds[0]), 0);
		if (atol(status_get("passthrough_files")) > after)
			break;
		usleep(20000);
	}
	ck_assert_int_gt(atol(status_get("passthrough_files")), after);
	ck_assert_int_eq(atol(status_get("passthrough_refused")), 0);
	ck_assert_int_eq(mnt_teardown(&M), 0);
}
END_TEST

/* Layout changes still reach the daemon and meet the pin. */
START_TEST(test_mediation_under_passthrough)
{
	int fd;
	char *p;
	struct stat sb;

	mount_with("policy=refuse");
	put_file(mnt_path(&M, "pinned"), 256 * KIB, 3);
	fd = open(mnt_path(&M, "pinned"), O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	p = mmap(NULL, 256 * KIB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(p, MAP_FAILED);
	ck_assert_int_eq(setxattr(mnt_path(&M, "pinned"), "user.rdmafs.pin",
				  "0+128K", 6, 0),
			 0);
	ck_assert_int_eq(ftruncate(fd, 4 * KIB), -1);
	ck_assert_int_eq(errno, ETXTBSY);
	ck_assert_int_eq(fallocate(fd,
				   FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				   0, 64 * KIB),
			 -1);
	ck_assert_int_eq(errno, ETXTBSY);
	ck_assert_int_eq(unlink(mnt_path(&M, "pinned")), -1);
	ck_assert_int_eq(errno, ETXTBSY);
	/* Outside the pin, and growth, are plain. */
	ck_assert_int_eq(ftruncate(fd, 512 * KIB), 0);
	ck_assert_int_eq(ftruncate(fd, 192 * KIB), 0);
	ck_assert_int_eq(stat(bk_path(&M, "pinned"), &sb), 0);
	ck_assert_int_eq(sb.st_size, 192 * KIB);
	ck_assert_int_eq(p[0], 'd');
	ck_assert_int_eq(munmap(p, 256 * KIB), 0);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(mnt_teardown(&M), 0);
}
END_TEST

/* Each way to turn passthrough off says so, and why. */
START_TEST(test_off_and_why)
{
	int st;
	char *out;

	mount_with("no_passthrough");
	ck_assert_str_eq(status_get("data_path"), "daemon");
	if (!on_libfuse_314())
		ck_assert_str_eq(status_get("data_path_why"),
				 "no_passthrough was given");
	ck_assert_int_eq(mnt_teardown(&M), 0);

	mount_with("writeback");
	ck_assert_str_eq(status_get("data_path"), "daemon");
	if (!on_libfuse_314())
		ck_assert_str_eq(status_get("data_path_why"),
				 "the writeback cache was chosen");
	ck_assert_int_eq(mnt_teardown(&M), 0);

	/* Both asked for: no mount, a clear message. */
	out = harness_run(
		&st,
		"'%s' -o passthrough,writeback /nonexistent /nonexistent 2>&1",
		harness_rdmafs_bin());
	ck_assert_int_ne(st, 0);
	ck_assert_ptr_nonnull(strstr(out, "exclude each other"));
	free(out);
}
END_TEST

/* On 3.14, asking for passthrough or io_uring by name is an error. */
START_TEST(test_314_refuses_names)
{
	int st;
	char *out;

	mount_with(NULL);
	if (!on_libfuse_314()) {
		mnt_teardown(&M);
		return;
	}
	ck_assert_int_eq(mnt_teardown(&M), 0);
	out = harness_run(&st,
			  "'%s' -o passthrough /nonexistent /nonexistent 2>&1",
			  harness_rdmafs_bin());
	ck_assert_int_ne(st, 0);
	ck_assert_ptr_nonnull(strstr(out, "needs libfuse >= 3.17"));
	free(out);
	out = harness_run(&st,
			  "'%s' -o io_uring /nonexistent /nonexistent 2>&1",
			  harness_rdmafs_bin());
	ck_assert_int_ne(st, 0);
	ck_assert_ptr_nonnull(strstr(out, "needs libfuse >= 3.18"));
	free(out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mount-passthrough");
	TCase *tc = tcase_create("passthrough");
	SRunner *sr;
	int failed;

	harness_require_root_fuse();
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_default_data_path);
	tcase_add_test(tc, test_mmap_is_backing_page);
	tcase_add_test(tc, test_io_without_daemon);
	tcase_add_test(tc, test_opens_share_backing);
	tcase_add_test(tc, test_mediation_under_passthrough);
	tcase_add_test(tc, test_off_and_why);
	tcase_add_test(tc, test_314_refuses_names);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
