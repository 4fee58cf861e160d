/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One growable string buffer for everything that builds text (the
 * listing, the status, a file's pins), so that appending has one set of
 * rules.  The error is sticky: once memory ran out every later append is
 * a no-op and sbuf_err() says -ENOMEM, so a writer appends freely and
 * checks once at the end, and never sends a value cut short by a failed
 * append in the middle.
 */
#ifndef RDMAFS_STRBUF_H
#define RDMAFS_STRBUF_H

#include <stddef.h>

/* Zero-initialised ({ 0 } or SBUF_INIT) is an empty, usable buffer. */
struct sbuf {
	char *buf; /* NUL-terminated when not NULL; owned */
	size_t len, cap;
	int err; /* 0, or -errno once an append failed (sticky) */
};

#define SBUF_INIT \
	{         \
		0 \
	}

/* Appends @n bytes at @s (which may hold NULs). */
void sbuf_add(struct sbuf *b, const void *s, size_t n);
/* Appends the NUL-terminated @s. */
void sbuf_puts(struct sbuf *b, const char *s);
/* Appends printf output, however long. */
void sbuf_printf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * 0, or -ENOMEM when any append since the last reset failed for want of
 * memory (-EOVERFLOW: a printf output over INT_MAX bytes).
 */
static inline int sbuf_err(const struct sbuf *b)
{
	return b->err;
}
/* The text ("" when nothing was added); valid until the next append. */
static inline const char *sbuf_str(const struct sbuf *b)
{
	return b->buf ? b->buf : "";
}
/* Makes @err (-errno) the sticky error of @b, e.g. when a piece failed. */
void sbuf_fail(struct sbuf *b, int err);
/* Empties @b and clears its error, keeping the memory. */
void sbuf_reset(struct sbuf *b);
/* Frees the memory; @b is empty (and usable) afterwards. */
void sbuf_free(struct sbuf *b);

#endif
