/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The pins of one file: a set of byte ranges that may overlap, and may even
 * be identical, because different owners and holders pin independently and
 * each must be able to release only its own.
 *
 * The question asked on the mediated path is "does anything overlap
 * [a, b)?", and for a deferral or a break "which pins overlap [a, b)?".
 * Both are answered from an AVL tree ordered by (offset, id) in which each
 * node also knows the largest end in its subtree, so whole subtrees that
 * end before the query are skipped: pset_any_overlap() is O(log n) and
 * pset_overlaps() visits O(log n) nodes plus, at worst, the paths down to
 * the k pins it reports (O(k log n), usually far less).
 *
 * No locking inside: the owner of the set (the pin table) serialises every
 * call, readers included, with its per-file lock.
 */
#ifndef RDMAFS_PINSET_H
#define RDMAFS_PINSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pin {
	/*
	 * [off, off + len) with len >= 1.  An `all` pin covers the file
	 * whatever its size: it is stored with off = len = 0 and ends at
	 * UINT64_MAX for every overlap question.
	 */
	uint64_t off;
	uint64_t len;
	bool all;
	uint32_t owner; /* uid that made the pin */
	int32_t holder; /* pid of a live session holder; 0 = persistent */
	int64_t since_ns; /* CLOCK_REALTIME nanoseconds when made */
	/*
	 * A session pin's session and its hold id within it (the daemon's
	 * fs/session.c; both 0 for a persistent pin): a process may run
	 * several sessions, so the holder's pid alone does not say which
	 * session a pin ends with.
	 */
	uint64_t sess;
	uint64_t hold;
	uint64_t id; /* assigned by pset_add(); unique within the set */
};

/* One past the last byte @p covers. */
static inline uint64_t pin_end(const struct pin *p)
{
	return p->all ? UINT64_MAX : p->off + p->len;
}

struct pset_node;

struct pset {
	struct pset_node *root;
	size_t count;
	size_t max; /* 0: no limit */
	uint64_t next_id;
};

/*
 * Visits one pin; the pin must not be changed and the set must not be
 * modified from inside.  A nonzero return stops the walk and is passed
 * back to the caller of the walk.
 */
typedef int (*pset_visit_fn)(const struct pin *p, void *arg);
/* Selects pins for pset_remove_if(); may record them (e.g. for audit). */
typedef bool (*pset_pred_fn)(const struct pin *p, void *arg);

/* Starts an empty set holding at most @max pins (0: no limit). */
void pset_init(struct pset *s, size_t max);
/* Frees every pin; the set is empty (and usable) afterwards. */
void pset_destroy(struct pset *s);

static inline size_t pset_count(const struct pset *s)
{
	return s->count;
}

/*
 * Adds a copy of @p with a fresh id, stored in *@id when @id is not NULL.
 * Returns 0, -EINVAL for an empty range or one whose end does not fit in
 * 64 bits, -ENOSPC when the set is full, or -ENOMEM.
 */
int pset_add(struct pset *s, const struct pin *p, uint64_t *id);

/* How pset_remove_exact() compares a pin with its key. */
enum {
	PSET_ANY_OWNER = 1 << 0, /* ignore key->owner (root unpinning) */
	PSET_ANY_HOLDER = 1 << 1, /* ignore key->holder */
};

/*
 * Removes ONE pin with exactly the range of @key (off and len, or all),
 * and the same owner and holder unless @flags say otherwise.  With several
 * matches the oldest (lowest id) goes, so repeated removals undo repeated
 * pins in order.  Returns 0 and copies the removed pin to *@removed (when
 * not NULL), or -ENODATA when nothing matches.  O(log n + pins sharing
 * the offset).
 */
int pset_remove_exact(struct pset *s, const struct pin *key, unsigned int flags,
		      struct pin *removed);

/*
 * Removes the pin at offset @off (as stored: 0 for an all pin) with id
 * @id, e.g. one reported by pset_overlaps() and now revoked.  Returns 0 or
 * -ENOENT.  O(log n).
 */
int pset_remove_id(struct pset *s, uint64_t off, uint64_t id,
		   struct pin *removed);

/*
 * Removes every pin @pred selects; returns how many.  O(n) whatever the
 * outcome, and never fails: it relinks the pins it keeps into a new
 * balanced tree instead of allocating.
 */
size_t pset_remove_if(struct pset *s, pset_pred_fn pred, void *arg);
/* Removes every pin of uid @owner; returns how many. */
size_t pset_remove_owner(struct pset *s, uint32_t owner);
/* Removes every pin held by @pid (a session that ended); returns how many. */
size_t pset_remove_holder(struct pset *s, int32_t pid);

/*
 * Calls @fn for every pin sharing a byte with [off, off + len), in
 * (offset, id) order.  The end saturates at UINT64_MAX, so len = UINT64_MAX
 * asks about everything from @off on; len = 0 matches nothing.  Returns 0
 * or the nonzero value that stopped the walk.
 */
int pset_overlaps(const struct pset *s, uint64_t off, uint64_t len,
		  pset_visit_fn fn, void *arg);
/* True when some pin shares a byte with [off, off + len).  O(log n). */
bool pset_any_overlap(const struct pset *s, uint64_t off, uint64_t len);

/* Calls @fn for every pin in (offset, id) order; returns as above. */
int pset_foreach(const struct pset *s, pset_visit_fn fn, void *arg);

/*
 * Checks the tree's ordering, balance, subtree ends and count; returns 0
 * or -EUCLEAN.  For tests: it is O(n).
 */
int pset_verify(const struct pset *s);

#endif
