// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Following a log file across rotation: see ctl_tail.h.
 *
 * The file is read with read(2) into a buffer of our own rather than
 * stdio, because at the end of a file that still grows a line may be
 * only half written: it stays in the buffer until its newline arrives.
 * (The daemon writes each audit line with one write(), but a reader may
 * still see a write of another program half done.)
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_tail.h"

/* How often to look again when no inotify event comes (ms). */
#define TAIL_POLL_MS 1000

struct tail {
	char *path;
	int fd;
	bool follow;
	dev_t dev; /* of the file open at fd */
	ino_t ino;
	off_t pos; /* bytes read from fd */
	unsigned long lineno;
	char *buf;
	size_t cap, start, end; /* unread bytes are buf[start, end) */
	bool skipping; /* inside a line over TAIL_LINE_MAX */
	bool dropping; /* inside a line before the start of --new */
	int ino_fd; /* inotify, or -1 */
	int sig_fd; /* signalfd of SIGINT and SIGTERM, or -1 */
};

static int open_file(struct tail *t)
{
	struct stat st;
	int fd = open(t->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -errno;
	}
	if (t->fd >= 0)
		close(t->fd);
	t->fd = fd;
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	t->pos = 0;
	t->lineno = 0;
	t->start = t->end = 0;
	t->skipping = false;
	t->dropping = false;
	return 0;
}

/*
 * Skips what the file holds now, counting its lines so that the numbers
 * in messages are the file's own; a last line still being written is
 * dropped when its newline comes.
 */
static int skip_to_end(struct tail *t)
{
	ssize_t n;
	bool nl = true;

	while ((n = read(t->fd, t->buf, t->cap)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (char *p = t->buf; (p = memchr(p, '\n', t->buf + n - p));
		     p++)
			t->lineno++;
		nl = t->buf[n - 1] == '\n';
		t->pos += n;
	}
	t->dropping = !nl;
	return 0;
}

/* Inotify on the file's directory: writes, renames and creations there. */
static void watch_dir(struct tail *t)
{
	char *copy = strdup(t->path);

	t->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (t->ino_fd >= 0 && copy &&
	    inotify_add_watch(t->ino_fd, dirname(copy),
			      IN_MODIFY | IN_CREATE | IN_MOVED_TO |
				      IN_MOVED_FROM | IN_DELETE |
				      IN_CLOSE_WRITE | IN_ATTRIB) < 0) {
		close(t->ino_fd);
		t->ino_fd = -1;
	}
	free(copy);
}

static int block_signals(struct tail *t)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	t->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return t->sig_fd < 0 ? -errno : 0;
}

int tail_open(const char *path, bool follow, bool from_end, struct tail **tp)
{
	struct tail *t = calloc(1, sizeof(*t));
	int ret;

	if (!t)
		return -ENOMEM;
	t->fd = t->ino_fd = t->sig_fd = -1;
	t->follow = follow;
	t->cap = 64 * 1024;
	t->path = strdup(path);
	t->buf = malloc(t->cap + 1);
	ret = !t->path || !t->buf ? -ENOMEM : open_file(t);
	if (!ret && follow) {
		ret = block_signals(t);
		watch_dir(t);
	}
	if (!ret && follow && from_end)
		ret = skip_to_end(t);
	if (ret) {
		tail_close(t);
		return ret;
	}
	*tp = t;
	return 0;
}

void tail_close(struct tail *t)
{
	if (!t)
		return;
	if (t->fd >= 0)
		close(t->fd);
	if (t->ino_fd >= 0)
		close(t->ino_fd);
	if (t->sig_fd >= 0)
		close(t->sig_fd);
	free(t->buf);
	free(t->path);
	free(t);
}

