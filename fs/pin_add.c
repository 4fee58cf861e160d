// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Adding pins (pinsvc.h, rfs_pins_add()).
 *
 * A pin runs in this order, so that a failure leaves nothing half-done:
 * check the ranges against the file; make their block map stable (slow
 * I/O, before any lock); take the layout gate (through the pin hooks:
 * mediate.h's) and check the map again, since a layout change that
 * checked "not pinned" may have been in flight (stab_gated()); under the
 * gate and the file's lock in the pin table, add the pins; then, with
 * the file's lock only, record the file in the index (synced) and store
 * the file's whole persistent set in its backing xattr (synced:
 * pinstore_io.c); if storing fails, the pins are taken back out.
 *
 * A session pin (rfs_pins_add_session(), for session_hold.c) is made
 * the same way up to the table, and goes no further: it is neither
 * indexed nor stored, since it dies with its session.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pinstore_io.h"
#include "pinsvc.h"
#include "core/pinindex.h"
#include "core/pintable.h"
#include "core/stabilize.h"

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct same_ctx {
	const struct pin *key;
	bool any_owner;
	bool found;
};

static int same_one(const struct pin *p, void *arg)
{
	struct same_ctx *c = arg;

	if (p->all == c->key->all && p->off == c->key->off &&
	    p->len == c->key->len &&
	    (c->any_owner || p->owner == c->key->owner) &&
	    p->holder == c->key->holder) {
		c->found = true;
		return 1;
	}
	return 0;
}

static bool has_same(const struct pset *s, const struct pin *key)
{
	struct same_ctx c = { .key = key };

	pset_overlaps(s, key->off, key->all ? UINT64_MAX : key->len, same_one,
		      &c);
	return c.found;
}

static void gate_lock(struct rfs *fs)
{
	if (fs->pin_hooks && fs->pin_hooks->gate_lock)
		fs->pin_hooks->gate_lock(fs);
}

static void gate_unlock(struct rfs *fs)
{
	if (fs->pin_hooks && fs->pin_hooks->gate_unlock)
		fs->pin_hooks->gate_unlock(fs);
}

/* The size of the file of @fd, when every range of @r lies within it. */
static int ranges_within(int fd, const struct rng *r, size_t n, uint64_t *size)
{
	struct stat st;
	size_t i;

	if (fstat(fd, &st) < 0)
		return -errno;
	for (i = 0; i < n; i++)
		if (!rng_within(&r[i], (uint64_t)st.st_size))
			return -EINVAL;
	*size = (uint64_t)st.st_size;
	return 0;
}

/* Stabilises every range of @r (`all`: up to @size), at @uid's cost. */
static int stab_ranges(struct rfs *fs, uid_t uid, struct rfs_inode *in,
		       struct stab *stab, const struct rng *r, size_t n,
		       uint64_t size)
{
	struct rfs_cred cred = { 0 };
	size_t i;
	/* Blocks a pin allocates are its owner's to pay for, as a write. */
	int err = rfs_space_enter(fs, in, uid, &cred);

	for (i = 0; i < n && !err; i++)
		err = r[i].all ? stab_range(stab, 0, size)
			       : stab_range(stab, r[i].off, r[i].len);
	rfs_cred_leave(&cred);
	return err;
}

static int verify_ranges(int fd, const struct rng *r, size_t n, uint64_t size)
{
	size_t i;
	int err = 0;

	for (i = 0; i < n && !err; i++)
		err = r[i].all ? stab_verify(fd, 0, size)
			       : stab_verify(fd, r[i].off, r[i].len);
	return err;
}

/*
 * Stabilises the ranges and returns 0 with the layout gate (mediate.h)
 * held exclusive and the block map verified stable under it, or -errno
 * without the gate.  A truncate, punch or reflink that checked "not
 * pinned" before the pin was in the table may undo the stabilisation
 * until the gate is taken: the map is verified again under the gate (one
 * FIEMAP), and if it moved, stabilised again.  The last of PIN_TRIES
 * stabilises with the gate held, so that a loop of reflinks from the file
 * (read access is enough) cannot keep a pin out for ever; that stalls
 * the mount's layout changes for one stabilisation, only under such a
 * race.
 */
#define PIN_TRIES 3
static int stab_gated(struct rfs *fs, uid_t uid, struct rfs_inode *in,
		      struct stab *stab, int fd, const struct rng *r, size_t n)
{
	uint64_t size;
	int try, err;

	for (try = 1; try < PIN_TRIES; try++) {
		err = ranges_within(fd, r, n, &size);
		if (!err)
			err = stab_ranges(fs, uid, in, stab, r, n, size);
		/* EOPNOTSUPP: maybe shared again before its own check. */
		if (err == -EOPNOTSUPP)
			continue;
		if (err)
			return err;
		gate_lock(fs);
		err = ranges_within(fd, r, n, &size);
		if (!err)
			err = verify_ranges(fd, r, n, size);
		if (!err)
			return 0;
		gate_unlock(fs);
		if (err != -EAGAIN)
			return err;
	}
	gate_lock(fs);
	err = ranges_within(fd, r, n, &size);
	if (!err)
		err = stab_ranges(fs, uid, in, stab, r, n, size);
	if (err)
		gate_unlock(fs);
	return err;
}

/* What persistent and session pins share: the file, made stable. */
struct pin_op {
	int fd; /* the backing file, read-write */
	struct stab stab;
	struct ptab_file *f; /* its entry, locked */
	bool dropped; /* a deleted file's pins went: rfs_pins_changed() */
	bool have_rel;
	char rel[PATH_MAX];
};

