// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rdmafsctl hold: a session pin held for as long as the command runs
 * (DESIGN §6), through librdmafs's sessions.  It stands for a partner
 * application on the command line and in tests: it prints one line when
 * it holds, one per notice, and one when it releases, each flushed at
 * once, so that a script reading it through a pipe sees them as they
 * happen.  The line formats are in doc/rdmafsctl.1.rst.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "core/range.h"
#include "rdmafs/rdmafs.h"
#include "ctl.h"
#include "ctl_out.h"

struct hold {
	const char *file;
	struct rdmafs_mount *mount;
	struct rdmafs_session *sess;
	rdmafs_hold_t id;
	int fd, sig_fd;
};

/*
 * The hold proves access by the descriptor's open mode, which must be
 * writable; write-only when the caller may only write.  O_NONBLOCK: a
 * FIFO must not hang us (the daemon refuses it anyway).
 */
static int open_file(const char *path)
{
	int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0 && errno == EACCES)
		fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* SIGINT and SIGTERM end the hold by a release; SIGHUP (a closed tty) too. */
static int block_signals(struct hold *h)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	h->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return h->sig_fd < 0 ? -errno : 0;
}

static void print_range(const struct rdmafs_range *r)
{
	if (r->length == RDMAFS_WHOLE)
		printf("all");
	else
		printf("%llu+%llu", (unsigned long long)r->offset,
		       (unsigned long long)r->length);
}

/* @n bytes of @s made safe for a terminal (ctl_out.h); malloc'd or NULL. */
static char *render(const char *s, size_t n)
{
	size_t width;

	return out_render(s, n, &width);
}

/* RFC 3339 UTC with milliseconds: deadlines are seconds away. */
static void print_time(int64_t sec, long nsec)
{
	char buf[64];
	struct tm tm;
	time_t t = (time_t)sec;

	if (gmtime_r(&t, &tm) &&
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm))
		printf("%s.%03ldZ", buf, nsec / 1000000);
	else
		printf("%lld", (long long)sec);
}

/*
 * "notice hold=ID op=OP range=RANGE pid=PID uid=UID deadline=TIME
 * comm=COMM", or "revoked ... at=TIME comm=COMM"; comm last, rendered
 * for the terminal, since it may hold blanks.
 */
static void print_notice(const struct rdmafs_notice *n)
{
	const char *op = rdmafs_class_name(n->op);
	bool revoked = n->flags & RDMAFS_NOTICE_REVOKED;
	char *comm = render(n->comm, strnlen(n->comm, sizeof(n->comm)));

	printf("%s hold=%llu op=%s range=", revoked ? "revoked" : "notice",
	       (unsigned long long)n->hold, op ? op : "?");
	print_range(&n->range);
	printf(" pid=%d uid=%u %s=", (int)n->pid, (unsigned int)n->uid,
	       revoked ? "at" : "deadline");
	print_time(n->deadline_sec, n->deadline_nsec);
	printf(" comm=%s\n", comm ? comm : "?");
	free(comm);
	fflush(stdout);
}

static int release(struct hold *h)
{
	int ret = rdmafs_session_release(h->sess, h->id);

	if (ret)
		return ctl_fail(ret, "release hold %llu of %s",
				(unsigned long long)h->id, h->file);
	printf("released hold=%llu\n", (unsigned long long)h->id);
	return ctl_finish_output();
}

/*
 * Prints the notices that wait.  Returns -1 to go on, else the exit
 * status: 0 after a release on break, 1 when the hold or the session
 * ended without us.
 */
