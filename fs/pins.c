// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control xattrs (doc/pins.md).
 *
 * A pin runs in this order, so that a failure leaves nothing half-done:
 * parse; check the ranges against the file; make their block map stable
 * (slow I/O, before any lock); take the layout gate (mediate.h) and check
 * the map again, since a layout change that checked "not pinned" may
 * have been in flight (stab_gated()); under the gate and the file's lock
 * in the pin table, add the pins; then, with the file's lock only,
 * record the file in the index (synced) and store the file's whole
 * persistent set in its backing xattr (synced: pinstore_io.c); if
 * storing fails, the pins are taken back out.  Unpinning is in unpin.c,
 * the mount-wide listing and status in listing.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "listing.h"
#include "ops.h"
#include "mediate.h"
#include "core/pinindex.h"
#include "pins.h"
#include "pinstore_io.h"
#include "core/audit.h"
#include "core/identity.h"
#include "core/pinstore.h"
#include "core/pintable.h"
#include "core/range.h"
#include "core/stabilize.h"

#define MAX_RANGES 64

static bool has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

bool rfs_hidden_name(struct rfs *fs, struct rfs_inode *dir, const char *name)
{
	return dir == &fs->root && strcmp(name, PIDX_DIR) == 0;
}

int rfs_pins_start(struct rfs *fs)
{
	struct ptab_limits lim = {
		.pins_per_file = fs->o.max_pins_per_file,
		.pins = fs->o.max_pins,
		.pins_per_user = fs->o.max_pins_per_user,
	};
	int err = rfs_listing_init(fs);

	if (err)
		return err;
	/* fs->audit: main() opened it before mounting (DESIGN §11). */
	fs->pins = ptab_new(&lim);
	if (!fs->pins)
		return -errno;
	fs->pidx = calloc(1, sizeof(*fs->pidx));
	if (!fs->pidx)
		return -ENOMEM;
	if (pidx_open(fs->pidx, fs->root_fd) < 0)
		syslog(LOG_WARNING,
		       "no pin index in %s (%m): the mount-wide listing shows only files used since mount",
		       fs->o.backing);
	rfs_pins_preload(fs);
	return 0;
}

void rfs_pins_stop(struct rfs *fs)
{
	if (fs->pins)
		ptab_free(fs->pins);
	if (fs->pidx) {
		pidx_close(fs->pidx);
		free(fs->pidx);
	}
	rfs_listing_free(fs);
	if (fs->audit)
		audit_close(fs->audit);
}

bool rfs_pins_any(struct rfs *fs)
{
	struct ptab_stats st;

	if (!fs->pins)
		return false;
	ptab_get_stats(fs->pins, &st);
	return st.pins > 0;
}

/* The path of an open backing file relative to the backing root. */
int rfs_rel_path(struct rfs *fs, int fd, char *buf, size_t size)
{
	char link[64], full[PATH_MAX];
	ssize_t n;
	size_t rl;

	rfs_fd_path(link, sizeof(link), fd);
	n = readlink(link, full, sizeof(full) - 1);
	if (n < 0)
		return -errno;
	full[n] = '\0';
	if (n > 10 && strcmp(full + n - 10, " (deleted)") == 0)
		return -ENOENT;
	rl = fs->backing_real ? strlen(fs->backing_real) : 0;
	if (rl == 1) /* backing is "/" */
		rl = 0;
	if (rl && (strncmp(full, fs->backing_real, rl) != 0 ||
		   (full[rl] != '/' && full[rl] != '\0')))
		return -EXDEV;
	snprintf(buf, size, "%s", full[rl] == '/' ? full + rl + 1 : full + rl);
	return 0;
}

void rfs_record_pin(fuse_req_t req, const char *event, const char *op,
		    const char *path, const struct pin *p)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct rfs *fs = rfs_of(req);
	struct audit_pin ap = {
		.off = p->off,
		.len = p->len,
		.all = p->all,
		.owner = p->owner,
		.holder = p->holder,
	};
	struct audit_event ev = {
		.event = event,
		.op = op,
		.path = path,
		.range = p->all ? AUDIT_RANGE_ALL : AUDIT_RANGE_SPAN,
		.offset = p->off,
		.length = p->len,
		.waited_ms = -1,
		.pins = &ap,
		.npins = 1,
	};
	struct ident *id = malloc(sizeof(*id));

	/* Read at request time: the process may be gone a moment later. */
	if (id && ident_read(ctx->pid, ctx->uid, ctx->gid, id) >= -ESRCH)
		ev.process = id;
	audit_log(fs->audit, &ev);
	free(id);
}

struct ptab_file *rfs_pins_lock(struct rfs *fs, uint64_t dev, uint64_t ino)
{
	struct ptab_file *f;

	ptab_read_lock();
	f = ptab_find(fs->pins, dev, ino);
	if (f && ptab_file_lock(f) < 0)
		f = NULL;
	ptab_read_unlock();
	return f;
}

