/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The index of pinned files, so that the mount-wide listing needs no tree
 * walk: the backing directory's hidden ".rdmafs/index", an append-only log
 * of "+ DEV INO TYPE HANDLE PATH" and "- DEV INO" lines (HANDLE and PATH in
 * hex, PATH "-" when unknown), replayed at mount and compacted when it
 * holds far more lines than live entries.
 *
 * A "+" line is on the device (fdatasync) before pidx_add() returns, and
 * the daemon adds a file before storing its first pin, so the index is
 * never missing a pinned file after a crash; "-" lines are not synced (a
 * stale entry costs a lookup, and is dropped when found).
 *
 * PATH is a hint: a handle names the inode but, for a file, not always a
 * path (a file whose dentry left the cache reopens disconnected, and its
 * path reads "/").  The hint is the path when the file was pinned or last
 * renamed through the mount; the listing checks it against the inode.  It is a
 * cache: the pins themselves live in each inode's xattr, and an entry
 * that turns out stale is dropped when found.
 */
#ifndef RDMAFS_PINDEX_H
#define RDMAFS_PINDEX_H

#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define PIDX_DIR ".rdmafs"

struct pidx_ent;

struct pidx {
	pthread_mutex_t lock;
	int dirfd; /* backing .rdmafs/, or -1 when unavailable */
	int logfd;
	int logerr; /* why the log cannot be appended to, or 0 */
	struct pidx_ent **buckets;
	size_t nbuckets, live, lines;
};

struct pidx_item {
	uint64_t dev, ino;
	struct file_handle *fh;
	char *hint; /* relative path, or NULL */
};

/* Whether @items[0..n) names (@dev, @ino). */
static inline bool pidx_items_has(const struct pidx_item *items, size_t n,
				  uint64_t dev, uint64_t ino)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (items[i].dev == dev && items[i].ino == ino)
			return true;
	return false;
}

/*
 * Opens (creating) the index under @root_fd and replays it.  Returns 0,
 * or -errno when the index is unavailable or incomplete (out of memory
 * or descriptors, a store that is not ours): @x is then still usable,
 * and closed with pidx_close(), but pidx_add() fails unless the backing
 * is read-only.  A damaged log is not an error: a torn last line (a
 * crash mid-write) is cut off, lines that do not parse are skipped.
 */
int pidx_open(struct pidx *x, int root_fd);
void pidx_close(struct pidx *x);
/*
 * Records that the inode has pins, with its path relative to the backing
 * root when known (@hint, may be NULL).  With @fh NULL, only updates the
 * hint of an inode already recorded.  Returns 0 once recorded on the
 * device; -ENOMEM when not recorded at all; another -errno when the log
 * could not be written or synced (recorded in memory only).
 */
int pidx_add(struct pidx *x, uint64_t dev, uint64_t ino,
	     const struct file_handle *fh, const char *hint);
/* Records that the inode has no pins any more. */
void pidx_del(struct pidx *x, uint64_t dev, uint64_t ino);
bool pidx_has(struct pidx *x, uint64_t dev, uint64_t ino);
/* True when any inode is recorded as pinned. */
bool pidx_any(struct pidx *x);
/*
 * A snapshot of every entry, for listing without holding the lock; free
 * it with pidx_free_items().  Returns the count or -errno (never a
 * snapshot missing an entry).
 */
ssize_t pidx_items(struct pidx *x, struct pidx_item **out);
void pidx_free_items(struct pidx_item *items, size_t n);

#endif
