/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The audit trail (DESIGN §5): every pin change and every mediated
 * decision, with the pins it met and the process that asked, so that an
 * administrator can tell afterwards who changed a pinned file and what
 * led to it -- the information a kernel lease break never gives.
 *
 * Each event goes to two sinks:
 *
 * - syslog (ident "rdmafs", facility daemon), as one line for people;
 *   where journald runs (its socket accepts a connection when the trail
 *   opens) and rdmafs has libsystemd, to the journal instead, the same
 *   line as MESSAGE with the event's parts as fields of their own
 *   (core/audit_journal.h):
 *
 *     refuse truncate path=a/b off=0 len=4096 err=ETXTBSY
 *     pins=0+1048576(owner=0,holder=-) by pid=123 tgid=123 uid=1000
 *     gid=1000 comm=truncate exe=/usr/bin/truncate cmdline=truncate -s 0 a/b
 *
 *   (one line; broken here to fit).  Fields that do not apply are left
 *   out; unreadable process fields show `?`.  Values are escaped as in
 *   /proc/mounts: space, backslash, control bytes and bytes that are not
 *   UTF-8 become `\ooo` (octal), so a name cannot forge a field or a line.
 *   A reason comes as ` reason=...` after the pins, escaped the same way,
 *   and holders before it as ` told=PID(comm=C),...`, then ` released=`,
 *   ` holding=`, ` killed=PID(comm=C,why=W)` and ` revoked=` the same way
 *   (each only when not empty).
 *   cmdline is last and runs to the end of the line, its spaces kept.
 *   Priority: warning for refuse, timeout, break and audit (a layout
 *   change met a pin), info for everything else.
 *
 * - with a path, a JSON Lines file: one object per line, always with the
 *   same members in this order:
 *
 *     time       "2026-11-25T09:40:00.123Z" (RFC 3339, UTC, milliseconds)
 *     event      "pin", "unpin", "refuse", "defer", "done", "timeout",
 *                "break", "audit", ... (as given)
 *     op         "setxattr", "truncate", "punch", "reflink", "unlink", ...
 *     path       relative to the mount, or null
 *     offset     number, or null when the event has no range
 *     length     number; null when the event has no range, or when it
 *                covers the whole file (`all`, offset 0)
 *     errno      the error's name ("ETXTBSY", or "E<number>" for a rare
 *                one) when the operation failed, else null -- null rather
 *                than absent so that every line has the same members
 *     waited_ms  number, or null when the request was not parked
 *     pins       array of {"range": "OFFSET+LENGTH" or "all",
 *                "owner": uid, "holder": pid or null (persistent)};
 *                [] when there are none
 *     process    {"pid", "tgid", "uid", "gid", "comm", "exe", "cmdline"},
 *                or null; members that could not be read are null
 *
 *   and, only when the request met live holders (DESIGN §6: session
 *   pins' holders told of it, killed or revoked by its break), a member
 *   after process:
 *
 *     holders    {"told": [...], "released": [...], "holding": [...],
 *                "killed": [...], "revoked": [...]}, always all five
 *                arrays (possibly []), each of {"pid": N, "comm": "x" or
 *                null when unknown}, and in "killed" also "why": "...".
 *                told: every holder that got a notice; released: those
 *                that released in time; holding: those still holding
 *                when the request ended otherwise (timeout: pins kept);
 *                killed: by break_kill; revoked: not killed, whose pins
 *                the break revoked.  A holder is in told and in at most
 *                one other (one met only at the break may be in killed
 *                or revoked without told).
 *
 *   and, only for a refusal of a request whose effect on pins could not
 *   be told (DESIGN §11: out of descriptors or memory, an unreadable pin
 *   store), or that was refused for a reason other than the policy, a
 *   member after process:
 *
 *     reason     why, in words ("couldn't open the file to check its
 *                pins"); the errno member names the error
 *
 *   and, only when something had to be cut to keep the line within
 *   AUDIT_LINE_MAX (or /proc's text was longer than struct ident holds),
 *   a last member "truncated": true.
 *
 *   Strings are the raw bytes, JSON-escaped by core/jsonesc.h (the one
 *   escape, also rdmafsctl's): `"`, `\` and control bytes
 *   as \", \\, \n, \t, ... or \u00XX, and every byte that is not part of
 *   valid UTF-8 as \u00XX -- i.e. read as Latin-1 by a generic parser,
 *   while the text keeps it apart from the same character spelt in UTF-8
 *   (never escaped), so jesc_restore_bytes() recovers the exact bytes
 *   (rdmafsctl events does); the line is always valid UTF-8 and JSON.
 *
 *   Each line is written with one write() on an O_APPEND descriptor, so
 *   lines from concurrent threads, or from several daemons sharing the
 *   file, never interleave.
 */
#ifndef RDMAFS_AUDIT_H
#define RDMAFS_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/identity.h"

/* Longest JSON line audit_log() writes, newline included. */
#define AUDIT_LINE_MAX 65536
/* Longest syslog line audit_log() sends. */
#define AUDIT_TEXT_MAX 8192

/* What offset and length of an event mean. */
enum audit_range {
	AUDIT_RANGE_SPAN = 0, /* [offset, offset + length) */
	AUDIT_RANGE_NONE, /* the event has no range; both ignored */
	AUDIT_RANGE_ALL, /* the whole file, whatever its size; both ignored */
};

/*
 * What became of a live holder (DESIGN §6) that a request met, as its
 * record says: every told holder is listed under "told", and under one
 * of the others once its fate is known.
 */
enum audit_fate {
	AUDIT_HOLDER_WAITING = 0, /* told; nothing more yet (a "defer") */
	AUDIT_HOLDER_RELEASED, /* released before the end */
	AUDIT_HOLDER_HOLDING, /* still held at the end: its pins were kept */
	AUDIT_HOLDER_KILLED, /* SIGKILLed by break_kill; @why says why */
	AUDIT_HOLDER_REVOKED, /* not killed; its pins revoked by the break */
	AUDIT_NFATES
};

/*
 * The name of the records' group @g of holders, in their order in both
 * formats ("told" in WAITING's slot: every holder told); shared with
 * the readers of the trail (rdmafsctl events).
 */
static inline const char *audit_holder_group(unsigned int g)
{
	static const char *const names[AUDIT_NFATES] = {
		[AUDIT_HOLDER_WAITING] = "told",
		[AUDIT_HOLDER_RELEASED] = "released",
		[AUDIT_HOLDER_HOLDING] = "holding",
		[AUDIT_HOLDER_KILLED] = "killed",
		[AUDIT_HOLDER_REVOKED] = "revoked",
	};

	return g < AUDIT_NFATES ? names[g] : "?";
}

/* One live holder an event met (a session's owner). */
struct audit_holder {
	uint64_t sess; /* the daemon's session id: not recorded */
	int32_t pid;
	uint32_t uid; /* not recorded */
	char comm[16]; /* NUL-terminated; empty: not known */
	bool told; /* a notice was sent to it */
	enum audit_fate fate;
	const char *why; /* KILLED: why, in words; else ignored */
};

/* One pin an event met (or made, or removed). */
struct audit_pin {
	uint64_t off;
	uint64_t len;
	bool all;
	uint32_t owner; /* uid */
	/*
	 * pid of a live holder; 0 or negative for a persistent pin, so both
	 * struct pin's 0 and -1 read as persistent.
	 */
	int32_t holder;
};

struct audit_event {
	int64_t time_ns; /* CLOCK_REALTIME nanoseconds; 0: now */
	const char *event;
	const char *op;
	const char *path; /* relative to the mount; NULL: none */
	enum audit_range range;
	uint64_t offset;
	uint64_t length;
	/* 0, or the error the operation got, as ETXTBSY or -ETXTBSY */
	int err;
	int64_t waited_ms; /* negative: not parked */
	const struct audit_pin *pins;
	size_t npins;
	const struct ident *process; /* NULL: none (e.g. the daemon) */
	const char *reason; /* NULL: none; see above */
	const struct audit_holder *holders; /* NULL: none */
	size_t nholders;
};

/* Flags for audit_open(). */
enum {
	AUDIT_NO_SYSLOG = 1 << 0, /* only the JSON file (tests, tools) */
	AUDIT_STDERR = 1 << 1, /* also the syslog line on stderr (-f -d) */
};

struct audit;

/*
 * Starts an audit trail: syslog, or journald where it runs (unless
 * AUDIT_NO_SYSLOG; see core/audit_journal.h), and, when @path
 * is not NULL, the JSON Lines file @path, created with mode 0640 (less
 * the umask) if missing and appended to (O_APPEND).  @path's last
 * component must not be a symbolic link (ELOOP: it is not followed) and
 * must be a regular file (EINVAL otherwise; a FIFO without a reader is
 * ENXIO, never a hang), of the caller's euid, with one link and not
 * writable by group or others (EPERM otherwise); every directory above it
 * must be root's or the euid's and not writable by group or others
 * unless sticky (EACCES otherwise, see audit_unsafe_dir()).  A relative @path is taken relative to the
 * current directory now, once, so that audit_reopen() still finds it
 * after the daemon has changed directory.  Returns NULL with errno set
 * when the file cannot be opened.  Starts no thread, so the daemon opens
 * it before fuse_daemonize() forks.
 *
 * openlog() is process-wide: the daemon's own syslog messages then also
 * carry the ident "rdmafs" and the pid.
 */
struct audit *audit_open(const char *path, int flags);

/*
 * 0 when every directory above @path is safe for the log (see
 * audit_open()); -EACCES with the first that is not in @bad (may be
 * NULL), or -errno when one cannot be examined.
 */
int audit_unsafe_dir(const char *path, char *bad, size_t size);

/*
 * Records @ev in every sink.  Safe to call from any number of threads.
 * Returns 0, or -errno when the JSON line could not be written (syslog
 * reports no failures).  A NULL @a records nothing and returns 0, so
 * callers need not check whether auditing is on.
 */
int audit_log(struct audit *a, const struct audit_event *ev);

/*
 * Opens the JSON file's path again and writes there from now on: after
 * logrotate has moved the file away (the daemon's SIGHUP).  Not
 * async-signal-safe: call it from a thread, not a signal handler.
 * Returns 0, or -errno and keeps writing to the old file; 0 without a
 * file.
 */
int audit_reopen(struct audit *a);

/* Closes the file and syslog and frees @a; NULL is fine. */
void audit_close(struct audit *a);

/*
 * Formats @ev as one JSON object, without a newline, NUL-terminated, into
 * @buf of @size bytes.  Nothing is cut here.  Returns the length without
 * the NUL, or -ENOSPC when it does not fit.  The time is @ev->time_ns, or
 * now when that is 0.
 */
int audit_format_json(const struct audit_event *ev, char *buf, size_t size);

/* The same for the syslog line. */
int audit_format_text(const struct audit_event *ev, char *buf, size_t size);

/*
 * The name of error @err (either sign), e.g. "ETXTBSY"; for an error
 * without a name here, "E<number>" written into @buf of @size bytes
 * (16 always do).  Our own table rather than strerrorname_np(), which
 * only glibc has.
 */
const char *audit_errname(int err, char *buf, size_t size);

#endif
