// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target: the range parser (lib/range.c), rng_parse() and
 * rng_parse_list(), on raw bytes as an xattr value carries them.
 *
 * Invariants beyond "no crash": only 0, -EINVAL or -E2BIG come back; a
 * parsed range is `all` (off = len = 0) or has len >= 1 and off + len <=
 * INT64_MAX; rng_format() of it parses back to the same range, and needs
 * every byte it says; a NUL appended (strlen() + 1 callers) changes
 * nothing; a value without a comma reads the same as a list of one; a
 * malformed list is -EINVAL whatever @max; plain decimal numbers read as
 * strtoull() reads them.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "core/range.h"

#define LMAX 8

static void check_range(const struct rng *r)
{
	if (r->all) {
		FZ_CHECK(r->off == 0 && r->len == 0);
		return;
	}
	FZ_CHECK(r->len >= 1);
	FZ_CHECK(r->off <= (uint64_t)INT64_MAX);
	FZ_CHECK(r->len <= (uint64_t)INT64_MAX - r->off);
	FZ_CHECK(rng_within(r, r->off + r->len));
	FZ_CHECK(!rng_within(r, r->off + r->len - 1));
	FZ_CHECK(rng_end(r) == r->off + r->len);
}

static bool same(const struct rng *a, const struct rng *b)
{
	return a->all == b->all && a->off == b->off && a->len == b->len;
}

static void check_format(const struct rng *r)
{
	char buf[RNG_FMT_MAX], small[RNG_FMT_MAX];
	struct rng back;
	int len;

	len = rng_format(r, buf, sizeof(buf));
	FZ_CHECK(len > 0 && len < RNG_FMT_MAX);
	FZ_CHECK(strlen(buf) == (size_t)len);
	FZ_CHECK(rng_parse(buf, (size_t)len, &back) == 0);
	FZ_CHECK(same(r, &back));
	/* One byte short of the NUL: refused, never cut. */
	FZ_CHECK(rng_format(r, small, (size_t)len) == -ENOSPC);
}

/* [s, s + n) minus blanks, one newline and NULs at the end, as parsed. */
static bool plain_decimal(const char *s, size_t n, uint64_t *off, uint64_t *len)
{
	char a[32], b[32];
	const char *plus;
	size_t i, na, nb;

	while (n && s[n - 1] == '\0')
		n--;
	plus = memchr(s, '+', n);
	if (!plus)
		return false;
	na = (size_t)(plus - s);
	nb = n - na - 1;
	if (!na || !nb || na >= sizeof(a) || nb >= sizeof(b))
		return false;
	for (i = 0; i < n; i++)
		if (s + i != plus && (s[i] < '0' || s[i] > '9'))
			return false;
	if ((s[0] == '0' && na > 1) || (plus[1] == '0' && nb > 1))
		return false;
	memcpy(a, s, na);
	a[na] = '\0';
	memcpy(b, plus + 1, nb);
	b[nb] = '\0';
	errno = 0;
	*off = strtoull(a, NULL, 10);
	*len = strtoull(b, NULL, 10);
	return errno == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct rng r, r0, list[LMAX], list2[LMAX];
	char *nul, *joined;
	uint64_t off, len;
	size_t n, n2, i, pos;
	int err, lerr;

	err = rng_parse(s, size, &r);
	FZ_CHECK(err == 0 || err == -EINVAL);
	if (err == 0) {
		check_range(&r);
		check_format(&r);
	}
	if (plain_decimal(s, size, &off, &len)) {
		bool fits = off <= (uint64_t)INT64_MAX && len >= 1 &&
			    len <= (uint64_t)INT64_MAX - off;

		FZ_CHECK(fits == (err == 0));
		FZ_CHECK(!fits || (r.off == off && r.len == len && !r.all));
	}

	/* What strlen() + 1 callers add is ignored. */
	nul = malloc(size + 1);
	FZ_CHECK(nul);
	memcpy(nul, s, size);
	nul[size] = '\0';
	FZ_CHECK(rng_parse(nul, size + 1, &r0) == err);
	FZ_CHECK(err || same(&r, &r0));

	lerr = rng_parse_list(s, size, list, LMAX, &n);
	FZ_CHECK(lerr == 0 || lerr == -EINVAL || lerr == -E2BIG);
	FZ_CHECK(rng_parse_list(nul, size + 1, list2, LMAX, &n2) == lerr);
	free(nul);
	if (!memchr(s, ',', size)) {
		FZ_CHECK(lerr == err);
		FZ_CHECK(lerr || (n == 1 && same(&list[0], &r)));
	}
	/* A malformed value is EINVAL at any @max; a good one E2BIG at 0. */
	FZ_CHECK(rng_parse_list(s, size, list2, 0, &n2) ==
		 (lerr == -EINVAL ? -EINVAL : -E2BIG));
	if (lerr)
		return 0;
	FZ_CHECK(n >= 1 && n <= LMAX);
	/* The list, formatted and joined, parses back to itself. */
	joined = malloc(LMAX * (RNG_FMT_MAX + 1));
	FZ_CHECK(joined);
	for (i = 0, pos = 0; i < n; i++) {
		check_range(&list[i]);
		if (i)
			joined[pos++] = ',';
		err = rng_format(&list[i], joined + pos, RNG_FMT_MAX);
		FZ_CHECK(err > 0);
		pos += (size_t)err;
	}
	FZ_CHECK(rng_parse_list(joined, pos, list2, LMAX, &n2) == 0);
	FZ_CHECK(n2 == n);
	for (i = 0; i < n; i++)
		FZ_CHECK(same(&list[i], &list2[i]));
	free(joined);
	return 0;
}
