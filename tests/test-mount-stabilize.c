// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Stabilisation's space (DESIGN §11, issue 7 item 6): pinning a range
 * needs no more free space than the range's holes and shared extents, and
 * a failed pin leaves nothing allocated that was not there before.
 *
 * One mount on the harness's XFS image (reflink on), nearly filled by a
 * preallocated filler file on the backing side before each test, so that
 * the free space is known to a few blocks.  Space is read with statfs
 * f_bfree on the backing filesystem; blocks with FIEMAP on the backing
 * file.  max_pins_per_file=2 makes a pin fail after its stabilisation.
 * Needs the XFS backing: skips (77) without it.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "pin-test-util.h"

#define MIB (1024L * 1024L)
/* What a pin may cost besides its blocks: the store xattr, the index. */
#define SLACK_BLOCKS 16

static struct mnt M;
static uint64_t bsize;

/* ---- space ---- */

static int syncfs_path(void)
{
	int fd = open(M.backing, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return -1;
	r = syncfs(fd);
	close(fd);
	return r;
}

static uint64_t bfree_now(void)
{
	struct statfs sf;

	ck_assert_int_eq(statfs(M.backing, &sf), 0);
	return (uint64_t)sf.f_bfree;
}

/*
 * The free blocks once the count settles: XFS frees unlinked files'
 * blocks in the background (inode inactivation), so read until two reads
 * 50 ms apart agree (for 5 s at most, on a busy machine).
 */
static uint64_t bfree(void)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	uint64_t a, b;
	int i;

	ck_assert_int_eq(syncfs_path(), 0);
	b = bfree_now();
	for (i = 0; i < 100; i++) {
		a = b;
		nanosleep(&ts, NULL);
		ck_assert_int_eq(syncfs_path(), 0);
		b = bfree_now();
		if (a == b)
			break;
	}
	return b;
}

static const char *filler(int i)
{
	static char p[PATH_MAX + 16];

	snprintf(p, sizeof(p), "%s/filler.%d", M.backing, i);
	return p;
}

/* The space back for a new test: the fillers of earlier ones go. */
static void unfill(void)
{
	int i;

	for (i = 0; i < 8; i++)
		unlink(filler(i));
}

/*
 * Leaves about @blocks free: preallocates fillers until the free count
 * is within a few blocks.  Returns the free count.
 */
