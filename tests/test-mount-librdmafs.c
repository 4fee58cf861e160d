// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * librdmafs against a real mount (issue 8): every call of rdmafs.h and
 * every error it documents (EINVAL, ENOTSUP on another filesystem,
 * EPERM for another user's pin, ENODATA, ESTALE), names escaped through
 * the root unpin, the mount-wide listing, the status compared field by
 * field with the xattr it comes from, and the session calls that the
 * daemon does not offer yet.  Limits, paging, threads and the parked
 * truncate are in mount-librdmafs-load.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "as-user.h"
#include "librdmafs-test-util.h"

static void main_setup(void)
{
	own_mount(NULL, "main");
}

/* ================= names, versions, errors ================= */

START_TEST(test_names)
{
	ck_assert_str_eq(rdmafs_version(), "0.1.0");
	ck_assert_str_eq(rdmafs_class_name(RDMAFS_TRUNCATE), "truncate");
	ck_assert_str_eq(rdmafs_class_name(RDMAFS_UNLINK), "unlink");
	ck_assert_ptr_null(rdmafs_class_name(RDMAFS_NCLASSES));
	ck_assert_ptr_null(rdmafs_class_name((enum rdmafs_class) - 1));
	ck_assert_str_eq(rdmafs_action_name(RDMAFS_DEFER), "defer");
	ck_assert_str_eq(rdmafs_action_name(RDMAFS_COPY), "copy");
	ck_assert_ptr_null(rdmafs_action_name(RDMAFS_NACTIONS));
	ck_assert_str_eq(rdmafs_strerror(-ETXTBSY),
			 "a pinned range is in the way");
	ck_assert_str_eq(rdmafs_strerror(ETXTBSY), rdmafs_strerror(-ETXTBSY));
	ck_assert_str_eq(
		rdmafs_strerror(-ENOTSUP),
		"not on an rdmafs mount, or not offered by its daemon");
	ck_assert_ptr_nonnull(strstr(rdmafs_strerror(-ESTALE), "no name"));
	ck_assert_str_eq(rdmafs_strerror(-EMFILE), "Too many open files");
	ck_assert_str_eq(rdmafs_strerror(100000), "unknown error");
}
END_TEST

/* ================= pin, file pins, unpin ================= */

START_TEST(test_pin_file_pins_unpin)
{
	struct rdmafs_range r[2] = { R(4096, 4096), R(0, 4096) };
	struct rdmafs_pin *p = (void *)1;
	int fd = make_file("basic", "f", 64 * KIB, 0644);
	int64_t t0 = (int64_t)time(NULL);
	char raw[512];
	size_t n = 7, i, whole;
	ssize_t len;

	ck_assert_int_eq(rdmafs_file_pins(fd, &p, &n), 0);
	ck_assert_ptr_null(p);
	ck_assert_uint_eq(n, 0);

	errno = 4242;
	ck_assert_int_eq(rdmafs_pin(fd, r, 2, 0), 0);
	ck_assert_int_eq(errno, 4242);
	/* the xattr the daemon answers with, and the same through the API */
	len = fgetxattr(fd, "user.rdmafs.pin", raw, sizeof(raw) - 1);
	ck_assert_int_gt(len, 0);
	raw[len] = '\0';
	ck_assert_ptr_nonnull(strstr(raw, "0+4096 owner=0 holder=- since="));
	ck_assert_ptr_nonnull(strstr(raw, "4096+4096 owner=0 holder=-"));
	ck_assert_int_eq(rdmafs_file_pins(fd, &p, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_ptr_null(p[0].path);
	ck_assert_uint_eq(p[0].range.offset, 0);
	ck_assert_uint_eq(p[0].range.length, 4096);
	ck_assert_uint_eq(p[1].range.offset, 4096);
	ck_assert_uint_eq(p[1].owner, 0);
	ck_assert_int_eq(p[1].holder, 0);
	ck_assert_int_ge(p[0].since, t0 - 5);
	ck_assert_int_le(p[0].since, (int64_t)time(NULL) + 5);
	rdmafs_pins_free(p, n);

	/* again: nothing new; then the whole file */
	ck_assert_int_eq(rdmafs_pin(fd, r, 1, 0), 0);
	r[0] = R(0, RDMAFS_WHOLE);
	ck_assert_int_eq(rdmafs_pin(fd, r, 1, 0), 0);
	ck_assert_int_eq(rdmafs_file_pins(fd, &p, &n), 0);
	ck_assert_uint_eq(n, 3);
	/* in offset order: `all` starts at 0 too */
	for (i = 0, whole = 0; i < n; i++) {
		if (p[i].range.length != RDMAFS_WHOLE)
			continue;
		whole++;
		ck_assert_uint_eq(p[i].range.offset, 0);
	}
	ck_assert_uint_eq(whole, 1);
	ck_assert_uint_eq(p[2].range.offset, 4096);
	rdmafs_pins_free(p, n);

	/* one range, exactly; then every pin of the caller */
	r[0] = R(4096, 4096);
	ck_assert_int_eq(rdmafs_unpin(fd, &r[0], 0), 0);
	ck_assert_int_eq(rdmafs_unpin(fd, &r[0], 0), -ENODATA);
	ck_assert_int_eq(rdmafs_file_pins(fd, &p, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(p[0].range.offset, 0);
	rdmafs_pins_free(p, n);
	errno = 4242;
	ck_assert_int_eq(rdmafs_unpin(fd, NULL, 0), 0);
	ck_assert_int_eq(errno, 4242);
	ck_assert_int_lt(fgetxattr(fd, "user.rdmafs.pin", raw, sizeof(raw)), 0);
	ck_assert_int_eq(errno, ENODATA);
	ck_assert_int_eq(rdmafs_file_pins(fd, &p, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(rdmafs_unpin(fd, NULL, 0), -ENODATA);
	close(fd);
}
END_TEST

/* A name that needs the listing's escapes, unpinned through the root. */
START_TEST(test_unpin_escaped_name)
{
	struct rdmafs_range r = R(0, 4096);
	int fd = make_file("esc dir", "#a b\\c\td", 8 * KIB, 0644);

	ck_assert_int_eq(rdmafs_pin(fd, &r, 1, 0), 0);
	ck_assert_int_eq(rdmafs_unpin(fd, &r, 0), 0);
	ck_assert_int_eq(rdmafs_unpin(fd, &r, 0), -ENODATA);
	close(fd);
}
END_TEST

START_TEST(test_einval)
{
	struct rdmafs_range r = R(0, 4096), bad;
	struct rdmafs_pin *p;
	int fd = make_file("inval", "f", 16 * KIB, 0644);
	int dir = open_m("inval", O_RDONLY | O_DIRECTORY);
	size_t n;

	ck_assert_int_eq(rdmafs_pin(fd, &r, 0, 0), -EINVAL);
	ck_assert_int_eq(rdmafs_pin(fd, NULL, 1, 0), -EINVAL);
	ck_assert_int_eq(rdmafs_pin(fd, &r, 1, 1), -EINVAL);
	ck_assert_int_eq(rdmafs_unpin(fd, &r, 1), -EINVAL);
	bad = R(0, 0);
	ck_assert_int_eq(rdmafs_pin(fd, &bad, 1, 0), -EINVAL);
	ck_assert_int_eq(rdmafs_unpin(fd, &bad, 0), -EINVAL);
	bad = R(4096, RDMAFS_WHOLE);
	ck_assert_int_eq(rdmafs_pin(fd, &bad, 1, 0), -EINVAL);
	bad = R(INT64_MAX, 2);
	ck_assert_int_eq(rdmafs_pin(fd, &bad, 1, 0), -EINVAL);
	/* beyond the size: the daemon's answer */
	bad = R(12 * KIB, 8 * KIB);
	errno = 4242;
	ck_assert_int_eq(rdmafs_pin(fd, &bad, 1, 0), -EINVAL);
	ck_assert_int_eq(errno, 4242);
	/* more ranges than one value takes */
	{
		struct rdmafs_range many[65];
		int i;

		for (i = 0; i < 65; i++)
			many[i] = R((uint64_t)i, 1);
		ck_assert_int_eq(rdmafs_pin(fd, many, 65, 0), -EINVAL);
	}
	/* a directory */
	ck_assert_int_eq(rdmafs_pin(dir, &r, 1, 0), -EINVAL);
	ck_assert_int_eq(rdmafs_unpin(dir, &r, 0), -EINVAL);
	ck_assert_int_eq(rdmafs_file_pins(dir, &p, &n), -EINVAL);
	ck_assert_int_eq(rdmafs_file_pins(fd, NULL, &n), -EINVAL);
	/* all or none: nothing of the failed calls was pinned */
	ck_assert_int_eq(rdmafs_file_pins(fd, &p, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(rdmafs_pin(-1, &r, 1, 0), -EBADF);
	close(dir);
	close(fd);
}
END_TEST

START_TEST(test_enotsup)
{
	char path[] = "/dev/shm/librdmafs-XXXXXX";
	struct rdmafs_range r = R(0, 1);
	struct rdmafs_mount *m = (void *)1;
	struct rdmafs_pin *p;
	char v[16];
	size_t n;
	int fd = mkstemp(path);

	if (fd < 0) {
		strcpy(path, "/tmp/librdmafs-XXXXXX");
		fd = mkstemp(path);
	}
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "xy", 2), 2);
	ck_assert_int_eq(rdmafs_pin(fd, &r, 1, 0), -ENOTSUP);
	/* never a plain xattr written to that filesystem */
	ck_assert_int_lt(fgetxattr(fd, "user.rdmafs.pin", v, sizeof(v)), 0);
	ck_assert_int_eq(rdmafs_unpin(fd, &r, 0), -ENOTSUP);
	ck_assert_int_eq(rdmafs_unpin(fd, NULL, 0), -ENOTSUP);
	ck_assert_int_eq(rdmafs_file_pins(fd, &p, &n), -ENOTSUP);
	ck_assert_int_eq(rdmafs_mount_open(path, &m), -ENOTSUP);
	ck_assert_ptr_null(m);
	ck_assert_int_eq(rdmafs_mount_open("/", &m), -ENOTSUP);
	ck_assert_int_eq(rdmafs_mount_open("/nonexistent-librdmafs", &m),
			 -ENOENT);
	ck_assert_int_eq(rdmafs_mount_open(NULL, &m), -EINVAL);
	close(fd);
	unlink(path);
}
END_TEST

struct eperm_arg {
	const char *path;
};

static int eperm_child(void *arg)
{
	struct eperm_arg *a = arg;
	struct rdmafs_range r = R(0, 4096);
	struct rdmafs_pin *p;
	size_t n;
	int fd = open(a->path, O_RDWR | O_CLOEXEC);
	int ret;

	CHILD_EXPECT(fd >= 0);
	/* root's pin: visible, not removable */
	CHILD_EXPECT(rdmafs_file_pins(fd, &p, &n) == 0 && n == 1);
	CHILD_EXPECT(p[0].owner == 0);
	rdmafs_pins_free(p, n);
	ret = rdmafs_unpin(fd, &r, 0);
	if (ret != -EPERM) {
		fprintf(stderr, "unpin of root's pin: %d\n", ret);
		return 1;
	}
	/* "all" of a user without pins removes nothing */
	CHILD_EXPECT(rdmafs_unpin(fd, NULL, 0) == -ENODATA);
	/* its own pin, and unpinned by it */
	CHILD_EXPECT(rdmafs_pin(fd, &(struct rdmafs_range){ 4096, 4096 }, 1,
				0) == 0);
	CHILD_EXPECT(rdmafs_file_pins(fd, &p, &n) == 0 && n == 2);
	CHILD_EXPECT(p[1].owner == TEST_UID);
	rdmafs_pins_free(p, n);
	CHILD_EXPECT(rdmafs_unpin(fd, NULL, 0) == 0);
	close(fd);
	return 0;
}

START_TEST(test_eperm)
{
	struct rdmafs_range r = R(0, 4096);
	struct eperm_arg a;
	struct rdmafs_pin *p;
	size_t n;
	int fd = make_file("perm", "f", 16 * KIB, 0666);

	ck_assert_int_eq(rdmafs_pin(fd, &r, 1, 0), 0);
	a.path = mp("perm/f");
	ck_assert_int_eq(as_user(TEST_UID, TEST_GID, 022, eperm_child, &a), 0);
	ck_assert_int_eq(rdmafs_file_pins(fd, &p, &n), 0);
	ck_assert_uint_eq(n, 1);
	rdmafs_pins_free(p, n);
	ck_assert_int_eq(rdmafs_unpin(fd, &r, 0), 0);
	close(fd);
}
END_TEST

/*
 * True when the daemon takes "PATH RANGE ino=N" on the root (an older
 * one reads "ino=N" as the range and answers EINVAL).
 */
static bool daemon_has_ino(void)
{
	const char *v = "nonexistent-librdmafs 0+1 ino=1";

	if (setxattr(M.mountpoint, "user.rdmafs.unpin", v, strlen(v), 0) == 0)
		return true;
	return errno != EINVAL;
}

START_TEST(test_estale)
{
	struct rdmafs_range r = R(0, 4096);
	char bk_old[PATH_MAX], bk_new[PATH_MAX];
	int fd = make_file("stale", "gone", 8 * KIB, 0644);
	int pinned, other;

	/* a name that is gone: the file has no name left to unpin by */
	ck_assert_int_eq(unlink(mp("stale/gone")), 0);
	ck_assert_int_eq(rdmafs_unpin(fd, &r, 0), -ESTALE);
	ck_assert_int_eq(rdmafs_unpin(fd, NULL, 0), -ESTALE);
	close(fd);

	/*
	 * A name that leads to another file: renamed behind the mount, so
	 * the kernel still names the old path, where a new file now is.
	 */
	pinned = make_file("stale", "f", 8 * KIB, 0644);
	ck_assert_int_eq(rdmafs_pin(pinned, &r, 1, 0), 0);
	other = make_file("stale", "g", 8 * KIB, 0644);
	ck_assert_int_eq(rdmafs_pin(other, &r, 1, 0), 0);
	snprintf(bk_old, sizeof(bk_old), "%s", bk_path(&M, "stale/f"));
	snprintf(bk_new, sizeof(bk_new), "%s", bk_path(&M, "stale/f2"));
	ck_assert_int_eq(rename(bk_old, bk_new), 0);
	ck_assert_int_eq(rename(bk_path(&M, "stale/g"), bk_old), 0);
	if (daemon_has_ino()) {
		ck_assert_int_eq(rdmafs_unpin(pinned, &r, 0), -ESTALE);
		/* neither file lost its pin */
		ck_assert_int_eq(
			fsetxattr(pinned, "user.rdmafs.unpin", "0+4096", 6, 0),
			0);
		ck_assert_int_eq(
			fsetxattr(other, "user.rdmafs.unpin", "0+4096", 6, 0),
			0);
	} else {
		/*
		 * The daemon has no ino= yet (fs/unpin.c): the library falls
		 * back to "PATH RANGE", which cannot tell the files apart
		 * (it unpins the file now at that name).  Not asserted.
		 */
		printf("mount-librdmafs: daemon without ino=: ESTALE on a "
		       "reused name not checked\n");
		(void)rdmafs_unpin(pinned, &r, 0);
	}
	/* through the files themselves: their names are not to be trusted */
	(void)fsetxattr(pinned, "user.rdmafs.unpin", "all", 3, 0);
	(void)fsetxattr(other, "user.rdmafs.unpin", "all", 3, 0);
	close(other);
	close(pinned);
}
END_TEST

/* ================= mount, listing, status ================= */

/* The value of @key in the status text @st, or NULL. */
static const char *raw_value(const char *st, const char *key, char *buf,
			     size_t size)
{
	size_t klen = strlen(key);
	const char *l;

	for (l = st; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, key, klen) && l[klen] == '=') {
			size_t n = strcspn(l + klen + 1, "\n");

			snprintf(buf, size, "%.*s", (int)n, l + klen + 1);
			return buf;
		}
	return NULL;
}

START_TEST(test_mount_status)
{
	struct rdmafs_range r[2] = { R(0, 4096), R(8192, 4096) };
	struct rdmafs_status *st;
	struct rdmafs_mount *m;
	char raw[4096], v[256], want[64];
	const char *sub;
	ssize_t len;
	size_t i, lines = 0;
	int fd = make_file("status", "f", 16 * KIB, 0644);

	ck_assert_int_eq(rdmafs_pin(fd, r, 2, 0), 0);
	/* any path inside the mount names the mount */
	sub = mp("status/f");
	ck_assert_int_eq(rdmafs_mount_open(sub, &m), 0);
	ck_assert_str_eq(rdmafs_mount_path(m), M.mountpoint);
	rdmafs_mount_close(m);
	ck_assert_int_eq(rdmafs_mount_open(M.mountpoint, &m), 0);
	ck_assert_str_eq(rdmafs_mount_path(m), M.mountpoint);
	ck_assert_int_eq(rdmafs_mount_status(NULL, &st), -EINVAL);

	errno = 4242;
	ck_assert_int_eq(rdmafs_mount_status(m, &st), 0);
	ck_assert_int_eq(errno, 4242);
	len = getxattr(M.mountpoint, STATUS, raw, sizeof(raw) - 1);
	ck_assert_int_gt(len, 0);
	raw[len] = '\0';
	for (i = 0; i < (size_t)len; i++)
		lines += raw[i] == '\n';
	/* every key, in the daemon's order, known or not */
	ck_assert_uint_eq(st->nfields, lines);
	for (i = 0; i < st->nfields; i++) {
		ck_assert_ptr_nonnull(
			raw_value(raw, st->fields[i].key, v, sizeof(v)));
		ck_assert_str_eq(st->fields[i].value, v);
	}
	ck_assert_str_eq(st->fields[0].key, "version");
	ck_assert_str_eq(st->version, raw_value(raw, "version", v, sizeof(v)));
#define EQ_NUM(field, key)                                                     \
	do {                                                                   \
		snprintf(want, sizeof(want), "%" PRIu64, (uint64_t)st->field); \
		ck_assert_str_eq(want, raw_value(raw, key, v, sizeof(v)));     \
	} while (0)
	EQ_NUM(pins, "pins");
	EQ_NUM(files_pinned, "files_pinned");
	EQ_NUM(max_pins, "max_pins");
	EQ_NUM(max_pins_per_file, "max_pins_per_file");
	EQ_NUM(max_pins_per_user, "max_pins_per_user");
	EQ_NUM(break_timeout, "break_timeout");
	EQ_NUM(break_kill, "break_kill");
	EQ_NUM(refused, "refused");
	EQ_NUM(deferred, "deferred");
	EQ_NUM(broken, "broken");
	EQ_NUM(audited, "audited");
	EQ_NUM(copied, "copied");
#undef EQ_NUM
	ck_assert_int_ge(st->pins, 2);
	ck_assert_ptr_null(st->pins_error);
	ck_assert_uint_eq(st->max_pins_per_file, 512);
	ck_assert_str_eq(rdmafs_action_name(st->policy),
			 raw_value(raw, "policy", v, sizeof(v)));
	for (i = 0; i < RDMAFS_NCLASSES; i++)
		ck_assert_str_eq(
			rdmafs_action_name(st->action[i]),
			raw_value(raw, rdmafs_class_name(i), v, sizeof(v)));
	ck_assert_int_eq(st->action[RDMAFS_TRUNCATE], RDMAFS_REFUSE);
	rdmafs_status_free(st);
	rdmafs_status_free(NULL);

	ck_assert_int_eq(rdmafs_unpin(fd, NULL, 0), 0);
	rdmafs_mount_close(m);
	rdmafs_mount_close(NULL);
	close(fd);
}
END_TEST

START_TEST(test_mount_pins)
{
	struct rdmafs_range r = R(0, 4096);
	struct rdmafs_pin *p;
	struct rdmafs_mount *m;
	size_t n, i, seen = 0;
	int fd = make_file("list", "a b", 16 * KIB, 0644);

	ck_assert_int_eq(rdmafs_mount_open(M.mountpoint, &m), 0);
	ck_assert_int_eq(rdmafs_pin(fd, &r, 1, 0), 0);
	ck_assert_int_eq(rdmafs_mount_pins(m, &p, &n), 0);
	for (i = 0; i < n; i++) {
		if (strcmp(p[i].path, "list/a b"))
			continue;
		seen++;
		ck_assert_uint_eq(p[i].range.length, 4096);
		ck_assert_uint_eq(p[i].owner, 0);
		ck_assert_int_eq(p[i].holder, 0);
		ck_assert_int_gt(p[i].since, 1700000000);
	}
	ck_assert_uint_eq(seen, 1);
	rdmafs_pins_free(p, n);
	ck_assert_int_eq(rdmafs_unpin(fd, NULL, 0), 0);
	ck_assert_int_eq(rdmafs_mount_pins(m, &p, &n), 0);
	for (i = 0; i < n; i++)
		ck_assert_str_ne(p[i].path, "list/a b");
	rdmafs_pins_free(p, n);
	ck_assert_int_eq(rdmafs_mount_pins(NULL, &p, &n), -EINVAL);
	rdmafs_mount_close(m);
	close(fd);
}
END_TEST

/* Sessions: offered by the daemon; arguments checked (test-mount-session). */
START_TEST(test_sessions)
{
	struct rdmafs_session *s = (void *)1;
	struct rdmafs_notice nt;
	struct rdmafs_mount *m;
	rdmafs_hold_t h;

	ck_assert_int_eq(rdmafs_mount_open(M.mountpoint, &m), 0);
	ck_assert_int_eq(rdmafs_session_open(m, 0, &s), 0);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_ge(rdmafs_session_fd(s), 0);
	rdmafs_session_close(s);
	s = (void *)1;
	ck_assert_int_eq(rdmafs_session_open(NULL, 0, &s), -EINVAL);
	ck_assert_int_eq(rdmafs_session_open(m, 1, &s), -EINVAL);
	ck_assert_int_eq(rdmafs_session_fd(NULL), -EINVAL);
	ck_assert_int_eq(rdmafs_session_hold(
				 NULL, 0, &(struct rdmafs_range){ 0, 1 }, &h),
			 -EINVAL);
	ck_assert_int_eq(rdmafs_session_release(NULL, 1), -EINVAL);
	ck_assert_int_eq(rdmafs_session_next_notice(NULL, &nt), -EINVAL);
	rdmafs_session_close(NULL);
	rdmafs_mount_close(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mount-librdmafs");
	TCase *mn = tcase_create("main");
	SRunner *sr;
	int failed;

	harness_require_root_fuse();
	umask(022);
	leftovers_init("lib");

	tcase_add_unchecked_fixture(mn, main_setup, teardown);
	tcase_add_test(mn, test_names);
	tcase_add_test(mn, test_pin_file_pins_unpin);
	tcase_add_test(mn, test_unpin_escaped_name);
	tcase_add_test(mn, test_einval);
	tcase_add_test(mn, test_enotsup);
	tcase_add_test(mn, test_eperm);
	tcase_add_test(mn, test_estale);
	tcase_add_test(mn, test_mount_status);
	tcase_add_test(mn, test_mount_pins);
	tcase_add_test(mn, test_sessions);
	tcase_set_timeout(mn, 60);
	suite_add_tcase(s, mn);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	harness_cleanup_leftovers(leftovers);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
