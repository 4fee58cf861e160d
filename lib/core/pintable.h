/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The pin table: every pinned file of a mount, keyed by its backing inode
 * (st_dev, st_ino), each with its pin set (pinset.h).
 *
 * The mediated path (truncate, fallocate, copy_file_range, unlink) asks
 * ptab_has_overlap() for every such request, so lookups are lock-free: a
 * liburcu RCU hash table (memb flavour), and a per-file pin count that
 * answers "no" for an unpinned file without taking any lock.  Pin changes
 * are rare and take the file's mutex.
 *
 * Threads.  Every thread that calls into the table must be a registered
 * RCU reader.  libfuse creates its worker threads itself, so the table
 * registers a thread the first time it needs to and unregisters it when
 * the thread exits; ptab_thread_online()/ptab_thread_offline() exist for
 * callers that prefer to do it explicitly.  A thread must not also
 * register itself with liburcu directly: liburcu does not allow a thread
 * to register twice.
 *
 * Entries.  An entry exists while its file has pins: ptab_file_unlock()
 * removes an entry whose set it leaves empty, and frees it after a grace
 * period, so readers that found it just before are never left with freed
 * memory.  Such a reader sees the entry as dead (ptab_file_lock() fails).
 *
 * Locking rules, all to avoid deadlock with RCU grace periods:
 *  - a file's mutex is a leaf lock: hold at most one at a time, and call
 *    nothing that waits for a grace period while holding it (ptab_free(),
 *    ptab_thread_offline(), synchronize_rcu, rcu_barrier);
 *  - ptab_has_overlap() takes the file's mutex itself: never call it on a
 *    file whose mutex the caller holds.
 */
#ifndef RDMAFS_PINTABLE_H
#define RDMAFS_PINTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/pinset.h"

struct ptab;
struct ptab_file;

/*
 * Limits stop new pins only (DESIGN §11): ptab_pin_load() adds a pin that
 * was already stored whatever the limits say, and such pins count, so a
 * table over a limit refuses new pins until enough are removed.
 */
struct ptab_limits {
	uint64_t pins_per_file; /* 0: no limit */
	uint64_t pins; /* whole table; 0: no limit */
	/* Pins of one owner other than uid 0; 0: no limit. */
	uint64_t pins_per_user;
};

struct ptab_stats {
	uint64_t pins; /* pins in the table */
	uint64_t files; /* files with an entry: with pins, or being changed */
};

/*
 * Creates an empty table.  Returns NULL and sets errno on failure.  Create
 * it after daemonising: the table's reclaim thread, and liburcu's hash
 * table worker, do not survive fork().
 */
struct ptab *ptab_new(const struct ptab_limits *lim);
/*
 * Frees the table and every entry left in it, waiting for the frees still
 * pending, and stops its reclaim thread.  No other thread may use the
 * table any more; the caller must not be in a read-side section.
 */
void ptab_free(struct ptab *t);

/*
 * Registers the calling thread as an RCU reader now rather than on first
 * use.  Returns 0 or -EAGAIN (no thread-specific-data key left).
 */
int ptab_thread_online(void);
/*
 * Unregisters the calling thread before it goes on without the table;
 * threads that just exit need not call it.  Not inside a read section.
 */
void ptab_thread_offline(void);

/*
 * Brackets a read-side critical section, within which entries returned by
 * ptab_find() stay allocated.  Sections nest.  Do not sleep in one for
 * long: it holds back every removal in the table.
 */
void ptab_read_lock(void);
void ptab_read_unlock(void);

/*
 * Returns the entry of (@dev, @ino) or NULL.  Call inside a read section;
 * the entry is not locked and may be dying: use ptab_file_lock() before
 * reading its pins.
 */
struct ptab_file *ptab_find(struct ptab *t, uint64_t dev, uint64_t ino);
/*
 * Locks an entry found with ptab_find().  Returns 0, or -ENOENT when the
 * entry was removed meanwhile (it is then left unlocked; the file had no
 * pins when it went).  Once locked, a live entry stays allocated until
 * ptab_file_unlock(), so the caller may leave the read section.
 */
int ptab_file_lock(struct ptab_file *f);

/*
 * Returns the entry of (@dev, @ino), creating an empty one if needed,
 * locked and live, ready for ptab_pin_*().  Race-safe: concurrent callers
 * for one inode get the same entry.  Need not be called in a read
 * section.  Returns NULL and sets errno (ENOMEM) on failure.
 */