static uint64_t fill_to(uint64_t blocks)
{
	uint64_t cur;
	int i, fd;

	unfill();
	cur = bfree();
	ck_assert_msg(cur > blocks + 1024, "only %" PRIu64 " blocks free", cur);
	for (i = 0; i < 8 && cur > blocks + 4; i++) {
		fd = open(filler(i), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
		ck_assert_int_ge(fd, 0);
		/* Metadata takes a few blocks of its own: approach. */
		ck_assert_int_eq(fallocate(fd, 0, 0,
					   (off_t)((cur - blocks - 2) * bsize)),
				 0);
		close(fd);
		cur = bfree();
	}
	ck_assert_msg(cur <= blocks + 4 && cur + 64 >= blocks,
		      "wanted %" PRIu64 " free blocks, have %" PRIu64, blocks,
		      cur);
	return cur;
}

/* ---- files ---- */

static const char *mp(const char *rel)
{
	static char p[4][PATH_MAX];
	static int k;

	k = (k + 1) % 4;
	strncpy(p[k], mnt_path(&M, rel), sizeof(p[k]) - 1);
	return p[k];
}

static const char *bp(const char *rel)
{
	static char p[4][PATH_MAX];
	static int k;

	k = (k + 1) % 4;
	strncpy(p[k], bk_path(&M, rel), sizeof(p[k]) - 1);
	return p[k];
}

static void put_sparse(const char *path, off_t size)
{
	put_file(path, "", 0, 0644);
	ck_assert_int_eq(truncate(path, size), 0);
}

static uint64_t blocks_of(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return (uint64_t)st.st_blocks * 512 / bsize;
}

/* Unpins everything of the caller on @rel and removes it. */
static void drop(const char *rel)
{
	unpin(mp(rel), "all");
	ck_assert_int_eq(unlink(mp(rel)), 0);
}

struct ext {
	uint64_t logical, physical, length;
	uint32_t flags;
};

/* The extents of a backing file (at most @max), synced first. */
static size_t extents(const char *path, struct ext *out, size_t max)
{
	struct fiemap *fm;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0, i;

	fm = calloc(1, sizeof(*fm) + max * sizeof(fm->fm_extents[0]));
	ck_assert_ptr_nonnull(fm);
	ck_assert_int_ge(fd, 0);
	fm->fm_start = 0;
	fm->fm_length = FIEMAP_MAX_OFFSET;
	fm->fm_flags = FIEMAP_FLAG_SYNC;
	fm->fm_extent_count = (uint32_t)max;
	ck_assert_int_eq(ioctl(fd, FS_IOC_FIEMAP, fm), 0);
	for (i = 0; i < fm->fm_mapped_extents; i++, n++)
		out[n] = (struct ext){ fm->fm_extents[i].fe_logical,
				       fm->fm_extents[i].fe_physical,
				       fm->fm_extents[i].fe_length,
				       fm->fm_extents[i].fe_flags };
	free(fm);
	close(fd);
	return n;
}

/* [0, size) of @path is covered by plain extents, none shared. */
static void expect_stable(const char *path, uint64_t size)
{
	struct ext x[256];
	size_t n = extents(path, x, 256), i;
	uint64_t pos = 0;

	for (i = 0; i < n && pos < size; i++) {
		ck_assert_msg(x[i].logical <= pos, "%s: hole at %" PRIu64, path,
			      pos);
		ck_assert_msg(!(x[i].flags & (FIEMAP_EXTENT_SHARED |
					      FIEMAP_EXTENT_UNWRITTEN |
					      FIEMAP_EXTENT_DELALLOC)),
			      "%s: extent at %" PRIu64 " has flags %#x", path,
			      x[i].logical, x[i].flags);
		pos = x[i].logical + x[i].length;
	}
	ck_assert_msg(pos >= size, "%s: mapped to %" PRIu64 " only", path, pos);
}

static uint64_t hash_of(const char *path)
{
	static unsigned char b[1 << 16];
	uint64_t h = 0xcbf29ce484222325ull;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, i;

	ck_assert_int_ge(fd, 0);
	while ((n = read(fd, b, sizeof(b))) > 0)
		for (i = 0; i < n; i++)
			h = (h ^ b[i]) * 0x100000001b3ull;
	ck_assert_int_eq(n, 0);
	close(fd);
	return h;
}

/* ================= tests ================= */

/*
 * A sparse 6 MiB range with 8 MiB free.  Before the fix the whole-range
 * unshare allocated the holes and the fallocate after it reserved the
 * range again: ENOSPC.
 */
START_TEST(test_sparse_range_fits)
{
	uint64_t before, after;

	unfill();

	put_sparse(mp("sparse"), 6 * MIB);
	before = fill_to(8 * MIB / bsize);
	ck_assert_int_eq(pin(mp("sparse"), "0+6M"), 0);
	after = bfree();
	expect_stable(bp("sparse"), 6 * MIB);
	ck_assert_uint_eq(blocks_of(bp("sparse")), 6 * MIB / bsize);
	ck_assert_msg(before - after <= 6 * MIB / bsize + SLACK_BLOCKS,
		      "the pin took %" PRIu64 " blocks", before - after);
	drop("sparse");
}
END_TEST

/*
 * A range larger than the free space fails with ENOSPC and gives every
 * block back, whether the whole need is seen up front (one range) or only
 * after an earlier range of the same value was allocated (two ranges).
 * Before the fix what was allocated before the failure stayed.
 */
START_TEST(test_too_big_leaves_nothing)
{
	uint64_t before;

	unfill();

	put_sparse(mp("big"), 16 * MIB);
	before = fill_to(8 * MIB / bsize);
	ck_assert_int_eq(pin(mp("big"), "0+16M"), ENOSPC);
	ck_assert_uint_eq(blocks_of(bp("big")), 0);
	ck_assert_uint_eq(bfree(), before);

	/* The first range fits, the second no longer does. */
	ck_assert_int_eq(pin(mp("big"), "0+6M,8M+6M"), ENOSPC);
	ck_assert_uint_eq(blocks_of(bp("big")), 0);
	ck_assert_uint_eq(bfree(), before);
	ck_assert_int_eq(getxattr(mp("big"), "user.rdmafs.pin", NULL, 0), -1);
	ck_assert_int_eq(errno, ENODATA);

	/* Just the free space: it may fit or not; a failure gives back. */
	ck_assert_int_eq(truncate(mp("big"), (off_t)(before * bsize)), 0);
	if (pin(mp("big"), "all") == 0) {
		expect_stable(bp("big"), before * bsize);
	} else {
		ck_assert_uint_eq(blocks_of(bp("big")), 0);
		ck_assert_uint_eq(bfree(), before);
	}
	drop("big");
}
END_TEST

/*
 * A pin refused after its range was stabilised (here by
 * max_pins_per_file) punches back the holes it allocated.
 */
START_TEST(test_refused_pin_gives_back)
{
	uint64_t before, blocks;

	unfill();

	put_sparse(mp("lim"), 4 * MIB);
	ck_assert_int_eq(pin(mp("lim"), "0+4K"), 0);
	ck_assert_int_eq(pin(mp("lim"), "8K+4K"), 0);
	blocks = blocks_of(bp("lim"));
	ck_assert_uint_eq(blocks, 2 * 4096 / bsize);
	before = bfree();
	ck_assert_int_eq(pin(mp("lim"), "1M+1M"), ENOSPC);
	ck_assert_uint_eq(blocks_of(bp("lim")), blocks);
	ck_assert_uint_eq(bfree(), before);
	/* Not on block boundaries: its partial blocks go back too. */
	ck_assert_int_eq(pin(mp("lim"), "1000001+1000000"), ENOSPC);
	ck_assert_uint_eq(blocks_of(bp("lim")), blocks);
	ck_assert_uint_eq(bfree(), before);
	/* The two pins are still there, on written blocks. */
	expect_stable(bp("lim"), 4096);
	drop("lim");
}
END_TEST

/*
 * A reflinked copy whose second half was rewritten since: only the first
 * half is shared, and only it is unshared (the second half's blocks stay
 * where they are), with 6 MiB free for an 8 MiB file.  Before the fix
 * the whole-range unshare reserved all 8 MiB: ENOSPC.
 */
START_TEST(test_reflink_unshares_shared_part_only)
{
	struct ext x[256], y[256];
	size_t n, m, i;
	uint64_t before, after, ha, hb;
	int st;

	unfill();

	put_random(bp("orig"), 8 * MIB, 7);
	st = harness_sh("cp --reflink=always '%s' '%s'", bp("orig"),
			bp("copy"));
	ck_assert_int_eq(st, 0);
	{
		int fd = open(bp("copy"), O_WRONLY | O_CLOEXEC);
		char *b = malloc(4 * MIB);

		ck_assert_int_ge(fd, 0);
		memset(b, 0x5a, 4 * MIB);
		ck_assert_int_eq(pwrite(fd, b, 4 * MIB, 4 * MIB), 4 * MIB);
		ck_assert_int_eq(fsync(fd), 0);
		close(fd);
		free(b);
	}
	n = extents(bp("copy"), x, 256);
	for (i = 0; i < n; i++) {
		bool shared = x[i].flags & FIEMAP_EXTENT_SHARED;

		ck_assert_msg(shared == (x[i].logical < 4 * MIB),
			      "extent at %" PRIu64 " flags %#x", x[i].logical,
			      x[i].flags);
	}
	ha = hash_of(bp("orig"));
	hb = hash_of(bp("copy"));

	before = fill_to(6 * MIB / bsize);
	ck_assert_int_eq(pin(mp("copy"), "all"), 0);
	after = bfree();
	expect_stable(bp("copy"), 8 * MIB);
	/* Unsharing copies 4 MiB: not less, and not the 8 MiB of the file. */
	ck_assert_msg(before - after >= 4 * MIB / bsize &&
			      before - after <=
				      (4 * MIB + MIB) / bsize + SLACK_BLOCKS,
		      "the pin took %" PRIu64 " blocks", before - after);
	/* The unshared half kept its blocks. */
	m = extents(bp("copy"), y, 256);
	for (i = 0; i < n; i++) {
		size_t j;
		bool found = false;

		if (x[i].logical < 4 * MIB)
			continue;
		for (j = 0; j < m && !found; j++)
			found = y[j].logical <= x[i].logical &&
				x[i].logical < y[j].logical + y[j].length &&
				y[j].physical + (x[i].logical - y[j].logical) ==
					x[i].physical;
		ck_assert_msg(found, "the block at %" PRIu64 " moved",
			      x[i].logical);
	}
	/* Nothing read differently, and the original is not shared now. */
	ck_assert_uint_eq(hash_of(bp("orig")), ha);
	ck_assert_uint_eq(hash_of(mp("copy")), hb);
	m = extents(bp("orig"), y, 256);
	for (i = 0; i < m; i++)
		ck_assert(!(y[i].flags & FIEMAP_EXTENT_SHARED));
	drop("copy");
	ck_assert_int_eq(unlink(bp("orig")), 0);
}
END_TEST

/*
 * A fully written 8 MiB file with 2 MiB free: nothing to allocate, so the
 * pin costs no blocks and moves none.  Before the fix the fallocate over
 * the whole range reserved 8 MiB first: ENOSPC.
 */
START_TEST(test_allocated_costs_nothing)
{
	struct ext x[256], y[256];
	size_t n, m, i;
	uint64_t before, after;

	unfill();

	put_random(bp("full"), 8 * MIB, 11);
	n = extents(bp("full"), x, 256);
	before = fill_to(2 * MIB / bsize);
	ck_assert_int_eq(pin(mp("full"), "all"), 0);
	after = bfree();
	ck_assert_msg(before - after <= SLACK_BLOCKS,
		      "the pin took %" PRIu64 " blocks", before - after);
	ck_assert_uint_eq(blocks_of(bp("full")), 8 * MIB / bsize);
	m = extents(bp("full"), y, 256);
	ck_assert_uint_eq(m, n);
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(y[i].physical, x[i].physical);
		ck_assert_uint_eq(y[i].length, x[i].length);
	}
	drop("full");
}
END_TEST

