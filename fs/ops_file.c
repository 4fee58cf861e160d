// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Open files and their data.
 *
 * Reads and writes move data between the FUSE device and the backing file
 * with splice where the kernel allows it.  A file opened with O_DIRECT
 * needs buffers aligned to the backing device's block size, which the
 * request buffers of libfuse are not, so such files go through an aligned
 * bounce buffer instead.
 *
 * Calls that allocate space (write, fallocate, copy_file_range) run with
 * the caller's rights to it (creds.c: quota, root's reserve); a write the
 * kernel flushes from its writeback cache carries no caller, and is the
 * opener's.  While the mount is noatime, backing files are read with
 * O_NOATIME (mountflags.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mountflags.h"
#include "ops.h"
#include "passthrough.h"
#include "pinsvc.h"

#define DIO_ALIGN 4096

static int open_flags(struct rfs *fs, int flags)
{
	if (fs->o.writeback) {
		/* The kernel reads pages to fill partial writes it caches. */
		if ((flags & O_ACCMODE) == O_WRONLY)
			flags = (flags & ~O_ACCMODE) | O_RDWR;
		/* With a writeback cache the kernel places appends itself. */
		flags &= ~O_APPEND;
	}
	return flags;
}

static void set_open_reply(fuse_req_t req, fuse_ino_t ino,
			   struct fuse_file_info *fi, struct rfs_file *f)
{
	struct rfs *fs = rfs_of(req);

	fi->fh = (uintptr_t)f;
	fi->keep_cache = fs->o.cache == RFS_CACHE_ALWAYS;
	f->backing_id = rfs_pt_attach(req, rfs_inode(req, ino), f->fd, fi);
}

static void file_release(struct rfs_open *o)
{
	struct rfs_file *f = (struct rfs_file *)o;

	close(f->fd);
	free(f);
}

static struct rfs_file *file_new(fuse_req_t req, int fd, int flags)
{
	struct rfs_file *f = malloc(sizeof(*f));

	if (!f)
		return NULL;
	f->fd = fd;
	f->flags = flags;
	f->direct = flags & O_DIRECT;
	f->noatime = flags & O_NOATIME;
	f->uid = fuse_req_ctx(req)->uid;
	f->backing_id = 0;
	rfs_open_add(rfs_of(req), &f->node, file_release);
	return f;
}

/*
 * A truncating open by a caller without CAP_FSETID drops the setuid and
 * setgid bits natively, but the daemon truncates with its own
 * CAP_FSETID.  With HANDLE_KILLPRIV_V2 the kernel says when
 * (fi->kill_suidgid); without it (libfuse 3.14) the kernel drops them
 * nowhere (atomic O_TRUNC skips its own setattr), so a caller other
 * than root is taken to lack CAP_FSETID.
 */
static bool kill_on_trunc(fuse_req_t req, struct fuse_file_info *fi)
{
#if RFS_FUSE_PASSTHROUGH
	if (rfs_of(req)->killpriv_v2)
		return fi->kill_suidgid;
#endif
	return fuse_req_ctx(req)->uid != 0;
}

void rfs_open_now(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct rfs *fs = rfs_of(req);
	struct rfs_file *f;
	int flags = open_flags(fs, fi->flags);
	int fd;

	/*
	 * O_NOATIME needs CAP_FOWNER for others' files: a daemon that is
	 * not root sets it on its own files at the first read.  A created
	 * file gets it there too, as it is opened as the caller.
	 */
	if (fs->is_root && rfs_noatime(fs, false))
		flags |= O_NOATIME;
	fd = rfs_inode_open(fs, rfs_inode(req, ino), flags);

	if (fd < 0)
		return (void)fuse_reply_err(req, -fd);
	if ((flags & O_TRUNC) && kill_on_trunc(req, fi)) {
		int err = rfs_kill_suidgid(fd);

		if (err) {
			close(fd);
			return (void)fuse_reply_err(req, -err);
		}
	}
	f = file_new(req, fd, flags);
	if (!f) {
		close(fd);
		return (void)fuse_reply_err(req, ENOMEM);
	}
	set_open_reply(req, ino, fi, f);
	if (fuse_reply_open(req, fi) < 0)
		rfs_pt_detach(req, rfs_inode(req, ino), f->backing_id);
}

struct create_args {
	int dfd;
	const char *name;
	int flags;
	mode_t mode;
	int fd;
	bool existed; /* opened an existing file, its O_TRUNC not done */
};

static int create_call(void *arg)
{
	struct create_args *a = arg;

	a->fd = rfs_create_open(a->dfd, a->name, a->flags, a->mode,
				&a->existed);
	return a->fd < 0 ? a->fd : 0;
}

void rfs_create_reply(fuse_req_t req, struct fuse_entry_param *e,
		      struct fuse_file_info *fi, int fd, int flags)
{
	struct rfs *fs = rfs_of(req);
	struct rfs_file *f;

	f = file_new(req, fd, flags & ~(O_CREAT | O_EXCL | O_TRUNC));
	if (!f) {
		close(fd);
		rfs_forget_one(fs, (struct rfs_inode *)(uintptr_t)e->ino, 1);
		return (void)fuse_reply_err(req, ENOMEM);
	}
	set_open_reply(req, e->ino, fi, f);
	if (fuse_reply_create(req, e, fi) < 0)
		rfs_pt_detach(req, rfs_inode(req, e->ino), f->backing_id);
}

void rfs_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		mode_t mode, struct fuse_file_info *fi)
{
	struct rfs *fs = rfs_of(req);
	struct rfs_inode *dir = rfs_inode(req, parent);
	struct fuse_entry_param e;
	struct create_args a = { .name = name, .mode = mode };
	int err;

	/* O_NOFOLLOW: a symlink raced into place must not be followed. */
	a.flags = open_flags(fs, fi->flags) | O_CREAT | O_NOFOLLOW | O_CLOEXEC;
	if (rfs_hidden_name(fs, dir, name))
		return (void)fuse_reply_err(req, EPERM);
	a.dfd = rfs_ifd_get(fs, dir);
	if (a.dfd < 0)
		return (void)fuse_reply_err(req, -a.dfd);
	err = rfs_create_as_caller(req, S_IFREG | mode, create_call, &a);
	if (fdc_is_exhausted(err)) {
		fdc_shrink(&fs->fdc, 0);
		err = rfs_create_as_caller(req, S_IFREG | mode, create_call,
					   &a);
	}
	rfs_ifd_put(fs, dir);
	if (err)
		return (void)fuse_reply_err(req, -err);
	/* The kernel took the name for absent: O_TRUNC meets the pins. */
	if (a.existed)
		return rfs_create_existing(req, dir, name, fi, a.fd, a.flags);

	err = rfs_do_lookup_created(fs, dir, name, a.fd, &e);
	if (err) {
		close(a.fd);
		return (void)fuse_reply_err(req, -err);
	}
	rfs_create_reply(req, &e, fi, a.fd, a.flags);
}

