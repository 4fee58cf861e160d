/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The mount-wide listing (user.rdmafs.pins[.N] on the mount's root) and
 * the pin counts of the status, written with core/proto_format.h.
 *
 * DESIGN §4 and §11: a listing is complete or an error (never a file
 * silently left out, never a failed listing kept), and it shows each
 * user only the pins of files that user could reach by path.
 */
#ifndef RDMAFS_LISTING_H
#define RDMAFS_LISTING_H

#include <stddef.h>

#include "rdmafs.h"
#include "core/strbuf.h"

/*
 * The listing's snapshots live from rfs_listing_init() (no thread: may
 * run before daemonising) to rfs_listing_free().
 */
int rfs_listing_init(struct rfs *fs);
void rfs_listing_free(struct rfs *fs);
/*
 * Page @page of the listing as the caller of @req may see it.  Returns 0
 * or -errno: -ENODATA for a page that does not exist (any more: the
 * pins changed since page 0), another error when the listing cannot be
 * complete.
 */
int rfs_listing_page(fuse_req_t req, unsigned long page, struct sbuf *t);
/*
 * The first lines of user.rdmafs.status (version, counts, limits); the
 * counts are what the caller's listing shows.  ctlxattr.c adds the rest.
 */
int rfs_listing_status(fuse_req_t req, struct sbuf *t);
/*
 * Who may reach which path changed (a directory's mode, owner or ACL):
 * listings made before may show a caller a path it can no longer reach.
 */
void rfs_listing_stale(struct rfs *fs);

#endif
