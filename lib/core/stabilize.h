/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef RDMAFS_STABILIZE_H
#define RDMAFS_STABILIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A range this stabilisation allocated from a hole (to punch on undo). */
struct stab_hole {
	uint64_t off, end;
};

/*
 * One stabilisation of one file, from stab_begin() to stab_end().
 * Opaque to callers; on the stack of the one thread that uses it.
 */
struct stab {
	int fd;
	dev_t dev;
	ino_t ino;
	uint64_t bsize; /* the backing filesystem's block size */
	struct stab *next; /* in the list of inodes being stabilised */
	struct stab_hole *holes; /* what stab_end() may punch */
	size_t nholes, cap;
};

/*
 * Starts stabilising the open, writable @fd (stabilize.c says what that
 * takes).  Waits while another thread stabilises the same inode: from
 * here to stab_end() no other stabilisation of it runs, so the holes
 * this one allocates are nobody else's until it ends.  Hold it until the
 * pin is in the pin table, or given up.  Returns 0 or -errno; on error
 * there is nothing to end.
 */
int stab_begin(struct stab *st, int fd);

/*
 * Makes the block map of [off, off + len) stable: unshares only its shared
 * extents, allocates only its holes and writes zeros over its unwritten
 * extents, then checks with FIEMAP.  Needs no more free space than the
 * holes and shared extents of the range; when even that is not free it
 * returns -ENOSPC before changing anything.  Returns 0, or -errno:
 * -EINVAL, changing nothing, when the range reaches past the end of the
 * file (stabilising there would grow it); -EOPNOTSUPP when the backing
 * filesystem cannot make or show a stable map (also when a truncate
 * meanwhile cut the range short); -ENOSPC when it has no room for the
 * blocks.  Call stab_end() either way.
 */
int stab_range(struct stab *st, uint64_t off, uint64_t len);

/*
 * Only checks, with one FIEMAP and no writeback, that [off, off + len) of
 * @fd is still covered by plain written extents of its own: no hole, no
 * unwritten, shared or delayed extent.  Fast and allocates nothing: for
 * the pin to call under the layout gate (mediate.h), after stabilising
 * without it, since a layout change that checked "not pinned" may have
 * undone the work meanwhile.  Returns 0 when stable, -EAGAIN when not,
 * or -errno (-EOPNOTSUPP: no FIEMAP here).
 */
int stab_verify(int fd, uint64_t off, uint64_t len);

/*
 * Ends @st.  With @undo (the pin failed) it first punches back every hole
 * that stab_range() allocated, so that a failed pin leaves no new
 * allocation behind; blocks it unshared stay unshared (the sharing cannot
 * be restored).  Never fails: a punch that fails leaves only zeros
 * allocated.
 */
void stab_end(struct stab *st, bool undo);

#endif
