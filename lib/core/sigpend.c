// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A thread's pending signals from /proc: see sigpend.h.  The parser is
 * pure (tested on crafted texts); the reader only fetches the text.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/sigpend.h"

/* The value of the line "@key:\t<hex>" in @text, into *@out. */
static int mask_of(const char *text, size_t len, const char *key, uint64_t *out)
{
	size_t klen = strlen(key), i = 0, n;
	uint64_t v = 0;

	while (i < len) {
		const char *line = text + i;
		const char *nl = memchr(line, '\n', len - i);
		size_t llen = nl ? (size_t)(nl - line) : len - i;

		i += llen + 1;
		if (llen <= klen + 1 || memcmp(line, key, klen) != 0 ||
		    line[klen] != ':')
			continue;
		line += klen + 1;
		llen -= klen + 1;
		while (llen && (*line == '\t' || *line == ' ')) {
			line++;
			llen--;
		}
		/* 64 signals: 16 digits; more would not fit a mask. */
		for (n = 0; n < llen; n++) {
			int c = line[n], d;

			if (c >= '0' && c <= '9')
				d = c - '0';
			else if (c >= 'a' && c <= 'f')
				d = c - 'a' + 10;
			else if (c >= 'A' && c <= 'F')
				d = c - 'A' + 10;
			else
				break;
			if (n == 16)
				return -EINVAL;
			v = v << 4 | (uint64_t)d;
		}
		if (n == 0 || n < llen)
			return -EINVAL;
		*out = v;
		return 0;
	}
	return -EINVAL;
}

int sigpend_parse(const char *text, size_t len, struct sigpend *sp)
{
	struct sigpend s;
	uint64_t threads;
	int err;

	err = mask_of(text, len, "SigPnd", &s.pnd);
	if (!err)
		err = mask_of(text, len, "ShdPnd", &s.shd);
	if (!err)
		err = mask_of(text, len, "SigBlk", &s.blk);
	if (!err)
		err = mask_of(text, len, "SigIgn", &s.ign);
	if (err)
		return err;
	/* A decimal count, read as hexadecimal: only 1 matters here. */
	s.threads = 0;
	if (mask_of(text, len, "Threads", &threads) == 0)
		s.threads = threads == 1 ? 1 : 2;
	*sp = s;
	return 0;
}

enum sigpend_verdict sigpend_interrupts(const struct sigpend *sp)
{
	uint64_t kill = 1ull << (SIGKILL - 1), open = ~sp->blk & ~sp->ign;

	/*
	 * A fatal signal (SIGKILL, or one whose default action kills) puts
	 * SIGKILL in every thread's own set, whatever the masks.
	 */
	if ((sp->pnd | sp->shd) & kill)
		return SIGPEND_YES;
	if (sp->pnd & open)
		return SIGPEND_YES;
	if (!(sp->shd & open))
		return SIGPEND_NO;
	/*
	 * The kernel gives a process's signal to one thread that does not
	 * block it; with others, one of them may be about to take it.
	 */
	return sp->threads == 1 ? SIGPEND_YES : SIGPEND_MAYBE;
}

int sigpend_read(pid_t tid, struct sigpend *sp)
{
	char path[64], buf[4096];
	size_t len = 0;
	ssize_t n;
	int fd, err;

	if (tid <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	/* The masks come early; a longer status is cut, never a mask. */
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* A thread that exits meanwhile reads as ESRCH. */
			err = -errno;
			close(fd);
			return err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	return sigpend_parse(buf, len, sp);
}
