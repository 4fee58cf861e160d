// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The session channel's socket, its thread and each session's life; see
 * session.h, and session_int.h for the lock order.
 *
 * One thread waits on an epoll set holding the listening socket, an
 * eventfd (wake-ups: a session ended elsewhere, a job done, stop) and,
 * per session, its connection and its owner's pidfd.  The connection's
 * end (EOF, HUP, an error) and the pidfd polling readable (the owner
 * exited: kill -9 included, and even when a child still holds the
 * descriptor) both end the session at once: its pins leave the table,
 * each audited, and parked requests are kicked.  Only this thread frees
 * a session (reaps it), once it is dead and no job or caller uses it, so
 * epoll events name sessions by id, never by pointer.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "med_stats.h"
#include "pinsvc.h"
#include "session_int.h"
#include "core/pinindex.h"
#include "core/pintable.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

/* Sessions at once, and per user other than root: descriptors are few. */
#define SESS_MAX 1024
#define SESS_MAX_PER_USER 256
/*
 * Of those, what users other than root may take together: four local
 * users of 256 sessions each must not lock root's holders out.
 */
#define SESS_MAX_USERS (SESS_MAX - SESS_MAX_PER_USER)

static uint64_t ev_conn(uint64_t id)
{
	return id << 1;
}

static uint64_t ev_pidfd(uint64_t id)
{
	return id << 1 | 1;
}

struct sess *sess_find(struct rfs_sessions *ss, uint64_t id)
{
	struct sess *s;

	for (s = ss->list; s; s = s->next)
		if (s->id == id)
			return s->dead ? NULL : s;
	return NULL;
}

void sess_wake(struct rfs_sessions *ss)
{
	uint64_t one = 1;

	/* A full counter already wakes the thread. */
	if (write(ss->evfd, &one, sizeof(one)) < 0)
		return;
}

void sess_arm(struct rfs_sessions *ss, struct sess *s)
{
	struct epoll_event ev = {
		.events = EPOLLRDHUP | (s->busy ? 0 : EPOLLIN) |
			  (s->out_armed ? EPOLLOUT : 0),
		.data.u64 = ev_conn(s->id),
	};

	if (!s->dead)
		epoll_ctl(ss->epfd, EPOLL_CTL_MOD, s->fd, &ev);
}

static void sess_free(struct rfs_sessions *ss, struct sess *s)
{
	struct sess_hold *h;

	epoll_ctl(ss->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	if (s->pidfd >= 0)
		epoll_ctl(ss->epfd, EPOLL_CTL_DEL, s->pidfd, NULL);
	close(s->fd);
	if (s->pidfd >= 0)
		close(s->pidfd);
	while ((h = s->holds)) {
		s->holds = h->next;
		sess_hold_free(h);
	}
	free(s->who);
	free(s);
}

/* Frees the dead sessions nobody uses any more (the epoll thread). */
static void reap(struct rfs_sessions *ss)
{
	struct sess *gone = NULL, **pp, *s;

	pthread_mutex_lock(&ss->lock);
	for (pp = &ss->list; (s = *pp);) {
		if (s->dead && !s->refs) {
			*pp = s->next;
			s->next = gone;
			gone = s;
		} else {
			pp = &s->next;
		}
	}
	pthread_mutex_unlock(&ss->lock);
	while ((s = gone)) {
		gone = s->next;
		sess_free(ss, s);
	}
}

/* The owner's pidfd: from the socket (race-free), else by its pid. */
static int owner_pidfd(int fd, pid_t pid)
{
	socklen_t len = sizeof(int);
	int pidfd = -1;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) == 0 &&
	    pidfd >= 0)
		return pidfd;
	/* Before Linux 6.5: the pid may have been reused meanwhile. */
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	return pidfd < 0 ? -errno : pidfd;
}

