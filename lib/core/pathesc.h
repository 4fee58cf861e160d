/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The path escape of listing lines (DESIGN §4), defined once for the
 * daemon, which writes it, and for rdmafsctl, which reads it back.
 *
 * A listing line is "PATH RANGE fields...": blanks separate the fields, so
 * a path escapes space, tab, newline and backslash, and a leading '#'
 * (lines starting with '#' are the listing's own, such as "#more"), as a
 * backslash and exactly three octal digits, the way /proc/mounts does.
 * No path holds a NUL byte, so "\000" is malformed rather than a way to
 * cut a path short.
 */
#ifndef RDMAFS_PATHESC_H
#define RDMAFS_PATHESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/range.h"

/* The longest escape of a path of n bytes is 4 * n, plus the NUL. */
#define PESC_MAX(n) (4 * (n) + 1)

/*
 * Escapes the NUL-terminated @in into @out.  Returns the length written
 * (without the NUL), or -ENAMETOOLONG when @size cannot hold it all (the
 * output is then empty: a cut path would name another file).
 */
int pesc_escape(const char *in, char *out, size_t size);

/*
 * Undoes the escape on @n bytes at @s.  Returns 0 with a malloc'd
 * NUL-terminated copy in *@out (*@out_len bytes, if @out_len), -EINVAL for
 * a lone or short backslash, a value above \377, \000, or a raw blank,
 * NUL or newline (which an escaped path cannot hold), or -ENOMEM.
 */
int pesc_unescape(const char *s, size_t n, char **out, size_t *out_len);

/*
 * Parses the value of user.rdmafs.unpin set on the mount root: "PATH
 * RANGE" or "PATH RANGE ino=INO", single blanks between, PATH escaped as
 * in a listing line, INO the decimal st_ino of the file the caller
 * means (as stat(2) through the mount shows it: the backing inode's
 * number), so that the daemon can refuse (ESTALE) when PATH now names
 * another file.  A trailing newline or NULs are allowed, as for ranges.
 * Returns 0 with the unescaped path in *@path (malloc'd), the range in
 * *@r and INO in *@ino (0 when not given; pass @ino NULL to refuse the
 * token), or -EINVAL (a malformed PATH, RANGE or INO, ino=0, a leading
 * zero, more than 64 bits, an unknown or repeated token), or -ENOMEM.
 */
int pesc_parse_path_range(const char *value, size_t size, char **path,
			  struct rng *r, uint64_t *ino);

/*
 * The RANGE of an unpin value may also be PESC_WHOLE: exactly the pin of
 * the whole file (the one pinned and listed as `all`), since `all` as an
 * unpin value means every pin of the caller.  librdmafs sends it for
 * RDMAFS_WHOLE, so that unpinning the whole-file pin keeps the caller's
 * other pins.
 */
#define PESC_WHOLE "whole"

/*
 * As pesc_parse_path_range(), with PESC_WHOLE accepted as RANGE: then
 * *@r is `all` and *@whole true (else false).
 */
int pesc_parse_unpin(const char *value, size_t size, char **path, struct rng *r,
		     uint64_t *ino, bool *whole);

/*
 * The value of user.rdmafs.unpin set on a file: RANGE as rng_parse()
 * takes it, or PESC_WHOLE (a trailing newline or NULs allowed).  Returns
 * 0 with *@r and *@whole set, or -EINVAL.
 */
int pesc_parse_unpin_range(const char *s, size_t n, struct rng *r, bool *whole);

#endif
