// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for the mediation policy decision (lib/policy.c). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "core/policy.h"

START_TEST(test_defaults)
{
	struct pol p;

	pol_default(&p);
	ck_assert_int_eq(p.action[POL_TRUNCATE], POL_REFUSE);
	ck_assert_int_eq(p.action[POL_PUNCH], POL_REFUSE);
	ck_assert_int_eq(p.action[POL_UNLINK], POL_REFUSE);
	ck_assert_int_eq(p.action[POL_REFLINK], POL_COPY);
	ck_assert_uint_eq(p.break_timeout, 45);
	ck_assert(!p.break_kill);
}
END_TEST

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
	struct pol p;
	int c;
	size_t a;

	for (c = 0; c < POL_NCLASSES; c++) {
		for (a = 0; a < sizeof(acts) / sizeof(acts[0]); a++) {
			pol_default(&p);
			ck_assert_int_eq(pol_set(&p, c, acts[a].name), 0);
			ck_assert_int_eq(pol_decide(&p, c, true, false),
					 acts[a].v);
			/* Nothing pinned in the range: never mediated. */
			ck_assert_int_eq(pol_decide(&p, c, false, false),
					 POL_PERFORM);
		}
	}
}
END_TEST

/*
 * An unlink whose pins are all the caller's own is never parked: refused
 * at once under defer and break; every other class and action as usual.
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
	struct pol p;
	size_t a;
	int c;

	for (c = 0; c < POL_NCLASSES; c++) {
		for (a = 0; a < sizeof(acts) / sizeof(acts[0]); a++) {
			pol_default(&p);
			ck_assert_int_eq(pol_set(&p, c, acts[a].name), 0);
			ck_assert_int_eq(pol_decide(&p, c, true, true),
					 c == POL_UNLINK ? acts[a].unlink
							 : acts[a].other);
			ck_assert_int_eq(pol_decide(&p, c, false, true),
					 POL_PERFORM);
		}
	}
	pol_default(&p);
	ck_assert_int_eq(pol_decide(&p, POL_REFLINK, true, true), POL_DO_COPY);
}
END_TEST

START_TEST(test_copy_only_for_reflink)
{
	struct pol p;

	pol_default(&p);
	ck_assert_int_eq(pol_decide(&p, POL_REFLINK, true, false), POL_DO_COPY);
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
