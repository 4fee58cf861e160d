// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Pins fail closed (DESIGN §4 and §11; issue 7 items 1, 2, 8 and 9):
 *
 * - limits stop new pins only: pins stored by an earlier daemon load
 *   whatever max_pins, max_pins_per_file or max_pins_per_user say now,
 *   are enforced and listed, and a store never drops one that nobody
 *   removed;
 * - max_pins_per_user keeps one user from taking the whole budget;
 * - a damaged stored record reads as a pin "all" of root (the file's
 *   layout stays put) until root unpins it;
 * - a listing that cannot be complete (the daemon out of descriptors) is
 *   an error, status says the count is unknown, and nothing of it stays;
 *   a long path is listed whole;
 * - privacy: a user's listing and status show only files that user can
 *   reach by path, and unpin by path resolves with the caller's rights
 *   and never into the hidden store.
 *
 * Each test mounts its own rdmafs (the options differ) and stops and
 * starts its daemon on the same backing to act as a remount.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "as-user.h"
#include "harness.h"
#include "pin-test-util.h"

#define PIN "user.rdmafs.pin"
#define UNPIN "user.rdmafs.unpin"
#define PINS "user.rdmafs.pins"
#define STATUS "user.rdmafs.status"
#define STORE "trusted.rdmafs.pins"
#define KIB 1024L
#define FD_LIMIT 64 /* the daemon's RLIMIT_NOFILE in the exhaustion test */

static struct mnt M;

static const char *mp(const char *rel)
{
	return mnt_path(&M, rel);
}

static const char *bp(const char *rel)
{
	return bk_path(&M, rel);
}

/* Mounts M with @opts; exits 77 when this backing cannot pin. */
static void mount_with(const char *opts)
{
	int err;

	ck_assert_int_eq(mnt_setup(&M, opts, false), 0);
	put_file(mp(".probe"), "x", 1, 0644);
	err = pin(mp(".probe"), "0+1");
	if (!err)
		ck_assert_int_eq(unpin(mp(".probe"), "0+1"), 0);
	ck_assert_int_eq(unlink(mp(".probe")), 0);
	if (err) {
		printf("mount-pinsafety: no pins here (%s)\n", strerror(err));
		mnt_teardown(&M);
		exit(SKIP_CODE);
	}
}

static void remount(const char *opts)
{
	ck_assert_int_eq(mnt_stop(&M, false), 0);
	ck_assert_int_eq(mnt_start(&M, opts), 0);
}

/* An xattr's value as a string (to free), or NULL with errno set. */
static char *getx(const char *path, const char *name)
{
	ssize_t n = getxattr(path, name, NULL, 0);
	char *v;

	if (n < 0)
		return NULL;
	v = calloc(1, (size_t)n + 1);
	ck_assert_ptr_nonnull(v);
	n = getxattr(path, name, v, (size_t)n);
	if (n < 0) {
		free(v);
		return NULL;
	}
	return v;
}

static char *listing(void)
{
	char *v = getx(M.mountpoint, PINS);

	ck_assert_msg(v, "listing: %s", strerror(errno));
	return v;
}

/* The value of @key in the status, as a string (to free). */
static char *status_str(const char *key)
{
	char *s = getx(M.mountpoint, STATUS), *p, *r;
	size_t k = strlen(key);

	ck_assert_msg(s, "status: %s", strerror(errno));
	for (p = s; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, key, k) == 0 && p[k] == '=')
			break;
	ck_assert_msg(p && *p, "no %s in the status:\n%s", key, s);
	r = strndup(p + k + 1, strcspn(p + k + 1, "\n"));
	free(s);
	return r;
}

