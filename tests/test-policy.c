// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for the mediation policy decision (lib/core/policy.c). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/policy.h"

START_TEST(test_defaults)
{
	struct pol p;

	pol_default(&p);
	ck_assert_int_eq(p.action[POL_TRUNCATE], POL_REFUSE);
	ck_assert_int_eq(p.action[POL_PUNCH], POL_REFUSE);
	ck_assert_int_eq(p.action[POL_UNLINK], POL_REFUSE);
	ck_assert_int_eq(p.action[POL_REFLINK], POL_COPY);
	ck_assert_int_eq(p.base, POL_REFUSE);
	ck_assert_uint_eq(p.break_timeout, 45);
	ck_assert(!p.break_kill);
}
END_TEST

/* Pins for a snapshot: @n of them, owner @uid, holder @holder (0: persistent). */
static struct pol_snap snap_of(struct pin *pins, size_t n, uint32_t uid,
			       int32_t holder)
{
	struct pol_snap s = { .pins = pins, .n = n };
	size_t i;

	for (i = 0; i < n; i++) {
		pins[i] = (struct pin){ .off = i * 4096, .len = 4096 };
		pins[i].owner = uid;
		pins[i].holder = holder;
	}
	return s;
}

static enum pol_verdict decide(const struct pol *p, enum pol_class c,
			       uint32_t uid, int32_t tgid,
			       const struct pol_snap *s, const char **why)
{
	struct pol_req r = { .cls = c, .uid = uid, .tgid = tgid };

	return pol_decide(p, &r, s, why);
}

#define ME 1000
#define OTHER 2000
#define MY_TGID 4242

/* Every class, every action, with and without overlapping pins. */
START_TEST(test_decide_table)
{
	static const struct {
		const char *name;
		enum pol_verdict v;
	} acts[] = {
		{ "refuse", POL_DO_REFUSE },
		{ "defer", POL_DO_DEFER },
		{ "break", POL_DO_BREAK },
		{ "audit", POL_DO_AUDIT },
	};
	struct pin pins[3];
	struct pol_snap others = snap_of(pins, 3, OTHER, 0), none = { 0 };
	const char *why;
	struct pol p;
	int c;
	size_t a;

	for (c = 0; c < POL_NCLASSES; c++) {
		for (a = 0; a < sizeof(acts) / sizeof(acts[0]); a++) {
			pol_default(&p);
			ck_assert_int_eq(pol_set(&p, c, acts[a].name), 0);
			why = "x";
			ck_assert_int_eq(
				decide(&p, c, ME, MY_TGID, &others, &why),
				acts[a].v);
			ck_assert_ptr_null(why);
			/* Nothing pinned in the range: never mediated. */
			ck_assert_int_eq(
				decide(&p, c, ME, MY_TGID, &none, &why),
				POL_PERFORM);
			ck_assert_int_eq(decide(&p, c, ME, MY_TGID, NULL, NULL),
					 POL_PERFORM);
		}
	}
}
END_TEST

/*
 * An unlink whose pins are all the caller's own persistent pins is
 * never parked: refused at once under defer and break, with a reason;
 * every other class and action as usual.
 */
START_TEST(test_own_pins)
{
	static const struct {
		const char *name;
		enum pol_verdict unlink, other;
	} acts[] = {
		{ "refuse", POL_DO_REFUSE, POL_DO_REFUSE },
		{ "defer", POL_DO_REFUSE, POL_DO_DEFER },
		{ "break", POL_DO_REFUSE, POL_DO_BREAK },
		{ "audit", POL_DO_AUDIT, POL_DO_AUDIT },
	};
	struct pin pins[2];
	struct pol_snap mine = snap_of(pins, 2, ME, 0);
	const char *why;
	struct pol p;
	size_t a;
	int c;

	for (c = 0; c < POL_NCLASSES; c++) {
		for (a = 0; a < sizeof(acts) / sizeof(acts[0]); a++) {
			bool parks_not = c == POL_UNLINK &&
					 acts[a].unlink != acts[a].other;

			pol_default(&p);
			ck_assert_int_eq(pol_set(&p, c, acts[a].name), 0);
			ck_assert_int_eq(
				decide(&p, c, ME, MY_TGID, &mine, &why),
				c == POL_UNLINK ? acts[a].unlink
						: acts[a].other);
			if (parks_not)
				ck_assert_str_eq(
					why,
					"only the caller's own pins: unpin first");
			else
				ck_assert_ptr_null(why);
		}
	}
	pol_default(&p);
	ck_assert_int_eq(decide(&p, POL_REFLINK, ME, 0, &mine, NULL),
			 POL_DO_COPY);
}
END_TEST

