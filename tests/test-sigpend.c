// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for a thread's pending signals read from /proc
 * (lib/core/sigpend.c): the parser on crafted status texts, the rule
 * (pending, not blocked, not ignored; SIGKILL always), and the reader on
 * a real child that blocks a signal sent to it, on a second thread of
 * this process, and on a thread that is gone.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/sigpend.h"

#define BIT(sig) (1ull << ((sig)-1))

static const char status_text[] = "Name:\tcat\n"
				  "Umask:\t0022\n"
				  "State:\tR (running)\n"
				  "Tgid:\t1234\n"
				  "Pid:\t1234\n"
				  "Threads:\t1\n"
				  "SigQ:\t1/63443\n"
				  "SigPnd:\t0000000000000200\n"
				  "ShdPnd:\t0000000000004000\n"
				  "SigBlk:\t0000000000000000\n"
				  "SigIgn:\t0000000000001000\n"
				  "SigCgt:\t0000000000000000\n"
				  "CapInh:\t0000000000000000\n";

START_TEST(test_parse)
{
	struct sigpend s;

	ck_assert_int_eq(sigpend_parse(status_text, strlen(status_text), &s),
			 0);
	ck_assert_uint_eq(s.pnd, BIT(SIGUSR1));
	ck_assert_uint_eq(s.shd, BIT(SIGTERM));
	ck_assert_uint_eq(s.blk, 0);
	ck_assert_uint_eq(s.ign, BIT(SIGPIPE));
	ck_assert_uint_eq(s.threads, 1);
}
END_TEST

/* Not NUL-terminated, upper-case digits, no trailing newline. */
START_TEST(test_parse_edges)
{
	static const char t[] = "SigIgn:\t0000000000000001\n"
				"SigBlk:  FFFFFFFFFFFFFFFF\n"
				"ShdPnd:\t0\n"
				"SigPnd:\t00000000000000a0XXXX";
	struct sigpend s;

	/* The length stops before the garbage after SigPnd's mask. */
	ck_assert_int_eq(sigpend_parse(t, sizeof(t) - 1 - 4, &s), 0);
	ck_assert_uint_eq(s.pnd, 0xa0);
	ck_assert_uint_eq(s.shd, 0);
	ck_assert_uint_eq(s.blk, ~0ull);
	ck_assert_uint_eq(s.ign, 1);
	/* No Threads line: unknown. */
	ck_assert_uint_eq(s.threads, 0);
}
END_TEST

START_TEST(test_parse_bad)
{
	static const char *bad[] = {
		/* a mask missing */
		"SigPnd:\t0\nShdPnd:\t0\nSigBlk:\t0\n",
		/* not hexadecimal */
		"SigPnd:\t0x10\nShdPnd:\t0\nSigBlk:\t0\nSigIgn:\t0\n",
		/* empty */
		"SigPnd:\t\nShdPnd:\t0\nSigBlk:\t0\nSigIgn:\t0\n",
		/* more than 64 signals */
		"SigPnd:\t10000000000000000\nShdPnd:\t0\nSigBlk:\t0\nSigIgn:\t0\n",
		/* a longer key is not the key */
		"SigPndX:\t0\nShdPnd:\t0\nSigBlk:\t0\nSigIgn:\t0\n",
		"",
	};
	struct sigpend s = { 1, 2, 3, 4, 5 };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(sigpend_parse(bad[i], strlen(bad[i]), &s) ==
				      -EINVAL,
			      "bad[%zu] parsed", i);
	/* Nothing written on failure. */
	ck_assert_uint_eq(s.pnd, 1);
	ck_assert_uint_eq(s.ign, 4);
}
END_TEST

