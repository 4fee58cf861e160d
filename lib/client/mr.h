/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the files of librdmafs-rdma share and do not export (the symbol
 * map librdmafs-rdma.map keeps all but rdmafs_mr_* local).  The library
 * uses only librdmafs's public calls, never its internals.
 */
#ifndef RDMAFS_CLIENT_MR_H
#define RDMAFS_CLIENT_MR_H

#include <errno.h>

#include "rdmafs/rdmafs_mr.h"

#define MR_EXPORT __attribute__((visibility("default")))

/* As in librdmafs: the caller's errno is kept, whatever the path. */
static inline void mr_restore_errno(int *saved)
{
	errno = *saved;
}

#define MR_KEEP_ERRNO \
	int mr_saved_errno __attribute__((cleanup(mr_restore_errno))) = errno

/*
 * Registers @len bytes at @addr on @pd: plain, then ODP (per @flags and
 * what the device reports), filling @rep.  Returns the region, or NULL
 * with *@ret the -errno of the last attempt and @rep->reason saying why.
 */
struct ibv_mr *mr_register(struct ibv_pd *pd, void *addr, size_t len,
			   int access, unsigned int flags,
			   struct rdmafs_mr_report *rep, int *ret);

#endif
