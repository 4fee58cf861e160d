// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for the notice record of DESIGN §6
 * (lib/core/proto_notice.c): its bytes, its round trip, and that a
 * decoder trusts nothing.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/proto_notice.h"
#include "rdmafs/rdmafs.h"

static struct proto_notice sample(void)
{
	struct proto_notice n = {
		.hold = 0x0102030405060708ull,
		.cls = 2,
		.off = 0x1000,
		.len = 0x200000,
		.pid = 4242,
		.uid = 1000,
		.comm = "truncate",
		.deadline_sec = 1795599645,
		.deadline_nsec = 123456789,
	};
	return n;
}

START_TEST(test_bytes_little_endian)
{
	struct proto_notice n = sample();
	unsigned char b[PROTO_NOTICE_SIZE + 8];
	static const unsigned char head[] = { 'R', 'F', 'S', 'N', 1, 0, 80, 0,
					      8,   7,	6,   5,	  4, 3, 2,  1 };

	ck_assert_int_eq(PROTO_NOTICE_SIZE, 80);
	memset(b, 0xaa, sizeof(b));
	ck_assert_int_eq(proto_notice_encode(&n, b, sizeof(b)),
			 PROTO_NOTICE_SIZE);
	ck_assert_int_eq(memcmp(b, head, sizeof(head)), 0);
	ck_assert_int_eq(b[16], 2); /* class */
	ck_assert_int_eq(b[25], 0x10); /* offset 0x1000 */
	ck_assert_int_eq(b[34], 0x20); /* length 0x200000 */
	ck_assert_int_eq(b[40], 4242 & 0xff);
	ck_assert_int_eq(b[41], 4242 >> 8);
	ck_assert_int_eq(memcmp(b + 48, "truncate\0\0\0\0\0\0\0\0", 16), 0);
	ck_assert_int_eq(b[72], 123456789 & 0xff);
	ck_assert_int_eq(b[76] | b[77] | b[78] | b[79], 0); /* reserved */
	ck_assert_int_eq(b[80], 0xaa); /* nothing past the record */
}
END_TEST

START_TEST(test_round_trip)
{
	struct proto_notice n = sample(), d;
	unsigned char b[PROTO_NOTICE_SIZE];

	ck_assert_int_eq(proto_notice_encode(&n, b, sizeof(b)), 80);
	memset(&d, 0x55, sizeof(d));
	ck_assert_int_eq(proto_notice_decode(b, sizeof(b), &d), 0);
	ck_assert_int_eq(memcmp(&n, &d, sizeof(n)), 0);

	/* The whole file, a full comm, the far ends of every field. */
	n.off = 0;
	n.len = PROTO_NOTICE_WHOLE;
	memcpy(n.comm, "0123456789abcde", 16);
	n.uid = UINT32_MAX;
	n.pid = INT32_MAX;
	n.hold = UINT64_MAX;
	n.cls = 3;
	n.deadline_sec = INT64_MAX;
	n.deadline_nsec = 999999999;
	ck_assert_int_eq(proto_notice_encode(&n, b, sizeof(b)), 80);
	ck_assert_int_eq(proto_notice_decode(b, sizeof(b), &d), 0);
	ck_assert_int_eq(memcmp(&n, &d, sizeof(n)), 0);

	/* The breaker may be unknown (pid 0, the kernel's own request). */
	n = sample();
	n.pid = 0;
	ck_assert_int_eq(proto_notice_encode(&n, b, sizeof(b)), 80);
	ck_assert_int_eq(proto_notice_decode(b, sizeof(b), &d), 0);
}
END_TEST

START_TEST(test_lost)
{
	struct proto_notice n = { .flags = PROTO_NOTICE_LOST }, d;
	unsigned char b[PROTO_NOTICE_SIZE];

	ck_assert_int_eq(proto_notice_encode(&n, b, sizeof(b)), 80);
	ck_assert_int_eq(proto_notice_decode(b, sizeof(b), &d), 0);
	ck_assert_uint_eq(d.flags, PROTO_NOTICE_LOST);
	ck_assert_str_eq(d.comm, "");
	/* "The other fields are 0" (rdmafs.h): a lost notice with a hold is not. */
	n.hold = 1;
	ck_assert_int_eq(proto_notice_encode(&n, b, sizeof(b)), -EINVAL);
	n = (struct proto_notice){ .flags = PROTO_NOTICE_LOST };
	ck_assert_int_eq(proto_notice_encode(&n, b, sizeof(b)), 80);
	b[8] = 1;
	ck_assert_int_eq(proto_notice_decode(b, sizeof(b), &d), -EPROTO);
}
END_TEST