/*
 * Own means every pin: one pin of another uid, or one live holder's pin
 * (even of the caller's uid, held by another process, which can be told
 * and release), makes the unlink park as configured.
 */
START_TEST(test_own_pins_mixed)
{
	struct pin pins[3];
	struct pol_snap s = snap_of(pins, 3, ME, 0);
	const char *why;
	struct pol p;

	pol_default(&p);
	ck_assert_int_eq(pol_set(&p, POL_UNLINK, "defer"), 0);
	ck_assert_int_eq(decide(&p, POL_UNLINK, ME, MY_TGID, &s, &why),
			 POL_DO_REFUSE);
	pins[2].owner = OTHER;
	ck_assert_int_eq(decide(&p, POL_UNLINK, ME, MY_TGID, &s, &why),
			 POL_DO_DEFER);
	pins[2].owner = ME;
	pins[1].holder = 777; /* a live session of another process */
	ck_assert_int_eq(decide(&p, POL_UNLINK, ME, MY_TGID, &s, &why),
			 POL_DO_DEFER);
	ck_assert_ptr_null(why);
	/* Root's unlink under its own pins is no different. */
	s = snap_of(pins, 3, 0, 0);
	ck_assert_int_eq(pol_set(&p, POL_UNLINK, "break"), 0);
	ck_assert_int_eq(decide(&p, POL_UNLINK, 0, 1, &s, &why), POL_DO_REFUSE);
	ck_assert_int_eq(decide(&p, POL_UNLINK, ME, 1, &s, &why), POL_DO_BREAK);
}
END_TEST

/*
 * DESIGN §6: a requester whose own thread group holds a live session
 * pin in the snapshot gets EDEADLK at once, in every class under every
 * action (waiting would wait for itself; copying or auditing would cut
 * its own registered memory), and only then.
 */
START_TEST(test_deadlock)
{
	static const char *const acts[] = { "refuse", "defer", "break",
					    "audit" };
	struct pin pins[3];
	struct pol_snap s;
	const char *why;
	struct pol p;
	size_t a;
	int c;

	for (c = 0; c < POL_NCLASSES; c++) {
		for (a = 0; a < sizeof(acts) / sizeof(acts[0]); a++) {
			pol_default(&p);
			ck_assert_int_eq(pol_set(&p, c, acts[a]), 0);
			s = snap_of(pins, 3, OTHER, 0);
			pins[2].holder = MY_TGID;
			ck_assert_int_eq(decide(&p, c, ME, MY_TGID, &s, &why),
					 POL_DO_DEADLOCK);
			ck_assert_str_eq(why,
					 "the caller holds the pin itself");
			/* Another process's session pin: as configured. */
			ck_assert_int_ne(
				decide(&p, c, ME, MY_TGID + 1, &s, &why),
				POL_DO_DEADLOCK);
			/* Requester unknown (outside the pid namespace). */
			ck_assert_int_ne(decide(&p, c, ME, 0, &s, &why),
					 POL_DO_DEADLOCK);
			ck_assert_int_ne(decide(&p, c, ME, -1, &s, &why),
					 POL_DO_DEADLOCK);
			/* A persistent pin is nobody's session. */
			pins[2].holder = 0;
			ck_assert_int_ne(decide(&p, c, ME, MY_TGID, &s, &why),
					 POL_DO_DEADLOCK);
			pins[2].holder = -1;
			ck_assert_int_ne(decide(&p, c, ME, -1, &s, &why),
					 POL_DO_DEADLOCK);
		}
	}
	/* Reflink's default copy too. */
	pol_default(&p);
	s = snap_of(pins, 1, ME, MY_TGID);
	ck_assert_int_eq(decide(&p, POL_REFLINK, ME, MY_TGID, &s, NULL),
			 POL_DO_DEADLOCK);
}
END_TEST

