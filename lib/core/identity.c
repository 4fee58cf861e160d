// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Reading a requester's identity from /proc: see identity.h for why.
 *
 * It runs on the request path, so it sticks to open/read/readlink into
 * the caller's buffers: no stdio streams, no allocation.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/identity.h"

/*
 * Reads up to @size bytes of @name under @dfd.  /proc hands some files
 * out a page at a time, so one read() is not enough.  Returns the byte
 * count or -errno; *@more is set when the file held more than @size.
 */
static ssize_t read_at(int dfd, const char *name, char *buf, size_t size,
		       bool *more)
{
	size_t n = 0;
	ssize_t r;
	int fd, err = 0;

	*more = false;
	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	while (n < size) {
		r = read(fd, buf + n, size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			break;
		}
		if (r == 0)
			break;
		n += r;
	}
	if (n == size) {
		char c;

		do {
			r = read(fd, &c, 1);
		} while (r < 0 && errno == EINTR);
		*more = r > 0;
	}
	close(fd);
	/* Whatever arrived before an error (the task died) is still true. */
	return n ? (ssize_t)n : err;
}

static void read_tgid(int dfd, struct ident *out)
{
	/*
	 * Tgid: is the fourth line of status, well inside the first few
	 * hundred bytes even when the Name: line is fully escaped.
	 */
	char buf[1024];
	const char *p;
	long long v = 0;
	bool more;
	ssize_t n;

	n = read_at(dfd, "status", buf, sizeof(buf) - 1, &more);
	if (n <= 0)
		return;
	buf[n] = '\0';
	p = strstr(buf, "\nTgid:");
	if (!p)
		return;
	p += strlen("\nTgid:");
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p < '0' || *p > '9')
		return;
	while (*p >= '0' && *p <= '9' && v <= INT_MAX)
		v = v * 10 + (*p++ - '0');
	if (*p != '\n' || v <= 0 || v > INT_MAX)
		return;
	out->tgid = (pid_t)v;
	out->flags |= IDENT_TGID;
}

static void read_comm(int dfd, struct ident *out)
{
	bool more;
	ssize_t n;

	n = read_at(dfd, "comm", out->comm, sizeof(out->comm) - 1, &more);
	if (n <= 0)
		return;
	/* Only the newline the kernel appends: the name may hold others. */
	if (out->comm[n - 1] == '\n')
		n--;
	out->comm[n] = '\0';
	out->flags |= IDENT_COMM;
}

static void read_exe(int dfd, struct ident *out)
{
	ssize_t n;

	n = readlinkat(dfd, "exe", out->exe, sizeof(out->exe));
	if (n <= 0) {
		out->exe[0] = '\0';
		return;
	}
	if ((size_t)n == sizeof(out->exe)) {
		n--;
		out->flags |= IDENT_EXE_TRUNC;
	}
	out->exe[n] = '\0';
	out->flags |= IDENT_EXE;
}

static void read_cmdline(int dfd, struct ident *out)
{
	char *buf = out->cmdline;
	size_t size = sizeof(out->cmdline);
	bool more;
	ssize_t n, i;

	n = read_at(dfd, "cmdline", buf, size, &more);
	/*
	 * Empty means the task has no memory any more (a zombie, or a
	 * kernel thread): unreadable, not an empty command line, which
	 * reads as a single NUL.
	 */
	if (n <= 0) {
		buf[0] = '\0';
		return;
	}
	if ((size_t)n == size) {
		/* A full buffer that ends the last argument was not cut. */
		if (more || buf[size - 1] != '\0')
			out->flags |= IDENT_CMDLINE_TRUNC;
		n--;
	}
	while (n > 0 && buf[n - 1] == '\0')
		n--;
	for (i = 0; i < n; i++) {
		if (buf[i] == '\0')
			buf[i] = ' ';
	}
	buf[n] = '\0';
	out->flags |= IDENT_CMDLINE;
}

int ident_read(pid_t tid, uid_t uid, gid_t gid, struct ident *out)
{
	char path[32];
	int dfd, err;

	out->pid = tid;
	out->tgid = -1;
	out->uid = uid;
	out->gid = gid;
	out->flags = 0;
	out->comm[0] = '\0';
	out->exe[0] = '\0';
	out->cmdline[0] = '\0';
	if (tid <= 0)
		return -ESRCH;

	/*
	 * /proc/TID works for any thread, not only a process leader (it is
	 * merely left out of the listing).  Everything is then read
	 * relative to this one directory: it stays bound to the task it
	 * was opened for, so if the task exits and its number is reused
	 * halfway through, the rest of the reads fail instead of mixing in
	 * the new process.
	 */
	snprintf(path, sizeof(path), "/proc/%d", (int)tid);
	dfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		err = errno;
		return err == ENOENT ? -ESRCH : -err;
	}
	read_tgid(dfd, out);
	read_comm(dfd, out);
	read_exe(dfd, out);
	read_cmdline(dfd, out);
	close(dfd);
	return out->flags ? 0 : -ESRCH;
}
