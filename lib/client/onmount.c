/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Whether a descriptor lies on an rdmafs mount, and where that mount is.
 *
 * A control xattr set on a file of another filesystem would be stored
 * there as a plain user.* attribute: the caller would believe the range
 * pinned while nothing protects it.  So every call checks first: statfs
 * must say FUSE, and the mount the descriptor is on (its mount id, from
 * /proc/self/fdinfo) must be of type fuse.rdmafs in /proc/self/mountinfo.
 * Nothing here goes through the file's inode lock (statfs and the /proc
 * reads do not take it), so the unpin path may use it while a layout
 * change of that file is parked.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "client.h"
#include "core/pathesc.h"

#define FUSE_SUPER_MAGIC 0x65735546
#define RDMAFS_FSTYPE "fuse.rdmafs"

int rcl_mnt_id(int fd)
{
	char path[64], line[256];
	int id = -ENOTSUP;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f) {
		/*
		 * ENOENT: no such descriptor, or no /proc at all (a chroot,
		 * a container without it).  Without /proc nothing can tell
		 * where @fd is, so it is not known to be rdmafs (-ENOTSUP),
		 * and not a bad descriptor either.
		 */
		if (errno != ENOENT)
			return -errno;
		return fcntl(fd, F_GETFD) < 0 ? -EBADF : -ENOTSUP;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "mnt_id: %d", &id) == 1)
			break;
	}
	fclose(f);
	return id;
}

/* The next blank-separated field of a mountinfo line, NUL-terminated. */
static char *field(char **s)
{
	char *start = *s, *end;

	if (!start || !*start)
		return NULL;
	end = strchr(start, ' ');
	if (end) {
		*end = '\0';
		*s = end + 1;
	} else {
		end = strchr(start, '\n');
		if (end)
			*end = '\0';
		*s = NULL;
	}
	return start;
}

/*
 * Parses one mountinfo line of mount @id: "ID PARENT MAJ:MIN ROOT POINT
 * OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER".  Returns 1 and fills @w
 * when it is rdmafs, -ENOTSUP when it is another type, 0 when the line is
 * another mount's, or -errno.
 */
static int parse_line(char *line, int id, struct rcl_where *w)
{
	char *s = line, *f, *root, *point, *type = NULL;
	int lid, i, ret;

	f = field(&s);
	if (!f || sscanf(f, "%d", &lid) != 1 || lid != id)
		return 0;
	for (i = 0; i < 2; i++)
		field(&s);
	root = field(&s);
	point = field(&s);
	while ((f = field(&s))) {
		if (!strcmp(f, "-")) {
			type = field(&s);
			break;
		}
	}
	if (!root || !point || !type)
		return -EIO;
	if (strcmp(type, RDMAFS_FSTYPE))
		return -ENOTSUP;
	/* mountinfo escapes blanks and backslashes as \ooo, as a listing */
	ret = pesc_unescape(point, strlen(point), &w->mountpoint, NULL);
	if (ret)
		return ret == -ENOMEM ? ret : -EIO;
	w->mnt_id = id;
	w->whole = !strcmp(root, "/");
	return 1;
}

int rcl_where(int fd, struct rcl_where *w)
{
	struct statfs sf;
	char *line = NULL;
	size_t cap = 0;
	int id, ret = -ENOTSUP;
	char buf[16384];
	FILE *f;

	memset(w, 0, sizeof(*w));
	if (fstatfs(fd, &sf) < 0)
		return -errno;
	if (sf.f_type != FUSE_SUPER_MAGIC)
		return -ENOTSUP;
	id = rcl_mnt_id(fd);
	if (id < 0)
		return id;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	/* the kernel formats it per read: fewer, larger reads */
	setvbuf(f, buf, _IOFBF, sizeof(buf));
	while (getline(&line, &cap, f) > 0) {
		ret = parse_line(line, id, w);
		if (ret)
			break;
	}
	/* not listed: a mount in another namespace, or gone meanwhile */
	if (ret == 0)
		ret = ferror(f) ? -EIO : -ENOTSUP;
	free(line);
	fclose(f);
	return ret < 0 ? ret : 0;
}

void rcl_where_free(struct rcl_where *w)
{
	free(w->mountpoint);
	w->mountpoint = NULL;
}

int rcl_open_root(const struct rcl_where *w, int flags)
{
	int fd, id;

	if (!w->whole)
		return -ENOTSUP;
	fd = open(w->mountpoint, flags | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	id = rcl_mnt_id(fd);
	if (id != w->mnt_id) {
		close(fd);
		return id < 0 ? id : -ESTALE;
	}
	return fd;
}

int rcl_check_file(int fd, struct stat *st)
{
	struct rcl_where w;
	int ret = rcl_where(fd, &w);

	if (ret)
		return ret;
	rcl_where_free(&w);
	if (fstat(fd, st) < 0)
		return -errno;
	return S_ISREG(st->st_mode) ? 0 : -EINVAL;
}