/* Every action's name and verdict, copy included (reflink only). */
static const struct {
	const char *name;
	enum pol_verdict v;
} all_acts[] = {
	{ "refuse", POL_DO_REFUSE }, { "defer", POL_DO_DEFER },
	{ "break", POL_DO_BREAK },   { "audit", POL_DO_AUDIT },
	{ "copy", POL_DO_COPY },
};

/* A session pin of session @sess, hold @hold, held by @tgid of @uid. */
static struct pin session_pin(uint64_t off, uint32_t uid, int32_t tgid,
			      uint64_t sess, uint64_t hold)
{
	return (struct pin){ .off = off,
			     .len = 4096,
			     .owner = uid,
			     .holder = tgid,
			     .sess = sess,
			     .hold = hold };
}

/*
 * EDEADLK whatever else the snapshot holds: persistent pins of others
 * and of the caller, other processes' session pins, before or after the
 * caller's own, under every action of every class; a persistent pin of
 * the caller's own uid never makes the unlink rule win over it.
 */
START_TEST(test_deadlock_among_others)
{
	struct pin pins[5];
	struct pol_snap s = { .pins = pins, .n = 5 };
	const char *why;
	struct pol p;
	size_t a, at;
	int c;

	for (c = 0; c < POL_NCLASSES; c++) {
		for (a = 0; a < sizeof(all_acts) / sizeof(all_acts[0]); a++) {
			pol_default(&p);
			if (pol_set(&p, c, all_acts[a].name) < 0)
				continue; /* copy: reflink only */
			for (at = 0; at < 5; at++) {
				pins[0] = (struct pin){ .off = 0,
							.len = 1,
							.owner = OTHER };
				pins[1] = (struct pin){ .off = 1,
							.len = 1,
							.owner = ME };
				pins[2] = session_pin(2, OTHER, 777, 1, 1);
				pins[3] = session_pin(3, ME, 778, 2, 1);
				pins[4] = session_pin(4, OTHER, 779, 3, 5);
				/* The caller's own, at every place. */
				pins[at] = session_pin(at, ME, MY_TGID, 9, 2);
				why = NULL;
				ck_assert_int_eq(
					decide(&p, c, ME, MY_TGID, &s, &why),
					POL_DO_DEADLOCK);
				ck_assert_str_eq(
					why, "the caller holds the pin itself");
				/* Even under root's uid or another's. */
				ck_assert_int_eq(
					decide(&p, c, 0, MY_TGID, &s, NULL),
					POL_DO_DEADLOCK);
				ck_assert_int_eq(
					decide(&p, c, OTHER, MY_TGID, &s, NULL),
					POL_DO_DEADLOCK);
			}
			/* Only the caller's own uid's persistent pins left. */
			pins[0] =
				(struct pin){ .off = 0, .len = 1, .owner = ME };
			pins[1] = session_pin(1, ME, MY_TGID, 9, 2);
			s.n = 2;
			ck_assert_int_eq(decide(&p, c, ME, MY_TGID, &s, NULL),
					 POL_DO_DEADLOCK);
			s.n = 5;
		}
	}
}
END_TEST

/*
 * Other processes' session pins leave the action as configured: the
 * mediation notifies their holders exactly for defer and break (parked
 * verdicts), refuses or records for the rest, with no reason of the
 * policy's own.
 */
START_TEST(test_session_pins_per_action)
{
	struct pin pins[3];
	struct pol_snap s = { .pins = pins, .n = 3 };
	const char *why;
	struct pol p;
	size_t a;
	int c;

	pins[0] = session_pin(0, OTHER, 777, 1, 1);
	pins[1] = session_pin(4096, ME, 778, 2, 7); /* the caller's uid */
	pins[2] = (struct pin){ .off = 8192, .len = 4096, .owner = ME };
	for (c = 0; c < POL_NCLASSES; c++) {
		for (a = 0; a < sizeof(all_acts) / sizeof(all_acts[0]); a++) {
			pol_default(&p);
			if (pol_set(&p, c, all_acts[a].name) < 0)
				continue;
			why = "x";
			ck_assert_int_eq(decide(&p, c, ME, MY_TGID, &s, &why),
					 all_acts[a].v);
			ck_assert_ptr_null(why);
			/* A requester whose tgid is not known: the same. */
			ck_assert_int_eq(decide(&p, c, ME, 0, &s, &why),
					 all_acts[a].v);
		}
	}
}
END_TEST

