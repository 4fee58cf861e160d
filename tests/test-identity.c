// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for reading a requester's identity (lib/identity.c): this
 * process, a second thread of it, children of it that exec this test
 * binary again with chosen arguments, a zombie and a reaped child.
 *
 * Expected values are read here the plain way (stdio, absolute /proc
 * paths) so that they do not share the code under test.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/identity.h"

static const char *argv0;
static char self_exe[PATH_MAX];
static bool under_valgrind;

/* The whole of a small /proc file, NUL-terminated; its length. */
static size_t slurp(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	size_t n;

	ck_assert_msg(f, "couldn't open %s", path);
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	return n;
}

static void expected_comm(pid_t tid, char *buf, size_t size)
{
	char path[64];
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)getpid(),
		 (int)tid);
	n = slurp(path, buf, size);
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(buf[n - 1], '\n');
	buf[n - 1] = '\0';
}

/* As for exe, valgrind would answer /proc/self/cmdline with its own. */
static void expected_cmdline(pid_t tid, char *buf, size_t size)
{
	char path[64];
	size_t n, i;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/cmdline", (int)getpid(),
		 (int)tid);
	n = slurp(path, buf, size);

	while (n && !buf[n - 1])
		n--;
	for (i = 0; i < n; i++) {
		if (!buf[i])
			buf[i] = ' ';
	}
	buf[n] = '\0';
}

/*
 * The kernel's answer for @tid's executable.  Valgrind answers a
 * readlink of /proc/self/exe with the test's path although the process
 * runs valgrind, but leaves the task directories alone.
 */
static void expected_exe(pid_t tid, char *buf, size_t size)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/exe", (int)getpid(),
		 (int)tid);
	n = readlink(path, buf, size - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
}

static void check_self(const struct ident *id, pid_t tid)
{
	char want[IDENT_CMDLINE_MAX];

	ck_assert_int_eq(id->pid, tid);
	ck_assert_uint_eq(id->flags,
			  IDENT_TGID | IDENT_COMM | IDENT_EXE | IDENT_CMDLINE);
	ck_assert_int_eq(id->tgid, getpid());
	expected_comm(tid, want, sizeof(want));
	ck_assert_str_eq(id->comm, want);
	expected_exe(tid, want, sizeof(want));
	ck_assert_str_eq(id->exe, want);
	if (!under_valgrind)
		ck_assert_str_eq(id->exe, self_exe);
	expected_cmdline(tid, want, sizeof(want));
	ck_assert_str_eq(id->cmdline, want);
	ck_assert_ptr_nonnull(strstr(id->cmdline, argv0));
}

START_TEST(test_self)
{
	struct ident id;

	ck_assert_int_eq(ident_read(getpid(), 1234, 5678, &id), 0);
	ck_assert_uint_eq(id.uid, 1234);
	ck_assert_uint_eq(id.gid, 5678);
	check_self(&id, getpid());
}
END_TEST

struct worker {
	const char *name;
	pid_t tid;
	int ready[2]; /* the worker says it has named itself */
	int hold[2]; /* closed by the test to let the worker end */
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char c;

	prctl(PR_SET_NAME, w->name);
	w->tid = gettid();
	if (write(w->ready[1], "r", 1) != 1)
		abort();
	while (read(w->hold[0], &c, 1) > 0)
		;
	return NULL;
}

static void worker_start(struct worker *w, pthread_t *t)
{
	char c;

	ck_assert_int_eq(pipe2(w->ready, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(w->hold, O_CLOEXEC), 0);
	ck_assert_int_eq(pthread_create(t, NULL, worker_main, w), 0);
	ck_assert_int_eq(read(w->ready[0], &c, 1), 1);
}

static void worker_stop(struct worker *w, pthread_t t)
{
	close(w->hold[1]);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	close(w->hold[0]);
	close(w->ready[0]);
	close(w->ready[1]);
}

/* FUSE reports the calling thread, not the process. */
START_TEST(test_second_thread)
{
	struct worker w = { .name = "ident-worker" };
	struct ident id;
	pthread_t t;

	worker_start(&w, &t);
	ck_assert_int_ne(w.tid, getpid());
	ck_assert_int_eq(ident_read(w.tid, 0, 0, &id), 0);
	check_self(&id, w.tid);
	ck_assert_str_eq(id.comm, "ident-worker");
	worker_stop(&w, t);
}
END_TEST

/* A name may hold a newline; only the one the kernel adds goes. */
START_TEST(test_comm_with_newline)
{
	struct worker w = { .name = "a\nb" };
	struct ident id;
	pthread_t t;

	worker_start(&w, &t);
	ck_assert_int_eq(ident_read(w.tid, 0, 0, &id), 0);
	ck_assert_str_eq(id.comm, "a\nb");
	worker_stop(&w, t);
}
END_TEST

START_TEST(test_no_such_tid)
{
	struct ident id;

	ck_assert_int_eq(ident_read(0, 7, 8, &id), -ESRCH);
	ck_assert_int_eq(ident_read(-1, 7, 8, &id), -ESRCH);
	ck_assert_int_eq(id.pid, -1);
	ck_assert_int_eq(id.tgid, -1);
	ck_assert_uint_eq(id.uid, 7);
	ck_assert_uint_eq(id.gid, 8);
	ck_assert_uint_eq(id.flags, 0);
}
END_TEST

/*
 * A zombie still has its status and name but no memory (so no command
 * line) and no executable; once reaped, nothing is left.
 */
START_TEST(test_zombie_then_reaped)
{
	struct ident id;
	siginfo_t si;
	pid_t pid;
	int st;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitid(P_PID, pid, &si, WEXITED | WNOWAIT), 0);

	ck_assert_int_eq(ident_read(pid, 1, 2, &id), 0);
	ck_assert_uint_eq(id.flags, IDENT_TGID | IDENT_COMM);
	ck_assert_int_eq(id.tgid, pid);
	ck_assert_str_eq(id.exe, "");
	ck_assert_str_eq(id.cmdline, "");

	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(ident_read(pid, 1, 2, &id), -ESRCH);
	ck_assert_int_eq(id.pid, pid);
	ck_assert_int_eq(id.tgid, -1);
	ck_assert_uint_eq(id.uid, 1);
	ck_assert_uint_eq(id.gid, 2);
	ck_assert_uint_eq(id.flags, 0);
	ck_assert_str_eq(id.comm, "");
}
END_TEST

