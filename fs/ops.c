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
#include "passthrough.h"

#define MAX_WRITE (1u << 20)

/*
 * libfuse >= 3.17 keeps the flags in 64-bit capable_ext and want_ext and
 * refuses an init() that changes both those and the old 32-bit fields:
 * every flag goes through these three.
 */
static bool can(struct fuse_conn_info *conn, uint64_t flag)
{
#if FUSE_USE_VERSION >= 317
	return conn->capable_ext & flag;
#else
	return conn->capable & flag;
#endif
}

static void want(struct fuse_conn_info *conn, uint64_t flag, bool on)
{
#if FUSE_USE_VERSION >= 317
	if (on)
		fuse_set_feature_flag(conn, flag);
	else
		fuse_unset_feature_flag(conn, flag);
#else
	if (on)
		conn->want |= flag;
	else
		conn->want &= ~flag;
#endif
}

/* Turns @flag on where the kernel offers it. */
static void want_if(struct fuse_conn_info *conn, uint64_t flag)
{
	if (can(conn, flag))
		want(conn, flag, true);
}

static void rfs_init(void *userdata, struct fuse_conn_info *conn)
{
	struct rfs *fs = userdata;

	/* Requests of up to 1 MiB; libfuse sizes its buffers for that. */
	conn->max_write = MAX_WRITE;

	/*
	 * Read replies go out by splice.  Requests are never read in by
	 * splice (SPLICE_READ): that costs a pipe round for every request,
	 * and on two CPUs it cut 4 KiB random reads on the daemon path from
	 * 177k to 100k IOPS with libfuse 3.18 (4 jobs, tmpfs), while 1 MiB
	 * sequential writes came out the same either way.
	 */
	want(conn, FUSE_CAP_SPLICE_READ, false);
	if (fs->o.splice) {
		want_if(conn, FUSE_CAP_SPLICE_WRITE);
		want_if(conn, FUSE_CAP_SPLICE_MOVE);
	} else {
		want(conn, FUSE_CAP_SPLICE_WRITE, false);
		want(conn, FUSE_CAP_SPLICE_MOVE, false);
	}
	if (fs->o.writeback)
		want_if(conn, FUSE_CAP_WRITEBACK_CACHE);
	/*
	 * The daemon writes as root, which keeps setuid bits the backing
	 * filesystem would clear for the real writer; the kernel clears them
	 * on our behalf when we do not claim this.
	 */
	want(conn, FUSE_CAP_HANDLE_KILLPRIV, false);
	/* flock() and fcntl() locks: kernel-local, as above. */
	want(conn, FUSE_CAP_FLOCK_LOCKS, false);
	want(conn, FUSE_CAP_POSIX_LOCKS, false);
	/*
	 * POSIX ACLs as the backing filesystem keeps them: the kernel checks
	 * them (default_permissions is on) and leaves the umask of a new
	 * file to us, so that the backing filesystem applies a default ACL
	 * instead, as natively.  That needs a umask per thread (creds.c),
	 * tried here on this worker first.
	 */
	if (can(conn, FUSE_CAP_POSIX_ACL) && can(conn, FUSE_CAP_DONT_MASK) &&
	    rfs_acl_backing(fs) && rfs_umask_own() == 0) {
		want(conn, FUSE_CAP_POSIX_ACL, true);
		want(conn, FUSE_CAP_DONT_MASK, true);
	}
	/* Last: it turns the writeback cache off again where it is used. */
	rfs_pt_init(fs, conn);
#if RFS_FUSE_PASSTHROUGH
	/*
	 * Without it the kernel asks for security.capability before every
	 * write, a passthrough write too (GETXATTR: a round trip per
	 * write(2)); with it the kernel marks a file without privileges
	 * once (S_NOSEC) and leaves dropping setuid/setgid to us:
	 * fi->kill_suidgid in open, create and write, FATTR_KILL_SUIDGID in
	 * setattr, and an empty setattr before a passthrough write
	 * (ops_attr.c).
	 */
	if (can(conn, FUSE_CAP_HANDLE_KILLPRIV_V2)) {
		want(conn, FUSE_CAP_HANDLE_KILLPRIV_V2, true);
		fs->killpriv_v2 = true;
	}
#endif
	rfs_uring_init(fs, conn);
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
