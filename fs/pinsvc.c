// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The pin service's own state and the changes that come from outside a
 * pin or unpin: start and stop, a break's revocation, an inode gone or
 * renamed, and the audit record of a pin change; see pinsvc.h.  Adding
 * pins is in pin_add.c, removing them in unpin.c, storing and loading in
 * pinstore_io.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "ops.h"
#include "pinstore_io.h"
#include "pinsvc.h"
#include "session.h"
#include "core/audit.h"
#include "core/identity.h"
#include "core/pinindex.h"
#include "core/pintable.h"

bool rfs_hidden_name(struct rfs *fs, struct rfs_inode *dir, const char *name)
{
	return dir == &fs->root && strcmp(name, PIDX_DIR) == 0;
}

int rfs_pins_start(struct rfs *fs, const struct rfs_pin_hooks *hooks)
{
	struct ptab_limits lim = {
		.pins_per_file = fs->o.max_pins_per_file,
		.pins = fs->o.max_pins,
		.pins_per_user = fs->o.max_pins_per_user,
	};

	fs->pin_hooks = hooks;
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
	fs->pins = NULL;
	if (fs->pidx) {
		pidx_close(fs->pidx);
		free(fs->pidx);
	}
	fs->pidx = NULL;
	fs->pin_hooks = NULL;
}

bool rfs_pins_any(struct rfs *fs)
{
	struct ptab_stats st;

	if (!fs->pins)
		return false;
	ptab_get_stats(fs->pins, &st);
	return st.pins > 0;
}

void rfs_pins_changed(struct rfs *fs)
{
	__atomic_add_fetch(&fs->pin_gen, 1, __ATOMIC_RELEASE);
	if (fs->pin_hooks && fs->pin_hooks->changed)
		fs->pin_hooks->changed(fs);
}

void rfs_pins_name_gone(struct rfs *fs, dev_t dev, ino_t ino)
{
	/*
	 * The listing names a file by its path when pinned (index hint,
	 * hold): without this it would show the removed name until its
	 * cache expires (the entry timeout).
	 */
	if ((fs->pins && ptab_has_overlap(fs->pins, dev, ino, 0, UINT64_MAX)) ||
	    (fs->pidx && pidx_has(fs->pidx, dev, ino)))
		rfs_pins_changed(fs);
}

/* True when @rel, relative to the backing root, leads to the inode of @fd. */
static bool names_fd(struct rfs *fs, const char *rel, int fd)
{
	struct stat a, b;

	return *rel && fs->root_fd >= 0 &&
	       fstatat(fs->root_fd, rel, &a, AT_SYMLINK_NOFOLLOW) == 0 &&
	       fstat(fd, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

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
	rl = fs->backing_real ? strlen(fs->backing_real) : 0;
	if (rl == 1) /* backing is "/" */
		rl = 0;
	if (rl && (strncmp(full, fs->backing_real, rl) != 0 ||
		   (full[rl] != '/' && full[rl] != '\0')))
		return -EXDEV;
	snprintf(buf, size, "%s", full[rl] == '/' ? full + rl + 1 : full + rl);
	/*
	 * d_path() marks a name that is gone with " (deleted)", but a
	 * file may also be called that: the name is its own when it
	 * still leads to this very inode.
	 */
	if (n > 10 && strcmp(full + n - 10, " (deleted)") == 0 &&
	    !names_fd(fs, buf, fd))
		return -ENOENT;
	return 0;
}

void rfs_record_pin_who(struct rfs *fs, const struct ident *who,
			const char *event, const char *op, const char *path,
			const struct pin *p, const char *reason)
{
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
		.process = who,
		.reason = reason,
	};

	audit_log(fs->audit, &ev);
}

