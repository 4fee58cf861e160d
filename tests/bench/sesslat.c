// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sesslat: how fast the partner path answers (DESIGN §6, issue 9),
 * through librdmafs against a real rdmafs mount with policy=defer, over
 * N rounds of each measurement (default 100):
 *
 *   notice        a truncate is issued into a held range -> the holder's
 *                 poll() on the session descriptor wakes (the notice);
 *   release       just before rdmafs_session_release() -> the parked
 *                 truncate returns;
 *   kill_proceed  kill(SIGKILL) of a holder that got its notice -> the
 *                 parked truncate returns;
 *   kill_gone     kill(SIGKILL) of an idle holder -> its pin is gone from
 *                 rdmafs_file_pins() (polled in a tight loop).
 *
 *   sesslat [N]          as root; RDMAFS_BIN names the daemon, N may
 *                        come from the environment too (N=200), and
 *                        RDMAFS_OPTS adds mount options
 *
 * Each holder is a process of its own with its own session (a session
 * belongs to the process that opened it, and a holder truncating its own
 * range gets EDEADLK); the truncates come from another process.  Times
 * are CLOCK_MONOTONIC, shared through an anonymous shared mapping; the
 * processes step each other through pipes, outside the measured spans.
 * One line per measurement: NAME n=N median_ms= p90_ms= max_ms=.
 * Exits 77 without root or /dev/fuse, or when the daemon offers no
 * session channel; 1 when a round goes wrong.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2 */
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rdmafs/rdmafs.h>

#include "harness.h"

#define FILE_SIZE (1 << 20)
#define STEP_MS 35000 /* any one step; break_timeout is 30 s */
#define GONE_NS 5000000000LL /* kill_gone gives up after 5 s */

/* What the processes share: times in ns, and a child's failure. */
struct shared {
	int64_t t_wake, t_release, t_done;
	char err[256];
};

static struct mnt mnt;
static pid_t main_pid;
static struct shared *sh;
static const char *file;
static int file_fd = -1; /* the parent's, which would keep the mount busy */
static char buf[FILE_SIZE];

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void put(int64_t *slot, int64_t v)
{
	__atomic_store_n(slot, v, __ATOMIC_SEQ_CST);
}

static int64_t get(int64_t *slot)
{
	return __atomic_load_n(slot, __ATOMIC_SEQ_CST);
}

/* A child's failure: said in the shared area, then 'e' to the parent. */
static void __attribute__((noreturn))
child_fail(int wr, const char *what, int err)
{
	snprintf(sh->err, sizeof(sh->err), "%s: %s (pid %d)", what,
		 rdmafs_strerror(err), (int)getpid());
	if (write(wr, "e", 1) < 0)
		_exit(2);
	_exit(1);
}

static void __attribute__((noreturn)) die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
	va_list ap;

	if (getpid() != main_pid)
		_exit(1); /* a child: the parent sees the pipe go quiet */
	fputs("sesslat: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (sh && sh->err[0])
		fprintf(stderr, "sesslat: child: %s\n", sh->err);
	/* our children die with their process group's signal below */
	signal(SIGTERM, SIG_IGN);
	kill(0, SIGTERM);
	while (waitpid(0, NULL, 0) > 0) /* our group: not the daemon */
		;
	if (file_fd >= 0)
		close(file_fd);
	mnt_teardown(&mnt);
	exit(1);
}

static void send_byte(int fd, char c)
{
	if (write(fd, &c, 1) != 1)
		die("pipe write: %s", strerror(errno));
}

/* The next byte from @fd; dies on a child's 'e', EOF or STEP_MS. */
static char wait_byte(int fd, const char *step)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;
	int r;

	do
		r = poll(&p, 1, STEP_MS);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		die("%s: nothing after %d ms", step, STEP_MS);
	if (r < 0 || read(fd, &c, 1) != 1)
		die("%s: the child went away", step);
	if (c == 'e')
		die("%s: a child failed", step);
	return c;
}

