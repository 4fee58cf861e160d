// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Operations on names: lookup and forget, creating and removing entries,
 * rename and link.  Every call is relative to a directory descriptor with
 * a single path component and AT_SYMLINK_NOFOLLOW semantics, so nothing
 * here follows a symlink out of the backing tree.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops.h"
#include "pinsvc.h"

static void reply_entry_or_err(fuse_req_t req, int err,
			       struct fuse_entry_param *e)
{
	if (err)
		fuse_reply_err(req, -err);
	else
		fuse_reply_entry(req, e);
}

void rfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	struct rfs *fs = rfs_of(req);
	struct rfs_inode *dir = rfs_inode(req, parent);
	int err = rfs_hidden_name(fs, dir, name)
			  ? -ENOENT
			  : rfs_do_lookup(fs, dir, name, &e);

	if (err == -ENOENT && fs->timeout > 0) {
		/* A negative entry: the kernel may cache the absence too. */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = fs->timeout;
		err = 0;
	}
	reply_entry_or_err(req, err, &e);
}

void rfs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	rfs_forget_one(rfs_of(req), rfs_inode(req, ino), nlookup);
	fuse_reply_none(req);
}

void rfs_forget_multi(fuse_req_t req, size_t count,
		      struct fuse_forget_data *forgets)
{
	size_t i;

	for (i = 0; i < count; i++)
		rfs_forget_one(rfs_of(req), rfs_inode(req, forgets[i].ino),
			       forgets[i].nlookup);
	fuse_reply_none(req);
}

void rfs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct rfs *fs = rfs_of(req);
	struct rfs_inode *in = rfs_inode(req, ino);
	char buf[PATH_MAX + 1];
	ssize_t n;
	int fd = rfs_ifd_get(fs, in);

	if (fd < 0)
		return (void)fuse_reply_err(req, -fd);
	n = readlinkat(fd, "", buf, sizeof(buf));
	if (n < 0)
		n = -errno;
	rfs_ifd_put(fs, in);
	if (n < 0)
		return (void)fuse_reply_err(req, (int)-n);
	if (n == sizeof(buf))
		return (void)fuse_reply_err(req, ENAMETOOLONG);
	buf[n] = '\0';
	fuse_reply_readlink(req, buf);
}

int rfs_as_caller(fuse_req_t req, bool groups, int (*fn)(void *arg), void *arg)
{
	struct rfs_cred c;
	bool switched;
	int err, attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		err = rfs_cred_enter(req, &c, groups || attempt > 0);
		if (err)
			return err;
		switched = c.switched;
		err = fn(arg);
		rfs_cred_leave(&c);
		/*
		 * Refused without the caller's supplementary groups: the
		 * directory may be writable through one of them.  (Leaving
		 * clears c.switched, hence the copy.)
		 */
		if (!switched || groups || (err != -EACCES && err != -EPERM))
			break;
	}
	return err;
}

int rfs_create_as_caller(fuse_req_t req, mode_t mode, int (*fn)(void *arg),
			 void *arg)
{
	/*
	 * A set-group-ID file in a set-group-ID directory keeps the bit
	 * only if the creator is in the directory's group, which may be
	 * one of its supplementary groups: the filesystem cannot know that
	 * without them, and would drop the bit without failing.
	 */
	bool groups = !S_ISDIR(mode) && (mode & S_ISGID);
	int err;

	/*
	 * The mode came unmasked (FUSE_CAP_DONT_MASK): the backing
	 * filesystem applies the caller's umask, or the directory's
	 * default ACL in its place.
	 */
	err = rfs_umask_enter(req);
	if (err)
		return err;
	err = rfs_as_caller(req, groups, fn, arg);
	rfs_umask_leave();
	return err;
}

struct mk_args {
	int dfd;
	const char *name;
	mode_t mode;
	dev_t rdev;
	const char *link;
};

static int mk_call(void *arg)
{
	struct mk_args *a = arg;
	int res;

	if (a->link)
		res = symlinkat(a->link, a->dfd, a->name);
	else if (S_ISDIR(a->mode))
		res = mkdirat(a->dfd, a->name, a->mode & ~S_IFMT);
	else
		res = mknodat(a->dfd, a->name, a->mode, a->rdev);
	return res < 0 ? -errno : 0;
}

static void make_node(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, dev_t rdev, const char *link)
{
	struct rfs *fs = rfs_of(req);
	struct rfs_inode *dir = rfs_inode(req, parent);
	struct fuse_entry_param e;
	struct mk_args a = {
		.name = name, .mode = mode, .rdev = rdev, .link = link
	};
	int err;

	if (rfs_hidden_name(fs, dir, name))
		return (void)fuse_reply_err(req, EPERM);
	a.dfd = rfs_ifd_get(fs, dir);
	if (a.dfd < 0)
		return (void)fuse_reply_err(req, -a.dfd);
	err = rfs_create_as_caller(req, mode, mk_call, &a);
	rfs_ifd_put(fs, dir);
	if (!err)
		err = rfs_do_lookup(fs, dir, name, &e);
	reply_entry_or_err(req, err, &e);
}

void rfs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	       dev_t rdev)
{
	make_node(req, parent, name, mode, rdev, NULL);
}

void rfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	make_node(req, parent, name, S_IFDIR | mode, 0, NULL);
}

void rfs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		 const char *name)
{
	make_node(req, parent, name, S_IFLNK, 0, link);
}

struct link_args {
	int fd, dfd;
	const char *name;
	bool empty_path;
};