static size_t round_up(size_t n)
{
	return (n + DIO_ALIGN - 1) & ~(size_t)(DIO_ALIGN - 1);
}

static void read_direct(fuse_req_t req, struct rfs_file *f, size_t size,
			off_t off)
{
	void *buf = NULL;
	ssize_t n;

	if (posix_memalign(&buf, DIO_ALIGN, round_up(size ? size : 1)))
		return (void)fuse_reply_err(req, ENOMEM);
	n = pread(f->fd, buf, size, off);
	if (n < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

void rfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	      struct fuse_file_info *fi)
{
	struct rfs_file *f = rfs_file_of(fi);
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);

	/* The mount may have been remounted (no)atime since the open. */
	rfs_noatime_fd(f->fd, rfs_noatime(rfs_of(req), false), &f->noatime);
	/*
	 * Spliced reads of an O_DIRECT file land in page-aligned pipe
	 * buffers, which direct I/O accepts; without splice libfuse would
	 * read into its own buffer, so those go through an aligned one.
	 */
	if (f->direct && !rfs_of(req)->o.splice)
		return read_direct(req, f, size, off);
	buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	buf.buf[0].fd = f->fd;
	buf.buf[0].pos = off;
	fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

/*
 * The kernel writes cached pages back through any handle open for writing
 * on the inode, an O_DIRECT one too, and a file's last page only up to the
 * file's end: not aligned for O_DIRECT, so the backing filesystem would
 * refuse it (EINVAL) and the dirty data would be lost.  Such writes go
 * through a buffered descriptor of the same file instead.  Only writeback
 * (@writepage: the kernel's FUSE_WRITE_CACHE): a caller's own misaligned
 * O_DIRECT write fails with EINVAL as it would natively.
 */
static int unaligned_fd(fuse_req_t req, fuse_ino_t ino, struct rfs_file *f,
			size_t size, off_t off, bool writepage)
{
	if (!writepage || ((size | (size_t)off) & (DIO_ALIGN - 1)) == 0)
		return f->fd;
	return rfs_inode_open(rfs_of(req), rfs_inode(req, ino),
			      f->flags & (O_ACCMODE | O_APPEND | O_SYNC));
}

/* Who a write is for: the caller, or the opener for the kernel's own. */
static int space_for(fuse_req_t req, fuse_ino_t ino, struct rfs_file *f,
		     bool writepage, struct rfs_cred *c)
{
	uid_t uid = writepage ? f->uid : fuse_req_ctx(req)->uid;

	return rfs_space_enter(rfs_of(req), rfs_inode(req, ino), uid, c);
}

/* pwrite(2) of the whole buffer as @f's writer; returns @size or -errno. */
static ssize_t write_as(fuse_req_t req, fuse_ino_t ino, struct rfs_file *f,
			int fd, const void *buf, size_t size, off_t off,
			bool writepage)
{
	struct rfs_cred c;
	ssize_t n;
	int err = space_for(req, ino, f, writepage, &c);

	if (err)
		return err;
	n = pwrite(fd, buf, size, off) < 0 ? -errno : (ssize_t)size;
	rfs_cred_leave(&c);
	return n;
}

static void write_direct(fuse_req_t req, fuse_ino_t ino, struct rfs_file *f,
			 struct fuse_bufvec *in, off_t off, bool writepage)
{
	size_t size = fuse_buf_size(in);
	struct fuse_bufvec mem = FUSE_BUFVEC_INIT(size);
	void *buf = NULL;
	ssize_t n;
	int fd = unaligned_fd(req, ino, f, size, off, writepage);

	if (fd < 0)
		return (void)fuse_reply_err(req, -fd);
	if (posix_memalign(&buf, DIO_ALIGN, round_up(size ? size : 1))) {
		if (fd != f->fd)
			close(fd);
		return (void)fuse_reply_err(req, ENOMEM);
	}
	mem.buf[0].mem = buf;
	n = fuse_buf_copy(&mem, in, 0);
	if (n >= 0)
		n = write_as(req, ino, f, fd, buf, (size_t)n, off, writepage);
	if (fd != f->fd)
		close(fd);
	free(buf);
	if (n < 0)
		return (void)fuse_reply_err(req, (int)-n);
	fuse_reply_write(req, (size_t)n);
}

void rfs_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in,
		   off_t off, struct fuse_file_info *fi)
{
	struct rfs_file *f = rfs_file_of(fi);
	struct fuse_bufvec out = FUSE_BUFVEC_INIT(fuse_buf_size(in));
	struct rfs_cred c;
	ssize_t n;

#if RFS_FUSE_PASSTHROUGH
	/* HANDLE_KILLPRIV_V2: the writer lacks CAP_FSETID; we have it. */
	if (fi->kill_suidgid) {
		int err = rfs_kill_suidgid(f->fd);

		if (err)
			return (void)fuse_reply_err(req, -err);
	}
#endif
	if (f->direct)
		return write_direct(req, ino, f, in, off, fi->writepage);
	out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	out.buf[0].fd = f->fd;
	out.buf[0].pos = off;
	n = space_for(req, ino, f, fi->writepage, &c);
	if (n == 0) {
		n = fuse_buf_copy(&out, in, 0);
		rfs_cred_leave(&c);
	}
	if (n < 0)
		return (void)fuse_reply_err(req, (int)-n);
	fuse_reply_write(req, (size_t)n);
}

