// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Open files and their data.
 *
 * Reads and writes move data between the FUSE device and the backing file
 * with splice where the kernel allows it.  A file opened with O_DIRECT
 * needs buffers aligned to the backing device's block size, which the
 * request buffers of libfuse are not, so such files go through an aligned
 * bounce buffer instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops.h"
#include "pins.h"

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

static void set_open_reply(struct rfs *fs, struct fuse_file_info *fi,
			   struct rfs_file *f)
{
	fi->fh = (uintptr_t)f;
	fi->keep_cache = fs->o.cache == RFS_CACHE_ALWAYS;
}

static void file_release(struct rfs_open *o)
{
	struct rfs_file *f = (struct rfs_file *)o;

	close(f->fd);
	free(f);
}

static struct rfs_file *file_new(struct rfs *fs, int fd, int flags)
{
	struct rfs_file *f = malloc(sizeof(*f));

	if (!f)
		return NULL;
	f->fd = fd;
	f->flags = flags;
	f->direct = flags & O_DIRECT;
	rfs_open_add(fs, &f->node, file_release);
	return f;
}

void rfs_open_now(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct rfs *fs = rfs_of(req);
	struct rfs_file *f;
	int flags = open_flags(fs, fi->flags);
	int fd = rfs_inode_open(fs, rfs_inode(req, ino), flags);

	if (fd < 0)
		return (void)fuse_reply_err(req, -fd);
	f = file_new(fs, fd, flags);
	if (!f) {
		close(fd);
		return (void)fuse_reply_err(req, ENOMEM);
	}
	set_open_reply(fs, fi, f);
	fuse_reply_open(req, fi);
}

struct create_args {
	int dfd;
	const char *name;
	int flags;
	mode_t mode;
	int fd;
};

static int create_call(void *arg)
{
	struct create_args *a = arg;

	a->fd = openat(a->dfd, a->name, a->flags, a->mode);
	return a->fd < 0 ? -errno : 0;
}

void rfs_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		mode_t mode, struct fuse_file_info *fi)
{
	struct rfs *fs = rfs_of(req);
	struct rfs_inode *dir = rfs_inode(req, parent);
	struct fuse_entry_param e;
	struct rfs_file *f;
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

	err = rfs_do_lookup(fs, dir, name, &e);
	if (err) {
		close(a.fd);
		return (void)fuse_reply_err(req, -err);
	}
	f = file_new(fs, a.fd, a.flags & ~(O_CREAT | O_EXCL | O_TRUNC));
	if (!f) {
		close(a.fd);
		rfs_forget_one(fs, (struct rfs_inode *)(uintptr_t)e.ino, 1);
		return (void)fuse_reply_err(req, ENOMEM);
	}
	set_open_reply(fs, fi, f);
	fuse_reply_create(req, &e, fi);
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
		n = pwrite(fd, buf, (size_t)n, off) < 0 ? -errno
							: (ssize_t)size;
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
	ssize_t n;

	if (f->direct)
		return write_direct(req, ino, f, in, off, fi->writepage);
	out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	out.buf[0].fd = f->fd;
	out.buf[0].pos = off;
	n = fuse_buf_copy(&out, in, 0);
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
	int res = fallocate(rfs_file_of(fi)->fd, mode, offset, length);

	fuse_reply_err(req, res < 0 ? errno : 0);
}

void rfs_copy_file_range_now(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			     struct fuse_file_info *fi_in, fuse_ino_t ino_out,
			     off_t off_out, struct fuse_file_info *fi_out,
			     size_t len, int flags)
{
	ssize_t n = copy_file_range(rfs_file_of(fi_in)->fd, &off_in,
				    rfs_file_of(fi_out)->fd, &off_out, len,
				    (unsigned int)flags);

	if (n < 0)
		return (void)fuse_reply_err(req, errno);
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
