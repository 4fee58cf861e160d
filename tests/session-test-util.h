/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers of the session mount tests (mount-session, mount-sessbreak,
 * mount-sessstress; issue 9): real holder processes driven over pipes,
 * real breaker processes, and the listing, status and descriptors of the
 * daemon as the tests read them.  Header-only: they use Check.
 *
 * A holder is a forked process that runs librdmafs sessions on command
 * (struct h_cmd over one pipe, struct h_rep back over another), so that
 * a test can make it hold, release, read notices, die in a chosen way or
 * be killed, while the test itself only watches.  Holders die with the
 * test (PR_SET_PDEATHSIG).  A breaker is a forked process that runs one
 * layout change (truncate, unlink, punch) under a name and uid of the
 * test's choice and reports its result and the CLOCK_MONOTONIC moment it
 * returned, which every process of the machine shares: "release ->
 * parked operation done" is measured across processes without a shared
 * clock of our own.
 */
#ifndef RDMAFS_SESSION_TEST_UTIL_H
#define RDMAFS_SESSION_TEST_UTIL_H

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "librdmafs-test-util.h"

/* Nanoseconds on the monotonic clock, the same in every process. */
static inline int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline double ns_ms(int64_t ns)
{
	return (double)ns / 1e6;
}

static inline void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ================= holders ================= */

enum h_op {
	H_OPEN = 1, /* open session .sess */
	H_HOLD, /* open .path with .flags (O_RDWR...), hold .a+.b (b 0: all) */
	H_RELEASE, /* release .hold */
	H_NOTICE, /* poll up to .timeout_ms, then the next notice */
	H_ON_NOTICE, /* the next notice (as H_NOTICE), then release it */
	H_DRAIN, /* every waiting notice: rc = count, nt = the last */
	H_CLOSE, /* close session .sess */
	H_EXIT, /* reply, then exit(0) */
	H_ABORT, /* abort(), no core, no reply */
	H_TRUNC, /* truncate(.path, .a) */
	H_TRUNC_THREAD, /* the same from another thread */
	H_PUNCH, /* punch .a+.b of .path */
	H_UNLINK, /* unlink(.path) */
	H_FORKTRY, /* a child tries the inherited session: see holder_main */
	H_CHILD, /* forks a child that shares nothing and sleeps */
	H_POLL, /* poll the session's descriptor .timeout_ms: rc, rc2 revents */
	H_FN, /* .fn(state, cmd, reply): a test's own step */
};

#define H_SESS 8 /* sessions per holder */
#define H_FDS 64 /* descriptors a holder keeps for its holds */

struct h_state;
struct h_rep;

struct h_cmd {
	int op, sess, flags, timeout_ms;
	/* H_FN: valid in the holder, a fork of the test */
	void (*fn)(struct h_state *, const struct h_cmd *, struct h_rep *);
	int64_t a, b;
	uint64_t hold;
	char path[PATH_MAX];
};

struct h_rep {
	int rc; /* 0 or -errno (or a count) */
	int rc2, rc3;
	uint64_t hold;
	int64_t t0, t1; /* mono_ns() around the call */
	pid_t pid2;
	struct rdmafs_notice nt;
};

struct holder {
	pid_t pid;
	int cmd, rep; /* our ends */
	bool dead; /* reaped */
	int status; /* its wait status once reaped */
};

struct h_state {
	struct rdmafs_mount *m;
	struct rdmafs_session *s[H_SESS];
	int fds[H_FDS];
	int nfds;
};

static inline int h_readall(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static inline void h_writeall(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(3);
		p += n;
		len -= (size_t)n;
	}
}

static inline int h_wait_notice(struct rdmafs_session *s, int ms,
				struct rdmafs_notice *nt)
{
	int64_t end = mono_ns() + (int64_t)ms * 1000000;
	int rc;

	for (;;) {
		struct pollfd p = { rdmafs_session_fd(s), POLLIN, 0 };
		int64_t left = (end - mono_ns()) / 1000000;

		rc = rdmafs_session_next_notice(s, nt);
		if (rc != -EAGAIN || left <= 0)
			return rc;
		poll(&p, 1, (int)left);
	}
}

static inline void *h_trunc_thread(void *arg)
{
	struct h_cmd *c = arg;
	intptr_t rc = truncate(c->path, c->a) < 0 ? -errno : 0;

	return (void *)rc;
}

