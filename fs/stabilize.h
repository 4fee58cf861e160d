/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef RDMAFS_STABILIZE_H
#define RDMAFS_STABILIZE_H

#include <stdint.h>

/*
 * Makes the block map of [off, off + len) of the open, writable @fd stable
 * (stabilize.c says what that takes).  Returns 0, or -errno: -EOPNOTSUPP
 * when the backing filesystem cannot make or show a stable map, -ENOSPC
 * when it has no room for the blocks.
 */
int rfs_stabilize(int fd, uint64_t off, uint64_t len);

#endif
