// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target: the listing's path escape (lib/pathesc.c).
 *
 * Invariants: unescaping arbitrary bytes returns 0 or -EINVAL (no crash,
 * no read past the input); what it accepts holds no raw blank, newline or
 * NUL, and unescapes to a path without NUL (\000 is refused) no longer
 * than the input; escaping that path gives a field a listing line can
 * hold (no blank, tab or newline, no leading '#', at most 4 bytes per
 * byte) which unescapes back to it.  The input taken as a path (up to
 * its first NUL) round-trips through escape and unescape, and an output
 * buffer too small by one byte gives -ENAMETOOLONG and an empty string,
 * never a cut path.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "core/pathesc.h"

/* Escapes @path and checks the result; returns it (malloc'd). */
static char *escape_checked(const char *path)
{
	size_t n = strlen(path), i;
	char *esc = malloc(PESC_MAX(n)), *small;
	char *back = NULL;
	size_t blen;
	int e;

	FZ_CHECK(esc);
	e = pesc_escape(path, esc, PESC_MAX(n));
	FZ_CHECK(e >= (int)n && (size_t)e <= 4 * n);
	FZ_CHECK(strlen(esc) == (size_t)e);
	for (i = 0; i < (size_t)e; i++)
		FZ_CHECK(esc[i] != ' ' && esc[i] != '\t' && esc[i] != '\n');
	FZ_CHECK(e == 0 || esc[0] != '#');
	FZ_CHECK(pesc_unescape(esc, (size_t)e, &back, &blen) == 0);
	FZ_CHECK(blen == n && memcmp(back, path, n + 1) == 0);
	free(back);
	/* Exactly one byte short (no room for the NUL): refused whole. */
	small = malloc((size_t)e + 1);
	FZ_CHECK(small);
	memset(small, 'x', (size_t)e + 1);
	FZ_CHECK(pesc_escape(path, small, (size_t)e) == -ENAMETOOLONG);
	FZ_CHECK(e == 0 || small[0] == '\0');
	free(small);
	return esc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char *path, *out = NULL, *esc, *again = NULL;
	size_t olen = 0, i;
	bool raw_bad = false;
	int err;

	/* Arbitrary bytes, as a listing line's first field. */
	err = pesc_unescape(s, size, &out, &olen);
	FZ_CHECK(err == 0 || err == -EINVAL);
	for (i = 0; i < size; i++)
		raw_bad |= s[i] == '\0' || s[i] == ' ' || s[i] == '\t' ||
			   s[i] == '\n';
	if (raw_bad)
		FZ_CHECK(err == -EINVAL);
	if (!err) {
		FZ_CHECK(olen <= size);
		FZ_CHECK(out[olen] == '\0' && strlen(out) == olen);
		/* Canonical: escaping what was read reads back the same. */
		esc = escape_checked(out);
		FZ_CHECK(pesc_unescape(esc, strlen(esc), &again, NULL) == 0);
		FZ_CHECK(strcmp(again, out) == 0);
		free(again);
		free(esc);
		free(out);
	}

	/* The input as a path, cut at its first NUL. */
	path = malloc(size + 1);
	FZ_CHECK(path);
	memcpy(path, s, size);
	path[size] = '\0';
	free(escape_checked(path));
	free(path);
	return 0;
}
