/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control xattrs of DESIGN §4 (doc/pins.md): the names and values of
 * user.rdmafs.* as the xattr handlers (ops_attr.c) receive them, parsed
 * here and passed on to the pin service (pinsvc.h) or the listing
 * (listing.h), and the reply.  Names and formats come from core/proto.h
 * and core/proto_format.h, which librdmafs reads them back with.
 */
#ifndef RDMAFS_CTLXATTR_H
#define RDMAFS_CTLXATTR_H

#include <stdbool.h>
#include <stddef.h>

#include "rdmafs.h"

/*
 * The xattr handlers call these first; they return true when the name is
 * one of rdmafs's own and the request has been answered.
 */
bool rfs_ctl_setxattr(fuse_req_t req, struct rfs_inode *in, const char *name,
		      const char *value, size_t size);
bool rfs_ctl_getxattr(fuse_req_t req, struct rfs_inode *in, const char *name,
		      size_t size);
bool rfs_ctl_removexattr(fuse_req_t req, struct rfs_inode *in,
			 const char *name);
/* Drops rdmafs's hidden names from a listxattr result; returns the length. */
size_t rfs_ctl_filter_list(char *list, size_t len);

#endif
