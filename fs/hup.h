/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef RDMAFS_HUP_H
#define RDMAFS_HUP_H

struct rfs;

/*
 * Blocks SIGHUP, SIGTERM and SIGINT: call before libfuse's handlers and
 * before any other thread starts (they inherit it); a SIGHUP then waits
 * for the thread, a SIGTERM or SIGINT for rfs_stop_signals_release().
 */
void rfs_hup_block(void);

/*
 * Lets SIGTERM and SIGINT in again, in the thread that runs the loop,
 * once the mount serves: one that came meanwhile stops it at once.
 */
void rfs_stop_signals_release(void);

/*
 * Starts the thread that takes SIGHUP and reopens the audit log.  0 or
 * -errno; on failure SIGHUP is unblocked here and keeps libfuse's meaning
 * (unmount).
 */
int rfs_hup_start(struct rfs *fs);

/* Ends that thread (before the audit trail is closed); idempotent. */
void rfs_hup_stop(void);

#endif
