/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The session channel of DESIGN §6, defined once for the daemon
 * (fs/session.c) and librdmafs (lib/client/session.c); doc/session.md
 * describes it for people.
 *
 * Finding it.  The mount root's virtual xattr PROTO_SESSION
 * ("user.rdmafs.session") reads "1 PATH\n": the protocol version and the
 * absolute path of the daemon's AF_UNIX SOCK_SEQPACKET socket.  The
 * client connects there and the daemon speaks first (HELLO).  The
 * holder's identity is the kernel's (SO_PEERCRED, a pidfd, and each
 * message's SCM_CREDENTIALS), never a claim in a message.
 *
 * Records.  One message per packet, little-endian, fixed size per type,
 * versioned, and checked field by field before use: the two ends may be
 * of different rdmafs versions and either may be hostile.  A packet is a
 * message (magic "RFSM", below) or a notice (magic "RFSN",
 * proto_notice.h).
 *
 *   header (PROTO_SESS_HDR bytes)
 *     off size field
 *       0   4  magic PROTO_SESS_MAGIC ("RFSM")
 *       4   2  version PROTO_SESS_VERSION (1)
 *       6   2  size of the whole message (the type's, below)
 *       8   4  type
 *      12   4  status: 0, or -errno in a REPLY; 0 otherwise
 *
 *   HELLO (daemon -> client, first packet; 48 bytes)
 *      16   8  session id (> 0)
 *      24   4  daemon's pid (> 0)
 *      28   4  holder's pid: the session's owner, as the kernel told
 *      32   4  FUSE device major   } st_dev of files in the mount: the
 *      36   4  FUSE device minor   } client checks it is its mount's
 *      40   4  break timeout, seconds
 *      44   4  flags, 0
 *
 *   HOLD (client -> daemon, with one descriptor in SCM_RIGHTS; 48 bytes)
 *      16   8  sequence number (> 0), echoed in the REPLY
 *      24   8  offset
 *      32   8  length (>= 1), or PROTO_NOTICE_WHOLE (offset then 0): `all`
 *      40   4  flags, 0
 *      44   4  reserved, 0
 *
 *   RELEASE (client -> daemon; 32 bytes)
 *      16   8  sequence number (> 0)
 *      24   8  hold id (> 0)
 *
 *   REPLY (daemon -> client; 32 bytes)
 *      12   4  status: 0 or -errno
 *      16   8  the request's sequence number
 *      24   8  HOLD: the new hold's id (> 0 when status is 0); else 0
 */
#ifndef RDMAFS_PROTO_SESSION_H
#define RDMAFS_PROTO_SESSION_H

#include <stddef.h>
#include <stdint.h>

#define PROTO_SESSION "user.rdmafs.session"
#define PROTO_SESS_ADDR_VERSION 1

#define PROTO_SESS_MAGIC 0x4d534652u /* "RFSM" in memory order */
#define PROTO_SESS_VERSION 1
#define PROTO_SESS_HDR 16
/* The largest packet either end sends (a notice): a receive buffer. */
#define PROTO_SESS_MAX 128

enum proto_sess_type {
	PROTO_SESS_HELLO = 1,
	PROTO_SESS_HOLD = 2,
	PROTO_SESS_RELEASE = 3,
	PROTO_SESS_REPLY = 4,
};

/* One message; the fields a type does not carry are 0. */
struct proto_sess_msg {
	uint32_t type;
	int32_t status; /* REPLY */
	uint64_t seq; /* HOLD, RELEASE, REPLY */
	uint64_t hold; /* RELEASE, REPLY */
	uint64_t off, len; /* HOLD; len PROTO_NOTICE_WHOLE: all */
	uint64_t sess; /* HELLO */
	int32_t daemon_pid, holder_pid; /* HELLO */
	uint32_t dev_major, dev_minor; /* HELLO */
	uint32_t break_timeout; /* HELLO */
};

/* What a packet is. */
enum proto_sess_kind {
	PROTO_SESS_KIND_MSG = 1, /* decode with proto_sess_decode() */
	PROTO_SESS_KIND_NOTICE = 2, /* decode with proto_notice_decode() */
};

/*
 * Encodes @m into @buf of @size bytes.  Returns the message's size, or
 * -ENOSPC when @size is smaller, -EINVAL when @m would not decode.
 */
int proto_sess_encode(const struct proto_sess_msg *m, void *buf, size_t size);

/*
 * Decodes the packet of @size bytes at @buf.  Returns 0, -EPROTO for one
 * that breaks a rule above (magic, size for its type, an unknown type, a
 * reserved field or flag set, an empty or overflowing range, a zero
 * sequence number or id, a status out of range), or -EPROTONOSUPPORT for
 * another version.  @m is untouched on error.
 */
int proto_sess_decode(const void *buf, size_t size, struct proto_sess_msg *m);

/* The kind of the packet at @buf, or -EPROTO when it is neither. */
int proto_sess_kind(const void *buf, size_t size);

/*
 * The value of PROTO_SESSION for the socket at @path: "1 PATH\n".
 * Returns its length (as snprintf), or -EINVAL for a path that is not
 * absolute, holds a newline, or does not fit a sockaddr_un.
 */
int proto_sess_addr_format(const char *path, char *buf, size_t size);
/*
 * Reads a PROTO_SESSION value of @len bytes (not NUL-terminated) into
 * @path (at least 108 bytes: sun_path).  Returns 0, -EPROTONOSUPPORT for
 * another version, or -EPROTO for anything malformed.
 */
int proto_sess_addr_parse(const char *value, size_t len, char *path,
			  size_t size);

#endif
