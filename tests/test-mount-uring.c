// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Mount test: FUSE over io_uring (-o io_uring).  The requests are served
 * through io_uring (status transport=io_uring), and a parked request
 * still ends with EINTR when its caller is signalled, although io_uring
 * carries no FUSE interrupts: the daemon sees the signal pending in
 * /proc (fs/med_wait.c).  A SIGKILLed caller dies at once and its
 * request leaves the daemon; a signal the caller blocks does not end
 * the wait.
 *
 * Root only.  Sets /sys/module/fuse/parameters/enable_uring to 1 for the
 * run and puts the old value back.  Skips (77) without that parameter
 * (no CONFIG_FUSE_IO_URING) or on an rdmafs whose libfuse cannot do
 * io_uring (< 3.18, or built without liburing).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "harness.h"
#include "clock-test-util.h"
#include "pin-test-util.h"

#define ENABLE_URING "/sys/module/fuse/parameters/enable_uring"
#define STATUS "user.rdmafs.status"
#define OPTS "io_uring,policy=defer,break_timeout=30"
#define KIB 1024L
#define FSIZE (256 * KIB)

static struct mnt M;
static char old_enable;
static pid_t main_pid; /* Check's forked cases must not restore */

/* The value of status key @key, or "" (static). */
static const char *status_of(const char *key)
{
	static char v[256];
	char buf[8192], *p;
	ssize_t n = getxattr(M.mountpoint, STATUS, buf, sizeof(buf) - 1);
	size_t kl = strlen(key);

	v[0] = '\0';
	if (n < 0)
		return v;
	buf[n] = '\0';
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
			snprintf(v, sizeof(v), "%.*s",
				 (int)strcspn(p + kl + 1, "\n"), p + kl + 1);
			break;
		}
	}
	return v;
}

static int wait_for(pid_t pid, long ms)
{
	int64_t end = now_ms() + ms;
	int st;

	do {
		pid_t r = waitpid(pid, &st, WNOHANG);

		ck_assert_int_ge(r, 0);
		if (r == pid)
			return st;
		sleep_ms(5);
	} while (now_ms() < end);
	return -1;
}

static void on_usr1(int sig)
{
	(void)sig;
}

struct res {
	int err; /* truncate's errno, 0 when it succeeded */
	int64_t end_ms; /* when it returned (CLOCK_MONOTONIC) */
};

static void *sleeper(void *arg)
{
	sigset_t set;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pause();
	return NULL;
}

/*
 * A child that truncates @path to 0 (which cuts into the pin: parks),
 * with a SIGUSR1 handler without SA_RESTART, SIGUSR1 blocked if @block,
 * and with @threaded a second thread that blocks SIGUSR1; its result
 * comes back through *@rfd.
 */
static pid_t truncater_t(const char *path, bool block, bool threaded, int *rfd)
{
	int p[2];
	pid_t pid;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct sigaction sa;
		struct res r;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_usr1;
		sigaction(SIGUSR1, &sa, NULL);
		if (block) {
			sigset_t set;

			sigemptyset(&set);
			sigaddset(&set, SIGUSR1);
			sigprocmask(SIG_BLOCK, &set, NULL);
		}
		if (threaded) {
			pthread_t t;

			if (pthread_create(&t, NULL, sleeper, NULL))
				_exit(3);
		}
		r.err = truncate(path, 0) < 0 ? errno : 0;
		r.end_ms = now_ms();
		if (write(p[1], &r, sizeof(r)) != sizeof(r))
			_exit(2);
		_exit(0);
	}
	close(p[1]);
	*rfd = p[0];
	return pid;
}

static pid_t truncater(const char *path, bool block, int *rfd)
{
	return truncater_t(path, block, false, rfd);
}

static struct res result_of(pid_t pid, int rfd, long ms)
{
	struct res r = { -1, 0 };
	int st = wait_for(pid, ms);

