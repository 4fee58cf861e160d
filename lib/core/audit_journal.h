/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The audit trail's journald sink (DESIGN §5), used by audit.c in place
 * of syslog where journald runs: the same readable line as MESSAGE, and
 * the event's parts as fields of their own, so that the journal can be
 * searched by them (`journalctl RDMAFS_EVENT=refuse RDMAFS_UID=1000`):
 *
 *   MESSAGE            the syslog line (audit.h), cut as there
 *   PRIORITY           4 (warning) or 6 (info), as for syslog
 *   SYSLOG_IDENTIFIER  rdmafs
 *   SYSLOG_FACILITY    3 (daemon)
 *   RDMAFS_EVENT       refuse, defer, done, timeout, break, audit, pin, ...
 *   RDMAFS_OP          truncate, punch, reflink, unlink, setxattr, ...
 *   RDMAFS_PATH        relative to the mount, raw bytes
 *   RDMAFS_OFFSET      with a range: decimal; 0 for the whole file
 *   RDMAFS_LENGTH      with a range: decimal, or "all" for the whole file
 *   RDMAFS_ERRNO       the error's name (ETXTBSY), when the op failed
 *   ERRNO              the same as a number (journald's own field)
 *   RDMAFS_WAITED_MS   when the request was parked
 *   RDMAFS_NPINS       how many pins the event met (listed in MESSAGE)
 *   RDMAFS_PID, RDMAFS_TGID, RDMAFS_UID, RDMAFS_GID, RDMAFS_COMM,
 *   RDMAFS_EXE, RDMAFS_CMDLINE
 *                      the requesting process, as far as it was read
 *   RDMAFS_REASON      why, for a refusal not made by the policy
 *
 * Fields that do not apply are left out.  Values are the raw bytes, each
 * cut to AUDIT_JOURNAL_VALUE_MAX; one holding a newline goes in the
 * protocol's length-prefixed form (libsystemd's sd_journal_sendv()), so
 * no name can forge a field.
 */
#ifndef RDMAFS_AUDIT_JOURNAL_H
#define RDMAFS_AUDIT_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/audit.h"

/* Where journald takes native-protocol datagrams. */
#define AUDIT_JOURNAL_SOCKET "/run/systemd/journal/socket"

/* Longest value of one RDMAFS_* field, in bytes. */
#define AUDIT_JOURNAL_VALUE_MAX 4096

/*
 * True when journald listens at @path (a socket that accepts a
 * connection) and rdmafs was built with libsystemd.  Asked once, when
 * the trail opens, as the syslog sink's openlog() is.
 */
bool audit_journal_running(const char *path);

/*
 * Sends @ev to journald with @message (@mlen bytes) as MESSAGE and
 * syslog priority @priority.  Returns 0, or -errno (the caller then
 * falls back to syslog).
 */
int audit_journal_send(const struct audit_event *ev, const char *message,
		       size_t mlen, int priority);

#endif
