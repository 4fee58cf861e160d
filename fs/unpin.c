// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Removing pins (pinsvc.h, rfs_pins_remove()): what user.rdmafs.unpin on
 * a file or, by path, on the mount root, and removexattr of
 * user.rdmafs.pin do once ctlxattr.c has parsed them (doc/pins.md).
 *
 * Stored first, removed after (DESIGN §11: a store never drops a pin it
 * did not remove).  Under the file's lock in the pin table, the pins to
 * remove are picked without touching the table, the set without them is
 * built aside and stored (synced); only once that succeeded do they leave
 * the table, which cannot fail.  A failed store or a failed allocation
 * leaves the table as it was, so no pin can be lost from memory and then
 * from disk by the next store.  Taking pins out needs no layout gate
 * (mediate.h): a layout change that sees them gone a moment early only
 * waits for the same unpin.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "pinstore_io.h"
#include "pinsvc.h"
#include "core/pinindex.h"
#include "core/pintable.h"

struct pick {
	/* What to pick. */
	uint32_t uid;
	bool root, everything, any_owner;
	const struct pin *key; /* one pin of exactly this range */
	/* Picked: every pin (everything), or the oldest match. */
	struct pin *pins;
	size_t n;
	bool found, other; /* other: someone else's pin of the range */
};

/* A persistent pin the caller may remove (root: anyone's). */
static bool mine(const struct pin *p, void *arg)
{
	const struct pick *c = arg;

	return p->holder == 0 && (c->root || p->owner == c->uid);
}

/* As pset_remove_exact(): the oldest pin of exactly the key's range. */
static int pick_exact(const struct pin *p, void *arg)
{
	struct pick *c = arg;
	const struct pin *k = c->key;

	if (p->all != k->all || p->holder != 0 ||
	    (!k->all && (p->off != k->off || p->len != k->len)))
		return 0;
	if (!c->any_owner && p->owner != c->uid) {
		c->other = true;
		return 0;
	}
	if (!c->found || p->id < c->pins[0].id)
		c->pins[0] = *p;
	c->found = true;
	return 0;
}

struct keep {
	struct pick *c;
	struct pset *out;
};

/* Copies every pin that stays into the set to store. */
static int keep_one(const struct pin *p, void *arg)
{
	struct keep *k = arg;
	struct pick *c = k->c;

	if (c->everything && mine(p, c)) {
		c->pins[c->n++] = *p;
		return 0;
	}
	if (!c->everything && p->off == c->pins[0].off &&
	    p->id == c->pins[0].id)
		return 0;
	return pset_add(k->out, p, NULL);
}

static bool picked(const struct pin *p, void *arg)
{
	return mine(p, arg);
}

int rfs_pins_remove(fuse_req_t req, dev_t dev, ino_t ino, int fd,
		    const struct rng *r, bool whole, const char *op)
{
	struct rfs *fs = rfs_of(req);
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct pick c = { .uid = ctx->uid, .root = ctx->uid == 0 };
	struct pin key = { .owner = ctx->uid };
	struct pset rest;
	struct keep k = { .c = &c, .out = &rest };
	struct ptab_file *f;
	char rel[PATH_MAX];
	/* "all" as an unpin value means every pin of the caller. */
	bool everything = !r || (r->all && !whole);
	int err = 0;
	size_t i;

	c.everything = everything;
	f = rfs_pins_lock(fs, dev, ino);
	if (!f)
		return -ENODATA;
	/* Loaded pins may be more than max_pins_per_file allows today. */
	c.pins = malloc((pset_count(ptab_file_pins(f)) + 1) * sizeof(*c.pins));
	if (!c.pins) {
		ptab_file_unlock(fs->pins, f);
		return -ENOMEM;
	}
	if (!everything) {
		key.off = r->off;
		key.len = r->len;
		c.key = &key;
		key.all = r->all;
		/* an all pin is stored at 0, and len 0 would match nothing */
		pset_overlaps(ptab_file_pins(f), key.off,
			      key.all ? UINT64_MAX : key.len, pick_exact, &c);
		/* Root's own pin of that range first, else anyone's. */
		if (!c.found && c.root) {
			c.any_owner = true;
			pset_overlaps(ptab_file_pins(f), key.off,
				      key.all ? UINT64_MAX : key.len,
				      pick_exact, &c);
		}
		/* Someone else's: say why not, and leave it alone. */
		if (!c.found)
			err = c.other && !c.root ? -EPERM : -ENODATA;
		else
			c.n = 1;
	}
	pset_init(&rest, 0);
	if (!err)
		err = pset_foreach(ptab_file_pins(f), keep_one, &k);
	if (!err && c.n == 0)
		err = -ENODATA;
	if (!err) {
		err = rfs_pins_store(fd, &rest);
		/* The value may be the new one: put the whole set back. */
		if (err)
			(void)rfs_pins_store(fd, ptab_file_pins(f));
	}
	pset_destroy(&rest);
	if (!err) {
		/* Stored: now they go, by the same choice (cannot fail). */
		if (everything)
			ptab_pin_remove_if(fs->pins, f, picked, &c);
		else
			ptab_pin_remove_id(fs->pins, f, c.pins[0].off,
					   c.pins[0].id, NULL);
		if (pset_count(ptab_file_pins(f)) == 0 && fs->pidx)
			pidx_del(fs->pidx, dev, ino);
	}
	ptab_file_unlock(fs->pins, f);
	if (!err) {
		/* After the file's lock: this wakes the mediator. */
		rfs_pins_changed(fs);
		if (rfs_rel_path(fs, fd, rel, sizeof(rel)) == 0)
			for (i = 0; i < c.n; i++)
				rfs_record_pin(req, "unpin", op, rel,
					       &c.pins[i]);
	}
	free(c.pins);
	return err;
}
