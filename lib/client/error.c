/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rdmafs_strerror(): the errors of rdmafs in its own terms (doc/pins.md,
 * Errors).  An application reports "a pinned range is in the way", not
 * "Text file busy".  Static strings only: no buffer, so no locking.
 */
#include <limits.h>
#include <string.h>

#include "client.h"

static const struct {
	int err;
	const char *msg;
} msgs[] = {
	{ ETXTBSY, "a pinned range is in the way" },
	{ ENOSPC, "over a pin limit of the mount, or no room to stabilise "
		  "or store the pins" },
	{ EPERM, "the pin is another user's, or the session is another "
		 "process's (a forked child cannot use it)" },
	{ ENODATA, "no such pin" },
	/* one number on Linux: sessions answer it when the daemon has none */
	{ ENOTSUP, "not on an rdmafs mount, or not offered by its daemon" },
	{ ESTALE, "the file has no name in the mount any more, or its name "
		  "leads to another file" },
	{ EINVAL, "malformed range, range beyond the end of the file, not a "
		  "regular file, or bad flags" },
	{ EDEADLK, "the caller holds the pin in the way itself" },
	{ EAGAIN, "the pins kept changing while they were read; try again" },
	{ EIO, "the daemon's answer was malformed, or an I/O error" },
	{ EACCES, "no write permission on the file (read permission to list "
		  "its pins), or a descriptor not open for writing" },
	{ ENOTCONN, "the session ended: the daemon went away, and every "
		    "hold of the session with it" },
	{ EXDEV, "the descriptor is on another rdmafs mount than the "
		 "session's" },
	{ EBADF, "not a descriptor of a file in the mount (or opened "
		 "O_PATH)" },
	{ EPROTO, "the daemon's session channel sent something malformed" },
};

RDMAFS_EXPORT const char *rdmafs_strerror(int err)
{
	const char *s;
	size_t i;

	/* -INT_MIN does not fit an int: no errno is that large anyway */
	if (err == INT_MIN)
		return "unknown error";
	if (err < 0)
		err = -err;
	for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		if (msgs[i].err == err)
			return msgs[i].msg;
	}
	s = strerrordesc_np(err);
	return s ? s : "unknown error";
}
