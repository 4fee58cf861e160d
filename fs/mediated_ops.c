// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The operations that can change a file's block map (DESIGN §3; unlink
 * and rename are in mediated_names.c): each handler works out which range
 * of which inode it would touch, and when that range may be pinned hands
 * the request to rfs_mediate() with what it needs to be performed later.  Everything else goes straight to the
 * plain handler (rfs_*_now), at the cost of one lock-free check and the
 * layout gate taken shared (mediate.h), held from the check until the
 * plain operation has returned so that no pin can slip in between.
 *
 * A parked request keeps what it refers to alive: the kernel holds the
 * open files of a request until it is answered, and the inode and
 * directory descriptors taken here are held in the descriptor cache until
 * finish.
 *
 * Failing closed (DESIGN §11): once the lock-free check says a pin may be
 * touched, every error met while finding out whether it is (no descriptor
 * left, no memory, a file that cannot be looked up) refuses the request
 * with that error through rfs_mediate_fail(), which audits it; nothing
 * falls through to the plain operation.  Where the table alone can tell
 * that no pin is touched, no descriptor is opened at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mediate.h"
#include "mediated_ops.h"
#include "ops.h"
#include "pins.h"
#include "core/pintable.h"

#define COPY_CHUNK (1u << 20)

bool rfs_med_pinned(struct rfs *fs, struct rfs_inode *in, uint64_t off,
		    uint64_t len)
{
	return in->type == S_IFREG &&
	       ptab_has_overlap(fs->pins, in->dev, in->ino, off, len);
}

struct rfs_med *rfs_med_new(fuse_req_t req, enum pol_class cls, const char *op,
			    rfs_med_finish_fn fin)
{
	struct rfs_med *m = calloc(1, sizeof(*m));
	struct med_args *a = calloc(1, sizeof(*a));

	if (!m || !a) {
		free(m);
		free(a);
		return NULL;
	}
	m->req = req;
	m->cls = cls;
	m->op = op;
	m->finish = fin;
	m->args = a;
	m->path_fd = m->path_fd2 = -1;
	return m;
}

struct rfs_med rfs_med_describe(fuse_req_t req, enum pol_class cls,
				const char *op, struct rfs_inode *in)
{
	struct rfs_med d = {
		.req = req,
		.cls = cls,
		.op = op,
		.path_fd = -1,
		.path_fd2 = -1,
		.dir_fd = -1,
	};

	if (in) {
		d.dev = in->dev;
		d.ino = in->ino;
	}
	return d;
}

/*
 * No memory for the mediation of a layout change to @in's [@off, @off+@len)
 * through @fi: fail closed, with the audit naming what was refused.
 */
static void med_fail_oom(fuse_req_t req, enum pol_class cls, const char *op,
			 struct rfs_inode *in, uint64_t off, uint64_t len,
			 struct fuse_file_info *fi)
{
	struct rfs_med d = rfs_med_describe(req, cls, op, in);

	d.off = off;
	d.len = len;
	d.path_fd = rfs_file_of(fi)->fd;
	rfs_mediate_fail(rfs_of(req), &d, -ENOMEM, "out of memory");
}

void rfs_med_args_free(struct rfs *fs, struct rfs_med *m)
{
	struct med_args *a = m->args;

	if (a->in)
		rfs_ifd_put(fs, a->in);
	if (a->dir)
		rfs_ifd_put(fs, a->dir);
	if (a->name && m->path_fd >= 0)
		close(m->path_fd);
	free(a->name);
	free(a->name2);
	free(a);
}

/* ---- truncate: setattr size ---- */

static void finish_setattr(struct rfs_med *m, int err)
{
	struct rfs *fs = rfs_of(m->req);
	struct med_args *a = m->args;

	if (err)
		fuse_reply_err(m->req, -err);
	else
		rfs_setattr_now(m->req, a->ino, &a->attr, a->valid,
				a->has_fi ? &a->fi : NULL);
	rfs_med_args_free(fs, m);
}

