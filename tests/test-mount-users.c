// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The mount as other users see it (allow_other): an unprivileged caller,
 * uid TEST_UID in group TEST_GID with supplementary group SUPP_GID, gets
 * the owners, groups and permission answers the backing filesystem would
 * give it, although the daemon runs as root.
 *
 * Root prepares the same tree natively and through the mount; a child
 * process that has dropped to the test user then runs one sequence on
 * both (see oplog.h) and compares the records.  The sequence also checks
 * the answers that matter most directly, so that a difference in the
 * kernel's own rules cannot hide a wrong answer on both sides.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "harness.h"
#include "oplog.h"

#define SUPP_GID 4343 /* a supplementary group of the test user */
#define OTHER_UID 4343 /* another unprivileged user */
#define NOT_GID 4444 /* a group the test user is not in */

static struct mnt M;

static void users_setup(void)
{
	ck_assert_int_eq(mnt_setup(&M, NULL, false), 0);
	printf("%s: %s backing\n", "mount-users", M.xfs ? "xfs" : "tmpdir");
	/* Before Check forks the tests, or each would print it again. */
	fflush(stdout);
}

static void users_teardown(void)
{
	mnt_teardown(&M);
}

/* ---- as root: the tree the user meets ---- */

static void mk(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	int fd;

	if (S_ISDIR(mode)) {
		ck_assert_msg(mkdir(path, 0700) == 0, "mkdir %s: %s", path,
			      strerror(errno));
	} else {
		fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
		ck_assert_msg(fd >= 0, "create %s: %s", path, strerror(errno));
		ck_assert_int_eq(write(fd, "root\n", 5), 5);
		ck_assert_int_eq(close(fd), 0);
	}
	ck_assert_int_eq(chown(path, uid, gid), 0);
	/* After chown, which would clear the set-id bits. */
	ck_assert_int_eq(chmod(path, mode & 07777), 0);
}

