// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The one snapshot of a mediated request (issue 8): rfs_mediate() reads
 * the pins a request would touch once, under the file's pin-table lock,
 * and the decision and the audit record both come from that copy.  These
 * tests go through the paths the snapshot added: more pins than its
 * inline room (it grows while the file is locked), the truncate's look
 * at every pin from the new size on, narrowed to the range really cut
 * once the size is known, the own-pins rule of issue 7 judged
 * over every pin of a big snapshot, and a copy's two ends put in order
 * (the pinned one named by the audit).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "pin-test-util.h"

#define NPINS 40 /* well past the snapshot's inline room (4) and 16 */
#define STRIDE (16 * 1024L)

static struct mnt M;
static char logdir[] = "/tmp/rdmafs-medsnap-XXXXXX";
static char logpath[PATH_MAX];

static const char *mp(const char *rel)
{
	return mnt_path(&M, rel);
}

static void mount_with(const char *opts)
{
	char o[PATH_MAX + 256];

	snprintf(logpath, sizeof(logpath), "%s/audit-%d.jsonl", logdir,
		 (int)getpid());
	unlink(logpath);
	snprintf(o, sizeof(o), "%s,audit_log=%s", opts, logpath);
	ck_assert_int_eq(mnt_setup(&M, o, false), 0);
}

/* The last audit line holding every fragment, or NULL (to free). */
static char *audit_last(const char *frag, ...)
{
	char line[65536], *hit = NULL;
	FILE *f = fopen(logpath, "re");
	va_list ap;
	const char *s;

	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		bool all = true;

		va_start(ap, frag);
		for (s = frag; s && all; s = va_arg(ap, const char *))
			all = strstr(line, s) != NULL;
		va_end(ap);
		if (all) {
			free(hit);
			hit = strdup(line);
		}
	}
	fclose(f);
	return hit;
}

static int count_of(const char *s, const char *what)
{
	int n = 0;

	while ((s = strstr(s, what))) {
		n++;
		s += strlen(what);
	}
	return n;
}

/* NPINS pins of 4 KiB, one every STRIDE bytes, on @path. */
static void pin_many(const char *path)
{
	char v[64];
	int i;

	for (i = 0; i < NPINS; i++) {
		snprintf(v, sizeof(v), "%ld+4096", i * STRIDE);
		ck_assert_int_eq(pin(path, v), 0);
	}
}

static int e_truncate(const char *path, off_t size)
{
	return truncate(path, size) < 0 ? errno : 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A truncate that cuts only into the last of many pins is refused; one
 * that stops at its end goes through; the refusal's audit record names
 * the pins it was decided over (at most 16).
 */
START_TEST(test_many_pins_truncate)
{
	const off_t last = (NPINS - 1) * STRIDE;
	struct stat st;
	char *l;

	mount_with("policy=refuse");
	put_random(mp("f"), NPINS * STRIDE, 1);
	pin_many(mp("f"));

	ck_assert_int_eq(e_truncate(mp("f"), last + 2048), ETXTBSY);
	ck_assert_int_eq(stat(mp("f"), &st), 0);
	ck_assert_int_eq(st.st_size, NPINS * STRIDE);
	l = audit_last("\"event\":\"refuse\"", "\"op\":\"truncate\"",
		       (char *)NULL);
	ck_assert_ptr_nonnull(l);
	/* The pins the cut touches: the last one only. */
	ck_assert_int_eq(count_of(l, "\"range\":"), 1);
	free(l);

	ck_assert_int_eq(e_truncate(mp("f"), last + 4096), 0);
	ck_assert_int_eq(stat(mp("f"), &st), 0);
	ck_assert_int_eq(st.st_size, last + 4096);

	ck_assert_int_eq(e_truncate(mp("f"), 0), ETXTBSY);
	l = audit_last("\"event\":\"refuse\"", "\"op\":\"truncate\"",
		       "\"errno\":\"ETXTBSY\"", (char *)NULL);
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(count_of(l, "\"range\":"), 16);
	free(l);
	ck_assert_int_eq(mnt_teardown(&M), 0);
}
END_TEST

/*
 * policy=defer: an unlink under many pins, all the caller's own
 * persistent pins, is refused at once, not parked (issue 7's rule over
 * the whole snapshot, not its first pins).
 */
START_TEST(test_many_own_pins_unlink)
{
	double t0;
	char *l;

	mount_with("policy=defer,break_timeout=30");
	put_random(mp("g"), NPINS * STRIDE, 2);
	pin_many(mp("g"));
	t0 = now_s();
	ck_assert_int_eq(unlink(mp("g")) < 0 ? errno : 0, ETXTBSY);
	ck_assert_msg(now_s() - t0 < 10, "the unlink was parked");
	ck_assert_int_eq(access(mp("g"), F_OK), 0);
	l = audit_last("\"event\":\"refuse\"", "\"op\":\"unlink\"",
		       "\"reason\":\"only the caller's own pins", (char *)NULL);
	ck_assert_ptr_nonnull(l);
	free(l);
	l = audit_last("\"event\":\"defer\"", (char *)NULL);
	ck_assert_msg(!l, "parked: %s", l);
	ck_assert_int_eq(mnt_teardown(&M), 0);
}
END_TEST

static ssize_t copy(const char *from, const char *to, size_t len)
{
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out = open(to, O_WRONLY | O_CLOEXEC);
	off_t oi = 0, oo = 0;
	ssize_t n;

	ck_assert_int_ge(in, 0);
	ck_assert_int_ge(out, 0);
	n = copy_file_range(in, &oi, out, &oo, len, 0);
	close(in);
	close(out);
	return n;
}

/*
 * reflink=copy: the audit of a copy names the pinned end: the source
 * when only it is pinned, the destination when both are.
 */
START_TEST(test_copy_names_pinned_end)
{
	char *l;

	mount_with("policy=refuse");
	put_random(mp("src"), 65536, 3);
	put_random(mp("dst"), 65536, 4);
	ck_assert_int_eq(pin(mp("src"), "0+4096"), 0);

	ck_assert_int_eq(copy(mp("src"), mp("dst"), 8192), 8192);
	l = audit_last("\"event\":\"copy\"", (char *)NULL);
	ck_assert_ptr_nonnull(l);
	ck_assert_msg(strstr(l, "\"path\":\"src\""), "%s", l);
	ck_assert_int_eq(count_of(l, "\"range\":"), 1);
	free(l);

	ck_assert_int_eq(pin(mp("dst"), "4096+4096"), 0);
	ck_assert_int_eq(copy(mp("src"), mp("dst"), 8192), 8192);
	l = audit_last("\"event\":\"copy\"", (char *)NULL);
	ck_assert_ptr_nonnull(l);
	ck_assert_msg(strstr(l, "\"path\":\"dst\""), "%s", l);
	/* The pins of both ends, from the one snapshot. */
	ck_assert_int_eq(count_of(l, "\"range\":"), 2);
	free(l);
	ck_assert_int_eq(mnt_teardown(&M), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("medsnap");
	TCase *tc = tcase_create("snapshot");
	SRunner *sr;
	int failed;

	harness_require_root_fuse();
	if (!mkdtemp(logdir)) {
		perror("test-mount-medsnap: mkdtemp");
		return EXIT_FAILURE;
	}
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_many_pins_truncate);
	tcase_add_test(tc, test_many_own_pins_unlink);
	tcase_add_test(tc, test_copy_names_pinned_end);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	harness_sh("rm -rf '%s'", logdir);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
