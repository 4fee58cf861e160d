/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading the control xattrs of an rdmafs mount's root (doc/pins.md):
 * the mount-wide pin listing, which may span several pages, and the
 * key=value status.  Split from rdmafsctl so that the walking and the
 * parsing can be unit-tested without a mount: the xattr itself is read
 * through a callback.
 *
 * The daemon is trusted to be rdmafs but not to be bug-free, and the
 * listing is a user interface people script against, so parsing is
 * strict: a line that does not follow the format fails the whole read
 * with a message naming the page and line, rather than being skipped
 * (skipping would show a listing silently short of a pin).
 */
#ifndef RDMAFS_PROTO_PARSE_H
#define RDMAFS_PROTO_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/proto.h"

/* The first page of the listing; it names the next one, if any. */

struct proto_pin {
	char *path; /* unescaped, NUL-terminated, owned by the pin */
	size_t path_len; /* bytes before the NUL */
	uint64_t off; /* 0 when all */
	uint64_t len; /* >= 1; 0 when all */
	bool all;
	uint32_t owner; /* uid */
	pid_t holder; /* live holder's pid; 0 for a persistent pin (-) */
	char since[PROTO_SINCE_MAX]; /* as the daemon wrote it */
	unsigned int page; /* 0 for the first page; tells duplicates apart */
};

struct proto_pins {
	struct proto_pin *v;
	size_t n;
	size_t cap;
};

struct proto_kv {
	char *key; /* both owned, NUL-terminated */
	char *val;
};

/* Why a read failed when the value itself was wrong: page, line, reason. */
struct proto_err {
	char msg[256];
};

/*
 * Reads the value of xattr @name into @buf of @size bytes, as getxattr(2)
 * does (@size 0 asks for the length), but returns -errno on failure.
 */
typedef ssize_t proto_getxattr_fn(void *ctx, const char *name, void *buf,
				  size_t size);

/*
 * Reads the whole value of @name: asks for its length, then fetches it,
 * and asks again when the value grew in between (ERANGE).  On success
 * returns 0, sets *@val to a malloc'd copy with a NUL after the *@len
 * bytes (so that an empty value is "" rather than NULL); the caller frees
 * it.  Returns the callback's -errno, -ENOMEM, or -EAGAIN when the value
 * kept growing.
 */
int proto_read_value(proto_getxattr_fn *get, void *ctx, const char *name,
		     char **val, size_t *len);

/*
 * Undoes the listing's octal escapes: `\` followed by exactly three octal
 * digits (\040 space, \011 tab, \012 newline, \134 backslash, \043 `#`, or
 * any other byte but NUL).  Returns 0 and a malloc'd NUL-terminated copy
 * in *@out of *@out_len bytes, -EINVAL for a lone or short backslash, a
 * value above \377 or \000, or a raw blank, NUL or newline (which the
 * daemon must have escaped), or -ENOMEM.
 */
int proto_unescape(const char *s, size_t n, char **out, size_t *out_len);

/*
 * Parses one listing line, without its newline:
 * `PATH OFFSET+LENGTH owner=UID holder=PID|- since=TIME`.  OFFSET and
 * LENGTH are plain decimal (or the range is `all`); fields after the range
 * may come in any order and unknown `key=value` fields are ignored, as the
 * format promises "at least" these.  Returns 0 and fills @out (the caller
 * frees out->path), -EINVAL with a reason in *@why (a static string), or
 * -ENOMEM.
 */
int proto_parse_pin_line(const char *s, size_t n, struct proto_pin *out,
			 const char **why);

/*
 * Parses one page of the listing (@name for messages) and appends its pins
 * to @pins, marked with @page.  When the page ends with `#more NAME`, sets
 * *@next to a malloc'd copy of NAME, else to NULL.  Blank lines and NULs at
 * the very end of the value are ignored.  Returns 0, -EINVAL (reason in
 * @err; @pins may have gained some of the page's pins) or -ENOMEM.
 */
int proto_parse_page(const char *s, size_t n, const char *name,
		     unsigned int page, struct proto_pins *pins, char **next,
		     struct proto_err *err);

/*
 * Reads the whole listing: PROTO_PINS, then each page its predecessor
 * names, until a page names none.  A next page must be called
 * `user.rdmafs.pins.N` with N greater than the previous page's, so that a
 * confused daemon cannot make the walk loop.  Pages are formatted when
 * read, so a pin that moves to a later page while the walk goes on is read
 * twice: an exact repeat of a pin from an earlier page is dropped.  A page
 * that vanished (ENODATA after the first, the listing shrank) restarts the
 * walk a few times.
 *
 * Returns 0 with the pins appended to the empty @pins in listing order,
 * or -errno: the callback's (-ENODATA or -ENOTSUP on the first page mean
 * "not rdmafs"), -EINVAL for a malformed listing (reason in @err), -EAGAIN
 * when the listing kept changing, -ENOMEM.  @pins is empty on error.
 */
int proto_read_pins(proto_getxattr_fn *get, void *ctx, struct proto_pins *pins,
		    struct proto_err *err);

/*
 * Parses the value of user.rdmafs.pin got from a file: one pin a line,
 * `OFFSET+LENGTH owner=UID holder=PID|- since=TIME` (a listing line
 * without the path; path is NULL in each pin).  Appends to the empty
 * @pins.  Returns 0, -EINVAL (reason in @err, @pins empty) or -ENOMEM.
 */
int proto_parse_file_pins(const char *s, size_t n, struct proto_pins *pins,
			  struct proto_err *err);

/*
 * The seconds since the Epoch of @s, an RFC 3339 time as the daemon
 * writes `since` (`2026-11-25T09:40:00Z`; fractions, which are dropped,
 * and a `+HH:MM` offset are allowed).  Returns 0 or -EINVAL.
 */
int proto_parse_since(const char *s, int64_t *sec);

/* Frees every pin's path and the array; leaves @pins empty and reusable. */
void proto_pins_free(struct proto_pins *pins);

/*
 * Parses `key=value` lines (the status).  Keys are letters, digits, `_`,
 * `-` and `.`; a value is anything up to the newline, possibly empty.
 * Blank lines and trailing NULs are ignored; a line without `=`, a bad or
 * repeated key is -EINVAL with the reason in @err.  Returns 0 and a
 * malloc'd array in *@kv of *@count entries (free with proto_kv_free()), or
 * -EINVAL, -ENOMEM.
 */
int proto_parse_status(const char *s, size_t n, struct proto_kv **kv,
		       size_t *count, struct proto_err *err);

void proto_kv_free(struct proto_kv *kv, size_t count);

#endif
