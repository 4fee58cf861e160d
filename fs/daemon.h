/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Daemonising that reports start-up.  fuse_daemonize() makes the parent
 * exit 0 as soon as the child is detached, with the child's stderr on
 * /dev/null; but the pin table and the mediator run threads, so they can
 * only start in the child, after that.  A failure there was printed to
 * nowhere and the command had already succeeded.  Here the parent waits
 * until the child says how its start-up went and exits with that status,
 * and the child's stderr stays the caller's until then, so a start-up
 * failure reaches the terminal (and the exit status) as every check
 * before mounting does.
 */
#ifndef RDMAFS_DAEMON_H
#define RDMAFS_DAEMON_H

#include <stdbool.h>

struct fuse_session;

/*
 * Without @foreground: forks; the parent waits and exits with the status
 * rfs_daemon_ready() gives, and the child, in a session of its own,
 * returns 0.  If the child dies first, the parent unmounts @se's mount
 * (nobody would serve it), says so on stderr and exits 1.  With
 * @foreground, no fork.  Both change to "/".  Returns 0, or -errno when
 * nothing could be forked.
 */
int rfs_daemon_fork(bool foreground, struct fuse_session *se);
/*
 * Start-up is over with exit status @status (0: serving).  The waiting
 * parent exits with it; on 0, stdin, stdout and stderr go to /dev/null
 * (messages then go to syslog), and a service manager that asked
 * ($NOTIFY_SOCKET, systemd's Type=notify) is sent READY=1 (and
 * MAINPID= when daemonised).  Only the first call reports start-up; a
 * later one, as main() ends, is rfs_daemon_stopping().
 */
void rfs_daemon_ready(int status);
/*
 * The mount is going away (the loop ended: a signal or an unmount):
 * tells the service manager STOPPING=1, once, if it was told READY=1.
 */
void rfs_daemon_stopping(void);

#endif