static long status_num(const char *key)
{
	char *v = status_str(key), *end;
	long n = strtol(v, &end, 10);

	ck_assert_msg(*v && !*end, "%s=%s is not a number", key, v);
	free(v);
	return n;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

/* Lines of @text starting with "@prefix ", in order, joined (to free). */
static char *lines_of(const char *text, const char *prefix)
{
	size_t k = strlen(prefix), n;
	char *out = calloc(1, strlen(text) + 1);
	const char *p;

	ck_assert_ptr_nonnull(out);
	for (p = text; *p; p += n + 1) {
		n = strcspn(p, "\n");
		if (strncmp(p, prefix, k) == 0 && p[k] == ' ')
			strncat(out, p + k + 1, n - k);
		if (!p[n])
			break;
	}
	return out;
}

/* The offsets of the pins stored on backing file @rel, sorted. */
static size_t stored_offsets(const char *rel, uint64_t *off, size_t max)
{
	unsigned char b[16 + 32 * 64];
	ssize_t n = getxattr(bp(rel), STORE, b, sizeof(b));
	size_t i, j, cnt;

	ck_assert_msg(n >= 16, "%s: %s", STORE, strerror(errno));
	ck_assert(memcmp(b, "RDPN", 4) == 0);
	cnt = b[8] | b[9] << 8 | b[10] << 16 | (size_t)b[11] << 24;
	ck_assert_uint_eq((size_t)n, 16 + 32 * cnt);
	ck_assert_uint_le(cnt, max);
	for (i = 0; i < cnt; i++) {
		off[i] = 0;
		for (j = 0; j < 8; j++)
			off[i] |= (uint64_t)b[16 + 32 * i + j] << (8 * j);
	}
	for (i = 1; i < cnt; i++)
		for (j = i; j > 0 && off[j - 1] > off[j]; j--) {
			uint64_t t = off[j];

			off[j] = off[j - 1];
			off[j - 1] = t;
		}
	return cnt;
}

/* Runs @fn as TEST_UID:TEST_GID (no other groups); its exit status. */
static int as_test_user(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	int st;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 ||
		    setresgid(TEST_GID, TEST_GID, TEST_GID) < 0 ||
		    setresuid(TEST_UID, TEST_UID, TEST_UID) < 0)
			_exit(99);
		_exit(fn(arg));
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void user_file(const char *rel, mode_t mode)
{
	put_random(mp(rel), 64 * KIB, 7);
	ck_assert_int_eq(chown(mp(rel), TEST_UID, TEST_GID), 0);
	ck_assert_int_eq(chmod(mp(rel), mode), 0);
}

/* ================= item 1: limits stop new pins only ================= */

/* Pins "i+1" on the file @arg one at a time; exits with how many. */
static int fill_budget(void *arg)
{
	char v[32];
	int i, err = 0;

	for (i = 0; i < 60 && !err; i++) {
		snprintf(v, sizeof(v), "%d+1", i);
		err = pin(arg, v);
	}
	CHILD_EXPECT(err == ENOSPC);
	return i - 1;
}

START_TEST(test_stored_pins_over_budget)
{
	char *l, *f;
	int n;

	mount_with("max_pins=4");
	put_random(mp("rootf"), 64 * KIB, 1);
	ck_assert_int_eq(mkdir(mp("u"), 0755), 0);
	ck_assert_int_eq(chown(mp("u"), TEST_UID, TEST_GID), 0);
	user_file("u/f", 0644);
	ck_assert_int_eq(pin(mp("rootf"), "0+4K"), 0);
	/* A user fills the rest of the budget. */
	remount("max_pins=4");
	n = as_test_user(fill_budget, (void *)mp("u/f"));
	ck_assert_int_eq(n, 3);
	/*
	 * A smaller budget now, and the user's file met first: every
	 * stored pin loads all the same, and root's holds.
	 */
	remount("max_pins=2");
	f = getx(mp("u/f"), PIN);
	ck_assert_uint_eq(count_lines(f), 3);
	free(f);
	ck_assert_int_eq(truncate(mp("rootf"), 0), -1);
	ck_assert_int_eq(errno, ETXTBSY);
	ck_assert_int_eq(truncate(bp("rootf"), 64 * KIB), 0); /* unchanged */
	f = getx(mp("rootf"), PIN);
	ck_assert_ptr_nonnull(f);
	ck_assert_msg(strncmp(f, "0+4096 owner=0 ", 15) == 0, "%s", f);
	/* The listing and the file agree, and status counts both. */
	l = listing();
	ck_assert_uint_eq(count_lines(l), 4);
	ck_assert_msg(strstr(l, "rootf 0+4096 owner=0 "), "%s", l);
	free(l);
	free(f);
	ck_assert_int_eq(status_num("pins"), 4);
	/* Over the budget: no new pin, for anyone, until some go. */
	ck_assert_int_eq(pin(mp("rootf"), "8K+4K"), ENOSPC);
	ck_assert_int_eq(unpin(mp("u/f"), "0+1"), 0);
	ck_assert_int_eq(unpin(mp("u/f"), "1+1"), 0);
	ck_assert_int_eq(pin(mp("rootf"), "8K+4K"), ENOSPC);
	ck_assert_int_eq(unpin(mp("u/f"), "2+1"), 0);
	ck_assert_int_eq(pin(mp("rootf"), "8K+4K"), 0);
	/* The unpins kept root's pin on disk: it is there after a remount. */
	remount("max_pins=2");
	ck_assert_int_eq(status_num("pins"), 2);
	ck_assert_int_eq(truncate(mp("rootf"), 0), -1);
	ck_assert_int_eq(errno, ETXTBSY);
	ck_assert_int_eq(mnt_teardown(&M), 0);
}
END_TEST

START_TEST(test_lower_per_file_limit_keeps_pins)
{
	uint64_t off[64];
	char *f, *l, *lf;

	mount_with("max_pins_per_file=8");
	put_random(mp("f"), 64 * KIB, 2);
	ck_assert_int_eq(pin(mp("f"), "0+1,1+1,2+1,3+1,4+1,5+1"), 0);
	remount("max_pins_per_file=4");
	f = getx(mp("f"), PIN);
	ck_assert_uint_eq(count_lines(f), 6);
	free(f);
	ck_assert_int_eq(unpin(mp("f"), "0+1"), 0);
	/* The others stay: in the table, in the store and in the listing. */
	ck_assert_uint_eq(stored_offsets("f", off, 64), 5);
	ck_assert_uint_eq(off[0], 1);
	ck_assert_uint_eq(off[4], 5);
	ck_assert_int_eq(pin(mp("f"), "10+1"), ENOSPC);
	ck_assert_int_eq(truncate(mp("f"), 3), -1);
	ck_assert_int_eq(errno, ETXTBSY);
	remount("max_pins_per_file=8");
	l = listing();
	f = getx(mp("f"), PIN);
	ck_assert_uint_eq(count_lines(f), 5);
	/* Per file and mount-wide: the same pins, line for line. */
	lf = lines_of(l, "f");
	ck_assert_str_eq(lf, f);
	ck_assert_uint_eq(stored_offsets("f", off, 64), 5);
	free(lf);
	free(f);
	free(l);
	ck_assert_int_eq(mnt_teardown(&M), 0);
}
END_TEST

/* ================= item 9: max_pins_per_user ================= */

static int user_pins_three(void *arg)
{
	CHILD_EXPECT(pin(mp("u/a"), "0+1,1+1") == 0);
	CHILD_EXPECT(pin(mp("u/b"), "0+1") == 0);
	/* The user's fourth: over max_pins_per_user=3. */
	CHILD_EXPECT(pin(mp("u/b"), "1+1") == ENOSPC);
	CHILD_EXPECT(getxattr(mp("u/b"), PIN, NULL, 0) > 0);
	return 0;
}

/* Over a lower limit now: loaded, kept, but no new one. */
static int user_over(void *arg)
{
	CHILD_EXPECT(getxattr(mp("u/a"), PIN, NULL, 0) > 0);
	CHILD_EXPECT(getxattr(mp("u/b"), PIN, NULL, 0) > 0);
	CHILD_EXPECT(pin(mp("u/a"), "5+1") == ENOSPC);
	CHILD_EXPECT(unpin(mp("u/a"), "0+1") == 0);
	CHILD_EXPECT(pin(mp("u/a"), "5+1") == ENOSPC);
	CHILD_EXPECT(unpin(mp("u/a"), "1+1") == 0);
	CHILD_EXPECT(pin(mp("u/a"), "5+1") == 0);
	return 0;
}

START_TEST(test_per_user_limit)
{
	mount_with("max_pins=10,max_pins_per_user=3");
	ck_assert_int_eq(status_num("max_pins_per_user"), 3);
	ck_assert_int_eq(mkdir(mp("u"), 0755), 0);
	user_file("u/a", 0644);
	user_file("u/b", 0644);
	put_random(mp("r"), 64 * KIB, 3);
	ck_assert_int_eq(as_test_user(user_pins_three, NULL), 0);
	/* Others still have room; root is bound by max_pins only. */
	ck_assert_int_eq(pin(mp("r"), "0+1,1+1,2+1,3+1,4+1,5+1,6+1"), 0);
	ck_assert_int_eq(pin(mp("r"), "7+1"), ENOSPC);
	ck_assert_int_eq(status_num("pins"), 10);
	/* Stored pins of the user load at the next mount and count. */
	remount("max_pins=20,max_pins_per_user=2");
	ck_assert_int_eq(as_test_user(user_over, NULL), 0);
	ck_assert_int_eq(status_num("pins"), 9);
	ck_assert_int_eq(mnt_teardown(&M), 0);
}
END_TEST

/* ================= item 2: damaged record, out of descriptors ======= */

START_TEST(test_damaged_record_pins_all)
{
	char *v, *l;

	mount_with(NULL);
	/* Behind the mount's back, on a file it has not looked up. */
	put_random(bp("bad"), 64 * KIB, 4);
	ck_assert_int_eq(setxattr(bp("bad"), STORE, "garbage", 7, 0), 0);
	ck_assert_int_eq(truncate(mp("bad"), 0), -1);
	ck_assert_int_eq(errno, ETXTBSY);
	ck_assert_int_eq(unlink(mp("bad")), -1);
	ck_assert_int_eq(errno, ETXTBSY);
	v = getx(mp("bad"), PIN);
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v,
			 "all owner=0 holder=- since=1970-01-01T00:00:00Z\n");
	l = listing();
	ck_assert_msg(strstr(l, "bad all owner=0 "), "%s", l);
	free(l);
	free(v);
	/* Root repairs it by unpinning: the record goes. */
	ck_assert_int_eq(unpin(mp("bad"), "all"), 0);
	ck_assert_int_eq(getxattr(bp("bad"), STORE, NULL, 0), -1);
	ck_assert_int_eq(errno, ENODATA);
	ck_assert_int_eq(truncate(mp("bad"), 0), 0);
	ck_assert_int_eq(mnt_teardown(&M), 0);
}
END_TEST

