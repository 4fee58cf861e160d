// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Making a byte range's block map stable before it is pinned (DESIGN §4).
 *
 * An RDMA adapter writes into the physical blocks behind the range, so
 * every block must exist, belong to this file alone, and stay put when the
 * file is written later:
 *  - shared (reflinked) extents are unshared: a later write would move
 *    them (copy on write);
 *  - holes are allocated;
 *  - unwritten extents are written with zeros (they read as zeros, so no
 *    data changes), else a later write converts them and the file would
 *    read back zeros over what the adapter put there.
 * FIEMAP then has to show the range covered by plain written extents; if
 * the backing filesystem cannot do or show that, pinning fails.
 *
 * A process writing into a hole of the range while it is being pinned may
 * race with the zero-fill; rdmafs pins are made before the adapter or the
 * application uses the range, so this is documented rather than locked.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "stabilize.h"

#define NEXT 256
#define ZCHUNK (1u << 20)

/* Flags that mean the block map is not (yet) fixed. */
#define UNSTABLE                                                 \
	(FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC |        \
	 FIEMAP_EXTENT_ENCODED | FIEMAP_EXTENT_DATA_ENCRYPTED |  \
	 FIEMAP_EXTENT_NOT_ALIGNED | FIEMAP_EXTENT_DATA_INLINE | \
	 FIEMAP_EXTENT_DATA_TAIL | FIEMAP_EXTENT_UNWRITTEN |     \
	 FIEMAP_EXTENT_SHARED)

typedef int (*extent_fn)(int fd, uint64_t start, uint64_t end, uint32_t flags,
			 void *arg);

/*
 * Walks [off, end) and calls @fn for every piece: an extent clipped to the
 * range, or a hole (flags = STAB_HOLE).
 */
#define STAB_HOLE 0x80000000u

static int walk(int fd, uint64_t off, uint64_t end, extent_fn fn, void *arg)
{
	struct fiemap *fm;
	uint64_t pos = off;
	int err = 0;
	unsigned int i;

	fm = malloc(sizeof(*fm) + NEXT * sizeof(struct fiemap_extent));
	if (!fm)
		return -ENOMEM;
	while (pos < end) {
		memset(fm, 0, sizeof(*fm));
		fm->fm_start = pos;
		fm->fm_length = end - pos;
		fm->fm_flags = FIEMAP_FLAG_SYNC;
		fm->fm_extent_count = NEXT;
		if (ioctl(fd, FS_IOC_FIEMAP, fm) < 0) {
			err = errno == ENOTTY ? -EOPNOTSUPP : -errno;
			break;
		}
		if (fm->fm_mapped_extents == 0) {
			err = fn(fd, pos, end, STAB_HOLE, arg);
			break;
		}
		for (i = 0; i < fm->fm_mapped_extents && pos < end; i++) {
			struct fiemap_extent *x = &fm->fm_extents[i];
			uint64_t xs = x->fe_logical, xe = xs + x->fe_length;

			if (xe <= pos)
				continue;
			if (xs > pos) {
				err = fn(fd, pos, xs < end ? xs : end,
					 STAB_HOLE, arg);
				if (err)
					goto out;
				pos = xs;
			}
			if (pos >= end)
				break;
			err = fn(fd, pos, xe < end ? xe : end, x->fe_flags,
				 arg);
			if (err)
				goto out;
			pos = xe;
			if (x->fe_flags & FIEMAP_EXTENT_LAST) {
				if (pos < end)
					err = fn(fd, pos, end, STAB_HOLE, arg);
				goto out;
			}
		}
	}
out:
	free(fm);
	return err;
}

static int zero_fill(int fd, uint64_t start, uint64_t end, uint32_t flags,
		     void *arg)
{
	char *zeros = arg;

	if (!(flags & (FIEMAP_EXTENT_UNWRITTEN | STAB_HOLE)))
		return 0;
	while (start < end) {
		size_t n = end - start < ZCHUNK ? end - start : ZCHUNK;
		ssize_t w = pwrite(fd, zeros, n, (off_t)start);

		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		start += (uint64_t)w;
	}
	return 0;
}

static int verify(int fd, uint64_t start, uint64_t end, uint32_t flags,
		  void *arg)
{
	return flags & (UNSTABLE | STAB_HOLE) ? -EOPNOTSUPP : 0;
}

int rfs_stabilize(int fd, uint64_t off, uint64_t len)
{
	uint64_t end = off + len;
	char *zeros;
	int err;

	if (len == 0)
		return 0;
	if (fallocate(fd, FALLOC_FL_UNSHARE_RANGE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)len) < 0 &&
	    errno != EOPNOTSUPP && errno != EINVAL)
		return -errno;
	/* Holes become unwritten extents, reserving the space first. */
	if (fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) < 0 &&
	    errno != EOPNOTSUPP)
		return -errno;
	zeros = calloc(1, ZCHUNK);
	if (!zeros)
		return -ENOMEM;
	err = walk(fd, off, end, zero_fill, zeros);
	free(zeros);
	if (err)
		return err;
	if (fdatasync(fd) < 0)
		return -errno;
	return walk(fd, off, end, verify, NULL);
}
