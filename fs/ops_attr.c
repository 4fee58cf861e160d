// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Attributes, extended attributes, statfs and access.
 *
 * An inode's cached descriptor is opened with O_PATH, which most calls
 * accept through AT_EMPTY_PATH; the rest (chmod, truncate, the xattr
 * calls) reach the inode through its /proc/self/fd link, which names the
 * inode itself and never follows a symlink stored in it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "ops.h"
#include "listing.h"
#include "ctlxattr.h"

static int stat_inode(struct rfs *fs, struct rfs_inode *in,
		      struct fuse_file_info *fi, struct stat *st)
{
	int fd, res;

	/* The kernel passes directory handles too; only files have ours. */
	if (fi && fi->fh && S_ISREG(in->type))
		return fstat(rfs_file_of(fi)->fd, st) < 0 ? -errno : 0;
	fd = rfs_ifd_get(fs, in);
	if (fd < 0)
		return fd;
	res = fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
	res = res < 0 ? -errno : 0;
	rfs_ifd_put(fs, in);
	return res;
}

void rfs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct rfs *fs = rfs_of(req);
	struct stat st;
	int err = stat_inode(fs, rfs_inode(req, ino), fi, &st);

	if (err)
		return (void)fuse_reply_err(req, -err);
	fuse_reply_attr(req, &st, fs->timeout);
}

