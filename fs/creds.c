// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Acting as the caller.
 *
 * A daemon running as root creates files for many users.  It switches the
 * worker thread's filesystem uid and gid to the caller's around each
 * creating call, so the backing filesystem assigns the owner and group
 * itself (including the group of a setgid directory) and checks the
 * caller's write permission on the directory.
 *
 * setfsuid(2), setfsgid(2) and the raw setgroups system call act on the
 * calling thread only (glibc's setgroups() would change every thread).
 * Each worker drops root's supplementary groups once, so a caller never
 * borrows them; the caller's own groups are read from /proc only when a
 * first try without them is refused, because reading them costs more than
 * the operation.
 *
 * Space is the caller's too (DESIGN §7): root's CAP_SYS_RESOURCE lets a
 * write pass a user's quota hard limit and, with fsuid 0, dip into the
 * blocks ext2/3/4 keep for root (mkfs.ext4 -m, the reserve belongs to
 * s_resuid, root by default).  So calls that allocate space for a caller
 * other than root run without CAP_SYS_RESOURCE in the thread's effective
 * set and, where the filesystem keeps such a reserve, with the caller's
 * fsuid.  Capabilities are per thread like the fsuid; the raw capget and
 * capset calls do it without libcap, for one bit.  The bit stays in the
 * permitted set, so a root caller gets it back.  Each change of
 * credentials costs 1.5 to 3 us here (prepare_creds and commit_creds),
 * against about 25 us of daemon time for a 4 KiB write, so the
 * capability follows the callers lazily: a thread remembers its state
 * and changes it only when a root caller follows a user or the other way
 * round.  The fsuid of a write is switched and restored each time, and
 * only on filesystems with a reserve for root (never on XFS, whose
 * reserve is its own).
 *
 * The caller's umask: with FUSE_CAP_DONT_MASK the kernel leaves the mode
 * of a new file unmasked and passes the umask, so that the backing
 * filesystem can apply a default ACL of the directory instead of it, as
 * it does natively.  umask(2) acts on every thread sharing the fs_struct,
 * so each worker unshares it (CLONE_FS) once and sets the caller's umask
 * around the creating call only.
 */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "rdmafs.h"

#define MAX_GROUPS 256
#define EXT234_SUPER_MAGIC 0xEF53

static __thread bool groups_dropped;

/* CAP_SYS_RESOURCE in this thread's effective set, as last set. */
enum res_cap { RES_CAP_UNKNOWN, RES_CAP_RAISED, RES_CAP_DROPPED };
static __thread enum res_cap res_cap;

/* This thread's fs_struct: 0 shared, 1 its own, -errno unshare failed. */
static __thread int own_fs;

static int thread_setgroups(size_t n, const gid_t *list)
{
	return syscall(SYS_setgroups, n, list) < 0 ? -errno : 0;
}

static int drop_groups(void)
{
	int err;

	if (groups_dropped)
		return 0;
	err = thread_setgroups(0, NULL);
	if (err)
		return err;
	groups_dropped = true;
	return 0;
}

/* Raises or drops CAP_SYS_RESOURCE in this thread's effective set. */
static int resource_cap(bool raise)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	enum res_cap want = raise ? RES_CAP_RAISED : RES_CAP_DROPPED;
	int i = CAP_TO_INDEX(CAP_SYS_RESOURCE);
	__u32 bit = CAP_TO_MASK(CAP_SYS_RESOURCE), before;

	if (res_cap == want)
		return 0;
	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	before = d[i].effective;
	if (raise)
		d[i].effective |= d[i].permitted & bit;
	else
		d[i].effective &= ~bit;
	/* Nothing to change: never had it (a bounding set without it). */
	if (d[i].effective != before && syscall(SYS_capset, &h, d) < 0)
		return -errno;
	res_cap = want;
	return 0;
}

void rfs_creds_init(struct rfs *fs)
{
	struct statfs sf;

	/*
	 * ext2/3/4 report the reserve as f_bfree - f_bavail (with their own
	 * few clusters kept for delayed allocation); XFS reports none.  The
	 * magic is checked too, as a full ext4 reports 0 for both.  When in
	 * doubt (fstatfs fails), switch: that costs time, never a block.
	 */
	fs->space_fsuid = fstatfs(fs->root_fd, &sf) < 0 ||
			  sf.f_type == EXT234_SUPER_MAGIC ||
			  sf.f_bfree != sf.f_bavail;
}

int rfs_cred_enter(fuse_req_t req, struct rfs_cred *c, bool with_groups)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct rfs *fs = rfs_of(req);
	gid_t groups[MAX_GROUPS];
	int n, err;

	c->switched = false;
	c->groups = false;
	if (!fs->is_root)
		return 0;
	err = resource_cap(ctx->uid == 0);
	if (err)
		return err;
	if (ctx->uid == 0 && ctx->gid == 0)
		return 0;

	err = drop_groups();
	if (err)
		return err;
	if (with_groups) {
		n = fuse_req_getgroups(req, MAX_GROUPS, groups);
		if (n > MAX_GROUPS)
			n = MAX_GROUPS;
		if (n > 0) {
			err = thread_setgroups(n, groups);
			if (err)
				return err;
			c->groups = true;
		}
	}
	/* Group first: after the uid switch the thread may lack the right. */
	setfsgid(ctx->gid);
	setfsuid(ctx->uid);
	c->uid = ctx->uid;
	c->gid = ctx->gid;
	c->switched = true;
	return 0;
}

void rfs_cred_leave(struct rfs_cred *c)
{
	if (!c->switched)
		return;
	setfsuid(0);
	setfsgid(0);
	if (c->groups)
		thread_setgroups(0, NULL);
	c->switched = false;
}

int rfs_space_enter(struct rfs *fs, const struct rfs_inode *in, uid_t uid,
		    struct rfs_cred *c)
{
	int err;

	c->switched = false;
	c->groups = false;
	if (!fs->is_root)
		return 0;
	err = resource_cap(uid == 0);
	if (err || uid == 0)
		return err;
	/*
	 * A filesystem mounted below BACKING is not the one probed: it may
	 * keep a reserve.  The fsgid stays root's, which no reserve group
	 * (tune2fs -g) can be: its members get no reserve through the mount.
	 */
	if (!fs->space_fsuid && in->dev == fs->root.dev)
		return 0;
	err = drop_groups();
	if (err)
		return err;
	setfsuid(uid);
	c->uid = uid;
	c->gid = 0;
	c->switched = true;
	return 0;
}

int rfs_umask_own(void)
{
	if (own_fs == 0)
		own_fs = unshare(CLONE_FS) < 0 ? -errno : 1;
	return own_fs < 0 ? own_fs : 0;
}

int rfs_umask_enter(fuse_req_t req)
{
	int err = rfs_umask_own();

	if (err)
		return err;
	umask(fuse_req_ctx(req)->umask & 0777);
	return 0;
}

void rfs_umask_leave(void)
{
	/* The daemon's own files keep the modes it gives them. */
	umask(0);
}

bool rfs_acl_backing(struct rfs *fs)
{
	char path[64];

	/*
	 * ENODATA: the filesystem knows ACLs and the root has none;
	 * EOPNOTSUPP: no ACLs there (or mounted noacl).
	 */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fs->root_fd);
	return getxattr(path, "system.posix_acl_access", NULL, 0) >= 0 ||
	       errno == ENODATA;
}
