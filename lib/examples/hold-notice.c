/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * librdmafs example: the partner path (rdmafs DESIGN §6).  Hold a range
 * of a file in a session, as an RDMA application does while the range is
 * registered; wait until an operation wants it (a notice); then quiesce
 * (here: nothing to do), release, and exit.
 *
 *   cc hold-notice.c $(pkg-config --cflags --libs rdmafs) -o hold-notice
 *   ./hold-notice /mnt/rdmafs/data 0 4096 &
 *   truncate -s 0 /mnt/rdmafs/data     # waits under policy=defer/break
 *
 * Prints "holding" once the range is held, the notice when it comes and
 * "released" after the release.  Exits 0 on success, 1 on an error
 * (printed with rdmafs_strerror()), 2 on bad usage.
 */
#define _POSIX_C_SOURCE 200809L /* O_CLOEXEC, in strict C99 too */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rdmafs/rdmafs.h>

static int fail(const char *what, int err)
{
	fprintf(stderr, "hold-notice: %s: %s\n", what, rdmafs_strerror(err));
	return 1;
}

int main(int argc, char **argv)
{
	struct rdmafs_range r = { 0, RDMAFS_WHOLE };
	struct rdmafs_session *s;
	struct rdmafs_mount *m;
	struct rdmafs_notice n;
	struct pollfd p;
	rdmafs_hold_t hold;
	int fd, err;

	if (argc != 2 && argc != 4) {
		fprintf(stderr, "usage: hold-notice FILE [OFFSET LENGTH]\n");
		return 2;
	}
	if (argc == 4) {
		r.offset = strtoull(argv[2], NULL, 0);
		r.length = strtoull(argv[3], NULL, 0);
	}
	/* a hold proves write access by the descriptor's open mode */
	fd = open(argv[1], O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror("hold-notice: open");
		return 1;
	}
	err = rdmafs_mount_open(argv[1], &m);
	if (err)
		return fail("mount", err);
	err = rdmafs_session_open(m, 0, &s);
	if (err)
		return fail("session", err); /* -EOPNOTSUPP: rdmafs < 0.2 */
	err = rdmafs_session_hold(s, fd, &r, &hold);
	if (err)
		return fail("hold", err);
	close(fd); /* the hold lasts as long as the session, not the fd */
	printf("holding hold=%" PRIu64 "\n", hold);
	fflush(stdout);
	/* ... here the application registers the range for RDMA ... */

	p.fd = rdmafs_session_fd(s);
	p.events = POLLIN;
	for (;;) {
		if (poll(&p, 1, -1) < 0) {
			perror("hold-notice: poll");
			return 1;
		}
		/* level-triggered: it polls readable while a notice waits */
		err = rdmafs_session_next_notice(s, &n);
		if (err == -EAGAIN)
			continue;
		if (err)
			return fail("notice", err);
		if (n.flags & RDMAFS_NOTICE_LOST)
			return fail("session", -ENOTCONN); /* holds are gone */
		if (n.hold == hold)
			break;
	}
	printf("%s hold=%" PRIu64 " op=%s pid=%d comm=%s\n",
	       n.flags & RDMAFS_NOTICE_REVOKED ? "revoked" : "notice", n.hold,
	       rdmafs_class_name(n.op), (int)n.pid, n.comm);
	fflush(stdout);
	if (n.flags & RDMAFS_NOTICE_REVOKED)
		return 1; /* too late: the hold ended without us */
	/* ... quiesce the RDMA and deregister the range, then release ... */
	err = rdmafs_session_release(s, hold);
	if (err)
		return fail("release", err);
	printf("released\n");
	rdmafs_session_close(s);
	rdmafs_mount_close(m);
	return 0;
}