/* Encode refuses what a decoder would refuse. */
START_TEST(test_encode_refuses)
{
	struct proto_notice n;
	unsigned char b[PROTO_NOTICE_SIZE];

	n = sample();
	ck_assert_int_eq(proto_notice_encode(&n, b, 79), -ENOSPC);
	n.cls = 4;
	ck_assert_int_eq(proto_notice_encode(&n, b, 80), -EINVAL);
	n = sample();
	n.len = 0;
	ck_assert_int_eq(proto_notice_encode(&n, b, 80), -EINVAL);
	n = sample();
	n.off = UINT64_MAX - 10;
	ck_assert_int_eq(proto_notice_encode(&n, b, 80), -EINVAL);
	n = sample();
	n.len = PROTO_NOTICE_WHOLE; /* whole, but with an offset */
	ck_assert_int_eq(proto_notice_encode(&n, b, 80), -EINVAL);
	n = sample();
	memset(n.comm, 'x', 16); /* no NUL */
	ck_assert_int_eq(proto_notice_encode(&n, b, 80), -EINVAL);
	n = sample();
	n.deadline_nsec = 1000000000;
	ck_assert_int_eq(proto_notice_encode(&n, b, 80), -EINVAL);
	n = sample();
	n.deadline_sec = -1;
	ck_assert_int_eq(proto_notice_encode(&n, b, 80), -EINVAL);
	n = sample();
	n.pid = -5;
	ck_assert_int_eq(proto_notice_encode(&n, b, 80), -EINVAL);
	n = sample();
	n.flags = 4;
	ck_assert_int_eq(proto_notice_encode(&n, b, 80), -EINVAL);
	n = sample();
	n.flags = PROTO_NOTICE_LOST | PROTO_NOTICE_REVOKED;
	ck_assert_int_eq(proto_notice_encode(&n, b, 80), -EINVAL);
	/* A revocation names the operation, like a notice. */
	n = sample();
	n.flags = PROTO_NOTICE_REVOKED;
	ck_assert_int_eq(proto_notice_encode(&n, b, 80), 80);
	/* Bytes after comm's NUL are not sent. */
	n = sample();
	memcpy(n.comm, "ab\0secret12345", 15);
	ck_assert_int_eq(proto_notice_encode(&n, b, 80), 80);
	ck_assert_int_eq(memcmp(b + 48, "ab\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16),
			 0);
}
END_TEST

/* Flips a field in a good record: the decoder must refuse it. */
static void expect_bad(size_t at, unsigned char val, int err)
{
	struct proto_notice n = sample(), d = { 0 }, zero = { 0 };
	unsigned char b[PROTO_NOTICE_SIZE];

	ck_assert_int_eq(proto_notice_encode(&n, b, sizeof(b)), 80);
	b[at] = val;
	ck_assert_msg(proto_notice_decode(b, sizeof(b), &d) == err,
		      "byte %zu = %u", at, val);
	/* Untouched on error. */
	ck_assert_int_eq(memcmp(&d, &zero, sizeof(d)), 0);
}

START_TEST(test_decode_refuses)
{
	struct proto_notice n = sample(), d;
	unsigned char b[PROTO_NOTICE_SIZE + 1];

	expect_bad(0, 'X', -EPROTO); /* magic */
	expect_bad(4, 2, -EPROTONOSUPPORT); /* version */
	expect_bad(5, 1, -EPROTONOSUPPORT);
	expect_bad(6, 81, -EPROTO); /* size field */
	expect_bad(16, 4, -EPROTO); /* class */
	expect_bad(19, 0x80, -EPROTO);
	expect_bad(20, 4, -EPROTO); /* unknown flag */
	expect_bad(20, 3, -EPROTO); /* lost and revoked */
	expect_bad(20, 1, -EPROTO); /* lost, with fields set */
	expect_bad(34, 0, -EPROTO); /* length 0 */
	expect_bad(43, 0x80, -EPROTO); /* negative pid */
	expect_bad(57, 'x', -EPROTO); /* a byte after comm's NUL */
	expect_bad(71, 0x80, -EPROTO); /* negative deadline */
	expect_bad(75, 0x3c, -EPROTO); /* nsec >= 1e9 */
	expect_bad(76, 1, -EPROTO); /* reserved */
	expect_bad(79, 1, -EPROTO);

	ck_assert_int_eq(proto_notice_encode(&n, b, sizeof(b)), 80);
	/* A record cut short, or with a byte more. */
	ck_assert_int_eq(proto_notice_decode(b, 79, &d), -EPROTO);
	ck_assert_int_eq(proto_notice_decode(b, 81, &d), -EPROTO);
	ck_assert_int_eq(proto_notice_decode(b, 0, &d), -EPROTO);
	ck_assert_int_eq(proto_notice_decode(b, 4, &d), -EPROTO);
	/* Offset + length beyond 64 bits. */
	memset(b + 24, 0xff, 8);
	ck_assert_int_eq(proto_notice_decode(b, 80, &d), -EPROTO);
	/* The whole file, but from an offset. */
	ck_assert_int_eq(proto_notice_encode(&n, b, sizeof(b)), 80);
	memset(b + 32, 0xff, 8);
	ck_assert_int_eq(proto_notice_decode(b, 80, &d), -EPROTO);
	ck_assert_int_eq(proto_notice_encode(&n, b, sizeof(b)), 80);
	/* A comm of 16 bytes without a NUL. */
	memset(b + 48, 'y', 16);
	ck_assert_int_eq(proto_notice_decode(b, 80, &d), -EPROTO);
}
END_TEST

/* Everything struct rdmafs_notice needs fits, with the same meanings. */
START_TEST(test_fits_public_notice)
{
	struct rdmafs_notice pub;
	struct proto_notice n;

	ck_assert_uint_eq(sizeof(pub.comm), sizeof(n.comm));
	ck_assert_uint_eq(RDMAFS_NOTICE_LOST, PROTO_NOTICE_LOST);
	ck_assert(RDMAFS_WHOLE == PROTO_NOTICE_WHOLE);
	ck_assert_int_eq(RDMAFS_NCLASSES, PROTO_NOTICE_NCLASSES);
	ck_assert_uint_eq(sizeof(pub.hold), sizeof(n.hold));
	ck_assert_uint_le(sizeof(n.pid), sizeof(pub.pid));
	ck_assert_uint_le(sizeof(n.uid), sizeof(pub.uid));
	ck_assert_uint_le(sizeof(n.deadline_sec), sizeof(pub.deadline_sec));
}
END_TEST

static Suite *proto_notice_suite(void)
{
	Suite *s = suite_create("proto-notice");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_bytes_little_endian);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_lost);
	tcase_add_test(tc, test_encode_refuses);
	tcase_add_test(tc, test_decode_refuses);
	tcase_add_test(tc, test_fits_public_notice);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(proto_notice_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