/* A holder's session on @file: its own mount handle, session and fd. */
struct holder {
	struct rdmafs_mount *m;
	struct rdmafs_session *s;
	int fd;
};

static void holder_open(struct holder *h, int wr)
{
	int err;

	err = rdmafs_mount_open(mnt.mountpoint, &h->m);
	if (err)
		child_fail(wr, "rdmafs_mount_open", err);
	err = rdmafs_session_open(h->m, 0, &h->s);
	if (err)
		child_fail(wr, "rdmafs_session_open", err);
	/* the open mode proves the access a hold needs: write */
	h->fd = open(file, O_RDWR | O_CLOEXEC);
	if (h->fd < 0)
		child_fail(wr, "open", errno);
}

static void hold(struct holder *h, rdmafs_hold_t *id, int wr)
{
	struct rdmafs_range r = { 0, FILE_SIZE };
	int err = rdmafs_session_hold(h->s, h->fd, &r, id);

	if (err)
		child_fail(wr, "rdmafs_session_hold", err);
}

/* Waits for the notice of hold @id; records when poll() woke. */
static void await_notice(struct holder *h, rdmafs_hold_t id, int wr)
{
	struct pollfd p = { .fd = rdmafs_session_fd(h->s), .events = POLLIN };
	struct rdmafs_notice n;
	int r, err;

	do
		r = poll(&p, 1, STEP_MS);
	while (r < 0 && errno == EINTR);
	put(&sh->t_wake, now_ns());
	if (r <= 0)
		child_fail(wr, "poll for the notice", r ? errno : ETIMEDOUT);
	err = rdmafs_session_next_notice(h->s, &n);
	if (err)
		child_fail(wr, "rdmafs_session_next_notice", err);
	if (n.hold != id || n.op != RDMAFS_TRUNCATE || n.flags)
		child_fail(wr, "unexpected notice", EPROTO);
}

/*
 * notice and release: one holder for every round.  Per round (on 'g'):
 * hold, say 'h', wait for the notice, release, say 'r'; 'q' ends it (not
 * EOF: the child has the parent's end of the pipe too).
 */
static void holder_rounds(int rd, int wr)
{
	struct holder h;
	rdmafs_hold_t id;
	int err;

	holder_open(&h, wr);
	for (;;) {
		char c;

		if (read(rd, &c, 1) != 1 || c == 'q')
			break;
		hold(&h, &id, wr);
		send_byte(wr, 'h');
		await_notice(&h, id, wr);
		put(&sh->t_release, now_ns());
		err = rdmafs_session_release(h.s, id);
		if (err)
			child_fail(wr, "rdmafs_session_release", err);
		send_byte(wr, 'r');
	}
	rdmafs_session_close(h.s);
	rdmafs_mount_close(h.m);
	_exit(0);
}

/*
 * A holder to be killed: hold, say 'h'; with @notice also wait for the
 * notice and say 'n'; then wait for SIGKILL.
 */
static void __attribute__((noreturn)) holder_victim(int wr, int notice)
{
	struct holder h;
	rdmafs_hold_t id;

	holder_open(&h, wr);
	hold(&h, &id, wr);
	send_byte(wr, 'h');
	if (notice) {
		await_notice(&h, id, wr);
		send_byte(wr, 'n');
	}
	for (;;)
		pause();
}

/* On 'g': truncate @fd to 0 (parks), record when it returned, say 'd'. */
static void __attribute__((noreturn)) truncater(int fd, int rd, int wr)
{
	char c;

	if (read(rd, &c, 1) != 1)
		_exit(0);
	if (ftruncate(fd, 0) < 0)
		child_fail(wr, "ftruncate", errno);
	put(&sh->t_done, now_ns());
	send_byte(wr, 'd');
	_exit(0);
}

