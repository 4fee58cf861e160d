/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The session channel spoken by hand, as a hostile client would
 * (test-mount-sesshostile.c): raw packets on the daemon's socket, the
 * daemon's descriptors and keeper threads seen from /proc.  Little-endian
 * hosts only.  Header-only: it uses Check and the test's mount M.
 */
#ifndef RDMAFS_SESSHOSTILE_WIRE_H
#define RDMAFS_SESSHOSTILE_WIRE_H

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "pin-test-util.h"

#define KIB 1024L
#define NOBODY 65534

static struct mnt M, M2; /* the mount under attack, another rdmafs */
static char leftovers[PATH_MAX];

/* Records @dir for harness_cleanup_leftovers() after a crash. */
static inline void leftovers_add(const char *dir)
{
	FILE *f = fopen(leftovers, "a");

	if (f) {
		fprintf(f, "%s\n", dir);
		fclose(f);
	}
}

static inline char *mp(const char *rel)
{
	static char bufs[8][PATH_MAX];
	static int next;
	char *b = bufs[next++ % 8];

	ck_assert_int_lt(snprintf(b, PATH_MAX, "%s/%s", M.mountpoint, rel),
			 PATH_MAX);
	return b;
}

static inline void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static inline int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ================= the wire, by hand ================= */

static inline void put32(unsigned char *b, uint32_t v)
{
	memcpy(b, &v, 4); /* little-endian hosts only, as the tests run */
}

static inline void put64(unsigned char *b, uint64_t v)
{
	memcpy(b, &v, 8);
}

/* A request: HOLD (48 bytes: a = off, c = len) or RELEASE (32: a = id). */
static inline size_t req(unsigned char *b, uint32_t type, uint64_t seq,
			 uint64_t a, uint64_t c)
{
	size_t n = type == 2 ? 48 : 32;

	memset(b, 0, 48);
	put32(b, 0x4d534652u);
	b[4] = 1;
	b[6] = (unsigned char)n;
	put32(b + 8, type);
	put64(b + 16, seq);
	put64(b + 24, a);
	if (type == 2)
		put64(b + 32, c);
	return n;
}