static int set_times(int fd, const char *path, const struct stat *attr,
		     int valid, bool symlink, bool have_fh)
{
	struct timespec tv[2] = {
		{ .tv_nsec = UTIME_OMIT },
		{ .tv_nsec = UTIME_OMIT },
	};

	if (valid & FUSE_SET_ATTR_ATIME_NOW)
		tv[0].tv_nsec = UTIME_NOW;
	else if (valid & FUSE_SET_ATTR_ATIME)
		tv[0] = attr->st_atim;
	if (valid & FUSE_SET_ATTR_MTIME_NOW)
		tv[1].tv_nsec = UTIME_NOW;
	else if (valid & FUSE_SET_ATTR_MTIME)
		tv[1] = attr->st_mtim;

	if (have_fh)
		return futimens(fd, tv) < 0 ? -errno : 0;
	if (symlink)
		return utimensat(fd, "", tv,
				 AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0
			       ? -errno
			       : 0;
	return utimensat(AT_FDCWD, path, tv, 0) < 0 ? -errno : 0;
}

int rfs_kill_suidgid(int fd)
{
	char path[64];
	struct stat st;
	mode_t mode;

	if (fstat(fd, &st) < 0)
		return -errno;
	mode = st.st_mode;
	if (!S_ISREG(mode))
		return 0;
	mode &= ~S_ISUID;
	if (mode & S_IXGRP)
		mode &= ~S_ISGID;
	if (mode == st.st_mode)
		return 0;
	if (fchmod(fd, mode & 07777) == 0)
		return 0;
	if (errno != EBADF)
		return -errno;
	/* An O_PATH descriptor: through its /proc link, as chmod below. */
	rfs_fd_path(path, sizeof(path), fd);
	return chmod(path, mode & 07777) < 0 ? -errno : 0;
}

void rfs_setattr_now(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		     int valid, struct fuse_file_info *fi)
{
	struct rfs *fs = rfs_of(req);
	struct rfs_inode *in = rfs_inode(req, ino);
	bool have_fh = fi && fi->fh && S_ISREG(in->type);
	int fd, err = 0;
	char path[64];
	struct stat st;

	fd = have_fh ? rfs_file_of(fi)->fd : rfs_ifd_get(fs, in);
	if (fd < 0)
		return (void)fuse_reply_err(req, -fd);
	rfs_fd_path(path, sizeof(path), fd);

#if RFS_FUSE_PASSTHROUGH
	/*
	 * HANDLE_KILLPRIV_V2 and a write straight to the backing file
	 * (kernel passthrough): the kernel found setuid/setgid bits to drop
	 * for a writer without CAP_FSETID, left the mode change to us and
	 * sends what remains: nothing.  The backing write runs with the
	 * daemon's CAP_FSETID, so nobody else drops them.  The one other
	 * source of an empty setattr is the kernel dropping a file's
	 * security.capability for any writer: root (CAP_FSETID) keeps the
	 * bits, hence the test of the caller.
	 */
	if (valid == 0 && S_ISREG(in->type) && fuse_req_ctx(req)->uid != 0) {
		err = rfs_kill_suidgid(fd);
		goto out;
	}
#endif

	if (valid & FUSE_SET_ATTR_MODE) {
		if (have_fh)
			err = fchmod(fd, attr->st_mode);
		else
			err = chmod(path, attr->st_mode);
		if (err < 0) {
			err = -errno;
			goto out;
		}
	}
	if (valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		uid_t uid =
			valid & FUSE_SET_ATTR_UID ? attr->st_uid : (uid_t)-1;
		gid_t gid =
			valid & FUSE_SET_ATTR_GID ? attr->st_gid : (gid_t)-1;

		if (fchownat(fd, "", uid, gid,
			     AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
			err = -errno;
			goto out;
		}
	}
	if (valid & FUSE_SET_ATTR_SIZE) {
		struct rfs_cred c;

		/* Growth may allocate (creds.c); the kernel checked access. */
		err = rfs_space_enter(fs, in, fuse_req_ctx(req)->uid, &c);
		if (err)
			goto out;
		if (have_fh)
			err = ftruncate(fd, attr->st_size);
		else
			err = truncate(path, attr->st_size);
		if (err < 0)
			err = -errno;
		rfs_cred_leave(&c);
#if RFS_FUSE_PASSTHROUGH
		/*
		 * FATTR_KILL_SUIDGID (HANDLE_KILLPRIV_V2): the caller lacks
		 * CAP_FSETID, the daemon has it, so the backing filesystem
		 * kept the bits that a native truncate drops.  It did drop
		 * security.capability, as for any truncate.
		 */
		if (!err && (valid & FUSE_SET_ATTR_KILL_SUID) &&
		    !(valid & FUSE_SET_ATTR_MODE))
			err = rfs_kill_suidgid(fd);
#endif
		if (err)
			goto out;
	}
	if (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)) {
		err = set_times(fd, path, attr, valid, S_ISLNK(in->type),
				have_fh);
		if (err)
			goto out;
	}
out:
	if (!have_fh)
		rfs_ifd_put(fs, in);
	if (err)
		return (void)fuse_reply_err(req, -err);
	if (S_ISDIR(in->type) &&
	    (valid &
	     (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)))
		rfs_listing_stale(fs);
	err = stat_inode(fs, in, fi, &st);
	if (err)
		return (void)fuse_reply_err(req, -err);
	fuse_reply_attr(req, &st, fs->timeout);
}

void rfs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct rfs *fs = rfs_of(req);
	struct rfs_inode *in = rfs_inode(req, ino);
	struct statvfs sv;
	int fd = rfs_ifd_get(fs, in), res;

	if (fd < 0)
		return (void)fuse_reply_err(req, -fd);
	res = fstatvfs(fd, &sv) < 0 ? errno : 0;
	rfs_ifd_put(fs, in);
	if (res)
		return (void)fuse_reply_err(req, res);
	fuse_reply_statfs(req, &sv);
}

void rfs_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct rfs *fs = rfs_of(req);
	struct rfs_inode *in = rfs_inode(req, ino);
	struct rfs_cred c;
	int fd, err;

	fd = rfs_ifd_get(fs, in);
	if (fd < 0)
		return (void)fuse_reply_err(req, -fd);
	err = rfs_cred_enter(req, &c, true);
	if (!err) {
		/* AT_EACCESS: check with the fsuid we just took on. */
		if (faccessat(fd, "", mask, AT_EMPTY_PATH | AT_EACCESS) < 0)
			err = -errno;
		rfs_cred_leave(&c);
	}
	rfs_ifd_put(fs, in);
	fuse_reply_err(req, -err);
}

/* The xattr calls share this: resolve the inode, run @fn on its path. */
static ssize_t with_path(fuse_req_t req, fuse_ino_t ino,
			 ssize_t (*fn)(const char *path, void *arg), void *arg)
{
	struct rfs *fs = rfs_of(req);
	struct rfs_inode *in = rfs_inode(req, ino);
	char path[64];
	ssize_t res;
	int fd = rfs_ifd_get(fs, in);

	if (fd < 0)
		return fd;
	rfs_fd_path(path, sizeof(path), fd);
	res = fn(path, arg);
	rfs_ifd_put(fs, in);
	return res;
}

