// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for the holders a mediated request meets (lib/core/holders.c:
 * who is told, who released, who is left to kill, who was revoked; the
 * notice's range) and for their place in the audit record
 * (lib/core/audit.c), the JSON read back with json-c.
 */
#include <check.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/audit.h"
#include "core/holders.h"
#include "core/policy.h"

static struct pin spin(uint64_t off, int32_t pid, uint64_t sess, uint64_t hold)
{
	return (struct pin){ .off = off,
			     .len = 4096,
			     .owner = 1000,
			     .holder = pid,
			     .sess = sess,
			     .hold = hold };
}

static struct pin ppin(uint64_t off)
{
	return (struct pin){ .off = off, .len = 4096, .owner = 1000 };
}

/* Sessions are counted once however many pins they hold. */
START_TEST(test_count_and_untold)
{
	struct pin pins[] = { ppin(0),		 spin(1, 10, 1, 1),
			      spin(2, 10, 1, 2), spin(3, 20, 2, 1),
			      ppin(4),		 spin(5, 30, 3, 9) };
	struct holders l = { 0 };
	struct audit_holder *h;
	size_t n;

	ck_assert_uint_eq(holders_count_new(&l, pins, 6), 3);
	ck_assert_uint_eq(holders_count_new(&l, pins, 1), 0);
	ck_assert_int_eq(holders_reserve(&l, 3), 0);
	h = holders_add(&l, 2, 20, 1000, "holder-two");
	ck_assert_ptr_nonnull(h);
	ck_assert(!h->told);
	ck_assert_int_eq(h->fate, AUDIT_HOLDER_WAITING);
	/* Again: the same entry, no room taken. */
	ck_assert_ptr_eq(holders_add(&l, 2, 99, 0, "x"), h);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_uint_eq(holders_count_new(&l, pins, 6), 2);
	/* Untold: the session pins of sessions 1 and 3, in order. */
	n = holders_untold(&l, pins, 6);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(pins[0].sess, 1);
	ck_assert_uint_eq(pins[0].hold, 1);
	ck_assert_uint_eq(pins[1].hold, 2);
	ck_assert_uint_eq(pins[2].sess, 3);
	ck_assert(holders_in_pins(3, pins, n));
	ck_assert(!holders_in_pins(2, pins, n));
	ck_assert(!holders_in_pins(0, pins, n)); /* persistent: no session */
	holders_free(&l);
	ck_assert_ptr_null(l.h);
	ck_assert_uint_eq(l.n, 0);
}
END_TEST

/* No room reserved: nothing new is added, and nothing is lost. */
START_TEST(test_no_room)
{
	struct pin pins[] = { spin(0, 10, 1, 1), spin(1, 20, 2, 1) };
	struct holders l = { 0 };

	ck_assert_ptr_null(holders_add(&l, 1, 10, 0, NULL));
	ck_assert_int_eq(holders_revoked(&l, pins, 2), -ENOMEM);
	ck_assert_int_eq(holders_reserve(&l, 1), 0);
	ck_assert_int_eq(holders_revoked(&l, pins, 2), -ENOMEM);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_int_eq(holders_reserve(&l, SIZE_MAX), -ENOMEM);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_int_eq(holders_reserve(&l, 1), 0);
	ck_assert_int_eq(holders_revoked(&l, pins, 2), 0);
	ck_assert_uint_eq(l.n, 2);
	holders_free(&l);
}
END_TEST

/* A comm longer than a task's is cut, NUL-terminated. */
START_TEST(test_comm_cut)
{
	struct holders l = { 0 };
	struct audit_holder *h;

	ck_assert_int_eq(holders_reserve(&l, 1), 0);
	h = holders_add(&l, 1, 10, 0, "a-very-long-program-name");
	ck_assert_str_eq(h->comm, "a-very-long-pro");
	holders_free(&l);
}
END_TEST

static bool in_snapshot(uint64_t sess, void *arg)
{
	const struct pin *pins = arg;

	return holders_in_pins(sess, pins, 2);
}

/*
 * The end of a break with break_kill: who released, who is left to
 * kill; then the break revokes what is left, never marking the killed
 * as revoked, and adds a holder met only at the break as revoked.
 */
