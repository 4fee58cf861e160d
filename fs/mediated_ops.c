// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The operations that can change a file's block map (DESIGN §3; unlink
 * and rename are in mediated_names.c), as rfs_mediate() requests
 * (mediate.h): each handler names the inode and the widest range it
 * could touch, and its op says how to narrow that range (check), how to
 * perform the operation and what to release.  rfs_mediate() does the
 * rest once for all of them: the layout gate, the one snapshot of the
 * pins, the decision, the audit record, parking, and refusing on any
 * error met while finding out (DESIGN §11).
 *
 * A parked request keeps what it refers to alive: the kernel holds the
 * open files of a request until it is answered, and the inode
 * descriptors taken here are held in the descriptor cache until release.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mediate.h"
#include "ops.h"

#define COPY_CHUNK (1u << 20)

/* ---- truncate: setattr size, open with O_TRUNC ---- */

struct trunc_args {
	struct rfs_inode *in;
	bool held; /* in's descriptor is held (rfs_ifd_get) */
	fuse_ino_t ino;
	struct stat attr; /* setattr */
	int valid;
	struct fuse_file_info fi;
	bool has_fi;
};

/*
 * Only once a pin lies at or past the new size (m->off): the file's size
 * tells what would be cut, [new size, size).
 */
static int trunc_check(struct rfs *fs, struct rfs_med *m)
{
	struct trunc_args *a = m->args;
	struct stat st;
	int fd;

	fd = rfs_ifd_get(fs, a->in);
	if (fd < 0) {
		m->reason = "couldn't open the file to read its size";
		return fd;
	}
	a->held = true;
	m->path_fd = fd;
	if (fstatat(fd, "", &st, AT_EMPTY_PATH) < 0) {
		m->reason = "couldn't read the file's size";
		return -errno;
	}
	if ((uint64_t)st.st_size <= m->off)
		return RFS_MED_PLAIN;
	m->len = (uint64_t)st.st_size - m->off;
	return RFS_MED_GO;
}

static void trunc_release(struct rfs *fs, struct rfs_med *m)
{
	struct trunc_args *a = m->args;

	if (a->held)
		rfs_ifd_put(fs, a->in);
}

static void setattr_perform(struct rfs_med *m)
{
	struct trunc_args *a = m->args;

	rfs_setattr_now(m->req, a->ino, &a->attr, a->valid,
			a->has_fi ? &a->fi : NULL);
}

static const struct rfs_med_op setattr_op = {
	.cls = POL_TRUNCATE,
	.name = "truncate",
	.args_size = sizeof(struct trunc_args),
	.check = trunc_check,
	.perform = setattr_perform,
	.release = trunc_release,
};

/* A request to cut @in from @size on, for @op. */
static void trunc_mediate(fuse_req_t req, const struct rfs_med_op *op,
			  struct rfs_inode *in, uint64_t size,
			  struct trunc_args *a)
{
	struct rfs_med m = rfs_med_init(req, op, a);

	a->in = in;
	m.dev = in->dev;
	m.ino = in->ino;
	m.off = size;
	m.len = UINT64_MAX - size;
	rfs_mediate(rfs_of(req), &m);
}

void rfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int valid,
		 struct fuse_file_info *fi)
{
	struct rfs_inode *in = rfs_inode(req, ino);
	struct trunc_args a = {
		.ino = ino,
		.attr = *attr,
		.valid = valid,
		.has_fi = fi != NULL,
	};

	if (!(valid & FUSE_SET_ATTR_SIZE) || in->type != S_IFREG ||
	    attr->st_size < 0)
		return rfs_setattr_now(req, ino, attr, valid, fi);
	if (fi)
		a.fi = *fi;
	trunc_mediate(req, &setattr_op, in, (uint64_t)attr->st_size, &a);
}

static void open_perform(struct rfs_med *m)
{
	struct trunc_args *a = m->args;

	rfs_open_now(m->req, a->ino, &a->fi);
}

static const struct rfs_med_op open_op = {
	.cls = POL_TRUNCATE,
	.name = "truncate",
	.args_size = sizeof(struct trunc_args),
	.check = trunc_check,
	.perform = open_perform,
	.release = trunc_release,
};

void rfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct rfs_inode *in = rfs_inode(req, ino);
	struct trunc_args a = { .ino = ino, .fi = *fi, .has_fi = true };

	/*
	 * Only regular files: an open of a FIFO waits for its other end,
	 * and must not hold the gate meanwhile.
	 */
	if (!(fi->flags & O_TRUNC) || in->type != S_IFREG)
		return rfs_open_now(req, ino, fi);
	trunc_mediate(req, &open_op, in, 0, &a);
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

struct create_args {
	struct rfs_inode *dir;
	const char *name; /* for check() only: never parked */
	struct fuse_file_info fi;
	int fd; /* the file, opened without O_TRUNC; -1 once given on */
	int flags;
	struct fuse_entry_param e; /* the entry to answer with */
	bool looked_up; /* e holds a lookup reference */
};

/*
 * The kernel never looked the file up (it took the name for absent), so
 * its stored pins may not be loaded: the lookup loads them, and without
 * it the pins cannot be known.  The lookup is also the entry a create
 * answers with.
 */
static int create_check(struct rfs *fs, struct rfs_med *m)
{
	struct create_args *a = m->args;
	struct rfs_inode *in;
	struct stat st;
	int err;

	m->path_fd = a->fd;
	m->len = UINT64_MAX;
	if (fstat(a->fd, &st) < 0) {
		m->reason = "couldn't read the file's size";
		return -errno;
	}
	m->dev = st.st_dev;
	m->ino = st.st_ino;
	err = rfs_do_lookup(fs, a->dir, a->name, &a->e);
	/* O_TRUNC leaves FIFOs, devices and directories as they are. */
	if (!S_ISREG(st.st_mode)) {
		if (err) {
			fuse_reply_err(m->req, -err);
			return RFS_MED_DONE;
		}
		rfs_create_reply(m->req, &a->e, &a->fi, a->fd, a->flags);
		a->fd = -1;
		return RFS_MED_DONE;
	}
	if (err) {
		m->reason = "couldn't look the file up to load its pins";
		return err;
	}
	a->looked_up = true;
	in = (struct rfs_inode *)(uintptr_t)a->e.ino;
	if (in->dev != st.st_dev || in->ino != st.st_ino) {
		/* Replaced behind the mount's back since it was opened. */
		m->reason = "the name changed while it was opened";
		return -EAGAIN;
	}
	if (st.st_size == 0)
		return RFS_MED_PLAIN;
	m->len = (uint64_t)st.st_size;
	return RFS_MED_GO;
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
 * same inode opened again, through /proc, with O_TRUNC.  Gives on the
 * descriptor and the lookup reference.
 */
static void create_perform(struct rfs_med *m)
{
	struct create_args *a = m->args;
	struct reopen_args r = {
		.fd = a->fd,
		.flags =
			(a->flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW)) | O_TRUNC,
	};
	int err = rfs_create_as_caller(m->req, S_IFREG, reopen_call, &r);

	if (err)
		return (void)fuse_reply_err(m->req, -err);
	a->looked_up = false;
	rfs_create_reply(m->req, &a->e, &a->fi, r.nfd, a->flags);
}

static void create_release(struct rfs *fs, struct rfs_med *m)
{
	struct create_args *a = m->args;

	if (a->fd >= 0)
		close(a->fd);
	if (a->looked_up)
		rfs_forget_one(fs, (struct rfs_inode *)(uintptr_t)a->e.ino, 1);
}

static int create_keep(struct rfs_med *m)
{
	struct create_args *a = m->args;

	a->name = NULL;
	return 0;
}

static const struct rfs_med_op create_op = {
	.cls = POL_TRUNCATE,
	.name = "truncate",
	.args_size = sizeof(struct create_args),
	.always = true, /* the lookup is the entry to answer with */
	.check = create_check,
	.keep = create_keep,
	.perform = create_perform,
	.release = create_release,
};

void rfs_create_existing(fuse_req_t req, struct rfs_inode *dir,
			 const char *name, struct fuse_file_info *fi, int fd,
			 int flags)
{
	struct create_args a = {
		.dir = dir,
		.name = name,
		.fi = *fi,
		.fd = fd,
		.flags = flags,
	};
	struct rfs_med m = rfs_med_init(req, &create_op, &a);

	/* @fd is open already: the reopen with O_TRUNC waits for nobody. */
	rfs_mediate(rfs_of(req), &m);
}

/* ---- punch: fallocate ---- */

struct falloc_args {
	fuse_ino_t ino;
	int mode;
	off_t off, len;
	struct fuse_file_info fi;
};

