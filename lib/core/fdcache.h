/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A bounded cache of open file descriptors.
 *
 * The daemon names backing inodes by file handle, not by a descriptor held
 * for the inode's whole life: a descriptor per inode runs into the
 * open-file limit long before the kernel stops remembering inodes.  This
 * cache keeps at most a configured number of idle descriptors and closes
 * the least recently used one when a new one would go over it.  A
 * descriptor in use (between fdc_get() and fdc_put()) is never closed, so
 * the limit may be exceeded briefly by descriptors in flight, never by
 * idle ones.
 */
#ifndef RDMAFS_FDCACHE_H
#define RDMAFS_FDCACHE_H

#include <pthread.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>

struct fdc_entry {
	int fd; /* -1 while closed */
	unsigned int users; /* threads using fd now */
	struct fdc_entry *prev, *next; /* LRU links, only while idle */
};

struct fdc_stats {
	uint64_t hits, misses, evictions;
	size_t open; /* descriptors the cache holds now */
};

struct fdc {
	pthread_mutex_t lock;
	struct fdc_entry lru; /* sentinel: next is most recently used */
	size_t cap;
	struct fdc_stats st;
};

/* Opens the descriptor for an entry; returns it or -errno. */
typedef int (*fdc_open_fn)(void *arg);

int fdc_init(struct fdc *c, size_t cap);
/* Closes every idle descriptor; entries in use must have been put. */
void fdc_destroy(struct fdc *c);
void fdc_entry_init(struct fdc_entry *e);

/*
 * Returns a descriptor for @e, opening it with @open when it is not cached,
 * or -errno.  When the process is out of descriptors, the cache gives up
 * its idle ones and tries once more, so a request fails for lack of
 * descriptors only when every one is in use at that moment.
 */
int fdc_get(struct fdc *c, struct fdc_entry *e, fdc_open_fn open, void *arg);
void fdc_put(struct fdc *c, struct fdc_entry *e);
/* Hands an open descriptor to the cache as @e's idle descriptor. */
void fdc_adopt(struct fdc *c, struct fdc_entry *e, int fd);
/* Forgets @e and closes its descriptor; @e must have no users. */
void fdc_drop(struct fdc *c, struct fdc_entry *e);
/* Closes idle descriptors until at most @keep remain; returns how many. */
size_t fdc_shrink(struct fdc *c, size_t keep);
void fdc_get_stats(struct fdc *c, struct fdc_stats *st);

/* True for the errors that mean "no descriptor left". */
static inline int fdc_is_exhausted(int err)
{
	return err == -EMFILE || err == -ENFILE;
}

#endif
