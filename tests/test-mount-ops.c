// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Every operation of the passthrough, as root.
 *
 * Most tests are differential (see oplog.h): one sequence runs on a
 * directory of the backing filesystem and on a directory of the mount,
 * and the two records of results, errnos, attributes and contents must
 * agree.  The rest check what only the mount can show: inode numbers
 * equal to the backing ones and stable across a remount, descriptors the
 * daemon releases, overmounting, and that nothing leads out of the
 * backing tree.
 *
 * Where FUSE itself cannot give the native answer, the test says so and
 * checks the answer FUSE gives instead.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "oplog.h"

#define FUSE_SUPER_MAGIC 0x65735546
#define KIB 1024L
#define MIB (1024L * 1024L)

/* One mount shared by the tests of the "ops" case; each uses its own dirs. */
static struct mnt M;

static void ops_setup(void)
{
	ck_assert_int_eq(mnt_setup(&M, NULL, false), 0);
	printf("%s: %s backing\n", "mount-ops", M.xfs ? "xfs" : "tmpdir");
	/* Before Check forks the tests, or each would print it again. */
	fflush(stdout);
}

static void ops_teardown(void)
{
	mnt_teardown(&M);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static bool is_fuse(const char *path)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && sf.f_type == FUSE_SUPER_MAGIC;
}

static void put_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);

	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
}

/* Reads at most @size - 1 bytes of @path into @buf, NUL-terminated. */
static ssize_t get_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, got = 0;

	if (fd < 0)
		return -errno;
	while ((size_t)got < size - 1 &&
	       (n = read(fd, buf + got, size - 1 - (size_t)got)) > 0)
		got += n;
	buf[got] = '\0';
	close(fd);
	return got;
}

/* Writes a small file; returns 0 or -1 with errno, for sequences. */
static int put_file_rc(const char *path)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return -1;
	if (write(fd, "content\n", 8) != 8) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static void fill(unsigned char *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)((i * 131 + seed * 7 + (i >> 12)) &
					 0xff);
}

/*
 * Runs @seq in a fresh directory "n_NAME" of the backing filesystem and in
 * "f_NAME" inside the mount, and fails on the first differing record.
 */
static void compare(const char *name, void (*seq)(struct oplog *l))
{
	char nat[PATH_MAX], fus[PATH_MAX], rel[256], msg[8192];
	struct oplog a, b;

	snprintf(rel, sizeof(rel), "n_%s", name);
	snprintf(nat, sizeof(nat), "%s", bk_path(&M, rel));
	snprintf(rel, sizeof(rel), "f_%s", name);
	snprintf(fus, sizeof(fus), "%s", mnt_path(&M, rel));
	ck_assert_int_eq(mkdir(nat, 0755), 0);
	ck_assert_int_eq(mkdir(fus, 0755), 0);

	oplog_init(&a, nat);
	seq(&a);
	oplog_init(&b, fus);
	seq(&b);
	if (getenv("OPLOG_VERBOSE"))
		fprintf(stderr, "== %s native ==\n%s== %s mount ==\n%s", name,
			a.buf, name, b.buf);
	if (!oplog_same(&a, &b, msg, sizeof(msg)))
		ck_abort_msg("%s: %s", name, msg);
	oplog_free(&a);
	oplog_free(&b);
}

/*
 * Native and mount paths for a test that checks one tree against the
 * other directly: creates "NAME" through the mount.
 */
static void test_dir(const char *name, char *mnt, char *bk)
{
	snprintf(mnt, PATH_MAX, "%s", mnt_path(&M, name));
	snprintf(bk, PATH_MAX, "%s", bk_path(&M, name));
	ck_assert_int_eq(mkdir(mnt, 0755), 0);
}

