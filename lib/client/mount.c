/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The mount handle: a descriptor of the mount root (for the listing, the
 * status and, later, the session channel) and the mount point's path.
 * Immutable once opened, so threads may share it without a lock.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "client.h"

RDMAFS_EXPORT int rdmafs_mount_open(const char *path,
				    struct rdmafs_mount **mount)
{
	RCL_KEEP_ERRNO;
	struct rdmafs_mount *m;
	struct rcl_where w;
	int fd, ret;

	if (!path || !mount)
		return -EINVAL;
	*mount = NULL;
	/* O_PATH: any file in the mount will do, readable or not */
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = rcl_where(fd, &w);
	close(fd);
	if (ret)
		return ret;
	m = calloc(1, sizeof(*m));
	if (!m) {
		rcl_where_free(&w);
		return -ENOMEM;
	}
	m->root_fd = rcl_open_root(&w, O_RDONLY);
	if (m->root_fd < 0) {
		ret = m->root_fd;
		rcl_where_free(&w);
		free(m);
		return ret;
	}
	m->path = w.mountpoint; /* moved */
	*mount = m;
	return 0;
}

RDMAFS_EXPORT void rdmafs_mount_close(struct rdmafs_mount *mount)
{
	RCL_KEEP_ERRNO;

	if (!mount)
		return;
	close(mount->root_fd);
	free(mount->path);
	free(mount);
}

RDMAFS_EXPORT const char *rdmafs_mount_path(const struct rdmafs_mount *mount)
{
	return mount ? mount->path : NULL;
}