/*
 * The unlink rule (persistent pins all the caller's own: refused, never
 * parked) is unchanged by session pins: only the caller's persistent
 * pins on the file refuse; any session pin of another process, even of
 * the caller's uid, is someone to tell, so the unlink parks.
 */
START_TEST(test_unlink_rule_with_sessions)
{
	static const char *const parked[] = { "defer", "break" };
	struct pin pins[3];
	struct pol_snap s = { .pins = pins, .n = 2 };
	const char *why;
	struct pol p;
	size_t a;

	for (a = 0; a < 2; a++) {
		pol_default(&p);
		ck_assert_int_eq(pol_set(&p, POL_UNLINK, parked[a]), 0);
		pins[0] = (struct pin){ .off = 0, .len = 1, .owner = ME };
		pins[1] = (struct pin){ .all = true, .owner = ME };
		s.n = 2;
		ck_assert_int_eq(decide(&p, POL_UNLINK, ME, MY_TGID, &s, &why),
				 POL_DO_REFUSE);
		ck_assert_str_eq(why,
				 "only the caller's own pins: unpin first");
		pins[2] = session_pin(0, ME, 778, 3, 1);
		s.n = 3;
		ck_assert_int_eq(decide(&p, POL_UNLINK, ME, MY_TGID, &s, &why),
				 a ? POL_DO_BREAK : POL_DO_DEFER);
		ck_assert_ptr_null(why);
		/* Other classes park under the caller's own pins anyway. */
		s.n = 2;
		ck_assert_int_eq(pol_set(&p, POL_TRUNCATE, parked[a]), 0);
		ck_assert_int_eq(
			decide(&p, POL_TRUNCATE, ME, MY_TGID, &s, &why),
			a ? POL_DO_BREAK : POL_DO_DEFER);
	}
}
END_TEST

/* A big snapshot is judged whole: the deciding pin may be the last. */
START_TEST(test_large_snapshot)
{
	static struct pin pins[1000];
	struct pol_snap s = snap_of(pins, 1000, ME, 0);
	struct pol p;

	pol_default(&p);
	ck_assert_int_eq(pol_set(&p, POL_UNLINK, "defer"), 0);
	ck_assert_int_eq(decide(&p, POL_UNLINK, ME, 9, &s, NULL),
			 POL_DO_REFUSE);
	pins[999].owner = OTHER;
	ck_assert_int_eq(decide(&p, POL_UNLINK, ME, 9, &s, NULL), POL_DO_DEFER);
	pins[999].holder = 9;
	ck_assert_int_eq(decide(&p, POL_UNLINK, ME, 9, &s, NULL),
			 POL_DO_DEADLOCK);
}
END_TEST

/* policy= sets the base and every class but reflink; overrides after. */
START_TEST(test_base)
{
	static const char *const bases[] = { "refuse", "defer", "break",
					     "audit" };
	struct pol p;
	size_t b;
	int c;

	for (b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
		pol_default(&p);
		ck_assert_int_eq(pol_set_base(&p, bases[b]), 0);
		ck_assert_str_eq(pol_action_name(p.base), bases[b]);
		for (c = 0; c < POL_NCLASSES; c++)
			ck_assert_str_eq(pol_action_name(p.action[c]),
					 c == POL_REFLINK ? "copy" : bases[b]);
	}
	pol_default(&p);
	ck_assert_int_eq(p.base, POL_REFUSE);
	ck_assert_int_eq(pol_set_base(&p, "copy"), -EINVAL);
	ck_assert_int_eq(pol_set_base(&p, "nope"), -EINVAL);
	ck_assert_int_eq(pol_set_base(&p, NULL), -EINVAL);
	ck_assert_int_eq(p.base, POL_REFUSE);
	ck_assert_int_eq(p.action[POL_TRUNCATE], POL_REFUSE);
}
END_TEST