static const char *join(char *buf, const char *dir, const char *name)
{
	if (snprintf(buf, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
		abort();
	return buf;
}

/* ---- lookup and getattr ---- */

static void assert_same_inode(const char *m, const char *b)
{
	struct stat sm, sb;

	ck_assert_msg(lstat(m, &sm) == 0, "lstat %s: %s", m, strerror(errno));
	ck_assert_msg(lstat(b, &sb) == 0, "lstat %s: %s", b, strerror(errno));
	ck_assert_uint_eq(sm.st_ino, sb.st_ino);
	ck_assert_uint_eq(sm.st_mode, sb.st_mode);
	ck_assert_uint_eq(sm.st_nlink, sb.st_nlink);
	ck_assert_uint_eq(sm.st_uid, sb.st_uid);
	ck_assert_uint_eq(sm.st_gid, sb.st_gid);
	ck_assert_uint_eq(sm.st_rdev, sb.st_rdev);
	ck_assert_int_eq(sm.st_mtim.tv_sec, sb.st_mtim.tv_sec);
	ck_assert_int_eq(sm.st_mtim.tv_nsec, sb.st_mtim.tv_nsec);
	ck_assert_int_eq(sm.st_ctim.tv_sec, sb.st_ctim.tv_sec);
	ck_assert_int_eq(sm.st_ctim.tv_nsec, sb.st_ctim.tv_nsec);
	if (!S_ISDIR(sm.st_mode)) {
		ck_assert_int_eq(sm.st_size, sb.st_size);
		ck_assert_int_eq(sm.st_blocks, sb.st_blocks);
	}
}

START_TEST(test_lookup_getattr)
{
	char mnt[PATH_MAX], bk[PATH_MAX], a[PATH_MAX], b[PATH_MAX];
	char longname[300];
	struct stat st, root_b, root_m;
	static const char *const names[] = { "file", "dir", "sym", "dir/sub" };
	size_t i;

	test_dir("getattr", mnt, bk);
	/* Made natively, so that the mount looks them up for the first time. */
	put_file(join(a, bk, "file"), "hello", 5);
	ck_assert_int_eq(mkdir(join(a, bk, "dir"), 0750), 0);
	ck_assert_int_eq(symlink("file", join(a, bk, "sym")), 0);
	put_file(join(a, bk, "dir/sub"), "x", 1);
	ck_assert_int_eq(chown(join(a, bk, "dir/sub"), 1234, 5678), 0);

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_same_inode(join(a, mnt, names[i]),
				  join(b, bk, names[i]));

	/* The root's inode number is the backing directory's. */
	ck_assert_int_eq(stat(M.mountpoint, &root_m), 0);
	ck_assert_int_eq(stat(M.backing, &root_b), 0);
	ck_assert_uint_eq(root_m.st_ino, root_b.st_ino);

	/* stat() follows the link to the file. */
	ck_assert_int_eq(stat(join(a, mnt, "sym"), &st), 0);
	ck_assert_int_eq(lstat(join(b, bk, "file"), &root_b), 0);
	ck_assert_uint_eq(st.st_ino, root_b.st_ino);

	/* Failing lookups fail as natively. */
	ck_assert_int_eq(lstat(join(a, mnt, "none"), &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(lstat(join(a, mnt, "file/x"), &st), -1);
	ck_assert_int_eq(errno, ENOTDIR);
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ck_assert_int_eq(lstat(join(a, mnt, longname), &st), -1);
	ck_assert_int_eq(errno, ENAMETOOLONG);

	/* A change made natively shows once the attribute cache expires. */
	ck_assert_int_eq(chmod(join(a, bk, "file"), 0600), 0);
	sleep_ms(1100);
	assert_same_inode(join(a, mnt, "file"), join(b, bk, "file"));
}
END_TEST

START_TEST(test_hardlink)
{
	char mnt[PATH_MAX], bk[PATH_MAX], a[PATH_MAX], b[PATH_MAX];
	struct stat s1, s2, sb;
	int fd;

	test_dir("link", mnt, bk);
	put_file(join(a, mnt, "orig"), "data", 4);
	ck_assert_int_eq(mkdir(join(a, mnt, "sub"), 0755), 0);
	ck_assert_int_eq(link(join(a, mnt, "orig"), join(b, mnt, "sub/alias")),
			 0);
	ck_assert_int_eq(stat(join(a, mnt, "orig"), &s1), 0);
	ck_assert_int_eq(stat(join(a, mnt, "sub/alias"), &s2), 0);
	ck_assert_int_eq(stat(join(a, bk, "orig"), &sb), 0);
	ck_assert_uint_eq(s1.st_ino, s2.st_ino);
	ck_assert_uint_eq(s1.st_ino, sb.st_ino);
	ck_assert_uint_eq(s1.st_nlink, 2);
	ck_assert_uint_eq(s2.st_nlink, 2);
	ck_assert_uint_eq(sb.st_nlink, 2);

	/* Data written through one name is read through the other. */
	fd = open(join(a, mnt, "sub/alias"), O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "+more", 5), 5);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(get_file(join(a, mnt, "orig"), b, sizeof(b)), 9);
	ck_assert_str_eq(b, "data+more");

	ck_assert_int_eq(unlink(join(a, mnt, "orig")), 0);
	ck_assert_int_eq(stat(join(a, mnt, "sub/alias"), &s2), 0);
	ck_assert_uint_eq(s2.st_nlink, 1);
	ck_assert_uint_eq(s2.st_ino, sb.st_ino);
}
END_TEST

static void seq_link(struct oplog *l)
{
	int fd;

	fd = OPOK(l, open(P("a"), O_CREAT | O_WRONLY, 0644));
	close(fd);
	OP(l, mkdir(P("d"), 0755));
	OP(l, link(P("a"), P("b")));
	OP(l, link(P("a"), P("b")));
	OP(l, link(P("none"), P("c")));
	OP(l, link(P("d"), P("e")));
	OP(l, link(P("a"), P("none/x")));
	OP(l, link(P("a"), P("d/a")));
	OP(l, symlink("a", P("s")));
	/* A link to a symlink links the symlink itself. */
	OP(l, linkat(AT_FDCWD, P("s"), AT_FDCWD, P("s2"), 0));
	OP(l, linkat(AT_FDCWD, P("s"), AT_FDCWD, P("s3"), AT_SYMLINK_FOLLOW));
	oplog_lstat(l, "a", 0);
	oplog_lstat(l, "s", 0);
	oplog_lstat(l, "s2", 0);
	oplog_lstat(l, "s3", 0);
	oplog_ls(l, ".");
}

START_TEST(test_link_errors)
{
	compare("link", seq_link);
}
END_TEST

/* ---- setattr ---- */

static void seq_chmod_chown(struct oplog *l)
{
	int fd;

	fd = OPOK(l, open(P("f"), O_CREAT | O_WRONLY, 0666));
	OP(l, write(fd, "x", 1));
	oplog_lstat(l, "f", ST_OWNER);
	OP(l, chmod(P("f"), 0600));
	oplog_lstat(l, "f", ST_OWNER);
	OP(l, chmod(P("f"), 04755));
	oplog_lstat(l, "f", ST_OWNER);
	/* chown clears set-id bits, for root too. */
	OP(l, chown(P("f"), 1234, 5678));
	oplog_lstat(l, "f", ST_OWNER);
	OP(l, fchmod(fd, 02755));
	oplog_lstat(l, "f", ST_OWNER);
	OP(l, fchown(fd, -1, 42));
	oplog_lstat(l, "f", ST_OWNER);
	OP(l, chmod(P("f"), 01777));
	oplog_lstat(l, "f", ST_OWNER);
	OP(l, chown(P("f"), 0, 0));
	oplog_lstat(l, "f", ST_OWNER);
	close(fd);

	OP(l, symlink("f", P("s")));
	OP(l, lchown(P("s"), 77, 88));
	oplog_lstat(l, "s", ST_OWNER);
	oplog_lstat(l, "f", ST_OWNER);
	/* chown through the link changes the target. */
	OP(l, chown(P("s"), 99, 98));
	oplog_lstat(l, "s", ST_OWNER);
	oplog_lstat(l, "f", ST_OWNER);
	OP(l, chmod(P("s"), 0640));
	oplog_lstat(l, "f", ST_OWNER);

	OP(l, mkdir(P("d"), 0777));
	OP(l, chmod(P("d"), 02710));
	OP(l, chown(P("d"), 5, 6));
	oplog_lstat(l, "d", ST_OWNER);
	OP(l, chmod(P("none"), 0644));
	OP(l, chown(P("none"), 1, 1));
}

START_TEST(test_chmod_chown)
{
	compare("chmod", seq_chmod_chown);
}
END_TEST

static void seq_truncate(struct oplog *l)
{
	unsigned char buf[10000];
	struct stat st;
	char cmd[PATH_MAX + 64];
	int fd;

	fill(buf, sizeof(buf), 1);
	fd = OPOK(l, open(P("t"), O_CREAT | O_RDWR, 0644));
	OP(l, write(fd, buf, sizeof(buf)));
	OP(l, truncate(P("t"), 20000));
	oplog_content(l, "t");
	OP(l, truncate(P("t"), 5000));
	oplog_content(l, "t");
	OP(l, ftruncate(fd, 7000));
	oplog_content(l, "t");
	OP(l, ftruncate(fd, 0));
	oplog_content(l, "t");
	/* A large sparse size allocates nothing. */
	OP(l, ftruncate(fd, 1L << 30));
	OP(l, fstat(fd, &st));
	oplog_add(l, "sparse: size=%lld blocks<64: %d", (long long)st.st_size,
		  st.st_blocks < 64);
	OP(l, pwrite(fd, "end", 3, (1L << 30) - 3));
	OP(l, ftruncate(fd, 3));
	oplog_content(l, "t");
	OP(l, truncate(P("t"), -1));
	OP(l, truncate(P("."), 0));
	OP(l, truncate(P("none"), 0));
	close(fd);
	fd = OPOK(l, open(P("t"), O_RDONLY));
	OP(l, ftruncate(fd, 0));
	close(fd);

	/* The coreutils tool, absolute and relative sizes. */
	snprintf(cmd, sizeof(cmd), "truncate -s 12345 '%s'", P("t"));
	oplog_sh(l, cmd);
	oplog_content(l, "t");
	snprintf(cmd, sizeof(cmd), "truncate -s +1000 '%s'", P("t"));
	oplog_sh(l, cmd);
	oplog_content(l, "t");
	snprintf(cmd, sizeof(cmd), "truncate -s %%4096 '%s'", P("t"));
	oplog_sh(l, cmd);
	oplog_content(l, "t");
	snprintf(cmd, sizeof(cmd), "truncate -c -s 10 '%s' '%s'", P("t"),
		 P("absent"));
	oplog_sh(l, cmd);
	oplog_lstat(l, "absent", 0);
	oplog_content(l, "t");
}

START_TEST(test_truncate)
{
	compare("truncate", seq_truncate);
}
END_TEST

static void log_times(struct oplog *l, const char *rel, int flags)
{
	struct stat st;

	if (fstatat(AT_FDCWD, P(rel), &st, flags) < 0) {
		oplog_add(l, "times %s = -1 %s", rel, errname(errno));
		return;
	}
	oplog_add(l, "times %s: atime=%lld.%09ld mtime=%lld.%09ld", rel,
		  (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
		  (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

/* Logs whether @rel's mtime (or atime) is within [t0, now]. */
static void log_now(struct oplog *l, const char *rel, bool mtime,
		    const struct timespec *t0)
{
	struct timespec t1;
	struct stat st;
	const struct timespec *t;

	clock_gettime(CLOCK_REALTIME, &t1);
	if (lstat(P(rel), &st) < 0) {
		oplog_add(l, "now %s = -1 %s", rel, errname(errno));
		return;
	}
	t = mtime ? &st.st_mtim : &st.st_atim;
	/* Filesystems take the time at a coarse granularity: allow 1 s. */
	oplog_add(l, "%s of %s is now: %d", mtime ? "mtime" : "atime", rel,
		  t->tv_sec >= t0->tv_sec - 1 && t->tv_sec <= t1.tv_sec);
}

static void seq_utimens(struct oplog *l)
{
	const struct timespec both[2] = { { 1000000000, 123456789 },
					  { 1200000000, 987654321 } };
	const struct timespec omit_a[2] = { { 0, UTIME_OMIT },
					    { 1300000000, 5 } };
	const struct timespec omit_m[2] = { { 1100000000, 7 },
					    { 0, UTIME_OMIT } };
	const struct timespec omit[2] = { { 0, UTIME_OMIT },
					  { 0, UTIME_OMIT } };
	const struct timespec now_m[2] = { { 0, UTIME_OMIT },
					   { 0, UTIME_NOW } };
	const struct timespec now_a[2] = { { 0, UTIME_NOW },
					   { 0, UTIME_OMIT } };
	const struct timespec link_t[2] = { { 1100000000, 7 },
					    { 1250000000, 11 } };
	struct timespec t0;
	int fd;

	fd = OPOK(l, open(P("f"), O_CREAT | O_WRONLY, 0644));
	OP(l, utimensat(AT_FDCWD, P("f"), both, 0));
	log_times(l, "f", 0);
	OP(l, utimensat(AT_FDCWD, P("f"), omit_a, 0));
	log_times(l, "f", 0);
	OP(l, utimensat(AT_FDCWD, P("f"), omit_m, 0));
	log_times(l, "f", 0);
	OP(l, utimensat(AT_FDCWD, P("f"), omit, 0));
	log_times(l, "f", 0);
	clock_gettime(CLOCK_REALTIME, &t0);
	OP(l, utimensat(AT_FDCWD, P("f"), now_m, 0));
	log_now(l, "f", true, &t0);
	log_now(l, "f", false, &t0);
	OP(l, utimensat(AT_FDCWD, P("f"), both, 0));
	OP(l, futimens(fd, now_a));
	log_now(l, "f", false, &t0);
	log_now(l, "f", true, &t0);
	OP(l, futimens(fd, both));
	log_times(l, "f", 0);
	OP(l, utimensat(AT_FDCWD, P("f"), NULL, 0));
	log_now(l, "f", true, &t0);
	log_now(l, "f", false, &t0);
	close(fd);

	/* On a symlink itself: the target keeps its times. */
	OP(l, utimensat(AT_FDCWD, P("f"), both, 0));
	OP(l, symlink("f", P("s")));
	OP(l, utimensat(AT_FDCWD, P("s"), link_t, AT_SYMLINK_NOFOLLOW));
	log_times(l, "s", AT_SYMLINK_NOFOLLOW);
	log_times(l, "f", 0);
	/* ...and through it, the target changes. */
	OP(l, utimensat(AT_FDCWD, P("s"), omit_a, 0));
	log_times(l, "f", 0);

	OP(l, mkdir(P("d"), 0755));
	OP(l, utimensat(AT_FDCWD, P("d"), both, 0));
	log_times(l, "d", 0);
	OP(l, utimensat(AT_FDCWD, P("none"), both, 0));
}

START_TEST(test_utimens)
{
	compare("utimens", seq_utimens);
}
END_TEST

/* ---- names ---- */

static void seq_symlink(struct oplog *l)
{
	char target[2048], buf[4096];
	ssize_t n;
	int fd;

	OP(l, symlink("target", P("rel")));
	OP(l, symlink("/etc/passwd", P("abs")));
	OP(l, symlink("../../outside/of/everything", P("up")));
	OP(l, symlink("target", P("rel")));
	OP(l, symlink("", P("empty")));
	memset(target, 'x', 1000);
	target[1000] = '\0';
	OP(l, symlink(target, P("long1000")));
	/* Past what XFS stores (1024): the backing filesystem decides. */
	memset(target, 'y', 2000);
	target[2000] = '\0';
	OP(l, symlink(target, P("long2000")));
	n = OP(l, readlink(P("rel"), buf, sizeof(buf)));
	oplog_add(l, "  -> '%.*s'", (int)(n > 0 ? n : 0), buf);
	n = OP(l, readlink(P("abs"), buf, sizeof(buf)));
	oplog_add(l, "  -> '%.*s'", (int)(n > 0 ? n : 0), buf);
	n = OP(l, readlink(P("up"), buf, sizeof(buf)));
	oplog_add(l, "  -> '%.*s'", (int)(n > 0 ? n : 0), buf);
	n = OP(l, readlink(P("long1000"), buf, sizeof(buf)));
	oplog_add(l, "  hash %016llx",
		  (unsigned long long)fnv1a(buf, n > 0 ? (size_t)n : 0, 1));
	/* A short buffer gets the start of the target, unterminated. */
	n = OP(l, readlink(P("abs"), buf, 4));
	oplog_add(l, "  -> '%.*s'", (int)(n > 0 ? n : 0), buf);
	oplog_lstat(l, "rel", 0);
	oplog_lstat(l, "abs", 0);
	oplog_lstat(l, "long1000", 0);
	oplog_lstat(l, "long2000", 0);
	OP(l, put_file_rc(P("target")));
	/* Following the relative link reaches the target in this dir. */
	fd = OPOK(l, open(P("rel"), O_RDONLY));
	n = OP(l, read(fd, buf, sizeof(buf)));
	close(fd);
	OP(l, readlink(P("target"), buf, sizeof(buf)));
	OP(l, readlink(P("none"), buf, sizeof(buf)));
	OP(l, mkdir(P("d"), 0755));
	OP(l, symlink("d", P("ld")));
	OP(l, symlink("x", P("ld/y")));
	n = OP(l, readlink(P("d/y"), buf, sizeof(buf)));
	fd = OPOK(l, open(P("abs"), O_PATH | O_NOFOLLOW));
	n = OP(l, readlinkat(fd, "", buf, sizeof(buf)));
	oplog_add(l, "  -> '%.*s'", (int)(n > 0 ? n : 0), buf);
	close(fd);
	oplog_ls(l, ".");
}

START_TEST(test_symlink)
{
	compare("symlink", seq_symlink);
}
END_TEST

/* A listening AF_UNIX socket bound at @path, or -1. */
static int unix_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), err;

	if (s < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(s, 1) < 0) {
		err = errno;
		close(s);
		errno = err;
		return -1;
	}
	return s;
}

/* Connects to @path, sends "ping" and reads it on the accepting side. */
static int unix_ping(int ls, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), a, ret = -1;
	char buf[8];

	if (c < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(c, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		a = accept(ls, NULL, NULL);
		if (a >= 0) {
			if (write(c, "ping", 4) == 4 && read(a, buf, 4) == 4 &&
			    memcmp(buf, "ping", 4) == 0)
				ret = 0;
			close(a);
		}
	}
	close(c);
	return ret;
}

static void seq_mknod(struct oplog *l)
{
	char buf[8];
	int fd, s;

	OP(l, mkfifo(P("fifo"), 0640));
	oplog_lstat(l, "fifo", ST_OWNER);
	OP(l, mkfifo(P("fifo"), 0640));
	/* A fifo in the mount is a kernel pipe like any other. */
	fd = OPOK(l, open(P("fifo"), O_RDWR | O_NONBLOCK));
	OP(l, write(fd, "abc", 3));
	OP(l, read(fd, buf, sizeof(buf)));
	OP(l, read(fd, buf, sizeof(buf)));
	close(fd);

	s = OPOK(l, unix_listen(P("sock")));
	oplog_lstat(l, "sock", ST_OWNER);
	OP(l, unix_ping(s, P("sock")));
	OP(l, unix_listen(P("sock")));
	close(s);
	OP(l, unlink(P("sock")));

	OP(l, mknod(P("null"), S_IFCHR | 0666, makedev(1, 3)));
	oplog_lstat(l, "null", ST_OWNER);
	OP(l, mknod(P("blk"), S_IFBLK | 0600, makedev(7, 200)));
	oplog_lstat(l, "blk", ST_OWNER);
	OP(l, mknod(P("reg"), S_IFREG | 0604, 0));
	oplog_lstat(l, "reg", ST_OWNER);
	OP(l, mknod(P("plain"), 0640, 0));
	oplog_lstat(l, "plain", ST_OWNER);
	OP(l, mknod(P("reg"), S_IFIFO | 0600, 0));
	OP(l, mknod(P("none/x"), S_IFIFO | 0600, 0));
	oplog_ls(l, ".");
}

START_TEST(test_mknod)
{
	struct statvfs sv;
	int fd;

	compare("mknod", seq_mknod);
	/*
	 * libfuse mounts nodev (and nosuid) unless asked otherwise, so the
	 * device node made above opens natively but not through the mount.
	 */
	ck_assert_int_eq(statvfs(M.mountpoint, &sv), 0);
	fd = open(bk_path(&M, "n_mknod/null"), O_WRONLY);
	ck_assert_int_ge(fd, 0);
	close(fd);
	fd = open(mnt_path(&M, "f_mknod/null"), O_WRONLY);
	if (sv.f_flag & ST_NODEV) {
		ck_assert_int_eq(fd, -1);
		ck_assert_int_eq(errno, EACCES);
	} else {
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(write(fd, "x", 1), 1);
		close(fd);
	}
}
END_TEST

static void seq_dirs(struct oplog *l)
{
	struct stat st;
	int fd;

	OP(l, mkdir(P("d"), 0777));
	oplog_lstat(l, "d", ST_OWNER);
	OP(l, mkdir(P("d"), 0777));
	OP(l, mkdir(P("d/e"), 0700));
	OP(l, mkdir(P("d/f"), 01777));
	oplog_lstat(l, "d", 0);
	oplog_lstat(l, "d/e", 0);
	oplog_lstat(l, "d/f", 0);
	OP(l, rmdir(P("d")));
	OP(l, rmdir(P("d/e")));
	OP(l, rmdir(P("d/f")));
	oplog_lstat(l, "d", 0);
	OP(l, rmdir(P("d")));
	OP(l, rmdir(P("d")));
	OP(l, mkdir(P("none/x"), 0755));
	OP(l, put_file_rc(P("file")));
	OP(l, mkdir(P("file/x"), 0755));
	OP(l, rmdir(P("file")));
	OP(l, mkdir(P("d2"), 0755));
	OP(l, unlink(P("d2")));
	OP(l, rmdir(P("d2/.")));
	OP(l, rmdir(P("d2/..")));
	OP(l, rmdir(P("d2")));
	OP(l, unlink(P("file")));
	OP(l, unlink(P("file")));

	/* An open file outlives its last name. */
	fd = OPOK(l, open(P("open"), O_CREAT | O_RDWR, 0644));
	OP(l, write(fd, "still here", 10));
	OP(l, unlink(P("open")));
	oplog_fstat(l, "open", fd, 0);
	OP(l, pwrite(fd, "S", 1, 0));
	OP(l, fstat(fd, &st) == 0 && st.st_nlink == 0 && st.st_size == 10);
	{
		char buf[16] = "";

		OP(l, pread(fd, buf, sizeof(buf), 0));
		oplog_add(l, "  '%s'", buf);
	}
	close(fd);
	oplog_lstat(l, "open", 0);
	oplog_ls(l, ".");
}

START_TEST(test_mkdir_rmdir_unlink)
{
	compare("dirs", seq_dirs);
}
END_TEST

static void seq_rename(struct oplog *l)
{
	int fd;

	OP(l, put_file_rc(P("a")));
	fd = OPOK(l, open(P("b"), O_CREAT | O_WRONLY, 0600));
	OP(l, write(fd, "bbbb", 4));
	close(fd);
	OP(l, mkdir(P("d1"), 0755));
	OP(l, put_file_rc(P("d1/in")));
	OP(l, mkdir(P("d2"), 0700));
	OP(l, mkdir(P("d3"), 0755));

	OP(l, rename(P("a"), P("c")));
	oplog_lstat(l, "a", 0);
	oplog_content(l, "c");
	/* Over an existing file: the target is replaced. */
	fd = OPOK(l, open(P("b"), O_RDONLY));
	OP(l, rename(P("c"), P("b")));
	oplog_content(l, "b");
	oplog_lstat(l, "b", 0);
	/* The replaced file stays readable through the open descriptor. */
	{
		char buf[8] = "";

		OP(l, read(fd, buf, sizeof(buf) - 1));
		oplog_add(l, "  '%s'", buf);
	}
	close(fd);

	OP(l, renameat2(AT_FDCWD, P("b"), AT_FDCWD, P("x"), RENAME_NOREPLACE));
	OP(l, put_file_rc(P("y")));
	OP(l, renameat2(AT_FDCWD, P("x"), AT_FDCWD, P("y"), RENAME_NOREPLACE));
	OP(l, renameat2(AT_FDCWD, P("x"), AT_FDCWD, P("d1"), RENAME_NOREPLACE));
	/* Exchange a file and a directory. */
	OP(l, renameat2(AT_FDCWD, P("x"), AT_FDCWD, P("d1"), RENAME_EXCHANGE));
	oplog_lstat(l, "x", 0);
	oplog_lstat(l, "d1", 0);
	oplog_content(l, "d1");
	oplog_content(l, "x/in");
	OP(l,
	   renameat2(AT_FDCWD, P("x"), AT_FDCWD, P("none"), RENAME_EXCHANGE));
	OP(l, renameat2(AT_FDCWD, P("x"), AT_FDCWD, P("y"),
			RENAME_EXCHANGE | RENAME_NOREPLACE));

	/* Directories over directories. */
	OP(l, rename(P("d2"), P("d3")));
	oplog_lstat(l, "d2", 0);
	oplog_lstat(l, "d3", 0);
	OP(l, rename(P("d3"), P("x")));
	OP(l, rename(P("d1"), P("d3")));
	OP(l, rename(P("d3"), P("d1")));
	OP(l, rename(P("x"), P("x/sub")));
	OP(l, rename(P("y"), P("y")));
	OP(l, rename(P("none"), P("z")));
	OP(l, rename(P("y"), P("none/z")));
	OP(l, rename(P("y"), P("d1/z")));

	/* Across directories, and a hard link onto its other name. */
	OP(l, rename(P("x/in"), P("d3/moved")));
	oplog_content(l, "d3/moved");
	OP(l, link(P("d3/moved"), P("twin")));
	OP(l, rename(P("d3/moved"), P("twin")));
	oplog_lstat(l, "twin", 0);
	oplog_lstat(l, "d3/moved", 0);
	oplog_ls(l, ".");
	oplog_ls(l, "d3");
	oplog_ls(l, "x");
}

START_TEST(test_rename)
{
	compare("rename", seq_rename);
}
END_TEST

/*
 * Names changed in the backing directory behind the kernel's back, while
 * it still caches the old answer.  The kernel looks rename targets and
 * exclusive-create names up afresh (so RENAME_NOREPLACE and O_EXCL are
 * settled before the daemon is asked, and the daemon's own handling of
 * them only matters in a race), but a cached name that has vanished
 * reaches the daemon, which must give the backing filesystem's answer.
 */
START_TEST(test_behind_kernel)
{
	char mnt[PATH_MAX], bk[PATH_MAX], a[PATH_MAX], b[PATH_MAX], buf[64];
	struct stat st;

	test_dir("behind", mnt, bk);
	put_file(join(a, mnt, "src"), "src", 3);
	put_file(join(a, mnt, "gone"), "gone", 4);
	put_file(join(a, mnt, "x1"), "x1", 2);
	/* Negative entries: the kernel now believes these do not exist. */
	ck_assert_int_eq(lstat(join(a, mnt, "tgt"), &st), -1);
	ck_assert_int_eq(lstat(join(a, mnt, "excl"), &st), -1);
	ck_assert_int_eq(lstat(join(a, mnt, "lnk"), &st), -1);
	ck_assert_int_eq(lstat(join(a, mnt, "dir"), &st), -1);
	put_file(join(a, bk, "tgt"), "native", 6);
	put_file(join(a, bk, "excl"), "native", 6);
	put_file(join(a, bk, "lnk"), "native", 6);
	ck_assert_int_eq(mkdir(join(a, bk, "dir"), 0755), 0);
	/* And a positive one for a file that goes away underneath. */
	ck_assert_int_eq(lstat(join(a, mnt, "gone"), &st), 0);
	ck_assert_int_eq(unlink(join(a, bk, "gone")), 0);

	ck_assert_int_eq(renameat2(AT_FDCWD, join(a, mnt, "src"), AT_FDCWD,
				   join(b, mnt, "tgt"), RENAME_NOREPLACE),
			 -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(get_file(join(a, bk, "tgt"), buf, sizeof(buf)), 6);
	ck_assert_int_eq(
		open(join(a, mnt, "excl"), O_CREAT | O_EXCL | O_WRONLY, 0644),
		-1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(link(join(a, mnt, "x1"), join(b, mnt, "lnk")), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(mkdir(join(a, mnt, "dir"), 0755), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(renameat2(AT_FDCWD, join(a, mnt, "x1"), AT_FDCWD,
				   join(b, mnt, "gone"), RENAME_EXCHANGE),
			 -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(unlink(join(a, mnt, "gone")), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(get_file(join(a, bk, "x1"), buf, sizeof(buf)), 2);
	ck_assert_int_eq(get_file(join(a, bk, "src"), buf, sizeof(buf)), 3);
}
END_TEST

/* ---- open files and data ---- */

static void seq_open(struct oplog *l)
{
	char buf[64];
	int fd, fd2;

	fd = OPOK(l, open(P("f"), O_CREAT | O_EXCL | O_WRONLY, 0640));
	oplog_lstat(l, "f", ST_OWNER);
	OP(l, write(fd, "hello", 5));
	close(fd);
	OP(l, open(P("f"), O_CREAT | O_EXCL | O_WRONLY, 0640));
	OP(l, symlink("dangling", P("s")));
	OP(l, open(P("s"), O_CREAT | O_EXCL | O_WRONLY, 0640));
	/* Without O_EXCL, O_CREAT through a dangling link makes its target. */
	fd = OPOK(l, open(P("s"), O_CREAT | O_WRONLY, 0600));
	close(fd);
	oplog_lstat(l, "dangling", 0);

	/* O_APPEND writes land at the end, wherever the offset is. */
	fd = OPOK(l, open(P("f"), O_WRONLY | O_APPEND));
	OP(l, write(fd, "world", 5));
	OP(l, lseek(fd, 0, SEEK_SET));
	OP(l, write(fd, "!", 1));
	fd2 = OPOK(l, open(P("f"), O_WRONLY | O_APPEND));
	OP(l, write(fd2, "1", 1));
	OP(l, write(fd, "2", 1));
	OP(l, write(fd2, "3", 1));
	OP(l, lseek(fd, 0, SEEK_CUR));
	close(fd2);
	close(fd);
	memset(buf, 0, sizeof(buf));
	fd = OPOK(l, open(P("f"), O_RDONLY));
	OP(l, read(fd, buf, sizeof(buf) - 1));
	oplog_add(l, "  '%s'", buf);
	OP(l, write(fd, "x", 1));
	close(fd);

	fd = OPOK(l, open(P("f"), O_WRONLY | O_TRUNC));
	oplog_lstat(l, "f", 0);
	OP(l, read(fd, buf, 1));
	OP(l, write(fd, "new", 3));
	close(fd);
	oplog_content(l, "f");
	fd = OPOK(l, open(P("f"), O_RDWR | O_CREAT | O_TRUNC, 0600));
	oplog_lstat(l, "f", 0);
	close(fd);

	OP(l, mkdir(P("d"), 0755));
	OP(l, open(P("d"), O_WRONLY));
	OP(l, open(P("d"), O_RDWR));
	OP(l, open(P("d"), O_CREAT | O_WRONLY, 0644));
	fd = OPOK(l, open(P("d"), O_RDONLY | O_DIRECTORY));
	close(fd);
	OP(l, open(P("f"), O_RDONLY | O_DIRECTORY));
	OP(l, open(P("s"), O_RDONLY | O_NOFOLLOW));
	fd = OPOK(l, open(P("s"), O_PATH | O_NOFOLLOW));
	close(fd);
	OP(l, open(P("none"), O_RDONLY));
	OP(l, open(P("none/x"), O_CREAT | O_WRONLY, 0644));
	OP(l, open(P("f/x"), O_CREAT | O_WRONLY, 0644));
	OP(l, creat(P("c"), 0751) >= 0);
	oplog_lstat(l, "c", 0);
	oplog_ls(l, ".");
}

START_TEST(test_open_flags)
{
	int fd;

	compare("open", seq_open);
	/*
	 * O_TMPFILE needs the tmpfile operation, which libfuse 3.14 does not
	 * have: the kernel answers EOPNOTSUPP for the mount, where the
	 * backing filesystem would make an unnamed file.  Not asserted, so
	 * that a newer libfuse that adds it passes too.
	 */
	fd = open(mnt_path(&M, "f_open"), O_TMPFILE | O_RDWR, 0600);
	if (fd >= 0)
		close(fd);
	else
		ck_assert_int_eq(errno, EOPNOTSUPP);
}
END_TEST

static void seq_rw(struct oplog *l)
{
	static unsigned char big[3 * MIB + 1];
	char buf[32];
	struct iovec iov[3] = {
		{ "one", 3 },
		{ "-two-", 5 },
		{ "three", 5 },
	};
	int fd;

	fill(big, sizeof(big), 3);
	fd = OPOK(l, open(P("f"), O_CREAT | O_RDWR, 0644));
	OP(l, pwrite(fd, "abc", 3, 0));
	OP(l, pwrite(fd, "xyz", 3, 10));
	oplog_fstat(l, "f", fd, 0);
	memset(buf, '.', sizeof(buf));
	OP(l, pread(fd, buf, sizeof(buf), 0));
	oplog_add(l, "  hash %016llx",
		  (unsigned long long)fnv1a(buf, sizeof(buf), 1));
	OP(l, pread(fd, buf, 4, 11));
	OP(l, pread(fd, buf, 4, 13));
	OP(l, pread(fd, buf, 4, 100));
	OP(l, pwritev(fd, iov, 3, 5));
	oplog_content(l, "f");
	OP(l, lseek(fd, 0, SEEK_END));
	OP(l, write(fd, "tail", 4));
	OP(l, lseek(fd, -2, SEEK_END));
	OP(l, read(fd, buf, 10));
	OP(l, lseek(fd, -100, SEEK_SET));
	/* Large and unaligned, crossing many pages and requests. */
	OP(l, pwrite(fd, big, sizeof(big), 12345));
	oplog_content(l, "f");
	close(fd);

	/* A sparse file: data far past a hole. */
	fd = OPOK(l, open(P("sparse"), O_CREAT | O_RDWR, 0644));
	OP(l, pwrite(fd, big, 4096, 64 * MIB));
	oplog_fstat(l, "sparse", fd, 0);
	{
		struct stat st;

		fstat(fd, &st);
		oplog_add(l, "  allocated below 1 MiB: %d",
			  st.st_blocks * 512 < MIB);
	}
	OP(l, pread(fd, buf, sizeof(buf), 32 * MIB));
	oplog_add(l, "  hole reads zeros: %d",
		  buf[0] == 0 && !memcmp(buf, buf + 1, sizeof(buf) - 1));
	close(fd);
	oplog_content(l, "sparse");
}

START_TEST(test_read_write)
{
	char mnt[PATH_MAX], bk[PATH_MAX];
	struct stat sm, sb;
	unsigned char *buf;
	int fd, bfd;

	compare("rw", seq_rw);

	/* The mount reports the backing file's allocation. */
	snprintf(mnt, sizeof(mnt), "%s", mnt_path(&M, "f_rw/sparse"));
	snprintf(bk, sizeof(bk), "%s", bk_path(&M, "f_rw/sparse"));
	fd = open(mnt, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, "more", 4, 16 * MIB), 4);
	ck_assert_int_eq(fsync(fd), 0);
	ck_assert_int_eq(fstat(fd, &sm), 0);
	ck_assert_int_eq(stat(bk, &sb), 0);
	ck_assert_int_eq(sm.st_size, sb.st_size);
	ck_assert_int_eq(sm.st_blocks, sb.st_blocks);
	ck_assert_int_lt(sm.st_blocks * 512, 4 * MIB);
	close(fd);

	/* Data written through the mount is in the backing file, and back. */
	buf = malloc(MIB);
	ck_assert_ptr_nonnull(buf);
	bfd = open(bk, O_RDONLY);
	ck_assert_int_ge(bfd, 0);
	ck_assert_int_eq(pread(bfd, buf, 4, 16 * MIB), 4);
	ck_assert_int_eq(memcmp(buf, "more", 4), 0);
	close(bfd);
	free(buf);
}
END_TEST

/*
 * Descriptors the daemon holds open on @path for I/O (its cache of
 * O_PATH descriptors naming inodes does not count).
 */
static int daemon_io_fds(pid_t pid, const char *path)
{
	char dir[64], link[PATH_MAX], target[PATH_MAX], line[128];
	struct dirent *de;
	int count = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		ssize_t n;
		FILE *f;
		unsigned int flags = 0;

		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, path) != 0)
			continue;
		snprintf(link, sizeof(link), "/proc/%d/fdinfo/%s", (int)pid,
			 de->d_name);
		f = fopen(link, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "flags: %o", &flags) == 1)
				break;
		fclose(f);
		if (!(flags & O_PATH))
			count++;
	}
	closedir(d);
	return count;
}

START_TEST(test_sync_flush_release)
{
	char mnt[PATH_MAX], bk[PATH_MAX], a[PATH_MAX], b[PATH_MAX], buf[64];
	int fd, fd2, dfd, i, n = -1;

	test_dir("sync", mnt, bk);
	fd = open(join(a, mnt, "f"), O_CREAT | O_RDWR, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "synced", 6), 6);
	ck_assert_int_eq(fsync(fd), 0);
	ck_assert_int_eq(fdatasync(fd), 0);
	ck_assert_int_eq(syncfs(fd), 0);
	/* The data is in the backing file before the file is closed. */
	ck_assert_int_eq(get_file(join(b, bk, "f"), buf, sizeof(buf)), 6);
	ck_assert_str_eq(buf, "synced");
	ck_assert_int_eq(daemon_io_fds(M.daemon, join(b, bk, "f")), 1);

	/* Every close flushes; only the last one releases. */
	fd2 = dup(fd);
	ck_assert_int_ge(fd2, 0);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(write(fd2, "+", 1), 1);
	ck_assert_int_eq(close(fd2), 0);
	ck_assert_int_eq(get_file(join(b, bk, "f"), buf, sizeof(buf)), 7);
	/* Release is asynchronous: the daemon closes its file shortly. */
	for (i = 0; i < 200; i++) {
		n = daemon_io_fds(M.daemon, join(b, bk, "f"));
		if (n == 0)
			break;
		sleep_ms(10);
	}
	ck_assert_int_eq(n, 0);

	/* fsync on a read-only descriptor, and on directories (fsyncdir). */
	fd = open(join(a, mnt, "f"), O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fsync(fd), 0);
	ck_assert_int_eq(fdatasync(fd), 0);
	close(fd);
	dfd = open(mnt, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(dfd, 0);
	ck_assert_int_eq(fsync(dfd), 0);
	ck_assert_int_eq(fdatasync(dfd), 0);
	close(dfd);
	dfd = open(M.mountpoint, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(dfd, 0);
	ck_assert_int_eq(fsync(dfd), 0);
	close(dfd);
	/* Nor does a directory stay open in the daemon after closedir. */
	for (i = 0; i < 200; i++) {
		n = daemon_io_fds(M.daemon, bk);
		if (n == 0)
			break;
		sleep_ms(10);
	}
	ck_assert_int_eq(n, 0);
}
END_TEST

/* ---- directories ---- */

#define NENTRIES 2000

START_TEST(test_readdir_many)
{
	char mnt[PATH_MAX], bk[PATH_MAX], a[PATH_MAX], name[32];
	static unsigned char seen[NENTRIES];
	static ino_t ino[NENTRIES];
	struct dirent *de;
	struct stat st;
	DIR *d;
	long pos = -1;
	char at_pos[256] = "", first[256] = "";
	int i, n, dots = 0, fd;
	FILE *p;
	char line[PATH_MAX + 64];

	test_dir("many", mnt, bk);
	for (i = 0; i < NENTRIES; i++) {
		snprintf(name, sizeof(name), "e%04d", i);
		fd = open(join(a, mnt, name), O_CREAT | O_WRONLY, 0644);
		ck_assert_int_ge(fd, 0);
		close(fd);
	}
	/* The names and inode numbers as the backing directory has them. */
	d = opendir(bk);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)))
		if (sscanf(de->d_name, "e%d", &i) == 1)
			ino[i] = de->d_ino;
	closedir(d);

	d = opendir(mnt);
	ck_assert_ptr_nonnull(d);
	for (n = 0; (de = readdir(d)); n++) {
		if (n == 0)
			snprintf(first, sizeof(first), "%s", de->d_name);
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0) {
			dots++;
			continue;
		}
		ck_assert_int_eq(sscanf(de->d_name, "e%d", &i), 1);
		ck_assert_int_lt(i, NENTRIES);
		ck_assert_msg(!seen[i], "%s listed twice", de->d_name);
		seen[i] = 1;
		ck_assert_uint_eq(de->d_ino, ino[i]);
		ck_assert_int_eq(de->d_type, DT_REG);
		if (n == 1000) {
			pos = telldir(d);
			ck_assert_int_ge(pos, 0);
		}
		if (n == 1001)
			snprintf(at_pos, sizeof(at_pos), "%s", de->d_name);
	}
	ck_assert_int_eq(dots, 2);
	ck_assert_int_eq(n, NENTRIES + 2);
	for (i = 0; i < NENTRIES; i++)
		ck_assert_msg(seen[i], "e%04d never listed", i);
	/* seekdir() returns to the entry after the one telldir() saw. */
	seekdir(d, pos);
	de = readdir(d);
	ck_assert_ptr_nonnull(de);
	ck_assert_str_eq(de->d_name, at_pos);
	rewinddir(d);
	de = readdir(d);
	ck_assert_ptr_nonnull(de);
	ck_assert_str_eq(de->d_name, first);
	closedir(d);

	/*
	 * readdirplus: ls -l stats every entry, which the kernel answers from
	 * the attributes the listing carried.
	 */
	snprintf(line, sizeof(line), "ls -l -- '%s'", mnt);
	p = popen(line, "r");
	ck_assert_ptr_nonnull(p);
	n = 0;
	while (fgets(line, sizeof(line), p))
		if (line[0] == '-' && strstr(line, " e"))
			n++;
	ck_assert_int_eq(pclose(p), 0);
	ck_assert_int_eq(n, NENTRIES);
	for (i = 0; i < NENTRIES; i += 7) {
		snprintf(name, sizeof(name), "e%04d", i);
		ck_assert_int_eq(lstat(join(a, mnt, name), &st), 0);
		ck_assert_uint_eq(st.st_ino, ino[i]);
		ck_assert(S_ISREG(st.st_mode));
	}
	snprintf(line, sizeof(line), "find '%s'", mnt);
	p = popen(line, "r");
	ck_assert_ptr_nonnull(p);
	n = 0;
	while (fgets(line, sizeof(line), p))
		n++;
	ck_assert_int_eq(pclose(p), 0);
	ck_assert_int_eq(n, NENTRIES + 1);
}
END_TEST

START_TEST(test_statfs)
{
	struct statvfs m, b1, b2;
	int i, fd;

	/*
	 * Free counts move with the backing filesystem: retry until they
	 * hold still.  A private XFS image does; a temp directory on a
	 * shared filesystem may not, and then only nearness is checked.
	 */
	fd = open(M.backing, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(fd, 0);
	for (i = 0; i < 50; i++) {
		syncfs(fd);
		ck_assert_int_eq(statvfs(M.backing, &b1), 0);
		ck_assert_int_eq(statvfs(M.mountpoint, &m), 0);
		ck_assert_int_eq(statvfs(M.backing, &b2), 0);
		if (!memcmp(&b1, &b2, sizeof(b1)) && m.f_bfree == b1.f_bfree &&
		    m.f_bavail == b1.f_bavail && m.f_ffree == b1.f_ffree)
			break;
		sleep_ms(100);
	}
	close(fd);
	ck_assert_uint_eq(m.f_bsize, b1.f_bsize);
	ck_assert_uint_eq(m.f_frsize, b1.f_frsize);
	ck_assert_uint_eq(m.f_blocks, b1.f_blocks);
	ck_assert_uint_eq(m.f_files, b1.f_files);
	ck_assert_uint_eq(m.f_namemax, b1.f_namemax);
	if (i < 50 || M.xfs) {
		ck_assert_uint_eq(m.f_bfree, b1.f_bfree);
		ck_assert_uint_eq(m.f_bavail, b1.f_bavail);
		ck_assert_uint_eq(m.f_ffree, b1.f_ffree);
	} else {
		ck_assert_uint_le(labs((long)(m.f_bfree - b1.f_bfree)),
				  b1.f_blocks / 100);
		ck_assert_uint_le(labs((long)(m.f_ffree - b1.f_ffree)),
				  b1.f_files / 100);
	}
	/* Asked about a file below the root, the answer is the same. */
	ck_assert_int_eq(mkdir(mnt_path(&M, "statfs"), 0755), 0);
	ck_assert_int_eq(statvfs(mnt_path(&M, "statfs"), &m), 0);
	ck_assert_uint_eq(m.f_blocks, b1.f_blocks);
	ck_assert_uint_eq(m.f_files, b1.f_files);
}
END_TEST

/* ---- extended attributes ---- */

/* Runs @cmd and logs its output and status, the base dir shown as $D. */
static void log_cmd(struct oplog *l, const char *cmd)
{
	char line[1024], shown[1024], tag[2 * PATH_MAX];
	FILE *p = popen(cmd, "r");

	oplog_unbase(l, cmd, tag, sizeof(tag));
	if (!p) {
		oplog_add(l, "%s: popen failed", tag);
		return;
	}
	while (fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\n")] = '\0';
		oplog_unbase(l, line, shown, sizeof(shown));
		oplog_add(l, "%s: %s", tag, shown);
	}
	oplog_add(l, "%s: exit %d", tag, WEXITSTATUS(pclose(p)));
}

static void log_xattrs(struct oplog *l, const char *rel, bool follow)
{
	char list[4096], *n;
	ssize_t len;

	len = follow ? listxattr(P(rel), list, sizeof(list))
		     : llistxattr(P(rel), list, sizeof(list));
	if (len < 0) {
		oplog_add(l, "list %s = -1 %s", rel, errname(errno));
		return;
	}
	/* The order is the filesystem's; it is the same on both sides. */
	for (n = list; n < list + len; n += strlen(n) + 1)
		oplog_add(l, "  %s", n);
}

static void seq_xattr(struct oplog *l)
{
	static char big[60000];
	char buf[65536], cmd[2 * PATH_MAX];
	int fd;

	memset(big, 'v', sizeof(big));
	OP(l, put_file_rc(P("f")));
	OP(l, setxattr(P("f"), "user.a", "1", 1, XATTR_CREATE));
	OP(l, setxattr(P("f"), "user.a", "1", 1, XATTR_CREATE));
	OP(l, setxattr(P("f"), "user.b", "2", 1, XATTR_REPLACE));
	OP(l, setxattr(P("f"), "user.a", "22", 2, XATTR_REPLACE));
	OP(l, getxattr(P("f"), "user.a", NULL, 0));
	OP(l, getxattr(P("f"), "user.a", buf, sizeof(buf)));
	oplog_add(l, "  '%.2s'", buf);
	OP(l, getxattr(P("f"), "user.a", buf, 1));
	OP(l, getxattr(P("f"), "user.none", buf, sizeof(buf)));
	OP(l, setxattr(P("f"), "user.b", "", 0, 0));
	OP(l, getxattr(P("f"), "user.b", buf, sizeof(buf)));
	OP(l, setxattr(P("f"), "user.big", big, sizeof(big), 0));
	OP(l, getxattr(P("f"), "user.big", buf, sizeof(buf)));
	oplog_add(l, "  same: %d", memcmp(buf, big, sizeof(big)) == 0);
	OP(l, setxattr(P("f"), "trusted.root", "t", 1, 0));
	OP(l, listxattr(P("f"), NULL, 0));
	OP(l, listxattr(P("f"), buf, 3));
	log_xattrs(l, "f", true);
	OP(l, removexattr(P("f"), "user.a"));
	OP(l, removexattr(P("f"), "user.a"));
	OP(l, removexattr(P("f"), "user.none"));
	OP(l, setxattr(P("f"), "bogus.ns", "x", 1, 0));
	OP(l, getxattr(P("none"), "user.a", buf, sizeof(buf)));
	log_xattrs(l, "f", true);

	/* Through a descriptor. */
	fd = OPOK(l, open(P("f"), O_RDONLY));
	OP(l, fsetxattr(fd, "user.fd", "fd", 2, 0));
	OP(l, fgetxattr(fd, "user.fd", buf, sizeof(buf)));
	OP(l, fremovexattr(fd, "user.b"));
	close(fd);

	/* Directories hold user xattrs; symlinks hold only trusted ones. */
	OP(l, mkdir(P("d"), 0755));
	OP(l, setxattr(P("d"), "user.dir", "d", 1, 0));
	OP(l, getxattr(P("d"), "user.dir", buf, sizeof(buf)));
	OP(l, symlink("f", P("s")));
	OP(l, lsetxattr(P("s"), "user.link", "s", 1, 0));
	OP(l, lsetxattr(P("s"), "trusted.link", "s", 1, 0));
	OP(l, lgetxattr(P("s"), "trusted.link", buf, sizeof(buf)));
	OP(l, getxattr(P("s"), "trusted.link", buf, sizeof(buf)));
	log_xattrs(l, "s", false);
	log_xattrs(l, "s", true);

	/* The attr tools. */
	snprintf(cmd, sizeof(cmd), "setfattr -n user.tool -v hello '%s'",
		 P("f"));
	oplog_sh(l, cmd);
	snprintf(cmd, sizeof(cmd), "setfattr -n user.hex -v 0x00ff10 '%s'",
		 P("f"));
	oplog_sh(l, cmd);
	snprintf(cmd, sizeof(cmd),
		 "getfattr --absolute-names --only-values -n user.tool '%s'",
		 P("f"));
	log_cmd(l, cmd);
	snprintf(cmd, sizeof(cmd),
		 "getfattr --absolute-names -d -e hex -m '^user\\.' '%s' "
		 "| grep -v '^user.big'",
		 P("f"));
	log_cmd(l, cmd);
	snprintf(cmd, sizeof(cmd), "setfattr -x user.tool '%s'", P("f"));
	oplog_sh(l, cmd);
	snprintf(cmd, sizeof(cmd), "setfattr -x user.tool '%s' 2>/dev/null",
		 P("f"));
	oplog_sh(l, cmd);
	snprintf(cmd, sizeof(cmd),
		 "getfattr --absolute-names -n user.tool '%s' 2>&1", P("f"));
	log_cmd(l, cmd);
}

START_TEST(test_xattr)
{
	char buf[16];

	compare("xattr", seq_xattr);
	/* The values are stored with the backing file. */
	ck_assert_int_eq(
		getxattr(bk_path(&M, "f_xattr/f"), "user.fd", buf, sizeof(buf)),
		2);
	ck_assert_int_eq(memcmp(buf, "fd", 2), 0);
}
END_TEST

static void seq_access(struct oplog *l)
{
	int fd;

	fd = OPOK(l, open(P("none0"), O_CREAT | O_WRONLY, 0000));
	close(fd);
	fd = OPOK(l, open(P("x"), O_CREAT | O_WRONLY, 0100));
	close(fd);
	OP(l, mkdir(P("d0"), 0000));
	OP(l, access(P("none0"), F_OK));
	OP(l, access(P("none0"), R_OK));
	OP(l, access(P("none0"), W_OK));
	OP(l, access(P("none0"), X_OK));
	OP(l, access(P("none0"), R_OK | W_OK));
	OP(l, access(P("x"), X_OK));
	OP(l, access(P("d0"), R_OK | W_OK | X_OK));
	OP(l, faccessat(AT_FDCWD, P("none0"), X_OK, AT_EACCESS));
	OP(l, faccessat(AT_FDCWD, P("x"), R_OK | X_OK, AT_EACCESS));
	OP(l, access(P("missing"), F_OK));
	OP(l, symlink("missing", P("dangling")));
	OP(l, access(P("dangling"), F_OK));
	OP(l, faccessat(AT_FDCWD, P("dangling"), F_OK, AT_SYMLINK_NOFOLLOW));
	OP(l, access(P("x/y"), F_OK));
}

START_TEST(test_access)
{
	compare("access", seq_access);
}
END_TEST

/* ---- fallocate, copy_file_range, lseek ---- */

/* The file's data and holes as SEEK_DATA/SEEK_HOLE report them. */
static void log_map(struct oplog *l, int fd)
{
	char map[512];
	size_t n = 0;
	off_t pos = 0, data, hole;

	map[0] = '\0';
	for (;;) {
		data = lseek(fd, pos, SEEK_DATA);
		if (data < 0) {
			n += snprintf(map + n, sizeof(map) - n, " end:%s",
				      errname(errno));
			break;
		}
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0) {
			n += snprintf(map + n, sizeof(map) - n, " hole:%s",
				      errname(errno));
			break;
		}
		n += snprintf(map + n, sizeof(map) - n, " %lldK-%lldK",
			      (long long)data / KIB, (long long)hole / KIB);
		if (n >= sizeof(map) - 40)
			break;
		pos = hole;
	}
	oplog_add(l, "  map:%s", map);
}

/*
 * SEEK_DATA and SEEK_HOLE report an unwritten extent as data where the
 * backing file's page cache holds pages over it (iomap), and reading the
 * file puts them there.  The mount reads the backing file in its own
 * way, so the page cache, and with it the map, would differ: both sides
 * drop the backing file's clean pages before looking.
 */
static void drop_backing_cache(struct oplog *l, const char *rel)
{
	size_t n = strlen(M.mountpoint);
	char path[PATH_MAX];
	int fd;

	if (strncmp(l->base, M.mountpoint, n) == 0 && l->base[n] == '/')
		n = snprintf(path, sizeof(path), "%s%s/%s", M.backing,
			     l->base + n, rel);
	else
		n = snprintf(path, sizeof(path), "%s/%s", l->base, rel);
	if (n >= sizeof(path))
		return;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return;
	fdatasync(fd);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
}

static void log_file(struct oplog *l, const char *rel, int fd)
{
	oplog_fstat(l, rel, fd, ST_BLOCKS);
	drop_backing_cache(l, rel);
	log_map(l, fd);
	oplog_content(l, rel);
}

/*
 * A 1 MiB file of known bytes.  The space is allocated first and then
 * written inside the file's size, so that no write extends the file:
 * speculative preallocation past EOF (XFS) would otherwise make st_blocks
 * depend on how the writes were split.
 */
static int make_patterned(struct oplog *l, const char *rel)
{
	static unsigned char buf[MIB];
	int fd;

	fill(buf, sizeof(buf), 9);
	fd = OPOK(l, open(P(rel), O_CREAT | O_RDWR, 0644));
	OP(l, fallocate(fd, 0, 0, MIB));
	OP(l, pwrite(fd, buf, MIB, 0));
	OP(l, fsync(fd));
	return fd;
}

static void seq_fallocate(struct oplog *l)
{
	int fd, ro;

	fd = make_patterned(l, "f");
	log_file(l, "f", fd);
	OP(l, fallocate(fd, FALLOC_FL_KEEP_SIZE, MIB, MIB));
	log_file(l, "f", fd);
	OP(l, fallocate(fd, 0, MIB, 256 * KIB));
	log_file(l, "f", fd);
	OP(l, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			64 * KIB, 128 * KIB));
	log_file(l, "f", fd);
	/* Unaligned punches zero the partial blocks. */
	OP(l, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			300 * KIB + 100, 10000));
	log_file(l, "f", fd);
	OP(l, fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096));
	OP(l, fallocate(fd, FALLOC_FL_ZERO_RANGE, 512 * KIB, 64 * KIB));
	log_file(l, "f", fd);
	OP(l, fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 2 * MIB,
			64 * KIB));
	log_file(l, "f", fd);
	OP(l, fallocate(fd, FALLOC_FL_ZERO_RANGE, 3 * MIB, 64 * KIB));
	log_file(l, "f", fd);
	OP(l, fallocate(fd, 0, 0, 0));
	OP(l, fallocate(fd, 0, -1, 4096));
	OP(l, fallocate(fd, 0x4000, 0, 4096));
	close(fd);
	ro = OPOK(l, open(P("f"), O_RDONLY));
	OP(l, fallocate(ro, 0, 0, 8 * MIB));
	close(ro);
}

