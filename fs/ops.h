/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The low-level handlers, grouped by file; ops.c puts them in the table. */
#ifndef RDMAFS_OPS_H
#define RDMAFS_OPS_H

#include <stdio.h>

#include "rdmafs.h"

/* ops_entry.c: names */
void rfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void rfs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void rfs_forget_multi(fuse_req_t req, size_t count,
		      struct fuse_forget_data *forgets);
void rfs_readlink(fuse_req_t req, fuse_ino_t ino);
void rfs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	       dev_t rdev);
void rfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
	       mode_t mode);
void rfs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		 const char *name);
void rfs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t parent,
	      const char *name);
void rfs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void rfs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void rfs_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		fuse_ino_t newparent, const char *newname, unsigned int flags);
/*
 * Creates @name as the caller (rfs_as_caller) under the caller's umask;
 * @fn does the creating call.  @mode is the new entry's type and
 * permission bits.
 */
int rfs_create_as_caller(fuse_req_t req, mode_t mode, int (*fn)(void *arg),
			 void *arg);
/*
 * Runs @fn as the caller (fsuid, fsgid, CAP_SYS_RESOURCE as for root or
 * a user), with its supplementary groups if @groups or when a first try
 * without them is refused.  Returns @fn's result or -errno.
 */
int rfs_as_caller(fuse_req_t req, bool groups, int (*fn)(void *arg), void *arg);

/* ops_attr.c: attributes, xattrs, statfs, access */
void rfs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void rfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int valid,
		 struct fuse_file_info *fi);
void rfs_statfs(fuse_req_t req, fuse_ino_t ino);
void rfs_access(fuse_req_t req, fuse_ino_t ino, int mask);
void rfs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		  const char *value, size_t size, int flags);
void rfs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		  size_t size);
void rfs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void rfs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);
/*
 * HANDLE_KILLPRIV_V2 (fi->kill_suidgid, FUSE_SET_ATTR_KILL_SUID): drops
 * the set-user-ID bit of the regular file open at @fd, and its
 * set-group-ID bit if it is group-executable, as a write or truncate by
 * a caller without CAP_FSETID does natively.  0 or -errno.
 */
int rfs_kill_suidgid(int fd);

/* ops_file.c: open files and their data */
void rfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void rfs_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		mode_t mode, struct fuse_file_info *fi);
void rfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	      struct fuse_file_info *fi);
void rfs_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in,
		   off_t off, struct fuse_file_info *fi);
void rfs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void rfs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void rfs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
	       struct fuse_file_info *fi);
void rfs_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset,
		   off_t length, struct fuse_file_info *fi);
void rfs_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			 struct fuse_file_info *fi_in, fuse_ino_t ino_out,
			 off_t off_out, struct fuse_file_info *fi_out,
			 size_t len, int flags);
void rfs_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
	       struct fuse_file_info *fi);

/* ops_dir.c: directories */
void rfs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void rfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		 struct fuse_file_info *fi);
void rfs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		     struct fuse_file_info *fi);
void rfs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void rfs_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
		  struct fuse_file_info *fi);

static inline struct rfs_file *rfs_file_of(struct fuse_file_info *fi)
{
	return (struct rfs_file *)(uintptr_t)fi->fh;
}

/* "/proc/self/fd/N" for an O_PATH descriptor: the way to reach it by path. */
static inline void rfs_fd_path(char *buf, size_t len, int fd)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
}

/*
 * The layout-changing operations: the table's handlers (mediated_ops.c)
 * check them against the pins and call these to perform them.
 */
void rfs_setattr_now(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		     int valid, struct fuse_file_info *fi);
void rfs_open_now(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void rfs_fallocate_now(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset,
		       off_t length, struct fuse_file_info *fi);
void rfs_copy_file_range_now(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			     struct fuse_file_info *fi_in, fuse_ino_t ino_out,
			     off_t off_out, struct fuse_file_info *fi_out,
			     size_t len, int flags);
void rfs_unlink_now(fuse_req_t req, fuse_ino_t parent, const char *name);

/*
 * create (mediated_ops.c): opens @name in @dfd as open(2) with @flags
 * would, creating it with @mode, but never truncates an existing file:
 * with O_TRUNC and without O_EXCL, an existing file is opened without
 * O_TRUNC and *@existed set, for rfs_create_existing().  Returns the fd
 * or -errno.
 */
int rfs_create_open(int dfd, const char *name, int flags, mode_t mode,
		    bool *existed);
/*
 * Answers a create that met an existing file (fd @fd, opened with @flags
 * less O_TRUNC): looks it up (loading its stored pins), mediates the
 * truncation as an open with O_TRUNC, and replies.  Takes @fd.
 */
void rfs_create_existing(fuse_req_t req, struct rfs_inode *dir,
			 const char *name, struct fuse_file_info *fi, int fd,
			 int flags);
/*
 * ops_file.c: replies to a create with the looked-up entry @e and @fd,
 * opened with @flags; takes @fd (and the lookup reference, on error).
 */
void rfs_create_reply(fuse_req_t req, struct fuse_entry_param *e,
		      struct fuse_file_info *fi, int fd, int flags);
void rfs_rename_now(fuse_req_t req, fuse_ino_t parent, const char *name,
		    fuse_ino_t newparent, const char *newname,
		    unsigned int flags);

#endif
