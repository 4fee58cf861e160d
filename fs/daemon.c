// SPDX-License-Identifier: GPL-2.0-or-later
/* Daemonising that reports start-up; see daemon.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "daemon.h"

/* The child's end of the pipe to the waiting parent; -1: none. */
static int report_fd = -1;
static bool reported;

int rfs_daemon_fork(bool foreground)
{
	int p[2];
	unsigned char status;
	ssize_t n;
	pid_t pid;

	if (foreground)
		return chdir("/") < 0 ? -errno : 0;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (pid > 0) {
		/*
		 * The mount is the child's now: leave without unmounting or
		 * running anything of the parent's (_exit).
		 */
		close(p[1]);
		do
			n = read(p[0], &status, 1);
		while (n < 0 && errno == EINTR);
		_exit(n == 1 ? status : 1);
	}
	close(p[0]);
	report_fd = p[1];
	setsid();
	return chdir("/") < 0 ? -errno : 0;
}

void rfs_daemon_ready(int status)
{
	unsigned char b =
		status < 0 || status > 255 ? 1 : (unsigned char)status;
	int null;

	if (reported)
		return;
	reported = true;
	if (status == 0 && report_fd >= 0) {
		null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
			if (null > STDERR_FILENO)
				close(null);
		}
	}
	if (report_fd >= 0) {
		/* Short of a write, the parent reads EOF and exits 1. */
		ssize_t n = write(report_fd, &b, 1);

		(void)n;
		close(report_fd);
		report_fd = -1;
	}
}