static void seq_fallocate_tool(struct oplog *l)
{
	char cmd[PATH_MAX + 64];
	int fd;

	snprintf(cmd, sizeof(cmd), "fallocate -l 1M '%s'", P("t"));
	oplog_sh(l, cmd);
	fd = OPOK(l, open(P("t"), O_RDONLY));
	log_file(l, "t", fd);
	snprintf(cmd, sizeof(cmd), "fallocate -n -o 1M -l 512K '%s'", P("t"));
	oplog_sh(l, cmd);
	log_file(l, "t", fd);
	snprintf(cmd, sizeof(cmd), "fallocate -p -o 128K -l 64K '%s'", P("t"));
	oplog_sh(l, cmd);
	log_file(l, "t", fd);
	snprintf(cmd, sizeof(cmd), "fallocate -z -o 256K -l 64K '%s'", P("t"));
	oplog_sh(l, cmd);
	log_file(l, "t", fd);
	close(fd);
	/* --dig-holes finds zeroed data with SEEK_DATA and punches it. */
	fd = make_patterned(l, "z");
	OP(l, fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, 256 * KIB));
	OP(l, pwrite(fd, "\0\0\0\0", 4, 512 * KIB));
	close(fd);
	drop_backing_cache(l, "z");
	snprintf(cmd, sizeof(cmd), "fallocate -d '%s'", P("z"));
	oplog_sh(l, cmd);
	fd = OPOK(l, open(P("z"), O_RDONLY));
	log_file(l, "z", fd);
	close(fd);
}