void rfs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	/*
	 * close() of a duplicate gives the backing filesystem the same
	 * close-time work (e.g. XFS flushing after a truncate) that a
	 * process closing the file natively would trigger.
	 */
	int fd = dup(rfs_file_of(fi)->fd);

	if (fd >= 0 && close(fd) < 0)
		return (void)fuse_reply_err(req, errno);
	fuse_reply_err(req, 0);
}

void rfs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct rfs_file *f = rfs_file_of(fi);

	rfs_pt_detach(req, rfs_inode(req, ino), f->backing_id);
	rfs_open_del(rfs_of(req), &f->node);
	file_release(&f->node);
	fuse_reply_err(req, 0);
}

void rfs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
	       struct fuse_file_info *fi)
{
	int fd = rfs_file_of(fi)->fd;
	int res = datasync ? fdatasync(fd) : fsync(fd);

	fuse_reply_err(req, res < 0 ? errno : 0);
}

void rfs_fallocate_now(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset,
		       off_t length, struct fuse_file_info *fi)
{
	struct rfs_cred c;
	int err = rfs_space_enter(rfs_of(req), rfs_inode(req, ino),
				  fuse_req_ctx(req)->uid, &c);

	if (!err) {
		if (fallocate(rfs_file_of(fi)->fd, mode, offset, length) < 0)
			err = -errno;
		rfs_cred_leave(&c);
	}
	fuse_reply_err(req, -err);
}

void rfs_copy_file_range_now(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			     struct fuse_file_info *fi_in, fuse_ino_t ino_out,
			     off_t off_out, struct fuse_file_info *fi_out,
			     size_t len, int flags)
{
	struct rfs *fs = rfs_of(req);
	struct rfs_file *src = rfs_file_of(fi_in);
	struct rfs_cred c;
	ssize_t n;
	int err;

	rfs_noatime_fd(src->fd, rfs_noatime(fs, false), &src->noatime);
	err = rfs_space_enter(fs, rfs_inode(req, ino_out),
			      fuse_req_ctx(req)->uid, &c);
	if (err)
		return (void)fuse_reply_err(req, -err);
	n = copy_file_range(src->fd, &off_in, rfs_file_of(fi_out)->fd, &off_out,
			    len, (unsigned int)flags);
	if (n < 0)
		n = -errno;
	rfs_cred_leave(&c);
	if (n < 0)
		return (void)fuse_reply_err(req, (int)-n);
	fuse_reply_write(req, (size_t)n);
}

void rfs_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
	       struct fuse_file_info *fi)
{
	off_t res = lseek(rfs_file_of(fi)->fd, off, whence);

	if (res < 0)
		return (void)fuse_reply_err(req, errno);
	fuse_reply_lseek(req, res);
}
