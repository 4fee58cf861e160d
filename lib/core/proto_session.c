// SPDX-License-Identifier: LGPL-2.1-or-later
/* The session channel's messages; see proto_session.h for the layout. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "core/le.h"
#include "core/proto_notice.h"
#include "core/proto_session.h"

/* The size of each type's message; 0: no such type. */
static size_t type_size(uint32_t type)
{
	switch (type) {
	case PROTO_SESS_HELLO:
	case PROTO_SESS_HOLD:
		return 48;
	case PROTO_SESS_RELEASE:
	case PROTO_SESS_REPLY:
		return 32;
	default:
		return 0;
	}
}

/* The rules of proto_session.h that are not about the layout itself. */
static bool valid(const struct proto_sess_msg *m)
{
	switch (m->type) {
	case PROTO_SESS_HELLO:
		return m->sess > 0 && m->daemon_pid > 0 && m->holder_pid > 0;
	case PROTO_SESS_HOLD:
		if (!m->seq || !m->len)
			return false;
		return m->len == PROTO_NOTICE_WHOLE
			       ? m->off == 0
			       : m->off <= UINT64_MAX - m->len;
	case PROTO_SESS_RELEASE:
		return m->seq > 0 && m->hold > 0;
	case PROTO_SESS_REPLY:
		/* an errno is below 4096; a hold exists only on success */
		return m->seq > 0 && m->status <= 0 && m->status > -4096 &&
		       (m->status == 0 || m->hold == 0);
	default:
		return false;
	}
}

int proto_sess_encode(const struct proto_sess_msg *m, void *buf, size_t size)
{
	size_t n = type_size(m->type);
	unsigned char *p = buf;

	if (!n || !valid(m))
		return -EINVAL;
	if (size < n)
		return -ENOSPC;
	memset(p, 0, n);
	le_put32(p, PROTO_SESS_MAGIC);
	le_put16(p + 4, PROTO_SESS_VERSION);
	le_put16(p + 6, (uint16_t)n);
	le_put32(p + 8, m->type);
	le_put32(p + 12, (uint32_t)m->status);
	switch (m->type) {
	case PROTO_SESS_HELLO:
		le_put64(p + 16, m->sess);
		le_put32(p + 24, (uint32_t)m->daemon_pid);
		le_put32(p + 28, (uint32_t)m->holder_pid);
		le_put32(p + 32, m->dev_major);
		le_put32(p + 36, m->dev_minor);
		le_put32(p + 40, m->break_timeout);
		break;
	case PROTO_SESS_HOLD:
		le_put64(p + 16, m->seq);
		le_put64(p + 24, m->off);
		le_put64(p + 32, m->len);
		break;
	default: /* RELEASE, REPLY */
		le_put64(p + 16, m->seq);
		le_put64(p + 24, m->hold);
		break;
	}
	return (int)n;
}

int proto_sess_kind(const void *buf, size_t size)
{
	const unsigned char *p = buf;

	if (size < 8)
		return -EPROTO;
	if (le_get32(p) == PROTO_SESS_MAGIC)
		return PROTO_SESS_KIND_MSG;
	if (le_get32(p) == PROTO_NOTICE_MAGIC)
		return PROTO_SESS_KIND_NOTICE;
	return -EPROTO;
}

int proto_sess_decode(const void *buf, size_t size, struct proto_sess_msg *m)
{
	const unsigned char *p = buf;
	struct proto_sess_msg d;
	size_t n;

	if (size < PROTO_SESS_HDR || le_get32(p) != PROTO_SESS_MAGIC)
		return -EPROTO;
	if (le_get16(p + 4) != PROTO_SESS_VERSION)
		return -EPROTONOSUPPORT;
	memset(&d, 0, sizeof(d));
	d.type = le_get32(p + 8);
	n = type_size(d.type);
	if (!n || le_get16(p + 6) != n || size != n)
		return -EPROTO;
	d.status = (int32_t)le_get32(p + 12);
	if (d.status && d.type != PROTO_SESS_REPLY)
		return -EPROTO;
	switch (d.type) {
	case PROTO_SESS_HELLO:
		d.sess = le_get64(p + 16);
		d.daemon_pid = (int32_t)le_get32(p + 24);
		d.holder_pid = (int32_t)le_get32(p + 28);
		d.dev_major = le_get32(p + 32);
		d.dev_minor = le_get32(p + 36);
		d.break_timeout = le_get32(p + 40);
		if (le_get32(p + 44))
			return -EPROTO;
		break;
	case PROTO_SESS_HOLD:
		d.seq = le_get64(p + 16);
		d.off = le_get64(p + 24);
		d.len = le_get64(p + 32);
		if (le_get32(p + 40) || le_get32(p + 44))
			return -EPROTO;
		break;
	default:
		d.seq = le_get64(p + 16);
		d.hold = le_get64(p + 24);
		break;
	}
	if (!valid(&d))
		return -EPROTO;
	*m = d;
	return 0;
}

int proto_sess_addr_format(const char *path, char *buf, size_t size)
{
	struct sockaddr_un sa;

	if (!path || path[0] != '/' || strchr(path, '\n') ||
	    strlen(path) >= sizeof(sa.sun_path))
		return -EINVAL;
	return snprintf(buf, size, "%d %s\n", PROTO_SESS_ADDR_VERSION, path);
}

int proto_sess_addr_parse(const char *value, size_t len, char *path,
			  size_t size)
{
	struct sockaddr_un sa;
	size_t i, plen;

	/* "N PATH\n": the version first, so that a new one is told apart */
	for (i = 0; i < len && value[i] >= '0' && value[i] <= '9'; i++)
		;
	if (i == 0 || i > 4 || i >= len || value[i] != ' ')
		return -EPROTO;
	if (i != 1 || value[0] != '0' + PROTO_SESS_ADDR_VERSION)
		return -EPROTONOSUPPORT;
	value += 2;
	len -= 2;
	if (!len || value[len - 1] != '\n')
		return -EPROTO;
	plen = len - 1;
	if (!plen || value[0] != '/' || plen >= sizeof(sa.sun_path) ||
	    plen >= size || memchr(value, '\0', plen) ||
	    memchr(value, '\n', plen))
		return -EPROTO;
	memcpy(path, value, plen);
	path[plen] = '\0';
	return 0;
}
