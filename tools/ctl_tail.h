/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Lines of a growing log file, like tail -F: rdmafsctl events reads the
 * audit trail with it.  Without follow it reads to the end once.  With
 * follow it then waits for more (inotify on the file's directory, and a
 * poll every second in case inotify is not available or not told, as on
 * network filesystems), survives logrotate (the path now names another
 * file: the old one is read to its end, then the new one from its start)
 * and a truncation in place (read again from the start), and ends on
 * SIGINT or SIGTERM, which it blocks and takes through a signalfd.
 */
#ifndef RDMAFS_CTL_TAIL_H
#define RDMAFS_CTL_TAIL_H

#include <stdbool.h>
#include <stddef.h>

/* A longer line is not an audit line (those are at most 64 KiB). */
#define TAIL_LINE_MAX (1024 * 1024)

struct tail;

/*
 * Opens @path.  With @follow, tail_next() waits at the end instead of
 * returning 0; with @from_end too, what the file holds now is skipped.
 * Returns 0, or -errno (the file must exist when it is opened).
 */
int tail_open(const char *path, bool follow, bool from_end, struct tail **t);

enum {
	TAIL_END = 0, /* the end (with follow: a signal came) */
	TAIL_LINE = 1, /* a line */
	TAIL_TOO_LONG = 2, /* a line over TAIL_LINE_MAX, skipped */
};

/*
 * The next line, without its newline, NUL-terminated, in *@line (@len
 * bytes; valid until the next call) and its number in the current file
 * in *@lineno (1 for the first; it starts again after a rotation).  A
 * last line without a newline is returned at the end (without follow,
 * or when the file is rotated away); with follow, a line is otherwise
 * returned only once its newline is there.  Returns TAIL_LINE,
 * TAIL_TOO_LONG (no line given), TAIL_END, or -errno.  A note on stderr
 * says when the file was rotated or truncated.
 */
int tail_next(struct tail *t, char **line, size_t *len, unsigned long *lineno);

void tail_close(struct tail *t);

#endif
