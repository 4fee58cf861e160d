// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The operations that can change a file's block map (DESIGN §3): each
 * handler works out which range of which inode it would touch, and when
 * that range may be pinned hands the request to rfs_mediate() with what
 * it needs to be performed later.  Everything else goes straight to the
 * plain handler (rfs_*_now), at the cost of one lock-free check.
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
#include "ops.h"
#include "pinindex.h"
#include "pins.h"
#include "rdmafs/pintable.h"

#define COPY_CHUNK (1u << 20)

struct med_args {
	struct rfs_inode *in, *dir; /* held descriptors (may be NULL) */
	fuse_ino_t ino, ino2;
	struct stat attr;
	int valid;
	struct fuse_file_info fi, fi2;
	bool has_fi;
	int mode;
	off_t off, off2, len;
	size_t size;
	int flags;
	char *name, *name2;
	fuse_ino_t parent2;
	struct fuse_entry_param e; /* create: the entry to answer with */
};

static bool pinned(struct rfs *fs, struct rfs_inode *in, uint64_t off,
		   uint64_t len)
{
	return in->type == S_IFREG &&
	       ptab_has_overlap(fs->pins, in->dev, in->ino, off, len);
}

static struct rfs_med *med_new(fuse_req_t req, enum pol_class cls,
			       const char *op, rfs_med_finish_fn fin)
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

/* What is known of a request before it is mediated: for a refusal. */
static struct rfs_med describe(fuse_req_t req, enum pol_class cls,
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

/* Releases what a med_args holds. */
static void args_free(struct rfs *fs, struct rfs_med *m)
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
	args_free(fs, m);
}

void rfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int valid,
		 struct fuse_file_info *fi)
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
	    !pinned(fs, in, size, UINT64_MAX - size))
		return rfs_setattr_now(req, ino, attr, valid, fi);
	d = describe(req, POL_TRUNCATE, "truncate", in);
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
	    !pinned(fs, in, size, (uint64_t)(st.st_size - attr->st_size))) {
		rfs_ifd_put(fs, in);
		return rfs_setattr_now(req, ino, attr, valid, fi);
	}
	m = med_new(req, POL_TRUNCATE, "truncate", finish_setattr);
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

/* ---- truncate: open with O_TRUNC ---- */

static void finish_open(struct rfs_med *m, int err)
{
	struct rfs *fs = rfs_of(m->req);
	struct med_args *a = m->args;

	if (err)
		fuse_reply_err(m->req, -err);
	else
		rfs_open_now(m->req, a->ino, &a->fi);
	args_free(fs, m);
}

void rfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct rfs *fs = rfs_of(req);
	struct rfs_inode *in = rfs_inode(req, ino);
	struct rfs_med *m, d;
	struct med_args *a;
	struct stat st;
	int fd, err;

	if (!(fi->flags & O_TRUNC) || in->type != S_IFREG ||
	    !rfs_pins_any(fs) || !pinned(fs, in, 0, UINT64_MAX))
		return rfs_open_now(req, ino, fi);
	d = describe(req, POL_TRUNCATE, "truncate", in);
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
	if (st.st_size == 0 || !pinned(fs, in, 0, (uint64_t)st.st_size)) {
		rfs_ifd_put(fs, in);
		return rfs_open_now(req, ino, fi);
	}
	m = med_new(req, POL_TRUNCATE, "truncate", finish_open);
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
	args_free(fs, m);
}

void rfs_create_existing(fuse_req_t req, struct rfs_inode *dir,
			 const char *name, struct fuse_file_info *fi, int fd,
			 int flags)
{
	struct rfs *fs = rfs_of(req);
	struct rfs_med *m, d = describe(req, POL_TRUNCATE, "truncate", NULL);
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
	if (st.st_size == 0 || !pinned(fs, in, 0, (uint64_t)st.st_size))
		return truncate_created(req, &e, fi, fd, flags);
	m = med_new(req, POL_TRUNCATE, "truncate", finish_create);
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
	args_free(fs, m);
}

