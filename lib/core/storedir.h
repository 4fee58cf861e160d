/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Directories and files only the daemon may change (DESIGN §11): the
 * hidden store BACKING/.rdmafs (instance lock, pin index) and the
 * per-filesystem lock directory /run/rdmafs.
 */
#ifndef RDMAFS_STOREDIR_H
#define RDMAFS_STOREDIR_H

#include <stdbool.h>

/*
 * Opens directory @name in @parent_fd (AT_FDCWD for a path), creating it
 * 0700 when missing (*@created, may be NULL), without following a
 * symbolic link.  It must belong to the daemon's euid; one that is group
 * or other writable is made 0700 with a warning.  Prints why (naming it
 * @shown) and returns -EPERM for one owned by someone else; -EROFS when
 * it is missing on a read-only filesystem; -errno when it cannot be
 * opened otherwise (not printed: the caller knows what it means).
 * Returns an O_RDONLY|O_DIRECTORY descriptor.
 */
int sdir_private_dir(int parent_fd, const char *name, const char *shown,
		     bool *created);

/*
 * Checks descriptor @fd, opened O_NOFOLLOW as file @shown in a private
 * directory: a regular file of the daemon's euid with one link, not
 * writable by group or others.  Prints why and returns -EPERM otherwise.
 */
int sdir_file_ok(int fd, const char *shown);

#endif