static void falloc_perform(struct rfs_med *m)
{
	struct falloc_args *a = m->args;

	rfs_fallocate_now(m->req, a->ino, a->mode, a->off, a->len, &a->fi);
}

static const struct rfs_med_op falloc_op = {
	.cls = POL_PUNCH,
	.name = "punch",
	.args_size = sizeof(struct falloc_args),
	.perform = falloc_perform,
};

#define FALLOC_LAYOUT                                  \
	(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE | \
	 FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE)

void rfs_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset,
		   off_t length, struct fuse_file_info *fi)
{
	struct rfs_inode *in = rfs_inode(req, ino);
	struct falloc_args a = {
		.ino = ino,
		.mode = mode,
		.off = offset,
		.len = length,
		.fi = *fi,
	};
	struct rfs_med m = rfs_med_init(req, &falloc_op, &a);

	/*
	 * Allocating (mode 0, KEEP_SIZE, UNSHARE) moves no pinned block;
	 * a bad range fails with EINVAL and changes nothing.
	 */
	if (!(mode & FALLOC_LAYOUT) || offset < 0 || length <= 0)
		return rfs_fallocate_now(req, ino, mode, offset, length, fi);
	m.dev = in->dev;
	m.ino = in->ino;
	m.off = (uint64_t)offset;
	m.len = (uint64_t)length;
	/* Collapse and insert shift everything after the range too. */
	if (mode & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE))
		m.len = UINT64_MAX - (uint64_t)offset;
	m.path_fd = rfs_file_of(fi)->fd;
	rfs_mediate(rfs_of(req), &m);
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

struct copy_args {
	fuse_ino_t ino_in, ino_out;
	off_t off_in, off_out;
	struct fuse_file_info fi_in, fi_out;
	size_t len;
	int flags;
};

static void copy_perform(struct rfs_med *m)
{
	struct rfs *fs = rfs_of(m->req);
	struct copy_args *a = m->args;
	struct rfs_cred c;
	ssize_t n;

	if (!m->copy)
		return rfs_copy_file_range_now(
			m->req, a->ino_in, a->off_in, &a->fi_in, a->ino_out,
			a->off_out, &a->fi_out, a->len, a->flags);
	/* The caller's space (creds.c), as rfs_copy_file_range_now. */
	n = rfs_space_enter(fs, rfs_inode(m->req, a->ino_out),
			    fuse_req_ctx(m->req)->uid, &c);
	if (n == 0) {
		n = copy_plain(rfs_file_of(&a->fi_in)->fd, a->off_in,
			       rfs_file_of(&a->fi_out)->fd, a->off_out, a->len);
		rfs_cred_leave(&c);
	}
	if (n < 0)
		fuse_reply_err(m->req, (int)-n);
	else
		fuse_reply_write(m->req, (size_t)n);
}

static const struct rfs_med_op copy_op = {
	.cls = POL_REFLINK,
	.name = "reflink",
	.args_size = sizeof(struct copy_args),
	.perform = copy_perform,
};

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
	struct rfs_inode *src = rfs_inode(req, ino_in);
	struct rfs_inode *dst = rfs_inode(req, ino_out);
	struct copy_args a = {
		.ino_in = ino_in,
		.ino_out = ino_out,
		.off_in = off_in,
		.off_out = off_out,
		.fi_in = *fi_in,
		.fi_out = *fi_out,
		.len = len,
		.flags = flags,
	};
	struct rfs_med m = rfs_med_init(req, &copy_op, &a);

	if (!len)
		return rfs_copy_file_range_now(req, ino_in, off_in, fi_in,
					       ino_out, off_out, fi_out, len,
					       flags);
	/*
	 * The destination first (its extents get replaced), so that the
	 * audit names it when both ends are pinned; rfs_mediate() puts
	 * the source first when only it is.
	 */
	m.has2 = true;
	m.dev = dst->dev;
	m.ino = dst->ino;
	m.off = (uint64_t)off_out;
	m.path_fd = rfs_file_of(fi_out)->fd;
	m.dev2 = src->dev;
	m.ino2 = src->ino;
	m.off2 = (uint64_t)off_in;
	m.path_fd2 = rfs_file_of(fi_in)->fd;
	m.len = m.len2 = len;
	rfs_mediate(rfs_of(req), &m);
}
