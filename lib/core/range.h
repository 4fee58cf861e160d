/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Byte ranges as users write them in the control xattrs (DESIGN §4).
 *
 * A range is `OFFSET+LENGTH` or `all`.  Numbers are decimal or 0x-hex with
 * an optional binary suffix K, M, G or T (either case; 1K = 1024).  The
 * parser takes the raw bytes of an xattr value, which are not
 * NUL-terminated and may carry what shells and tools add around them
 * (blanks, a trailing newline from `echo`, trailing NULs from programs
 * that pass strlen() + 1).  Anything else is rejected: silently pinning a
 * range other than the one meant is worse than an error, so there is no
 * "best effort" reading.
 *
 * Parsed ranges always fit in off_t: off + len <= INT64_MAX, len >= 1.
 * Whether a range lies within a file is the caller's business
 * (rng_within()), since only the caller knows the size.
 */
#ifndef RDMAFS_RANGE_H
#define RDMAFS_RANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rng {
	uint64_t off; /* first byte; 0 when all */
	uint64_t len; /* bytes, >= 1; 0 when all */
	bool all; /* the whole file, whatever its size now or later */
};

/* Longest text rng_format() writes, NUL included: two 20-digit numbers. */
#define RNG_FMT_MAX 42

/*
 * Parses one range from @n bytes at @s (no NUL needed).  Returns 0 and
 * fills @out, or -EINVAL for anything malformed: empty, missing offset or
 * length, signs, a leading '+', a number without digits ("0x", "K"),
 * leading zeros on a decimal number ("010" would be octal to C and
 * strtoul, so it is refused rather than guessed), unknown or repeated
 * suffixes, a length of 0, and any number, or off + len, beyond INT64_MAX.
 */
int rng_parse(const char *s, size_t n, struct rng *out);

/*
 * Parses a comma-separated list of ranges (blanks allowed around each
 * element) into @out[0..max).  Returns 0 and sets *@count, -EINVAL when
 * any element is malformed or empty, or -E2BIG when there are more than
 * @max elements.  On error @out may hold partial results.
 */
int rng_parse_list(const char *s, size_t n, struct rng *out, size_t max,
		   size_t *count);

/*
 * Writes @r as `OFFSET+LENGTH` in plain decimal bytes, or `all`, with a
 * terminating NUL, into @buf of @size bytes.  Returns the length written
 * without the NUL, or -ENOSPC when it does not fit (RNG_FMT_MAX always
 * does).  The output parses back to the same range.
 */
int rng_format(const struct rng *r, char *buf, size_t size);

/* One past the last byte of @r; UINT64_MAX for all. */
static inline uint64_t rng_end(const struct rng *r)
{
	return r->all ? UINT64_MAX : r->off + r->len;
}

/*
 * One past the last byte of [off, off + len), saturated at UINT64_MAX so
 * that callers can ask "from here to the end" with len = UINT64_MAX.
 */
static inline uint64_t rng_end_sat(uint64_t off, uint64_t len)
{
	return len > UINT64_MAX - off ? UINT64_MAX : off + len;
}

/*
 * True when the half-open ranges [a_off, a_off + a_len) and
 * [b_off, b_off + b_len) share a byte.  Empty ranges overlap nothing; ends
 * saturate as in rng_end_sat().
 */
static inline bool rng_overlaps(uint64_t a_off, uint64_t a_len, uint64_t b_off,
				uint64_t b_len)
{
	if (!a_len || !b_len)
		return false;
	return a_off < rng_end_sat(b_off, b_len) &&
	       b_off < rng_end_sat(a_off, a_len);
}

/*
 * True when @r may be pinned on a file of @size bytes: `all` always is,
 * otherwise it must end at or before the end of the file.  A zero-size
 * file therefore accepts only `all`.
 */
static inline bool rng_within(const struct rng *r, uint64_t size)
{
	return r->all || (r->off <= size && r->len <= size - r->off);
}

#endif
