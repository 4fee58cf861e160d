// SPDX-License-Identifier: LGPL-2.1-or-later
/* The notice record; see proto_notice.h for the layout and the rules. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "core/le.h"
#include "core/proto_notice.h"

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
	if (n->flags & ~(PROTO_NOTICE_LOST | PROTO_NOTICE_REVOKED))
		return false;
	if ((n->flags & PROTO_NOTICE_LOST) && (n->flags & PROTO_NOTICE_REVOKED))
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
	le_put32(p, PROTO_NOTICE_MAGIC);
	le_put16(p + 4, PROTO_NOTICE_VERSION);
	le_put16(p + 6, PROTO_NOTICE_SIZE);
	le_put64(p + 8, n->hold);
	le_put32(p + 16, n->cls);
	le_put32(p + 20, n->flags);
	le_put64(p + 24, n->off);
	le_put64(p + 32, n->len);
	le_put32(p + 40, (uint32_t)n->pid);
	le_put32(p + 44, n->uid);
	/* Up to the NUL only: no stale bytes of the sender's leak out. */
	clen = strnlen(n->comm, PROTO_NOTICE_COMM);
	memcpy(p + 48, n->comm, clen);
	le_put64(p + 64, (uint64_t)n->deadline_sec);
	le_put32(p + 72, n->deadline_nsec);
	return PROTO_NOTICE_SIZE;
}

int proto_notice_decode(const void *buf, size_t size, struct proto_notice *n)
{
	const unsigned char *p = buf;
	struct proto_notice d;

	if (size < 8 || le_get32(p) != PROTO_NOTICE_MAGIC)
		return -EPROTO;
	if (le_get16(p + 4) != PROTO_NOTICE_VERSION)
		return -EPROTONOSUPPORT;
	if (le_get16(p + 6) != PROTO_NOTICE_SIZE || size != PROTO_NOTICE_SIZE)
		return -EPROTO;
	memset(&d, 0, sizeof(d));
	d.hold = le_get64(p + 8);
	d.cls = le_get32(p + 16);
	d.flags = le_get32(p + 20);
	d.off = le_get64(p + 24);
	d.len = le_get64(p + 32);
	d.pid = (int32_t)le_get32(p + 40);
	d.uid = le_get32(p + 44);
	memcpy(d.comm, p + 48, PROTO_NOTICE_COMM);
	d.deadline_sec = (int64_t)le_get64(p + 64);
	d.deadline_nsec = le_get32(p + 72);
	if (le_get32(p + 76) != 0 || !valid(&d, true))
		return -EPROTO;
	*n = d;
	return 0;
}