/* Refused past the limits: the client reads EOF before any HELLO. */
static bool too_many(struct rfs_sessions *ss, uid_t uid)
{
	struct sess *s;
	unsigned int mine = 0, users = 0;

	if (ss->nsess >= SESS_MAX)
		return true;
	if (uid == 0)
		return false;
	for (s = ss->list; s; s = s->next) {
		if (s->dead || s->uid == 0)
			continue;
		users++;
		mine += s->uid == uid;
	}
	return mine >= SESS_MAX_PER_USER || users >= SESS_MAX_USERS;
}

static void hello(struct rfs_sessions *ss, struct sess *s)
{
	struct proto_sess_msg m = {
		.type = PROTO_SESS_HELLO,
		.sess = s->id,
		.daemon_pid = (int32_t)getpid(),
		.holder_pid = (int32_t)s->pid,
		.dev_major = ss->dev_major,
		.dev_minor = ss->dev_minor,
		.break_timeout = ss->fs->pol.break_timeout,
	};
	unsigned char b[PROTO_SESS_MAX];
	int n = proto_sess_encode(&m, b, sizeof(b));

	if (n > 0)
		sess_send(ss, s, b, (size_t)n, true);
}

/* A new connection: its owner, then HELLO. */
static void sess_open(struct rfs_sessions *ss, int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct epoll_event ev;
	struct sess *s;
	int one = 1, pidfd;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 ||
	    cr.pid <= 0) {
		/* pid 0: a process outside our pid namespace. */
		close(fd);
		return;
	}
	pidfd = owner_pidfd(fd, cr.pid);
	s = calloc(1, sizeof(*s));
	if (pidfd < 0 || !s ||
	    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0) {
		syslog(LOG_WARNING, "couldn't open a session for pid %d: %s",
		       (int)cr.pid, strerror(pidfd < 0 ? -pidfd : errno));
		goto fail;
	}
	s->fd = fd;
	s->pidfd = pidfd;
	s->pid = cr.pid;
	s->uid = cr.uid;
	s->gid = cr.gid;
	s->who = malloc(sizeof(*s->who));
	if (s->who) {
		/* Read now: the owner may be gone when its pins are. */
		ident_read(cr.pid, cr.uid, cr.gid, s->who);
		if (s->who->flags & IDENT_COMM)
			snprintf(s->comm, sizeof(s->comm), "%.15s",
				 s->who->comm);
	}
	pthread_mutex_lock(&ss->lock);
	if (too_many(ss, cr.uid)) {
		pthread_mutex_unlock(&ss->lock);
		syslog(LOG_WARNING,
		       "session refused to pid %d uid %u: too many sessions",
		       (int)cr.pid, (unsigned int)cr.uid);
		goto fail;
	}
	s->id = ++ss->next_id;
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.u64 = ev_conn(s->id);
	if (epoll_ctl(ss->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		pthread_mutex_unlock(&ss->lock);
		goto fail;
	}
	ev.events = EPOLLIN;
	ev.data.u64 = ev_pidfd(s->id);
	if (epoll_ctl(ss->epfd, EPOLL_CTL_ADD, pidfd, &ev) < 0) {
		epoll_ctl(ss->epfd, EPOLL_CTL_DEL, fd, NULL);
		pthread_mutex_unlock(&ss->lock);
		goto fail;
	}
	s->next = ss->list;
	ss->list = s;
	ss->nsess++;
	hello(ss, s);
	pthread_mutex_unlock(&ss->lock);
	return;
fail:
	if (s)
		free(s->who);
	free(s);
	if (pidfd >= 0)
		close(pidfd);
	close(fd);
}