START_TEST(test_settle_kill_revoke)
{
	struct pin fresh[] = { spin(0, 20, 2, 1), spin(1, 30, 3, 4) };
	struct pin left[] = { spin(0, 20, 2, 1), spin(7, 40, 4, 1) };
	struct holders l = { 0 };
	size_t i;

	ck_assert_int_eq(holders_reserve(&l, 3), 0);
	for (i = 1; i <= 3; i++)
		holders_add(&l, i, 10 * i, 1000, "h")->told = true;
	/* 1 released; 2 and 3 still hold. */
	ck_assert_uint_eq(holders_settle(&l, in_snapshot, fresh), 2);
	ck_assert_int_eq(l.h[0].fate, AUDIT_HOLDER_RELEASED);
	ck_assert_int_eq(l.h[1].fate, AUDIT_HOLDER_HOLDING);
	ck_assert_int_eq(l.h[2].fate, AUDIT_HOLDER_HOLDING);
	/* Settled fates stay settled. */
	ck_assert_uint_eq(holders_settle(&l, in_snapshot, left), 2);
	ck_assert_int_eq(l.h[0].fate, AUDIT_HOLDER_RELEASED);
	/* 2 is killed; its pin raced into the break's snapshot anyway. */
	l.h[1].fate = AUDIT_HOLDER_KILLED;
	ck_assert_uint_eq(holders_count_new(&l, left, 2), 1);
	ck_assert_int_eq(holders_reserve(&l, 1), 0);
	ck_assert_int_eq(holders_revoked(&l, left, 2), 0);
	ck_assert_int_eq(l.h[1].fate, AUDIT_HOLDER_KILLED);
	ck_assert_int_eq(l.h[2].fate, AUDIT_HOLDER_HOLDING);
	ck_assert_uint_eq(l.n, 4);
	ck_assert_uint_eq(l.h[3].sess, 4);
	ck_assert_int_eq(l.h[3].pid, 40);
	ck_assert(!l.h[3].told);
	ck_assert_int_eq(l.h[3].fate, AUDIT_HOLDER_REVOKED);
	ck_assert_str_eq(l.h[3].comm, "");
	holders_free(&l);
}
END_TEST

/* The notice's range always encodes; unlink and 0-to-end are `all`. */
START_TEST(test_notice_range)
{
	static const struct {
		uint32_t cls;
		uint64_t off, len, noff, nlen;
	} t[] = {
		{ POL_UNLINK, 0, UINT64_MAX, 0, PROTO_NOTICE_WHOLE },
		{ POL_UNLINK, 5, 7, 0, PROTO_NOTICE_WHOLE },
		{ POL_TRUNCATE, 0, UINT64_MAX, 0, PROTO_NOTICE_WHOLE },
		{ POL_TRUNCATE, 4096, UINT64_MAX - 4096, 4096,
		  UINT64_MAX - 4096 },
		{ POL_TRUNCATE, 4096, UINT64_MAX, 4096, UINT64_MAX - 4096 },
		{ POL_PUNCH, 100, 200, 100, 200 },
		{ POL_PUNCH, UINT64_MAX, 5, UINT64_MAX - 1, 1 },
		{ POL_REFLINK, 10, 0, 10, 1 },
	};
	struct proto_notice n, d;
	struct timespec dl = { .tv_sec = 1700000000, .tv_nsec = 5 };
	unsigned char buf[PROTO_NOTICE_SIZE];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		holders_notice(&n, t[i].cls, t[i].off, t[i].len, 4242, 1000,
			       "truncate-with-a-long-name", &dl);
		ck_assert_uint_eq(n.off, t[i].noff);
		ck_assert_uint_eq(n.len, t[i].nlen);
		ck_assert_int_eq(proto_notice_encode(&n, buf, sizeof(buf)),
				 PROTO_NOTICE_SIZE);
		ck_assert_int_eq(proto_notice_decode(buf, sizeof(buf), &d), 0);
		ck_assert_uint_eq(d.cls, t[i].cls);
		ck_assert_int_eq(d.pid, 4242);
		ck_assert_uint_eq(d.uid, 1000);
		ck_assert_str_eq(d.comm, "truncate-with-a");
		ck_assert_int_eq(d.deadline_sec, 1700000000);
		ck_assert_uint_eq(d.deadline_nsec, 5);
		ck_assert_uint_eq(d.hold, 0);
		ck_assert_uint_eq(d.flags, 0);
	}
	/* An unknown breaker: pid 0, empty comm; still a valid notice. */
	holders_notice(&n, POL_PUNCH, 0, 1, -1, 0, NULL, &dl);
	ck_assert_int_eq(n.pid, 0);
	ck_assert_str_eq(n.comm, "");
	ck_assert_int_eq(proto_notice_encode(&n, buf, sizeof(buf)),
			 PROTO_NOTICE_SIZE);
}
END_TEST

/* ---- the audit record ---- */

static const char why[] = "did not release within break_timeout=45s";

static struct audit_event holder_event(const struct audit_holder *h, size_t n)
{
	static const struct audit_pin pin = { .all = true,
					      .owner = 1000,
					      .holder = 20 };

