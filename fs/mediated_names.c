// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Mediated unlink and rename-over (DESIGN §3): the last name of a pinned
 * file.  Like the other mediated handlers (mediated_ops.c), each holds
 * the layout gate (mediate.h) shared from its pin check until the plain
 * operation has returned, and any error while finding out whether a pin
 * is touched refuses the request (DESIGN §11).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mediate.h"
#include "mediated_ops.h"
#include "ops.h"
#include "core/pinindex.h"
#include "pins.h"
#include "core/pintable.h"

/* ---- unlink: the last name of a pinned file ---- */

/*
 * Whether @name in @dir (open as @dfd) is the last name of a pinned file:
 * 1 with @st filled, 0 when not (or when there is no such name: the plain
 * operation says so), -errno when that cannot be told.
 */
static int last_name_pinned(struct rfs *fs, struct rfs_inode *dir, int dfd,
			    const char *name, struct stat *st)
{
	struct fuse_entry_param e;
	int err;

	if (fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT || errno == ENAMETOOLONG ? 0 : -errno;
	if (!S_ISREG(st->st_mode) || st->st_nlink != 1)
		return 0;
	if (ptab_has_overlap(fs->pins, st->st_dev, st->st_ino, 0, UINT64_MAX))
		return 1;
	/*
	 * The index knows the file has pins the table has not loaded: a
	 * rename may replace a name the kernel had cached as absent (the
	 * file was put there behind the mount's back), never looked up.
	 * The lookup loads them.
	 */
	if (!fs->pidx || !pidx_has(fs->pidx, st->st_dev, st->st_ino))
		return 0;
	err = rfs_do_lookup(fs, dir, name, &e);
	if (err)
		return err;
	rfs_forget_one(fs, (struct rfs_inode *)(uintptr_t)e.ino, 1);
	return ptab_has_overlap(fs->pins, st->st_dev, st->st_ino, 0,
				UINT64_MAX);
}

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

static void finish_unlink(struct rfs_med *m, int err)
{
	struct rfs *fs = rfs_of(m->req);
	struct med_args *a = m->args;

	if (err)
		fuse_reply_err(m->req, -err);
	else if (a->name2)
		rfs_rename_now(m->req, a->ino, a->name, a->parent2, a->name2,
			       (unsigned int)a->flags);
	else
		rfs_unlink_now(m->req, a->ino, a->name);
	rfs_med_args_free(fs, m);
}

static void mediate_name(fuse_req_t req, fuse_ino_t parent, const char *name,
			 fuse_ino_t newparent, const char *newname,
			 unsigned int flags)
{
	struct rfs *fs = rfs_of(req);
	bool rename = newname != NULL;
	struct rfs_inode *dir = rfs_inode(req, rename ? newparent : parent);
	const char *victim = rename ? newname : name;
	struct rfs_med *m,
		d = rfs_med_describe(req, POL_UNLINK, "unlink", NULL);
	struct med_args *a;
	struct stat st;
	int dfd, fd, r;

	d.len = UINT64_MAX;
	if (rfs_hidden_name(fs, dir, victim))
		goto plain;
	dfd = rfs_ifd_get(fs, dir);
	if (dfd < 0)
		return rfs_mediate_fail(
			fs, &d, dfd,
			"couldn't open the directory to check the file's pins");
	d.name = victim;
	d.dir_fd = dfd;
	memset(&st, 0, sizeof(st));
	r = last_name_pinned(fs, dir, dfd, victim, &st);
	d.dev = st.st_dev;
	d.ino = st.st_ino;
	if (r < 0)
		rfs_mediate_fail(fs, &d, r,
				 "couldn't tell whether the file is pinned");
	if (r <= 0) {
		rfs_ifd_put(fs, dir);
		if (r < 0)
			return;
		goto plain;
	}
	fd = open_path(fs, dfd, victim);
	if (fd < 0) {
		rfs_mediate_fail(fs, &d, fd, "couldn't open the pinned file");
		return rfs_ifd_put(fs, dir);
	}
	m = rfs_med_new(req, POL_UNLINK, "unlink", finish_unlink);
	if (!m) {
		d.path_fd = fd;
		rfs_mediate_fail(fs, &d, -ENOMEM, "out of memory");
		close(fd);
		return rfs_ifd_put(fs, dir);
	}
	m->dev = st.st_dev;
	m->ino = st.st_ino;
	m->off = 0;
	m->len = UINT64_MAX;
	m->path_fd = fd;
	a = m->args;
	a->dir = dir;
	a->ino = parent;
	a->name = strdup(name);
	a->parent2 = newparent;
	a->name2 = rename ? strdup(newname) : NULL;
	a->flags = (int)flags;
	if (!a->name || (rename && !a->name2)) {
		rfs_mediate_fail(fs, m, -ENOMEM, "out of memory");
		if (!a->name)
			close(fd);
		rfs_med_args_free(fs, m);
		return free(m);
	}
	rfs_mediate(fs, m);
	return;

plain:
	if (rename)
		return rfs_rename_now(req, parent, name, newparent, newname,
				      flags);
	rfs_unlink_now(req, parent, name);
}

/*
 * Pins may exist in the mount: in the table, or only in the index, for
 * files not looked up since the mount.  The kernel may take a name for
 * the file it saw there before one of those was moved over it behind the
 * mount's back, and unlink it by that name.
 */
static bool pins_maybe(struct rfs *fs)
{
	return rfs_pins_any(fs) || (fs->pidx && pidx_any(fs->pidx));
}

void rfs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct rfs *fs = rfs_of(req);

	rfs_gate_enter(fs);
	if (!pins_maybe(fs))
		rfs_unlink_now(req, parent, name);
	else
		mediate_name(req, parent, name, 0, NULL, 0);
	rfs_gate_leave(fs);
}

void rfs_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	struct rfs *fs = rfs_of(req);

	/* RENAME_NOREPLACE and RENAME_EXCHANGE keep every inode's names. */
	if (flags & (RENAME_NOREPLACE | RENAME_EXCHANGE))
		return rfs_rename_now(req, parent, name, newparent, newname,
				      flags);
	rfs_gate_enter(fs);
	if (!pins_maybe(fs))
		rfs_rename_now(req, parent, name, newparent, newname, flags);
	else
		mediate_name(req, parent, name, newparent, newname, flags);
	rfs_gate_leave(fs);
}