/* Accepts what waits; false when out of descriptors (pause accepting). */
static bool sess_accept(struct rfs_sessions *ss)
{
	int fd;

	for (;;) {
		fd = accept4(ss->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd >= 0) {
			sess_open(ss, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			syslog(LOG_WARNING,
			       "session channel: couldn't accept: %m (retrying in a second)");
			return false;
		}
		return true;
	}
}

static void set_listen(struct rfs_sessions *ss, bool on)
{
	struct epoll_event ev = {
		.events = on ? EPOLLIN : 0,
		.data.u64 = SESS_EV_LISTEN,
	};

	epoll_ctl(ss->epfd, EPOLL_CTL_MOD, ss->lfd, &ev);
}

/*
 * The mount's FUSE device, for HELLO and each HOLD's check.  DONT_SYNC:
 * answered from the kernel's cache, never a request to this daemon.
 */
static void learn_dev(struct rfs_sessions *ss)
{
	struct statx stx;

	if (statx(AT_FDCWD, ss->fs->o.mountpoint, AT_STATX_DONT_SYNC, STATX_INO,
		  &stx) < 0) {
		syslog(LOG_ERR,
		       "session channel: couldn't stat the mount %s: %m (holds refused)",
		       ss->fs->o.mountpoint);
		return;
	}
	ss->dev_major = stx.stx_dev_major;
	ss->dev_minor = stx.stx_dev_minor;
	ss->dev_known = true;
}

/* One event of a session's connection or pidfd. */
static void sess_event(struct rfs_sessions *ss, uint64_t data, uint32_t evs)
{
	struct sess *s;

	pthread_mutex_lock(&ss->lock);
	s = sess_find(ss, data >> 1);
	if (s && (data & 1)) {
		pthread_mutex_unlock(&ss->lock);
		sess_end(ss, s, "holder exited");
		return;
	}
	if (s && (evs & EPOLLOUT))
		sess_flush(ss, s);
	pthread_mutex_unlock(&ss->lock);
	if (!s)
		return;
	if (evs & EPOLLIN)
		sess_readable(ss, s);
	/* Read first: what came before the end is served. */
	if (evs & EPOLLERR)
		sess_end(ss, s, "session error");
	else if (evs & (EPOLLHUP | EPOLLRDHUP))
		sess_end(ss, s, "session closed");
}

static void end_all(struct rfs_sessions *ss, const char *why)
{
	struct sess *s;

	for (;;) {
		pthread_mutex_lock(&ss->lock);
		for (s = ss->list; s && s->dead; s = s->next)
			;
		pthread_mutex_unlock(&ss->lock);
		if (!s)
			return;
		sess_end(ss, s, why);
	}
}

static void *sess_thread(void *arg)
{
	struct rfs_sessions *ss = arg;
	struct epoll_event evs[64];
	bool listening = true;
	uint64_t junk;
	int i, n;

	learn_dev(ss);
	for (;;) {
		n = epoll_wait(ss->epfd, evs, 64, listening ? -1 : 1000);
		if (n < 0 && errno != EINTR) {
			syslog(LOG_ERR, "session channel: epoll: %m");
			break;
		}
		if (!listening) {
			listening = true;
			set_listen(ss, true);
		}
		for (i = 0; i < n; i++) {
			uint64_t d = evs[i].data.u64;

			if (d == SESS_EV_WAKE) {
				if (read(ss->evfd, &junk, sizeof(junk)) < 0)
					continue;
			} else if (d == SESS_EV_LISTEN) {
				if (!sess_accept(ss)) {
					listening = false;
					set_listen(ss, false);
				}
			} else {
				sess_event(ss, d, evs[i].events);
			}
		}
		reap(ss);
		pthread_mutex_lock(&ss->lock);
		n = ss->stopping;
		pthread_mutex_unlock(&ss->lock);
		if (n)
			break;
	}
	end_all(ss, "daemon stopping");
	return NULL;
}

static int add_ev(int epfd, int fd, uint64_t data)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = data };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void sess_free_all(struct rfs_sessions *ss)
{
	if (ss->lfd >= 0)
		close(ss->lfd);
	if (ss->epfd >= 0)
		close(ss->epfd);
	if (ss->evfd >= 0)
		close(ss->evfd);
	pthread_cond_destroy(&ss->idle);
	pthread_mutex_destroy(&ss->lock);
	free(ss);
}