START_TEST(test_fallocate)
{
	compare("fallocate", seq_fallocate);
	compare("fallocate_tool", seq_fallocate_tool);
}
END_TEST

/*
 * COLLAPSE_RANGE and INSERT_RANGE: the FUSE kernel module passes only
 * KEEP_SIZE, PUNCH_HOLE and ZERO_RANGE to a daemon and answers
 * EOPNOTSUPP for the other modes before the daemon sees them.  So they
 * cannot change a block map through the mount at all; the test checks
 * that the file is left exactly as it was, and that the backing
 * filesystem itself (on XFS) does support them, so the difference is the
 * mount's.
 */
START_TEST(test_fallocate_collapse_insert)
{
	static const int modes[] = { FALLOC_FL_COLLAPSE_RANGE,
				     FALLOC_FL_INSERT_RANGE };
	struct oplog a, b;
	char nat[PATH_MAX], fus[PATH_MAX], msg[4096];
	int i, nfd, ffd, nres, fres, ferr;

	snprintf(nat, sizeof(nat), "%s", bk_path(&M, "n_collapse"));
	snprintf(fus, sizeof(fus), "%s", mnt_path(&M, "f_collapse"));
	ck_assert_int_eq(mkdir(nat, 0755), 0);
	ck_assert_int_eq(mkdir(fus, 0755), 0);
	oplog_init(&a, nat);
	oplog_init(&b, fus);
	nfd = make_patterned(&a, "f");
	ffd = make_patterned(&b, "f");
	oplog_free(&a);
	oplog_free(&b);
	for (i = 0; i < 2; i++) {
		struct oplog before;

		oplog_init(&before, fus);
		log_file(&before, "f", ffd);
		nres = fallocate(nfd, modes[i], 256 * KIB, 64 * KIB);
		if (M.xfs)
			ck_assert_msg(nres == 0, "native mode %#x: %s",
				      modes[i], strerror(errno));
		fres = fallocate(ffd, modes[i], 256 * KIB, 64 * KIB);
		ferr = errno;
		oplog_init(&b, fus);
		log_file(&b, "f", ffd);
		if (fres == 0) {
			/* A kernel that passes the mode on: as natively. */
			ck_assert_int_eq(nres, 0);
			oplog_init(&a, nat);
			log_file(&a, "f", nfd);
			ck_assert_msg(oplog_same(&a, &b, msg, sizeof(msg)),
				      "mode %#x: %s", modes[i], msg);
			oplog_free(&a);
		} else {
			ck_assert_int_eq(ferr, EOPNOTSUPP);
			ck_assert_msg(oplog_same(&before, &b, msg, sizeof(msg)),
				      "mode %#x changed the file: %s", modes[i],
				      msg);
		}
		oplog_free(&before);
		oplog_free(&b);
	}
	close(nfd);
	close(ffd);
}
END_TEST

