// SPDX-License-Identifier: GPL-2.0-or-later
/* The notice record; see proto_notice.h for the layout and the rules. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "core/proto_notice.h"

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const unsigned char *p)
{
	return get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t get64(const unsigned char *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* The rules of the header, shared by both directions. */
static bool valid(const struct proto_notice *n, bool strict_padding)
{
	const char *comm = n->comm;
	const char *nul = memchr(comm, '\0', PROTO_NOTICE_COMM);
	size_t i;

	if (!nul)
		return false;
	if (strict_padding)
		for (i = (size_t)(nul - comm); i < PROTO_NOTICE_COMM; i++)
			if (comm[i])
				return false;
	if (n->flags & ~PROTO_NOTICE_LOST)
		return false;
	if (n->flags & PROTO_NOTICE_LOST)
		return n->hold == 0 && n->cls == 0 && n->off == 0 &&
		       n->len == 0 && n->pid == 0 && n->uid == 0 &&
		       comm[0] == '\0' && n->deadline_sec == 0 &&
		       n->deadline_nsec == 0;
	if (n->cls >= PROTO_NOTICE_NCLASSES || n->pid < 0 || n->len == 0)
		return false;
	if (n->len == PROTO_NOTICE_WHOLE ? n->off != 0
					 : n->off > UINT64_MAX - n->len)
		return false;
	return n->deadline_sec >= 0 && n->deadline_nsec < 1000000000u;
}

int proto_notice_encode(const struct proto_notice *n, void *buf, size_t size)
{
	unsigned char *p = buf;
	size_t clen;

	if (size < PROTO_NOTICE_SIZE)
		return -ENOSPC;
	if (!valid(n, false))
		return -EINVAL;
	memset(p, 0, PROTO_NOTICE_SIZE);
	put32(p, PROTO_NOTICE_MAGIC);
	put16(p + 4, PROTO_NOTICE_VERSION);
	put16(p + 6, PROTO_NOTICE_SIZE);
	put64(p + 8, n->hold);
	put32(p + 16, n->cls);
	put32(p + 20, n->flags);
	put64(p + 24, n->off);
	put64(p + 32, n->len);
	put32(p + 40, (uint32_t)n->pid);
	put32(p + 44, n->uid);
	/* Up to the NUL only: no stale bytes of the sender's leak out. */
	clen = strnlen(n->comm, PROTO_NOTICE_COMM);
	memcpy(p + 48, n->comm, clen);
	put64(p + 64, (uint64_t)n->deadline_sec);
	put32(p + 72, n->deadline_nsec);
	return PROTO_NOTICE_SIZE;
}

int proto_notice_decode(const void *buf, size_t size, struct proto_notice *n)
{
	const unsigned char *p = buf;
	struct proto_notice d;

	if (size < 8 || get32(p) != PROTO_NOTICE_MAGIC)
		return -EPROTO;
	if (get16(p + 4) != PROTO_NOTICE_VERSION)
		return -EPROTONOSUPPORT;
	if (get16(p + 6) != PROTO_NOTICE_SIZE || size != PROTO_NOTICE_SIZE)
		return -EPROTO;
	memset(&d, 0, sizeof(d));
	d.hold = get64(p + 8);
	d.cls = get32(p + 16);
	d.flags = get32(p + 20);
	d.off = get64(p + 24);
	d.len = get64(p + 32);
	d.pid = (int32_t)get32(p + 40);
	d.uid = get32(p + 44);
	memcpy(d.comm, p + 48, PROTO_NOTICE_COMM);
	d.deadline_sec = (int64_t)get64(p + 64);
	d.deadline_nsec = get32(p + 72);
	if (get32(p + 76) != 0 || !valid(&d, true))
		return -EPROTO;
	*n = d;
	return 0;
}
