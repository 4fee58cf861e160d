// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The session channel (DESIGN §6, doc/session.md) against a hostile
 * client that speaks to the daemon's socket itself, without librdmafs:
 *
 *  malformed packets (sizes, magic, version, type, status, sequence 0,
 *  overflowing ranges, `all` with an offset) get an error REPLY when the
 *  request's sequence number can be read, else end the session; a flood
 *  of requests whose replies are never read ends that session only;
 *  descriptors of every kind (none, two, a hundred, sockets, /dev/fuse,
 *  another rdmafs mount, directories, O_PATH, read-only, tmpfs, memfd,
 *  pipe, eventfd, pidfd, epoll, a FIFO of the mount) are refused with
 *  their documented error and none stays in the daemon, and a closing
 *  descriptor of a stopped FUSE server does not pile up daemon threads;
 *  the holder is the kernel's: a forked child, a process handed the
 *  socket and a user that may only read get EPERM or EACCES, another
 *  session cannot release a hold it did not make; the session limits
 *  (256 per user, 768 for users other than root together, 1024) refuse
 *  cleanly; a holder's exec, exit while its HOLD is in
 *  flight, or death as an unreaped zombie drops its pins; a deaf holder
 *  of many holds loses notices, never the daemon's memory or time.
 *  Last, the daemon is killed with SIGKILL and must be gone within 2 s.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "pin-test-util.h"

#include "sesshostile-wire.h"

/*
 * The daemon's growth a deaf holder may cause: its bounded queues.  Under
 * ASan (the CI's asan step builds the daemon alike) freed memory sits
 * in quarantine and every allocation carries redzones, so RSS says less
 * about what is kept.
 */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_BOUND_KB (128 * 1024)
#else
#define RSS_BOUND_KB (16 * 1024)
#endif

/* ================= the fixture ================= */

static void setup(void)
{
	ck_assert_int_eq(mnt_setup(&M, "policy=break,break_timeout=2", false),
			 0);
	leftovers_add(M.scratch);
	put_file(mp(".probe"), "x", 1, 0644);
	if (pin(mp(".probe"), "0+1")) {
		printf("mount-sesshostile: no pins on this backing\n");
		mnt_teardown(&M);
		exit(SKIP_CODE);
	}
	ck_assert_int_eq(unpin(mp(".probe"), "all"), 0);
	ck_assert_int_eq(chmod(M.mountpoint, 0755), 0);
	file_m("f", 64 * KIB, 0644);
	file_m("shared", 64 * KIB, 0666);
	ck_assert_int_eq(mkfifo(mp("fifo"), 0666), 0);
	/* Another rdmafs, over a backing of its own. */
	ck_assert_int_eq(mnt_setup(&M2, NULL, false), 0);
	leftovers_add(M2.scratch);
}

static int kill9(void);
static int kill9_failed;

static void teardown(void)
{
	kill9_failed = kill9();
	mnt_teardown(&M);
	mnt_teardown(&M2);
}

/* ================= malformed packets ================= */

struct bad {
	const char *what;
	size_t len; /* bytes sent (a HOLD-like prefix, zero-padded) */
	int field; /* byte offset to poke, -1 none */
	uint64_t val;
	int width;
	int want; /* status, or 1: the session ends */
};

