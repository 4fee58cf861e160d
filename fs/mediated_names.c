// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Mediated unlink and rename-over (DESIGN §3): the last name of a pinned
 * file, as an rfs_mediate() request (mediate.h) like the operations of
 * mediated_ops.c.  The handler knows only a name; check() finds the
 * inode behind it, and whether it is the file's last name.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mediate.h"
#include "ops.h"
#include "pinsvc.h"
#include "core/pinindex.h"

struct name_args {
	struct rfs_inode *dir; /* the directory of the name that goes */
	bool held; /* dir's descriptor is held (rfs_ifd_get) */
	fuse_ino_t parent, newparent;
	const char *name, *newname; /* newname NULL: an unlink */
	unsigned int flags;
	bool owned; /* name and newname are copies (keep) */
};

/* An O_PATH descriptor of @name, giving up idle cached ones if need be. */
static int open_path(struct rfs *fs, int dfd, const char *name)
{
	int fd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 && fdc_is_exhausted(-errno)) {
		fdc_shrink(&fs->fdc, 0);
		fd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	}
	return fd < 0 ? -errno : fd;
}

/*
 * Whether the name that goes (m->name in the directory) is the last name
 * of a pinned file: RFS_MED_GO with m's inode, snapshot and path_fd set,
 * RFS_MED_PLAIN when not (or when there is no such name: the plain
 * operation says so), -errno when that cannot be told.
 */
static int name_check(struct rfs *fs, struct rfs_med *m)
{
	struct name_args *a = m->args;
	struct fuse_entry_param e;
	struct stat st;
	int dfd, err, fd;

	if (rfs_hidden_name(fs, a->dir, m->name))
		return RFS_MED_PLAIN;
	dfd = rfs_ifd_get(fs, a->dir);
	if (dfd < 0) {
		m->reason =
			"couldn't open the directory to check the file's pins";
		return dfd;
	}
	a->held = true;
	m->dir_fd = dfd;
	m->reason = "couldn't tell whether the file is pinned";
	if (fstatat(dfd, m->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT || errno == ENAMETOOLONG ? RFS_MED_PLAIN
								: -errno;
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1)
		return RFS_MED_PLAIN;
	m->dev = st.st_dev;
	m->ino = st.st_ino;
	m->off = 0;
	m->len = UINT64_MAX;
	err = rfs_med_snap(fs, m);
	if (err)
		return err;
	/*
	 * The index knows the file has pins the table has not loaded: a
	 * rename may replace a name the kernel had cached as absent (the
	 * file was put there behind the mount's back), never looked up.
	 * The lookup loads them.
	 */
	if (!m->snap.n && fs->pidx &&
	    pidx_has(fs->pidx, st.st_dev, st.st_ino)) {
		err = rfs_do_lookup(fs, a->dir, m->name, &e);
		if (err)
			return err;
		rfs_forget_one(fs, (struct rfs_inode *)(uintptr_t)e.ino, 1);
		err = rfs_med_snap(fs, m);
		if (err)
			return err;
	}
	if (!m->snap.n)
		return RFS_MED_PLAIN;
	fd = open_path(fs, dfd, m->name);
	if (fd < 0) {
		m->reason = "couldn't open the pinned file";
		return fd;
	}
	m->path_fd = fd;
	m->own_path_fd = true;
	m->reason = NULL;
	return RFS_MED_GO;
}

static int name_keep(struct rfs_med *m)
{
	struct name_args *a = m->args;
	char *name = strdup(a->name);
	char *newname = a->newname ? strdup(a->newname) : NULL;

	if (!name || (a->newname && !newname)) {
		free(name);
		free(newname);
		return -ENOMEM;
	}
	a->name = name;
	a->newname = newname;
	a->owned = true;
	m->name = newname ? newname : name;
	return 0;
}

static void name_perform(struct rfs_med *m)
{
	struct name_args *a = m->args;

	if (a->newname)
		rfs_rename_now(m->req, a->parent, a->name, a->newparent,
			       a->newname, a->flags);
	else
		rfs_unlink_now(m->req, a->parent, a->name);
}

static void name_release(struct rfs *fs, struct rfs_med *m)
{
	struct name_args *a = m->args;

	if (a->held)
		rfs_ifd_put(fs, a->dir);
	if (a->owned) {
		free((char *)a->name);
		free((char *)a->newname);
	}
}

/*
 * Not "always": with no pin in the table nor in the index no name can
 * be a pinned file's (the index lists every file with stored pins, also
 * those not looked up since the mount, whose names the kernel may have
 * cached as the files they replaced behind the mount's back).
 */
static const struct rfs_med_op name_op = {
	.cls = POL_UNLINK,
	.name = "unlink",
	.args_size = sizeof(struct name_args),
	.check = name_check,
	.keep = name_keep,
	.perform = name_perform,
	.release = name_release,
};

void rfs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct name_args a = {
		.dir = rfs_inode(req, parent),
		.parent = parent,
		.name = name,
	};
	struct rfs_med m = rfs_med_init(req, &name_op, &a);

	m.name = name;
	rfs_mediate(rfs_of(req), &m);
}

void rfs_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	struct name_args a = {
		.dir = rfs_inode(req, newparent),
		.parent = parent,
		.newparent = newparent,
		.name = name,
		.newname = newname,
		.flags = flags,
	};
	struct rfs_med m = rfs_med_init(req, &name_op, &a);

	/* RENAME_NOREPLACE and RENAME_EXCHANGE keep every inode's names. */
	if (flags & (RENAME_NOREPLACE | RENAME_EXCHANGE))
		return rfs_rename_now(req, parent, name, newparent, newname,
				      flags);
	m.name = newname;
	rfs_mediate(rfs_of(req), &m);
}