void rfs_pins_renamed(struct rfs *fs, int dfd, const char *name)
{
	char dir[PATH_MAX], hint[PATH_MAX];
	struct stat st;

	if (!fs->pidx || fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(st.st_mode) ||
	    !ptab_has_overlap(fs->pins, st.st_dev, st.st_ino, 0, UINT64_MAX))
		return;
	if (rfs_rel_path(fs, dfd, dir, sizeof(dir)) < 0)
		return;
	if (snprintf(hint, sizeof(hint), "%s%s%s", dir, *dir ? "/" : "",
		     name) >= (int)sizeof(hint))
		return;
	pidx_add(fs->pidx, st.st_dev, st.st_ino, NULL, hint);
}

struct collect_ctx {
	struct audit_pin *out;
	size_t max, n;
	uint64_t off, len;
};

static void to_audit(const struct pin *p, struct audit_pin *a)
{
	a->off = p->off;
	a->len = p->len;
	a->all = p->all;
	a->owner = p->owner;
	a->holder = p->holder;
}

static int collect_one(const struct pin *p, void *arg)
{
	struct collect_ctx *c = arg;

	if (c->n < c->max)
		to_audit(p, &c->out[c->n]);
	c->n++;
	return 0;
}

size_t rfs_pins_overlapping(struct rfs *fs, dev_t dev, ino_t ino, uint64_t off,
			    uint64_t len, struct audit_pin *out, size_t max)
{
	struct collect_ctx c = { .out = out, .max = max };
	struct ptab_file *f;

	f = rfs_pins_lock(fs, dev, ino);
	if (!f)
		return 0;
	pset_overlaps(ptab_file_pins(f), off, len, collect_one, &c);
	ptab_file_unlock(fs->pins, f);
	return c.n;
}

static bool overlapping_pred(const struct pin *p, void *arg)
{
	struct collect_ctx *c = arg;

	if (!rng_overlaps(p->off, p->all ? UINT64_MAX - p->off : p->len, c->off,
			  c->len) &&
	    !(p->all && c->len))
		return false;
	collect_one(p, c);
	return true;
}

size_t rfs_pins_revoke(struct rfs *fs, dev_t dev, ino_t ino, int fd,
		       uint64_t off, uint64_t len, struct audit_pin *out,
		       size_t max)
{
	struct collect_ctx c = {
		.out = out, .max = max, .off = off, .len = len
	};
	struct ptab_file *f;
	int err = 0;

	f = rfs_pins_lock(fs, dev, ino);
	if (!f)
		return 0;
	ptab_pin_remove_if(fs->pins, f, overlapping_pred, &c);
	if (c.n && fd >= 0) {
		err = rfs_pins_store(fd, ptab_file_pins(f));
		if (err)
			syslog(LOG_ERR,
			       "couldn't store the pins left on inode %llu after a break: %s",
			       (unsigned long long)ino, strerror(-err));
	}
	/* Still stored: the index keeps the file, to list and reload it. */
	if (!err && fd >= 0 && pset_count(ptab_file_pins(f)) == 0 && fs->pidx)
		pidx_del(fs->pidx, dev, ino);
	ptab_file_unlock(fs->pins, f);
	if (c.n)
		rfs_pins_changed(fs);
	return c.n;
}

static bool every_pin(const struct pin *p, void *arg)
{
	return true;
}

void rfs_pins_inode_gone(struct rfs *fs, dev_t dev, ino_t ino)
{
	struct ptab_file *f;

	if (!fs->pins)
		return;
	f = ptab_get_or_create(fs->pins, dev, ino);
	if (!f)
		return;
	ptab_pin_remove_if(fs->pins, f, every_pin, NULL);
	ptab_file_unlock(fs->pins, f);
	rfs_pins_changed(fs);
	if (fs->pidx)
		pidx_del(fs->pidx, dev, ino);
}

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
		rfs_gate_lock_pin(fs);
		err = ranges_within(fd, r, n, &size);
		if (!err)
			err = verify_ranges(fd, r, n, size);
		if (!err)
			return 0;
		rfs_gate_unlock_pin(fs);
		if (err != -EAGAIN)
			return err;
	}
	rfs_gate_lock_pin(fs);
	err = ranges_within(fd, r, n, &size);
	if (!err)
		err = stab_ranges(req, in, stab, r, n, size);
	if (err)
		rfs_gate_unlock_pin(fs);
	return err;
}

static int do_pin(fuse_req_t req, struct rfs_inode *in, const char *value,
		  size_t size)
{
	struct rfs *fs = rfs_of(req);
	struct rng r[MAX_RANGES];
	struct pin added[MAX_RANGES];
	uint64_t ids[MAX_RANGES];
	size_t n, i, nadded = 0;
	char rel[PATH_MAX];
	struct ptab_file *f;
	struct stab stab;
	int fd, err;
	bool have_rel, store_failed = false, dropped;

	if (in->type != S_IFREG)
		return -EINVAL;
	err = rng_parse_list(value, size, r, MAX_RANGES, &n);
	if (err)
		return err == -E2BIG ? -EINVAL : err;

	fd = rfs_inode_open(fs, in, O_RDWR);
	if (fd < 0)
		return fd;
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
		rfs_gate_unlock_pin(fs);
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
	rfs_gate_unlock_pin(fs);
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
	return err;
}