/* Sends @len bytes with @nfds descriptors (and explicit creds @cr). */
static inline int sendpkt(int sock, const void *b, size_t len, const int *fds,
			  int nfds, const struct ucred *cr)
{
	union {
		char c[CMSG_SPACE(sizeof(int) * 253) +
		       CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { (void *)b, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	size_t cl = 0;

	memset(&u, 0, sizeof(u));
	mh.msg_control = u.c;
	mh.msg_controllen = sizeof(u.c);
	cm = CMSG_FIRSTHDR(&mh);
	if (nfds) {
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
		cl += CMSG_SPACE(sizeof(int) * (size_t)nfds);
		cm = CMSG_NXTHDR(&mh, cm);
	}
	if (cr) {
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_CREDENTIALS;
		cm->cmsg_len = CMSG_LEN(sizeof(*cr));
		memcpy(CMSG_DATA(cm), cr, sizeof(*cr));
		cl += CMSG_SPACE(sizeof(*cr));
	}
	mh.msg_controllen = cl;
	if (!cl)
		mh.msg_control = NULL;
	return sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/*
 * The REPLY to @seq: its status, -ECONNRESET at the session's end,
 * -ETIMEDOUT after @ms.  Notices and other replies are skipped.
 */
static inline int reply(int sock, uint64_t seq, int ms, uint64_t *hold)
{
	unsigned char in[256];
	int64_t end = mono_ms() + ms;

	for (;;) {
		struct pollfd p = { sock, POLLIN, 0 };
		int left = (int)(end - mono_ms());
		int32_t st;
		ssize_t n;

		if (left <= 0 || poll(&p, 1, left) <= 0)
			return -ETIMEDOUT;
		n = recv(sock, in, sizeof(in), MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n <= 0)
			return -ECONNRESET;
		if (n == 32 && !memcmp(in, "RFSM", 4) &&
		    !memcmp(in + 16, &seq, 8)) {
			memcpy(&st, in + 12, 4);
			if (hold)
				memcpy(hold, in + 24, 8);
			return st;
		}
	}
}

/* The daemon's socket, from the mount root's user.rdmafs.session. */
static inline void sock_addr(struct sockaddr_un *sa)
{
	char v[256];
	ssize_t n =
		getxattr(M.mountpoint, "user.rdmafs.session", v, sizeof(v) - 1);

	ck_assert_int_gt(n, 3);
	v[n] = '\0';
	ck_assert(!strncmp(v, "1 /", 3));
	v[strcspn(v, "\n")] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	ck_assert_int_lt(strlen(v + 2), sizeof(sa->sun_path));
	memcpy(sa->sun_path, v + 2, strlen(v + 2) + 1);
}

/* A raw session: connected, HELLO read.  -ECONNRESET: refused. */
static inline int raw_open(void)
{
	struct sockaddr_un sa;
	unsigned char in[128];
	struct pollfd p;
	int fd;
	ssize_t n;

	sock_addr(&sa);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -errno;
	}
	p = (struct pollfd){ fd, POLLIN, 0 };
	ck_assert_int_eq(poll(&p, 1, 5000), 1);
	n = recv(fd, in, sizeof(in), 0);
	if (n <= 0) {
		close(fd);
		return -ECONNRESET;
	}
	ck_assert_int_eq(n, 48);
	ck_assert(!memcmp(in, "RFSM", 4));
	return fd;
}

/* Whether the daemon ends @sock within @ms (what is queued is read). */
static inline bool ended(int sock, int ms)
{
	unsigned char in[256];
	int64_t end = mono_ms() + ms;

	for (;;) {
		struct pollfd p = { sock, POLLIN, 0 };
		int left = (int)(end - mono_ms());
		ssize_t n;

		if (left <= 0 || poll(&p, 1, left) <= 0)
			return false;
		n = recv(sock, in, sizeof(in), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN))
			return true;
	}
}

/* HOLD @off+@len (len 0: all) of @fd through @sock: the status. */
static inline int hold(int sock, uint64_t seq, int fd, uint64_t off,
		       uint64_t len, uint64_t *id)
{
	unsigned char b[48];
	size_t n = req(b, 2, seq, off, len ? len : UINT64_MAX);
	int err = sendpkt(sock, b, n, &fd, fd >= 0, NULL);

	return err ? err : reply(sock, seq, 5000, id);
}

static inline int release(int sock, uint64_t seq, uint64_t id)
{
	unsigned char b[48];
	size_t n = req(b, 3, seq, id, 0);
	int err = sendpkt(sock, b, n, NULL, 0, NULL);

	return err ? err : reply(sock, seq, 5000, NULL);
}

/* ================= the daemon, from outside ================= */

static inline int count_dir(const char *path)
{
	struct dirent *e;
	DIR *d = opendir(path);
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static inline long status_kb(const char *key);

/*
 * Threads of the daemon with a descriptor table of their own (a hold's
 * keeper, until it has closed what it received), * 1000, plus the
 * daemon's own descriptors.  FUSE workers come and go: not counted.
 */
static inline int dfds(void)
{
	char path[64], tp[128];
	struct dirent *e;
	int lead, own = 0, n;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)M.daemon);
	lead = count_dir(path);
	snprintf(path, sizeof(path), "/proc/%d/task", (int)M.daemon);
	d = opendir(path);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || strlen(e->d_name) > 12)
			continue;
		snprintf(tp, sizeof(tp), "%s/%s/fd", path, e->d_name);
		n = count_dir(tp);
		own += n >= 0 && n < lead / 2;
	}
	closedir(d);
	return own * 1000 + lead;
}

static inline long status_kb(const char *key)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)M.daemon);
	f = fopen(path, "re");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			v = strtol(line + strlen(key), NULL, 10);
	fclose(f);
	return v;
}

/*
 * Waits up to 3 s for dfds() to come back to @base, and asserts it does:
 * no keeper left, and no descriptor but the two a first use may leave
 * cached (the daemon's descriptor cache).
 */
static inline void at_base(int base, const char *what)
{
	int now = dfds(), i;

	for (i = 0; i < 300 && now > base + 2; i++) {
		nap_ms(10);
		now = dfds();
	}
	ck_assert_msg(now <= base + 2,
		      "%s: daemon threads*1000+fds %d, was %d before", what,
		      now, base);
}

/* Session pins in the listing (holder=PID). */
static inline int session_pins(void)
{
	static char b[1 << 18];
	ssize_t n =
		getxattr(M.mountpoint, "user.rdmafs.pins", b, sizeof(b) - 1);
	const char *p = b;
	int k = 0;

	ck_assert_int_ge(n, 0);
	b[n] = '\0';
	while ((p = strstr(p, " holder="))) {
		p += 8;
		k += *p >= '0' && *p <= '9';
	}
	return k;
}

static inline bool pins_gone_within(int ms)
{
	int64_t end = mono_ms() + ms;

	while (session_pins()) {
		if (mono_ms() > end)
			return false;
		nap_ms(5);
	}
	return true;
}

static inline void file_m(const char *rel, size_t size, mode_t mode)
{
	put_random(mp(rel), size, 7);
	ck_assert_int_eq(chmod(mp(rel), mode), 0);
}

/* In a child: what @fn returns is its exit status (0: as expected). */
static inline int in_child(int (*fn)(int), int arg)
{
	int stw;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(fn(arg));
	ck_assert_int_eq(waitpid(pid, &stw, 0), pid);
	return WIFEXITED(stw) ? WEXITSTATUS(stw) : 100 + WTERMSIG(stw);
}

static inline int as_nobody(void)
{
	return setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY);
}

#endif