/* Reads more into the buffer: bytes read, 0 at the end, or -errno. */
static ssize_t fill(struct tail *t)
{
	ssize_t n;

	if (t->start) {
		memmove(t->buf, t->buf + t->start, t->end - t->start);
		t->end -= t->start;
		t->start = 0;
	}
	if (t->end == t->cap) {
		size_t cap = t->cap * 2;
		char *b;

		if (cap > TAIL_LINE_MAX + 1)
			cap = TAIL_LINE_MAX + 1;
		b = realloc(t->buf, cap + 1);
		if (!b)
			return -ENOMEM;
		t->buf = b;
		t->cap = cap;
	}
	do {
		n = read(t->fd, t->buf + t->end, t->cap - t->end);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	t->end += (size_t)n;
	t->pos += n;
	return n;
}

/* The line that ends at buf[nl] (a newline, or the end of the data). */
static int take(struct tail *t, size_t nl, char **line, size_t *len,
		unsigned long *lineno)
{
	size_t next = nl < t->end ? nl + 1 : nl;

	t->lineno++;
	*lineno = t->lineno;
	if (t->skipping) {
		t->skipping = false;
		t->start = next;
		return TAIL_TOO_LONG;
	}
	t->buf[nl] = '\0';
	*line = t->buf + t->start;
	*len = nl - t->start;
	t->start = next;
	return TAIL_LINE;
}

/*
 * At the end of the file, with follow: has the path been rotated to
 * another file (1), the file been truncated (2), or neither (0)?
 */
static int changed(struct tail *t)
{
	struct stat st;

	if (stat(t->path, &st) < 0)
		return 0; /* gone for now: wait for the new one */
	if (st.st_dev != t->dev || st.st_ino != t->ino)
		return 1;
	if (fstat(t->fd, &st) == 0 && st.st_size < t->pos)
		return 2;
	return 0;
}

static bool signalled(struct tail *t)
{
	struct pollfd p = { .fd = t->sig_fd, .events = POLLIN };

	return poll(&p, 1, 0) > 0;
}

/* Waits for a change or a signal: 0, 1 on a signal, or -errno. */
static int wait_more(struct tail *t)
{
	struct pollfd p[2] = { { .fd = t->sig_fd, .events = POLLIN },
			       { .fd = t->ino_fd, .events = POLLIN } };
	char ev[4096];
	int n;

	/* what has been printed must show while we wait */
	fflush(stdout);
	n = poll(p, t->ino_fd >= 0 ? 2 : 1, TAIL_POLL_MS);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (p[0].revents)
		return 1;
	if (t->ino_fd >= 0 && p[1].revents) {
		/* the events only wake us; what changed is read from stat */
		while (read(t->ino_fd, ev, sizeof(ev)) > 0)
			;
	}
	return 0;
}

int tail_next(struct tail *t, char **line, size_t *len, unsigned long *lineno)
{
	char *nl;
	ssize_t n;
	int ret;

	for (;;) {
		nl = memchr(t->buf + t->start, '\n', t->end - t->start);
		if (nl && t->dropping) {
			t->dropping = false;
			t->lineno++;
			t->start = (size_t)(nl - t->buf) + 1;
			continue;
		}
		if (nl)
			return take(t, (size_t)(nl - t->buf), line, len,
				    lineno);
		if (t->end - t->start >= TAIL_LINE_MAX) {
			/* drop what we have; take() reports it at its end */
			t->skipping = !t->dropping;
			t->start = t->end = 0;
		}
		n = fill(t);
		if (n < 0)
			return (int)n;
		/* a file that never stops growing must not keep us from a signal */
		if (n > 0 && t->follow && signalled(t))
			return TAIL_END;
		if (n > 0)
			continue;
		if (!t->follow) {
			if (t->end > t->start || t->skipping)
				return take(t, t->end, line, len, lineno);
			return TAIL_END;
		}
		ret = changed(t);
		if (ret == 1 && !t->dropping &&
		    (t->end > t->start || t->skipping))
			/* the old file's last line, cut short: it is all */
			return take(t, t->end, line, len, lineno);
		if (ret) {
			fprintf(stderr,
				PROG ": %s: %s; reading it from the start\n",
				t->path,
				ret == 1 ? "replaced (rotated)" : "truncated");
			if (ret == 2) {
				if (lseek(t->fd, 0, SEEK_SET) < 0)
					return -errno;
				t->pos = 0;
				t->lineno = 0;
				t->start = t->end = 0;
				t->skipping = false;
			} else if ((ret = open_file(t)) < 0) {
				/* gone again already: keep the old one */
				if (ret != -ENOENT)
					return ret;
			}
			continue;
		}
		ret = wait_more(t);
		if (ret)
			return ret > 0 ? TAIL_END : ret;
	}
}
