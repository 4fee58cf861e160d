/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The wire formats between the daemon and its clients (librdmafs,
 * rdmafsctl), defined once: the names of the control xattrs, their
 * limits, the listing as the daemon writes it (proto_format.h) and as it
 * is read back (proto_parse.h), the path escape (pathesc.h) and the
 * notice record of the session channel (proto_notice.h).  doc/pins.md
 * describes them for people.
 */
#ifndef RDMAFS_PROTO_H
#define RDMAFS_PROTO_H

/* The control xattrs of DESIGN §4: virtual, never stored under these names. */
#define PROTO_PREFIX "user.rdmafs."
#define PROTO_PIN PROTO_PREFIX "pin"
#define PROTO_UNPIN PROTO_PREFIX "unpin"
/* The mount-wide listing; page N > 0 is PROTO_PINS ".N". */
#define PROTO_PINS PROTO_PREFIX "pins"
#define PROTO_STATUS PROTO_PREFIX "status"
/* A listing page that has a successor ends with the line PROTO_MORE " NAME". */
#define PROTO_MORE "#more"

/* rdmafs's own names in the backing inode: never shown, never writable. */
#define PROTO_HIDDEN_PREFIX "trusted.rdmafs."
/* The stored pins of a file (pinstore.h holds the record format). */
#define PROTO_STORE PROTO_HIDDEN_PREFIX "pins"

/* Ranges in one user.rdmafs.pin value; more is EINVAL (nothing pinned). */
#define PROTO_PIN_RANGES_MAX 64

/* The most an xattr value can hold (XATTR_SIZE_MAX). */
#define PROTO_VALUE_MAX (64 * 1024)
/*
 * One pin lists in at most ~110 bytes; 512 of them fit PROTO_VALUE_MAX,
 * so a file's pins are always read in one getxattr.
 */
#define PROTO_FILE_PINS_MAX 512
/* Longest `since` kept: RFC 3339 with nanoseconds and an offset is 35. */
#define PROTO_SINCE_MAX 48

#endif