static int link_call(void *arg)
{
	struct link_args *a = arg;
	char path[64];
	int res;

	if (a->empty_path) {
		res = linkat(a->fd, "", a->dfd, a->name, AT_EMPTY_PATH);
	} else {
		rfs_fd_path(path, sizeof(path), a->fd);
		res = linkat(AT_FDCWD, path, a->dfd, a->name,
			     AT_SYMLINK_FOLLOW);
	}
	return res < 0 ? -errno : 0;
}

void rfs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t parent,
	      const char *name)
{
	struct rfs *fs = rfs_of(req);
	struct rfs_inode *in = rfs_inode(req, ino);
	struct rfs_inode *dir = rfs_inode(req, parent);
	struct fuse_entry_param e;
	struct link_args a = { .name = name };
	int err;

	if (rfs_hidden_name(fs, dir, name))
		return (void)fuse_reply_err(req, EPERM);
	a.fd = rfs_ifd_get(fs, in);
	if (a.fd < 0)
		return (void)fuse_reply_err(req, -a.fd);
	a.dfd = rfs_ifd_get(fs, dir);
	if (a.dfd < 0) {
		rfs_ifd_put(fs, in);
		return (void)fuse_reply_err(req, -a.dfd);
	}
	/*
	 * AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH, which a thread acting
	 * as a user has not; /proc works for anyone.  As the caller, so
	 * that a new directory block is charged as natively.
	 */
	a.empty_path = fs->is_root && fuse_req_ctx(req)->uid == 0;
	err = rfs_as_caller(req, false, link_call, &a);
	rfs_ifd_put(fs, dir);
	rfs_ifd_put(fs, in);
	if (!err)
		err = rfs_do_lookup(fs, dir, name, &e);
	reply_entry_or_err(req, err, &e);
}

/* What removing a name may do to pins (watch_target()). */
enum { NAME_PLAIN, NAME_LAST, NAME_ONE_OF };

/*
 * The regular file named @name in @dfd, when pins exist at all: removing
 * its last name removes its pins with it (NAME_LAST); removing one of
 * several may leave the listing naming the name removed (NAME_ONE_OF).
 * NAME_PLAIN when there is nothing to watch.
 */
static int watch_target(struct rfs *fs, int dfd, const char *name,
			struct stat *st)
{
	if (!rfs_pins_any(fs) ||
	    fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(st->st_mode))
		return NAME_PLAIN;
	return st->st_nlink == 1 ? NAME_LAST : NAME_ONE_OF;
}

static void remove_entry(fuse_req_t req, fuse_ino_t parent, const char *name,
			 int flags)
{
	struct rfs *fs = rfs_of(req);
	struct rfs_inode *dir = rfs_inode(req, parent);
	struct stat st;
	int dfd, watch, err = 0;

	if (rfs_hidden_name(fs, dir, name))
		return (void)fuse_reply_err(req, ENOENT);
	dfd = rfs_ifd_get(fs, dir);
	if (dfd < 0)
		return (void)fuse_reply_err(req, -dfd);
	watch = flags ? NAME_PLAIN : watch_target(fs, dfd, name, &st);
	if (unlinkat(dfd, name, flags) < 0)
		err = errno;
	else if (watch == NAME_LAST)
		rfs_pins_inode_gone(fs, st.st_dev, st.st_ino);
	else if (watch == NAME_ONE_OF)
		rfs_pins_name_gone(fs, st.st_dev, st.st_ino);
	rfs_ifd_put(fs, dir);
	fuse_reply_err(req, err);
}

void rfs_unlink_now(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, 0);
}

void rfs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, AT_REMOVEDIR);
}

void rfs_rename_now(fuse_req_t req, fuse_ino_t parent, const char *name,
		    fuse_ino_t newparent, const char *newname,
		    unsigned int flags)
{
	struct rfs *fs = rfs_of(req);
	struct rfs_inode *from = rfs_inode(req, parent);
	struct rfs_inode *to = rfs_inode(req, newparent);
	struct stat st;
	int ofd, nfd, watch, err = 0;

	if (rfs_hidden_name(fs, from, name))
		return (void)fuse_reply_err(req, ENOENT);
	if (rfs_hidden_name(fs, to, newname))
		return (void)fuse_reply_err(req, EPERM);
	ofd = rfs_ifd_get(fs, from);
	if (ofd < 0)
		return (void)fuse_reply_err(req, -ofd);
	nfd = rfs_ifd_get(fs, to);
	if (nfd < 0) {
		rfs_ifd_put(fs, from);
		return (void)fuse_reply_err(req, -nfd);
	}
	watch = (flags & RENAME_EXCHANGE) ? NAME_PLAIN
					  : watch_target(fs, nfd, newname, &st);
	if (renameat2(ofd, name, nfd, newname, flags) < 0)
		err = errno;
	else if (watch == NAME_LAST)
		rfs_pins_inode_gone(fs, st.st_dev, st.st_ino);
	/*
	 * A pinned file, or a directory above one, may have moved (a name
	 * of several replaced included): listings are stale.
	 */
	if (!err && rfs_pins_any(fs)) {
		rfs_pins_renamed(fs, nfd, newname);
		if (flags & RENAME_EXCHANGE)
			rfs_pins_renamed(fs, ofd, name);
		rfs_pins_changed(fs);
	}
	rfs_ifd_put(fs, to);
	rfs_ifd_put(fs, from);
	fuse_reply_err(req, err);
}
