// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target: what a peer on the session channel can send
 * (lib/core/proto_session.c, proto_notice.c): a packet as the daemon or
 * the client receives it, and the socket address a mount publishes.
 *
 * Invariants beyond "no crash": only the documented errors come back; a
 * packet that decodes encodes back to exactly the same bytes (so nothing
 * a decoder accepts is ambiguous or carries ignored bits); its kind
 * agrees with which decoder takes it; a parsed address is absolute,
 * NUL-free, fits sun_path and formats back to the value.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "core/proto_notice.h"
#include "core/proto_session.h"

static void check_msg(const uint8_t *data, size_t size)
{
	unsigned char back[PROTO_SESS_MAX];
	struct proto_sess_msg m;
	int err = proto_sess_decode(data, size, &m);
	int n;

	FZ_CHECK(err == 0 || err == -EPROTO || err == -EPROTONOSUPPORT);
	if (err)
		return;
	FZ_CHECK(proto_sess_kind(data, size) == PROTO_SESS_KIND_MSG);
	n = proto_sess_encode(&m, back, sizeof(back));
	FZ_CHECK(n > 0 && (size_t)n == size);
	FZ_CHECK(memcmp(back, data, size) == 0);
}

static void check_notice(const uint8_t *data, size_t size)
{
	unsigned char back[PROTO_SESS_MAX];
	struct proto_notice n;
	int err = proto_notice_decode(data, size, &n);

	FZ_CHECK(err == 0 || err == -EPROTO || err == -EPROTONOSUPPORT);
	if (err)
		return;
	FZ_CHECK(proto_sess_kind(data, size) == PROTO_SESS_KIND_NOTICE);
	FZ_CHECK(proto_notice_encode(&n, back, sizeof(back)) ==
		 PROTO_NOTICE_SIZE);
	FZ_CHECK(size == PROTO_NOTICE_SIZE);
	FZ_CHECK(memcmp(back, data, size) == 0);
}

static void check_addr(const uint8_t *data, size_t size)
{
	char path[108], again[256];
	int err = proto_sess_addr_parse((const char *)data, size, path,
					sizeof(path));
	int n;

	FZ_CHECK(err == 0 || err == -EPROTO || err == -EPROTONOSUPPORT);
	if (err)
		return;
	FZ_CHECK(path[0] == '/' && strlen(path) < sizeof(path));
	n = proto_sess_addr_format(path, again, sizeof(again));
	FZ_CHECK(n > 0 && (size_t)n == size);
	FZ_CHECK(memcmp(again, data, size) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int kind = proto_sess_kind(data, size);

	FZ_CHECK(kind == PROTO_SESS_KIND_MSG ||
		 kind == PROTO_SESS_KIND_NOTICE || kind == -EPROTO);
	check_msg(data, size);
	check_notice(data, size);
	check_addr(data, size);
	return 0;
}
