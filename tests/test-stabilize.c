// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for block-map stabilisation (lib/core/stabilize.c) on a real
 * XFS with reflink, without rdmafs: stab_range() allocates holes, writes
 * unwritten extents and unshares reflinked ones, only in its range and
 * without changing a byte; stab_end(undo) punches back exactly the holes
 * it filled; stab_verify() sees holes, unwritten, shared and delayed
 * extents.  FIEMAP is the witness throughout.
 *
 * The XFS is a loop-mounted sparse image, made once in a mount namespace
 * of the test's own (scratch-test-util.h): however the test ends, the
 * mount and its loop device go with the process.  Needs root, mkfs.xfs
 * and a loop device; exits 77 without them.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "crash-test-util.h"
#include "harness.h"
#include "hash-test-util.h"
#include "pin-test-util.h"
#include "scratch-test-util.h"
#include "core/stabilize.h"

#define KIB 1024ull
#define MIB (1024ull * 1024ull)

static char scratch[PATH_MAX], mnt[PATH_MAX + 8];
static uint64_t bsize;

static const char *path(const char *name)
{
	static char p[2][PATH_MAX + 64];
	static int i;

	i ^= 1;
	snprintf(p[i], sizeof(p[i]), "%s/%s", mnt, name);
	return p[i];
}

static int open_rw(const char *name)
{
	int fd = open(path(name), O_RDWR | O_CLOEXEC);

	ck_assert_msg(fd >= 0, "open %s: %s", name, strerror(errno));
	return fd;
}

