// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Mediation fails closed (DESIGN §11, issue 7 items 2, 3 and 9):
 *
 * - out of descriptors: a daemon at its open-file limit (started under a
 *   small RLIMIT_NOFILE, its descriptors taken by opens held through the
 *   mount, cache=always) refuses rm, rename-over, truncate and O_TRUNC
 *   of a pinned file with the error, audits the refusal with a reason,
 *   and the file stays;
 * - create with O_TRUNC over an existing file the kernel had cached as
 *   absent (put there behind the mount's back) meets the policy like
 *   open with O_TRUNC, also when the file's pins were stored by an
 *   earlier daemon and never loaded by this one; so does an unlink of a
 *   name the kernel still takes for the file it saw there;
 * - policy=defer: an unlink of a file whose only pins are the caller's
 *   own is refused at once instead of holding the directory's lock for
 *   the break timeout, so other users' stat and create in a shared
 *   directory are not held up; an unlink of someone else's pinned file
 *   still parks.
 *
 * Each test mounts its own rdmafs.  The audit log is read line by line
 * and matched by its members' text (the format is fixed, lib/audit.h).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "as-user.h"
#include "clock-test-util.h"
#include "harness.h"
#include "hash-test-util.h"
#include "pin-test-util.h"

#define KIB 1024L
#define FD_LIMIT 64 /* the daemon's RLIMIT_NOFILE in the exhaustion test */
#define OTHER_UID 4343 /* a second unprivileged user */

static struct mnt M;
static char logdir[] = "/tmp/rdmafs-failclosed-XXXXXX";
static char logpath[PATH_MAX];

/* ================= helpers ================= */

static const char *mp(const char *rel)
{
	return mnt_path(&M, rel);
}

static const char *bp(const char *rel)
{
	return bk_path(&M, rel);
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static off_t size_of(const char *path)
{
	struct stat st;

	ck_assert_msg(stat(path, &st) == 0, "stat %s: %s", path,
		      strerror(errno));
	return st.st_size;
}

/* open(2)'s errno, or 0 (the descriptor closed). */
static int e_open(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0644);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* Mounts rdmafs with @opts and an audit log of its own. */
static void mount_with(const char *opts)
{
	char o[PATH_MAX + 256];
	FILE *f;

	snprintf(logpath, sizeof(logpath), "%s/audit-%d.jsonl", logdir,
		 (int)getpid());
	unlink(logpath);
	snprintf(o, sizeof(o), "%s%saudit_log=%s", opts ? opts : "",
		 opts ? "," : "", logpath);
	ck_assert_int_eq(mnt_setup(&M, o, false), 0);
	/* For main() to clean up after a test that failed half-way. */
	snprintf(o, sizeof(o), "%s/leftovers", logdir);
	f = fopen(o, "ae");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%s\n", M.scratch);
	fclose(f);
}

/* Unmounts and removes what failed tests left (their daemons are gone). */
static void clean_leftovers(void)
{
	char path[PATH_MAX + 32], dir[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/leftovers", logdir);
	f = fopen(path, "re");
	while (f && fgets(dir, sizeof(dir), f)) {
		dir[strcspn(dir, "\n")] = '\0';
		if (!exists(dir))
			continue;
		snprintf(path, sizeof(path), "%s/mnt", dir);
		umount2(path, MNT_DETACH);
		snprintf(path, sizeof(path), "%s/backing", dir);
		umount2(path, MNT_DETACH);
		harness_sh("rm -rf '%s'", dir);
	}
	if (f)
		fclose(f);
}

/*
 * The first audit line holding every one of the NULL-terminated
 * fragments (to free), or NULL.
 */
static char *audit_find(const char *frag, ...)
{
	char line[65536], *hit = NULL;
	FILE *f = fopen(logpath, "re");
	va_list ap;
	const char *s;

	if (!f)
		return NULL;
	while (!hit && fgets(line, sizeof(line), f)) {
		bool all = true;

		va_start(ap, frag);
		for (s = frag; s && all; s = va_arg(ap, const char *))
			all = strstr(line, s) != NULL;
		va_end(ap);
		if (all)
			hit = strdup(line);
	}
	fclose(f);
	return hit;
}

static void expect_audit(const char *a, const char *b, const char *c,
			 const char *d)
{
	char *l = audit_find(a, b, c, d, (char *)NULL);

	ck_assert_msg(l, "no audit line with %s %s %s %s", a, b ? b : "",
		      c ? c : "", d ? d : "");
	free(l);
}

/* Runs @fn(@arg) in a child as @uid; returns its exit status (0: ok). */
static pid_t as_user_start(uid_t uid, int (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 ||
		    setresuid(uid, uid, uid) < 0)
			_exit(99);
		_exit(fn(arg));
	}
	return pid;
}

/* Waits for @pid at most @ms; returns its exit status, or -1 (runs). */
static int wait_for(pid_t pid, long ms)
{
	int64_t end = now_ms() + ms;
	int st;

	do {
		pid_t r = waitpid(pid, &st, WNOHANG);

		ck_assert_int_ge(r, 0);
		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
		sleep_ms(5);
	} while (now_ms() < end);
	return -1;
}

/* ================= item 2: out of descriptors ================= */

START_TEST(test_out_of_descriptors)
{
	int held[FD_LIMIT + 64], n, fd = -1, err, st;
	char wrapper[PATH_MAX], *bin;
	struct rlimit lim;
	FILE *f;
	const char *pinned = "pinned";
	uint64_t hash;
	char *out;

	/*
	 * The daemon under a small hard limit (it raises its soft limit to
	 * the hard one), through a wrapper in place of the binary.
	 */
	snprintf(wrapper, sizeof(wrapper), "%s/rdmafs-limited", logdir);
	f = fopen(wrapper, "we");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "#!/bin/sh\nulimit -n %d || exit 1\nexec '%s' \"$@\"\n",
		FD_LIMIT, harness_rdmafs_bin());
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(wrapper, 0755), 0);
	bin = strdup(harness_rdmafs_bin());
	ck_assert_int_eq(setenv("RDMAFS_BIN", wrapper, 1), 0);
	mount_with("cache=always");
	ck_assert_int_eq(setenv("RDMAFS_BIN", bin, 1), 0);
	free(bin);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &lim), 0);
	ck_assert_int_ge(lim.rlim_cur, FD_LIMIT + 128);

	put_random(mp(pinned), 64 * KIB, 1);
	put_random(mp("other"), 4 * KIB, 2);
	put_random(mp("filler"), 4 * KIB, 3);
	ck_assert_int_eq(pin(mp(pinned), "all"), 0);
	hash = fnv(bp(pinned));
	/* Cached entries: nothing below needs a lookup (cache=always). */
	ck_assert_int_eq(size_of(mp(pinned)), 64 * KIB);
	ck_assert_int_eq(size_of(mp("other")), 4 * KIB);

	/* Every descriptor the daemon can have, held through the mount. */
	for (n = 0; n < (int)(sizeof(held) / sizeof(held[0])); n++) {
		fd = open(mp("filler"), O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			break;
		held[n] = fd;
	}
	err = errno;
	ck_assert_msg(fd < 0, "%d opens through a daemon limited to %d", n,
		      FD_LIMIT);
	ck_assert_msg(err == EMFILE || err == ENFILE,
		      "open at the daemon's limit: %s", strerror(err));

	/* The last-name check cannot open the file: refused, not done. */
	errno = 0;
	ck_assert_int_eq(unlink(mp(pinned)), -1);
	ck_assert_msg(errno == EMFILE || errno == ENFILE || errno == ETXTBSY,
		      "unlink: %s", strerror(errno));
	ck_assert(exists(bp(pinned)));
	out = harness_run(&st, "rm -f '%s' 2>&1", mp(pinned));
	ck_assert_msg(st != 0, "rm of a pinned file succeeded: %s", out);
	free(out);
	ck_assert(exists(bp(pinned)));
	errno = 0;
	ck_assert_int_eq(rename(mp("other"), mp(pinned)), -1);
	ck_assert(exists(bp(pinned)) && exists(bp("other")));
	ck_assert_int_ne(truncate(mp(pinned), 0), 0);
	ck_assert_int_ne(e_open(mp(pinned), O_WRONLY | O_TRUNC), 0);
	ck_assert_int_eq(size_of(bp(pinned)), 64 * KIB);
	ck_assert_uint_eq(fnv(bp(pinned)), hash);
	expect_audit("\"event\":\"refuse\",\"op\":\"unlink\"",
		     "\"path\":\"pinned\"", "\"errno\":\"EMFILE\"",
		     "\"reason\":\"");

	while (n > 0)
		close(held[--n]);
	/* Descriptors back: the policy's own answer, audited as usual. */
	ck_assert_int_eq(unlink(mp(pinned)), -1);
	ck_assert_int_eq(errno, ETXTBSY);
	ck_assert_int_eq(rename(mp("other"), mp(pinned)), -1);
	ck_assert_int_eq(errno, ETXTBSY);
	ck_assert_uint_eq(fnv(bp(pinned)), hash);
	expect_audit("\"event\":\"refuse\",\"op\":\"unlink\"",
		     "\"errno\":\"ETXTBSY\"", "\"process\":{", NULL);
	ck_assert_int_eq(unpin(mp(pinned), "all"), 0);
	ck_assert_int_eq(unlink(mp(pinned)), 0);
	ck_assert_int_eq(mnt_teardown(&M), 0);
}
END_TEST