	if (st == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	ck_assert_msg(st != -1, "the truncate still waits after %ld ms", ms);
	ck_assert_int_eq(read(rfd, &r, sizeof(r)), sizeof(r));
	close(rfd);
	return r;
}

/* What /proc says of @pid now (State, SigPnd, ShdPnd), for the log. */
static void show_state(pid_t pid, const char *when)
{
	char cmd[160];

	snprintf(
		cmd, sizeof(cmd),
		"grep -E '^(State|SigPnd|ShdPnd):' /proc/%d/status | tr '\\n\\t' '  '",
		(int)pid);
	printf("mount-uring: caller %s: ", when);
	fflush(stdout);
	harness_sh("%s", cmd);
	printf("\n");
	fflush(stdout);
}

/* Mounts with io_uring; a file "f" of FSIZE bytes pinned on 0+64K. */
static const char *setup_pinned(void)
{
	static char f[PATH_MAX];

	ck_assert_int_eq(mnt_setup(&M, OPTS, false), 0);
	ck_assert_msg(strcmp(status_of("transport"), "io_uring") == 0,
		      "transport=%s (%s)", status_of("transport"),
		      status_of("transport_why"));
	snprintf(f, sizeof(f), "%s", mnt_path(&M, "f"));
	put_random(f, FSIZE, 7);
	ck_assert_int_eq(pin(f, "0+64K"), 0);
	return f;
}

static void expect_untouched(const char *f)
{
	struct stat st;

	ck_assert_int_eq(stat(f, &st), 0);
	ck_assert_int_eq(st.st_size, FSIZE);
	ck_assert_str_eq(status_of("parked"), "0");
}

/* SIGUSR1 to a caller parked over io_uring: EINTR at once. */
START_TEST(test_signal_eintr)
{
	const char *f = setup_pinned();
	int64_t t0;
	struct res r;
	pid_t pid;
	int rfd;

	pid = truncater(f, false, &rfd);
	sleep_ms(300);
	ck_assert_msg(wait_for(pid, 1) == -1, "the truncate was not parked");
	ck_assert_str_eq(status_of("parked"), "1");
	t0 = now_ms();
	ck_assert_int_eq(kill(pid, SIGUSR1), 0);
	show_state(pid, "just signalled");
	r = result_of(pid, rfd, 3000);
	ck_assert_msg(r.err == EINTR, "truncate: %s, want EINTR",
		      r.err ? strerror(r.err) : "done");
	printf("mount-uring: EINTR %" PRId64 " ms after SIGUSR1\n",
	       r.end_ms - t0);
	ck_assert_int_lt(r.end_ms - t0, 3000);
	expect_untouched(f);
	ck_assert_int_eq(mnt_teardown(&M), 0);
}
END_TEST

/*
 * The caller's process has a second thread, which blocks the signal: a
 * signal to the process is the caller's (seen pending twice in a row).
 */
START_TEST(test_threaded_signal)
{
	const char *f = setup_pinned();
	int64_t t0;
	struct res r;
	pid_t pid;
	int rfd;

	pid = truncater_t(f, false, true, &rfd);
	sleep_ms(300);
	ck_assert_msg(wait_for(pid, 1) == -1, "the truncate was not parked");
	t0 = now_ms();
	ck_assert_int_eq(kill(pid, SIGUSR1), 0);
	r = result_of(pid, rfd, 3000);
	ck_assert_msg(r.err == EINTR, "truncate: %s, want EINTR",
		      r.err ? strerror(r.err) : "done");
	printf("mount-uring: threaded caller: EINTR %" PRId64
	       " ms after SIGUSR1\n",
	       r.end_ms - t0);
	expect_untouched(f);
	ck_assert_int_eq(mnt_teardown(&M), 0);
}
END_TEST

/* SIGKILL: the caller dies at once, the daemon drops its request. */
START_TEST(test_sigkill)
{
	const char *f = setup_pinned();
	int64_t t0, end;
	pid_t pid;
	int rfd, st;

	pid = truncater(f, false, &rfd);
	sleep_ms(300);
	ck_assert_msg(wait_for(pid, 1) == -1, "the truncate was not parked");
	t0 = now_ms();
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	st = wait_for(pid, 3000);
	ck_assert_msg(st != -1, "a SIGKILLed truncate still waits after 3 s");
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	printf("mount-uring: SIGKILLed caller gone after %" PRId64 " ms\n",
	       now_ms() - t0);
	close(rfd);
	/* It was answered before the caller could go: nothing parked. */
	end = now_ms() + 1000;
	while (strcmp(status_of("parked"), "0") != 0 && now_ms() < end)
		sleep_ms(10);
	expect_untouched(f);
	ck_assert_int_eq(mnt_teardown(&M), 0);
}
END_TEST

/* A signal the caller blocks does not end the wait; the unpin does. */
START_TEST(test_blocked_signal)
{
	const char *f = setup_pinned();
	struct stat st;
	int64_t t0;
	struct res r;
	pid_t pid;
	int rfd;

	pid = truncater(f, true, &rfd);
	sleep_ms(300);
	ck_assert_int_eq(kill(pid, SIGUSR1), 0);
	sleep_ms(600);
	ck_assert_msg(wait_for(pid, 1) == -1,
		      "a blocked signal ended the wait");
	ck_assert_str_eq(status_of("parked"), "1");
	t0 = now_ms();
	/* Through the root: the parked truncate holds f's inode lock. */
	ck_assert_int_eq(setxattr(M.mountpoint, "user.rdmafs.unpin", "f 0+64K",
				  strlen("f 0+64K"), 0),
			 0);
	r = result_of(pid, rfd, 3000);
	ck_assert_msg(r.err == 0, "truncate: %s", strerror(r.err));
	printf("mount-uring: truncate done %" PRId64 " ms after the unpin\n",
	       r.end_ms - t0);
	ck_assert_int_eq(stat(f, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	ck_assert_str_eq(status_of("parked"), "0");
	ck_assert_int_eq(mnt_teardown(&M), 0);
}
END_TEST

/*
 * A parked request keeps its io_uring entry, and the kernel queues a
 * request on the ring of its caller's CPU: with every entry of a queue
 * parked, the next request from that CPU (an unpin too) would wait for
 * the break timeout.  rdmafs sets the depth (RFS_URING_DEPTH, 32) and
 * parks at most one less: more truncates, all from CPU 0, get ETXTBSY at
 * once, and the unpins from CPU 0 still get through.
 */
START_TEST(test_ring_full)
{
	enum { DEPTH = 32, N = DEPTH + 2 };
	char rel[32], v[64];
	pid_t pid[N];
	int rfd[N], i, done = 0, busy = 0;
	cpu_set_t cpu0;
	int64_t t0;

	ck_assert_int_eq(mnt_setup(&M, OPTS, false), 0);
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	ck_assert_int_eq(sched_setaffinity(0, sizeof(cpu0), &cpu0), 0);
	for (i = 0; i < N; i++) {
		snprintf(rel, sizeof(rel), "f%d", i);
		put_random(mnt_path(&M, rel), 16 * KIB, 20 + (unsigned int)i);
		ck_assert_int_eq(pin(mnt_path(&M, rel), "0+4K"), 0);
	}
	for (i = 0; i < N; i++) {
		snprintf(rel, sizeof(rel), "f%d", i);
		pid[i] = truncater(mnt_path(&M, rel), false, &rfd[i]);
	}
	sleep_ms(1000);
	ck_assert_str_eq(status_of("parked"), "31");
	t0 = now_ms();
	for (i = 0; i < N; i++) {
		snprintf(v, sizeof(v), "f%d 0+4K", i);
		ck_assert_int_eq(setxattr(M.mountpoint, "user.rdmafs.unpin", v,
					  strlen(v), 0),
				 0);
	}
	printf("mount-uring: %d unpins from CPU 0 took %" PRId64 " ms\n", N,
	       now_ms() - t0);
	for (i = 0; i < N; i++) {
		struct res r = result_of(pid[i], rfd[i], 5000);

		ck_assert_msg(r.err == 0 || r.err == ETXTBSY, "truncate %d: %s",
			      i, strerror(r.err));
		done += r.err == 0;
		busy += r.err == ETXTBSY;
	}
	ck_assert_int_eq(done, DEPTH - 1);
	ck_assert_int_eq(busy, N - (DEPTH - 1));
	ck_assert_int_lt(now_ms() - t0, 5000);
	ck_assert_int_eq(mnt_teardown(&M), 0);
}
END_TEST

static void restore_enable(void)
{
	FILE *f;

	if (!old_enable || getpid() != main_pid)
		return;
	f = fopen(ENABLE_URING, "we");
	if (f) {
		fputc(old_enable == 'Y' || old_enable == '1' ? '1' : '0', f);
		fclose(f);
	}
}

/* 0: io_uring serves; else why not, on stderr (a skip or a failure). */
static int probe(void)
{
	char why[256], tp[64];
	int err = mnt_setup(&M, OPTS, false);

	if (err) {
		fprintf(stderr, "mount-uring: mount with -o %s: %s\n", OPTS,
			strerror(-err));
		return SKIP_CODE;
	}
	snprintf(why, sizeof(why), "%s", status_of("transport_why"));
	if (strcmp(status_of("transport"), "io_uring") == 0) {
		/* Pins need a filesystem with block maps (the loop XFS). */
		err = harness_sh("head -c 4096 /dev/urandom > '%s' && sync",
				 mnt_path(&M, "p"))
			      ? EIO
			      : pin(mnt_path(&M, "p"), "all");
		mnt_teardown(&M);
		if (err)
			fprintf(stderr,
				"mount-uring: skip: cannot pin here: %s\n",
				strerror(err));
		return err ? SKIP_CODE : 0;
	}
	snprintf(tp, sizeof(tp), "%s", status_of("transport"));
	mnt_teardown(&M);
	fprintf(stderr, "mount-uring: transport %s: %s\n", tp, why);
	/* What this rdmafs's libfuse cannot do is a skip; the rest fails. */
	return strstr(why, "libfuse") ? SKIP_CODE : EXIT_FAILURE;
}

int main(void)
{
	Suite *s = suite_create("mount-uring");
	TCase *t = tcase_create("signals");
	SRunner *sr;
	FILE *f;
	int failed;

	harness_require_root_fuse();
	f = fopen(ENABLE_URING, "re");
	if (!f) {
		fprintf(stderr,
			"mount-uring: skip: no %s (a kernel without "
			"CONFIG_FUSE_IO_URING)\n",
			ENABLE_URING);
		return SKIP_CODE;
	}
	if (fread(&old_enable, 1, 1, f) != 1)
		old_enable = 'N';
	fclose(f);
	f = fopen(ENABLE_URING, "we");
	if (!f || fputs("1", f) < 0 || fclose(f) != 0) {
		fprintf(stderr, "mount-uring: couldn't enable %s\n",
			ENABLE_URING);
		return EXIT_FAILURE;
	}
	main_pid = getpid();
	atexit(restore_enable);
	failed = probe();
	if (failed)
		return failed;

	tcase_set_timeout(t, 60);
	tcase_add_test(t, test_signal_eintr);
	tcase_add_test(t, test_threaded_signal);
	tcase_add_test(t, test_sigkill);
	tcase_add_test(t, test_blocked_signal);
	tcase_add_test(t, test_ring_full);
	suite_add_tcase(s, t);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