START_TEST(test_malformed)
{
	static const struct bad bads[] = {
		{ "empty packet", 0, -1, 0, 0, 1 },
		{ "1 byte", 1, -1, 0, 0, 1 },
		{ "15 bytes", 15, -1, 0, 0, 1 },
		{ "47-byte HOLD", 47, -1, 0, 0, -EPROTO },
		{ "49-byte HOLD", 49, -1, 0, 0, -EPROTO },
		{ "4096 bytes", 4096, -1, 0, 0, -EPROTO },
		{ "65536 bytes", 65536, -1, 0, 0, -EPROTO },
		{ "bad magic", 48, 0, 0x4e534652u, 4, 1 },
		{ "version 2", 48, 4, 2, 2, -EPROTONOSUPPORT },
		{ "type 9", 48, 8, 9, 4, 1 },
		{ "type HELLO", 48, 8, 1, 4, 1 },
		{ "status set", 48, 12, (uint32_t)-5, 4, -EPROTO },
		{ "seq 0", 48, 16, 0, 8, 1 },
		{ "range overflows", 48, 24, UINT64_MAX - 10, 8, -EPROTO },
		{ "all at offset 1", 48, 32, UINT64_MAX, 8, -EPROTO },
		{ "length 0", 48, 32, 0, 8, -EPROTO },
		{ "flags set", 48, 40, 1, 4, -EPROTO },
		{ "reserved set", 48, 44, 1, 4, -EPROTO },
	};
	static unsigned char b[65536];
	int base, s, i, fd, st;
	uint64_t seq = 42;

	fd = open(mp("f"), O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	base = dfds();
	for (i = 0; i < (int)(sizeof(bads) / sizeof(bads[0])); i++) {
		const struct bad *x = &bads[i];

		s = raw_open();
		ck_assert_int_ge(s, 0);
		memset(b, 0, sizeof(b));
		req(b, 2, seq, 1, 4096);
		if (x->field >= 0)
			memcpy(b + x->field, &x->val, (size_t)x->width);
		if (x->field == 24) /* overflowing: off + len wraps */
			put64(b + 32, 100);
		ck_assert_int_eq(sendpkt(s, b, x->len, &fd, 1, NULL), 0);
		if (x->want == 1) {
			ck_assert_msg(ended(s, 3000), "%s: session lives",
				      x->what);
		} else {
			st = reply(s, seq, 3000, NULL);
			ck_assert_msg(st == x->want, "%s: status %d, not %d",
				      x->what, st, x->want);
			/* An answered error leaves the session usable. */
			ck_assert_int_eq(release(s, 7, 12345), -ENOENT);
		}
		close(s);
	}
	/* A RELEASE of hold 0, and with a descriptor along. */
	s = raw_open();
	ck_assert_int_eq(release(s, 5, 0), -EPROTO);
	req(b, 3, 6, 1, 0);
	ck_assert_int_eq(sendpkt(s, b, 32, &fd, 1, NULL), 0);
	ck_assert_int_eq(reply(s, 6, 3000, NULL), -EPROTO);
	close(s);
	close(fd);
	at_base(base, "malformed");
}
END_TEST

/* Requests sent as fast as the socket takes them, no reply ever read. */
START_TEST(test_flood)
{
	unsigned char b[48];
	long rss0 = status_kb("VmRSS:"), sent = 0;
	int base = dfds(), s = raw_open(), other = raw_open();
	int64_t t0 = mono_ms();

	ck_assert_int_ge(s, 0);
	ck_assert_int_ge(other, 0);
	while (mono_ms() - t0 < 5000 && sent < 200000) {
		size_t n = req(b, 3, (uint64_t)sent + 1, 99999, 0);

		if (send(s, b, n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			if (errno != EAGAIN)
				break; /* the daemon ended it */
			/* Meanwhile, another session is served at once. */
			ck_assert_int_eq(release(other, (uint64_t)sent + 1, 9),
					 -ENOENT);
			nap_ms(1);
			continue;
		}
		sent++;
	}
	printf("sesshostile: flood: %ld requests sent in %lld ms\n", sent,
	       (long long)(mono_ms() - t0));
	ck_assert_msg(ended(s, 5000), "a session that reads nothing lives");
	ck_assert_int_eq(release(other, 1, 9), -ENOENT);
	close(s);
	close(other);
	ck_assert_int_lt(status_kb("VmRSS:") - rss0, 16 * 1024);
	at_base(base, "flood");
}
END_TEST

/* ================= descriptors ================= */

struct fdcase {
	const char *what;
	int fd;
	int want;
};

START_TEST(test_fds)
{
	int p[2], many[100], base, s, i, fd, fuse, m2, st;
	struct fdcase c[20];
	int nc = 0, two[2];
	char tmpl[] = "/dev/shm/sesshostile.XXXXXX";
	uint64_t id;

	s = raw_open();
	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	put_file(mnt_path(&M2, "g"), "0123456789", 10, 0644);
	m2 = open(mnt_path(&M2, "g"), O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(m2, 0);
	fuse = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	fd = mkstemp(tmpl);
	ck_assert_int_ge(fd, 0);
	unlink(tmpl);
#define C(w, f, e) c[nc++] = (struct fdcase){ w, f, e }
	C("the socket itself", s, -EXDEV);
	C("another rdmafs mount's file", m2, -EXDEV);
	C("the mount root", open(M.mountpoint, O_RDONLY | O_CLOEXEC), -EACCES);
	C("a directory", open(mp("."), O_RDONLY | O_DIRECTORY), -EACCES);
	C("O_PATH", open(mp("f"), O_PATH | O_CLOEXEC), -EBADF);
	C("O_RDONLY", open(mp("f"), O_RDONLY | O_CLOEXEC), -EACCES);
	C("a FIFO of the mount", open(mp("fifo"), O_RDWR | O_CLOEXEC), -EINVAL);
	C("a tmpfs file", fd, -EXDEV);
	C("a memfd", memfd_create("x", MFD_CLOEXEC), -EXDEV);
	C("a pipe's write end", p[1], -EXDEV);
	C("a pipe's read end", p[0], -EACCES);
	C("an eventfd", eventfd(0, EFD_CLOEXEC), -EXDEV);
	C("a pidfd", (int)syscall(SYS_pidfd_open, getpid(), 0), -EACCES);
	C("an epoll fd", epoll_create1(EPOLL_CLOEXEC), -EACCES);
	if (fuse >= 0)
		C("/dev/fuse", fuse, -EXDEV);
#undef C
	base = dfds();
	for (i = 0; i < nc; i++) {
		ck_assert_msg(c[i].fd >= 0, "%s: %s", c[i].what,
			      strerror(errno));
		st = hold(s, (uint64_t)i + 1, c[i].fd, 0, 0, NULL);
		/* pidfd and epoll: O_RDWR on some kernels, never a hold. */
		ck_assert_msg(st == c[i].want ||
				      (st < 0 && st != -ETIMEDOUT &&
				       st != -ECONNRESET &&
				       c[i].want == -EACCES && st == -EXDEV),
			      "%s: status %d, not %d", c[i].what, st,
			      c[i].want);
	}
	ck_assert_int_eq(hold(s, 100, -1, 0, 0, NULL), -EBADF);
	two[0] = two[1] = open(mp("f"), O_RDWR | O_CLOEXEC);
	ck_assert_int_eq(sendpkt(s, (unsigned char[48]){ 0 }, 0, NULL, 0, NULL),
			 0);
	ck_assert(ended(s, 3000)); /* an empty packet is an end */
	close(s);
	s = raw_open();
	{
		unsigned char b[48];

		req(b, 2, 101, 0, 1);
		ck_assert_int_eq(sendpkt(s, b, 48, two, 2, NULL), 0);
		ck_assert_int_eq(reply(s, 101, 3000, NULL), -EPROTO);
		for (i = 0; i < 100; i++)
			many[i] = two[0];
		req(b, 2, 102, 0, 1);
		ck_assert_int_eq(sendpkt(s, b, 48, many, 100, NULL), 0);
		ck_assert_int_eq(reply(s, 102, 3000, NULL), -EPROTO);
	}
	/* The real thing still works, and releases. */
	ck_assert_int_eq(hold(s, 103, two[0], 0, 4096, &id), 0);
	ck_assert_int_eq(session_pins(), 1);
	/* Hold ids are easy to guess: another session's is not ours. */
	fd = raw_open();
	ck_assert_int_eq(release(fd, 1, id), -ENOENT);
	close(fd);
	ck_assert_int_eq(session_pins(), 1);
	ck_assert_int_eq(release(s, 104, id), 0);
	ck_assert_int_eq(release(s, 105, id), -ENOENT);
	close(s);
	at_base(base, "descriptors");
	for (i = 0; i < nc; i++)
		close(c[i].fd);
	close(two[0]);
}
END_TEST

/*
 * The daemon closes the descriptor of a hold it refused; a descriptor of
 * another FUSE mount makes that close a FLUSH to another server, which
 * may never answer (a user's own server).  Such holds must not cost the
 * daemon a thread each for good: a user leaves at most 64 keepers, its
 * session ends past that, root's holds still work.
 */
static int child_foreign(int fd)
{
	int s = -1, i, st = 0;

	if (as_nobody())
		return 2;
	for (i = 0; i < 100; i++) {
		if (s < 0 && (s = raw_open()) < 0)
			return 3;
		st = hold(s, (uint64_t)i + 1, fd, 0, 0, NULL);
		if (st == -ECONNRESET) {
			close(s);
			s = -1;
		} else if (st != -EXDEV) {
			return 4;
		}
	}
	return 0;
}

START_TEST(test_foreign_flush)
{
	int fd, s = raw_open(), f = open(mp("f"), O_RDWR | O_CLOEXEC), pp[2];
	int base = dfds(), k, st, r = -1;
	struct pollfd p;
	pid_t pid;

	put_file(mnt_path(&M2, "h"), "0123456789", 10, 0666);
	fd = open(mnt_path(&M2, "h"), O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pipe(pp), 0);
	ck_assert_int_eq(kill(M2.daemon, SIGSTOP), 0);
	pid = fork();
	if (pid == 0) {
		/* Its exit waits for M2 too (its own FLUSH): told first. */
		r = child_foreign(fd);
		_exit(write(pp[1], &r, sizeof(r)) == sizeof(r) ? 0 : 1);
	}
	p = (struct pollfd){ pp[0], POLLIN, 0 };
	if (poll(&p, 1, 20000) != 1 || read(pp[0], &r, sizeof(r)) != sizeof(r))
		r = -1;
	k = (dfds() - base + 500) / 1000;
	st = hold(s, 1, f, 0, 0, NULL); /* root, meanwhile */
	kill(M2.daemon, SIGCONT);
	waitpid(pid, NULL, 0);
	printf("sesshostile: 100 holds of a stopped FUSE server's file: "
	       "%d keepers waiting\n",
	       k);
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(st, 0);
	ck_assert_int_le(k, 64);
	close(s);
	close(fd);
	close(f);
	close(pp[0]);
	close(pp[1]);
	ck_assert(pins_gone_within(1000));
	at_base(base, "foreign");
}
END_TEST

/* ================= identity ================= */

static int child_inherited(int s)
{
	int fd = open(mp("f"), O_RDWR | O_CLOEXEC);

	return hold(s, 77, fd, 0, 1, NULL) == -EPERM ? 0 : 1;
}

/* A process handed the connected socket is not its owner either. */
static int child_handed(int ctl)
{
	union {
		char c[CMSG_SPACE(sizeof(int))];
		struct cmsghdr a;
	} u;
	char x;
	struct iovec iov = { &x, 1 };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.c,
			     .msg_controllen = sizeof(u.c) };
	int s, fd = open(mp("f"), O_RDWR | O_CLOEXEC);

	if (recvmsg(ctl, &mh, 0) != 1 || !CMSG_FIRSTHDR(&mh))
		return 2;
	memcpy(&s, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof(int));
	return hold(s, 78, fd, 0, 1, NULL) == -EPERM ? 0 : 1;
}

/* Nobody: may hold what it may write, not what it may only read. */
static int child_nobody(int unused)
{
	struct ucred cr = { .pid = getppid(), .uid = NOBODY, .gid = NOBODY };
	unsigned char b[48];
	int s, ro, rw;

	(void)unused;
	if (as_nobody())
		return 2;
	s = raw_open();
	ro = open(mp("f"), O_RDONLY | O_CLOEXEC);
	rw = open(mp("shared"), O_RDWR | O_CLOEXEC);
	if (s < 0 || ro < 0 || rw < 0 || open(mp("f"), O_RDWR) >= 0)
		return 3;
	if (hold(s, 1, ro, 0, 1, NULL) != -EACCES)
		return 4;
	if (hold(s, 2, rw, 0, 1, NULL) != 0)
		return 5;
	/* Claiming another pid: the kernel refuses it to a user. */
	req(b, 2, 3, 0, 1);
	if (sendpkt(s, b, 48, &rw, 1, &cr) != -EPERM)
		return 6;
	return 0;
}

/* Root may claim any pid: the owner's, from a child of it. */
static int child_root_claims(int s)
{
	struct ucred cr = { .pid = getppid(), .uid = 0, .gid = 0 };
	unsigned char b[48];
	int fd = open(mp("f"), O_RDWR | O_CLOEXEC);

	req(b, 2, 79, 0, 1);
	if (sendpkt(s, b, 48, &fd, 1, &cr))
		return 2;
	return reply(s, 79, 5000, NULL) == 0 ? 0 : 1;
}

START_TEST(test_identity)
{
	int s = raw_open(), sp[2], st;
	pid_t pid;

	ck_assert_int_eq(in_child(child_inherited, s), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM, 0, sp), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(child_handed(sp[1]));
	{
		union {
			char c[CMSG_SPACE(sizeof(int))];
			struct cmsghdr a;
		} u = { 0 };
		struct iovec iov = { "x", 1 };
		struct msghdr mh = { .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = u.c,
				     .msg_controllen = sizeof(u.c) };
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &s, sizeof(int));
		ck_assert_int_eq(sendmsg(sp[0], &mh, 0), 1);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_eq(in_child(child_nobody, 0), 0);
	/* Nobody's session ended with it, its pin too. */
	ck_assert(pins_gone_within(1000));
	/* Root's claim is honoured: root could ptrace the owner anyway. */
	ck_assert_int_eq(in_child(child_root_claims, s), 0);
	ck_assert_int_eq(session_pins(), 1);
	close(s);
	ck_assert(pins_gone_within(1000));
}
END_TEST

/* ================= limits ================= */

static int *opened;

/* Sessions until refused: how many (at most @max). */
static int open_many(int max)
{
	int n = 0, s;

	while (n < max && (s = raw_open()) >= 0)
		opened[n++] = s;
	return n;
}

static uid_t limit_uid;

static int child_user_max(int ctl)
{
	int n;

	if (setgroups(0, NULL) || setgid(limit_uid) || setuid(limit_uid))
		return 2;
	n = open_many(300);
	/* Tell the parent, then keep them while it tries the total. */
	if (write(ctl, &n, sizeof(n)) != sizeof(n))
		return 3;
	return read(ctl, &n, sizeof(n)) == sizeof(n) ? 0 : 4;
}

/*
 * 256 sessions per user, 768 for users other than root together (a few
 * users must not lock root's holders out), 1024 in all; past a limit the
 * client reads EOF before any HELLO, and what is open lives on.
 */
START_TEST(test_limits)
{
	struct rlimit rl = { 4096, 4096 };
	int base = dfds(), sp[4][2], n[4], k, one, i, st;
	pid_t pid[4];

	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	opened = calloc(2048, sizeof(int));
	one = raw_open();
	ck_assert_int_ge(one, 0);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp[i]), 0);
		limit_uid = 60001 + (uid_t)i;
		pid[i] = fork();
		if (pid[i] == 0)
			_exit(child_user_max(sp[i][1]));
		ck_assert_int_eq(read(sp[i][0], &n[i], sizeof(n[i])),
				 sizeof(n[i]));
		ck_assert_int_eq(n[i], i < 3 ? 256 : 0);
	}
	/* Root up to the total; the one session of before is unaffected. */
	k = open_many(1100);
	ck_assert_int_eq(k + 3 * 256 + 1, 1024);
	ck_assert_int_eq(release(one, 1, 5), -ENOENT);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(write(sp[i][0], &k, sizeof(k)), sizeof(k));
		ck_assert_int_eq(waitpid(pid[i], &st, 0), pid[i]);
		ck_assert_int_eq(WEXITSTATUS(st), 0);
		close(sp[i][0]);
		close(sp[i][1]);
	}
	for (i = 0; i < k; i++)
		close(opened[i]);
	close(one);
	at_base(base, "limits");
	free(opened);
}
END_TEST

