/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rdmafs_unpin(): through the mount root, never through the file.
 *
 * While a truncate, punch, copy or unlink of a file is parked (policy
 * defer or break), the kernel holds that file's inode lock; a setxattr on
 * the file would wait for the very operation the unpin should release.
 * So the unpin is a setxattr of user.rdmafs.unpin on the mount root with
 * the value "PATH RANGE ino=INO": PATH is the file's path relative to the
 * root (from /proc/self/fd, which reads the dentry without any lock),
 * escaped as in a listing line; INO is the file's inode number, so that
 * the daemon answers ESTALE when PATH now leads to another file (renamed
 * over meanwhile) instead of unpinning that one.  Nothing on this path
 * takes the file's lock: fstatfs, fstat and the /proc reads don't, and
 * opening the mount point crosses into the root without a lookup in
 * rdmafs.
 *
 * The kernel checks user.* attributes against the directory they are
 * set on: a caller without write permission on the mount root (or, on a
 * sticky root, not its owner) is refused there, and its unpin goes
 * through the file instead (see file_unpin()).
 *
 * A daemon older than the ino= token refuses the value with EINVAL (its
 * range parser reads "ino=N" as the range); the value is then sent again
 * without it, which loses only the check that the name still leads to
 * this file.  Arguments are checked here first, so that EINVAL can mean
 * nothing else.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "client.h"
#include "core/pathesc.h"

#define DELETED " (deleted)"

/*
 * The path of @fd relative to @mountpoint into *@rel (malloc'd): 0,
 * -ESTALE when the file has no name any more, -EXDEV when its path is
 * not under the mount point (a chroot or another namespace shows it
 * elsewhere), or -errno.
 */
static int rel_path(int fd, const struct stat *st, const char *mountpoint,
		    char **rel)
{
	char proc[64], *link;
	size_t mlen = strlen(mountpoint), dlen = strlen(DELETED), n;
	ssize_t len;

	link = malloc(PATH_MAX + 1);
	if (!link)
		return -ENOMEM;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	len = readlink(proc, link, PATH_MAX + 1);
	if (len < 0 || len > PATH_MAX) {
		free(link);
		return len < 0 ? -errno : -ENAMETOOLONG;
	}
	link[len] = '\0';
	n = (size_t)len;
	/*
	 * d_path() marks an unlinked name; a file really named "x (deleted)"
	 * still has links, and a wrong guess only costs ESTALE from the
	 * daemon (its ino= check) instead of from here.
	 */
	if (n > dlen && !strcmp(link + n - dlen, DELETED) && !st->st_nlink) {
		free(link);
		return -ESTALE;
	}
	if (!strcmp(mountpoint, "/"))
		mlen = 0;
	if (link[0] != '/' || strncmp(link, mountpoint, mlen) ||
	    link[mlen] != '/' || !link[mlen + 1]) {
		free(link);
		return -EXDEV;
	}
	memmove(link, link + mlen + 1, n - mlen);
	*rel = link;
	return 0;
}

/*
 * Sets PROTO_UNPIN on @root to "PATH RANGE[ ino=INO]"; 0 or -errno.
 * @root is an O_PATH descriptor (no opendir and releasedir round trips
 * to the daemon, about 0.1 ms), so the attribute is set through its
 * /proc/self/fd link, which resolves to the root without a lookup.
 */
static int root_unpin(int root, const char *esc, const char *range,
		      const char *ino)
{
	size_t n = strlen(esc) + strlen(range) + strlen(ino) + 2;
	char *value = malloc(n + 1), proc[64];
	int ret = 0;

	if (!value)
		return -ENOMEM;
	snprintf(value, n + 1, "%s %s%s", esc, range, ino);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", root);
	if (setxattr(proc, PROTO_UNPIN, value, strlen(value), 0) < 0)
		ret = -errno;
	free(value);
	return ret;
}

/*
 * The kernel lets only the owner set a user.* attribute on a sticky
 * directory (EPERM for the others); told apart from the daemon's EPERM
 * (another user's pin), which going through the file would only repeat.
 */
static bool sticky_not_mine(int root)
{
	struct stat st;

	return fstat(root, &st) == 0 && (st.st_mode & S_ISVTX) &&
	       st.st_uid != geteuid() && geteuid() != 0;
}

/*
 * Through the file itself, when the mount root is out of reach: a bind
 * mount of a directory inside rdmafs, a path outside this namespace's
 * view or longer than PATH_MAX, or a root directory the caller may not
 * set attributes on (the kernel wants write permission on it for user.*
 * names).  This one
 * waits behind a layout change parked on the file.
 */
static int file_unpin(int fd, const char *range)
{
	if (fsetxattr(fd, PROTO_UNPIN, range, strlen(range), 0) < 0)
		return -errno;
	return 0;
}

RDMAFS_EXPORT int rdmafs_unpin(int fd, const struct rdmafs_range *range,
			       unsigned int flags)
{
	RCL_KEEP_ERRNO;
	char rs[RNG_FMT_MAX], ino[32], *rel = NULL, *esc = NULL;
	struct rcl_where w;
	struct stat st;
	struct rng r = { .all = true };
	size_t cap;
	int root, ret;

	if (flags)
		return -EINVAL;
	/* "all" unpins every pin of the caller (root: every pin) */
	if (range) {
		ret = rcl_range(range, &r);
		if (ret)
			return ret;
	}
	/*
	 * `all` as an unpin value means every pin of the caller: the pin of
	 * the whole file alone is PESC_WHOLE (a daemon without it answers
	 * EINVAL, and nothing is unpinned).
	 */
	if (range && r.all)
		snprintf(rs, sizeof(rs), "%s", PESC_WHOLE);
	else
		rng_format(&r, rs, sizeof(rs));
	ret = rcl_where(fd, &w);
	if (ret)
		return ret;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto out_where;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		goto out_where;
	}
	root = rcl_open_root(&w, O_PATH);
	if (root < 0) {
		/*
		 * No root to go through: a bind mount of a directory inside
		 * rdmafs (-ENOTSUP), a mount point that another mount hides
		 * now (-ESTALE: says nothing of the file, which @fd still
		 * names), or one the caller cannot reach.  The descriptor
		 * names the file beyond doubt, so the unpin goes through it.
		 */
		ret = file_unpin(fd, rs);
		goto out_where;
	}
	ret = rel_path(fd, &st, w.mountpoint, &rel);
	/* a path over PATH_MAX has no name to send: the file has one */
	if (ret == -EXDEV || ret == -ENAMETOOLONG) {
		ret = file_unpin(fd, rs);
		goto out_root;
	}
	if (ret)
		goto out_root;
	cap = PESC_MAX(strlen(rel));
	esc = malloc(cap);
	if (!esc) {
		ret = -ENOMEM;
		goto out_root;
	}
	ret = pesc_escape(rel, esc, cap);
	if (ret < 0)
		goto out_root;
	snprintf(ino, sizeof(ino), " ino=%" PRIu64, (uint64_t)st.st_ino);
	ret = root_unpin(root, esc, rs, ino);
	if (ret == -EINVAL)
		ret = root_unpin(root, esc, rs, "");
	/* ENAMETOOLONG: the daemon's own path of the file is too long */
	if (ret == -EACCES || ret == -ENAMETOOLONG ||
	    (ret == -EPERM && sticky_not_mine(root)))
		ret = file_unpin(fd, rs);
	/* the name the kernel gave has gone (renamed or removed since) */
	if (ret == -ENOENT)
		ret = -ESTALE;
out_root:
	free(esc);
	free(rel);
	close(root);
out_where:
	rcl_where_free(&w);
	return ret;
}