struct ptab_file *ptab_get_or_create(struct ptab *t, uint64_t dev,
				     uint64_t ino);
/*
 * Unlocks @f and publishes its pin count to the lock-free readers, so
 * that everything done under the lock appears to them at once.  When the
 * file is left without pins, the entry is removed and freed after a grace
 * period: the caller must not touch @f afterwards (outside a read
 * section).
 */
void ptab_file_unlock(struct ptab *t, struct ptab_file *f);

/*
 * Which file the pins of a locked @f belong to.  An inode number is
 * reused as soon as its file is deleted (XFS hands it to the next new
 * file), and a file deleted behind the mount never tells the table, so
 * the key alone would give a new file the pins of the dead one.  The tag
 * (a file handle: it carries the inode's generation) tells them apart.
 * ptab_file_tag_differs() is true only when both tags are known and are
 * not the same; ptab_file_set_tag() records a copy of @tag (NULL: leaves
 * it) and returns 0 or -ENOMEM.  The tag goes with the entry.
 */
bool ptab_file_tag_differs(const struct ptab_file *f, const void *tag,
			   size_t len);
int ptab_file_set_tag(struct ptab_file *f, const void *tag, size_t len);

/*
 * Publishes the pin count of a locked @f to the lock-free readers now,
 * rather than at ptab_file_unlock(): for a change that is complete but
 * whose holder keeps the lock for slow work (storing it), so that from
 * here a reader of the file waits for the lock instead of answering "no
 * pins" without it.
 */
void ptab_file_publish(struct ptab_file *f);

/* The backing inode of @f. */
void ptab_file_inode(const struct ptab_file *f, uint64_t *dev, uint64_t *ino);
/*
 * The pins of a locked @f, to read (pset_overlaps(), pset_foreach()...).
 * Change them only through ptab_pin_*(), which keep the counters.
 */
const struct pset *ptab_file_pins(const struct ptab_file *f);

/*
 * Pin changes on a locked @f; same contracts as the pset_*() functions
 * they wrap (pinset.h), plus -ENOSPC past any limit of the table (per
 * file, per owner, whole table) for ptab_pin_add(), and -ENOMEM when the
 * owner's count cannot be kept.
 */
int ptab_pin_add(struct ptab *t, struct ptab_file *f, const struct pin *p,
		 uint64_t *id);
/*
 * Adds a pin read back from the store: like ptab_pin_add() but never
 * refused by a limit (it is counted all the same).
 */
int ptab_pin_load(struct ptab *t, struct ptab_file *f, const struct pin *p,
		  uint64_t *id);
int ptab_pin_remove_exact(struct ptab *t, struct ptab_file *f,
			  const struct pin *key, unsigned int flags,
			  struct pin *removed);
int ptab_pin_remove_id(struct ptab *t, struct ptab_file *f, uint64_t off,
		       uint64_t id, struct pin *removed);
size_t ptab_pin_remove_if(struct ptab *t, struct ptab_file *f,
			  pset_pred_fn pred, void *arg);

/*
 * True when (@dev, @ino) has a pin sharing a byte with [off, off + len)
 * (len saturates as in pset_overlaps()).  Lock-free for files without
 * pins; otherwise takes the file's mutex briefly.  Sees either all or
 * none of a locked change.
 */
bool ptab_has_overlap(struct ptab *t, uint64_t dev, uint64_t ino, uint64_t off,
		      uint64_t len);

/*
 * Calls @fn with each live entry locked, in no particular order, and
 * unlocks it with ptab_file_unlock() afterwards (so @fn may remove pins,
 * and files left empty go).  Entries added or removed during the walk
 * may or may not be seen.  A nonzero return stops the walk and is
 * returned.  Holds a read section throughout: keep @fn short.
 */
typedef int (*ptab_file_fn)(struct ptab *t, struct ptab_file *f, void *arg);
int ptab_foreach_file(struct ptab *t, ptab_file_fn fn, void *arg);

/* Removes the session pins of @pid (it exited) from every file. */
uint64_t ptab_remove_holder(struct ptab *t, int32_t pid);

void ptab_get_stats(struct ptab *t, struct ptab_stats *st);
/* The pins owned by @uid in the table (loaded or added). */
uint64_t ptab_user_pins(struct ptab *t, uint32_t uid);

#endif
