// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control xattrs (doc/pins.md).
 *
 * A pin change runs in this order, so that a failure leaves nothing
 * half-done: parse; check the ranges against the file; make their block
 * map stable (slow I/O, before any lock); then, under the file's lock in
 * the pin table, add the pins and store the file's whole persistent set
 * in its backing xattr; if storing fails, the pins are taken back out.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <linux/openat2.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "ops.h"
#include "mediate.h"
#include "pinindex.h"
#include "pins.h"
#include "rdmafs/audit.h"
#include "rdmafs/identity.h"
#include "rdmafs/pathesc.h"
#include "rdmafs/pinstore.h"
#include "rdmafs/pintable.h"
#include "rdmafs/range.h"
#include "stabilize.h"

#define CTL_PIN RFS_XATTR_PREFIX "pin"
#define CTL_UNPIN RFS_XATTR_PREFIX "unpin"
#define CTL_PINS RFS_XATTR_PREFIX "pins"
#define CTL_STATUS RFS_XATTR_PREFIX "status"
#define MAX_RANGES 64
#define XATTR_MAX (64 * 1024)

/* A growing text buffer for listings. */
struct text {
	char *buf;
	size_t len, cap;
	int err;
};

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
	};
	pthread_mutex_init(&fs->listing_lock, NULL);
	fs->audit = audit_open(fs->o.audit_log, 0);
	if (!fs->audit) {
		syslog(LOG_ERR, "couldn't open the audit log %s: %m",
		       fs->o.audit_log ? fs->o.audit_log : "(syslog)");
		return -errno;
	}
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
	if (fs->listing) {
		free(fs->listing->buf);
		free(fs->listing);
	}
	if (fs->audit)
		audit_close(fs->audit);
	pthread_mutex_destroy(&fs->listing_lock);
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

static void format_since(int64_t ns, char *buf, size_t size)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* "RANGE owner=U holder=P since=T" without a newline. */
static int format_pin(const struct pin *p, char *buf, size_t size)
{
	struct rng r = { .off = p->off, .len = p->len, .all = p->all };
	char rs[RNG_FMT_MAX], since[32], holder[16];

	rng_format(&r, rs, sizeof(rs));
	format_since(p->since_ns, since, sizeof(since));
	if (p->holder)
		snprintf(holder, sizeof(holder), "%d", p->holder);
	else
		snprintf(holder, sizeof(holder), "-");
	return snprintf(buf, size, "%s owner=%u holder=%s since=%s", rs,
			p->owner, holder, since);
}

