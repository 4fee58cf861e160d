// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Metadata round trips (issue 10) and what saving them must not change.
 *
 * Where libfuse >= 3.17 allows it, the daemon path negotiates
 * HANDLE_KILLPRIV_V2: the kernel stops asking for security.capability
 * before every write, and leaves dropping the set-user-ID and set-group-ID
 * bits to the daemon.  So:
 *
 * - differential: a write, a truncate and an open with O_TRUNC by a user
 *   without CAP_FSETID, and a write by root, leave the same mode through
 *   the mount as on the backing filesystem natively; through the daemon
 *   path and, where built, through kernel passthrough;
 * - where the kernel's fuse tracepoints can be read (tracefs), 64 writes
 *   of one file through the daemon path cost at most 2 GETXATTR requests
 *   on a daemon built with libfuse >= 3.17 (one per write before).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "as-user.h"
#include "harness.h"

#define TRACEFS "/sys/kernel/tracing"
#define FUSE_GETXATTR 22

static struct mnt M;

/* What one case does to a file, and as whom. */
enum act { ACT_WRITE, ACT_TRUNCATE, ACT_OPEN_TRUNC };

struct act_args {
	const char *path;
	enum act act;
};

static int do_act(void *arg)
{
	struct act_args *a = arg;
	int flags = O_WRONLY | (a->act == ACT_OPEN_TRUNC ? O_TRUNC : 0);
	int fd = open(a->path, flags | O_CLOEXEC);

	CHILD_EXPECT(fd >= 0);
	if (a->act == ACT_WRITE)
		CHILD_EXPECT(pwrite(fd, "data", 4, 0) == 4);
	else if (a->act == ACT_TRUNCATE)
		CHILD_EXPECT(ftruncate(fd, 1) == 0);
	CHILD_EXPECT(close(fd) == 0);
	return 0;
}

/*
 * The mode @path ends with: made by root as a file of 8 bytes owned by
 * @uid:@gid with @mode, then @act done as @uid (root: in this process).
 */
