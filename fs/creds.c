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
 */
#include <errno.h>
#include <grp.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rdmafs.h"

#define MAX_GROUPS 256

static __thread bool groups_dropped;

static int thread_setgroups(size_t n, const gid_t *list)
{
	return syscall(SYS_setgroups, n, list) < 0 ? -errno : 0;
}

int rfs_cred_enter(fuse_req_t req, struct rfs_cred *c, bool with_groups)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct rfs *fs = rfs_of(req);
	gid_t groups[MAX_GROUPS];
	int n, err;

	c->switched = false;
	c->groups = false;
	if (!fs->is_root || (ctx->uid == 0 && ctx->gid == 0))
		return 0;

	if (!groups_dropped) {
		err = thread_setgroups(0, NULL);
		if (err)
			return err;
		groups_dropped = true;
	}
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