/* Records a pin change (DESIGN §5): syslog, and the JSON file if set. */
static void record_pin(fuse_req_t req, const char *event, const char *op,
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

static void text_add(struct text *t, const char *s, size_t n)
{
	if (t->err)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 4096;
		char *b;

		while (cap < t->len + n + 1)
			cap *= 2;
		b = realloc(t->buf, cap);
		if (!b) {
			t->err = -ENOMEM;
			return;
		}
		t->buf = b;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

static void text_printf(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void text_printf(struct text *t, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	text_add(t, small,
		 (size_t)n < sizeof(small) ? (size_t)n : sizeof(small) - 1);
}

/* Stores the persistent pins of a locked file in its backing inode. */
static int store(struct rfs *fs, const char *path, const struct pset *set)
{
	size_t size = pstore_size(pset_count(set));
	void *buf;
	ssize_t n;
	int err = 0;

	if (size > XATTR_MAX)
		return -ENOSPC;
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	n = pstore_encode(set, buf, size);
	if (n < 0)
		err = (int)n;
	else if (n == 0)
		err = removexattr(path, PSTORE_XATTR) < 0 && errno != ENODATA
			      ? -errno
			      : 0;
	else if (setxattr(path, PSTORE_XATTR, buf, (size_t)n, 0) < 0)
		/* E2BIG and ERANGE: the filesystem cannot hold that many. */
		err = errno == E2BIG || errno == ERANGE ? -ENOSPC : -errno;
	free(buf);
	return err;
}

/* The locked pin-table entry of an inode, or NULL when it has no pins. */
static struct ptab_file *lock_pins(struct rfs *fs, uint64_t dev, uint64_t ino)
{
	struct ptab_file *f;

	ptab_read_lock();
	f = ptab_find(fs->pins, dev, ino);
	if (f && ptab_file_lock(f) < 0)
		f = NULL;
	ptab_read_unlock();
	return f;
}

struct load_ctx {
	struct rfs *fs;
	struct ptab_file *f;
};

static int load_one(const struct pin *p, void *arg)
{
	struct load_ctx *c = arg;
	int err = ptab_pin_add(c->fs->pins, c->f, p, NULL);

	if (err)
		syslog(LOG_WARNING, "couldn't load a stored pin: %s",
		       strerror(-err));
	return 0;
}

void rfs_pins_load(struct rfs *fs, struct rfs_inode *in, int fd)
{
	char path[64], rel[PATH_MAX], *buf;
	ssize_t n;
	struct load_ctx c = { .fs = fs };
	bool loaded;

	if (!fs->pins)
		return;
	rfs_fd_path(path, sizeof(path), fd);
	n = getxattr(path, PSTORE_XATTR, NULL, 0);
	if (n <= 0)
		return;
	buf = malloc((size_t)n);
	if (!buf)
		return;
	n = getxattr(path, PSTORE_XATTR, buf, (size_t)n);
	c.f = n > 0 ? ptab_get_or_create(fs->pins, in->dev, in->ino) : NULL;
	if (c.f) {
		/* Already in the table: loaded by an earlier lookup. */
		if (pset_count(ptab_file_pins(c.f)) == 0 &&
		    pstore_decode(buf, (size_t)n, load_one, &c) == -EUCLEAN)
			syslog(LOG_WARNING,
			       "ignoring a damaged pin record on inode %llu",
			       (unsigned long long)in->ino);
		/* Looked up by name: repair the index if it lost this file. */
		if (pset_count(ptab_file_pins(c.f)) && fs->pidx)
			pidx_add(fs->pidx, in->dev, in->ino, in->handle,
				 rfs_rel_path(fs, fd, rel, sizeof(rel)) == 0
					 ? rel
					 : NULL);
		loaded = pset_count(ptab_file_pins(c.f)) > 0;
		ptab_file_unlock(fs->pins, c.f);
		/* The index may have just learnt of the file. */
		if (loaded)
			rfs_pins_changed(fs);
	}
	free(buf);
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

	f = lock_pins(fs, dev, ino);
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
	char path[64];

	f = lock_pins(fs, dev, ino);
	if (!f)
		return 0;
	ptab_pin_remove_if(fs->pins, f, overlapping_pred, &c);
	if (c.n && fd >= 0) {
		rfs_fd_path(path, sizeof(path), fd);
		if (store(fs, path, ptab_file_pins(f)) < 0)
			syslog(LOG_ERR,
			       "couldn't store the pins left on inode %llu after a break",
			       (unsigned long long)ino);
	}
	if (pset_count(ptab_file_pins(f)) == 0 && fs->pidx)
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

/* True when a pin of anyone has exactly the range and holder of @key. */
static bool has_range(const struct pset *s, const struct pin *key)
{
	struct same_ctx c = { .key = key, .any_owner = true };

	pset_overlaps(s, key->off, key->all ? UINT64_MAX : key->len, same_one,
		      &c);
	return c.found;
}

static int do_pin(fuse_req_t req, struct rfs_inode *in, const char *value,
		  size_t size)
{
	struct rfs *fs = rfs_of(req);
	struct rng r[MAX_RANGES];
	struct pin added[MAX_RANGES];
	uint64_t ids[MAX_RANGES];
	size_t n, i, nadded = 0;
	char path[64], rel[PATH_MAX];
	struct ptab_file *f;
	struct stat st;
	int fd, err;
	bool have_rel;

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
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (!r[i].all && !rng_within(&r[i], (uint64_t)st.st_size)) {
			err = -EINVAL;
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		err = r[i].all ? rfs_stabilize(fd, 0, (uint64_t)st.st_size)
			       : rfs_stabilize(fd, r[i].off, r[i].len);
		if (err)
			goto out;
	}

	f = ptab_get_or_create(fs->pins, in->dev, in->ino);
	if (!f) {
		err = -errno;
		goto out;
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
	rfs_fd_path(path, sizeof(path), fd);
	if (!err && nadded)
		err = store(fs, path, ptab_file_pins(f));
	if (err) {
		for (i = 0; i < nadded; i++)
			ptab_pin_remove_id(fs->pins, f, added[i].off, ids[i],
					   NULL);
		nadded = 0;
	}
	if (!err && nadded && fs->pidx)
		pidx_add(fs->pidx, in->dev, in->ino, in->handle,
			 have_rel ? rel : NULL);
	ptab_file_unlock(fs->pins, f);
	if (nadded)
		rfs_pins_changed(fs);

	for (i = 0; i < nadded; i++)
		record_pin(req, "pin", "setxattr", have_rel ? rel : NULL,
			   &added[i]);
out:
	close(fd);
	return err;
}

struct unpin_ctx {
	uint32_t uid;
	bool root;
	/* A file never has more (max_pins_per_file is capped at it). */
	struct pin removed[RFS_MAX_PINS_PER_FILE];
	size_t n;
};

static bool unpin_pred(const struct pin *p, void *arg)
{
	struct unpin_ctx *c = arg;

	if (p->holder != 0 || (!c->root && p->owner != c->uid))
		return false;
	if (c->n < RFS_MAX_PINS_PER_FILE)
		c->removed[c->n] = *p;
	c->n++;
	return true;
}

/*
 * Removes pins of (@dev, @ino) per @value (a RANGE, or everything of the
 * caller); @fd is a descriptor of the file, to store what is left.
 */
static int unpin_inode(fuse_req_t req, dev_t dev, ino_t ino, int fd,
		       const char *value, size_t size, bool everything,
		       const char *op)
{
	struct rfs *fs = rfs_of(req);
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct unpin_ctx uc = { .uid = ctx->uid, .root = ctx->uid == 0 };
	struct pin key = { .owner = ctx->uid }, removed;
	struct ptab_file *f;
	struct rng r = { .all = true };
	char path[64], rel[PATH_MAX];
	int err = 0;
	size_t i;

	if (!everything) {
		err = rng_parse(value, size, &r);
		if (err)
			return err;
		/* "all" as an unpin value means every pin of the caller. */
		everything = r.all;
	}
	f = lock_pins(fs, dev, ino);
	if (!f)
		return -ENODATA;

	if (everything) {
		ptab_pin_remove_if(fs->pins, f, unpin_pred, &uc);
		if (uc.n == 0)
			err = -ENODATA;
	} else {
		key.off = r.off;
		key.len = r.len;
		key.all = r.all;
		err = ptab_pin_remove_exact(fs->pins, f, &key, 0, &removed);
		/* Root's own pin of that range first, else anyone's. */
		if (err == -ENODATA && uc.root)
			err = ptab_pin_remove_exact(fs->pins, f, &key,
						    PSET_ANY_OWNER, &removed);
		/* Someone else's: say why not, and leave it alone. */
		if (err == -ENODATA && !uc.root &&
		    has_range(ptab_file_pins(f), &key))
			err = -EPERM;
		if (!err) {
			uc.removed[0] = removed;
			uc.n = 1;
		}
	}
	if (!err) {
		rfs_fd_path(path, sizeof(path), fd);
		err = store(fs, path, ptab_file_pins(f));
		if (err) {
			/* Not stored: the pins stay, as they are on disk. */
			for (i = 0; i < uc.n && i < RFS_MAX_PINS_PER_FILE; i++)
				ptab_pin_add(fs->pins, f, &uc.removed[i], NULL);
		}
	}
	if (!err && pset_count(ptab_file_pins(f)) == 0 && fs->pidx)
		pidx_del(fs->pidx, dev, ino);
	ptab_file_unlock(fs->pins, f);
	if (err)
		return err;
	/* After the file's lock: this wakes the mediator, which takes it. */
	rfs_pins_changed(fs);
	if (rfs_rel_path(fs, fd, rel, sizeof(rel)) == 0)
		for (i = 0; i < uc.n && i < RFS_MAX_PINS_PER_FILE; i++)
			record_pin(req, "unpin", op, rel, &uc.removed[i]);
	return 0;
}

static int do_unpin(fuse_req_t req, struct rfs_inode *in, const char *value,
		    size_t size, bool everything)
{
	struct rfs *fs = rfs_of(req);
	const char *op = everything && !value ? "removexattr" : "setxattr";
	int fd, err;

	if (in->type != S_IFREG)
		return -EINVAL;
	fd = rfs_ifd_get(fs, in);
	if (fd < 0)
		return fd;
	err = unpin_inode(req, in->dev, in->ino, fd, value, size, everything,
			  op);
	rfs_ifd_put(fs, in);
	return err;
}

/*
 * "PATH RANGE" set as user.rdmafs.unpin on the mount root: unpins a file
 * by path, as a line of the listing names it.  While an operation on a
 * file is parked, the kernel holds that file's inode lock, so an unpin
 * through the file itself would wait for the very operation it should
 * release; through the root it does not.
 */
static int do_unpin_path(fuse_req_t req, const char *value, size_t size)
{
	struct rfs *fs = rfs_of(req);
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	char *path, rs[RNG_FMT_MAX];
	struct stat st;
	struct rng r;
	int fd, err;

	err = pesc_parse_path_range(value, size, &path, &r);
	if (err)
		return err;
	if (rfs_hidden_name(fs, &fs->root, path)) {
		free(path);
		return -EINVAL;
	}
	fd = (int)syscall(SYS_openat2, fs->root_fd, path, &how, sizeof(how));
	free(path);
	if (fd < 0)
		return -errno;
	rng_format(&r, rs, sizeof(rs));
	err = fstat(fd, &st) < 0 ? -errno : S_ISREG(st.st_mode) ? 0 : -EINVAL;
	if (!err)
		err = unpin_inode(req, st.st_dev, st.st_ino, fd, rs, strlen(rs),
				  false, "setxattr");
	close(fd);
	return err;
}

struct fmt_ctx {
	struct text *t;
	const char *prefix;
};

static int fmt_one(const struct pin *p, void *arg)
{
	struct fmt_ctx *c = arg;
	char line[160];

	format_pin(p, line, sizeof(line));
	text_printf(c->t, "%s%s%s\n", c->prefix ? c->prefix : "",
		    c->prefix ? " " : "", line);
	return 0;
}

static int get_pins(struct rfs *fs, struct rfs_inode *in, struct text *t)
{
	struct ptab_file *f;
	struct fmt_ctx c = { .t = t };

	if (in->type != S_IFREG)
		return -ENODATA;
	f = lock_pins(fs, in->dev, in->ino);
	if (!f)
		return -ENODATA;
	pset_foreach(ptab_file_pins(f), fmt_one, &c);
	ptab_file_unlock(fs->pins, f);
	return t->len ? t->err : -ENODATA;
}

/* True when the index's path hint still names the inode; copies it. */
static bool hint_matches(struct rfs *fs, const struct pidx_item *it, char *buf,
			 size_t size)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC | O_NOFOLLOW,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			   RESOLVE_NO_MAGICLINKS,
	};
	struct stat st;
	int fd, ok;

	if (!it->hint)
		return false;
	fd = (int)syscall(SYS_openat2, fs->root_fd, it->hint, &how,
			  sizeof(how));
	if (fd < 0)
		return false;
	ok = fstat(fd, &st) == 0 && (uint64_t)st.st_ino == it->ino &&
	     (uint64_t)st.st_dev == it->dev;
	close(fd);
	if (ok)
		snprintf(buf, size, "%s", it->hint);
	return ok;
}

/* Lines of one file's pins, from the table or from its stored record. */
static void list_file(struct rfs *fs, const struct pidx_item *it,
		      struct text *t)
{
	char rel[PATH_MAX], esc[PESC_MAX(PATH_MAX)], path[64], *buf = NULL;
	struct fmt_ctx c = { .t = t, .prefix = esc };
	struct ptab_file *f;
	ssize_t n;
	int fd;

	fd = open_by_handle_at(fs->mount_fd, it->fh, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ESTALE)
			pidx_del(fs->pidx, it->dev, it->ino);
		return;
	}
	if (rfs_rel_path(fs, fd, rel, sizeof(rel)) < 0 &&
	    !hint_matches(fs, it, rel, sizeof(rel)))
		/* Renamed outside the mount and out of the cache. */
		snprintf(rel, sizeof(rel), "?ino=%llu",
			 (unsigned long long)it->ino);
	if (pesc_escape(rel, esc, sizeof(esc)) < 0)
		t->err = -ENAMETOOLONG;

	f = lock_pins(fs, it->dev, it->ino);
	if (f) {
		pset_foreach(ptab_file_pins(f), fmt_one, &c);
		ptab_file_unlock(fs->pins, f);
		goto out;
	}
	/* Not used since mount: read its stored pins without loading them. */
	rfs_fd_path(path, sizeof(path), fd);
	n = getxattr(path, PSTORE_XATTR, NULL, 0);
	if (n > 0 && (buf = malloc((size_t)n)) &&
	    (n = getxattr(path, PSTORE_XATTR, buf, (size_t)n)) > 0) {
		if (pstore_decode(buf, (size_t)n, fmt_one, &c) < 0)
			pidx_del(fs->pidx, it->dev, it->ino);
	} else if (n < 0 && errno == ENODATA) {
		pidx_del(fs->pidx, it->dev, it->ino);
	}
	free(buf);
out:
	close(fd);
}

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The whole mount's listing, sorted by path. */
static int list_all(struct rfs *fs, struct text *out)
{
	struct pidx_item *items = NULL;
	struct text t = { 0 };
	ssize_t n;
	size_t i, nl = 0;
	char **lines, *p;

	n = fs->pidx ? pidx_items(fs->pidx, &items) : 0;
	if (n < 0)
		return (int)n;
	for (i = 0; i < (size_t)n; i++)
		list_file(fs, &items[i], &t);
	if (items)
		pidx_free_items(items, (size_t)n);
	if (t.err) {
		free(t.buf);
		return t.err;
	}
	for (p = t.buf; p && *p; p++)
		nl += *p == '\n';
	lines = calloc(nl ? nl : 1, sizeof(*lines));
	if (!lines) {
		free(t.buf);
		return -ENOMEM;
	}
	for (i = 0, p = t.buf; i < nl; i++) {
		lines[i] = p;
		p = strchr(p, '\n');
		*p++ = '\0';
	}
	qsort(lines, nl, sizeof(*lines), cmp_lines);
	for (i = 0; i < nl; i++) {
		text_add(out, lines[i], strlen(lines[i]));
		text_add(out, "\n", 1);
	}
	free(lines);
	free(t.buf);
	return out->err;
}

void rfs_pins_changed(struct rfs *fs)
{
	__atomic_add_fetch(&fs->pin_gen, 1, __ATOMIC_RELEASE);
	rfs_mediate_kick(fs);
}

/*
 * Page @page of the listing: whole lines, at most 64 KiB with room for
 * the "#more" line that names the next page.
 *
 * Page 0 is built afresh from the pins and paths of the moment and kept;
 * later pages are cut from that snapshot, so a reader walking the pages
 * sees one consistent listing.  When pins changed (or a pinned path may
 * have) since the snapshot, a later page answers ENODATA, and the reader
 * starts over at page 0 (rdmafsctl does).
 */
static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Makes the listing snapshot current, with listing_lock held.  A snapshot
 * of the same pin generation is reused for as long as the mount lets the
 * kernel cache attributes (timeout=): renames and unlinks through the
 * mount bump the generation, so only a change made behind the mount's
 * back can go unseen, and no longer than cached attributes would.
 */
static int listing_refresh_locked(struct rfs *fs, uint64_t gen)
{
	struct text *all = fs->listing;
	int64_t now = mono_ms();
	int err;

	if (all && fs->listing_valid && fs->listing_gen == gen &&
	    now - fs->listing_ms < (int64_t)(fs->timeout * 1000))
		return 0;
	if (!all) {
		all = calloc(1, sizeof(*all));
		if (!all)
			return -ENOMEM;
		fs->listing = all;
	}
	free(all->buf);
	memset(all, 0, sizeof(*all));
	fs->listing_gen = gen;
	fs->listing_ms = now;
	err = list_all(fs, all);
	fs->listing_valid = !err;
	return err;
}

static int get_listing(struct rfs *fs, unsigned long page, struct text *t)
{
	size_t start = 0, budget = XATTR_MAX - 64;
	unsigned long pg = 0;
	uint64_t gen = __atomic_load_n(&fs->pin_gen, __ATOMIC_ACQUIRE);
	struct text *all;
	int err = 0;

	pthread_mutex_lock(&fs->listing_lock);
	if (page == 0)
		err = listing_refresh_locked(fs, gen);
	else if (!fs->listing_valid || fs->listing_gen != gen)
		err = -ENODATA;
	all = fs->listing;
	while (!err) {
		size_t end = start;

		/* Take whole lines up to the budget. */
		while (end < all->len) {
			char *nl = memchr(all->buf + end, '\n', all->len - end);
			size_t next = (size_t)(nl - all->buf) + 1;

			if (next - start > budget && end > start)
				break;
			end = next;
		}
		if (pg == page) {
			text_add(t, all->buf ? all->buf + start : "",
				 end - start);
			if (end < all->len)
				text_printf(t, "#more %s.%lu\n", CTL_PINS,
					    page + 1);
			break;
		}
		if (end >= all->len) {
			err = -ENODATA; /* no such page */
			break;
		}
		start = end;
		pg++;
	}
	pthread_mutex_unlock(&fs->listing_lock);
	return err ? err : t->err;
}

/*
 * Counts the pins and files of the mount-wide listing: the table alone
 * misses files not looked up since mount.  Lines are sorted, so the lines
 * of one file (one path) are adjacent.
 */
/* Pins and pinned files as the listing shows them (not only loaded ones). */
static int count_listing(struct rfs *fs, struct ptab_stats *st)
{
	const char *p, *prev = NULL;
	size_t n, plen = 0;
	int err;

	pthread_mutex_lock(&fs->listing_lock);
	err = listing_refresh_locked(
		fs, __atomic_load_n(&fs->pin_gen, __ATOMIC_ACQUIRE));
	st->pins = st->files = 0;
	for (p = err ? NULL : fs->listing->buf; p && *p;
	     p += strcspn(p, "\n") + 1) {
		n = strcspn(p, " ");
		st->pins++;
		if (!prev || n != plen || memcmp(p, prev, n) != 0)
			st->files++;
		prev = p;
		plen = n;
	}
	pthread_mutex_unlock(&fs->listing_lock);
	return err;
}

static int get_status(struct rfs *fs, struct text *t)
{
	struct ptab_stats st;

	ptab_get_stats(fs->pins, &st);
	if (fs->pidx && count_listing(fs, &st) < 0)
		ptab_get_stats(fs->pins, &st);
	text_printf(t, "version=%s\n", RDMAFS_VERSION);
	text_printf(t, "pins=%" PRIu64 "\n", st.pins);
	text_printf(t, "files_pinned=%" PRIu64 "\n", st.files);
	text_printf(t, "max_pins=%u\n", fs->o.max_pins);
	text_printf(t, "max_pins_per_file=%u\n", fs->o.max_pins_per_file);
	{
		char pol[1024];

		rfs_mediate_status(fs, pol, sizeof(pol));
		text_add(t, pol, strlen(pol));
	}
	return t->err;
}

static void reply_text(fuse_req_t req, int err, struct text *t, size_t size)
{
	if (err)
		fuse_reply_err(req, -err);
	else if (t->len > XATTR_MAX)
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

	if (strcmp(name, CTL_PINS) == 0) {
		*page = 0;
		return true;
	}
	if (!has_prefix(name, CTL_PINS ".") || !name[sizeof(CTL_PINS)])
		return false;
	errno = 0;
	*page = strtoul(name + sizeof(CTL_PINS), &end, 10);
	return !errno && !*end && *page > 0 && name[sizeof(CTL_PINS)] != '0';
}

bool rfs_ctl_getxattr(fuse_req_t req, struct rfs_inode *in, const char *name,
		      size_t size)
{
	struct rfs *fs = rfs_of(req);
	struct text t = { 0 };
	unsigned long page;
	int err;

	if (has_prefix(name, RFS_HIDDEN_PREFIX)) {
		fuse_reply_err(req, ENODATA);
		return true;
	}
	if (!has_prefix(name, RFS_XATTR_PREFIX))
		return false;
	if (strcmp(name, CTL_PIN) == 0)
		err = get_pins(fs, in, &t);
	else if (in == &fs->root && pins_page(name, &page))
		err = get_listing(fs, page, &t);
	else if (in == &fs->root && strcmp(name, CTL_STATUS) == 0)
		err = get_status(fs, &t);
	else
		err = -ENODATA;
	reply_text(req, err, &t, size);
	return true;
}

bool rfs_ctl_setxattr(fuse_req_t req, struct rfs_inode *in, const char *name,
		      const char *value, size_t size)
{
	int err;

	if (has_prefix(name, RFS_HIDDEN_PREFIX)) {
		fuse_reply_err(req, EPERM);
		return true;
	}
	if (!has_prefix(name, RFS_XATTR_PREFIX))
		return false;
	if (strcmp(name, CTL_PIN) == 0)
		err = do_pin(req, in, value, size);
	else if (strcmp(name, CTL_UNPIN) == 0 && in == &rfs_of(req)->root)
		err = do_unpin_path(req, value, size);
	else if (strcmp(name, CTL_UNPIN) == 0)
		err = do_unpin(req, in, value, size, false);
	else
		err = -EINVAL;
	fuse_reply_err(req, -err);
	return true;
}

bool rfs_ctl_removexattr(fuse_req_t req, struct rfs_inode *in, const char *name)
{
	int err;

	if (has_prefix(name, RFS_HIDDEN_PREFIX)) {
		fuse_reply_err(req, EPERM);
		return true;
	}
	if (!has_prefix(name, RFS_XATTR_PREFIX))
		return false;
	if (strcmp(name, CTL_PIN) == 0)
		err = do_unpin(req, in, NULL, 0, true);
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

		if (!has_prefix(list + in, RFS_HIDDEN_PREFIX) &&
		    !has_prefix(list + in, RFS_XATTR_PREFIX)) {
			memmove(list + out, list + in, n);
			out += n;
		}
		in += n;
	}
	return out;
}
