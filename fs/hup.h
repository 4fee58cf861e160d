/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef RDMAFS_HUP_H
#define RDMAFS_HUP_H

struct rfs;

/*
 * Makes SIGHUP reopen the audit log instead of unmounting.  Call before
 * any other thread starts (they inherit SIGHUP blocked).  0 or -errno;
 * on failure SIGHUP keeps libfuse's meaning.
 */
int rfs_hup_start(struct rfs *fs);

#endif