static void setattr_gated(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
			  int valid, struct fuse_file_info *fi)
{
	struct rfs *fs = rfs_of(req);
	struct rfs_inode *in = rfs_inode(req, ino);
	uint64_t size = (uint64_t)attr->st_size;
	struct rfs_med *m, d;
	struct med_args *a;
	struct stat st;
	int fd, err;

	/*
	 * No pin at or past the new size: nothing can be cut, whatever the
	 * size is now, and the size need not be read.
	 */
	if (!(valid & FUSE_SET_ATTR_SIZE) || in->type != S_IFREG ||
	    attr->st_size < 0 || !rfs_pins_any(fs) ||
	    !rfs_med_pinned(fs, in, size, UINT64_MAX - size))
		return rfs_setattr_now(req, ino, attr, valid, fi);
	d = rfs_med_describe(req, POL_TRUNCATE, "truncate", in);
	d.off = size;
	d.len = UINT64_MAX - size;
	fd = rfs_ifd_get(fs, in);
	if (fd < 0)
		return rfs_mediate_fail(
			fs, &d, fd, "couldn't open the file to read its size");
	d.path_fd = fd;
	if (fstatat(fd, "", &st, AT_EMPTY_PATH) < 0) {
		err = -errno;
		rfs_mediate_fail(fs, &d, err, "couldn't read the file's size");
		return rfs_ifd_put(fs, in);
	}
	if (attr->st_size >= st.st_size ||
	    !rfs_med_pinned(fs, in, size,
			    (uint64_t)(st.st_size - attr->st_size))) {
		rfs_ifd_put(fs, in);
		return rfs_setattr_now(req, ino, attr, valid, fi);
	}
	m = rfs_med_new(req, POL_TRUNCATE, "truncate", finish_setattr);
	if (!m) {
		rfs_mediate_fail(fs, &d, -ENOMEM, "out of memory");
		return rfs_ifd_put(fs, in);
	}
	a = m->args;
	a->in = in;
	a->ino = ino;
	a->attr = *attr;
	a->valid = valid;
	if (fi) {
		a->fi = *fi;
		a->has_fi = true;
	}
	m->dev = in->dev;
	m->ino = in->ino;
	m->off = size;
	m->len = (uint64_t)(st.st_size - attr->st_size);
	m->path_fd = fd;
	rfs_mediate(fs, m);
}

void rfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int valid,
		 struct fuse_file_info *fi)
{
	struct rfs *fs = rfs_of(req);

	if (!(valid & FUSE_SET_ATTR_SIZE) ||
	    rfs_inode(req, ino)->type != S_IFREG)
		return rfs_setattr_now(req, ino, attr, valid, fi);
	rfs_gate_enter(fs);
	setattr_gated(req, ino, attr, valid, fi);
	rfs_gate_leave(fs);
}

/* ---- truncate: open with O_TRUNC ---- */

static void finish_open(struct rfs_med *m, int err)
{
	struct rfs *fs = rfs_of(m->req);
	struct med_args *a = m->args;

	if (err)
		fuse_reply_err(m->req, -err);
	else
		rfs_open_now(m->req, a->ino, &a->fi);
	rfs_med_args_free(fs, m);
}

static void open_gated(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct rfs *fs = rfs_of(req);
	struct rfs_inode *in = rfs_inode(req, ino);
	struct rfs_med *m, d;
	struct med_args *a;
	struct stat st;
	int fd, err;

	if (!(fi->flags & O_TRUNC) || in->type != S_IFREG ||
	    !rfs_pins_any(fs) || !rfs_med_pinned(fs, in, 0, UINT64_MAX))
		return rfs_open_now(req, ino, fi);
	d = rfs_med_describe(req, POL_TRUNCATE, "truncate", in);
	d.len = UINT64_MAX;
	fd = rfs_ifd_get(fs, in);
	if (fd < 0)
		return rfs_mediate_fail(
			fs, &d, fd, "couldn't open the file to read its size");
	d.path_fd = fd;
	if (fstatat(fd, "", &st, AT_EMPTY_PATH) < 0) {
		err = -errno;
		rfs_mediate_fail(fs, &d, err, "couldn't read the file's size");
		return rfs_ifd_put(fs, in);
	}
	if (st.st_size == 0 ||
	    !rfs_med_pinned(fs, in, 0, (uint64_t)st.st_size)) {
		rfs_ifd_put(fs, in);
		return rfs_open_now(req, ino, fi);
	}
	m = rfs_med_new(req, POL_TRUNCATE, "truncate", finish_open);
	if (!m) {
		rfs_mediate_fail(fs, &d, -ENOMEM, "out of memory");
		return rfs_ifd_put(fs, in);
	}
	a = m->args;
	a->in = in;
	a->ino = ino;
	a->fi = *fi;
	m->dev = in->dev;
	m->ino = in->ino;
	m->off = 0;
	m->len = (uint64_t)st.st_size;
	m->path_fd = fd;
	rfs_mediate(fs, m);
}

void rfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct rfs *fs = rfs_of(req);

	/*
	 * Only regular files: an open of a FIFO waits for its other end,
	 * and must not hold the gate meanwhile.
	 */
	if (!(fi->flags & O_TRUNC) || rfs_inode(req, ino)->type != S_IFREG)
		return rfs_open_now(req, ino, fi);
	rfs_gate_enter(fs);
	open_gated(req, ino, fi);
	rfs_gate_leave(fs);
}

/* ---- truncate: create with O_TRUNC over an existing file ---- */

int rfs_create_open(int dfd, const char *name, int flags, mode_t mode,
		    bool *existed)
{
	int fd, tries;

	*existed = false;
	if (!(flags & O_TRUNC) || (flags & O_EXCL)) {
		fd = openat(dfd, name, flags, mode);
		return fd < 0 ? -errno : fd;
	}
	/*
	 * Create it, or open what is there without cutting it: its pins
	 * are checked first.  A name removed between the two calls is met
	 * again by the next round.
	 */
	for (tries = 0; tries < 8; tries++) {
		fd = openat(dfd, name, (flags & ~O_TRUNC) | O_EXCL, mode);
		if (fd >= 0 || errno != EEXIST)
			return fd < 0 ? -errno : fd;
		fd = openat(dfd, name, flags & ~(O_TRUNC | O_CREAT));
		if (fd >= 0) {
			*existed = true;
			return fd;
		}
		if (errno != ENOENT)
			return -errno;
	}
	return -EAGAIN;
}

struct reopen_args {
	int fd, flags, nfd;
};

static int reopen_call(void *arg)
{
	struct reopen_args *r = arg;
	char path[64];

	rfs_fd_path(path, sizeof(path), r->fd);
	r->nfd = open(path, r->flags);
	return r->nfd < 0 ? -errno : 0;
}

/*
 * The O_TRUNC of a create, done as the caller would have had it done by
 * open(2) (its permission to write, the set-id bits it may keep): the
 * same inode opened again, through /proc, with O_TRUNC.  Takes @fd.
 */
static void truncate_created(fuse_req_t req, struct fuse_entry_param *e,
			     struct fuse_file_info *fi, int fd, int flags)
{
	struct reopen_args r = {
		.fd = fd,
		.flags = (flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW)) | O_TRUNC,
	};
	int err = rfs_create_as_caller(req, S_IFREG, reopen_call, &r);

	close(fd);
	if (err) {
		rfs_forget_one(rfs_of(req),
			       (struct rfs_inode *)(uintptr_t)e->ino, 1);
		return (void)fuse_reply_err(req, -err);
	}
	rfs_create_reply(req, e, fi, r.nfd, flags);
}

static void finish_create(struct rfs_med *m, int err)
{
	struct rfs *fs = rfs_of(m->req);
	struct med_args *a = m->args;

	if (err) {
		close(m->path_fd);
		rfs_forget_one(fs, (struct rfs_inode *)(uintptr_t)a->e.ino, 1);
		fuse_reply_err(m->req, -err);
	} else {
		truncate_created(m->req, &a->e, &a->fi, m->path_fd, a->flags);
	}
	rfs_med_args_free(fs, m);
}

static void create_existing_gated(fuse_req_t req, struct rfs_inode *dir,
				  const char *name, struct fuse_file_info *fi,
				  int fd, int flags)
{
	struct rfs *fs = rfs_of(req);
	struct rfs_med *m,
		d = rfs_med_describe(req, POL_TRUNCATE, "truncate", NULL);
	struct fuse_entry_param e;
	struct rfs_inode *in;
	struct med_args *a;
	struct stat st;
	int err;

	d.path_fd = fd;
	d.len = UINT64_MAX;
	if (fstat(fd, &st) < 0) {
		rfs_mediate_fail(fs, &d, -errno,
				 "couldn't read the file's size");
		return (void)close(fd);
	}
	d.dev = st.st_dev;
	d.ino = st.st_ino;
	/* O_TRUNC leaves FIFOs, devices and directories as they are. */
	if (!S_ISREG(st.st_mode)) {
		err = rfs_do_lookup(fs, dir, name, &e);
		if (err) {
			close(fd);
			return (void)fuse_reply_err(req, -err);
		}
		return rfs_create_reply(req, &e, fi, fd, flags);
	}
	/*
	 * The kernel never looked the file up (it took the name for
	 * absent), so its stored pins may not be loaded: the lookup loads
	 * them, and without it the pins cannot be known.
	 */
	err = rfs_do_lookup(fs, dir, name, &e);
	if (err) {
		rfs_mediate_fail(fs, &d, err,
				 "couldn't look the file up to load its pins");
		return (void)close(fd);
	}
	in = (struct rfs_inode *)(uintptr_t)e.ino;
	if (in->dev != st.st_dev || in->ino != st.st_ino) {
		/* Replaced behind the mount's back since it was opened. */
		rfs_mediate_fail(fs, &d, -EAGAIN,
				 "the name changed while it was opened");
		goto out_forget;
	}
	if (st.st_size == 0 || !rfs_med_pinned(fs, in, 0, (uint64_t)st.st_size))
		return truncate_created(req, &e, fi, fd, flags);
	m = rfs_med_new(req, POL_TRUNCATE, "truncate", finish_create);
	if (!m) {
		rfs_mediate_fail(fs, &d, -ENOMEM, "out of memory");
		goto out_forget;
	}
	a = m->args;
	a->e = e;
	a->fi = *fi;
	a->flags = flags;
	m->dev = st.st_dev;
	m->ino = st.st_ino;
	m->off = 0;
	m->len = (uint64_t)st.st_size;
	m->path_fd = fd;
	return rfs_mediate(fs, m);

out_forget:
	rfs_forget_one(fs, in, 1);
	close(fd);
}

