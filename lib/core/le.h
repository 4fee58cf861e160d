/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Little-endian fields of the binary records the daemon and its clients
 * exchange (proto_notice.c, proto_session.c): byte by byte, so that
 * neither the host's byte order nor its alignment matters.
 */
#ifndef RDMAFS_LE_H
#define RDMAFS_LE_H

#include <stdint.h>

static inline void le_put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static inline void le_put32(unsigned char *p, uint32_t v)
{
	le_put16(p, (uint16_t)v);
	le_put16(p + 2, (uint16_t)(v >> 16));
}

static inline void le_put64(unsigned char *p, uint64_t v)
{
	le_put32(p, (uint32_t)v);
	le_put32(p + 4, (uint32_t)(v >> 32));
}

static inline uint16_t le_get16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t le_get32(const unsigned char *p)
{
	return le_get16(p) | (uint32_t)le_get16(p + 2) << 16;
}

static inline uint64_t le_get64(const unsigned char *p)
{
	return le_get32(p) | (uint64_t)le_get32(p + 4) << 32;
}

#endif