static int get_pins(struct rfs *fs, struct rfs_inode *in, struct text *t)
{
	struct ptab_file *f;
	struct rfs_pin_lines c = { .t = t };

	if (in->type != S_IFREG)
		return -ENODATA;
	f = rfs_pins_lock(fs, in->dev, in->ino);
	if (!f)
		return -ENODATA;
	pset_foreach(ptab_file_pins(f), rfs_pin_line, &c);
	ptab_file_unlock(fs->pins, f);
	return t->len ? t->err : -ENODATA;
}

void rfs_pins_changed(struct rfs *fs)
{
	__atomic_add_fetch(&fs->pin_gen, 1, __ATOMIC_RELEASE);
	rfs_mediate_kick(fs);
}

static void reply_text(fuse_req_t req, int err, struct text *t, size_t size)
{
	if (err)
		fuse_reply_err(req, -err);
	else if (t->len > PROTO_VALUE_MAX)
		fuse_reply_err(req, E2BIG);
	else if (size == 0)
		fuse_reply_xattr(req, t->len);
	else if (size < t->len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, t->buf, t->len);
	free(t->buf);
}

/* The page number of "user.rdmafs.pins.N", or 0 for the first page. */
static bool pins_page(const char *name, unsigned long *page)
{
	char *end;

	if (strcmp(name, PROTO_PINS) == 0) {
		*page = 0;
		return true;
	}
	if (!has_prefix(name, PROTO_PINS ".") || !name[sizeof(PROTO_PINS)])
		return false;
	errno = 0;
	*page = strtoul(name + sizeof(PROTO_PINS), &end, 10);
	return !errno && !*end && *page > 0 && name[sizeof(PROTO_PINS)] != '0';
}

bool rfs_ctl_getxattr(fuse_req_t req, struct rfs_inode *in, const char *name,
		      size_t size)
{
	struct rfs *fs = rfs_of(req);
	struct text t = { 0 };
	unsigned long page;
	int err;

	if (has_prefix(name, PROTO_HIDDEN_PREFIX)) {
		fuse_reply_err(req, ENODATA);
		return true;
	}
	if (!has_prefix(name, PROTO_PREFIX))
		return false;
	if (strcmp(name, PROTO_PIN) == 0)
		err = get_pins(fs, in, &t);
	else if (in == &fs->root && pins_page(name, &page))
		err = rfs_listing_page(req, page, &t);
	else if (in == &fs->root && strcmp(name, PROTO_STATUS) == 0)
		err = rfs_listing_status(req, &t);
	else
		err = -ENODATA;
	reply_text(req, err, &t, size);
	return true;
}

bool rfs_ctl_setxattr(fuse_req_t req, struct rfs_inode *in, const char *name,
		      const char *value, size_t size)
{
	int err;

	if (has_prefix(name, PROTO_HIDDEN_PREFIX)) {
		fuse_reply_err(req, EPERM);
		return true;
	}
	if (!has_prefix(name, PROTO_PREFIX))
		return false;
	if (strcmp(name, PROTO_PIN) == 0)
		err = do_pin(req, in, value, size);
	else if (strcmp(name, PROTO_UNPIN) == 0 && in == &rfs_of(req)->root)
		err = rfs_unpin_path(req, value, size);
	else if (strcmp(name, PROTO_UNPIN) == 0)
		err = rfs_unpin_file(req, in, value, size, false);
	else
		err = -EINVAL;
	fuse_reply_err(req, -err);
	return true;
}

bool rfs_ctl_removexattr(fuse_req_t req, struct rfs_inode *in, const char *name)
{
	int err;

	if (has_prefix(name, PROTO_HIDDEN_PREFIX)) {
		fuse_reply_err(req, EPERM);
		return true;
	}
	if (!has_prefix(name, PROTO_PREFIX))
		return false;
	if (strcmp(name, PROTO_PIN) == 0)
		err = rfs_unpin_file(req, in, NULL, 0, true);
	else
		err = -EINVAL;
	fuse_reply_err(req, -err);
	return true;
}

size_t rfs_ctl_filter_list(char *list, size_t len)
{
	size_t in = 0, out = 0;

	while (in < len) {
		size_t n = strnlen(list + in, len - in) + 1;

		if (!has_prefix(list + in, PROTO_HIDDEN_PREFIX) &&
		    !has_prefix(list + in, PROTO_PREFIX)) {
			memmove(list + out, list + in, n);
			out += n;
		}
		in += n;
	}
	return out;
}