static void seq_copy_range(struct oplog *l)
{
	static unsigned char buf[MIB + 123];
	loff_t in_off, out_off;
	int src, dst, ro;

	fill(buf, sizeof(buf), 5);
	src = OPOK(l, open(P("src"), O_CREAT | O_RDWR, 0644));
	OP(l, write(src, buf, sizeof(buf)));
	dst = OPOK(l, open(P("dst"), O_CREAT | O_RDWR, 0644));
	/* The whole file, with the descriptors' own offsets. */
	OP(l, lseek(src, 0, SEEK_SET));
	OP(l, copy_file_range(src, NULL, dst, NULL, sizeof(buf), 0));
	OP(l, lseek(src, 0, SEEK_CUR));
	OP(l, lseek(dst, 0, SEEK_CUR));
	oplog_content(l, "dst");
	/* A range into the middle, and one growing the file. */
	in_off = 1000;
	out_off = 5000;
	OP(l, copy_file_range(src, &in_off, dst, &out_off, 70000, 0));
	oplog_add(l, "  offsets %lld %lld", (long long)in_off,
		  (long long)out_off);
	oplog_content(l, "dst");
	in_off = 4096;
	out_off = 2 * MIB;
	OP(l, copy_file_range(src, &in_off, dst, &out_off, 65536, 0));
	oplog_content(l, "dst");
	/* At and past the end of the source nothing is copied. */
	in_off = sizeof(buf);
	OP(l, copy_file_range(src, &in_off, dst, &out_off, 100, 0));
	in_off = sizeof(buf) - 10;
	OP(l, copy_file_range(src, &in_off, dst, &out_off, 100, 0));
	/* Overlapping ranges of one file are refused. */
	in_off = 0;
	out_off = 100;
	OP(l, copy_file_range(src, &in_off, src, &out_off, 4096, 0));
	in_off = 0;
	out_off = 2 * MIB;
	OP(l, copy_file_range(src, &in_off, src, &out_off, 4096, 0));
	oplog_content(l, "src");
	OP(l, copy_file_range(src, NULL, dst, NULL, 10, 1));
	ro = OPOK(l, open(P("dst"), O_RDONLY));
	OP(l, copy_file_range(src, NULL, ro, NULL, 10, 0));
	close(ro);
	close(src);
	close(dst);
	oplog_content(l, "dst");
}

