// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target: the values of the control xattrs as the daemon reads them
 * (doc/pins.md): user.rdmafs.pin and the per-file user.rdmafs.unpin,
 * rng_parse_list() with the daemon's limit of 64 ranges, and the root's
 * user.rdmafs.unpin, "PATH RANGE", pesc_parse_path_range().
 *
 * Invariants: only the documented errors; at most 64 ranges, each valid
 * (len >= 1, off + len <= INT64_MAX, or `all`), and -E2BIG only for more
 * than 64 elements; a parsed path is not empty and holds no NUL; the
 * line a listing would print for the parsed path and range (escaped
 * path, formatted range) parses back to the same path and range.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "core/pathesc.h"
#include "core/range.h"

/* fs/pins.c MAX_RANGES: the documented limit of one setxattr. */
#define MAX_RANGES 64

static void check_range(const struct rng *r)
{
	if (r->all) {
		FZ_CHECK(r->off == 0 && r->len == 0);
		return;
	}
	FZ_CHECK(r->len >= 1);
	FZ_CHECK(r->off <= (uint64_t)INT64_MAX);
	FZ_CHECK(r->len <= (uint64_t)INT64_MAX - r->off);
}

static void pin_value(const char *s, size_t size)
{
	struct rng r[MAX_RANGES];
	size_t n, i, commas = 0;
	int err;

	err = rng_parse_list(s, size, r, MAX_RANGES, &n);
	FZ_CHECK(err == 0 || err == -EINVAL || err == -E2BIG);
	for (i = 0; i < size; i++)
		commas += s[i] == ',';
	if (err == -E2BIG)
		FZ_CHECK(commas + 1 > MAX_RANGES);
	if (err)
		return;
	FZ_CHECK(n >= 1 && n <= MAX_RANGES && n == commas + 1);
	for (i = 0; i < n; i++)
		check_range(&r[i]);
}

static void unpin_value(const char *s, size_t size)
{
	char *path = NULL, *esc, *line, *path2 = NULL;
	char fmt[RNG_FMT_MAX];
	struct rng r, r2;
	size_t plen;
	int err, e, f;

	err = pesc_parse_path_range(s, size, &path, &r, NULL);
	FZ_CHECK(err == 0 || err == -EINVAL || err == -ENOMEM);
	if (err)
		return;
	check_range(&r);
	plen = strlen(path);
	FZ_CHECK(plen >= 1);
	/* The listing's line for it, "PATH RANGE\n", reads back the same. */
	esc = malloc(PESC_MAX(plen));
	line = malloc(PESC_MAX(plen) + RNG_FMT_MAX + 2);
	FZ_CHECK(esc && line);
	e = pesc_escape(path, esc, PESC_MAX(plen));
	FZ_CHECK(e >= (int)plen);
	f = rng_format(&r, fmt, sizeof(fmt));
	FZ_CHECK(f > 0);
	memcpy(line, esc, (size_t)e);
	line[e] = ' ';
	memcpy(line + e + 1, fmt, (size_t)f);
	line[e + 1 + f] = '\n';
	FZ_CHECK(pesc_parse_path_range(line, (size_t)(e + f + 2), &path2, &r2,
				       NULL) == 0);
	FZ_CHECK(strcmp(path, path2) == 0);
	FZ_CHECK(r.all == r2.all && r.off == r2.off && r.len == r2.len);
	free(path2);
	free(line);
	free(esc);
	free(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pin_value((const char *)data, size);
	unpin_value((const char *)data, size);
	return 0;
}