void rfs_record_pin(fuse_req_t req, const char *event, const char *op,
		    const char *path, const struct pin *p)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct ident *id = malloc(sizeof(*id));

	/* Read at request time: the process may be gone a moment later. */
	if (id && ident_read(ctx->pid, ctx->uid, ctx->gid, id) < -ESRCH) {
		free(id);
		id = NULL;
	}
	rfs_record_pin_who(rfs_of(req), id, event, op, path, p, NULL);
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

	if (!fs->pins || fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(st.st_mode) ||
	    !ptab_has_overlap(fs->pins, st.st_dev, st.st_ino, 0, UINT64_MAX))
		return;
	if (rfs_rel_path(fs, dfd, dir, sizeof(dir)) < 0)
		return;
	if (snprintf(hint, sizeof(hint), "%s%s%s", dir, *dir ? "/" : "",
		     name) >= (int)sizeof(hint))
		return;
	/* Session pins' files are not indexed: their holds keep the path. */
	rfs_sess_renamed(fs, st.st_dev, st.st_ino, hint);
	if (fs->pidx)
		pidx_add(fs->pidx, st.st_dev, st.st_ino, NULL, hint);
}

struct collect_ctx {
	struct audit_pin *out;
	size_t max, n;
	uint64_t off, len;
	/* The session pins removed, for their holders (cap: the file's). */
	struct pin *sp;
	size_t nsp, capsp;
	/* For a holder told at once, when there was no room (sess_room()). */
	struct rfs *fs;
	const struct proto_notice *what;
};

/*
 * Keeps session pin @p, going with the file's lock held, for its holder
 * to be told once the lock is dropped; without room, tells it now
 * (DESIGN §11: a revoked hold is never left unseen, its holder believing
 * it still holds).  The sessions' lock comes after a file's lock
 * (session_int.h) and rfs_sess_revoked() never blocks, so this is safe.
 */
static void keep_sess(struct collect_ctx *c, const struct pin *p)
{
	if (!p->sess)
		return;
	if (c->nsp < c->capsp)
		c->sp[c->nsp++] = *p;
	else if (c->fs)
		rfs_sess_revoked(c->fs, p, c->what);
}

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
	keep_sess(c, p);
	return 0;
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

/*
 * Room for the session pins a removal from the locked @f may take: their
 * holders are told after the file's lock is dropped, to keep it short.
 * Without memory they are told under it, one by one (keep_sess()).
 */
static void sess_room(struct collect_ctx *c, const struct ptab_file *f)
{
	size_t n = pset_count(ptab_file_pins(f));

	c->sp = n ? malloc(n * sizeof(*c->sp)) : NULL;
	c->capsp = c->sp ? n : 0;
	if (n && !c->sp)
		syslog(LOG_ERR,
		       "out of memory: holders of revoked session pins told under the file's lock");
}

static void tell_holders(struct rfs *fs, struct collect_ctx *c,
			 const struct proto_notice *what)
{
	size_t i;

	for (i = 0; i < c->nsp; i++)
		rfs_sess_revoked(fs, &c->sp[i], what);
	free(c->sp);
	c->sp = NULL;
}

size_t rfs_pins_revoke_what(struct rfs *fs, dev_t dev, ino_t ino, int fd,
			    uint64_t off, uint64_t len, struct audit_pin *out,
			    size_t max, const struct proto_notice *what)
{
	struct collect_ctx c = {
		.out = out,
		.max = max,
		.off = off,
		.len = len,
		.fs = fs,
		.what = what,
	};
	struct ptab_file *f;
	int err = 0;

	f = rfs_pins_lock(fs, dev, ino);
	if (!f)
		return 0;
	sess_room(&c, f);
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
	tell_holders(fs, &c, what);
	if (c.n)
		rfs_pins_changed(fs);
	return c.n;
}

static bool every_pin(const struct pin *p, void *arg)
{
	keep_sess(arg, p);
	return true;
}

void rfs_pins_inode_gone(struct rfs *fs, dev_t dev, ino_t ino)
{
	struct collect_ctx c = { .fs = fs };
	struct ptab_file *f;

	if (!fs->pins)
		return;
	f = ptab_get_or_create(fs->pins, dev, ino);
	if (!f)
		return;
	sess_room(&c, f);
	ptab_pin_remove_if(fs->pins, f, every_pin, &c);
	ptab_file_unlock(fs->pins, f);
	tell_holders(fs, &c, NULL);
	rfs_pins_changed(fs);
	if (fs->pidx)
		pidx_del(fs->pidx, dev, ino);
}