/*
 * In a child of the holder that inherited its sessions: tries to hold
 * through session 0 with the library (rc), to release hold .hold (rc2),
 * and to send a HOLD over the inherited socket itself, as a hostile
 * program would (rc3: the REPLY's status, or -errno of the exchange).
 */
static inline int h_raw_hold(int sock, int fd)
{
	unsigned char buf[48] = { 0 }, in[128];
	char ctl[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	uint32_t v32;
	uint16_t v16;
	uint64_t v64;
	int i;

	v32 = 0x4d534652u; /* RFSM, little-endian on the wire */
	memcpy(buf, &v32, 4);
	v16 = 1;
	memcpy(buf + 4, &v16, 2);
	v16 = 48;
	memcpy(buf + 6, &v16, 2);
	v32 = 2; /* HOLD */
	memcpy(buf + 8, &v32, 4);
	v64 = 0x7777;
	memcpy(buf + 16, &v64, 8);
	v64 = 0;
	memcpy(buf + 24, &v64, 8);
	v64 = 1;
	memcpy(buf + 32, &v64, 8);
	mh.msg_control = ctl;
	mh.msg_controllen = sizeof(ctl);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
		return -errno;
	/* the REPLY with our sequence number; notices may come first */
	for (i = 0; i < 64; i++) {
		struct pollfd p = { sock, POLLIN, 0 };
		ssize_t n;
		int32_t st;

		if (poll(&p, 1, 5000) <= 0)
			return -ETIMEDOUT;
		n = recv(sock, in, sizeof(in), 0);
		if (n <= 0)
			return n < 0 ? -errno : -ECONNRESET;
		if (n == 32 && !memcmp(in, "RFSM", 4) &&
		    !memcmp(in + 16, buf + 16, 8)) {
			memcpy(&st, in + 12, 4);
			return st;
		}
	}
	return -EPROTO;
}

/*
 * The session's socket among our descriptors (the session's pollable
 * descriptor may be another one): the one AF_UNIX SOCK_SEQPACKET socket
 * connected to the daemon.  -1 when there is none.
 */
static inline int h_session_socket(void)
{
	int fd;

	for (fd = 3; fd < 1024; fd++) {
		struct sockaddr_storage sa;
		socklen_t sl = sizeof(sa);
		int type;
		socklen_t tl = sizeof(type);

		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 &&
		    type == SOCK_SEQPACKET &&
		    getpeername(fd, (struct sockaddr *)&sa, &sl) == 0 &&
		    sa.ss_family == AF_UNIX)
			return fd;
	}
	return -1;
}

static inline void h_forktry(struct h_state *st, const struct h_cmd *c,
			     struct h_rep *r)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		r->rc = -errno;
		return;
	}
	pid = fork();
	if (pid == 0) {
		struct h_rep cr = { 0 };
		struct rdmafs_range rg = R((uint64_t)c->a, (uint64_t)c->b);
		rdmafs_hold_t h = 0;
		int fd = open(c->path, O_RDWR | O_CLOEXEC);

		/* outlives its parent on purpose; gone after a minute anyway */
		alarm(60);
		cr.rc = rdmafs_session_hold(st->s[0], fd, &rg, &h);
		cr.rc2 = rdmafs_session_release(st->s[0], c->hold);
		cr.rc3 = h_raw_hold(h_session_socket(), fd);
		h_writeall(p[1], &cr, sizeof(cr));
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid < 0 || h_readall(p[0], r, sizeof(*r)) < 0)
		r->rc = -ECHILD;
	r->pid2 = pid;
	close(p[0]);
}

static inline void h_do(struct h_state *st, const struct h_cmd *c,
			struct h_rep *r)
{
	struct rdmafs_session **s = &st->s[c->sess % H_SESS];
	struct rdmafs_range rg;
	pthread_t th;
	void *ret;
	int fd;

