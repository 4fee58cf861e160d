// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The listing's path escape (rdmafs/pathesc.h): one codec, so the daemon
 * and rdmafsctl can never disagree on what a line names.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/pathesc.h"

static int must_escape(unsigned char ch, size_t pos)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\\' ||
	       (ch == '#' && pos == 0);
}

int pesc_escape(const char *in, char *out, size_t size)
{
	static const char digits[] = "01234567";
	size_t o = 0, i;

	if (!size)
		return -ENAMETOOLONG;
	for (i = 0; in[i]; i++) {
		unsigned char ch = (unsigned char)in[i];

		if (must_escape(ch, i)) {
			if (o + 4 >= size)
				goto too_long;
			out[o++] = '\\';
			out[o++] = digits[ch >> 6];
			out[o++] = digits[(ch >> 3) & 7];
			out[o++] = digits[ch & 7];
		} else {
			if (o + 1 >= size)
				goto too_long;
			out[o++] = (char)ch;
		}
	}
	out[o] = '\0';
	return (int)o;
too_long:
	out[0] = '\0';
	return -ENAMETOOLONG;
}

static int octal_digit(char c)
{
	return c >= '0' && c <= '7' ? c - '0' : -1;
}

int pesc_unescape(const char *s, size_t n, char **out, size_t *out_len)
{
	char *buf, *p;
	size_t i;

	buf = malloc(n + 1);
	if (!buf)
		return -ENOMEM;
	p = buf;
	for (i = 0; i < n; i++) {
		int d0, d1, d2, v;

		if (s[i] == '\0' || s[i] == ' ' || s[i] == '\t' || s[i] == '\n')
			goto out_inval;
		if (s[i] != '\\') {
			*p++ = s[i];
			continue;
		}
		if (n - i < 4)
			goto out_inval;
		d0 = octal_digit(s[i + 1]);
		d1 = octal_digit(s[i + 2]);
		d2 = octal_digit(s[i + 3]);
		if (d0 < 0 || d1 < 0 || d2 < 0)
			goto out_inval;
		v = d0 * 64 + d1 * 8 + d2;
		/* A NUL cannot be in a path; above \377 is not a byte. */
		if (v == 0 || v > 0377)
			goto out_inval;
		*p++ = (char)v;
		i += 3;
	}
	*p = '\0';
	*out = buf;
	if (out_len)
		*out_len = (size_t)(p - buf);
	return 0;

out_inval:
	free(buf);
	return -EINVAL;
}

/* "ino=N": N decimal, 1 to UINT64_MAX, no sign, no leading zero. */
static int parse_ino(const char *s, size_t n, uint64_t *ino)
{
	uint64_t v = 0;
	size_t i;

	if (n < 5 || memcmp(s, "ino=", 4) != 0 || s[4] < '1' || s[4] > '9')
		return -EINVAL;
	for (i = 4; i < n; i++) {
		unsigned int d = (unsigned int)(s[i] - '0');

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*ino = v;
	return 0;
}

/* PESC_WHOLE, or a range for rng_parse(), at @s (@n bytes). */
static int parse_unpin_range(const char *s, size_t n, struct rng *r,
			     bool *whole)
{
	size_t wl = strlen(PESC_WHOLE);

	if (whole && n == wl && memcmp(s, PESC_WHOLE, wl) == 0) {
		*r = (struct rng){ .all = true };
		*whole = true;
		return 0;
	}
	if (whole)
		*whole = false;
	return rng_parse(s, n, r);
}

int pesc_parse_unpin_range(const char *s, size_t n, struct rng *r, bool *whole)
{
	size_t m = n;

	while (m && (s[m - 1] == '\n' || s[m - 1] == '\0'))
		m--;
	if (m == strlen(PESC_WHOLE) && memcmp(s, PESC_WHOLE, m) == 0)
		return parse_unpin_range(s, m, r, whole);
	*whole = false;
	return rng_parse(s, n, r);
}

int pesc_parse_path_range(const char *value, size_t size, char **path,
			  struct rng *r, uint64_t *ino)
{
	return pesc_parse_unpin(value, size, path, r, ino, NULL);
}

int pesc_parse_unpin(const char *value, size_t size, char **path, struct rng *r,
		     uint64_t *ino, bool *whole)
{
	const char *sp, *sp2, *end;
	size_t n = size;
	uint64_t v = 0;
	int err;

	/* What echo and strlen() + 1 add; the range parser allows them too. */
	while (n && (value[n - 1] == '\n' || value[n - 1] == '\0'))
		n--;
	end = value + n;
	/* An escaped path holds no raw blank: the first one ends it. */
	sp = n ? memchr(value, ' ', n) : NULL;
	if (!sp || sp == value)
		return -EINVAL;
	sp2 = memchr(sp + 1, ' ', (size_t)(end - sp - 1));
	if (sp2) {
		if (!ino)
			return -EINVAL;
		/* A repeated or fourth token has a blank of its own. */
		if (memchr(sp2 + 1, ' ', (size_t)(end - sp2 - 1)))
			return -EINVAL;
		err = parse_ino(sp2 + 1, (size_t)(end - sp2 - 1), &v);
		if (err)
			return err;
	} else {
		sp2 = end;
	}
	err = parse_unpin_range(sp + 1, (size_t)(sp2 - sp - 1), r, whole);
	if (err)
		return err;
	err = pesc_unescape(value, (size_t)(sp - value), path, NULL);
	if (!err && ino)
		*ino = v;
	return err;
}
