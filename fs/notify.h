/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Telling a service manager how the daemon is doing: systemd's
 * Type=notify readiness protocol (sd_notify(3)).  The manager puts the
 * address of a datagram socket in $NOTIFY_SOCKET; each state is one
 * datagram of newline-separated VARIABLE=VALUE assignments
 * ("READY=1", "STOPPING=1", "STATUS=...", "MAINPID=...").
 */
#ifndef RDMAFS_NOTIFY_H
#define RDMAFS_NOTIFY_H

/*
 * Sends @state to the service manager, if $NOTIFY_SOCKET names one.
 * Never blocks on a manager that does not read.  Returns 1 when sent,
 * 0 when no manager asked for it, or -errno.
 */
int rfs_notify(const char *state);

#endif
