/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef RDMAFS_HUP_H
#define RDMAFS_HUP_H

struct rfs;

/* Blocks SIGHUP: call before any other thread starts (they inherit it). */
void rfs_hup_block(void);

/*
 * Starts the thread that takes SIGHUP and reopens the audit log.  0 or
 * -errno; on failure SIGHUP is unblocked here and keeps libfuse's meaning
 * (unmount).
 */
int rfs_hup_start(struct rfs *fs);

#endif