void rfs_create_existing(fuse_req_t req, struct rfs_inode *dir,
			 const char *name, struct fuse_file_info *fi, int fd,
			 int flags)
{
	struct rfs *fs = rfs_of(req);

	/* @fd is open already: the reopen with O_TRUNC waits for nobody. */
	rfs_gate_enter(fs);
	create_existing_gated(req, dir, name, fi, fd, flags);
	rfs_gate_leave(fs);
}

/* ---- punch: fallocate ---- */

static void finish_fallocate(struct rfs_med *m, int err)
{
	struct rfs *fs = rfs_of(m->req);
	struct med_args *a = m->args;

	if (err)
		fuse_reply_err(m->req, -err);
	else
		rfs_fallocate_now(m->req, a->ino, a->mode, a->off, a->len,
				  &a->fi);
	rfs_med_args_free(fs, m);
}

#define FALLOC_LAYOUT                                  \
	(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE | \
	 FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE)

static void fallocate_gated(fuse_req_t req, fuse_ino_t ino, int mode,
			    off_t offset, off_t length,
			    struct fuse_file_info *fi)
{
	struct rfs *fs = rfs_of(req);
	struct rfs_inode *in = rfs_inode(req, ino);
	const int layout = FALLOC_LAYOUT;
	uint64_t len = (uint64_t)length;
	struct rfs_med *m;
	struct med_args *a;

	/* Collapse and insert shift everything after the range too. */
	if (mode & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE))
		len = UINT64_MAX - (uint64_t)offset;
	if (!(mode & layout) || offset < 0 || length <= 0 ||
	    !rfs_pins_any(fs) || !rfs_med_pinned(fs, in, (uint64_t)offset, len))
		return rfs_fallocate_now(req, ino, mode, offset, length, fi);
	m = rfs_med_new(req, POL_PUNCH, "punch", finish_fallocate);
	if (!m)
		return med_fail_oom(req, POL_PUNCH, "punch", in,
				    (uint64_t)offset, len, fi);
	a = m->args;
	a->ino = ino;
	a->mode = mode;
	a->off = offset;
	a->len = length;
	a->fi = *fi;
	m->dev = in->dev;
	m->ino = in->ino;
	m->off = (uint64_t)offset;
	m->len = len;
	m->path_fd = rfs_file_of(fi)->fd;
	rfs_mediate(fs, m);
}

void rfs_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset,
		   off_t length, struct fuse_file_info *fi)
{
	struct rfs *fs = rfs_of(req);

	/* Allocating (mode 0, KEEP_SIZE, UNSHARE) moves no pinned block. */
	if (!(mode & FALLOC_LAYOUT))
		return rfs_fallocate_now(req, ino, mode, offset, length, fi);
	rfs_gate_enter(fs);
	fallocate_gated(req, ino, mode, offset, length, fi);
	rfs_gate_leave(fs);
}

/* ---- reflink: copy_file_range ---- */

/* A copy of the data that shares no extent with the source. */
static ssize_t copy_plain(int in, off_t off_in, int out, off_t off_out,
			  size_t len)
{
	size_t done = 0;
	char *buf = malloc(COPY_CHUNK);

	if (!buf)
		return -ENOMEM;
	while (done < len) {
		size_t want = len - done < COPY_CHUNK ? len - done : COPY_CHUNK;
		ssize_t r = pread(in, buf, want, off_in + (off_t)done), w;

		if (r < 0) {
			free(buf);
			return done ? (ssize_t)done : -errno;
		}
		if (r == 0)
			break;
		w = pwrite(out, buf, (size_t)r, off_out + (off_t)done);
		if (w < 0) {
			free(buf);
			return done ? (ssize_t)done : -errno;
		}
		done += (size_t)w;
		if (w < r)
			break;
	}
	free(buf);
	return (ssize_t)done;
}

