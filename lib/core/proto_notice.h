/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The notice record of DESIGN §6: what the daemon tells a session holder
 * when a deferred or breaking operation wants a range under its hold,
 * or that the daemon itself is going away.  It travels over the session
 * channel (the next issue's) between two processes that may be of
 * different rdmafs versions, so it is a fixed-size, versioned,
 * little-endian binary record rather than a C struct, and decoding
 * trusts nothing: every field is checked before the record is used.
 *
 * Layout (PROTO_NOTICE_SIZE bytes, all little-endian):
 *
 *   off size field
 *     0   4  magic PROTO_NOTICE_MAGIC ("RFSN")
 *     4   2  version PROTO_NOTICE_VERSION (1)
 *     6   2  size of the record (80 for version 1)
 *     8   8  hold id (rdmafs_hold_t)
 *    16   4  class: 0 truncate, 1 punch, 2 reflink, 3 unlink (pol_class,
 *            rdmafs_class)
 *    20   4  flags: PROTO_NOTICE_LOST (bit 0), PROTO_NOTICE_REVOKED
 *            (bit 1); other bits 0
 *    24   8  offset of the range wanted
 *    32   8  length (>= 1), or PROTO_NOTICE_WHOLE (offset then 0)
 *    40   4  breaker's pid (>= 0; 0: not known, e.g. the kernel's own)
 *    44   4  breaker's uid
 *    48  16  breaker's comm, NUL-terminated, NUL-padded
 *    64   8  deadline, seconds (CLOCK_REALTIME, >= 0)
 *    72   4  deadline, nanoseconds (< 1000000000)
 *    76   4  reserved, 0
 *
 * A "daemon lost" notice (flags PROTO_NOTICE_LOST) has every other field
 * 0; a client makes it up itself when the channel breaks, and a daemon
 * may send it as it stops.  A "revoked" notice (PROTO_NOTICE_REVOKED)
 * says that hold @hold is gone without its holder's release (a break's
 * timeout, the file's last name removed); its other fields describe the
 * operation that took it, as in an ordinary notice, and its deadline
 * is the moment it happened.
 */
#ifndef RDMAFS_PROTO_NOTICE_H
#define RDMAFS_PROTO_NOTICE_H

#include <stddef.h>
#include <stdint.h>

#define PROTO_NOTICE_MAGIC 0x4e534652u /* "RFSN" in memory order */
#define PROTO_NOTICE_VERSION 1
#define PROTO_NOTICE_SIZE 80
/* The daemon went away: every hold of the session has ended. */
#define PROTO_NOTICE_LOST 0x1u
/* The hold was revoked: it has ended without the holder's release. */
#define PROTO_NOTICE_REVOKED 0x2u
/* A length meaning "the whole file" (`all`, RDMAFS_WHOLE). */
#define PROTO_NOTICE_WHOLE UINT64_MAX
#define PROTO_NOTICE_COMM 16
/* Classes a notice may name: pol_class's, 0 to PROTO_NOTICE_NCLASSES - 1. */
#define PROTO_NOTICE_NCLASSES 4

struct proto_notice {
	uint64_t hold;
	uint32_t cls;
	uint32_t flags;
	uint64_t off, len;
	int32_t pid;
	uint32_t uid;
	char comm[PROTO_NOTICE_COMM]; /* NUL-terminated */
	int64_t deadline_sec;
	uint32_t deadline_nsec;
};

/*
 * Encodes @n into @buf of @size bytes.  Returns PROTO_NOTICE_SIZE, or
 * -ENOSPC when @size is smaller, -EINVAL when @n would not decode (a
 * field out of range, comm not NUL-terminated: never sent, so that the
 * holder never has to reject what the daemon meant).  The bytes of comm
 * after its NUL are sent as zeros.
 */
int proto_notice_encode(const struct proto_notice *n, void *buf, size_t size);

/*
 * Decodes the @size bytes at @buf into @n.  Returns 0, or -EPROTO for a
 * record that is not a notice (wrong magic, size) or breaks a rule above
 * (a class, flag or reserved field out of range, an empty or overflowing
 * range, a comm without its NUL or with bytes after it, a bad deadline,
 * a "lost" notice with other fields set); -EPROTONOSUPPORT for a version
 * this code does not know.  @n is untouched on error.
 */
int proto_notice_decode(const void *buf, size_t size, struct proto_notice *n);

#endif