/*
 * Runs this binary again as `EXE --idle ARGS...`: it says it is ready on
 * its stdout and lives until its stdin closes, which *hold does.
 */
static pid_t spawn_idle(const char *const *args, size_t nargs, int *hold)
{
	const char *argv[8];
	int ready[2], in[2];
	size_t i;
	pid_t pid;
	char c;

	ck_assert_uint_le(nargs, 5);
	argv[0] = self_exe;
	argv[1] = "--idle";
	for (i = 0; i < nargs; i++)
		argv[2 + i] = args[i];
	argv[2 + nargs] = NULL;
	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (dup2(in[0], STDIN_FILENO) < 0 ||
		    dup2(ready[1], STDOUT_FILENO) < 0)
			_exit(127);
		execv(self_exe, (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	*hold = in[1];
	return pid;
}

static void reap(pid_t pid, int hold)
{
	int st;

	close(hold);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static int idle_main(void)
{
	char c;

	if (write(STDOUT_FILENO, "r", 1) != 1)
		return 1;
	while (read(STDIN_FILENO, &c, 1) > 0)
		;
	return 0;
}

/* Arguments are joined by single spaces, empty ones too. */
START_TEST(test_child_cmdline)
{
	const char *args[] = { "a b", "", "c\td" };
	char want[PATH_MAX + 64], comm[16];
	struct ident id;
	int hold;
	pid_t pid;

	pid = spawn_idle(args, 3, &hold);
	ck_assert_int_eq(ident_read(pid, 0, 0, &id), 0);
	ck_assert_uint_eq(id.flags,
			  IDENT_TGID | IDENT_COMM | IDENT_EXE | IDENT_CMDLINE);
	ck_assert_int_eq(id.tgid, pid);
	ck_assert_str_eq(id.exe, self_exe);
	snprintf(want, sizeof(want), "%s --idle a b  c\td", self_exe);
	ck_assert_str_eq(id.cmdline, want);
	/* exec names the task after the file, cut to 15 bytes. */
	snprintf(comm, sizeof(comm), "%s", strrchr(self_exe, '/') + 1);
	ck_assert_str_eq(id.comm, comm);
	reap(pid, hold);
}
END_TEST

/* Command lines of exactly the buffer, and one byte more. */
START_TEST(test_cmdline_limit)
{
	/* EXE NUL --idle NUL ARG NUL fill the buffer exactly. */
	size_t fit = IDENT_CMDLINE_MAX - strlen(self_exe) - 1 - 7 - 1;
	char *arg = malloc(fit + 2);
	const char *args[] = { arg };
	struct ident id;
	int hold, extra;
	pid_t pid;

	ck_assert_ptr_nonnull(arg);
	for (extra = 0; extra <= 1; extra++) {
		memset(arg, 'x', fit + extra);
		arg[fit + extra] = '\0';
		pid = spawn_idle(args, 1, &hold);
		ck_assert_int_eq(ident_read(pid, 0, 0, &id), 0);
		ck_assert(id.flags & IDENT_CMDLINE);
		ck_assert_uint_eq(!!(id.flags & IDENT_CMDLINE_TRUNC), extra);
		ck_assert_uint_eq(strlen(id.cmdline), IDENT_CMDLINE_MAX - 1);
		ck_assert_int_eq(
			strncmp(id.cmdline, self_exe, strlen(self_exe)), 0);
		ck_assert_int_eq(id.cmdline[IDENT_CMDLINE_MAX - 2], 'x');
		reap(pid, hold);
	}
	free(arg);
}
END_TEST

static Suite *identity_suite(void)
{
	Suite *s = suite_create("identity");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_self);
	tcase_add_test(tc, test_second_thread);
	tcase_add_test(tc, test_comm_with_newline);
	tcase_add_test(tc, test_no_such_tid);
	tcase_add_test(tc, test_zombie_then_reaped);
	tcase_add_test(tc, test_child_cmdline);
	tcase_add_test(tc, test_cmdline_limit);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	char path[64], real_exe[PATH_MAX];
	SRunner *sr;
	ssize_t n;
	int failed;

	if (argc >= 2 && !strcmp(argv[1], "--idle"))
		return idle_main();
	if (access("/proc/self/status", R_OK)) {
		fprintf(stderr, "test-identity: no /proc, skipping\n");
		return 77;
	}
	argv0 = argv[0];
	/*
	 * The children exec this path.  Under valgrind, /proc/self/exe
	 * would name valgrind itself, were valgrind not to answer this very
	 * readlink with the test's own path -- which is also how to tell
	 * that it runs: the kernel then disagrees.
	 */
	n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	if (n <= 0)
		return EXIT_FAILURE;
	self_exe[n] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/task/%d/exe", (int)getpid(),
		 (int)getpid());
	n = readlink(path, real_exe, sizeof(real_exe) - 1);
	if (n <= 0)
		return EXIT_FAILURE;
	real_exe[n] = '\0';
	under_valgrind = strcmp(self_exe, real_exe) != 0;

	sr = srunner_create(identity_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