static void prepare(const char *base)
{
	static const struct {
		const char *rel;
		mode_t mode;
		uid_t uid;
		gid_t gid;
	} tree[] = {
		{ "home", S_IFDIR | 0755, TEST_UID, TEST_GID },
		{ "rootfile", 0644, 0, 0 },
		{ "rootsecret", 0600, 0, 0 },
		{ "rootshared", 0666, 0, 0 },
		{ "rootdir", S_IFDIR | 0755, 0, 0 },
		{ "rootdir/inside", 0644, 0, 0 },
		{ "privdir", S_IFDIR | 0700, 0, 0 },
		{ "sgid", S_IFDIR | 02777, 0, SUPP_GID },
		{ "sgid_other", S_IFDIR | 02777, 0, NOT_GID },
		{ "sticky", S_IFDIR | 01777, 0, 0 },
		{ "sticky/others", 0666, OTHER_UID, OTHER_UID },
		{ "sticky/otherdir", S_IFDIR | 0777, OTHER_UID, OTHER_UID },
		{ "grpdir", S_IFDIR | 0775, 0, SUPP_GID },
		{ "grpdir_not", S_IFDIR | 0775, 0, NOT_GID },
	};
	char path[PATH_MAX];
	size_t i;

	ck_assert_int_eq(mkdir(base, 0755), 0);
	for (i = 0; i < sizeof(tree) / sizeof(tree[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", base, tree[i].rel);
		mk(path, tree[i].mode, tree[i].uid, tree[i].gid);
	}
}

/* ---- as the user ---- */

static int failures;

/* A direct expectation inside the child: reported, counted, not fatal. */
#define EXPECT(l, cond)                                                \
	do {                                                           \
		if (!(cond)) {                                         \
			fprintf(stderr, "%s:%d: in %s: expected %s\n", \
				__FILE__, __LINE__, (l)->base, #cond); \
			failures++;                                    \
		}                                                      \
	} while (0)

/* OP() that also expects the call to fail with @err (0: to succeed). */
#define EXPECT_ERR(l, err, expr)                                               \
	do {                                                                   \
		long e_r;                                                      \
		int e_e;                                                       \
		errno = 0;                                                     \
		e_r = (long)(expr);                                            \
		e_e = errno;                                                   \
		oplog_res((l), #expr, e_r, e_e, true);                         \
		if ((err) ? (e_r != -1 || e_e != (err)) : e_r < 0) {           \
			fprintf(stderr,                                        \
				"%s:%d: in %s: %s gave %ld (%s), wanted %s\n", \
				__FILE__, __LINE__, (l)->base, #expr, e_r,     \
				e_r < 0 ? errname(e_e) : "ok",                 \
				(err) ? errname(err) : "success");             \
			failures++;                                            \
		}                                                              \
	} while (0)

static bool owned(struct oplog *l, const char *rel, uid_t uid, gid_t gid)
{
	struct stat st;

	return lstat(P(rel), &st) == 0 && st.st_uid == uid && st.st_gid == gid;
}

static mode_t mode_of(struct oplog *l, const char *rel)
{
	struct stat st;

	return lstat(P(rel), &st) == 0 ? st.st_mode : 0;
}

static int close_rc(int fd)
{
	return fd < 0 ? -1 : close(fd);
}

static void seq_user(struct oplog *l)
{
	const struct timespec t[2] = { { 1000, 0 }, { 2000, 0 } };
	char buf[64];
	int fd;

	/* What the user creates is the user's. */
	EXPECT_ERR(l, 0, close_rc(open(P("home/f"), O_CREAT | O_WRONLY, 0666)));
	EXPECT(l, owned(l, "home/f", TEST_UID, TEST_GID));
	EXPECT(l, mode_of(l, "home/f") == (S_IFREG | 0644));
	EXPECT_ERR(l, 0, mkdir(P("home/d"), 0777));
	EXPECT(l, owned(l, "home/d", TEST_UID, TEST_GID));
	EXPECT_ERR(l, 0, mkfifo(P("home/p"), 0666));
	EXPECT(l, owned(l, "home/p", TEST_UID, TEST_GID));
	EXPECT_ERR(l, 0, symlink("f", P("home/s")));
	EXPECT(l, owned(l, "home/s", TEST_UID, TEST_GID));
	EXPECT_ERR(l, 0, mknod(P("home/n"), S_IFREG | 0600, 0));
	EXPECT(l, owned(l, "home/n", TEST_UID, TEST_GID));
	EXPECT_ERR(l, 0, link(P("home/f"), P("home/f2")));
	EXPECT_ERR(l, EPERM, mknod(P("home/c"), S_IFCHR | 0600, makedev(1, 3)));
	oplog_lstat(l, "home/f", ST_OWNER);
	oplog_lstat(l, "home/d", ST_OWNER);
	oplog_lstat(l, "home/p", ST_OWNER);
	oplog_lstat(l, "home/s", ST_OWNER);

	/* Root's files. */
	EXPECT_ERR(l, EACCES, open(P("rootfile"), O_WRONLY));
	EXPECT_ERR(l, EACCES, open(P("rootfile"), O_RDWR));
	EXPECT_ERR(l, 0, close_rc(open(P("rootfile"), O_RDONLY)));
	EXPECT_ERR(l, EACCES, open(P("rootsecret"), O_RDONLY));
	EXPECT_ERR(l, EACCES, truncate(P("rootfile"), 0));
	EXPECT_ERR(l, EPERM, chmod(P("rootfile"), 0666));
	EXPECT_ERR(l, EPERM, chown(P("rootfile"), TEST_UID, TEST_GID));
	EXPECT_ERR(l, EACCES, setxattr(P("rootfile"), "user.x", "x", 1, 0));
	EXPECT_ERR(l, EACCES, utimensat(AT_FDCWD, P("rootfile"), NULL, 0));
	EXPECT_ERR(l, EPERM, utimensat(AT_FDCWD, P("rootshared"), t, 0));
	EXPECT_ERR(l, 0, utimensat(AT_FDCWD, P("rootshared"), NULL, 0));
	fd = OPOK(l, open(P("rootshared"), O_WRONLY | O_APPEND));
	OP(l, write(fd, "user\n", 5));
	close(fd);
	oplog_lstat(l, "rootshared", ST_OWNER);
	oplog_content(l, "rootshared");
	oplog_content(l, "rootfile");
	EXPECT(l, owned(l, "rootfile", 0, 0));

	/* Not the user's to give away, nor to take. */
	EXPECT_ERR(l, EPERM, chown(P("home/f"), 0, 0));
	EXPECT_ERR(l, EPERM, chown(P("home/f"), TEST_UID + 1, -1));
	EXPECT_ERR(l, EPERM, chown(P("home/f"), -1, NOT_GID));
	EXPECT_ERR(l, 0, chown(P("home/f"), -1, SUPP_GID));
	EXPECT_ERR(l, 0, chown(P("home/f"), TEST_UID, TEST_GID));
	EXPECT_ERR(l, EPERM, lchown(P("home/s"), 0, -1));
	EXPECT_ERR(l, 0, chmod(P("home/f"), 0600));
	EXPECT_ERR(l, EPERM, setxattr(P("home/f"), "trusted.x", "x", 1, 0));
	EXPECT_ERR(l, 0, setxattr(P("home/f"), "user.x", "x", 1, 0));
	EXPECT_ERR(l, 0, utimensat(AT_FDCWD, P("home/f"), t, 0));
	oplog_lstat(l, "home/f", ST_OWNER | ST_TIMES);

	/* A root-owned 0755 directory takes nothing from the user. */
	EXPECT_ERR(l, EACCES, open(P("rootdir/x"), O_CREAT | O_WRONLY, 0644));
	EXPECT_ERR(l, EACCES, mkdir(P("rootdir/y"), 0755));
	EXPECT_ERR(l, EACCES, mkfifo(P("rootdir/z"), 0644));
	EXPECT_ERR(l, EACCES, symlink("f", P("rootdir/s")));
	EXPECT_ERR(l, EACCES, link(P("home/f"), P("rootdir/l")));
	EXPECT_ERR(l, EACCES, rename(P("home/f2"), P("rootdir/f")));
	EXPECT_ERR(l, EACCES, unlink(P("rootdir/inside")));
	EXPECT_ERR(l, EACCES, rename(P("rootdir/inside"), P("home/taken")));
	EXPECT_ERR(l, EACCES, open(P("privdir/x"), O_RDONLY));
	EXPECT_ERR(l, EACCES, close_rc(open(P("privdir"), O_RDONLY)));
	oplog_ls(l, "rootdir");

	/* access() answers for the caller, not for the daemon. */
	EXPECT_ERR(l, EACCES, access(P("rootfile"), W_OK));
	EXPECT_ERR(l, 0, access(P("rootfile"), R_OK));
	EXPECT_ERR(l, EACCES, access(P("rootsecret"), R_OK));
	EXPECT_ERR(l, EACCES, access(P("rootdir"), W_OK));
	EXPECT_ERR(l, 0, access(P("rootdir"), R_OK | X_OK));
	EXPECT_ERR(l, 0, access(P("home/f"), R_OK | W_OK));
	EXPECT_ERR(l, EACCES, access(P("home/f"), X_OK));
	EXPECT_ERR(l, EACCES,
		   faccessat(AT_FDCWD, P("rootfile"), W_OK, AT_EACCESS));
	EXPECT_ERR(l, 0, access(P("grpdir"), W_OK));
	EXPECT_ERR(l, EACCES, access(P("grpdir_not"), W_OK));

	/* A setgid directory gives its group, and its setgid bit to dirs. */
	EXPECT_ERR(l, 0, close_rc(open(P("sgid/f"), O_CREAT | O_WRONLY, 0644)));
	EXPECT(l, owned(l, "sgid/f", TEST_UID, SUPP_GID));
	EXPECT_ERR(l, 0, mkdir(P("sgid/d"), 0755));
	EXPECT(l, owned(l, "sgid/d", TEST_UID, SUPP_GID));
	EXPECT(l, mode_of(l, "sgid/d") & S_ISGID);
	EXPECT_ERR(
		l, 0,
		close_rc(open(P("sgid/d/deeper"), O_CREAT | O_WRONLY, 0644)));
	EXPECT(l, owned(l, "sgid/d/deeper", TEST_UID, SUPP_GID));
	EXPECT_ERR(l, 0, mkfifo(P("sgid/p"), 0644));
	EXPECT(l, owned(l, "sgid/p", TEST_UID, SUPP_GID));
	/* Set-group-ID on a new file survives only for a member. */
	EXPECT_ERR(l, 0,
		   close_rc(open(P("sgid/x"), O_CREAT | O_WRONLY, 02755)));
	EXPECT(l, mode_of(l, "sgid/x") == (S_IFREG | 02755));
	EXPECT_ERR(
		l, 0,
		close_rc(open(P("sgid_other/x"), O_CREAT | O_WRONLY, 02755)));
	EXPECT(l, owned(l, "sgid_other/x", TEST_UID, NOT_GID));
	EXPECT(l, mode_of(l, "sgid_other/x") == (S_IFREG | 0755));
	EXPECT_ERR(l, 0, mkdir(P("sgid_other/d"), 0755));
	oplog_lstat(l, "sgid/f", ST_OWNER);
	oplog_lstat(l, "sgid/d", ST_OWNER);
	oplog_lstat(l, "sgid/x", ST_OWNER);
	oplog_lstat(l, "sgid_other/x", ST_OWNER);
	oplog_lstat(l, "sgid_other/d", ST_OWNER);

	/* A sticky directory keeps others' entries from the user. */
	EXPECT_ERR(l, EPERM, unlink(P("sticky/others")));
	EXPECT_ERR(l, EPERM, rename(P("sticky/others"), P("sticky/mine")));
	EXPECT_ERR(l, EPERM, rmdir(P("sticky/otherdir")));
	EXPECT_ERR(l, EPERM, rename(P("home/f2"), P("sticky/others")));
	EXPECT_ERR(l, 0, close_rc(open(P("sticky/others"), O_WRONLY)));
	/* O_CREAT on another's file there: fs.protected_regular decides. */
	OP(l, close_rc(open(P("sticky/others"), O_CREAT | O_WRONLY, 0644)));
	EXPECT_ERR(l, 0,
		   close_rc(open(P("sticky/mine"), O_CREAT | O_WRONLY, 0644)));
	EXPECT_ERR(l, 0, rename(P("sticky/mine"), P("sticky/mine2")));
	EXPECT_ERR(l, 0, unlink(P("sticky/mine2")));
	EXPECT(l, owned(l, "sticky/others", OTHER_UID, OTHER_UID));
	oplog_ls(l, "sticky");

	/* Writable only through the supplementary group. */
	EXPECT_ERR(l, 0,
		   close_rc(open(P("grpdir/f"), O_CREAT | O_WRONLY, 0644)));
	EXPECT(l, owned(l, "grpdir/f", TEST_UID, TEST_GID));
	EXPECT_ERR(l, 0, mkdir(P("grpdir/d"), 0755));
	EXPECT(l, owned(l, "grpdir/d", TEST_UID, TEST_GID));
	EXPECT_ERR(l, 0, symlink("f", P("grpdir/s")));
	EXPECT_ERR(l, 0, rename(P("grpdir/f"), P("grpdir/g")));
	EXPECT_ERR(l, 0, unlink(P("grpdir/s")));
	EXPECT_ERR(l, EACCES,
		   open(P("grpdir_not/f"), O_CREAT | O_WRONLY, 0644));
	EXPECT_ERR(l, EACCES, mkdir(P("grpdir_not/d"), 0755));
	oplog_ls(l, "grpdir");

	/* Writing clears the set-user-ID bit of the user's own file. */
	EXPECT_ERR(l, 0,
		   close_rc(open(P("home/suid"), O_CREAT | O_WRONLY, 0755)));
	EXPECT_ERR(l, 0, chmod(P("home/suid"), 04755));
	fd = OPOK(l, open(P("home/suid"), O_WRONLY));
	OP(l, write(fd, "x", 1));
	close(fd);
	EXPECT(l, !(mode_of(l, "home/suid") & S_ISUID));
	oplog_lstat(l, "home/suid", ST_OWNER);
	EXPECT_ERR(l, 0, truncate(P("home/suid"), 0));

	/* Hard links to others' files: fs.protected_hardlinks decides. */
	OP(l, link(P("rootsecret"), P("home/stolen")));
	OP(l, link(P("rootshared"), P("home/shared")));
	/* Reading the user's own data back. */
	fd = OPOK(l, open(P("home/d/data"), O_CREAT | O_RDWR, 0600));
	OP(l, write(fd, "mine", 4));
	memset(buf, 0, sizeof(buf));
	OP(l, pread(fd, buf, sizeof(buf) - 1, 0));
	EXPECT(l, strcmp(buf, "mine") == 0);
	close(fd);
	oplog_ls(l, "home");
}

/* Child: become the test user and run the sequence on both trees. */
static int user_child(const char *nat, const char *fus)
{
	static const gid_t groups[] = { SUPP_GID };
	struct oplog a, b;
	char msg[4096];

	if (setgroups(1, groups) < 0 ||
	    setresgid(TEST_GID, TEST_GID, TEST_GID) < 0 ||
	    setresuid(TEST_UID, TEST_UID, TEST_UID) < 0) {
		perror("dropping to the test user");
		return 99;
	}
	umask(022);
	oplog_init(&a, nat);
	seq_user(&a);
	oplog_init(&b, fus);
	seq_user(&b);
	if (getenv("OPLOG_VERBOSE"))
		fprintf(stderr, "== native ==\n%s== mount ==\n%s", a.buf,
			b.buf);
	if (!oplog_same(&a, &b, msg, sizeof(msg))) {
		fprintf(stderr, "native and mount differ: %s\n", msg);
		failures++;
	}
	return failures ? 1 : 0;
}

START_TEST(test_unprivileged_caller)
{
	char nat[PATH_MAX], fus[PATH_MAX];
	struct stat st;
	pid_t pid;
	int status;

	snprintf(nat, sizeof(nat), "%s", bk_path(&M, "n_users"));
	snprintf(fus, sizeof(fus), "%s", mnt_path(&M, "f_users"));
	prepare(nat);
	prepare(fus);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(user_child(nat, fus));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_msg(WEXITSTATUS(status) == 0,
		      "the user's sequence failed (exit %d), see stderr",
		      WEXITSTATUS(status));

	/* The backing files themselves carry the owners (not just attrs). */
	ck_assert_int_eq(lstat(bk_path(&M, "f_users/home/f"), &st), 0);
	ck_assert_uint_eq(st.st_uid, TEST_UID);
	ck_assert_uint_eq(st.st_gid, TEST_GID);
	ck_assert_int_eq(lstat(bk_path(&M, "f_users/sgid/d"), &st), 0);
	ck_assert_uint_eq(st.st_gid, SUPP_GID);
	ck_assert(st.st_mode & S_ISGID);
	ck_assert_int_eq(lstat(bk_path(&M, "f_users/grpdir/g"), &st), 0);
	ck_assert_uint_eq(st.st_uid, TEST_UID);
	ck_assert_int_eq(lstat(bk_path(&M, "f_users/sticky/others"), &st), 0);
	ck_assert_uint_eq(st.st_uid, OTHER_UID);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mount-users");
	TCase *tc = tcase_create("users");
	SRunner *sr;
	int failed;

	harness_require_root_fuse();
	umask(022);
	tcase_add_unchecked_fixture(tc, users_setup, users_teardown);
	tcase_add_test(tc, test_unprivileged_caller);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
