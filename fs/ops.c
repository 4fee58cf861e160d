// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The operation table and session set-up (init).
 *
 * Locks (flock and POSIX) are left to the kernel: without lock handlers it
 * keeps them itself, per mount, with the usual semantics; the backing
 * files are reachable only through this mount, so no other party needs to
 * see them.
 */
#include <syslog.h>

#include "mountflags.h"
#include "ops.h"

#define MAX_WRITE (1u << 20)

static void rfs_init(void *userdata, struct fuse_conn_info *conn)
{
	struct rfs *fs = userdata;

	/* Requests of up to 1 MiB; libfuse sizes its buffers for that. */
	conn->max_write = MAX_WRITE;

	if (fs->o.splice) {
		if (conn->capable & FUSE_CAP_SPLICE_WRITE)
			conn->want |= FUSE_CAP_SPLICE_WRITE;
		if (conn->capable & FUSE_CAP_SPLICE_MOVE)
			conn->want |= FUSE_CAP_SPLICE_MOVE;
		if (conn->capable & FUSE_CAP_SPLICE_READ)
			conn->want |= FUSE_CAP_SPLICE_READ;
	} else {
		conn->want &= ~(FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE |
				FUSE_CAP_SPLICE_READ);
	}
	if (fs->o.writeback && (conn->capable & FUSE_CAP_WRITEBACK_CACHE))
		conn->want |= FUSE_CAP_WRITEBACK_CACHE;
	/*
	 * The daemon writes as root, which keeps setuid bits the backing
	 * filesystem would clear for the real writer; the kernel clears them
	 * on our behalf when we do not claim this.
	 */
	conn->want &= ~FUSE_CAP_HANDLE_KILLPRIV;
	/* flock() and fcntl() locks: kernel-local, as above. */
	conn->want &= ~(FUSE_CAP_FLOCK_LOCKS | FUSE_CAP_POSIX_LOCKS);
	/*
	 * POSIX ACLs as the backing filesystem keeps them: the kernel checks
	 * them (default_permissions is on) and leaves the umask of a new
	 * file to us, so that the backing filesystem applies a default ACL
	 * instead, as natively.  That needs a umask per thread (creds.c),
	 * tried here on this worker first.
	 */
	if ((conn->capable & FUSE_CAP_POSIX_ACL) &&
	    (conn->capable & FUSE_CAP_DONT_MASK) && rfs_acl_backing(fs) &&
	    rfs_umask_own() == 0)
		conn->want |= FUSE_CAP_POSIX_ACL | FUSE_CAP_DONT_MASK;
	rfs_creds_init(fs);
	if (rfs_mflags_start(fs) < 0)
		syslog(LOG_WARNING,
		       "couldn't follow the mount's flags: atime is left to the backing filesystem");
}

static void rfs_destroy(void *userdata)
{
	rfs_mflags_stop(userdata);
}

const struct fuse_lowlevel_ops rfs_ops = {
	.init = rfs_init,
	.destroy = rfs_destroy,
	.lookup = rfs_lookup,
	.forget = rfs_forget,
	.forget_multi = rfs_forget_multi,
	.getattr = rfs_getattr,
	.setattr = rfs_setattr,
	.readlink = rfs_readlink,
	.mknod = rfs_mknod,
	.mkdir = rfs_mkdir,
	.symlink = rfs_symlink,
	.link = rfs_link,
	.unlink = rfs_unlink,
	.rmdir = rfs_rmdir,
	.rename = rfs_rename,
	.open = rfs_open,
	.create = rfs_create,
	.read = rfs_read,
	.write_buf = rfs_write_buf,
	.flush = rfs_flush,
	.release = rfs_release,
	.fsync = rfs_fsync,
	.opendir = rfs_opendir,
	.readdir = rfs_readdir,
	.readdirplus = rfs_readdirplus,
	.releasedir = rfs_releasedir,
	.fsyncdir = rfs_fsyncdir,
	.statfs = rfs_statfs,
	.access = rfs_access,
	.setxattr = rfs_setxattr,
	.getxattr = rfs_getxattr,
	.listxattr = rfs_listxattr,
	.removexattr = rfs_removexattr,
	.fallocate = rfs_fallocate,
	.copy_file_range = rfs_copy_file_range,
	.lseek = rfs_lseek,
};