/*
 * Opens @in, stabilises @r for @uid and takes the layout gate and the
 * file's entry: 0 with both held (pins may go in now), or -errno with
 * nothing held or open.
 */
static int pin_begin(struct rfs *fs, struct rfs_inode *in, uid_t uid,
		     const struct rng *r, size_t n, struct pin_op *op)
{
	int err;

	op->f = NULL;
	op->dropped = false;
	op->fd = rfs_inode_open(fs, in, O_RDWR);
	if (op->fd < 0)
		return op->fd;
	/* The file was just reached: its path is at hand now. */
	op->have_rel = rfs_rel_path(fs, op->fd, op->rel, sizeof(op->rel)) == 0;
	err = stab_begin(&op->stab, op->fd);
	if (err)
		goto out;
	err = stab_gated(fs, uid, in, &op->stab, op->fd, r, n);
	if (err)
		goto out_stab;
	/* The file's own entry: not one a deleted inode left (item 2). */
	op->f = rfs_pins_entry(fs, in, &op->dropped);
	if (op->f)
		return 0;
	err = -errno;
	gate_unlock(fs);
out_stab:
	stab_end(&op->stab, true);
out:
	close(op->fd);
	return err;
}

/*
 * The pins are in (or not): published before the gate opens, so that a
 * layout change from now on sees them (and waits for the file's lock).
 */
static void pin_publish(struct rfs *fs, struct pin_op *op)
{
	ptab_file_publish(op->f);
	gate_unlock(fs);
}

/*
 * A failed pin gives back the holes it allocated (DESIGN §11), with
 * @give_back; not when a failed store may have left the new pin on disk,
 * lest a pin come back over holes.
 */
static void pin_done(struct pin_op *op, bool give_back)
{
	stab_end(&op->stab, give_back);
	close(op->fd);
}

int rfs_pins_add_session(struct rfs *fs, struct rfs_inode *in,
			 const struct rng *r, struct pin *p, char *rel,
			 size_t size)
{
	struct pin_op op;
	int err;

	if (in->type != S_IFREG || !p->holder || !p->sess || !p->hold)
		return -EINVAL;
	err = pin_begin(fs, in, p->owner, r, 1, &op);
	if (err)
		return err;
	p->off = r->off;
	p->len = r->len;
	p->all = r->all;
	p->since_ns = now_ns();
	/* Never stored, never indexed: it dies with its session. */
	err = ptab_pin_add(fs->pins, op.f, p, &p->id);
	pin_publish(fs, &op);
	ptab_file_unlock(fs->pins, op.f);
	if (!err || op.dropped)
		rfs_pins_changed(fs);
	if (size)
		snprintf(rel, size, "%s", op.have_rel ? op.rel : "");
	pin_done(&op, err != 0);
	return err;
}

int rfs_pins_add(fuse_req_t req, struct rfs_inode *in, const struct rng *r,
		 size_t n)
{
	struct rfs *fs = rfs_of(req);
	uid_t uid = fuse_req_ctx(req)->uid;
	struct pin *added;
	uint64_t *ids;
	size_t i, nadded = 0;
	struct pin_op op;
	int err;
	bool store_failed = false;

	if (in->type != S_IFREG || n == 0)
		return -EINVAL;
	added = calloc(n, sizeof(*added));
	ids = calloc(n, sizeof(*ids));
	if (!added || !ids) {
		err = -ENOMEM;
		goto out_free;
	}
	err = pin_begin(fs, in, uid, r, n, &op);
	if (err)
		goto out_free;
	for (i = 0; i < n; i++) {
		struct pin p = {
			.off = r[i].off,
			.len = r[i].len,
			.all = r[i].all,
			.owner = uid,
			.holder = 0,
			.since_ns = now_ns(),
		};

		if (has_same(ptab_file_pins(op.f), &p))
			continue; /* pinning twice is pinning once */
		err = ptab_pin_add(fs->pins, op.f, &p, &ids[nadded]);
		if (err)
			break;
		added[nadded++] = p;
	}
	/*
	 * The rest (index, store: synced, slow) needs only the file's
	 * lock; a failure there takes the pins out again, which is safe.
	 */
	pin_publish(fs, &op);
	/*
	 * Indexed (synced) before stored: after a crash the index may name
	 * a file without pins, never miss a pinned one.
	 */
	if (!err && nadded && fs->pidx)
		err = pidx_add(fs->pidx, in->dev, in->ino, in->handle,
			       op.have_rel ? op.rel : NULL);
	if (!err && nadded) {
		err = rfs_pins_store(op.fd, ptab_file_pins(op.f));
		store_failed = err != 0;
	}
	if (err) {
		for (i = 0; i < nadded; i++)
			ptab_pin_remove_id(fs->pins, op.f, added[i].off, ids[i],
					   NULL);
		nadded = 0;
		/* The value may be the new one: put the old one back. */
		if (store_failed)
			(void)rfs_pins_store(op.fd, ptab_file_pins(op.f));
	}
	ptab_file_unlock(fs->pins, op.f);
	if (nadded || op.dropped)
		rfs_pins_changed(fs);

	for (i = 0; i < nadded; i++)
		rfs_record_pin(req, "pin", "setxattr",
			       op.have_rel ? op.rel : NULL, &added[i]);
	pin_done(&op, err != 0 && !store_failed);
out_free:
	free(added);
	free(ids);
	return err;
}