	return (struct audit_event){
		.time_ns = 1,
		.event = "break",
		.op = "unlink",
		.path = "f",
		.range = AUDIT_RANGE_ALL,
		.waited_ms = 45000,
		.pins = &pin,
		.npins = 1,
		.holders = h,
		.nholders = n,
	};
}

static void four_holders(struct audit_holder h[4])
{
	memset(h, 0, 4 * sizeof(*h));
	h[0] = (struct audit_holder){ .sess = 1,
				      .pid = 10,
				      .told = true,
				      .fate = AUDIT_HOLDER_RELEASED };
	strcpy(h[0].comm, "quick");
	h[1] = (struct audit_holder){ .sess = 2,
				      .pid = 20,
				      .told = true,
				      .fate = AUDIT_HOLDER_KILLED,
				      .why = why };
	strcpy(h[1].comm, "slow \"one\"");
	h[2] = (struct audit_holder){
		.sess = 3, .pid = 30, .told = true, .fate = AUDIT_HOLDER_REVOKED
	};
	strcpy(h[2].comm, "kept");
	/* Met only at the break: never told, comm unknown. */
	h[3] = (struct audit_holder){ .sess = 4,
				      .pid = 40,
				      .fate = AUDIT_HOLDER_REVOKED };
}

static json_object *member(json_object *o, const char *key)
{
	json_object *v = NULL;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no %s", key);
	return v;
}

/* The pids in array @key of @holders, as "10,20". */
static void pids(json_object *holders, const char *key, char *buf, size_t size)
{
	json_object *a = member(holders, key);
	size_t i, n = json_object_array_length(a), off = 0;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(a, i);

		off += snprintf(buf + off, size - off, "%s%d", i ? "," : "",
				json_object_get_int(member(e, "pid")));
	}
}

START_TEST(test_json_holders)
{
	static const char want[] =
		",\"holders\":{\"told\":[{\"pid\":10,\"comm\":\"quick\"},"
		"{\"pid\":20,\"comm\":\"slow \\\"one\\\"\"},"
		"{\"pid\":30,\"comm\":\"kept\"}],"
		"\"released\":[{\"pid\":10,\"comm\":\"quick\"}],"
		"\"holding\":[],"
		"\"killed\":[{\"pid\":20,\"comm\":\"slow \\\"one\\\"\","
		"\"why\":\"did not release within break_timeout=45s\"}],"
		"\"revoked\":[{\"pid\":30,\"comm\":\"kept\"},"
		"{\"pid\":40,\"comm\":null}]}}";
	struct audit_holder h[4];
	struct audit_event ev;
	json_object *o, *hs, *k;
	char buf[4096], got[64];
	size_t len = sizeof(want) - 1;
	int n;

	four_holders(h);
	ev = holder_event(h, 4);
	n = audit_format_json(&ev, buf, sizeof(buf));
	ck_assert_int_gt(n, (int)len);
	ck_assert_str_eq(buf + n - len, want);
	o = json_tokener_parse(buf);
	ck_assert_ptr_nonnull(o);
	/* After process (null here), the last member. */
	ck_assert(json_object_is_type(member(o, "process"), json_type_null));
	hs = member(o, "holders");
	pids(hs, "told", got, sizeof(got));
	ck_assert_str_eq(got, "10,20,30");
	pids(hs, "released", got, sizeof(got));
	ck_assert_str_eq(got, "10");
	pids(hs, "holding", got, sizeof(got));
	ck_assert_str_eq(got, "");
	pids(hs, "killed", got, sizeof(got));
	ck_assert_str_eq(got, "20");
	k = json_object_array_get_idx(member(hs, "killed"), 0);
	ck_assert_str_eq(json_object_get_string(member(k, "why")), why);
	ck_assert_str_eq(json_object_get_string(member(k, "comm")),
			 "slow \"one\"");
	pids(hs, "revoked", got, sizeof(got));
	ck_assert_str_eq(got, "30,40");
	json_object_put(o);

	/* No holders: no member at all. */
	ev = holder_event(h, 0);
	ck_assert_int_gt(audit_format_json(&ev, buf, sizeof(buf)), 0);
	ck_assert_ptr_null(strstr(buf, "holders"));
}
END_TEST