START_TEST(test_rule)
{
	struct sigpend s = { 0 };

	ck_assert_int_eq(sigpend_interrupts(&s), SIGPEND_NO);
	s.pnd = BIT(SIGUSR1);
	ck_assert_int_eq(sigpend_interrupts(&s), SIGPEND_YES);
	s.blk = BIT(SIGUSR1);
	ck_assert_int_eq(sigpend_interrupts(&s), SIGPEND_NO);
	s.blk = 0;
	s.ign = BIT(SIGUSR1);
	ck_assert_int_eq(sigpend_interrupts(&s), SIGPEND_NO);
	/* The process's set: this thread's alone, or maybe another's. */
	s = (struct sigpend){ .shd = BIT(SIGINT), .threads = 1 };
	ck_assert_int_eq(sigpend_interrupts(&s), SIGPEND_YES);
	s.threads = 2;
	ck_assert_int_eq(sigpend_interrupts(&s), SIGPEND_MAYBE);
	s.threads = 0;
	ck_assert_int_eq(sigpend_interrupts(&s), SIGPEND_MAYBE);
	s.blk = BIT(SIGINT);
	ck_assert_int_eq(sigpend_interrupts(&s), SIGPEND_NO);
	/* Its own beats the process's maybe. */
	s = (struct sigpend){ .pnd = BIT(SIGHUP),
			      .shd = BIT(SIGINT),
			      .threads = 2 };
	ck_assert_int_eq(sigpend_interrupts(&s), SIGPEND_YES);
	/* SIGKILL, whatever the masks say. */
	s = (struct sigpend){ .pnd = BIT(SIGKILL), .blk = ~0ull, .ign = ~0ull };
	ck_assert_int_eq(sigpend_interrupts(&s), SIGPEND_YES);
	s = (struct sigpend){ .shd = BIT(SIGKILL), .blk = ~0ull, .threads = 5 };
	ck_assert_int_eq(sigpend_interrupts(&s), SIGPEND_YES);
	/* A real-time signal. */
	s = (struct sigpend){ .pnd = BIT(SIGRTMIN + 3) };
	ck_assert_int_eq(sigpend_interrupts(&s), SIGPEND_YES);
}
END_TEST

/* A child blocking SIGUSR1, which is then sent to it: pending, blocked. */
START_TEST(test_read_child)
{
	struct sigpend s;
	sigset_t set;
	int p[2], q[2];
	char c = 0;
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(pipe(q), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		signal(SIGUSR2, SIG_IGN);
		if (write(p[1], &c, 1) != 1)
			_exit(1);
		/* Until the parent has looked. */
		if (read(q[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	ck_assert_int_eq(sigpend_read(pid, &s), 0);
	ck_assert_int_eq(sigpend_interrupts(&s), SIGPEND_NO);
	ck_assert_uint_eq(s.blk & BIT(SIGUSR1), BIT(SIGUSR1));
	ck_assert_uint_eq(s.ign & BIT(SIGUSR2), BIT(SIGUSR2));
	ck_assert_int_eq(kill(pid, SIGUSR1), 0);
	ck_assert_int_eq(sigpend_read(pid, &s), 0);
	/* kill() is process-directed: the shared set. */
	ck_assert_uint_eq((s.pnd | s.shd) & BIT(SIGUSR1), BIT(SIGUSR1));
	ck_assert_int_eq(sigpend_interrupts(&s), SIGPEND_NO);
	ck_assert_int_eq(write(q[1], &c, 1), 1);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	/* Reaped: no such thread. */
	ck_assert_int_eq(sigpend_read(pid, &s), -ESRCH);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}
END_TEST

static pid_t thread_tid;
static pthread_barrier_t bar;

static void *blocker(void *arg)
{
	sigset_t set;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	thread_tid = (pid_t)syscall(SYS_gettid);
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	return NULL;
}

/* A second thread, by its thread id: its own pending set. */
START_TEST(test_read_thread)
{
	struct sigpend s;
	pthread_t t;
	sigset_t set;
	int sig;

	pthread_barrier_init(&bar, NULL, 2);
	ck_assert_int_eq(pthread_create(&t, NULL, blocker, NULL), 0);
	pthread_barrier_wait(&bar);
	ck_assert_int_eq(syscall(SYS_tgkill, getpid(), thread_tid, SIGUSR2), 0);
	ck_assert_int_eq(sigpend_read(thread_tid, &s), 0);
	ck_assert_uint_eq(s.pnd & BIT(SIGUSR2), BIT(SIGUSR2));
	ck_assert_uint_eq(s.blk & BIT(SIGUSR2), BIT(SIGUSR2));
	ck_assert_uint_eq(s.threads, 2);
	ck_assert_int_eq(sigpend_interrupts(&s), SIGPEND_NO);
	pthread_barrier_wait(&bar);
	pthread_join(t, NULL);
	pthread_barrier_destroy(&bar);
	/* The thread took the signal with it; nothing pending here. */
	sigemptyset(&set);
	ck_assert_int_eq(sigpending(&set), 0);
	for (sig = 1; sig < SIGRTMIN; sig++)
		ck_assert(!sigismember(&set, sig));
	ck_assert_int_eq(sigpend_read(0, &s), -ESRCH);
}
END_TEST

static Suite *sigpend_suite(void)
{
	Suite *s = suite_create("sigpend");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_parse_edges);
	tcase_add_test(tc, test_parse_bad);
	tcase_add_test(tc, test_rule);
	tcase_add_test(tc, test_read_child);
	tcase_add_test(tc, test_read_thread);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sigpend_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