static int drain(struct hold *h, bool release_on_break)
{
	struct rdmafs_notice n;
	int ret;

	for (;;) {
		ret = rdmafs_session_next_notice(h->sess, &n);
		if (ret == -EAGAIN)
			return -1;
		if (ret == -EPROTO) {
			fprintf(stderr,
				PROG ": a malformed message from the daemon, "
				     "skipped\n");
			continue;
		}
		if (ret)
			return ctl_fail(ret, "read a notice");
		if (n.flags & RDMAFS_NOTICE_LOST) {
			fprintf(stderr,
				PROG ": The session ended: the daemon went "
				     "away, and the hold with it\n");
			return CTL_FAILED;
		}
		print_notice(&n);
		if (n.hold != h->id)
			continue; /* not ours: cannot happen, but harmless */
		if (n.flags & RDMAFS_NOTICE_REVOKED) {
			fprintf(stderr,
				PROG ": The hold of %s was revoked without "
				     "a release\n",
				h->file);
			return CTL_FAILED;
		}
		if (release_on_break)
			return release(h);
	}
}

/* Holds until a signal, a notice (@release_on_break) or the end. */
static int serve(struct hold *h, bool release_on_break)
{
	struct pollfd p[2] = {
		{ .fd = rdmafs_session_fd(h->sess), .events = POLLIN },
		{ .fd = h->sig_fd, .events = POLLIN },
	};
	int ret;

	for (;;) {
		ret = drain(h, release_on_break);
		if (ret >= 0)
			return ret;
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return ctl_fail(-errno, "wait for notices");
		if (p[1].revents & POLLIN)
			return release(h);
	}
}

/* @r is @arg parsed (by the caller's usage checks). */
static int hold_range(struct hold *h, const char *arg, const struct rng *r,
		      bool release_on_break)
{
	struct rdmafs_range range = { 0, RDMAFS_WHOLE };
	char *name;
	int ret;

	if (!r->all)
		range = (struct rdmafs_range){ r->off, r->len };
	ret = rdmafs_mount_open(h->file, &h->mount);
	if (ret)
		return ctl_fail(ret, "open the mount of %s", h->file);
	ret = rdmafs_session_open(h->mount, 0, &h->sess);
	if (ret)
		return ctl_fail(ret, "open a session on %s",
				rdmafs_mount_path(h->mount));
	ret = rdmafs_session_hold(h->sess, h->fd, &range, &h->id);
	/* the daemon took its own reference: ours would only keep it open */
	close(h->fd);
	h->fd = -1;
	if (ret)
		return ctl_fail_pin(ret, h->file, "hold %s of %s", arg,
				    h->file);
	/*
	 * Signals are ours from now on (a release, then exit 0); until
	 * here their default ends the process, and with it the session.
	 */
	ret = block_signals(h);
	if (ret)
		return ctl_fail(ret, "block signals");
	name = render(h->file, strlen(h->file));
	printf("holding %s ", name ? name : h->file);
	free(name);
	print_range(&range);
	printf(" hold=%llu pid=%d\n", (unsigned long long)h->id, (int)getpid());
	ret = ctl_finish_output();
	if (ret)
		return ret;
	return serve(h, release_on_break);
}

int ctl_cmd_hold(const struct subcommand *cmd, int argc, char **argv)
{
	struct hold h = { .fd = -1, .sig_fd = -1 };
	struct ctl_args a;
	struct rng r;
	int ret;

	ret = ctl_parse_args(cmd, argc, argv, CTL_OPT_RELEASE, 2, 2,
			     "a FILE and one RANGE", &a);
	if (ret >= 0)
		return ret;
	if (rng_parse(a.pos[1], strlen(a.pos[1]), &r))
		return ctl_usage_error(
			cmd,
			"malformed RANGE '%s': want OFFSET+LENGTH or all, e.g. 0+1M",
			a.pos[1]);
	/* lines go out one by one, also into a pipe */
	setvbuf(stdout, NULL, _IOLBF, 0);
	h.file = a.pos[0];
	h.fd = open_file(h.file);
	if (h.fd < 0) {
		fprintf(stderr, PROG ": Couldn't open %s: %s\n", h.file,
			strerror(-h.fd));
		ret = CTL_FAILED;
	} else {
		ret = hold_range(&h, a.pos[1], &r, a.release_on_break);
	}
	rdmafs_session_close(h.sess);
	rdmafs_mount_close(h.mount);
	if (h.fd >= 0)
		close(h.fd);
	if (h.sig_fd >= 0)
		close(h.sig_fd);
	return ret;
}