/* A defer's record: told, nobody's fate known yet; a timeout's: holding. */
START_TEST(test_json_told_and_holding)
{
	struct audit_holder h[2] = {
		{ .sess = 1, .pid = 10, .told = true, .comm = "a" },
		{ .sess = 2,
		  .pid = 20,
		  .told = true,
		  .comm = "b",
		  .fate = AUDIT_HOLDER_HOLDING },
	};
	struct audit_event ev = holder_event(h, 1);
	char buf[4096];

	ev.event = "defer";
	ck_assert_int_gt(audit_format_json(&ev, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(
		strstr(buf, ",\"holders\":{\"told\":[{\"pid\":10,\"comm\":"
			    "\"a\"}],\"released\":[],\"holding\":[],"
			    "\"killed\":[],\"revoked\":[]}}"));
	ev = holder_event(h, 2);
	ev.event = "timeout";
	ev.reason = "r";
	ck_assert_int_gt(audit_format_json(&ev, buf, sizeof(buf)), 0);
	/* Before the reason. */
	ck_assert_ptr_nonnull(strstr(buf, "\"holding\":[{\"pid\":20,\"comm\":"
					  "\"b\"}],\"killed\":[],\"revoked\":"
					  "[]},\"reason\":\"r\"}"));
}
END_TEST

START_TEST(test_text_holders)
{
	static const char want[] =
		"break unlink path=f off=0 len=all waited_ms=45000 "
		"pins=all(owner=1000,holder=20) "
		"told=10(comm=quick),20(comm=slow\\040\"one\"),30(comm=kept) "
		"released=10(comm=quick) "
		"killed=20(comm=slow\\040\"one\",why=did\\040not\\040release"
		"\\040within\\040break_timeout=45s) "
		"revoked=30(comm=kept),40(comm=?)";
	struct audit_holder h[4];
	struct audit_event ev;
	char buf[4096];

	four_holders(h);
	ev = holder_event(h, 4);
	ck_assert_int_eq(audit_format_text(&ev, buf, sizeof(buf)),
			 strlen(want));
	ck_assert_str_eq(buf, want);
}
END_TEST

/*
 * Hundreds of holders with long reasons still make a record: cut to a
 * few per group, marked truncated, one valid JSON line.
 */
START_TEST(test_many_holders_cut)
{
	static struct audit_holder h[500];
	static char big[3000];
	char path[] = "/tmp/test-holders-XXXXXX", line[AUDIT_LINE_MAX + 1];
	struct audit_event ev;
	struct audit *a;
	json_object *o, *hs;
	FILE *f;
	int i, fd;

	memset(big, 'w', sizeof(big) - 1);
	for (i = 0; i < 500; i++) {
		h[i] = (struct audit_holder){
			.sess = i + 1, .pid = i + 1, .told = true, .why = big
		};
		strcpy(h[i].comm, "\xff\x01holder");
		h[i].fate = i % 2 ? AUDIT_HOLDER_KILLED : AUDIT_HOLDER_REVOKED;
	}
	ev = holder_event(h, 500);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	a = audit_open(path, AUDIT_NO_SYSLOG);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(audit_log(a, &ev), 0);
	audit_close(a);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	ck_assert_ptr_null(fgets(line + strlen(line), 2, f));
	fclose(f);
	unlink(path);
	o = json_tokener_parse(line);
	ck_assert_ptr_nonnull(o);
	ck_assert(json_object_get_boolean(member(o, "truncated")));
	hs = member(o, "holders");
	ck_assert_uint_ge(json_object_array_length(member(hs, "told")), 1);
	ck_assert_uint_le(json_object_array_length(member(hs, "told")), 64);
	ck_assert_uint_ge(json_object_array_length(member(hs, "killed")), 1);
	json_object_put(o);
	/* The text line (here on stderr) too: cut, one line, in its limit. */
	strcpy(path, "/tmp/test-holders-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	i = dup(STDERR_FILENO);
	ck_assert_int_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	a = audit_open(NULL, AUDIT_NO_SYSLOG | AUDIT_STDERR);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(audit_log(a, &ev), 0);
	audit_close(a);
	ck_assert_int_eq(dup2(i, STDERR_FILENO), STDERR_FILENO);
	close(i);
	memset(line, 0, sizeof(line));
	ck_assert_int_gt(pread(fd, line, sizeof(line) - 1, 0), 0);
	close(fd);
	unlink(path);
	ck_assert_ptr_nonnull(strstr(line, " killed=2(comm="));
	ck_assert_ptr_nonnull(strstr(line, ",..."));
	ck_assert_ptr_eq(strchr(line, '\n'), line + strlen(line) - 1);
	ck_assert_uint_le(strlen(line), AUDIT_TEXT_MAX + 32);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("holders");
	TCase *tc = tcase_create("holders");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_count_and_untold);
	tcase_add_test(tc, test_no_room);
	tcase_add_test(tc, test_comm_cut);
	tcase_add_test(tc, test_settle_kill_revoke);
	tcase_add_test(tc, test_notice_range);
	tcase_add_test(tc, test_json_holders);
	tcase_add_test(tc, test_json_told_and_holding);
	tcase_add_test(tc, test_text_holders);
	tcase_add_test(tc, test_many_holders_cut);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
