/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writing the listing (doc/pins.md): the daemon's side of the line format
 * that proto_parse.h reads back, kept beside it so that the two cannot
 * drift apart (tests/test-proto-format.c feeds one to the other).
 *
 * A line is `[PATH ]RANGE owner=UID holder=PID|- since=TIME`: PATH
 * escaped (pathesc.h) and only in the mount-wide listing, RANGE plain
 * decimal `OFFSET+LENGTH` or `all`, TIME UTC in RFC 3339 to the second.
 * Pages of the listing are PROTO_PINS (page 0) and PROTO_PINS ".N", N >= 1
 * in plain decimal; every page but the last ends with
 * `PROTO_MORE NAME-OF-NEXT-PAGE`.
 */
#ifndef RDMAFS_PROTO_FORMAT_H
#define RDMAFS_PROTO_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/pinset.h"
#include "core/proto.h"
#include "core/strbuf.h"

/* Longest page name, NUL included: PROTO_PINS "." and 20 digits. */
#define PROTO_PAGE_NAME_MAX (sizeof(PROTO_PINS) + 1 + 20)

/*
 * Appends the line of @p (and its newline) to @b, after the escaped
 * @path and a blank when @path is not NULL.  Errors stick in @b
 * (sbuf_err()): -ENOMEM.
 */
void proto_format_pin_line(struct sbuf *b, const char *path,
			   const struct pin *p);

/*
 * Writes @ns (CLOCK_REALTIME nanoseconds) as `YYYY-MM-DDTHH:MM:SSZ` into
 * @buf of @size bytes (PROTO_SINCE_MAX will do).  Returns the length, or
 * -ENOSPC (then @buf is empty).
 */
int proto_format_since(int64_t ns, char *buf, size_t size);

/* The xattr name of page @page (0: PROTO_PINS) into @buf; as snprintf. */
int proto_page_name(unsigned long page, char *buf, size_t size);
/*
 * The page number of @name: true with *@page set for PROTO_PINS (0) and
 * PROTO_PINS ".N" (N >= 1, decimal, no sign, no leading zero, no
 * overflow); false for anything else.
 */
bool proto_page_parse(const char *name, unsigned long *page);
/* Appends the line naming the page after @page: `#more user.rdmafs.pins.N`. */
void proto_format_more(struct sbuf *b, unsigned long page);

#endif