/* ================= item 3: create with O_TRUNC ================= */

enum how { OPEN_TRUNC, CREAT, SHELL };

/* Truncates @rel through the mount the way @how does. */
static int trunc_by(const char *rel, enum how how)
{
	int st, fd;
	char *out;

	switch (how) {
	case OPEN_TRUNC:
		return e_open(mp(rel), O_WRONLY | O_CREAT | O_TRUNC);
	case CREAT:
		fd = creat(mp(rel), 0644);
		if (fd < 0)
			return errno;
		close(fd);
		return 0;
	default:
		out = harness_run(&st, "sh -c ': > \"%s\"' 2>&1", mp(rel));
		fd = st == 0 ? 0 : strstr(out, "busy") ? ETXTBSY : EIO;
		free(out);
		return fd;
	}
}

/*
 * The kernel caches @neg as absent; a pinned file is then moved there
 * behind the mount's back, so a create through the mount reaches the
 * daemon as FUSE create, not open.
 */
static void stale_negative(const char *neg, const char *src)
{
	ck_assert_int_eq(e_open(mp(neg), O_RDONLY), ENOENT);
	ck_assert_int_eq(rename(bp(src), bp(neg)), 0);
}

START_TEST(test_create_trunc_existing)
{
	static const char *const neg[] = { "neg0", "neg1", "neg2" };
	char src[32];
	uint64_t hash;
	int fd;
	size_t i;

	mount_with("cache=always");
	for (i = 0; i < 3; i++) {
		snprintf(src, sizeof(src), "src%zu", i);
		put_random(mp(src), 256 * KIB, 10 + (unsigned int)i);
		ck_assert_int_eq(pin(mp(src), "0+64K"), 0);
		hash = fnv(bp(src));
		stale_negative(neg[i], src);
		ck_assert_int_eq(trunc_by(neg[i], (enum how)i), ETXTBSY);
		ck_assert_int_eq(size_of(bp(neg[i])), 256 * KIB);
		ck_assert_uint_eq(fnv(bp(neg[i])), hash);
	}
	expect_audit("\"event\":\"refuse\",\"op\":\"truncate\"",
		     "\"path\":\"neg0\"", "\"errno\":\"ETXTBSY\"",
		     "\"range\":\"0+65536\"");

	/* Without O_TRUNC, an existing pinned file is opened as it is. */
	put_random(mp("src3"), 256 * KIB, 13);
	ck_assert_int_eq(pin(mp("src3"), "all"), 0);
	hash = fnv(bp("src3"));
	stale_negative("neg3", "src3");
	fd = open(mp("neg3"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ck_assert_msg(fd >= 0, "open: %s", strerror(errno));
	close(fd);
	ck_assert_int_eq(size_of(mp("neg3")), 256 * KIB);
	ck_assert_uint_eq(fnv(bp("neg3")), hash);

	/* An unpinned file behind a stale name: truncated as before. */
	put_random(bp("plain"), 8 * KIB, 15);
	ck_assert_int_eq(e_open(mp("neg5"), O_RDONLY), ENOENT);
	ck_assert_int_eq(rename(bp("plain"), bp("neg5")), 0);
	ck_assert_int_eq(trunc_by("neg5", CREAT), 0);
	ck_assert_int_eq(size_of(bp("neg5")), 0);
	/* A new file, and O_EXCL over an existing one. */
	ck_assert_int_eq(trunc_by("fresh", OPEN_TRUNC), 0);
	ck_assert_int_eq(size_of(bp("fresh")), 0);
	ck_assert_int_eq(
		e_open(mp("neg3"), O_WRONLY | O_CREAT | O_EXCL | O_TRUNC),
		EEXIST);
	ck_assert_int_eq(mnt_teardown(&M), 0);
}
END_TEST

/*
 * Pins stored by an earlier daemon, on files this one never looked up:
 * a create with O_TRUNC, and an unlink, meet them anyway.  (A rename's
 * target is always looked up again by the kernel, FUSE revalidates it.)
 */
START_TEST(test_create_trunc_unloaded_pins)
{
	uint64_t h1, h2;

	mount_with("cache=always");
	put_random(mp("a"), 128 * KIB, 20);
	put_random(mp("b"), 128 * KIB, 21);
	ck_assert_int_eq(pin(mp("a"), "all"), 0);
	ck_assert_int_eq(pin(mp("b"), "0+4K"), 0);
	h1 = fnv(bp("a"));
	h2 = fnv(bp("b"));
	ck_assert_int_eq(mnt_stop(&M, false), 0);
	ck_assert_int_eq(mnt_start(&M, "cache=always"), 0);

	stale_negative("na", "a");
	ck_assert_int_eq(trunc_by("na", OPEN_TRUNC), ETXTBSY);
	ck_assert_int_eq(size_of(bp("na")), 128 * KIB);
	ck_assert_uint_eq(fnv(bp("na")), h1);

	/*
	 * A fresh daemon has loaded no pin at all.  The kernel keeps a
	 * name it saw through the mount; a pinned file moved over that
	 * name behind the mount's back is then unlinked by name.
	 */
	ck_assert_int_eq(mnt_stop(&M, false), 0);
	ck_assert_int_eq(mnt_start(&M, "cache=always"), 0);
	put_random(mp("victim"), 4 * KIB, 22);
	ck_assert_int_eq(rename(bp("b"), bp("victim")), 0);
	ck_assert_int_eq(unlink(mp("victim")), -1);
	ck_assert_int_eq(errno, ETXTBSY);
	ck_assert_uint_eq(fnv(bp("victim")), h2);
	ck_assert_int_eq(mnt_teardown(&M), 0);
}
END_TEST

/* ================= item 9: own pins are not parked ================= */

struct own_run {
	char dir[PATH_MAX];
	int ready[2]; /* the pinner says when it is about to unlink */
};

/* As TEST_UID: pins its own file, then unlinks and renames over it. */
static int own_unlink(void *arg)
{
	struct own_run *r = arg;
	char f[PATH_MAX + 16], tmp[PATH_MAX + 16];
	int64_t t;
	int fd;

	snprintf(f, sizeof(f), "%s/mine", r->dir);
	snprintf(tmp, sizeof(tmp), "%s/tmp", r->dir);
	fd = open(f, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
	CHILD_EXPECT(fd >= 0);
	CHILD_EXPECT(write(fd, f, 64) == 64 && fsync(fd) == 0);
	close(fd);
	CHILD_EXPECT(pin(f, "all") == 0);
	fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
	CHILD_EXPECT(fd >= 0);
	close(fd);
	CHILD_EXPECT(write(r->ready[1], "x", 1) == 1);

	t = now_ms();
	CHILD_EXPECT(unlink(f) == -1 && errno == ETXTBSY);
	CHILD_EXPECT(now_ms() - t < 1000);
	t = now_ms();
	CHILD_EXPECT(rename(tmp, f) == -1 && errno == ETXTBSY);
	CHILD_EXPECT(now_ms() - t < 1000);
	CHILD_EXPECT(access(f, F_OK) == 0 && access(tmp, F_OK) == 0);
	/* What the caller does instead: unpin first. */
	CHILD_EXPECT(unpin(f, "all") == 0);
	CHILD_EXPECT(rename(tmp, f) == 0);
	CHILD_EXPECT(unlink(f) == 0);
	return 0;
}

/* As another user: stat and create in the same directory, timed. */
static int other_user_ops(void *arg)
{
	struct own_run *r = arg;
	char f[PATH_MAX + 16];
	struct stat st;
	int64_t t = now_ms();
	int fd;

	snprintf(f, sizeof(f), "%s/other", r->dir);
	CHILD_EXPECT(stat(r->dir, &st) == 0);
	CHILD_EXPECT(stat(f, &st) == -1 && errno == ENOENT);
	fd = open(f, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
	CHILD_EXPECT(fd >= 0);
	close(fd);
	CHILD_EXPECT(stat(f, &st) == 0 && st.st_uid == OTHER_UID);
	CHILD_EXPECT(now_ms() - t < 1000);
	return 0;
}

static void shared_dir(struct own_run *r)
{
	snprintf(r->dir, sizeof(r->dir), "%s", mp("shared"));
	ck_assert_int_eq(mkdir(r->dir, 0777), 0);
	ck_assert_int_eq(chmod(r->dir, 01777), 0);
}

START_TEST(test_own_pins_unlink_not_parked)
{
	struct own_run r;
	pid_t owner, other;
	char c;

	mount_with("policy=defer,break_timeout=30");
	shared_dir(&r);
	ck_assert_int_eq(pipe2(r.ready, O_CLOEXEC), 0);
	owner = as_user_start(TEST_UID, own_unlink, &r);
	close(r.ready[1]);
	ck_assert_int_eq(read(r.ready[0], &c, 1), 1);
	close(r.ready[0]);
	/* While the owner's unlink runs: another user in the directory. */
	other = as_user_start(OTHER_UID, other_user_ops, &r);
	ck_assert_int_eq(wait_for(other, 20000), 0);
	ck_assert_int_eq(wait_for(owner, 20000), 0);
	expect_audit("\"event\":\"refuse\",\"op\":\"unlink\"",
		     "\"path\":\"shared/mine\"", "\"errno\":\"ETXTBSY\"",
		     "\"reason\":\"only the caller's own pins");
	ck_assert_msg(!audit_find("\"event\":\"defer\"", (char *)NULL),
		      "an unlink under the caller's own pins was parked");
	ck_assert_int_eq(mnt_teardown(&M), 0);
}
END_TEST

/* As TEST_UID: unlinks a file that root pinned. */
static int unlink_theirs(void *arg)
{
	struct own_run *r = arg;
	char f[PATH_MAX + 16];

	snprintf(f, sizeof(f), "%s/theirs", r->dir);
	CHILD_EXPECT(unlink(f) == 0);
	return 0;
}

START_TEST(test_others_pins_unlink_parked)
{
	struct own_run r;
	char v[64];
	pid_t pid;
	int fd;

	mount_with("policy=defer,break_timeout=30");
	shared_dir(&r);
	memset(v, 'v', sizeof(v));
	fd = open(mp("shared/theirs"), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, v, sizeof(v)), (ssize_t)sizeof(v));
	close(fd);
	ck_assert_int_eq(chown(mp("shared/theirs"), TEST_UID, TEST_GID), 0);
	ck_assert_int_eq(pin(mp("shared/theirs"), "all"), 0); /* root's */

	pid = as_user_start(TEST_UID, unlink_theirs, &r);
	ck_assert_msg(wait_for(pid, 1500) == -1,
		      "an unlink of another user's pinned file was not parked");
	ck_assert(exists(bp("shared/theirs")));
	/* Released through the root, whose lock the parked unlink lacks. */
	snprintf(v, sizeof(v), "shared/theirs all");
	ck_assert_int_eq(
		setxattr(M.mountpoint, "user.rdmafs.unpin", v, strlen(v), 0),
		0);
	ck_assert_int_eq(wait_for(pid, 20000), 0);
	ck_assert(!exists(bp("shared/theirs")));
	expect_audit("\"event\":\"defer\",\"op\":\"unlink\"",
		     "\"path\":\"shared/theirs\"", NULL, NULL);
	expect_audit("\"event\":\"done\",\"op\":\"unlink\"", NULL, NULL, NULL);
	ck_assert_int_eq(mnt_teardown(&M), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mount-failclosed");
	TCase *tc = tcase_create("failclosed");
	SRunner *sr;
	int failed;

	harness_require_root_fuse();
	if (!mkdtemp(logdir)) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	chmod(logdir, 0755);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_out_of_descriptors);
	tcase_add_test(tc, test_create_trunc_existing);
	tcase_add_test(tc, test_create_trunc_unloaded_pins);
	tcase_add_test(tc, test_own_pins_unlink_not_parked);
	tcase_add_test(tc, test_others_pins_unlink_parked);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	clean_leftovers();
	harness_sh("rm -rf '%s'", logdir);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
