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
 * Space (DESIGN §11: no more than the range itself, nothing left behind
 * by a failure).  fallocate() over a range reserves the whole length
 * before it looks at what is already allocated (XFS's
 * xfs_alloc_file_space(), which FALLOC_FL_UNSHARE_RANGE calls too after
 * unsharing), so one call over the whole range needed its size free even
 * for a fully allocated file, and twice it for a sparse one.  Hence a
 * survey with FIEMAP first, then fallocate() on exactly the holes and
 * UNSHARE_RANGE on exactly the shared extents, the latter in small chunks
 * so that the reservation on top of the copy is one chunk.  When the
 * holes and shared extents need more than the free blocks, nothing is
 * touched.  Every hole allocated is recorded; a failure, here or later
 * in the pin, punches exactly those back (stab_end()).  Unsharing
 * cannot be undone (the other owner's blocks cannot be shared again);
 * the survey makes it fail only when something else takes the space
 * meanwhile.
 *
 * Punching is what must never happen under a pin.  A recorded range was
 * a hole when this stabilisation looked, under the per-inode exclusion
 * of stab_begin(), which the caller holds until its pin is in the
 * pin table: no other pin can have been made over it since (a pin over a
 * range first stabilises it, and that waits).  An existing pin over a
 * hole (only the part of an `all` pin beyond the size it was made at)
 * gets back exactly the hole it had.  The kernel happens to serialise
 * setxattr on one inode too (it holds the inode lock); the exclusion
 * here does not rely on that.
 *
 * A process writing into a hole of the range while it is being pinned may
 * race with the zero-fill, or with the punch of a failed pin; rdmafs pins
 * are made before the adapter or the application uses the range, so this
 * is documented rather than locked.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "core/stabilize.h"

#define NEXT 256
#define ZCHUNK (1u << 20)
/* UNSHARE_RANGE reserves its length again after copying: keep it small. */
#define UNSHARE_CHUNK (1u << 20)

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

static int walk_flags(int fd, uint64_t off, uint64_t end, uint32_t fmflags,
		      extent_fn fn, void *arg)
{
	struct fiemap *fm;
	uint64_t pos = off;
	int err = 0;
	unsigned int i;

	/* Zeroed: valgrind 3.19 does not see FIEMAP write the extents. */
	fm = calloc(1, sizeof(*fm) + NEXT * sizeof(struct fiemap_extent));
	if (!fm)
		return -ENOMEM;
	while (pos < end) {
		memset(fm, 0, sizeof(*fm));
		fm->fm_start = pos;
		fm->fm_length = end - pos;
		fm->fm_flags = fmflags;
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

/* A walk after writing back the range: delayed allocation is resolved. */
static int walk(int fd, uint64_t off, uint64_t end, extent_fn fn, void *arg)
{
	return walk_flags(fd, off, end, FIEMAP_FLAG_SYNC, fn, arg);
}

/* ---- the survey: what the range needs ---- */

struct piece {
	uint64_t off, end;
	bool hole; /* else shared */
};

struct survey {
	uint64_t off, end; /* the range */
	struct piece *p;
	size_t n, cap;
	uint64_t need; /* bytes of new blocks: holes and shared extents */
};

static int add_piece(struct survey *s, uint64_t off, uint64_t end, bool hole)
{
	if (s->n && s->p[s->n - 1].hole == hole && s->p[s->n - 1].end >= off) {
		if (end > s->p[s->n - 1].end) {
			s->need += end - s->p[s->n - 1].end;
			s->p[s->n - 1].end = end;
		}
		return 0;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct piece *p = realloc(s->p, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->p = p;
		s->cap = cap;
	}
	s->p[s->n++] = (struct piece){ off, end, hole };
	s->need += end - off;
	return 0;
}

static int survey_one(int fd, uint64_t start, uint64_t end, uint32_t flags,
		      void *arg)
{
	struct survey *s = arg;

	/* The walk's window is whole blocks: every hole in it is real. */
	if (flags & STAB_HOLE)
		return add_piece(s, start, end, true);
	if (start < s->off)
		start = s->off;
	if (end > s->end)
		end = s->end;
	if ((flags & FIEMAP_EXTENT_SHARED) && start < end)
		return add_piece(s, start, end, false);
	return 0;
}

/* ---- the work ---- */

static int still_shared(int fd, uint64_t start, uint64_t end, uint32_t flags,
			void *arg)
{
	return flags & FIEMAP_EXTENT_SHARED ? -ENOSPC : 0;
}

static int unshare_chunks(int fd, uint64_t off, uint64_t end)
{
	while (off < end) {
		uint64_t n =
			end - off < UNSHARE_CHUNK ? end - off : UNSHARE_CHUNK;
		int err;

		if (fallocate(fd, FALLOC_FL_UNSHARE_RANGE | FALLOC_FL_KEEP_SIZE,
			      (off_t)off, (off_t)n) < 0) {
			err = -errno;
			if (err == -EINVAL)
				err = -EOPNOTSUPP;
			/*
			 * Near full, XFS may copy the chunk and then fail
			 * the reservation after it: done is done.
			 */
			if (err != -ENOSPC ||
			    walk(fd, off, off + n, still_shared, NULL))
				return err;
		}
		off += n;
	}
	return 0;
}

static int record_hole(struct stab *st, uint64_t off, uint64_t end)
{
	if (st->nholes == st->cap) {
		size_t cap = st->cap ? 2 * st->cap : 16;
		struct stab_hole *h = realloc(st->holes, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		st->holes = h;
		st->cap = cap;
	}
	st->holes[st->nholes++] = (struct stab_hole){ off, end };
	return 0;
}

static int zero_fill(int fd, uint64_t start, uint64_t end, uint32_t flags,
		     void *arg)
{
	char *zeros = arg;
	struct stat sb;

	if (!(flags & (FIEMAP_EXTENT_UNWRITTEN | STAB_HOLE)))
		return 0;
	/*
	 * Never past the end of the file: a write there would grow it (a
	 * truncate may have shrunk it since stab_range() looked).  What is
	 * left unwritten fails the check that follows.
	 */
	if (fstat(fd, &sb) < 0)
		return -errno;
	if (end > (uint64_t)sb.st_size)
		end = (uint64_t)sb.st_size;
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

/* ---- one stabilisation at a time per inode ---- */

static pthread_mutex_t busy_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t busy_cond = PTHREAD_COND_INITIALIZER;
static struct stab *busy;

static bool is_busy(const struct stab *st)
{
	const struct stab *b;

	for (b = busy; b; b = b->next)
		if (b->dev == st->dev && b->ino == st->ino)
			return true;
	return false;
}

int stab_begin(struct stab *st, int fd)
{
	struct statfs sf;
	struct stat sb;

	memset(st, 0, sizeof(*st));
	st->fd = fd;
	if (fstat(fd, &sb) < 0 || fstatfs(fd, &sf) < 0)
		return -errno;
	st->dev = sb.st_dev;
	st->ino = sb.st_ino;
	st->bsize = sf.f_bsize > 0 ? (uint64_t)sf.f_bsize : 1;
	pthread_mutex_lock(&busy_lock);
	while (is_busy(st))
		pthread_cond_wait(&busy_cond, &busy_lock);
	st->next = busy;
	busy = st;
	pthread_mutex_unlock(&busy_lock);
	return 0;
}

void stab_end(struct stab *st, bool undo)
{
	struct stab **b;
	size_t i;

	/* Before letting the next one in, which may pin what we punch. */
	for (i = 0; undo && i < st->nholes; i++)
		(void)fallocate(st->fd,
				FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				(off_t)st->holes[i].off,
				(off_t)(st->holes[i].end - st->holes[i].off));
	free(st->holes);
	st->holes = NULL;
	st->nholes = st->cap = 0;
	pthread_mutex_lock(&busy_lock);
	for (b = &busy; *b; b = &(*b)->next) {
		if (*b == st) {
			*b = st->next;
			break;
		}
	}
	pthread_cond_broadcast(&busy_cond);
	pthread_mutex_unlock(&busy_lock);
}

int stab_range(struct stab *st, uint64_t off, uint64_t len)
{
	uint64_t end = off + len, bs = st->bsize;
	struct survey s = { .off = off, .end = end };
	struct statfs sf;
	struct stat sb;
	char *zeros;
	size_t i;
	int err;

	if (len == 0)
		return 0;
	/* Stabilising past the end would change the file's size. */
	if (fstat(st->fd, &sb) < 0)
		return -errno;
	if (off > (uint64_t)sb.st_size || len > (uint64_t)sb.st_size - off)
		return -EINVAL;
	/*
	 * Surveyed over whole blocks: a hole is allocated, and punched back,
	 * as whole blocks, and only a hole found as such (bounded by
	 * extents or the window) is ever punched, whatever f_bsize says.
	 */
	err = walk(st->fd, off - off % bs,
		   end % bs ? end + (bs - end % bs) : end, survey_one, &s);
	if (err)
		goto out;
	if (s.need) {
		if (fstatfs(st->fd, &sf) < 0) {
			err = -errno;
			goto out;
		}
		if (s.need / st->bsize > (uint64_t)sf.f_bfree) {
			err = -ENOSPC;
			goto out;
		}
	}
	for (i = 0; i < s.n; i++) {
		struct piece *p = &s.p[i];

		if (!p->hole) {
			err = unshare_chunks(st->fd, p->off, p->end);
			if (err)
				goto out;
			continue;
		}
		/* Recorded first: a failed fallocate may leave a part. */
		err = record_hole(st, p->off, p->end);
		if (err)
			goto out;
		/* Holes become unwritten extents, reserving the space. */
		if (fallocate(st->fd, FALLOC_FL_KEEP_SIZE, (off_t)p->off,
			      (off_t)(p->end - p->off)) < 0 &&
		    errno != EOPNOTSUPP) {
			err = -errno;
			goto out;
		}
	}
	zeros = calloc(1, ZCHUNK);
	if (!zeros) {
		err = -ENOMEM;
		goto out;
	}
	/* Where fallocate is missing this allocates the (recorded) holes. */
	err = walk(st->fd, off, end, zero_fill, zeros);
	free(zeros);
	if (err)
		goto out;
	if (fdatasync(st->fd) < 0) {
		err = -errno;
		goto out;
	}
	err = walk(st->fd, off, end, verify, NULL);
out:
	free(s.p);
	return err;
}

static int unstable(int fd, uint64_t start, uint64_t end, uint32_t flags,
		    void *arg)
{
	return flags & (UNSTABLE | STAB_HOLE) ? -EAGAIN : 0;
}

int stab_verify(int fd, uint64_t off, uint64_t len)
{
	if (len == 0)
		return 0;
	/*
	 * No FIEMAP_FLAG_SYNC: writing back is slow and the caller holds
	 * the layout gate exclusive.  Unwritten-back data shows as delalloc,
	 * which counts as unstable, and the caller stabilises again.
	 */
	return walk_flags(fd, off, off + len, 0, unstable, NULL);
}