START_TEST(test_copy_file_range)
{
	compare("copy_range", seq_copy_range);
}
END_TEST

static void seq_seek(struct oplog *l)
{
	static const off_t probes[] = { 0,	 4095,		4096,
					8192,	 MIB - 1,	MIB,
					2 * MIB, 3 * MIB + 100, 5 * MIB - 1,
					5 * MIB, 5 * MIB + 1,	-1 };
	char buf[4096];
	size_t i;
	int fd;

	memset(buf, 'd', sizeof(buf));
	fd = OPOK(l, open(P("s"), O_CREAT | O_RDWR, 0644));
	OP(l, pwrite(fd, buf, sizeof(buf), 0));
	OP(l, pwrite(fd, buf, sizeof(buf), MIB));
	OP(l, pwrite(fd, buf, sizeof(buf), 3 * MIB));
	OP(l, ftruncate(fd, 5 * MIB));
	OP(l, fsync(fd));
	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		off_t d = lseek(fd, probes[i], SEEK_DATA);
		int de = errno;
		off_t h = lseek(fd, probes[i], SEEK_HOLE);

		oplog_add(l, "at %lld: data %lld %s hole %lld %s",
			  (long long)probes[i], (long long)d,
			  d < 0 ? errname(de) : "", (long long)h,
			  h < 0 ? errname(errno) : "");
	}
	log_map(l, fd);
	OP(l, lseek(fd, 10, SEEK_SET));
	OP(l, lseek(fd, 10, SEEK_CUR));
	OP(l, lseek(fd, -10, SEEK_END));
	OP(l, lseek(fd, 0, 42));
	close(fd);
	/* An empty file has no data at all. */
	fd = OPOK(l, open(P("e"), O_CREAT | O_RDWR, 0644));
	OP(l, lseek(fd, 0, SEEK_DATA));
	OP(l, lseek(fd, 0, SEEK_HOLE));
	close(fd);
}

