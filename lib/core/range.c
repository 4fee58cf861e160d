// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Range parsing and formatting: see range.h for the accepted syntax.
 *
 * Hand-written rather than strtoull(): strtoull accepts signs, leading
 * blanks and octal, wraps negative numbers around, and needs a
 * NUL-terminated string, none of which suits raw xattr bytes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/range.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int digit_value(char c, unsigned int base)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (base == 16 && c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (base == 16 && c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static unsigned int suffix_shift(char c)
{
	switch (c) {
	case 'K':
	case 'k':
		return 10;
	case 'M':
	case 'm':
		return 20;
	case 'G':
	case 'g':
		return 30;
	case 'T':
	case 't':
		return 40;
	default:
		return 0;
	}
}

/*
 * Parses the number that fills [p, e) exactly.  Values are capped at
 * INT64_MAX because every number ends up in an off_t.
 */
static int parse_num(const char *p, const char *e, uint64_t *out)
{
	unsigned int base = 10, shift = 0;
	uint64_t v = 0;

	if (e - p >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (p < e) {
		shift = suffix_shift(e[-1]);
		if (shift)
			e--;
	}
	/* "", "0x", "K" and "0xK" have no digits. */
	if (p == e)
		return -EINVAL;
	if (base == 10 && p[0] == '0' && e - p > 1)
		return -EINVAL;
	for (; p < e; p++) {
		int d = digit_value(*p, base);

		if (d < 0)
			return -EINVAL;
		if (v > ((uint64_t)INT64_MAX - (uint64_t)d) / base)
			return -EINVAL;
		v = v * base + (uint64_t)d;
	}
	if (v > ((uint64_t)INT64_MAX >> shift))
		return -EINVAL;
	*out = v << shift;
	return 0;
}

/* Parses one range filling [p, e), blanks around it allowed. */
static int parse_one(const char *p, const char *e, struct rng *out)
{
	const char *plus;
	uint64_t off, len;
	int err;

	while (p < e && is_blank(*p))
		p++;
	while (e > p && is_blank(e[-1]))
		e--;
	if (e - p == 3 && !memcmp(p, "all", 3)) {
		*out = (struct rng){ .all = true };
		return 0;
	}
	plus = memchr(p, '+', (size_t)(e - p));
	if (!plus)
		return -EINVAL;
	err = parse_num(p, plus, &off);
	if (err)
		return err;
	err = parse_num(plus + 1, e, &len);
	if (err)
		return err;
	if (len == 0 || len > (uint64_t)INT64_MAX - off)
		return -EINVAL;
	*out = (struct rng){ .off = off, .len = len };
	return 0;
}

/*
 * Drops what tools append to a value: trailing NULs (strlen() + 1
 * callers), then blanks and one newline (`echo`, here-strings).
 */
static const char *trim_value_end(const char *s, const char *e)
{
	while (e > s && e[-1] == '\0')
		e--;
	while (e > s && is_blank(e[-1]))
		e--;
	if (e > s && e[-1] == '\n')
		e--;
	return e;
}

int rng_parse(const char *s, size_t n, struct rng *out)
{
	if (!s)
		return -EINVAL;
	return parse_one(s, trim_value_end(s, s + n), out);
}

int rng_parse_list(const char *s, size_t n, struct rng *out, size_t max,
		   size_t *count)
{
	const char *p, *e;
	size_t i = 0;

	if (!s)
		return -EINVAL;
	e = trim_value_end(s, s + n);
	p = s;
	/*
	 * Every element is checked even past @max so that a malformed value
	 * always reads as EINVAL, whatever its length.
	 */
	for (;;) {
		const char *comma = memchr(p, ',', (size_t)(e - p));
		const char *end = comma ? comma : e;
		struct rng r;
		int err = parse_one(p, end, &r);

		if (err)
			return err;
		if (i < max)
			out[i] = r;
		i++;
		if (!comma)
			break;
		p = comma + 1;
	}
	if (i > max)
		return -E2BIG;
	*count = i;
	return 0;
}

int rng_format(const struct rng *r, char *buf, size_t size)
{
	int len;

	if (r->all)
		len = snprintf(buf, size, "all");
	else
		len = snprintf(buf, size, "%" PRIu64 "+%" PRIu64, r->off,
			       r->len);
	if (len < 0 || (size_t)len >= size)
		return -ENOSPC;
	return len;
}