	r->t0 = mono_ns();
	switch (c->op) {
	case H_OPEN:
		if (!st->m || c->flags)
			r->rc = rdmafs_mount_open(c->path, &st->m);
		if (!r->rc)
			r->rc = rdmafs_session_open(st->m, 0, s);
		break;
	case H_HOLD:
		fd = open(c->path, c->flags | O_CLOEXEC);
		if (fd < 0) {
			r->rc = -errno + -1000; /* the open, not the hold */
			break;
		}
		if (st->nfds < H_FDS)
			st->fds[st->nfds++] = fd;
		rg = c->b ? R((uint64_t)c->a, (uint64_t)c->b)
			  : R(0, RDMAFS_WHOLE);
		r->rc = rdmafs_session_hold(*s, fd, &rg, &r->hold);
		break;
	case H_RELEASE:
		r->rc = rdmafs_session_release(*s, c->hold);
		break;
	case H_NOTICE:
		r->rc = h_wait_notice(*s, c->timeout_ms, &r->nt);
		break;
	case H_ON_NOTICE:
		r->rc = h_wait_notice(*s, c->timeout_ms, &r->nt);
		r->t0 = mono_ns();
		if (!r->rc)
			r->rc2 = rdmafs_session_release(*s, r->nt.hold);
		break;
	case H_DRAIN:
		while (rdmafs_session_next_notice(*s, &r->nt) == 0)
			r->rc++;
		break;
	case H_CLOSE:
		rdmafs_session_close(*s);
		*s = NULL;
		break;
	case H_TRUNC:
		r->rc = truncate(c->path, c->a) < 0 ? -errno : 0;
		break;
	case H_TRUNC_THREAD:
		if (pthread_create(&th, NULL, h_trunc_thread, (void *)c)) {
			r->rc = -EAGAIN;
			break;
		}
		pthread_join(th, &ret);
		r->rc = (int)(intptr_t)ret;
		break;
	case H_PUNCH:
		fd = open(c->path, O_RDWR | O_CLOEXEC);
		r->rc = fd < 0 || fallocate(fd,
					    FALLOC_FL_PUNCH_HOLE |
						    FALLOC_FL_KEEP_SIZE,
					    c->a, c->b) < 0
				? -errno
				: 0;
		if (fd >= 0)
			close(fd);
		break;
	case H_UNLINK:
		r->rc = unlink(c->path) < 0 ? -errno : 0;
		break;
	case H_FORKTRY:
		h_forktry(st, c, r);
		break;
	case H_POLL: {
		struct pollfd p = { rdmafs_session_fd(*s), POLLIN, 0 };

		r->rc = poll(&p, 1, c->timeout_ms);
		r->rc2 = p.revents;
		break;
	}
	case H_FN:
		c->fn(st, c, r);
		break;
	case H_CHILD:
		r->pid2 = fork();
		if (r->pid2 == 0) {
			alarm(60);
			for (;;)
				pause();
		}
		break;
	default:
		r->rc = -ENOSYS;
	}
	r->t1 = mono_ns();
}

static inline void holder_main(int cmd, int rep)
{
	struct h_state st = { 0 };
	struct h_cmd c;

	while (h_readall(cmd, &c, sizeof(c)) == 0) {
		struct h_rep r = { 0 };

		if (c.op == H_ABORT) {
			struct rlimit no = { 0, 0 };

			setrlimit(RLIMIT_CORE, &no);
			abort();
		}
		h_do(&st, &c, &r);
		h_writeall(rep, &r, sizeof(r));
		/* _exit: the test's unflushed stdout is not ours to print */
		if (c.op == H_EXIT)
			_exit(0);
	}
	_exit(0);
}

