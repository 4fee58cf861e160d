/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The on-disk form of a file's persistent pins, stored as one xattr value
 * of the backing inode.  One setxattr replaces the value whole, so a crash
 * leaves the old set or the new one; the checksum catches a value that
 * was changed behind the daemon's back.
 *
 * Layout, little-endian: magic "RDPN", u16 version (1), u16 record size
 * (32), u32 count, u32 CRC-32 of the records; then per pin: u64 offset,
 * u64 length, u32 owner, u32 flags (bit 0: all), s64 since (ns).
 */
#ifndef RDMAFS_PINSTORE_H
#define RDMAFS_PINSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/pinset.h"
#include "core/proto.h"

#define PSTORE_HDR 16
#define PSTORE_REC 32

/* Bytes needed for @n pins. */
static inline size_t pstore_size(size_t n)
{
	return PSTORE_HDR + n * PSTORE_REC;
}

/*
 * Writes the persistent pins (holder 0) of @s into @buf.  Returns the
 * length, 0 when there are none, or -ENOSPC when @size is too small.
 */
ssize_t pstore_encode(const struct pset *s, void *buf, size_t size);

/*
 * Calls @fn for each pin stored in @buf (holder 0, id 0).  Returns 0,
 * -EUCLEAN for a value that is not a valid pin record (bad magic,
 * version, length or checksum), or what @fn returned to stop.
 */
int pstore_decode(const void *buf, size_t len, pset_visit_fn fn, void *arg);

#endif