START_TEST(test_listing_out_of_descriptors)
{
	struct rlimit low = { FD_LIMIT, FD_LIMIT };
	int held[FD_LIMIT + 64], n, fd = -1, err;
	char *v;

	mount_with("cache=always");
	/* Only lowered, so the daemon, not this process, is limited. */
	ck_assert_int_eq(prlimit(M.daemon, RLIMIT_NOFILE, &low, NULL), 0);
	put_random(mp("pinned"), 64 * KIB, 5);
	put_random(mp("filler"), 4 * KIB, 6);
	ck_assert_int_eq(pin(mp("pinned"), "all"), 0);

	for (n = 0; n < (int)(sizeof(held) / sizeof(held[0])); n++) {
		fd = open(mp("filler"), O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			break;
		held[n] = fd;
	}
	err = errno;
	ck_assert_msg(fd < 0 && (err == EMFILE || err == ENFILE),
		      "%d opens through a daemon limited to %d: %s", n,
		      FD_LIMIT, strerror(err));
	/* Not an empty listing: an error. */
	errno = 0;
	v = getx(M.mountpoint, PINS);
	ck_assert_msg(!v && (errno == EMFILE || errno == ENFILE),
		      "listing at the fd limit: \"%s\" (%s)", v ? v : "",
		      strerror(errno));
	v = status_str("pins");
	ck_assert_str_eq(v, "unknown");
	free(v);
	v = status_str("files_pinned");
	ck_assert_str_eq(v, "unknown");
	free(v);
	while (n > 0)
		close(held[--n]);
	/* Nothing of the failed listing stayed. */
	v = listing();
	ck_assert_msg(strncmp(v, "pinned all owner=0 ", 19) == 0, "%s", v);
	free(v);
	ck_assert_int_eq(status_num("pins"), 1);
	ck_assert_int_eq(mnt_teardown(&M), 0);
}
END_TEST

/* A path longer than a printf buffer is listed whole, on its own line. */
START_TEST(test_long_path_listed)
{
	char rel[1200] = "", name[201], *l, *want;
	int i;

	mount_with(NULL);
	memset(name, 'n', 200);
	name[200] = '\0';
	for (i = 0; i < 5; i++) {
		strcat(rel, i ? "/" : "");
		strcat(rel, name);
		ck_assert_int_eq(mkdir(mp(rel), 0755), 0);
	}
	strcat(rel, "/f");
	put_random(mp(rel), 4 * KIB, 11);
	put_random(mp("short"), 4 * KIB, 12);
	ck_assert_int_eq(pin(mp(rel), "all"), 0);
	ck_assert_int_eq(pin(mp("short"), "all"), 0);
	l = listing();
	ck_assert_uint_eq(count_lines(l), 2);
	ck_assert_int_ge(asprintf(&want, "%s all owner=0 ", rel), 0);
	ck_assert_msg(strncmp(l, want, strlen(want)) == 0, "%s", l);
	ck_assert_msg(strstr(l, "\nshort all owner=0 "), "%s", l);
	free(want);
	free(l);
	ck_assert_int_eq(mnt_teardown(&M), 0);
}
END_TEST

/* ================= item 8: privacy ================= */

static int user_pins_mine(void *arg)
{
	CHILD_EXPECT(pin(mp("pub/mine"), "0+1") == 0);
	return 0;
}

static int user_sees(void *arg)
{
	char *l = getx(M.mountpoint, PINS), *s;

	CHILD_EXPECT(l != NULL);
	CHILD_EXPECT(strstr(l, "pub/p all owner=0 "));
	CHILD_EXPECT(strstr(l, "pub/mine 0+1 owner=4242 "));
	/* Reached through the user's primary group. */
	CHILD_EXPECT(strstr(l, "grp/g all owner=0 "));
	CHILD_EXPECT(!strstr(l, "secret"));
	CHILD_EXPECT(count_lines(l) == 3);
	free(l);
	/* Status counts what this user's listing shows. */
	s = getx(M.mountpoint, STATUS);
	CHILD_EXPECT(s && strstr(s, "\npins=3\n") &&
		     strstr(s, "\nfiles_pinned=3\n"));
	free(s);
	return 0;
}

/* After "chmod 700 pub": only what the group reaches is left. */
static int user_sees_less(void *arg)
{
	char *l = getx(M.mountpoint, PINS);

	CHILD_EXPECT(l != NULL);
	CHILD_EXPECT(!strstr(l, "pub/"));
	CHILD_EXPECT(strstr(l, "grp/g all owner=0 "));
	CHILD_EXPECT(count_lines(l) == 1);
	free(l);
	return 0;
}

static int set_unpin(const char *v)
{
	return setxattr(M.mountpoint, UNPIN, v, strlen(v), 0) < 0 ? errno : 0;
}

static int user_unpins_by_path(void *arg)
{
	/* No existence oracle: the same answer, file or no file. */
	CHILD_EXPECT(set_unpin("secret/s 0+1") == EACCES);
	CHILD_EXPECT(set_unpin("secret/none 0+1") == EACCES);
	CHILD_EXPECT(set_unpin("./.rdmafs/index 0+1") == EACCES);
	/* Someone else's pin where the user can look: refused as such. */
	CHILD_EXPECT(set_unpin("pub/p all") == ENODATA);
	CHILD_EXPECT(set_unpin("pub/p 0+1") == ENODATA);
	CHILD_EXPECT(set_unpin("pub/mine 0+1") == 0);
	return 0;
}

/* Root and a user with the same pins, in dirs of different modes. */
static void privacy_setup(const char *opts)
{
	mount_with(opts);
	/* user.* xattrs on the root need write access to it. */
	ck_assert_int_eq(chmod(M.mountpoint, 0777), 0);
	ck_assert_int_eq(mkdir(mp("secret"), 0700), 0);
	ck_assert_int_eq(mkdir(mp("pub"), 0755), 0);
	ck_assert_int_eq(mkdir(mp("grp"), 0750), 0);
	ck_assert_int_eq(chown(mp("grp"), 0, TEST_GID), 0);
	put_random(mp("secret/s"), 64 * KIB, 8);
	put_random(mp("pub/p"), 64 * KIB, 9);
	put_random(mp("grp/g"), 64 * KIB, 10);
	user_file("pub/mine", 0644);
	ck_assert_int_eq(pin(mp("secret/s"), "0+1"), 0);
	ck_assert_int_eq(pin(mp("pub/p"), "all"), 0);
	ck_assert_int_eq(pin(mp("grp/g"), "all"), 0);
	ck_assert_int_eq(as_test_user(user_pins_mine, NULL), 0);
}

START_TEST(test_privacy_listing)
{
	char *l;

	privacy_setup(NULL);
	/* Root's snapshot first, so that a shared one would be reused. */
	l = listing();
	ck_assert_uint_eq(count_lines(l), 4);
	ck_assert_msg(strstr(l, "secret/s 0+1 owner=0 "), "%s", l);
	free(l);
	ck_assert_int_eq(status_num("pins"), 4);
	ck_assert_int_eq(as_test_user(user_sees, NULL), 0);
	/* And the user's view is not root's. */
	l = listing();
	ck_assert_uint_eq(count_lines(l), 4);
	free(l);
	ck_assert_int_eq(status_num("pins"), 4);
	ck_assert_int_eq(mnt_teardown(&M), 0);
}
END_TEST

/*
 * A view is not reused after a directory above a pinned file lost the
 * caller's access, however long the mount caches attributes.
 */
START_TEST(test_privacy_after_chmod)
{
	privacy_setup("cache=always");
	ck_assert_int_eq(as_test_user(user_sees, NULL), 0);
	ck_assert_int_eq(chmod(mp("pub"), 0700), 0);
	ck_assert_int_eq(as_test_user(user_sees_less, NULL), 0);
	ck_assert_int_eq(mnt_teardown(&M), 0);
}
END_TEST

/*
 * The backing comes back on another device number, as a disk may after
 * a reboot: the listing still names the pinned file by its path.
 */
START_TEST(test_listing_after_renumbering)
{
	struct stat before, after;
	char *l;

	mount_with(NULL);
	if (!M.xfs) {
		ck_assert_int_eq(mnt_teardown(&M), 0);
		return;
	}
	ck_assert_int_eq(mkdir(mp("d"), 0755), 0);
	put_random(mp("d/f"), 64 * KIB, 11);
	ck_assert_int_eq(pin(mp("d/f"), "0+1"), 0);
	ck_assert_int_eq(stat(bp("d/f"), &before), 0);
	ck_assert_int_eq(mnt_stop(&M, false), 0);
	/* A second loop device on the same image: another st_dev. */
	ck_assert_int_eq(
		harness_sh("d=$(losetup -f --show '%s') && umount '%s' && "
			   "mount \"$d\" '%s' && losetup -d \"$d\"",
			   M.img, M.backing, M.backing),
		0);
	ck_assert_int_eq(stat(bp("d/f"), &after), 0);
	ck_assert_uint_ne(before.st_dev, after.st_dev);
	ck_assert_int_eq(mnt_start(&M, NULL), 0);
	l = listing();
	ck_assert_msg(l && strstr(l, "d/f 0+1 owner=0 ") && !strstr(l, "?ino"),
		      "%s", l ? l : "(none)");
	free(l);
	ck_assert_int_eq(mnt_teardown(&M), 0);
}
END_TEST

START_TEST(test_privacy_unpin_path)
{
	static const char *const hidden[] = {
		".rdmafs/index 0+1",
		"./.rdmafs/index 0+1",
		"pub/../.rdmafs/index 0+1",
		"pub/../.rdmafs 0+1",
	};
	size_t i;

	privacy_setup(NULL);
	ck_assert_int_eq(as_test_user(user_unpins_by_path, NULL), 0);
	for (i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++)
		ck_assert_msg(set_unpin(hidden[i]) == ENOENT, "%s: %s",
			      hidden[i], strerror(set_unpin(hidden[i])));
	ck_assert_int_eq(status_num("pins"), 3);
	ck_assert_int_eq(set_unpin("secret/s 0+1"), 0);
	ck_assert_int_eq(status_num("pins"), 2);
	ck_assert_int_eq(mnt_teardown(&M), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mount-pinsafety");
	TCase *tc = tcase_create("pinsafety");
	SRunner *sr;
	int failed;

	harness_require_root_fuse();
	umask(022);
	tcase_add_test(tc, test_stored_pins_over_budget);
	tcase_add_test(tc, test_lower_per_file_limit_keeps_pins);
	tcase_add_test(tc, test_per_user_limit);
	tcase_add_test(tc, test_damaged_record_pins_all);
	tcase_add_test(tc, test_listing_out_of_descriptors);
	tcase_add_test(tc, test_long_path_listed);
	tcase_add_test(tc, test_privacy_listing);
	tcase_add_test(tc, test_privacy_after_chmod);
	tcase_add_test(tc, test_listing_after_renumbering);
	tcase_add_test(tc, test_privacy_unpin_path);
	tcase_set_timeout(tc, 90);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