struct xa_args {
	fuse_req_t req;
	const char *name;
	const char *value;
	char *buf;
	size_t size;
	int flags;
};

static ssize_t xa_set(const char *path, void *arg)
{
	struct xa_args *a = arg;

	return setxattr(path, a->name, a->value, a->size, a->flags) < 0 ? -errno
									: 0;
}

struct xa_caller {
	struct xa_args *a;
	const char *path;
};

static int xa_set_call(void *arg)
{
	struct xa_caller *x = arg;

	return (int)xa_set(x->path, x->a);
}

/*
 * As the caller: a new xattr block is charged to the caller's quota and
 * reserve (creds.c), and an access ACL that the caller sets clears the
 * set-group-ID bit when the caller is not in the file's group, which the
 * filesystem decides from the caller's groups.  The kernel has checked
 * the caller's right to set the name.
 */
static ssize_t xa_set_as_caller(const char *path, void *arg)
{
	struct xa_caller x = { .a = arg, .path = path };
	bool acl = strcmp(x.a->name, "system.posix_acl_access") == 0;

	return rfs_as_caller(x.a->req, acl, xa_set_call, &x);
}

static ssize_t xa_get(const char *path, void *arg)
{
	struct xa_args *a = arg;
	ssize_t n = getxattr(path, a->name, a->buf, a->size);

	return n < 0 ? -errno : n;
}

static ssize_t xa_list(const char *path, void *arg)
{
	struct xa_args *a = arg;
	ssize_t n = listxattr(path, a->buf, a->size);

	return n < 0 ? -errno : n;
}

static ssize_t xa_remove(const char *path, void *arg)
{
	struct xa_args *a = arg;

	return removexattr(path, a->name) < 0 ? -errno : 0;
}

/* A directory's ACL decides who reaches the paths below it (listing.c). */
static void acl_changed(fuse_req_t req, fuse_ino_t ino, const char *name,
			int err)
{
	if (!err && S_ISDIR(rfs_inode(req, ino)->type) &&
	    strncmp(name, "system.posix_acl_", 17) == 0)
		rfs_listing_stale(rfs_of(req));
}

void rfs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		  const char *value, size_t size, int flags)
{
	struct xa_args a = { .req = req,
			     .name = name,
			     .value = value,
			     .size = size,
			     .flags = flags };
	int err;

	if (rfs_ctl_setxattr(req, rfs_inode(req, ino), name, value, size))
		return;

	err = (int)-with_path(req, ino, xa_set_as_caller, &a);
	acl_changed(req, ino, name, err);
	fuse_reply_err(req, err);
}

static void reply_xattr_data(fuse_req_t req, ssize_t n, char *buf, size_t size)
{
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
}

void rfs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct xa_args a = { .name = name, .size = size };
	ssize_t n;

	if (rfs_ctl_getxattr(req, rfs_inode(req, ino), name, size))
		return;
	if (size) {
		a.buf = malloc(size);
		if (!a.buf)
			return (void)fuse_reply_err(req, ENOMEM);
	}
	n = with_path(req, ino, xa_get, &a);
	reply_xattr_data(req, n, a.buf, size);
	free(a.buf);
}

void rfs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct xa_args a = { 0 };
	ssize_t n;

	/*
	 * rdmafs's own names are never listed, so the length the caller
	 * sees is that of the filtered list: fetch the whole list first.
	 */
	for (;;) {
		n = with_path(req, ino, xa_list, &a);
		if (n < 0 || (a.buf && (size_t)n <= a.size))
			break;
		free(a.buf);
		a.size = (size_t)n + 256;
		a.buf = malloc(a.size);
		if (!a.buf)
			return (void)fuse_reply_err(req, ENOMEM);
	}
	if (n >= 0)
		n = (ssize_t)rfs_ctl_filter_list(a.buf, (size_t)n);
	if (n >= 0 && size && (size_t)n > size)
		n = -ERANGE;
	reply_xattr_data(req, n, a.buf, size);
	free(a.buf);
}

void rfs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct xa_args a = { .name = name };

	int err;

	if (rfs_ctl_removexattr(req, rfs_inode(req, ino), name))
		return;
	err = (int)-with_path(req, ino, xa_remove, &a);
	acl_changed(req, ino, name, err);
	fuse_reply_err(req, err);
}
