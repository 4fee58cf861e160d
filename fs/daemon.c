// SPDX-License-Identifier: GPL-2.0-or-later
/* Daemonising that reports start-up; see daemon.h. */
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "daemon.h"
#include "notify.h"

/* The child's end of the pipe to the waiting parent; -1: none. */
static int report_fd = -1;
static bool reported;
/* What the service manager was told (notify.h). */
static bool told_ready, told_stopping;

/*
 * The child died before it said how start-up went (killed, or crashed):
 * nobody serves the mount it leaves, whose every access would fail with
 * ENOTCONN until someone unmounted it by hand.  The parent still holds
 * the FUSE descriptor, so it can unmount it as the child would have;
 * then says what happened, since the child could not.
 */
static void child_died(pid_t pid, struct fuse_session *se)
{
	int status;
	pid_t w;

	do
		w = waitpid(pid, &status, 0);
	while (w < 0 && errno == EINTR);
	if (se)
		fuse_session_unmount(se);
	if (w == pid && WIFSIGNALED(status))
		fprintf(stderr,
			"rdmafs: the daemon was killed by signal %d (%s) during start-up\n",
			WTERMSIG(status), strsignal(WTERMSIG(status)));
	else if (w == pid && WIFEXITED(status))
		fprintf(stderr,
			"rdmafs: the daemon exited with status %d during start-up\n",
			WEXITSTATUS(status));
	else
		fprintf(stderr, "rdmafs: the daemon died during start-up\n");
}

int rfs_daemon_fork(bool foreground, struct fuse_session *se)
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
		if (n != 1)
			child_died(pid, se);
		_exit(n == 1 ? status : 1);
	}
	close(p[0]);
	report_fd = p[1];
	setsid();
	return chdir("/") < 0 ? -errno : 0;
}

/*
 * Only now, with the mount serving (the kernel queues requests until the
 * loop reads them, so nothing that follows READY=1 fails), may units
 * ordered after ours start.  Daemonised (no -f), the process that says
 * so is not the one the manager started: MAINPID names it.
 */
static void tell_ready(bool forked)
{
	char msg[64];
	int err;

	if (forked)
		snprintf(msg, sizeof(msg),
			 "READY=1\nSTATUS=Serving\nMAINPID=%d", (int)getpid());
	else
		snprintf(msg, sizeof(msg), "READY=1\nSTATUS=Serving");
	err = rfs_notify(msg);
	if (err < 0)
		syslog(LOG_WARNING,
		       "couldn't tell the service manager (NOTIFY_SOCKET) that the mount is ready: %s",
		       strerror(-err));
	told_ready = err > 0;
}

void rfs_daemon_stopping(void)
{
	if (!told_ready || told_stopping)
		return;
	told_stopping = true;
	rfs_notify("STOPPING=1\nSTATUS=Unmounting");
}

void rfs_daemon_ready(int status)
{
	unsigned char b =
		status < 0 || status > 255 ? 1 : (unsigned char)status;
	bool forked = report_fd >= 0;
	int null;

	if (reported) {
		/* main()'s last call, as the daemon ends (daemon.h) */
		rfs_daemon_stopping();
		return;
	}
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
	/*
	 * Before the waiting parent exits: a manager that follows MAINPID
	 * sees the main process change, not end.
	 */
	if (status == 0)
		tell_ready(forked);
	if (report_fd >= 0) {
		/* Short of a write, the parent reads EOF and exits 1. */
		ssize_t n = write(report_fd, &b, 1);

		(void)n;
		close(report_fd);
		report_fd = -1;
	}
}
