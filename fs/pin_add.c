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
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

/* Stabilises every range of @r (`all`: up to @size), at the caller's cost. */
static int stab_ranges(fuse_req_t req, struct rfs_inode *in, struct stab *stab,
		       const struct rng *r, size_t n, uint64_t size)
{
	struct rfs_cred cred = { 0 };
	size_t i;
	/* Blocks a pin allocates are the caller's to pay for, as a write. */
	int err =
		rfs_space_enter(rfs_of(req), in, fuse_req_ctx(req)->uid, &cred);

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
static int stab_gated(fuse_req_t req, struct rfs_inode *in, struct stab *stab,
		      int fd, const struct rng *r, size_t n)
{
	struct rfs *fs = rfs_of(req);
	uint64_t size;
	int try, err;

	for (try = 1; try < PIN_TRIES; try++) {
		err = ranges_within(fd, r, n, &size);
		if (!err)
			err = stab_ranges(req, in, stab, r, n, size);
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
		err = stab_ranges(req, in, stab, r, n, size);
	if (err)
		gate_unlock(fs);
	return err;
}

int rfs_pins_add(fuse_req_t req, struct rfs_inode *in, const struct rng *r,
		 size_t n)
{
	struct rfs *fs = rfs_of(req);
	struct pin *added;
	uint64_t *ids;
	size_t i, nadded = 0;
	char rel[PATH_MAX];
	struct ptab_file *f;
	struct stab stab;
	int fd, err;
	bool have_rel, store_failed = false, dropped;

	if (in->type != S_IFREG || n == 0)
		return -EINVAL;
	added = calloc(n, sizeof(*added));
	ids = calloc(n, sizeof(*ids));
	if (!added || !ids) {
		err = -ENOMEM;
		goto out_free;
	}
	fd = rfs_inode_open(fs, in, O_RDWR);
	if (fd < 0) {
		err = fd;
		goto out_free;
	}
	/* The file was just reached by name: its path is at hand now. */
	have_rel = rfs_rel_path(fs, fd, rel, sizeof(rel)) == 0;
	err = stab_begin(&stab, fd);
	if (err)
		goto out;
	err = stab_gated(req, in, &stab, fd, r, n);
	if (err)
		goto out_stab;
	/* The file's own entry: not one a deleted inode left (item 2). */
	f = rfs_pins_entry(fs, in, &dropped);
	if (!f) {
		err = -errno;
		gate_unlock(fs);
		goto out_stab;
	}
	for (i = 0; i < n; i++) {
		struct pin p = {
			.off = r[i].off,
			.len = r[i].len,
			.all = r[i].all,
			.owner = fuse_req_ctx(req)->uid,
			.holder = 0,
			.since_ns = now_ns(),
		};

		if (has_same(ptab_file_pins(f), &p))
			continue; /* pinning twice is pinning once */
		err = ptab_pin_add(fs->pins, f, &p, &ids[nadded]);
		if (err)
			break;
		added[nadded++] = p;
	}
	/*
	 * Published before the gate opens: a layout change from now on
	 * sees the pins (and waits for the file's lock).  The rest (index,
	 * store: synced, slow) needs only the file's lock; a failure there
	 * takes the pins out again, which is safe.
	 */
	ptab_file_publish(f);
	gate_unlock(fs);
	/*
	 * Indexed (synced) before stored: after a crash the index may name
	 * a file without pins, never miss a pinned one.
	 */
	if (!err && nadded && fs->pidx)
		err = pidx_add(fs->pidx, in->dev, in->ino, in->handle,
			       have_rel ? rel : NULL);
	if (!err && nadded) {
		err = rfs_pins_store(fd, ptab_file_pins(f));
		store_failed = err != 0;
	}
	if (err) {
		for (i = 0; i < nadded; i++)
			ptab_pin_remove_id(fs->pins, f, added[i].off, ids[i],
					   NULL);
		nadded = 0;
		/* The value may be the new one: put the old one back. */
		if (store_failed)
			(void)rfs_pins_store(fd, ptab_file_pins(f));
	}
	ptab_file_unlock(fs->pins, f);
	if (nadded || dropped)
		rfs_pins_changed(fs);

	for (i = 0; i < nadded; i++)
		rfs_record_pin(req, "pin", "setxattr", have_rel ? rel : NULL,
			       &added[i]);
out_stab:
	/*
	 * A failed pin gives back the holes it allocated (DESIGN §11),
	 * unless a failed store may have left the new pin on disk: then
	 * the blocks stay, lest a pin come back over holes.
	 */
	stab_end(&stab, err != 0 && !store_failed);
out:
	close(fd);
out_free:
	free(added);
	free(ids);
	return err;
}
