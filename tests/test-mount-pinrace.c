// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Pins racing layout changes (issue 7 review, DESIGN §4: a pin makes the
 * range's block map stable before it returns).
 *
 * A layout change that checked "not pinned" used to be able to run while
 * a pin was being stabilised and inserted, so that an acknowledged pin
 * could cover shared extents (a reflink from the file: the kernel locks
 * only the destination of a copy, so setxattr on the source is not
 * serialised with it) or holes (a truncate).  Here a thread loops the
 * layout change through the mount while the main thread pins and unpins,
 * and after every acknowledged pin FIEMAP on the backing file must show
 * the pinned range written, allocated and not shared.
 *
 * Also: a pinned file deleted behind the mount must not leave its pins
 * to a new file that gets its inode number.
 *
 * Needs the harness's XFS backing (reflink): skips (77) without it.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "pin-test-util.h"

#define MIB (1024L * 1024L)
#define FSIZE (4 * MIB)
/* Pin/unpin rounds, bounded in time too (the machine may be busy). */
#define ROUNDS 500
#define SECONDS 12

#define BAD                                               \
	(FIEMAP_EXTENT_SHARED | FIEMAP_EXTENT_UNWRITTEN | \
	 FIEMAP_EXTENT_DELALLOC | FIEMAP_EXTENT_UNKNOWN | \
	 FIEMAP_EXTENT_DATA_INLINE | FIEMAP_EXTENT_NOT_ALIGNED)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * NULL when [0, len) of @path is covered by written extents of its own,
 * else what is wrong (static text).
 */
static const char *unstable_map(const char *path, uint64_t len)
{
	static char why[128];
	struct fiemap *fm;
	uint64_t pos = 0;
	unsigned int i;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	fm = calloc(1, sizeof(*fm) + 512 * sizeof(struct fiemap_extent));
	ck_assert_ptr_nonnull(fm);
	fm->fm_start = 0;
	fm->fm_length = len;
	fm->fm_extent_count = 512;
	ck_assert_int_eq(ioctl(fd, FS_IOC_FIEMAP, fm), 0);
	close(fd);
	why[0] = '\0';
	for (i = 0; i < fm->fm_mapped_extents && pos < len; i++) {
		struct fiemap_extent *x = &fm->fm_extents[i];

		if (x->fe_logical > pos) {
			snprintf(why, sizeof(why), "hole at %llu",
				 (unsigned long long)pos);
			break;
		}
		if (x->fe_flags & BAD) {
			snprintf(why, sizeof(why), "extent at %llu flags %#x",
				 (unsigned long long)x->fe_logical,
				 x->fe_flags);
			break;
		}
		pos = x->fe_logical + x->fe_length;
	}
	if (!why[0] && pos < len)
		snprintf(why, sizeof(why), "hole from %llu",
			 (unsigned long long)pos);
	free(fm);
	return why[0] ? why : NULL;
}