/* Every text of the policy comes from the one parsed form. */
START_TEST(test_text)
{
	char buf[256], small[16];
	struct pol p;
	int n;

	pol_default(&p);
	ck_assert_int_eq(pol_set_base(&p, "defer"), 0);
	ck_assert_int_eq(pol_set(&p, POL_PUNCH, "audit"), 0);
	p.break_timeout = 7;
	p.break_kill = true;
	n = pol_format(&p, buf, sizeof(buf));
	ck_assert_str_eq(buf, "policy=defer\ntruncate=defer\npunch=audit\n"
			      "reflink=copy\nunlink=defer\n"
			      "break_timeout=7\nbreak_kill=1\n");
	ck_assert_int_eq(n, (int)strlen(buf));
	/* Too small: cut, NUL-ended, and the length it needed. */
	ck_assert_int_eq(pol_format(&p, small, sizeof(small)), n);
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
	ck_assert_int_eq(pol_format(&p, NULL, 0), n);
	ck_assert_int_eq(pol_value(&p, "policy", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "defer");
	ck_assert_int_eq(pol_value(&p, "reflink", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "copy");
	ck_assert_int_eq(pol_value(&p, "break_timeout", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "7");
	ck_assert_int_eq(pol_value(&p, "max_pins", buf, sizeof(buf)), -ENOENT);
}
END_TEST

START_TEST(test_copy_only_for_reflink)
{
	struct pin pin;
	struct pol_snap s = snap_of(&pin, 1, OTHER, 0);
	struct pol p;

	pol_default(&p);
	ck_assert_int_eq(decide(&p, POL_REFLINK, ME, 0, &s, NULL), POL_DO_COPY);
	ck_assert_int_eq(pol_set(&p, POL_TRUNCATE, "copy"), -EINVAL);
	ck_assert_int_eq(pol_set(&p, POL_PUNCH, "copy"), -EINVAL);
	ck_assert_int_eq(pol_set(&p, POL_UNLINK, "copy"), -EINVAL);
	ck_assert_int_eq(p.action[POL_TRUNCATE], POL_REFUSE);
}
END_TEST

START_TEST(test_bad_names)
{
	static const char *const bad[] = { "",	   "Refuse", "refuse ",
					   "deny", "break,", "auditx" };
	struct pol p;
	size_t i;

	pol_default(&p);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(pol_set(&p, POL_TRUNCATE, bad[i]), -EINVAL);
	ck_assert_int_eq(pol_set(&p, POL_TRUNCATE, NULL), -EINVAL);
	ck_assert_int_eq(pol_set(&p, POL_NCLASSES, "refuse"), -EINVAL);
	/* A rejected name changes nothing. */
	ck_assert_int_eq(p.action[POL_TRUNCATE], POL_REFUSE);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(pol_class_name(POL_TRUNCATE), "truncate");
	ck_assert_str_eq(pol_class_name(POL_PUNCH), "punch");
	ck_assert_str_eq(pol_class_name(POL_REFLINK), "reflink");
	ck_assert_str_eq(pol_class_name(POL_UNLINK), "unlink");
	ck_assert_str_eq(pol_action_name(POL_COPY), "copy");
	ck_assert_str_eq(pol_action_name(POL_BREAK), "break");
	ck_assert_str_eq(pol_class_name(POL_NCLASSES), "?");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("decide");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_decide_table);
	tcase_add_test(tc, test_own_pins);
	tcase_add_test(tc, test_own_pins_mixed);
	tcase_add_test(tc, test_deadlock);
	tcase_add_test(tc, test_deadlock_among_others);
	tcase_add_test(tc, test_session_pins_per_action);
	tcase_add_test(tc, test_unlink_rule_with_sessions);
	tcase_add_test(tc, test_large_snapshot);
	tcase_add_test(tc, test_base);
	tcase_add_test(tc, test_text);
	tcase_add_test(tc, test_copy_only_for_reflink);
	tcase_add_test(tc, test_bad_names);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
