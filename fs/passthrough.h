/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kernel passthrough of regular files (passthrough.c). */
#ifndef RDMAFS_PASSTHROUGH_H
#define RDMAFS_PASSTHROUGH_H

#include "core/strbuf.h"
#include "rdmafs.h"

/* At FUSE init: negotiates passthrough, logs the data path and why. */
void rfs_pt_init(struct rfs *fs, struct fuse_conn_info *conn);
/*
 * For an open of @in whose backing descriptor is @fd: sets
 * fi->backing_id and returns it (> 0) when the open goes straight to the
 * backing file, 0 when it goes through the daemon.
 */
int rfs_pt_attach(fuse_req_t req, struct rfs_inode *in, int fd,
		  struct fuse_file_info *fi);
/* At release of an open that rfs_pt_attach() gave @backing_id. */
void rfs_pt_detach(fuse_req_t req, struct rfs_inode *in, int backing_id);
/* Passthrough files' reads leave the backing atime alone, or not. */
void rfs_pt_atime(struct rfs *fs, bool noatime);
/* The status lines (user.rdmafs.status) about the data path. */
void rfs_pt_status(struct rfs *fs, struct sbuf *t);

#endif
