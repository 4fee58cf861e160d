/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the files of librdmafs share and do not export: the mount handle,
 * where a descriptor is mounted, and the conversions between the public
 * types and the core's.  Internal names use the prefix rcl_; the symbol
 * map (librdmafs.map) keeps everything but rdmafs_* local.
 */
#ifndef RDMAFS_CLIENT_H
#define RDMAFS_CLIENT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "rdmafs/rdmafs.h"
#include "core/proto_parse.h"
#include "core/range.h"

#define RDMAFS_EXPORT __attribute__((visibility("default")))

/*
 * Every call keeps the caller's errno: the library reports through its
 * return value only (rdmafs.h).  RCL_KEEP_ERRNO at the top of an exported
 * function restores errno when the function returns, whatever the path.
 */
static inline void rcl_restore_errno(int *saved)
{
	errno = *saved;
}

#define RCL_KEEP_ERRNO \
	int rcl_saved_errno __attribute__((cleanup(rcl_restore_errno))) = errno

struct rdmafs_mount {
	int root_fd; /* O_RDONLY | O_DIRECTORY of the mount root */
	char *path; /* the mount point, as this namespace shows it */
};

/* Where a descriptor is: its mount, from /proc/self/mountinfo. */
struct rcl_where {
	int mnt_id;
	char *mountpoint; /* unescaped, malloc'd */
	bool whole; /* the mount shows the whole rdmafs (root field "/") */
};

/*
 * Finds the mount of @fd and checks that it is an rdmafs mount (statfs
 * says FUSE, mountinfo says fuse.rdmafs).  Returns 0 with @w filled (free
 * with rcl_where_free()), -ENOTSUP when it is not rdmafs, or -errno.
 */
int rcl_where(int fd, struct rcl_where *w);
void rcl_where_free(struct rcl_where *w);

/*
 * Opens the root of the mount @w describes (@flags, O_RDONLY or O_PATH,
 * with O_DIRECTORY) and checks it is that very mount (not one mounted
 * over it since).  Returns
 * the descriptor, -ENOTSUP when @w is a bind mount of a directory inside
 * rdmafs (its root is not rdmafs's root), -ESTALE when another mount
 * hides it, or -errno.
 */
int rcl_open_root(const struct rcl_where *w, int flags);

/* The mount id of @fd (from /proc/self/fdinfo), or -errno. */
int rcl_mnt_id(int fd);

/*
 * A regular file of an rdmafs mount: 0 with *@st filled, -ENOTSUP, or
 * -EINVAL for another kind of file.
 */
int rcl_check_file(int fd, struct stat *st);

/*
 * @r as the core's range: -EINVAL for a length of 0, RDMAFS_WHOLE with
 * an offset, or a range past INT64_MAX (what the daemon refuses too).
 */
int rcl_range(const struct rdmafs_range *r, struct rng *out);

/* The core's listing pins as the public ones; moves the paths. */
int rcl_pins_export(struct proto_pins *in, struct rdmafs_pin **pins,
		    size_t *count);

/* An xattr getter for proto_read_value() on a descriptor (ctx: int *). */
ssize_t rcl_fgetxattr(void *ctx, const char *name, void *buf, size_t size);

#endif