/* The socket at ss->path, listening; 0 or -errno. */
static int sess_listen(struct rfs_sessions *ss)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int one = 1;

	if (strlen(ss->path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, ss->path, strlen(ss->path) + 1);
	ss->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK,
			 0);
	if (ss->lfd < 0)
		return -errno;
	/* A dead daemon's: ours now, since we hold the filesystem's lock. */
	if (unlink(ss->path) < 0 && errno != ENOENT)
		return -errno;
	setsockopt(ss->lfd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	if (bind(ss->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	/* Anyone may connect: each hold proves its access by its fd. */
	if (chmod(ss->path, 0666) < 0 || listen(ss->lfd, 128) < 0) {
		int err = -errno;

		unlink(ss->path);
		return err;
	}
	return 0;
}

int rfs_sess_start(struct rfs *fs)
{
	struct rfs_sessions *ss = calloc(1, sizeof(*ss));
	sigset_t all, old;
	int err;

	if (!ss)
		return -ENOMEM;
	ss->fs = fs;
	ss->lfd = ss->epfd = ss->evfd = -1;
	pthread_mutex_init(&ss->lock, NULL);
	pthread_cond_init(&ss->idle, NULL);
	err = rfs_instance_sock_path(fs, ss->path, sizeof(ss->path));
	if (!err)
		err = sess_listen(ss);
	if (err)
		goto fail;
	ss->epfd = epoll_create1(EPOLL_CLOEXEC);
	ss->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ss->epfd < 0 || ss->evfd < 0) {
		err = -errno;
		goto fail_sock;
	}
	err = add_ev(ss->epfd, ss->lfd, SESS_EV_LISTEN);
	if (!err)
		err = add_ev(ss->epfd, ss->evfd, SESS_EV_WAKE);
	if (err)
		goto fail_sock;
	/* Signals are for libfuse's threads; jobs inherit the mask. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = -pthread_create(&ss->thread, NULL, sess_thread, ss);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		goto fail_sock;
	ss->running = true;
	fs->sessions = ss;
	return 0;
fail_sock:
	unlink(ss->path);
fail:
	sess_free_all(ss);
	return err;
}

void rfs_sess_stop(struct rfs *fs)
{
	struct rfs_sessions *ss = fs->sessions;

	if (!ss)
		return;
	/* No new session from here: connecting fails at once. */
	unlink(ss->path);
	pthread_mutex_lock(&ss->lock);
	ss->stopping = true;
	sess_wake(ss);
	pthread_mutex_unlock(&ss->lock);
	if (ss->running)
		pthread_join(ss->thread, NULL);
	/* Jobs let go of everything but their descriptors before this. */
	pthread_mutex_lock(&ss->lock);
	while (ss->jobs)
		pthread_cond_wait(&ss->idle, &ss->lock);
	pthread_mutex_unlock(&ss->lock);
	reap(ss);
	fs->sessions = NULL;
	sess_free_all(ss);
}

int rfs_sess_address(struct rfs *fs, char *buf, size_t size)
{
	struct rfs_sessions *ss = fs->sessions;
	int n;

	if (!ss)
		return -ENOTSUP;
	n = proto_sess_addr_format(ss->path, buf, size);
	if (n < 0)
		return n;
	return (size_t)n >= size ? -ERANGE : n;
}

void rfs_sess_counts(struct rfs *fs, uint64_t *sessions, uint64_t *pins)
{
	struct rfs_sessions *ss = fs->sessions;

	*sessions = *pins = 0;
	if (!ss)
		return;
	pthread_mutex_lock(&ss->lock);
	*sessions = ss->nsess;
	*pins = ss->npins;
	pthread_mutex_unlock(&ss->lock);
}

/*
 * Walked under the lock rather than kept as a count: it is read only by
 * the status, while holds and releases are many.
 */
uint64_t rfs_sess_holders(struct rfs *fs)
{
	struct rfs_sessions *ss = fs->sessions;
	const struct sess *s;
	uint64_t n = 0;

	if (!ss)
		return 0;
	pthread_mutex_lock(&ss->lock);
	for (s = ss->list; s; s = s->next)
		if (!s->dead && s->nactive)
			n++;
	pthread_mutex_unlock(&ss->lock);
	return n;
}