static mode_t mode_after(const char *path, mode_t mode, uid_t uid, gid_t gid,
			 enum act act)
{
	struct act_args a = { .path = path, .act = act };
	struct stat st;
	int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);

	ck_assert_msg(fd >= 0, "create %s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, "12345678", 8), 8);
	ck_assert_int_eq(fchown(fd, uid, gid), 0);
	/* After the chown, which drops the bits. */
	ck_assert_int_eq(fchmod(fd, mode), 0);
	ck_assert_int_eq(close(fd), 0);
	if (uid == 0)
		ck_assert_int_eq(do_act(&a), 0);
	else
		ck_assert_int_eq(as_user(uid, gid, 022, do_act, &a), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static const struct kcase {
	const char *name;
	mode_t mode;
	uid_t uid;
	enum act act;
} cases[] = {
	{ "w-suid-sgid-gx", 06775, TEST_UID, ACT_WRITE },
	{ "w-suid", 04755, TEST_UID, ACT_WRITE },
	{ "w-sgid-no-gx", 02664, TEST_UID, ACT_WRITE },
	{ "t-suid-sgid-gx", 06775, TEST_UID, ACT_TRUNCATE },
	{ "o-suid-sgid-gx", 06775, TEST_UID, ACT_OPEN_TRUNC },
	{ "w-root", 06775, 0, ACT_WRITE },
	{ "t-root", 06775, 0, ACT_TRUNCATE },
	{ "o-root", 06775, 0, ACT_OPEN_TRUNC },
};

/* Every case natively and through the mount: the modes must agree. */
static void check_kill(const char *tag)
{
	char dir[64], rel[128];
	size_t i;

	snprintf(dir, sizeof(dir), "kill-%s", tag);
	ck_assert_int_eq(mkdir(bk_path(&M, dir), 0755), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct kcase *c = &cases[i];
		gid_t gid = c->uid ? TEST_GID : 0;
		mode_t native, mounted;

		snprintf(rel, sizeof(rel), "%s/native-%s", dir, c->name);
		native = mode_after(bk_path(&M, rel), c->mode, c->uid, gid,
				    c->act);
		snprintf(rel, sizeof(rel), "%s/mount-%s", dir, c->name);
		mounted = mode_after(mnt_path(&M, rel), c->mode, c->uid, gid,
				     c->act);
		ck_assert_msg(
			mounted == native,
			"%s, %s: mode %04o through the mount, %04o natively",
			tag, c->name, (unsigned int)mounted,
			(unsigned int)native);
	}
}

static void remount(const char *opts)
{
	int err;

	ck_assert_int_eq(mnt_stop(&M, false), 0);
	err = mnt_start(&M, opts);
	ck_assert_msg(err == 0, "restart with -o %s: %s", opts ? opts : "",
		      strerror(-err));
}

/* True when the daemon names a libfuse >= 3.17 (HANDLE_KILLPRIV_V2). */
static bool libfuse_has_v2(void)
{
	int st, major = 0, minor = 0;
	char *out =
		harness_run(&st, "'%s' --version 2>&1", harness_rdmafs_bin());
	const char *p = strstr(out, "FUSE library version ");

	if (p)
		sscanf(p, "FUSE library version %d.%d", &major, &minor);
	free(out);
	return major > 3 || (major == 3 && minor >= 17);
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

/*
 * Requests with opcode @op the mount's connection sent while @fn ran,
 * counted with a tracefs instance of our own; -1 without tracefs.
 */
static long count_requests(unsigned int op, void (*fn)(void))
{
	char inst[128], path[256], line[512], *p;
	struct stat st;
	long n = 0;
	FILE *f;

	if (access(TRACEFS "/events/fuse/fuse_request_send", F_OK) < 0)
		return -1;
	ck_assert_int_eq(stat(M.mountpoint, &st), 0);
	snprintf(inst, sizeof(inst), TRACEFS "/instances/rdmafs-meta-%d",
		 (int)getpid());
	if (mkdir(inst, 0700) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/events/fuse/fuse_request_send/filter",
		 inst);
	snprintf(line, sizeof(line), "connection == %u && opcode == %u",
		 (major(st.st_dev) << 20) | minor(st.st_dev), op);
	ck_assert_int_eq(write_file(path, line), 0);
	snprintf(path, sizeof(path), "%s/events/fuse/fuse_request_send/enable",
		 inst);
	ck_assert_int_eq(write_file(path, "1"), 0);
	fn();
	snprintf(path, sizeof(path), "%s/tracing_on", inst);
	ck_assert_int_eq(write_file(path, "0"), 0);
	snprintf(path, sizeof(path), "%s/trace", inst);
	f = fopen(path, "re");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (line[0] != '#' && (p = strstr(line, "opcode ")) &&
		    strtoul(p + 7, NULL, 10) == op)
			n++;
	fclose(f);
	ck_assert_int_eq(rmdir(inst), 0);
	return n;
}

static void many_writes(void)
{
	int fd = open(mnt_path(&M, "writes"), O_CREAT | O_WRONLY | O_CLOEXEC,
		      0644);
	char buf[4096] = { 0 };
	int i;

	ck_assert_int_ge(fd, 0);
	for (i = 0; i < 64; i++)
		ck_assert_int_eq(pwrite(fd, buf, sizeof(buf),
					(off_t)i * (off_t)sizeof(buf)),
				 (ssize_t)sizeof(buf));
	ck_assert_int_eq(close(fd), 0);
}

START_TEST(test_kill_default)
{
	check_kill("default");
}
END_TEST

START_TEST(test_kill_daemon_path)
{
	remount("no_passthrough");
	check_kill("daemon");
	remount(NULL);
}
END_TEST

START_TEST(test_write_getxattr)
{
	long n;

	remount("no_passthrough");
	n = count_requests(FUSE_GETXATTR, many_writes);
	remount(NULL);
	if (n < 0) {
		printf("mount-meta: no fuse tracepoints in %s: GETXATTR not counted\n",
		       TRACEFS);
		return;
	}
	printf("mount-meta: 64 writes through the daemon: %ld GETXATTR\n", n);
	if (libfuse_has_v2())
		ck_assert_msg(
			n <= 2,
			"%ld GETXATTR requests for 64 writes (HANDLE_KILLPRIV_V2 should spare them)",
			n);
}
END_TEST

static void meta_setup(void)
{
	ck_assert_int_eq(mnt_setup(&M, NULL, false), 0);
	printf("%s: %s backing\n", "mount-meta", M.xfs ? "xfs" : "tmpdir");
	fflush(stdout);
}

static void meta_teardown(void)
{
	mnt_teardown(&M);
}

int main(void)
{
	Suite *s = suite_create("mount-meta");
	TCase *tc = tcase_create("meta");
	SRunner *sr;
	int failed;

	harness_require_root_fuse();
	umask(022);
	tcase_add_unchecked_fixture(tc, meta_setup, meta_teardown);
	tcase_add_test(tc, test_kill_default);
	tcase_add_test(tc, test_kill_daemon_path);
	tcase_add_test(tc, test_write_getxattr);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	/* mnt_stop() waits for the daemon: only its starter can. */
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