/*
 * A pin that fails after allocating holes punches them back while another
 * pin of an overlapping range is being made: the other pin must end up on
 * written blocks, never over a punched hole.  Stabilisations of one file
 * take turns (fs/stabilize.c; the kernel also holds the inode's lock
 * across a setxattr), so whichever goes first, the second sees the
 * first's result.  Racy by nature: repeated.
 */
struct racer {
	const char *path, *value;
	int err;
};

static void *race_pin(void *arg)
{
	struct racer *r = arg;

	r->err = pin(r->path, r->value);
	return NULL;
}

START_TEST(test_failed_pin_spares_concurrent_pin)
{
	int i;

	unfill();
	fill_to(8 * MIB / bsize);
	for (i = 0; i < 10; i++) {
		struct racer big = { mp("race"), "0+6M,8M+6M", 0 };
		struct racer small = { mp("race"), "0+1M", 0 };
		pthread_t t;
		struct ext x[16];
		size_t n;

		put_sparse(mp("race"), 16 * MIB);
		ck_assert_int_eq(pthread_create(&t, NULL, race_pin, &big), 0);
		race_pin(&small);
		ck_assert_int_eq(pthread_join(t, NULL), 0);
		ck_assert_int_eq(big.err, ENOSPC);
		ck_assert_int_eq(small.err, 0);
		expect_stable(bp("race"), MIB);
		/* And nothing of the failed pin stays. */
		n = extents(bp("race"), x, 16);
		ck_assert_uint_ge(n, 1);
		ck_assert_uint_eq(blocks_of(bp("race")), MIB / bsize);
		drop("race");
	}
}
END_TEST