/* A new empty file of @size bytes: all hole. */
static int sparse(const char *name, uint64_t size)
{
	int fd = open(path(name), O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
	return fd;
}

static void put_at(int fd, uint64_t off, uint64_t len, unsigned char c)
{
	unsigned char *b = malloc(len);

	ck_assert_ptr_nonnull(b);
	memset(b, c, len);
	ck_assert_int_eq(pwrite(fd, b, len, (off_t)off), (ssize_t)len);
	ck_assert_int_eq(fsync(fd), 0);
	free(b);
}

/*
 * What FIEMAP says about [off, off + len): the bytes not covered by any
 * extent (holes), and the OR of the flags of the extents that overlap.
 */
struct mapinfo {
	uint64_t hole;
	uint32_t flags;
};

static struct mapinfo map(int fd, uint64_t off, uint64_t len)
{
	struct fiemap *fm =
		calloc(1, sizeof(*fm) + 64 * sizeof(fm->fm_extents[0]));
	struct mapinfo mi = { 0, 0 };
	uint64_t pos = off, end = off + len;
	unsigned int i;

	ck_assert_ptr_nonnull(fm);
	while (pos < end) {
		memset(fm, 0, sizeof(*fm));
		fm->fm_start = pos;
		fm->fm_length = end - pos;
		fm->fm_flags = FIEMAP_FLAG_SYNC;
		fm->fm_extent_count = 64;
		ck_assert_int_eq(ioctl(fd, FS_IOC_FIEMAP, fm), 0);
		if (fm->fm_mapped_extents == 0)
			break;
		for (i = 0; i < fm->fm_mapped_extents && pos < end; i++) {
			struct fiemap_extent *x = &fm->fm_extents[i];
			uint64_t s = x->fe_logical, e = s + x->fe_length;

			if (e <= pos)
				continue;
			if (s > pos)
				mi.hole += (s < end ? s : end) - pos;
			if (s < end)
				mi.flags |= x->fe_flags;
			pos = e;
		}
		if (fm->fm_extents[fm->fm_mapped_extents - 1].fe_flags &
		    FIEMAP_EXTENT_LAST)
			break;
	}
	if (pos < end)
		mi.hole += end - pos;
	free(fm);
	return mi;
}

/* [off, off + len) is plain written extents of the file's own. */
static void expect_stable(int fd, uint64_t off, uint64_t len)
{
	struct mapinfo mi = map(fd, off, len);

	ck_assert_msg(mi.hole == 0, "%" PRIu64 " bytes of holes", mi.hole);
	ck_assert_msg(!(mi.flags & CT_UNSTABLE), "flags %#x", mi.flags);
	ck_assert_uint_eq(stable_bytes(fd, off, len), len);
	ck_assert_int_eq(stab_verify(fd, off, len), 0);
}

static uint64_t blocks(int fd)
{
	struct stat st;

	ck_assert_int_eq(fstat(fd, &st), 0);
	return (uint64_t)st.st_blocks * 512;
}

static uint64_t size_of(int fd)
{
	struct stat st;

	ck_assert_int_eq(fstat(fd, &st), 0);
	return (uint64_t)st.st_size;
}

static int stabilise(int fd, uint64_t off, uint64_t len, bool undo)
{
	struct stab st;
	int err;

	ck_assert_int_eq(stab_begin(&st, fd), 0);
	err = stab_range(&st, off, len);
	stab_end(&st, undo);
	return err;
}

/* ---- allocation ---- */

START_TEST(test_sparse_range_allocated)
{
	int fd = sparse("sparse", 4 * MIB);
	uint64_t h;

	put_at(fd, MIB, 64 * KIB, 0xa5);
	h = fnv(path("sparse"));
	ck_assert_uint_eq(map(fd, 0, 4 * MIB).hole, 4 * MIB - 64 * KIB);
	ck_assert_int_eq(stab_verify(fd, 0, 4 * MIB), -EAGAIN);
	ck_assert_int_eq(stabilise(fd, 512 * KIB, 2 * MIB, false), 0);
	expect_stable(fd, 512 * KIB, 2 * MIB);
	/* Only the range: what lies around it is still a hole. */
	ck_assert_uint_eq(map(fd, 0, 512 * KIB).hole, 512 * KIB);
	ck_assert_uint_eq(map(fd, 2560 * KIB, 1536 * KIB).hole, 1536 * KIB);
	ck_assert_uint_eq(blocks(fd), 2 * MIB);
	ck_assert_uint_eq(fnv(path("sparse")), h);
	ck_assert_uint_eq(size_of(fd), 4 * MIB);
	close(fd);
}
END_TEST

/* An unaligned range is stabilised over the whole blocks it touches. */
START_TEST(test_unaligned_range)
{
	int fd = sparse("unaligned", MIB);
	uint64_t h = fnv(path("unaligned"));

	ck_assert_int_eq(stabilise(fd, bsize + 1, 2 * bsize - 2, false), 0);
	expect_stable(fd, bsize, 2 * bsize);
	ck_assert_uint_eq(blocks(fd), 2 * bsize);
	ck_assert_uint_eq(fnv(path("unaligned")), h);
	/* An empty range does nothing. */
	ck_assert_int_eq(stabilise(fd, 8 * bsize, 0, false), 0);
	ck_assert_uint_eq(blocks(fd), 2 * bsize);
	close(fd);
}
END_TEST

START_TEST(test_unwritten_made_written)
{
	int fd = sparse("prealloc", 0);

	ck_assert_int_eq(fallocate(fd, 0, 0, (off_t)(2 * MIB)), 0);
	ck_assert(map(fd, 0, 2 * MIB).flags & FIEMAP_EXTENT_UNWRITTEN);
	ck_assert_int_eq(stab_verify(fd, 0, 2 * MIB), -EAGAIN);
	ck_assert_int_eq(stabilise(fd, 0, MIB, false), 0);
	expect_stable(fd, 0, MIB);
	/* The rest is still unwritten; the whole reads zeros. */
	ck_assert(map(fd, MIB, MIB).flags & FIEMAP_EXTENT_UNWRITTEN);
	ck_assert_uint_eq(blocks(fd), 2 * MIB);
	ck_assert_uint_eq(size_of(fd), 2 * MIB);
	close(fd);
	fd = sparse("zeros", 2 * MIB);
	ck_assert_uint_eq(fnv(path("prealloc")), fnv(path("zeros")));
	close(fd);
}
END_TEST

/* ---- reflinks ---- */

START_TEST(test_reflink_unshared)
{
	uint64_t ha, hb;
	int a, b;

	put_random(path("orig"), 2 * MIB, 7);
	a = open_rw("orig");
	b = open(path("clone"), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	ck_assert_int_ge(b, 0);
	ck_assert_int_eq(ioctl(b, FICLONE, a), 0);
	ck_assert(map(a, 0, 2 * MIB).flags & FIEMAP_EXTENT_SHARED);
	ck_assert_int_eq(stab_verify(a, 0, 2 * MIB), -EAGAIN);
	ha = fnv(path("orig"));
	hb = fnv(path("clone"));
	ck_assert_uint_eq(ha, hb);

	ck_assert_int_eq(stabilise(a, 512 * KIB, MIB, false), 0);
	expect_stable(a, 512 * KIB, MIB);
	/* Outside the range, still shared; the clone keeps its data. */
	ck_assert(map(a, 0, 512 * KIB).flags & FIEMAP_EXTENT_SHARED);
	ck_assert(map(a, 1536 * KIB, 512 * KIB).flags & FIEMAP_EXTENT_SHARED);
	ck_assert(map(b, 0, 512 * KIB).flags & FIEMAP_EXTENT_SHARED);
	ck_assert(!(map(b, 512 * KIB, MIB).flags & FIEMAP_EXTENT_SHARED));
	ck_assert_int_eq(stab_verify(a, 0, 2 * MIB), -EAGAIN);
	ck_assert_uint_eq(fnv(path("orig")), ha);
	ck_assert_uint_eq(fnv(path("clone")), hb);
	/* A write to the clone moves its blocks, not the stable ones. */
	put_at(b, 600 * KIB, 4 * KIB, 0);
	expect_stable(a, 512 * KIB, MIB);
	ck_assert_uint_eq(fnv(path("orig")), ha);
	close(a);
	close(b);
}
END_TEST

/* ---- undo ---- */

/*
 * [0,64K) data, [64K,128K) hole, [128K,192K) unwritten, [192K,256K)
 * data, [256K,320K) hole: undo gives back the two holes, and only them.
 */
START_TEST(test_undo_punches_exactly_the_holes)
{
	int fd = sparse("mixed", 320 * KIB);
	uint64_t h;

	put_at(fd, 0, 64 * KIB, 1);
	ck_assert_int_eq(
		fallocate(fd, FALLOC_FL_KEEP_SIZE, 128 * KIB, 64 * KIB), 0);
	put_at(fd, 192 * KIB, 64 * KIB, 2);
	h = fnv(path("mixed"));
	ck_assert_uint_eq(blocks(fd), 192 * KIB);

	ck_assert_int_eq(stabilise(fd, 0, 320 * KIB, true), 0);
	ck_assert_uint_eq(map(fd, 64 * KIB, 64 * KIB).hole, 64 * KIB);
	ck_assert_uint_eq(map(fd, 256 * KIB, 64 * KIB).hole, 64 * KIB);
	ck_assert_uint_eq(map(fd, 0, 64 * KIB).hole, 0);
	ck_assert_uint_eq(map(fd, 192 * KIB, 64 * KIB).hole, 0);
	/* The unwritten part stays allocated, written with zeros. */
	expect_stable(fd, 128 * KIB, 64 * KIB);
	ck_assert_uint_eq(blocks(fd), 192 * KIB);
	ck_assert_uint_eq(fnv(path("mixed")), h);

	/* Without undo, all of it stays. */
	ck_assert_int_eq(stabilise(fd, 0, 320 * KIB, false), 0);
	expect_stable(fd, 0, 320 * KIB);
	ck_assert_uint_eq(blocks(fd), 320 * KIB);
	ck_assert_uint_eq(fnv(path("mixed")), h);
	close(fd);
}
END_TEST

/* Two ranges in one stabilisation: undo gives back both. */
START_TEST(test_undo_two_ranges)
{
	int fd = sparse("two", MIB);

	put_at(fd, 0, 4 * KIB, 3);
	{
		struct stab st;

		ck_assert_int_eq(stab_begin(&st, fd), 0);
		ck_assert_int_eq(stab_range(&st, 64 * KIB, 64 * KIB), 0);
		ck_assert_int_eq(stab_range(&st, 512 * KIB, 128 * KIB), 0);
		expect_stable(fd, 64 * KIB, 64 * KIB);
		expect_stable(fd, 512 * KIB, 128 * KIB);
		ck_assert_uint_eq(blocks(fd), 196 * KIB);
		stab_end(&st, true);
	}
	ck_assert_uint_eq(blocks(fd), 4 * KIB);
	ck_assert_uint_eq(map(fd, 4 * KIB, MIB - 4 * KIB).hole, MIB - 4 * KIB);
	close(fd);
}
END_TEST

/* ---- verify ---- */

START_TEST(test_verify)
{
	int fd = sparse("v", MIB), b, pfd[2];

	put_at(fd, 0, 256 * KIB, 9);
	ck_assert_int_eq(stab_verify(fd, 0, 256 * KIB), 0);
	ck_assert_int_eq(stab_verify(fd, 0, 0), 0);
	/* A hole, at the end or in the middle. */
	ck_assert_int_eq(stab_verify(fd, 0, 256 * KIB + 1), -EAGAIN);
	ck_assert_int_eq(stab_verify(fd, 512 * KIB, 4 * KIB), -EAGAIN);
	ck_assert_int_eq(fallocate(fd,
				   FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				   64 * KIB, 4 * KIB),
			 0);
	ck_assert_int_eq(stab_verify(fd, 0, 256 * KIB), -EAGAIN);
	ck_assert_int_eq(stab_verify(fd, 0, 64 * KIB), 0);
	ck_assert_int_eq(stab_verify(fd, 68 * KIB, 188 * KIB), 0);
	/* Unwritten. */
	ck_assert_int_eq(fallocate(fd, FALLOC_FL_KEEP_SIZE, 64 * KIB, 4 * KIB),
			 0);
	ck_assert_int_eq(stab_verify(fd, 60 * KIB, 8 * KIB), -EAGAIN);
	/* Shared, in one page of the range. */
	b = open(path("vclone"), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	ck_assert_int_ge(b, 0);
	{
		struct file_clone_range r = { .src_fd = fd,
					      .src_offset = 128 * KIB,
					      .src_length = 4 * KIB,
					      .dest_offset = 0 };

		ck_assert_int_eq(ioctl(b, FICLONERANGE, &r), 0);
	}
	ck_assert_int_eq(stab_verify(fd, 68 * KIB, 188 * KIB), -EAGAIN);
	ck_assert_int_eq(stab_verify(fd, 132 * KIB, 124 * KIB), 0);
	close(b);
	/*
	 * Written but not written back: delayed allocation.  Background
	 * writeback (a busy machine) may flush it first: one of three
	 * fresh files must be caught delayed.
	 */
	{
		char buf[4096] = { 1 };
		int d, k, delayed = 0;

		for (k = 0; k < 3 && !delayed; k++) {
			d = sparse("delalloc", 0);
			ck_assert_int_eq(write(d, buf, sizeof(buf)),
					 sizeof(buf));
			delayed = stab_verify(d, 0, sizeof(buf)) == -EAGAIN;
			ck_assert_int_eq(fsync(d), 0);
			ck_assert_int_eq(stab_verify(d, 0, sizeof(buf)), 0);
			close(d);
		}
		ck_assert(delayed);
	}
	/* No FIEMAP at all. */
	ck_assert_int_eq(pipe(pfd), 0);
	ck_assert_int_eq(stab_verify(pfd[0], 0, 4096), -EOPNOTSUPP);
	close(pfd[0]);
	close(pfd[1]);
	close(fd);
}
END_TEST

/* Stabilise, then undo the work behind its back: verify notices. */
START_TEST(test_verify_after_stabilise)
{
	int fd = sparse("redo", MIB), c;

	ck_assert_int_eq(stabilise(fd, 0, MIB, false), 0);
	ck_assert_int_eq(stab_verify(fd, 0, MIB), 0);
	c = open(path("redo-clone"), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	ck_assert_int_ge(c, 0);
	ck_assert_int_eq(ioctl(c, FICLONE, fd), 0);
	ck_assert_int_eq(stab_verify(fd, 0, MIB), -EAGAIN);
	/* Stabilised again: unshared again. */
	ck_assert_int_eq(stabilise(fd, 0, MIB, false), 0);
	expect_stable(fd, 0, MIB);
	close(c);
	close(fd);
}
END_TEST

/* ---- edges ---- */

/*
 * A range reaching past the end of the file is refused before anything
 * changes: stabilising there would grow the file (zeros written past
 * its end), its size and blocks stay as they were.
 */
START_TEST(test_range_beyond_eof)
{
	int fd = sparse("eof", 0);
	uint64_t h, b;

	put_at(fd, 0, 32 * KIB, 4);
	ck_assert_int_eq(ftruncate(fd, 64 * KIB), 0);
	h = fnv(path("eof"));
	b = blocks(fd);
	ck_assert_int_eq(stabilise(fd, 32 * KIB, 128 * KIB, false), -EINVAL);
	ck_assert_int_eq(stabilise(fd, MIB, 64 * KIB, false), -EINVAL);
	ck_assert_int_eq(stabilise(fd, 64 * KIB + 1, 0, false), 0);
	ck_assert_int_eq(stabilise(fd, UINT64_MAX - 4095, 4096, false),
			 -EINVAL);
	ck_assert_uint_eq(size_of(fd), 64 * KIB);
	ck_assert_uint_eq(blocks(fd), b);
	ck_assert_uint_eq(fnv(path("eof")), h);
	/* Up to the end exactly is fine, the hole at the end included. */
	ck_assert_int_eq(stabilise(fd, 0, 64 * KIB, false), 0);
	expect_stable(fd, 0, 64 * KIB);
	ck_assert_uint_eq(size_of(fd), 64 * KIB);
	ck_assert_uint_eq(fnv(path("eof")), h);
	close(fd);
}
END_TEST

START_TEST(test_not_supported)
{
	char dir[PATH_MAX + 16];
	struct stab st;
	int fd;

	/* tmpfs has no FIEMAP: no map to show, so no stable one. */
	snprintf(dir, sizeof(dir), "%s/tmpfs", scratch);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(mount("tmpfs", dir, "tmpfs", 0, "size=4m"), 0);
	strcat(dir, "/f");
	fd = open(dir, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 64 * KIB), 0);
	ck_assert_int_eq(stab_begin(&st, fd), 0);
	ck_assert_int_eq(stab_range(&st, 0, 4096), -EOPNOTSUPP);
	stab_end(&st, true);
	ck_assert_int_eq(stab_verify(fd, 0, 4096), -EOPNOTSUPP);
	ck_assert_uint_eq(size_of(fd), 64 * KIB);
	close(fd);
	dir[strlen(dir) - 2] = '\0';
	ck_assert_int_eq(umount2(dir, MNT_DETACH), 0);
	/* stab_begin on a bad descriptor: nothing to end. */
	ck_assert_int_eq(stab_begin(&st, -1), -EBADF);
}
END_TEST

/* ---- the image ---- */

static void unmount_all(void)
{
	char tmpfs[PATH_MAX + 16];

	/* test_not_supported's, if it failed before unmounting it. */
	snprintf(tmpfs, sizeof(tmpfs), "%s/tmpfs", scratch);
	umount2(tmpfs, MNT_DETACH);
	umount2(mnt, MNT_DETACH);
	scratch_remove(scratch);
}

int main(void)
{
	Suite *s = suite_create("stabilize");
	TCase *tc = tcase_create("xfs");
	struct statfs sf;
	SRunner *sr;
	int failed, err;

	if (geteuid() != 0) {
		fprintf(stderr, "skip: needs root (loop mount)\n");
		return SKIP_CODE;
	}
	if (harness_sh("command -v mkfs.xfs losetup >/dev/null") != 0) {
		fprintf(stderr, "skip: mkfs.xfs or losetup missing\n");
		return SKIP_CODE;
	}
	err = scratch_private_mounts();
	if (err) {
		fprintf(stderr, "skip: no mount namespace: %s\n",
			strerror(-err));
		return SKIP_CODE;
	}
	/* No Check assertions out here: they work only inside tests. */
	snprintf(scratch, sizeof(scratch), "%s/rdmafs-stabilize.XXXXXX",
		 getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR")
						       : "/tmp");
	if (!mkdtemp(scratch) || (snprintf(mnt, sizeof(mnt), "%s/xfs", scratch),
				  mkdir(mnt, 0755)) < 0) {
		perror("test-stabilize: scratch directory");
		return EXIT_FAILURE;
	}
	/* The image goes once mounted: the loop device holds it. */
	if (harness_sh("truncate -s 512m '%s/img' && "
		       "mkfs.xfs -q -m reflink=1 '%s/img' >/dev/null 2>&1 && "
		       "mount -o loop '%s/img' '%s' 2>/dev/null",
		       scratch, scratch, scratch, mnt) != 0) {
		fprintf(stderr, "skip: no loop-mounted XFS here\n");
		unmount_all();
		return SKIP_CODE;
	}
	harness_sh("rm -f '%s/img'", scratch);
	if (statfs(mnt, &sf) < 0) {
		perror("test-stabilize: statfs");
		unmount_all();
		return EXIT_FAILURE;
	}
	bsize = (uint64_t)sf.f_bsize;

	tcase_add_test(tc, test_sparse_range_allocated);
	tcase_add_test(tc, test_unaligned_range);
	tcase_add_test(tc, test_unwritten_made_written);
	tcase_add_test(tc, test_reflink_unshared);
	tcase_add_test(tc, test_undo_punches_exactly_the_holes);
	tcase_add_test(tc, test_undo_two_ranges);
	tcase_add_test(tc, test_verify);
	tcase_add_test(tc, test_verify_after_stabilise);
	tcase_add_test(tc, test_range_beyond_eof);
	tcase_add_test(tc, test_not_supported);
	/* valgrind runs about 50 times slower */
	tcase_set_timeout(tc, 300);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	unmount_all();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
