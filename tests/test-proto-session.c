// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for the session channel's messages and address
 * (lib/core/proto_session.c): the bytes of each type, round trips, and
 * that a decoder trusts nothing a hostile peer may send.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/proto_notice.h"
#include "core/proto_session.h"

static const struct proto_sess_msg samples[] = {
	{ .type = PROTO_SESS_HELLO,
	  .sess = 7,
	  .daemon_pid = 100,
	  .holder_pid = 200,
	  .dev_major = 0,
	  .dev_minor = 45,
	  .break_timeout = 45 },
	{ .type = PROTO_SESS_HOLD, .seq = 1, .off = 0x1000, .len = 0x200000 },
	{ .type = PROTO_SESS_HOLD,
	  .seq = 2,
	  .off = 0,
	  .len = PROTO_NOTICE_WHOLE },
	{ .type = PROTO_SESS_RELEASE, .seq = 3, .hold = 9 },
	{ .type = PROTO_SESS_REPLY, .seq = 1, .hold = 9 },
	{ .type = PROTO_SESS_REPLY, .seq = 4, .status = -EBADF },
};

START_TEST(test_round_trip)
{
	const struct proto_sess_msg *m = &samples[_i];
	unsigned char buf[PROTO_SESS_MAX];
	struct proto_sess_msg d;
	int n = proto_sess_encode(m, buf, sizeof(buf));

	ck_assert_int_gt(n, 0);
	ck_assert_int_le(n, PROTO_SESS_MAX);
	ck_assert_int_eq(proto_sess_kind(buf, (size_t)n), PROTO_SESS_KIND_MSG);
	ck_assert_int_eq(proto_sess_decode(buf, (size_t)n, &d), 0);
	ck_assert_int_eq(memcmp(&d, m, sizeof(d)), 0);
	/* one byte short or long is not the message */
	ck_assert_int_eq(proto_sess_decode(buf, (size_t)n - 1, &d), -EPROTO);
	ck_assert_int_eq(proto_sess_encode(m, buf, (size_t)n - 1), -ENOSPC);
}
END_TEST

START_TEST(test_bytes)
{
	unsigned char buf[PROTO_SESS_MAX];
	static const unsigned char head[] = {
		'R', 'F', 'S', 'M', 1, 0, 48, 0, 2, 0,	  0, 0, 0, 0, 0, 0,
		1,   0,	  0,   0,   0, 0, 0,  0, 0, 0x10, 0, 0, 0, 0, 0, 0
	};

	ck_assert_int_eq(proto_sess_encode(&samples[1], buf, sizeof(buf)), 48);
	ck_assert_int_eq(memcmp(buf, head, sizeof(head)), 0);
}
END_TEST

START_TEST(test_decode_refuses)
{
	unsigned char buf[PROTO_SESS_MAX], bad[PROTO_SESS_MAX];
	struct proto_sess_msg d;
	int n;

	n = proto_sess_encode(&samples[1], buf, sizeof(buf));
	ck_assert_int_eq(n, 48);
	memcpy(bad, buf, 48);
	bad[0] = 'X'; /* magic */
	ck_assert_int_eq(proto_sess_decode(bad, 48, &d), -EPROTO);
	ck_assert_int_eq(proto_sess_kind(bad, 48), -EPROTO);
	memcpy(bad, buf, 48);
	bad[4] = 2; /* version */
	ck_assert_int_eq(proto_sess_decode(bad, 48, &d), -EPROTONOSUPPORT);
	memcpy(bad, buf, 48);
	bad[8] = 9; /* type */
	ck_assert_int_eq(proto_sess_decode(bad, 48, &d), -EPROTO);
	memcpy(bad, buf, 48);
	bad[12] = 0xff; /* a status in a request */
	ck_assert_int_eq(proto_sess_decode(bad, 48, &d), -EPROTO);
	memcpy(bad, buf, 48);
	bad[40] = 1; /* flags */
	ck_assert_int_eq(proto_sess_decode(bad, 48, &d), -EPROTO);
	memcpy(bad, buf, 48);
	bad[44] = 1; /* reserved */
	ck_assert_int_eq(proto_sess_decode(bad, 48, &d), -EPROTO);
	memcpy(bad, buf, 48);
	memset(bad + 16, 0, 8); /* sequence 0 */
	ck_assert_int_eq(proto_sess_decode(bad, 48, &d), -EPROTO);
	memcpy(bad, buf, 48);
	memset(bad + 32, 0, 8); /* empty range */
	ck_assert_int_eq(proto_sess_decode(bad, 48, &d), -EPROTO);
	memcpy(bad, buf, 48);
	memset(bad + 24, 0xff, 8); /* offset + length overflows */
	ck_assert_int_eq(proto_sess_decode(bad, 48, &d), -EPROTO);
	memcpy(bad, buf, 48);
	bad[6] = 32; /* size field not the type's */
	ck_assert_int_eq(proto_sess_decode(bad, 48, &d), -EPROTO);
	ck_assert_int_eq(proto_sess_decode(buf, 0, &d), -EPROTO);
	ck_assert_int_eq(proto_sess_decode(buf, 7, &d), -EPROTO);
}
END_TEST