START_TEST(test_seek_data_hole)
{
	compare("seek", seq_seek);
}
END_TEST

/* ---- locks ---- */

/* Runs @fn in a child process; returns its exit status. */
static int in_child(int (*fn)(const char *path, int arg), const char *path,
		    int arg)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(fn(path, arg));
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* Child: try a non-blocking flock; 0 got it, 1 would block, 2 error. */
static int child_flock(const char *path, int op)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return 2;
	if (flock(fd, op | LOCK_NB) == 0)
		return 0;
	return errno == EWOULDBLOCK ? 1 : 2;
}

static void seq_flock(struct oplog *l)
{
	int fd1, fd2;

	OP(l, put_file_rc(P("f")));
	fd1 = OPOK(l, open(P("f"), O_RDONLY));
	fd2 = OPOK(l, open(P("f"), O_RDWR));
	OP(l, flock(fd1, LOCK_EX));
	/* A second open file is a second lock owner, even in one process. */
	OP(l, flock(fd2, LOCK_EX | LOCK_NB));
	OP(l, flock(fd2, LOCK_SH | LOCK_NB));
	OP(l, in_child(child_flock, P("f"), LOCK_SH));
	OP(l, flock(fd1, LOCK_SH));
	OP(l, flock(fd2, LOCK_SH | LOCK_NB));
	OP(l, in_child(child_flock, P("f"), LOCK_SH));
	OP(l, in_child(child_flock, P("f"), LOCK_EX));
	OP(l, flock(fd1, LOCK_UN));
	OP(l, flock(fd2, LOCK_UN));
	OP(l, in_child(child_flock, P("f"), LOCK_EX));
	OP(l, flock(fd2, LOCK_EX | LOCK_NB));
	/* Closing the last descriptor of the open file drops its lock. */
	close(fd2);
	OP(l, flock(fd1, LOCK_EX | LOCK_NB));
	close(fd1);
}

START_TEST(test_flock)
{
	compare("flock", seq_flock);
}
END_TEST

/*
 * Child: F_GETLK over [arg, arg+10) and F_SETLK of a write lock there.
 * Exit 0: free and locked; 1: conflict with the parent seen by both
 * calls; 2: anything else.
 */
static int child_posix(const char *path, int start)
{
	struct flock fl = { .l_type = F_WRLCK,
			    .l_whence = SEEK_SET,
			    .l_start = start,
			    .l_len = 10 };
	int fd = open(path, O_RDWR);

	if (fd < 0 || fcntl(fd, F_GETLK, &fl) < 0)
		return 2;
	if (fl.l_type == F_UNLCK) {
		fl.l_type = F_WRLCK;
		return fcntl(fd, F_SETLK, &fl) == 0 ? 0 : 2;
	}
	/* The holder is the parent, with its range. */
	if (fl.l_pid != getppid() || fl.l_type != F_WRLCK || fl.l_start != 0 ||
	    fl.l_len != 100)
		return 2;
	fl.l_type = F_WRLCK;
	fl.l_start = start;
	fl.l_len = 10;
	if (fcntl(fd, F_SETLK, &fl) == 0)
		return 2;
	return errno == EAGAIN || errno == EACCES ? 1 : 2;
}

/* Child: blocks in F_SETLKW until the parent unlocks; exit 0 on success. */
static int child_posix_wait(const char *path, int start)
{
	struct flock fl = { .l_type = F_WRLCK,
			    .l_whence = SEEK_SET,
			    .l_start = start,
			    .l_len = 10 };
	int fd = open(path, O_RDWR);

	if (fd < 0)
		return 2;
	return fcntl(fd, F_SETLKW, &fl) == 0 ? 0 : 2;
}

static void seq_posix_locks(struct oplog *l)
{
	struct flock fl = { .l_type = F_WRLCK,
			    .l_whence = SEEK_SET,
			    .l_start = 0,
			    .l_len = 100 };
	struct flock ofd = { .l_type = F_WRLCK,
			     .l_whence = SEEK_SET,
			     .l_start = 200,
			     .l_len = 10 };
	pid_t pid;
	int fd, fd2, st;

	OP(l, put_file_rc(P("f")));
	fd = OPOK(l, open(P("f"), O_RDWR));
	OP(l, fcntl(fd, F_SETLK, &fl));
	OP(l, in_child(child_posix, P("f"), 50));
	OP(l, in_child(child_posix, P("f"), 95));
	OP(l, in_child(child_posix, P("f"), 100));
	/* A read lock of the holder itself never conflicts with its own. */
	fl.l_type = F_RDLCK;
	OP(l, fcntl(fd, F_GETLK, &fl));
	oplog_add(l, "  own lock seen as: %s",
		  fl.l_type == F_UNLCK ? "unlocked" : "locked");

	/* A waiter is woken when the lock goes. */
	pid = fork();
	if (pid == 0)
		_exit(child_posix_wait(P("f"), 10));
	sleep_ms(200);
	OP(l, waitpid(pid, &st, WNOHANG));
	fl.l_type = F_UNLCK;
	fl.l_start = 0;
	fl.l_len = 100;
	OP(l, fcntl(fd, F_SETLK, &fl));
	OP(l,
	   waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : -1);

	/* Open-file-description locks conflict between two opens. */
	fd2 = OPOK(l, open(P("f"), O_RDWR));
	OP(l, fcntl(fd, F_OFD_SETLK, &ofd));
	OP(l, fcntl(fd2, F_OFD_SETLK, &ofd));
	OP(l, fcntl(fd2, F_OFD_GETLK, &ofd));
	oplog_add(l, "  ofd holder pid %d type %d", ofd.l_pid, ofd.l_type);
	close(fd2);
	close(fd);
}

START_TEST(test_posix_locks)
{
	compare("posix_locks", seq_posix_locks);
}
END_TEST

/* ---- O_DIRECT ---- */

static void seq_direct(struct oplog *l)
{
	unsigned char *buf, *rb;
	int fd;

	buf = aligned_alloc(4096, 64 * KIB);
	rb = aligned_alloc(4096, 64 * KIB);
	if (!buf || !rb)
		abort();
	fill(buf, 64 * KIB, 11);
	fd = OPOK(l, open(P("d"), O_CREAT | O_RDWR | O_DIRECT, 0644));
	OP(l, pwrite(fd, buf, 64 * KIB, 0));
	OP(l, pwrite(fd, buf + 8192, 4096, MIB));
	memset(rb, 0, 64 * KIB);
	OP(l, pread(fd, rb, 64 * KIB, 0));
	oplog_add(l, "  same: %d", !memcmp(rb, buf, 64 * KIB));
	OP(l, pread(fd, rb, 4096, MIB));
	oplog_add(l, "  same: %d", !memcmp(rb, buf + 8192, 4096));
	/* A read across the end returns what is there. */
	OP(l, pread(fd, rb, 8192, MIB));
	OP(l, pread(fd, rb, 4096, 2 * MIB));
	oplog_fstat(l, "d", fd, 0);
	/* Misaligned offsets and lengths: as the backing filesystem says. */
	OP(l, pwrite(fd, buf, 4096, 100));
	OP(l, pread(fd, rb, 4096, 100));
	OP(l, pwrite(fd, buf, 100, 0));
	OP(l, pread(fd, rb, 100, 0));
	OP(l, pwrite(fd, buf, 512, 512));
	OP(l, pread(fd, rb, 512, 1024));
	close(fd);
	oplog_content(l, "d");
	free(buf);
	free(rb);
}

START_TEST(test_odirect)
{
	unsigned char *buf, *rb;
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	compare("direct", seq_direct);

	/*
	 * A misaligned user buffer at an aligned offset: the backing
	 * filesystem refuses it (EINVAL), but FUSE copies the data into its
	 * request, so the mount accepts it, correctly.  This is FUSE's
	 * difference, not an error: check the data when it succeeds.
	 */
	buf = aligned_alloc(4096, 3 * 4096);
	rb = aligned_alloc(4096, 3 * 4096);
	ck_assert_ptr_nonnull(buf);
	ck_assert_ptr_nonnull(rb);
	fill(buf, 3 * 4096, 12);
	snprintf(path, sizeof(path), "%s", mnt_path(&M, "f_direct/d"));
	fd = open(path, O_RDWR | O_DIRECT);
	ck_assert_int_ge(fd, 0);
	n = pwrite(fd, buf + 1, 4096, 8192);
	if (n < 0) {
		ck_assert_int_eq(errno, EINVAL);
	} else {
		ck_assert_int_eq(n, 4096);
		ck_assert_int_eq(pread(fd, rb + 1, 4096, 8192), 4096);
		ck_assert_int_eq(memcmp(rb + 1, buf + 1, 4096), 0);
		ck_assert_int_eq(pread(fd, rb, 4096, 8192), 4096);
		ck_assert_int_eq(memcmp(rb, buf + 1, 4096), 0);
	}
	close(fd);
	free(buf);
	free(rb);
}
END_TEST

/* ---- mounts of our own ---- */

