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
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mediate.h"
#include "ops.h"
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
	struct rfs_med *m;
	struct med_args *a;
	struct stat st;
	int fd;

	if (!(valid & FUSE_SET_ATTR_SIZE) || in->type != S_IFREG ||
	    !rfs_pins_any(fs))
		return rfs_setattr_now(req, ino, attr, valid, fi);
	fd = rfs_ifd_get(fs, in);
	if (fd < 0)
		return (void)fuse_reply_err(req, -fd);
	if (fstatat(fd, "", &st, AT_EMPTY_PATH) < 0 ||
	    attr->st_size >= st.st_size ||
	    !pinned(fs, in, (uint64_t)attr->st_size,
		    (uint64_t)(st.st_size - attr->st_size))) {
		rfs_ifd_put(fs, in);
		return rfs_setattr_now(req, ino, attr, valid, fi);
	}
	m = med_new(req, POL_TRUNCATE, "truncate", finish_setattr);
	if (!m) {
		rfs_ifd_put(fs, in);
		return (void)fuse_reply_err(req, ENOMEM);
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
	m->off = (uint64_t)attr->st_size;
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
	struct rfs_med *m;
	struct med_args *a;
	struct stat st;
	int fd;

	if (!(fi->flags & O_TRUNC) || in->type != S_IFREG || !rfs_pins_any(fs))
		return rfs_open_now(req, ino, fi);
	fd = rfs_ifd_get(fs, in);
	if (fd < 0)
		return (void)fuse_reply_err(req, -fd);
	if (fstatat(fd, "", &st, AT_EMPTY_PATH) < 0 || st.st_size == 0 ||
	    !pinned(fs, in, 0, (uint64_t)st.st_size)) {
		rfs_ifd_put(fs, in);
		return rfs_open_now(req, ino, fi);
	}
	m = med_new(req, POL_TRUNCATE, "truncate", finish_open);
	if (!m) {
		rfs_ifd_put(fs, in);
		return (void)fuse_reply_err(req, ENOMEM);
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
	if (!m)
		return (void)fuse_reply_err(req, ENOMEM);
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
		n = copy_plain(rfs_file_of(&a->fi)->fd, a->off,
			       rfs_file_of(&a->fi2)->fd, a->off2, a->size);
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
	if (!m)
		return (void)fuse_reply_err(req, ENOMEM);
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
 * When @name in @dir is the last name of a pinned file, fills @m's inode
 * and opens it (for the audit path and a break); returns false otherwise.
 */
static bool last_name_pinned(struct rfs *fs, int dfd, const char *name,
			     struct rfs_med *m)
{
	struct stat st;
	int fd;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    !ptab_has_overlap(fs->pins, st.st_dev, st.st_ino, 0, UINT64_MAX))
		return false;
	fd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	m->dev = st.st_dev;
	m->ino = st.st_ino;
	m->off = 0;
	m->len = UINT64_MAX;
	m->path_fd = fd;
	return true;
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
	struct rfs_med *m;
	struct med_args *a;
	int dfd;

	m = med_new(req, POL_UNLINK, "unlink", finish_unlink);
	if (!m)
		return (void)fuse_reply_err(req, ENOMEM);
	a = m->args;
	dfd = rfs_ifd_get(fs, dir);
	if (dfd < 0 || rfs_hidden_name(fs, dir, victim) ||
	    !last_name_pinned(fs, dfd, victim, m)) {
		if (dfd >= 0)
			rfs_ifd_put(fs, dir);
		free(a);
		free(m);
		if (rename)
			return rfs_rename_now(req, parent, name, newparent,
					      newname, flags);
		return rfs_unlink_now(req, parent, name);
	}
	a->dir = dir;
	a->ino = parent;
	a->name = strdup(name);
	a->parent2 = newparent;
	a->name2 = rename ? strdup(newname) : NULL;
	a->flags = (int)flags;
	if (!a->name || (rename && !a->name2)) {
		m->finish(m, -ENOMEM);
		free(m);
		return;
	}
	rfs_mediate(fs, m);
}

void rfs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	if (!rfs_pins_any(rfs_of(req)))
		return rfs_unlink_now(req, parent, name);
	mediate_name(req, parent, name, 0, NULL, 0);
}

void rfs_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	/* RENAME_NOREPLACE and RENAME_EXCHANGE keep every inode's names. */
	if ((flags & (RENAME_NOREPLACE | RENAME_EXCHANGE)) ||
	    !rfs_pins_any(rfs_of(req)))
		return rfs_rename_now(req, parent, name, newparent, newname,
				      flags);
	mediate_name(req, parent, name, newparent, newname, flags);
}
