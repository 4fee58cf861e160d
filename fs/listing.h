/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The mount-wide listing (user.rdmafs.pins[.N] on the mount's root) and
 * the status, and the text they are written in.
 *
 * DESIGN §4 and §11: a listing is complete or an error (never a file
 * silently left out, never a failed listing kept), and it shows each
 * user only the pins of files that user could reach by path.
 */
#ifndef RDMAFS_LISTING_H
#define RDMAFS_LISTING_H

#include <stddef.h>

#include "rdmafs.h"
#include "core/pinset.h"

/* A growing text buffer; err is set (and sticks) when memory ran out. */
struct text {
	char *buf;
	size_t len, cap;
	int err;
};

void rfs_text_add(struct text *t, const char *s, size_t n);
void rfs_text_printf(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * A pset_visit_fn adding a pin's line ("RANGE owner=U holder=P since=T")
 * to @arg, a struct rfs_pin_lines: after @prefix and a blank when set.
 */
struct rfs_pin_lines {
	struct text *t;
	const char *prefix;
};
int rfs_pin_line(const struct pin *p, void *arg);

int rfs_listing_init(struct rfs *fs);
void rfs_listing_free(struct rfs *fs);
/*
 * Page @page of the listing as the caller of @req may see it.  Returns 0
 * or -errno: -ENODATA for a page that does not exist (any more: the
 * pins changed since page 0), another error when the listing cannot be
 * complete.
 */
int rfs_listing_page(fuse_req_t req, unsigned long page, struct text *t);
/* user.rdmafs.status; counts are what the caller's listing shows. */
int rfs_listing_status(fuse_req_t req, struct text *t);
/*
 * Who may reach which path changed (a directory's mode, owner or ACL):
 * listings made before may show a caller a path it can no longer reach.
 */
void rfs_listing_stale(struct rfs *fs);

#endif