void rfs_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset,
		   off_t length, struct fuse_file_info *fi)
{
	struct rfs *fs = rfs_of(req);
	struct rfs_inode *in = rfs_inode(req, ino);
	const int layout = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE |
			   FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE;
	uint64_t len = (uint64_t)length;
	struct rfs_med *m;
	struct med_args *a;

	/* Collapse and insert shift everything after the range too. */
	if (mode & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE))
		len = UINT64_MAX - (uint64_t)offset;
	if (!(mode & layout) || offset < 0 || length <= 0 ||
	    !rfs_pins_any(fs) || !pinned(fs, in, (uint64_t)offset, len))
		return rfs_fallocate_now(req, ino, mode, offset, length, fi);
	m = med_new(req, POL_PUNCH, "punch", finish_fallocate);
	if (!m) {
		struct rfs_med d = describe(req, POL_PUNCH, "punch", in);

		d.off = (uint64_t)offset;
		d.len = len;
		d.path_fd = rfs_file_of(fi)->fd;
		return rfs_mediate_fail(fs, &d, -ENOMEM, "out of memory");
	}
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
	args_free(fs, m);
}

void rfs_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			 struct fuse_file_info *fi_in, fuse_ino_t ino_out,
			 off_t off_out, struct fuse_file_info *fi_out,
			 size_t len, int flags)
{
	struct rfs *fs = rfs_of(req);
	struct rfs_inode *src = rfs_inode(req, ino_in);
	struct rfs_inode *dst = rfs_inode(req, ino_out);
	struct rfs_med *m;
	struct med_args *a;

	if (!len || !rfs_pins_any(fs) ||
	    (!pinned(fs, src, (uint64_t)off_in, len) &&
	     !pinned(fs, dst, (uint64_t)off_out, len)))
		return rfs_copy_file_range_now(req, ino_in, off_in, fi_in,
					       ino_out, off_out, fi_out, len,
					       flags);
	m = med_new(req, POL_REFLINK, "reflink", finish_copy);
	if (!m) {
		struct rfs_med d = describe(req, POL_REFLINK, "reflink", dst);

		d.off = (uint64_t)off_out;
		d.len = len;
		d.path_fd = rfs_file_of(fi_out)->fd;
		return rfs_mediate_fail(fs, &d, -ENOMEM, "out of memory");
	}
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
	if (pinned(fs, dst, (uint64_t)off_out, len)) {
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

/* ---- unlink: the last name of a pinned file ---- */

/*
 * Whether @name in @dir (open as @dfd) is the last name of a pinned file:
 * 1 with @st filled, 0 when not (or when there is no such name: the plain
 * operation says so), -errno when that cannot be told.
 */
static int last_name_pinned(struct rfs *fs, struct rfs_inode *dir, int dfd,
			    const char *name, struct stat *st)
{
	struct fuse_entry_param e;
	int err;

	if (fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT || errno == ENAMETOOLONG ? 0 : -errno;
	if (!S_ISREG(st->st_mode) || st->st_nlink != 1)
		return 0;
	if (ptab_has_overlap(fs->pins, st->st_dev, st->st_ino, 0, UINT64_MAX))
		return 1;
	/*
	 * The index knows the file has pins the table has not loaded: a
	 * rename may replace a name the kernel had cached as absent (the
	 * file was put there behind the mount's back), never looked up.
	 * The lookup loads them.
	 */
	if (!fs->pidx || !pidx_has(fs->pidx, st->st_dev, st->st_ino))
		return 0;
	err = rfs_do_lookup(fs, dir, name, &e);
	if (err)
		return err;
	rfs_forget_one(fs, (struct rfs_inode *)(uintptr_t)e.ino, 1);
	return ptab_has_overlap(fs->pins, st->st_dev, st->st_ino, 0,
				UINT64_MAX);
}

/* An O_PATH descriptor of @name, giving up idle cached ones if need be. */
static int open_path(struct rfs *fs, int dfd, const char *name)
{
	int fd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 && fdc_is_exhausted(-errno)) {
		fdc_shrink(&fs->fdc, 0);
		fd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	}
	return fd < 0 ? -errno : fd;
}

static void finish_unlink(struct rfs_med *m, int err)
{
	struct rfs *fs = rfs_of(m->req);
	struct med_args *a = m->args;

	if (err)
		fuse_reply_err(m->req, -err);
	else if (a->name2)
		rfs_rename_now(m->req, a->ino, a->name, a->parent2, a->name2,
			       (unsigned int)a->flags);
	else
		rfs_unlink_now(m->req, a->ino, a->name);
	args_free(fs, m);
}

static void mediate_name(fuse_req_t req, fuse_ino_t parent, const char *name,
			 fuse_ino_t newparent, const char *newname,
			 unsigned int flags)
{
	struct rfs *fs = rfs_of(req);
	bool rename = newname != NULL;
	struct rfs_inode *dir = rfs_inode(req, rename ? newparent : parent);
	const char *victim = rename ? newname : name;
	struct rfs_med *m, d = describe(req, POL_UNLINK, "unlink", NULL);
	struct med_args *a;
	struct stat st;
	int dfd, fd, r;

	d.len = UINT64_MAX;
	if (rfs_hidden_name(fs, dir, victim))
		goto plain;
	dfd = rfs_ifd_get(fs, dir);
	if (dfd < 0)
		return rfs_mediate_fail(
			fs, &d, dfd,
			"couldn't open the directory to check the file's pins");
	d.name = victim;
	d.dir_fd = dfd;
	memset(&st, 0, sizeof(st));
	r = last_name_pinned(fs, dir, dfd, victim, &st);
	d.dev = st.st_dev;
	d.ino = st.st_ino;
	if (r < 0)
		rfs_mediate_fail(fs, &d, r,
				 "couldn't tell whether the file is pinned");
	if (r <= 0) {
		rfs_ifd_put(fs, dir);
		if (r < 0)
			return;
		goto plain;
	}
	fd = open_path(fs, dfd, victim);
	if (fd < 0) {
		rfs_mediate_fail(fs, &d, fd, "couldn't open the pinned file");
		return rfs_ifd_put(fs, dir);
	}
	m = med_new(req, POL_UNLINK, "unlink", finish_unlink);
	if (!m) {
		d.path_fd = fd;
		rfs_mediate_fail(fs, &d, -ENOMEM, "out of memory");
		close(fd);
		return rfs_ifd_put(fs, dir);
	}
	m->dev = st.st_dev;
	m->ino = st.st_ino;
	m->off = 0;
	m->len = UINT64_MAX;
	m->path_fd = fd;
	a = m->args;
	a->dir = dir;
	a->ino = parent;
	a->name = strdup(name);
	a->parent2 = newparent;
	a->name2 = rename ? strdup(newname) : NULL;
	a->flags = (int)flags;
	if (!a->name || (rename && !a->name2)) {
		rfs_mediate_fail(fs, m, -ENOMEM, "out of memory");
		if (!a->name)
			close(fd);
		args_free(fs, m);
		return free(m);
	}
	rfs_mediate(fs, m);
	return;

plain:
	if (rename)
		return rfs_rename_now(req, parent, name, newparent, newname,
				      flags);
	rfs_unlink_now(req, parent, name);
}

/*
 * Pins may exist in the mount: in the table, or only in the index, for
 * files not looked up since the mount.  The kernel may take a name for
 * the file it saw there before one of those was moved over it behind the
 * mount's back, and unlink it by that name.
 */
static bool pins_maybe(struct rfs *fs)
{
	bool any;

	if (rfs_pins_any(fs) || !fs->pidx)
		return rfs_pins_any(fs);
	pthread_mutex_lock(&fs->pidx->lock);
	any = fs->pidx->live > 0;
	pthread_mutex_unlock(&fs->pidx->lock);
	return any;
}

void rfs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	if (!pins_maybe(rfs_of(req)))
		return rfs_unlink_now(req, parent, name);
	mediate_name(req, parent, name, 0, NULL, 0);
}

void rfs_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	/* RENAME_NOREPLACE and RENAME_EXCHANGE keep every inode's names. */
	if ((flags & (RENAME_NOREPLACE | RENAME_EXCHANGE)) ||
	    !pins_maybe(rfs_of(req)))
		return rfs_rename_now(req, parent, name, newparent, newname,
				      flags);
	mediate_name(req, parent, name, newparent, newname, flags);
}