/* ================= lifetime ================= */

/* Holds f in a fresh session, then @how: 0 exec, 1 exit (zombie). */
static void holder_then(int how, int ready)
{
	int s = raw_open(), fd = open(mp("f"), O_RDWR | O_CLOEXEC);
	char c = 'r';

	if (hold(s, 1, fd, 0, 4096, NULL))
		_exit(1);
	if (write(ready, &c, 1) != 1)
		_exit(2);
	nap_ms(100);
	if (how == 0)
		execl("/bin/sleep", "sleep", "3", (char *)NULL);
	_exit(0);
}

static char proc_state(pid_t pid)
{
	char path[64], b[512], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return '?';
	p = fgets(b, sizeof(b), f) ? strrchr(b, ')') : NULL;
	fclose(f);
	return p ? p[2] : '?';
}

START_TEST(test_lifetime)
{
	int how, pp[2], st;
	char c;
	pid_t pid;

	for (how = 0; how < 2; how++) {
		ck_assert_int_eq(pipe(pp), 0);
		pid = fork();
		if (pid == 0)
			holder_then(how, pp[1]);
		close(pp[1]);
		ck_assert_int_eq(read(pp[0], &c, 1), 1);
		close(pp[0]);
		ck_assert_int_eq(session_pins(), 1);
		ck_assert_msg(pins_gone_within(1000), "%s: pin stays",
			      how ? "zombie" : "exec");
		if (how == 1)
			ck_assert_int_eq(proc_state(pid), 'Z');
		else
			ck_assert(strchr("RSD", proc_state(pid))); /* alive */
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	/* Exits with its HOLD on the way. */
	for (how = 0; how < 20; how++) {
		pid = fork();
		if (pid == 0) {
			unsigned char b[48];
			int s = raw_open(),
			    fd = open(mp("f"), O_RDWR | O_CLOEXEC);

			req(b, 2, 1, 0, UINT64_MAX);
			sendpkt(s, b, 48, &fd, 1, NULL);
			if (how & 1)
				nap_ms(how / 2);
			_exit(0);
		}
		waitpid(pid, &st, 0);
	}
	ck_assert(pins_gone_within(2000));
}
END_TEST

/* ================= a deaf holder ================= */

START_TEST(test_deaf)
{
	int deaf = raw_open(), other = raw_open(), fd, f2, i, st, n = 0, nh;
	long rss0 = status_kb("VmRSS:");
	unsigned char in[256];
	int64_t t0;
	uint64_t id;
	pid_t pid;

	file_m("deaf", 64 * KIB, 0666);
	file_m("deaf2", 64 * KIB, 0666);
	fd = open(mp("deaf"), O_RDWR | O_CLOEXEC);
	f2 = open(mp("deaf2"), O_RDWR | O_CLOEXEC);
	for (i = 0; i < 300; i++) {
		st = hold(deaf, (uint64_t)i + 1, fd, (uint64_t)i * 16, 16,
			  NULL);
		if (st)
			break;
	}
	nh = i;
	printf("sesshostile: deaf holder: %d holds of one file\n", nh);
	ck_assert_int_ge(nh, 100);
	/* Many breakers, each told to every hold: 64 queue, the rest drop. */
	t0 = mono_ms();
	for (i = 0; i < 8; i++) {
		pid = fork();
		if (pid == 0)
			_exit(truncate(mp("deaf"), 0) ? 1 : 0);
	}
	nap_ms(300);
	/* Meanwhile another session holds and releases at once. */
	ck_assert_int_eq(hold(other, 1, f2, 0, 0, &id), 0);
	ck_assert_int_eq(release(other, 2, id), 0);
	ck_assert_int_lt(mono_ms() - t0, 1000);
	for (i = 0; i < 8; i++) {
		ck_assert_int_gt(wait(&st), 0);
		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	printf("sesshostile: 8 truncates done in %lld ms\n",
	       (long long)(mono_ms() - t0));
	ck_assert_int_lt(mono_ms() - t0, 8000);
	ck_assert_int_lt(status_kb("VmRSS:") - rss0, RSS_BOUND_KB);
	/* What the deaf holder finds: bounded, and its session alive. */
	while (recv(deaf, in, sizeof(in), MSG_DONTWAIT) > 0)
		n++;
	printf("sesshostile: the deaf holder had %d packets waiting\n", n);
	ck_assert(n > 0 && n < 2 * nh); /* told, and some dropped */
	ck_assert_int_eq(release(deaf, 9999, 1), -ENOENT);
	close(deaf);
	close(other);
	close(fd);
	close(f2);
	ck_assert(pins_gone_within(1000));
}
END_TEST

/* SIGKILL with sessions open, a hold made, a job in flight: gone in 2 s. */
/*
 * SIGKILL with sessions open, a hold made, a job in flight, a refused
 * descriptor of another mount just closed: gone within 2 s.  (Not while
 * a keeper waits for a stopped FUSE server: FLUSH is a forced request,
 * which SIGKILL does not interrupt; see test_foreign_flush.)
 */
static int kill9(void)
{
	int s = raw_open(), fd = open(mp("f"), O_RDWR | O_CLOEXEC), st;
	int g = open(mnt_path(&M2, "h"), O_RDWR | O_CLOEXEC);
	unsigned char b[48];
	int64_t t0;

	if (s < 0 || fd < 0 || g < 0 || hold(s, 1, fd, 0, 4096, NULL))
		return 1;
	st = hold(s, 2, g, 0, 0, NULL) != -EXDEV;
	req(b, 2, 3, 0, UINT64_MAX);
	sendpkt(s, b, 48, &fd, 1, NULL);
	t0 = mono_ms();
	kill(M.daemon, SIGKILL);
	while (waitpid(M.daemon, NULL, WNOHANG) == 0 && mono_ms() - t0 < 5000)
		nap_ms(5);
	printf("sesshostile: killed daemon gone in %lld ms\n",
	       (long long)(mono_ms() - t0));
	st |= mono_ms() - t0 >= 2000 || kill(M.daemon, 0) == 0;
	if (kill(M.daemon, 0) < 0)
		M.daemon = -1;
	umount2(M.mountpoint, MNT_DETACH);
	close(s);
	close(fd);
	close(g);
	return st;
}

int main(void)
{
	Suite *s = suite_create("mount-sesshostile");
	TCase *tc = tcase_create("hostile");
	SRunner *sr;
	int failed;

	harness_require_root_fuse();
	umask(022);
	snprintf(leftovers, sizeof(leftovers), "/tmp/rdmafs-sesshostile.%d",
		 (int)getpid());
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_flood);
	tcase_add_test(tc, test_fds);
	tcase_add_test(tc, test_foreign_flush);
	tcase_add_test(tc, test_identity);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_lifetime);
	tcase_add_test(tc, test_deaf);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr) + kill9_failed;
	srunner_free(sr);
	harness_cleanup_leftovers(leftovers);
	unlink(leftovers);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