static pid_t spawn(int rd, int wr, int fd, char what)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid)
		return pid;
	signal(SIGTERM, SIG_DFL);
	if (what == 'R')
		holder_rounds(rd, wr);
	if (what == 'T')
		truncater(fd, rd, wr);
	holder_victim(wr, what == 'N');
}

static void reap(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		die("waitpid: %s", strerror(errno));
}

/* The file back at FILE_SIZE bytes of data after a truncate to 0. */
static void refill(int fd)
{
	if (pwrite(fd, buf, FILE_SIZE, 0) != FILE_SIZE)
		die("refill: %s", strerror(errno));
}

static void pipes(int p[2])
{
	if (pipe2(p, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
}

static void round_notice_release(int fd, int n, int64_t *notice,
				 int64_t *release)
{
	int cmd[2], ack[2], i;
	pid_t h;

	pipes(cmd);
	pipes(ack);
	h = spawn(cmd[0], ack[1], fd, 'R');
	close(cmd[0]);
	close(ack[1]);
	for (i = 0; i < n; i++) {
		int64_t t_issue;

		send_byte(cmd[1], 'g');
		wait_byte(ack[0], "hold");
		t_issue = now_ns();
		if (ftruncate(fd, 0) < 0)
			die("truncate under a hold: %s", strerror(errno));
		put(&sh->t_done, now_ns());
		wait_byte(ack[0], "release");
		notice[i] = get(&sh->t_wake) - t_issue;
		release[i] = get(&sh->t_done) - get(&sh->t_release);
		refill(fd);
	}
	send_byte(cmd[1], 'q');
	reap(h);
	close(cmd[1]);
	close(ack[0]);
}

static void round_kill_proceed(int fd, int n, int64_t *lat)
{
	int i;

	for (i = 0; i < n; i++) {
		int hack[2], tcmd[2], tack[2];
		pid_t h, t;
		int64_t t_kill;

		pipes(hack);
		pipes(tcmd);
		pipes(tack);
		h = spawn(-1, hack[1], fd, 'N');
		t = spawn(tcmd[0], tack[1], fd, 'T');
		close(hack[1]);
		close(tcmd[0]);
		close(tack[1]);
		wait_byte(hack[0], "hold");
		send_byte(tcmd[1], 'g');
		wait_byte(hack[0], "notice");
		t_kill = now_ns();
		kill(h, SIGKILL);
		wait_byte(tack[0], "truncate after kill");
		lat[i] = get(&sh->t_done) - t_kill;
		reap(h);
		reap(t);
		close(hack[0]);
		close(tcmd[1]);
		close(tack[0]);
		refill(fd);
	}
}

/* True while a pin of @pid is on the file open at @fd. */
static int pinned_by(int fd, pid_t pid)
{
	struct rdmafs_pin *pins;
	size_t count, i;
	int err, found = 0;

	err = rdmafs_file_pins(fd, &pins, &count);
	if (err == -ENODATA)
		return 0;
	if (err)
		die("rdmafs_file_pins: %s", rdmafs_strerror(err));
	for (i = 0; i < count; i++)
		found |= pins[i].holder == pid;
	rdmafs_pins_free(pins, count);
	return found;
}

static void round_kill_gone(int fd, int n, int64_t *lat)
{
	int i;

	for (i = 0; i < n; i++) {
		int ack[2];
		pid_t h;
		int64_t t_kill;

		pipes(ack);
		h = spawn(-1, ack[1], fd, 'H');
		close(ack[1]);
		wait_byte(ack[0], "hold");
		if (!pinned_by(fd, h))
			die("the listing does not show holder=%d", (int)h);
		t_kill = now_ns();
		kill(h, SIGKILL);
		/* an upper bound by one getxattr round trip */
		while (pinned_by(fd, h))
			if (now_ns() - t_kill > GONE_NS)
				die("holder %d killed 5 s ago still pins",
				    (int)h);
		lat[i] = now_ns() - t_kill;
		reap(h);
		close(ack[0]);
	}
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *name, int64_t *v, int n)
{
	double med;

	qsort(v, n, sizeof(*v), cmp64);
	med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
	/* p90 by nearest rank: the smallest value >= 90 % of them */
	printf("%-12s n=%d median_ms=%.3f p90_ms=%.3f max_ms=%.3f\n", name, n,
	       med / 1e6, v[(9 * n + 9) / 10 - 1] / 1e6, v[n - 1] / 1e6);
}

/* Exits 77 when the mount's daemon offers no session channel. */
static void need_sessions(void)
{
	struct rdmafs_mount *m;
	struct rdmafs_session *s;
	int err;

	err = rdmafs_mount_open(mnt.mountpoint, &m);
	if (err)
		die("rdmafs_mount_open: %s", rdmafs_strerror(err));
	err = rdmafs_session_open(m, 0, &s);
	rdmafs_mount_close(m);
	if (err == -EOPNOTSUPP || err == -ENOTSUP) {
		fprintf(stderr, "skip: this rdmafs offers no sessions: %s\n",
			rdmafs_strerror(err));
		mnt_teardown(&mnt);
		exit(SKIP_CODE);
	}
	if (err)
		die("rdmafs_session_open: %s", rdmafs_strerror(err));
	rdmafs_session_close(s);
}

static void head(int n, const char *opts)
{
	struct utsname u;
	double load[1] = { -1 };

	uname(&u);
	getloadavg(load, 1);
	printf("# sesslat: N=%d, kernel %s, %ld CPUs, backing %s, rdmafs -o "
	       "%s, load %.2f\n",
	       n, u.release, sysconf(_SC_NPROCESSORS_ONLN),
	       mnt.xfs ? "xfs on loop" : "directory", opts, load[0]);
}

int main(int argc, char **argv)
{
	const char *extra = getenv("RDMAFS_OPTS"), *en = getenv("N");
	int64_t *a, *b, *c, *d;
	char opts[512];
	int n = en && *en ? atoi(en) : 100, fd, err;

	if (argc == 2)
		n = atoi(argv[1]);
	if (argc > 2 || n < 1) {
		fprintf(stderr, "usage: sesslat [N]\n");
		return 2;
	}
	harness_require_root_fuse();
	main_pid = getpid();
	snprintf(opts, sizeof(opts), "policy=defer,break_timeout=30%s%s",
		 extra && *extra ? "," : "", extra && *extra ? extra : "");
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	a = calloc(4 * (size_t)n, sizeof(*a));
	if (sh == MAP_FAILED || !a) {
		perror("sesslat: memory");
		return 1;
	}
	b = a + n;
	c = b + n;
	d = c + n;
	memset(sh, 0, sizeof(*sh));
	memset(buf, 'x', sizeof(buf));
	/* our own process group, so that die() can end every child */
	setpgid(0, 0);
	signal(SIGPIPE, SIG_IGN);
	err = mnt_setup(&mnt, opts, false);
	if (err) {
		fprintf(stderr, "sesslat: mount: %s\n", strerror(-err));
		return 1;
	}
	need_sessions();
	file = strdup(mnt_path(&mnt, "f"));
	fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (!file || fd < 0)
		die("create %s: %s", file, strerror(errno));
	file_fd = fd;
	refill(fd);
	head(n, opts);
	fflush(stdout);
	round_notice_release(fd, n, a, b);
	round_kill_proceed(fd, n, c);
	round_kill_gone(fd, n, d);
	report("notice", a, n);
	report("release", b, n);
	report("kill_proceed", c, n);
	report("kill_gone", d, n);
	close(fd);
	file_fd = -1;
	err = mnt_teardown(&mnt);
	if (err)
		fprintf(stderr, "sesslat: the daemon exited with %d\n", err);
	return err ? 1 : 0;
}
