// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Directories: listing with readdir and readdirplus.
 *
 * readdirplus answers each entry with its attributes and a lookup
 * reference, saving the kernel a lookup per name (ls -l, find).  An entry
 * that does not fit the reply buffer gives its reference back and is kept
 * for the next call.
 *
 * While the mount is noatime or nodiratime, directories are read with
 * O_NOATIME, so that listing them leaves the backing atime alone
 * (mountflags.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mountflags.h"
#include "ops.h"
#include "pinsvc.h"

struct rfs_dir {
	struct rfs_open node; /* first: the list gives back the directory */
	DIR *dp;
	off_t offset;
	struct dirent *entry; /* read but not yet returned */
	bool noatime; /* the descriptor has O_NOATIME */
};

static struct rfs_dir *dir_of(struct fuse_file_info *fi)
{
	return (struct rfs_dir *)(uintptr_t)fi->fh;
}

static void dir_release(struct rfs_open *o)
{
	struct rfs_dir *d = (struct rfs_dir *)o;

	closedir(d->dp);
	free(d);
}

void rfs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct rfs *fs = rfs_of(req);
	struct rfs_dir *d = calloc(1, sizeof(*d));
	int fd, flags = O_RDONLY | O_DIRECTORY;

	if (!d)
		return (void)fuse_reply_err(req, ENOMEM);
	/* Others' directories need CAP_FOWNER; readdir sets it otherwise. */
	if (fs->is_root && rfs_noatime(fs, true))
		flags |= O_NOATIME;
	d->noatime = flags & O_NOATIME;
	fd = rfs_inode_open(fs, rfs_inode(req, ino), flags);
	if (fd < 0) {
		free(d);
		return (void)fuse_reply_err(req, -fd);
	}
	d->dp = fdopendir(fd);
	if (!d->dp) {
		int err = errno;

		close(fd);
		free(d);
		return (void)fuse_reply_err(req, err);
	}
	rfs_open_add(fs, &d->node, dir_release);
	fi->fh = (uintptr_t)d;
	if (fs->o.cache == RFS_CACHE_ALWAYS)
		fi->cache_readdir = 1;
	fuse_reply_open(req, fi);
}

static bool is_dot(const char *name)
{
	return name[0] == '.' &&
	       (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi, bool plus)
{
	struct rfs *fs = rfs_of(req);
	struct rfs_inode *dir = rfs_inode(req, ino);
	struct rfs_dir *d = dir_of(fi);
	char *buf = calloc(1, size), *p;
	size_t rem = size;
	int err = 0;

	if (!buf)
		return (void)fuse_reply_err(req, ENOMEM);
	rfs_noatime_fd(dirfd(d->dp), rfs_noatime(fs, true), &d->noatime);
	if (off != d->offset) {
		seekdir(d->dp, off);
		d->entry = NULL;
		d->offset = off;
	}
	p = buf;
	for (;;) {
		struct fuse_entry_param e;
		struct stat st;
		size_t len;
		const char *name;

		if (!d->entry) {
			errno = 0;
			d->entry = readdir(d->dp);
			if (!d->entry) {
				err = errno;
				break;
			}
		}
		name = d->entry->d_name;
		if (rfs_hidden_name(fs, dir, name)) {
			d->offset = d->entry->d_off;
			d->entry = NULL;
			continue;
		}
		if (plus) {
			memset(&e, 0, sizeof(e));
			if (is_dot(name)) {
				e.attr.st_ino = d->entry->d_ino;
				e.attr.st_mode = d->entry->d_type << 12;
			} else {
				err = -rfs_do_lookup(fs, dir, name, &e);
				if (err == ENOENT) {
					/* Removed since it was listed. */
					err = 0;
					d->offset = d->entry->d_off;
					d->entry = NULL;
					continue;
				}
				if (err)
					break;
			}
			len = fuse_add_direntry_plus(req, p, rem, name, &e,
						     d->entry->d_off);
			if (len > rem) {
				if (e.ino)
					rfs_forget_one(
						fs, rfs_inode(req, e.ino), 1);
				break;
			}
		} else {
			memset(&st, 0, sizeof(st));
			st.st_ino = d->entry->d_ino;
			st.st_mode = d->entry->d_type << 12;
			len = fuse_add_direntry(req, p, rem, name, &st,
						d->entry->d_off);
			if (len > rem)
				break;
		}
		p += len;
		rem -= len;
		d->offset = d->entry->d_off;
		d->entry = NULL;
	}
	/* An error after some entries is reported on the next call. */
	if (err && rem == size)
		fuse_reply_err(req, err);
	else
		fuse_reply_buf(req, buf, size - rem);
	free(buf);
}

void rfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		 struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, false);
}

void rfs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, true);
}

void rfs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct rfs_dir *d = dir_of(fi);

	rfs_open_del(rfs_of(req), &d->node);
	dir_release(&d->node);
	fuse_reply_err(req, 0);
}

void rfs_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
		  struct fuse_file_info *fi)
{
	int fd = dirfd(dir_of(fi)->dp);
	int res = datasync ? fdatasync(fd) : fsync(fd);

	fuse_reply_err(req, res < 0 ? errno : 0);
}