/* Starts a holder named @comm (uid 0). */
static inline void holder_start(struct holder *h, const char *comm)
{
	int c[2], r[2];
	pid_t parent = getpid();

	ck_assert_int_eq(pipe2(c, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(r, O_CLOEXEC), 0);
	memset(h, 0, sizeof(*h));
	h->pid = fork();
	ck_assert_int_ge(h->pid, 0);
	if (h->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		prctl(PR_SET_NAME, comm);
		close(c[1]);
		close(r[0]);
		holder_main(c[0], r[1]);
	}
	close(c[0]);
	close(r[1]);
	h->cmd = c[1];
	h->rep = r[0];
}

static inline void hsend(struct holder *h, const struct h_cmd *c)
{
	ck_assert_int_eq(write(h->cmd, c, sizeof(*c)), (ssize_t)sizeof(*c));
}

/* The reply to the last command; fails the test after @ms. */
static inline struct h_rep hwait(struct holder *h, int ms)
{
	struct pollfd p = { h->rep, POLLIN, 0 };
	struct h_rep r;

	ck_assert_msg(poll(&p, 1, ms) == 1, "holder %d: no reply in %d ms",
		      (int)h->pid, ms);
	ck_assert_msg(h_readall(h->rep, &r, sizeof(r)) == 0,
		      "holder %d died before replying", (int)h->pid);
	return r;
}

static inline struct h_rep hcall(struct holder *h, struct h_cmd c)
{
	hsend(h, &c);
	return hwait(h, 60000);
}

static inline int h_open(struct holder *h, int sess)
{
	struct h_cmd c = { .op = H_OPEN, .sess = sess };

	snprintf(c.path, sizeof(c.path), "%s", M.mountpoint);
	return hcall(h, c).rc;
}

/* Holds @off+@len (@len 0: all) of mount path @rel; rc, *@id the hold. */
static inline int h_hold_f(struct holder *h, int sess, const char *rel,
			   int64_t off, int64_t len, int flags, uint64_t *id)
{
	struct h_cmd c = { .op = H_HOLD, .sess = sess, .flags = flags };
	struct h_rep r;

	snprintf(c.path, sizeof(c.path), "%s", rel[0] == '/' ? rel : mp(rel));
	c.a = off;
	c.b = len;
	r = hcall(h, c);
	if (id)
		*id = r.hold;
	return r.rc;
}

static inline uint64_t h_hold(struct holder *h, int sess, const char *rel,
			      int64_t off, int64_t len)
{
	uint64_t id = 0;
	int rc = h_hold_f(h, sess, rel, off, len, O_RDWR, &id);

	ck_assert_msg(rc == 0, "hold %s %" PRId64 "+%" PRId64 ": %s", rel, off,
		      len, strerror(-rc));
	ck_assert_uint_gt(id, 0);
	return id;
}

static inline int h_release(struct holder *h, int sess, uint64_t id)
{
	return hcall(h, (struct h_cmd){ .op = H_RELEASE,
					.sess = sess,
					.hold = id })
		.rc;
}

static inline struct h_rep h_notice(struct holder *h, int sess, int ms)
{
	struct h_cmd c = { .op = H_NOTICE, .sess = sess, .timeout_ms = ms };

	hsend(h, &c);
	return hwait(h, ms + 10000);
}

/* Runs @op on mount path @rel in the holder (truncate to @a, ...). */
static inline struct h_rep h_path_op(struct holder *h, int op, const char *rel,
				     int64_t a, int64_t b)
{
	struct h_cmd c = { .op = op, .a = a, .b = b };

	snprintf(c.path, sizeof(c.path), "%s", mp(rel));
	return hcall(h, c);
}

/* Reaps the holder (within @ms); its wait status. */
static inline int holder_reap(struct holder *h, int ms)
{
	int64_t end = mono_ns() + (int64_t)ms * 1000000;

	while (!h->dead) {
		pid_t r = waitpid(h->pid, &h->status, WNOHANG);

		if (r == h->pid) {
			h->dead = true;
			break;
		}
		ck_assert_msg(r == 0, "waitpid %d: %s", (int)h->pid,
			      strerror(errno));
		ck_assert_msg(mono_ns() < end, "holder %d still alive",
			      (int)h->pid);
		nap_ms(1);
	}
	close(h->cmd);
	close(h->rep);
	h->cmd = h->rep = -1;
	return h->status;
}

static inline void holder_kill(struct holder *h)
{
	if (h->dead || h->pid <= 0)
		return;
	kill(h->pid, SIGKILL);
	holder_reap(h, 10000);
}

static inline bool holder_alive(struct holder *h)
{
	if (h->dead)
		return false;
	if (waitpid(h->pid, &h->status, WNOHANG) == h->pid) {
		h->dead = true;
		return false;
	}
	return true;
}

/* ================= breakers ================= */

enum b_op { B_TRUNC = 1, B_UNLINK, B_PUNCH };

struct breaker {
	pid_t pid;
	int rep;
	int err; /* errno of the op, once done */
	int64_t t0, t1; /* mono_ns() before and after the op */
	bool done;
};

/*
 * Runs @op on the absolute @path in a new process named @comm with
 * uid/gid @uid (0: root): truncate to @a, unlink, punch @a+@b.
 */
static inline void breaker_start(struct breaker *b, int op, const char *path,
				 int64_t a, int64_t len, uid_t uid,
				 const char *comm)
{
	int p[2];
	pid_t parent = getpid();

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	memset(b, 0, sizeof(*b));
	b->pid = fork();
	ck_assert_int_ge(b->pid, 0);
	if (b->pid == 0) {
		int64_t t[3] = { 0 };
		int fd;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		prctl(PR_SET_NAME, comm);
		if (uid && (setgroups(0, NULL) || setresgid(uid, uid, uid) ||
			    setresuid(uid, uid, uid)))
			_exit(2);
		t[1] = mono_ns();
		switch (op) {
		case B_TRUNC:
			t[0] = truncate(path, a) < 0 ? errno : 0;
			break;
		case B_UNLINK:
			t[0] = unlink(path) < 0 ? errno : 0;
			break;
		default:
			fd = open(path, O_RDWR);
			t[0] = fd < 0 || fallocate(fd,
						   FALLOC_FL_PUNCH_HOLE |
							   FALLOC_FL_KEEP_SIZE,
						   a, len) < 0
				       ? errno
				       : 0;
		}
		t[2] = mono_ns();
		h_writeall(p[1], t, sizeof(t));
		_exit(0);
	}
	close(p[1]);
	b->rep = p[0];
}

/* Whether it returned within @ms (0: just look). */
static inline bool breaker_wait(struct breaker *b, int ms)
{
	struct pollfd p = { b->rep, POLLIN, 0 };
	int64_t t[3];

	if (b->done)
		return true;
	if (poll(&p, 1, ms) != 1)
		return false;
	ck_assert_int_eq(h_readall(b->rep, t, sizeof(t)), 0);
	b->err = (int)t[0];
	b->t0 = t[1];
	b->t1 = t[2];
	b->done = true;
	close(b->rep);
	waitpid(b->pid, NULL, 0);
	return true;
}

/* ================= the daemon's view ================= */

/*
 * Pins of @path (NULL: any file) in the listing: with @session, session
 * pins (holder != 0; with @pid, only those it holds), else persistent.
 */
static inline long listed_pins(pid_t pid, const char *path, bool session)
{
	struct rdmafs_mount *m;
	struct rdmafs_pin *p;
	size_t n, i;
	long k = 0;
	int rc;

	ck_assert_int_eq(rdmafs_mount_open(M.mountpoint, &m), 0);
	rc = rdmafs_mount_pins(m, &p, &n);
	ck_assert_msg(rc == 0, "mount pins: %s", strerror(-rc));
	for (i = 0; i < n; i++)
		if ((session ? p[i].holder && (!pid || p[i].holder == pid)
			     : !p[i].holder) &&
		    (!path || !strcmp(p[i].path, path)))
			k++;
	rdmafs_pins_free(p, n);
	rdmafs_mount_close(m);
	return k;
}

#define listed_holds(pid, path) listed_pins(pid, path, true)
#define listed_persistent(path) listed_pins(0, path, false)

/*
 * Milliseconds from @since_ns until @pid holds nothing in the listing
 * (polled every millisecond), or -1 after @limit_ms.
 */
static inline double wait_holds_gone(pid_t pid, int64_t since_ns, int limit_ms)
{
	for (;;) {
		int64_t now;

		if (listed_holds(pid, NULL) == 0)
			return ns_ms(mono_ns() - since_ns);
		now = mono_ns();
		if (now - since_ns > (int64_t)limit_ms * 1000000)
			return -1;
		nap_ms(1);
	}
}

/* The raw text of an xattr of the mount root (to free). */
static inline char *root_xattr(const char *name)
{
	char *b = calloc(1, 1 << 17);
	ssize_t n;

	ck_assert_ptr_nonnull(b);
	n = getxattr(M.mountpoint, name, b, (1 << 17) - 1);
	ck_assert_msg(n >= 0, "getxattr %s: %s", name, strerror(errno));
	return b;
}

/* A status counter, or -1 when the daemon does not show it. */
static inline long long status_num(const char *key)
{
	char *s = root_xattr(STATUS), want[64], *p;
	long long v = -1;

	snprintf(want, sizeof(want), "%s=", key);
	for (p = s; (p = strstr(p, want)); p++)
		if (p == s || p[-1] == '\n' || p[-1] == ' ' || p[-1] == ',') {
			v = strtoll(p + strlen(want), NULL, 10);
			break;
		}
	free(s);
	return v;
}

/* Open descriptors of process @pid. */
static inline int fd_count(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static inline int64_t realtime_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec;
}

/* A file of @size bytes at mount path @rel, mode 0666 (any breaker). */
static inline void sess_file(const char *rel, size_t size)
{
	put_random(mp(rel), size, 9);
	ck_assert_int_eq(chmod(mp(rel), 0666), 0);
}

/* A directory @rel in the mount that anyone may use. */
static inline void dir_m(const char *rel)
{
	if (mkdir(mp(rel), 0777) == 0)
		ck_assert_int_eq(chmod(mp(rel), 0777), 0);
}

static inline void expect_size(const char *rel, off_t want)
{
	struct stat st;

	ck_assert_int_eq(stat(mp(rel), &st), 0);
	ck_assert_int_eq(st.st_size, want);
}

#endif