/* Starts rdmafs -f on @backing at @mnt; returns its pid, or -1. */
static pid_t daemon_start(const char *backing, const char *mnt,
			  const char *opts)
{
	char o[512];
	pid_t pid, parent;
	int i, st;

	snprintf(o, sizeof(o), "allow_other%s%s", opts ? "," : "",
		 opts ? opts : "");
	parent = getpid();
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		/*
		 * As in the harness: out of the test's process group, which
		 * Check kills on a failure, and told to unmount (SIGTERM)
		 * when the test process goes away.
		 */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		execlp(harness_rdmafs_bin(), "rdmafs", "-f", "-o", o, backing,
		       mnt, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 500; i++) {
		if (is_fuse(mnt))
			return pid;
		if (waitpid(pid, &st, WNOHANG) == pid)
			return -1;
		sleep_ms(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

/* Unmounts @mnt; returns the daemon's exit status, or -1. */
static int daemon_stop(const char *mnt, pid_t pid)
{
	int i, st;

	if (harness_sh("fusermount3 -u '%s'", mnt) != 0)
		return -1;
	for (i = 0; i < 500; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		sleep_ms(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

static void same_file(const char *x, const char *y)
{
	struct stat a, b;

	ck_assert_msg(stat(x, &a) == 0, "stat %s: %s", x, strerror(errno));
	ck_assert_msg(stat(y, &b) == 0, "stat %s: %s", y, strerror(errno));
	ck_assert_msg(a.st_dev == b.st_dev && a.st_ino == b.st_ino,
		      "%s is not %s", x, y);
}

/*
 * The daemon never follows a symlink of the backing tree: symlinks are
 * returned verbatim, and operations on a symlink itself change the link,
 * not what it points to outside the tree.  '..' above the mount root is
 * the kernel's business and leads where the mount is, never to the
 * backing directory's parent.
 */
START_TEST(test_symlink_safety)
{
	char mnt[PATH_MAX], bk[PATH_MAX], a[PATH_MAX], b[PATH_MAX];
	char outside[PATH_MAX], buf[PATH_MAX], deep[PATH_MAX];
	const struct timespec t[2] = { { 1000, 0 }, { 2000, 0 } };
	struct stat before, after, st;
	ssize_t n;
	int fd, nres, fres;
	pid_t pid;

	test_dir("safe", mnt, bk);
	snprintf(outside, sizeof(outside), "%s/outside", M.scratch);
	put_file(outside, "outside", 7);
	ck_assert_int_eq(stat(outside, &before), 0);

	ck_assert_int_eq(symlink("/etc", join(a, mnt, "etc")), 0);
	ck_assert_int_eq(symlink(outside, join(a, mnt, "esc")), 0);
	ck_assert_int_eq(symlink("../../../..", join(a, mnt, "up")), 0);
	n = readlink(join(a, mnt, "etc"), buf, sizeof(buf));
	ck_assert_int_eq(n, 4);
	ck_assert_int_eq(memcmp(buf, "/etc", 4), 0);
	n = readlink(join(a, mnt, "esc"), buf, sizeof(buf));
	ck_assert_int_eq(n, (ssize_t)strlen(outside));
	ck_assert_int_eq(memcmp(buf, outside, (size_t)n), 0);
	n = readlink(join(a, mnt, "up"), buf, sizeof(buf));
	ck_assert_int_eq(n, 11);
	/* The backing tree holds the same links. */
	n = readlink(join(a, bk, "esc"), buf, sizeof(buf));
	ck_assert_int_eq(n, (ssize_t)strlen(outside));

	/* Operations on the link itself leave the outside file alone. */
	ck_assert_int_eq(lchown(join(a, mnt, "esc"), 1234, 1234), 0);
	ck_assert_int_eq(utimensat(AT_FDCWD, join(a, mnt, "esc"), t,
				   AT_SYMLINK_NOFOLLOW),
			 0);
	ck_assert_int_eq(lstat(join(a, bk, "esc"), &st), 0);
	ck_assert_uint_eq(st.st_uid, 1234);
	ck_assert_int_eq(st.st_mtim.tv_sec, 2000);
	nres = lsetxattr(join(a, bk, "etc"), "trusted.t", "n", 1, 0);
	fres = lsetxattr(join(a, mnt, "esc"), "trusted.t", "f", 1, 0);
	ck_assert_int_eq(fres, nres);
	if (fres == 0) {
		ck_assert_int_eq(lgetxattr(join(a, bk, "esc"), "trusted.t", buf,
					   sizeof(buf)),
				 1);
		ck_assert_int_eq(buf[0], 'f');
		ck_assert_int_eq(lremovexattr(join(a, mnt, "esc"), "trusted.t"),
				 0);
	}
	ck_assert_int_eq(lsetxattr(outside, "trusted.u", "o", 1, 0), 0);
	ck_assert_int_eq(
		lgetxattr(join(a, mnt, "esc"), "trusted.u", buf, sizeof(buf)),
		-1);
	ck_assert_int_eq(errno, ENODATA);
	nres = fchmodat(AT_FDCWD, join(a, bk, "etc"), 0600,
			AT_SYMLINK_NOFOLLOW);
	fres = fchmodat(AT_FDCWD, join(a, mnt, "esc"), 0600,
			AT_SYMLINK_NOFOLLOW);
	ck_assert_int_eq(fres, nres);
	ck_assert_int_eq(stat(outside, &after), 0);
	ck_assert_uint_eq(after.st_uid, before.st_uid);
	ck_assert_uint_eq(after.st_mode, before.st_mode);
	ck_assert_int_eq(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
	ck_assert_int_eq(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
	ck_assert_int_eq(lgetxattr(outside, "trusted.t", buf, sizeof(buf)), -1);
	ck_assert_int_eq(errno, ENODATA);
	/* O_NOFOLLOW opens refuse the link, as natively. */
	ck_assert_int_eq(open(join(a, mnt, "esc"), O_RDONLY | O_NOFOLLOW), -1);
	ck_assert_int_eq(errno, ELOOP);

	/* The mount root is the backing root. */
	ck_assert_int_eq(stat(M.mountpoint, &st), 0);
	ck_assert_int_eq(stat(M.backing, &before), 0);
	ck_assert_uint_eq(st.st_ino, before.st_ino);

	/*
	 * A second mount, deeper in the tree, of another backing directory
	 * (one rdmafs per backing, DESIGN §11): its '..' is the directory it
	 * is mounted in, not the backing directory's parent.
	 */
	snprintf(deep, sizeof(deep), "%s/a/b/m2", M.scratch);
	ck_assert_int_eq(
		harness_sh("mkdir -p '%s' '%s/b2/safe'", deep, M.scratch), 0);
	pid = daemon_start(join(b, M.scratch, "b2"), deep, NULL);
	ck_assert_int_gt(pid, 0);
	same_file(join(a, deep, ".."), join(b, M.scratch, "a/b"));
	same_file(join(a, deep, "../.."), join(b, M.scratch, "a"));
	same_file(join(a, deep, "safe/../.."), join(b, M.scratch, "a/b"));
	same_file(join(a, deep, "safe/../safe/.."), deep);
	ck_assert_int_eq(stat(join(a, deep, "../outside"), &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(stat(join(a, deep, "../backing"), &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	fd = open(deep, O_PATH | O_DIRECTORY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstatat(fd, "..", &st, 0), 0);
	ck_assert_int_eq(stat(join(a, M.scratch, "a/b"), &before), 0);
	ck_assert_uint_eq(st.st_ino, before.st_ino);
	close(fd);
	ck_assert_int_eq(stat(deep, &st), 0);
	ck_assert_int_eq(stat(join(b, M.scratch, "b2"), &before), 0);
	ck_assert_uint_eq(st.st_ino, before.st_ino);
	ck_assert_int_eq(daemon_stop(deep, pid), 0);
}
END_TEST

/*
 * Overmount: BACKING == MOUNTPOINT.  The daemon opens the directory
 * before mounting on it, so the files there before the mount are served,
 * new files land in the backing directory underneath, and all of it is
 * there after unmounting.
 */
START_TEST(test_overmount)
{
	struct mnt m;
	char a[PATH_MAX], buf[64];
	struct stat pre, st;
	pid_t pid;
	int fd;

	ck_assert_int_eq(mnt_setup(&m, NULL, false), 0);
	put_file(join(a, m.backing, "pre"), "native", 6);
	ck_assert_int_eq(mkdir(join(a, m.backing, "pre_d"), 0755), 0);
	put_file(join(a, m.backing, "pre_d/x"), "x", 1);
	ck_assert_int_eq(stat(join(a, m.backing, "pre"), &pre), 0);
	/* One rdmafs per backing (DESIGN §11): the first one goes. */
	ck_assert_int_eq(mnt_stop(&m, false), 0);

	pid = daemon_start(m.backing, m.backing, NULL);
	ck_assert_int_gt(pid, 0);
	ck_assert(is_fuse(m.backing));
	ck_assert_int_eq(get_file(join(a, m.backing, "pre"), buf, sizeof(buf)),
			 6);
	ck_assert_str_eq(buf, "native");
	ck_assert_int_eq(
		get_file(join(a, m.backing, "pre_d/x"), buf, sizeof(buf)), 1);
	ck_assert_int_eq(stat(join(a, m.backing, "pre"), &st), 0);
	ck_assert_uint_eq(st.st_ino, pre.st_ino);
	ck_assert_uint_ne(st.st_dev, pre.st_dev);
	put_file(join(a, m.backing, "post"), "through", 7);
	ck_assert_int_eq(mkdir(join(a, m.backing, "post_d"), 0700), 0);
	fd = open(join(a, m.backing, "pre"), O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "+", 1), 1);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(daemon_stop(m.backing, pid), 0);

	ck_assert(!is_fuse(m.backing));
	ck_assert_int_eq(get_file(join(a, m.backing, "post"), buf, sizeof(buf)),
			 7);
	ck_assert_str_eq(buf, "through");
	ck_assert_int_eq(get_file(join(a, m.backing, "pre"), buf, sizeof(buf)),
			 7);
	ck_assert_str_eq(buf, "native+");
	ck_assert_int_eq(stat(join(a, m.backing, "post_d"), &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(mnt_teardown(&m), 0);
}
END_TEST

/* Inode numbers are the backing ones, so they survive a remount. */
START_TEST(test_remount_inodes)
{
	static const char *const names[] = { "f", "d", "d/g", "s", "link" };
	ino_t ino[5];
	struct mnt m;
	struct stat st;
	size_t i;

	ck_assert_int_eq(mnt_setup(&m, "cache=never", false), 0);
	put_file(mnt_path(&m, "f"), "f", 1);
	ck_assert_int_eq(mkdir(mnt_path(&m, "d"), 0755), 0);
	put_file(mnt_path(&m, "d/g"), "g", 1);
	ck_assert_int_eq(symlink("f", mnt_path(&m, "s")), 0);
	ck_assert_int_eq(link(mnt_path(&m, "d/g"), mnt_path(&m, "link")), 0);
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(lstat(mnt_path(&m, names[i]), &st), 0);
		ino[i] = st.st_ino;
	}
	ck_assert_uint_eq(ino[2], ino[4]);

	ck_assert_int_eq(daemon_stop(m.mountpoint, m.daemon), 0);
	m.daemon = daemon_start(m.backing, m.mountpoint, NULL);
	ck_assert_int_gt(m.daemon, 0);
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(lstat(mnt_path(&m, names[i]), &st), 0);
		ck_assert_uint_eq(st.st_ino, ino[i]);
		ck_assert_int_eq(lstat(bk_path(&m, names[i]), &st), 0);
		ck_assert_uint_eq(st.st_ino, ino[i]);
	}
	ck_assert_int_eq(mnt_teardown(&m), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mount-ops");
	TCase *ops = tcase_create("ops"), *mounts = tcase_create("mounts");
	SRunner *sr;
	int failed;

	harness_require_root_fuse();
	/* Modes in the records depend on it: the same for every run. */
	umask(022);

	tcase_add_unchecked_fixture(ops, ops_setup, ops_teardown);
	tcase_add_test(ops, test_lookup_getattr);
	tcase_add_test(ops, test_hardlink);
	tcase_add_test(ops, test_link_errors);
	tcase_add_test(ops, test_chmod_chown);
	tcase_add_test(ops, test_truncate);
	tcase_add_test(ops, test_utimens);
	tcase_add_test(ops, test_symlink);
	tcase_add_test(ops, test_mknod);
	tcase_add_test(ops, test_mkdir_rmdir_unlink);
	tcase_add_test(ops, test_rename);
	tcase_add_test(ops, test_behind_kernel);
	tcase_add_test(ops, test_open_flags);
	tcase_add_test(ops, test_read_write);
	tcase_add_test(ops, test_sync_flush_release);
	tcase_add_test(ops, test_readdir_many);
	tcase_add_test(ops, test_statfs);
	tcase_add_test(ops, test_xattr);
	tcase_add_test(ops, test_access);
	tcase_add_test(ops, test_fallocate);
	tcase_add_test(ops, test_fallocate_collapse_insert);
	tcase_add_test(ops, test_copy_file_range);
	tcase_add_test(ops, test_seek_data_hole);
	tcase_add_test(ops, test_flock);
	tcase_add_test(ops, test_posix_locks);
	tcase_add_test(ops, test_odirect);
	tcase_add_test(ops, test_symlink_safety);
	tcase_set_timeout(ops, 60);
	suite_add_tcase(s, ops);

	tcase_add_test(mounts, test_overmount);
	tcase_add_test(mounts, test_remount_inodes);
	tcase_set_timeout(mounts, 60);
	suite_add_tcase(s, mounts);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
