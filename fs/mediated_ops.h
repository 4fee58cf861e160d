/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the mediated handlers share (mediated_ops.c: truncate, punch and
 * copy; mediated_names.c: unlink and rename): the arguments a parked
 * request keeps, and the helpers that build and free a request.
 */
#ifndef RDMAFS_MEDIATED_OPS_H
#define RDMAFS_MEDIATED_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "mediate.h"
#include "ops.h"

struct med_args {
	struct rfs_inode *in, *dir; /* held descriptors (may be NULL) */
	fuse_ino_t ino, ino2;
	struct stat attr;
	int valid;
	struct fuse_file_info fi, fi2;
	bool has_fi;
	int mode;
	off_t off, off2, len;
	size_t size;
	int flags;
	char *name, *name2;
	fuse_ino_t parent2;
	struct fuse_entry_param e; /* create: the entry to answer with */
};

/* True when @in is a regular file with a pin overlapping the range. */
bool rfs_med_pinned(struct rfs *fs, struct rfs_inode *in, uint64_t off,
		    uint64_t len);
/* A request with its struct med_args, or NULL (out of memory). */
struct rfs_med *rfs_med_new(fuse_req_t req, enum pol_class cls, const char *op,
			    rfs_med_finish_fn fin);
/* What is known of a request before it is mediated: for a refusal. */
struct rfs_med rfs_med_describe(fuse_req_t req, enum pol_class cls,
				const char *op, struct rfs_inode *in);
/* Releases what a request's med_args holds, and the med_args. */
void rfs_med_args_free(struct rfs *fs, struct rfs_med *m);

#endif