/* ================= main ================= */

static void setup(void)
{
	struct statfs sf;

	ck_assert_int_eq(mnt_setup(&M, "max_pins_per_file=2", false), 0);
	if (!M.xfs) {
		fprintf(stderr, "skip: needs the harness's XFS backing\n");
		mnt_teardown(&M);
		exit(SKIP_CODE);
	}
	ck_assert_int_eq(statfs(M.backing, &sf), 0);
	bsize = (uint64_t)sf.f_bsize;
}

static void teardown(void)
{
	/* The daemon's exit status: a sanitizer report at exit fails. */
	ck_assert_int_eq(mnt_teardown(&M), 0);
}

int main(void)
{
	Suite *s = suite_create("mount-stabilize");
	TCase *tc = tcase_create("space");
	SRunner *sr;
	int failed;

	harness_require_root_fuse();
	if (harness_sh("command -v cp mkfs.xfs >/dev/null") != 0) {
		fprintf(stderr, "skip: cp or mkfs.xfs missing\n");
		return SKIP_CODE;
	}
	umask(022);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sparse_range_fits);
	tcase_add_test(tc, test_too_big_leaves_nothing);
	tcase_add_test(tc, test_refused_pin_gives_back);
	tcase_add_test(tc, test_reflink_unshares_shared_part_only);
	tcase_add_test(tc, test_allocated_costs_nothing);
	tcase_add_test(tc, test_failed_pin_spares_concurrent_pin);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