struct racer {
	const struct mnt *m;
	int kind; /* 0: reflink from the file; 1: truncate shrink/grow */
	volatile bool stop;
	long done;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	int s = open(mnt_path(r->m, "s"), O_RDWR | O_CLOEXEC);
	int d = open(mnt_path(r->m, "d"), O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (s < 0 || d < 0)
		return NULL;
	while (!r->stop) {
		if (r->kind == 0) {
			loff_t a = 0, b = 0;

			(void)copy_file_range(s, &a, d, &b, FSIZE, 0);
		} else {
			/*
			 * Half the file cut and grown back as a hole.
			 * Refused while pinned (policy=refuse): fine.
			 */
			(void)ftruncate(s, r->done & 1 ? FSIZE : FSIZE / 2);
		}
		r->done++;
	}
	close(s);
	close(d);
	return NULL;
}

static void pin_race(int kind, const char *range, const char *opts)
{
	struct mnt m;
	struct racer r = { .m = &m, .kind = kind };
	pthread_t th;
	int i, acked = 0, err;
	double end;
	char bk[PATH_MAX];

	ck_assert_int_eq(mnt_setup(&m, opts, false), 0);
	put_random(mnt_path(&m, "s"), FSIZE, 7);
	snprintf(bk, sizeof(bk), "%s", bk_path(&m, "s"));
	ck_assert_int_eq(pthread_create(&th, NULL, race, &r), 0);
	end = now_s() + SECONDS;
	for (i = 0; i < ROUNDS && now_s() < end; i++) {
		struct stat st;
		const char *why;

		err = pin(mnt_path(&m, "s"), range);
		if (err)
			continue; /* EINVAL: truncated to 0 first */
		acked++;
		ck_assert_int_eq(stat(bk, &st), 0);
		ck_assert_msg(st.st_size >= FSIZE,
			      "round %d: pinned 0+4M over a file of %lld", i,
			      (long long)st.st_size);
		why = unstable_map(bk, FSIZE);
		ck_assert_msg(!why, "round %d: acknowledged pin over %s", i,
			      why);
		ck_assert_int_eq(unpin(mnt_path(&m, "s"), range), 0);
	}
	r.stop = true;
	pthread_join(th, NULL);
	fprintf(stderr, "%s: %d rounds, %d pins acknowledged, %ld racing ops\n",
		kind ? "truncate" : "reflink", i, acked, r.done);
	/* Not a test of nothing: enough pins met the racer. */
	ck_assert_int_ge(acked, 5);
	ck_assert_int_ge(r.done, 10);
	ck_assert_int_eq(mnt_teardown(&m), 0);
}

START_TEST(test_reflink_race)
{
	pin_race(0, "all", "policy=refuse");
}
END_TEST

/*
 * Copies from the pinned file wait, and are performed by the mediator
 * once the pin is gone: while the next pin is being made.
 */
START_TEST(test_reflink_defer_race)
{
	pin_race(0, "all", "policy=refuse,reflink=defer,break_timeout=10");
}
END_TEST

START_TEST(test_truncate_race)
{
	pin_race(1, "0+4M", "policy=refuse");
}
END_TEST

/*
 * A pinned file deleted behind the mount, and a new file given its inode
 * number (XFS hands a freed number out again soon): the new file has no
 * pins, and its first pin is stored alone.
 */
START_TEST(test_inode_reuse)
{
	struct mnt m;
	struct stat old, st;
	char name[64], buf[4096];
	ssize_t n;
	int i, found = -1;

	ck_assert_int_eq(mnt_setup(&m, NULL, false), 0);
	put_random(mnt_path(&m, "old"), 8192, 1);
	ck_assert_int_eq(pin(mnt_path(&m, "old"), "0+4096"), 0);
	ck_assert_int_eq(stat(bk_path(&m, "old"), &old), 0);
	/* Behind the mount: the daemon is never told. */
	ck_assert_int_eq(unlink(bk_path(&m, "old")), 0);
	/*
	 * The kernel forgets the mount's inode, so the daemon closes its
	 * descriptors of it and XFS can free the number.
	 */
	ck_assert_int_eq(harness_sh("sync; echo 2 > /proc/sys/vm/drop_caches"),
			 0);
	for (i = 0; i < 200 && found < 0; i++) {
		snprintf(name, sizeof(name), "new%d", i);
		put_random(bk_path(&m, name), 8192, 2);
		ck_assert_int_eq(stat(bk_path(&m, name), &st), 0);
		if (st.st_ino == old.st_ino)
			found = i;
	}
	ck_assert_msg(found >= 0, "XFS did not reuse the inode number");
	snprintf(name, sizeof(name), "new%d", found);
	/* Looked up through the mount: none of the dead file's pins. */
	n = getxattr(mnt_path(&m, name), "user.rdmafs.pin", buf, sizeof(buf));
	ck_assert_msg(n < 0 && errno == ENODATA,
		      "new file shows the dead file's pins: %.*s",
		      (int)(n > 0 ? n : 0), buf);
	ck_assert_int_eq(pin(mnt_path(&m, name), "4096+4096"), 0);
	n = getxattr(mnt_path(&m, name), "user.rdmafs.pin", buf,
		     sizeof(buf) - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_msg(strncmp(buf, "4096+4096 ", 10) == 0 &&
			      !strchr(buf, '\n')[1],
		      "pins of the new file: %s", buf);
	/* What is stored: the new pin alone, after a remount too. */
	ck_assert_int_eq(mnt_stop(&m, false), 0);
	ck_assert_int_eq(mnt_start(&m, NULL), 0);
	n = getxattr(mnt_path(&m, name), "user.rdmafs.pin", buf,
		     sizeof(buf) - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_msg(strncmp(buf, "4096+4096 ", 10) == 0 &&
			      !strchr(buf, '\n')[1],
		      "stored pins of the new file: %s", buf);
	ck_assert_int_eq(mnt_teardown(&m), 0);
}
END_TEST

/*
 * An unpin whose store fails leaves every pin in place, in memory and on
 * disk (stored first, removed after).  The store is made to fail with
 * the backing file immutable.
 */
START_TEST(test_unpin_store_fails)
{
	struct mnt m;
	char buf[4096];
	ssize_t n;

	ck_assert_int_eq(mnt_setup(&m, NULL, false), 0);
	put_random(mnt_path(&m, "f"), 8192, 3);
	ck_assert_int_eq(pin(mnt_path(&m, "f"), "0+4096"), 0);
	ck_assert_int_eq(pin(mnt_path(&m, "f"), "4096+4096"), 0);
	ck_assert_int_eq(harness_sh("chattr +i '%s'", bk_path(&m, "f")), 0);
	ck_assert_int_ne(unpin(mnt_path(&m, "f"), "0+4096"), 0);
	ck_assert_int_ne(unpin(mnt_path(&m, "f"), "all"), 0);
	ck_assert_int_eq(harness_sh("chattr -i '%s'", bk_path(&m, "f")), 0);
	n = getxattr(mnt_path(&m, "f"), "user.rdmafs.pin", buf,
		     sizeof(buf) - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_msg(strstr(buf, "0+4096 ") && strstr(buf, "4096+4096 "),
		      "pins after failed unpins: %s", buf);
	/* Both still stored: after a restart they are both there. */
	ck_assert_int_eq(mnt_stop(&m, false), 0);
	ck_assert_int_eq(mnt_start(&m, NULL), 0);
	n = getxattr(mnt_path(&m, "f"), "user.rdmafs.pin", buf,
		     sizeof(buf) - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_msg(strstr(buf, "0+4096 ") && strstr(buf, "4096+4096 "),
		      "pins after restart: %s", buf);
	ck_assert_int_eq(unpin(mnt_path(&m, "f"), "0+4096"), 0);
	ck_assert_int_eq(mnt_teardown(&m), 0);
}
END_TEST

/*
 * A pinned file the index lost (its log deleted) is recorded again at its
 * lookup.  When that record cannot be written (the backing filesystem is
 * full), the lookup fails rather than leave a pinned file that a listing
 * after a restart would not show (DESIGN §11); once there is room, the
 * lookup records it and the listing shows it.
 */
START_TEST(test_index_repair_fails)
{
	struct mnt m;
	struct statvfs sv;
	struct stat st;
	char buf[65536];
	ssize_t n;
	int fd, i, err;

	ck_assert_int_eq(mnt_setup(&m, NULL, false), 0);
	put_random(mnt_path(&m, "p"), 8192, 4);
	ck_assert_int_eq(pin(mnt_path(&m, "p"), "0+4096"), 0);
	ck_assert_int_eq(mnt_stop(&m, false), 0);
	/* Emptied: the index no longer names the file, and needs a block. */
	ck_assert_int_eq(truncate(bk_path(&m, ".rdmafs/index"), 0), 0);
	/* Full: a big preallocated filler, then small files to the end. */
	ck_assert_int_eq(statvfs(m.backing, &sv), 0);
	fd = open(bk_path(&m, "fill"), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	(void)fallocate(fd, 0, 0, (off_t)(sv.f_bavail * sv.f_frsize));
	close(fd);
	/* The last blocks, by appending: a new inode might need a chunk. */
	memset(buf, 0, 4096);
	fd = open(bk_path(&m, "fill.tail"), O_CREAT | O_WRONLY | O_CLOEXEC,
		  0600);
	ck_assert_int_ge(fd, 0);
	for (i = 0; i < 100000 && write(fd, buf, 4096) == 4096; i++)
		;
	(void)fsync(fd);
	while (write(fd, buf, 4096) == 4096)
		;
	close(fd);
	ck_assert_int_eq(mnt_start(&m, NULL), 0);
	errno = 0;
	err = stat(mnt_path(&m, "p"), &st);
	ck_assert_msg(err < 0,
		      "a pinned file the index cannot record was looked up");
	ck_assert_int_eq(errno, ENOSPC);
	/* Room again: the lookup records it, the listing shows it. */
	ck_assert_int_eq(harness_sh("rm -f '%s'/fill*", m.backing), 0);
	ck_assert_int_eq(stat(mnt_path(&m, "p"), &st), 0);
	n = getxattr(m.mountpoint, "user.rdmafs.pins", buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_msg(strstr(buf, "p 0+4096"), "listing: %s", buf);
	ck_assert_int_eq(mnt_teardown(&m), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mount-pinrace");
	TCase *t = tcase_create("race");
	SRunner *sr;
	struct mnt m;
	int failed;

	harness_require_root_fuse();
	if (harness_sh("command -v chattr >/dev/null") != 0) {
		fprintf(stderr, "skip: no chattr\n");
		return SKIP_CODE;
	}
	/* Reflink and inode-number reuse are XFS's: skip without it. */
	if (mnt_setup(&m, NULL, false) != 0)
		return EXIT_FAILURE;
	if (!m.xfs) {
		mnt_teardown(&m);
		fprintf(stderr, "skip: no XFS backing\n");
		return SKIP_CODE;
	}
	mnt_teardown(&m);
	tcase_set_timeout(t, 90);
	tcase_add_test(t, test_reflink_race);
	tcase_add_test(t, test_reflink_defer_race);
	tcase_add_test(t, test_truncate_race);
	tcase_add_test(t, test_inode_reuse);
	tcase_add_test(t, test_unpin_store_fails);
	tcase_add_test(t, test_index_repair_fails);
	suite_add_tcase(s, t);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