START_TEST(test_encode_refuses)
{
	unsigned char buf[PROTO_SESS_MAX];
	struct proto_sess_msg m = {
		.type = PROTO_SESS_REPLY, .seq = 1, .status = -EBADF, .hold = 3
	};

	ck_assert_int_eq(proto_sess_encode(&m, buf, sizeof(buf)), -EINVAL);
	m = (struct proto_sess_msg){ .type = PROTO_SESS_REPLY,
				     .seq = 1,
				     .status = 5 };
	ck_assert_int_eq(proto_sess_encode(&m, buf, sizeof(buf)), -EINVAL);
	m = (struct proto_sess_msg){ .type = 99, .seq = 1 };
	ck_assert_int_eq(proto_sess_encode(&m, buf, sizeof(buf)), -EINVAL);
	m = (struct proto_sess_msg){ .type = PROTO_SESS_RELEASE, .seq = 1 };
	ck_assert_int_eq(proto_sess_encode(&m, buf, sizeof(buf)), -EINVAL);
	m = (struct proto_sess_msg){ .type = PROTO_SESS_HOLD,
				     .seq = 1,
				     .off = 1,
				     .len = PROTO_NOTICE_WHOLE };
	ck_assert_int_eq(proto_sess_encode(&m, buf, sizeof(buf)), -EINVAL);
}
END_TEST

START_TEST(test_notice_kind)
{
	struct proto_notice n = { .flags = PROTO_NOTICE_LOST };
	unsigned char buf[PROTO_SESS_MAX];

	ck_assert_int_eq(proto_notice_encode(&n, buf, sizeof(buf)),
			 PROTO_NOTICE_SIZE);
	ck_assert_int_eq(proto_sess_kind(buf, PROTO_NOTICE_SIZE),
			 PROTO_SESS_KIND_NOTICE);
	ck_assert_int_le(PROTO_NOTICE_SIZE, PROTO_SESS_MAX);
}
END_TEST

START_TEST(test_address)
{
	char buf[256], path[109];
	int n = proto_sess_addr_format("/run/rdmafs/0:45.sock", buf,
				       sizeof(buf));

	ck_assert_str_eq(buf, "1 /run/rdmafs/0:45.sock\n");
	ck_assert_int_eq(
		proto_sess_addr_parse(buf, (size_t)n, path, sizeof(path)), 0);
	ck_assert_str_eq(path, "/run/rdmafs/0:45.sock");
	ck_assert_int_eq(proto_sess_addr_format("run/x", buf, sizeof(buf)),
			 -EINVAL);
	memset(path, 'a', sizeof(path));
	path[0] = '/';
	path[108] = '\0';
	ck_assert_int_eq(proto_sess_addr_format(path, buf, sizeof(buf)),
			 -EINVAL);
	ck_assert_int_eq(proto_sess_addr_parse("2 /x\n", 5, path, 108),
			 -EPROTONOSUPPORT);
	ck_assert_int_eq(proto_sess_addr_parse("1 /x", 4, path, 108), -EPROTO);
	ck_assert_int_eq(proto_sess_addr_parse("1 x\n", 4, path, 108), -EPROTO);
	ck_assert_int_eq(proto_sess_addr_parse("1 /\0x\n", 6, path, 108),
			 -EPROTO);
	ck_assert_int_eq(proto_sess_addr_parse("1 \n", 3, path, 108), -EPROTO);
	ck_assert_int_eq(proto_sess_addr_parse("", 0, path, 108), -EPROTO);
	ck_assert_int_eq(proto_sess_addr_parse("1/x\n", 4, path, 108), -EPROTO);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proto-session");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_round_trip, 0,
			    sizeof(samples) / sizeof(samples[0]));
	tcase_add_test(tc, test_bytes);
	tcase_add_test(tc, test_decode_refuses);
	tcase_add_test(tc, test_encode_refuses);
	tcase_add_test(tc, test_notice_kind);
	tcase_add_test(tc, test_address);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
