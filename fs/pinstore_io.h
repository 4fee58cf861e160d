/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A file's persistent pins on the backing inode (the trusted.rdmafs.pins
 * xattr, lib/pinstore.c): storing them durably, and reading them back at
 * lookup and for the listing.  DESIGN §11: a stored pin is never dropped,
 * a pin or unpin is on the device before the call returns, and a value
 * that cannot be read makes the file unusable rather than unpinned.
 */
#ifndef RDMAFS_PINSTORE_IO_H
#define RDMAFS_PINSTORE_IO_H

#include <stddef.h>

#include "rdmafs.h"
#include "core/pinset.h"

/*
 * Stores the persistent pins of @set (locked by the caller) on the file
 * of @fd (any descriptor of it, O_PATH too), replacing what was stored,
 * and syncs the file so that the change survives a power loss.  Returns
 * 0 or -errno: -ENOSPC when the value is too big for the filesystem; on
 * any error the stored value may be either the old or the new one.
 */
int rfs_pins_store(int fd, const struct pset *set);

/*
 * Reads the pins stored on the file of @fd into a new array *@pins (to
 * free) of *@n.  Returns 0 (*@n is 0 when nothing is stored, or the
 * filesystem has no xattrs) or -errno for any other failure.  A damaged
 * value (bad magic, size or checksum) reads as one pin "all" owned by
 * root, since 1970: what was pinned is unknown, so all of it is; root
 * can unpin it to repair the file.
 */
int rfs_pins_read_stored(int fd, struct pin **pins, size_t *n);

#endif