static void finish_copy(struct rfs_med *m, int err)
{
	struct rfs *fs = rfs_of(m->req);
	struct med_args *a = m->args;
	ssize_t n;

	if (err) {
		fuse_reply_err(m->req, -err);
	} else if (m->copy) {
		struct rfs_cred c;

		/* The caller's space (creds.c), as rfs_copy_file_range_now. */
		n = rfs_space_enter(fs, rfs_inode(m->req, a->ino2),
				    fuse_req_ctx(m->req)->uid, &c);
		if (n == 0) {
			n = copy_plain(rfs_file_of(&a->fi)->fd, a->off,
				       rfs_file_of(&a->fi2)->fd, a->off2,
				       a->size);
			rfs_cred_leave(&c);
		}
		if (n < 0)
			fuse_reply_err(m->req, (int)-n);
		else
			fuse_reply_write(m->req, (size_t)n);
	} else {
		rfs_copy_file_range_now(m->req, a->ino, a->off, &a->fi, a->ino2,
					a->off2, &a->fi2, a->size, a->flags);
	}
	rfs_med_args_free(fs, m);
}

static void copy_gated(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
		       struct fuse_file_info *fi_in, fuse_ino_t ino_out,
		       off_t off_out, struct fuse_file_info *fi_out, size_t len,
		       int flags)
{
	struct rfs *fs = rfs_of(req);
	struct rfs_inode *src = rfs_inode(req, ino_in);
	struct rfs_inode *dst = rfs_inode(req, ino_out);
	struct rfs_med *m;
	struct med_args *a;

	if (!len || !rfs_pins_any(fs) ||
	    (!rfs_med_pinned(fs, src, (uint64_t)off_in, len) &&
	     !rfs_med_pinned(fs, dst, (uint64_t)off_out, len)))
		return rfs_copy_file_range_now(req, ino_in, off_in, fi_in,
					       ino_out, off_out, fi_out, len,
					       flags);
	m = rfs_med_new(req, POL_REFLINK, "reflink", finish_copy);
	if (!m)
		return med_fail_oom(req, POL_REFLINK, "reflink", dst,
				    (uint64_t)off_out, len, fi_out);
	a = m->args;
	a->ino = ino_in;
	a->ino2 = ino_out;
	a->off = off_in;
	a->off2 = off_out;
	a->fi = *fi_in;
	a->fi2 = *fi_out;
	a->size = len;
	a->flags = flags;
	/*
	 * The pinned end comes first, so that the audit names its path and
	 * range; the destination when both are (its extents get replaced).
	 */
	m->has2 = true;
	if (rfs_med_pinned(fs, dst, (uint64_t)off_out, len)) {
		m->dev = dst->dev;
		m->ino = dst->ino;
		m->off = (uint64_t)off_out;
		m->path_fd = rfs_file_of(fi_out)->fd;
		m->dev2 = src->dev;
		m->ino2 = src->ino;
		m->off2 = (uint64_t)off_in;
		m->path_fd2 = rfs_file_of(fi_in)->fd;
	} else {
		m->dev = src->dev;
		m->ino = src->ino;
		m->off = (uint64_t)off_in;
		m->path_fd = rfs_file_of(fi_in)->fd;
		m->dev2 = dst->dev;
		m->ino2 = dst->ino;
		m->off2 = (uint64_t)off_out;
		m->path_fd2 = rfs_file_of(fi_out)->fd;
	}
	m->len = m->len2 = len;
	rfs_mediate(fs, m);
}

/*
 * The kernel locks only the destination inode for a copy: a pin of the
 * source through setxattr is not serialised with it, and only the gate
 * keeps a reflink from sharing a range being pinned.
 */
void rfs_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			 struct fuse_file_info *fi_in, fuse_ino_t ino_out,
			 off_t off_out, struct fuse_file_info *fi_out,
			 size_t len, int flags)
{
	struct rfs *fs = rfs_of(req);

	rfs_gate_enter(fs);
	copy_gated(req, ino_in, off_in, fi_in, ino_out, off_out, fi_out, len,
		   flags);
	rfs_gate_leave(fs);
}
