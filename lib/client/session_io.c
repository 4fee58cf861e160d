/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Talking over a session: HOLD and RELEASE with their REPLY, and the
 * notices (doc/session.md).  See client.h for how threads share the
 * socket: the lock guards the session's state, never a system call that
 * may wait, so a release never waits behind a slow hold, and a thread
 * polling the session's descriptor never waits for either.
 *
 * Everything the daemon sends is checked by the core's decoders before
 * use; a packet that fails them is counted and reported once as -EPROTO
 * by rdmafs_session_next_notice(), and the session goes on.
 */
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "core/proto_notice.h"
#include "core/proto_session.h"

struct rcl_wait {
	uint64_t seq;
	bool done;
	int status;
	uint64_t hold;
	struct rcl_wait *next;
};

/* Keeps evfd readable exactly while something waits for next_notice. */
static void sess_signal(struct rdmafs_session *s)
{
	bool want = s->len > 0 || s->bad > 0;
	uint64_t v = 1;

	if (want == s->signalled)
		return;
	/* an eventfd's counter cannot overflow from 0 or 1: never fails */
	if (want)
		(void)!write(s->evfd, &v, sizeof(v));
	else
		(void)!read(s->evfd, &v, sizeof(v));
	s->signalled = want;
}

/* Queues @n; a full queue keeps the newest (the oldest are stale). */
static void sess_push(struct rdmafs_session *s, const struct rdmafs_notice *n)
{
	if (s->len == RCL_SESS_QUEUE) {
		s->head = (s->head + 1) % RCL_SESS_QUEUE;
		s->len--;
		s->dropped++;
	}
	s->queue[(s->head + s->len) % RCL_SESS_QUEUE] = *n;
	s->len++;
	sess_signal(s);
}

/*
 * Marks @s ended (the daemon went away, or the channel broke): queues the
 * one RDMAFS_NOTICE_LOST notice and stops polling the socket.
 */
static void sess_lost(struct rdmafs_session *s)
{
	struct rdmafs_notice n = { .flags = RDMAFS_NOTICE_LOST };

	if (s->lost)
		return;
	s->lost = 1;
	/* at EOF the socket polls readable for ever: not our POLLIN any more */
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->sock, NULL);
	sess_push(s, &n);
	pthread_cond_broadcast(&s->cond);
}

static void sess_notice(struct rdmafs_session *s, const struct proto_notice *p)
{
	struct rdmafs_notice n = {
		.hold = p->hold,
		.op = (enum rdmafs_class)p->cls,
		/* PROTO_NOTICE_WHOLE is RDMAFS_WHOLE, offset 0: the same form */
		.range = { p->off, p->len },
		.pid = p->pid,
		.uid = p->uid,
		.deadline_sec = p->deadline_sec,
		.deadline_nsec = (long)p->deadline_nsec,
	};

	if (p->flags & PROTO_NOTICE_LOST) {
		sess_lost(s); /* the daemon says goodbye itself */
		return;
	}
	if (s->lost)
		return; /* nothing after the end */
	memcpy(n.comm, p->comm, sizeof(n.comm));
	n.comm[sizeof(n.comm) - 1] = '\0';
	if (p->flags & PROTO_NOTICE_REVOKED)
		n.flags |= RDMAFS_NOTICE_REVOKED;
	sess_push(s, &n);
}

static void sess_reply(struct rdmafs_session *s, const struct proto_sess_msg *m)
{
	struct rcl_wait *w;

	for (w = s->waiting; w; w = w->next) {
		if (w->seq == m->seq && !w->done) {
			w->done = true;
			w->status = m->status;
			w->hold = m->hold;
			pthread_cond_broadcast(&s->cond);
			return;
		}
	}
	/* no request of that number in flight: ignored */
}

/* One packet from the daemon. */
static void sess_dispatch(struct rdmafs_session *s, const void *buf, size_t n)
{
	struct proto_sess_msg m;
	struct proto_notice p;

	switch (proto_sess_kind(buf, n)) {
	case PROTO_SESS_KIND_MSG:
		if (proto_sess_decode(buf, n, &m) || m.type != PROTO_SESS_REPLY)
			break;
		sess_reply(s, &m);
		return;
	case PROTO_SESS_KIND_NOTICE:
		if (proto_notice_decode(buf, n, &p))
			break;
		sess_notice(s, &p);
		return;
	}
	s->bad++;
	sess_signal(s);
}

/* Reads every packet waiting on the socket; the lock is held. */
static void sess_pump(struct rdmafs_session *s)
{
	unsigned char buf[PROTO_SESS_MAX];
	ssize_t n;

	while (!s->lost) {
		n = recv(s->sock, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			/* EOF, ECONNRESET: the daemon and our holds are gone */
			sess_lost(s);
			return;
		}
		if ((size_t)n > sizeof(buf)) {
			s->bad++; /* MSG_TRUNC: longer than any packet */
			sess_signal(s);
			continue;
		}
		sess_dispatch(s, buf, (size_t)n);
	}
}

/*
 * Waits, with the lock held, until @w's reply came or the session ended.
 * One waiter at a time polls the socket, without the lock, and reads it
 * for everyone; the others wait for its news.
 */
static void sess_wait(struct rdmafs_session *s, struct rcl_wait *w)
{
	struct pollfd p = { .fd = s->sock, .events = POLLIN };

	while (!w->done && !s->lost) {
		if (s->reading) {
			pthread_cond_wait(&s->cond, &s->lock);
			continue;
		}
		s->reading = true;
		pthread_mutex_unlock(&s->lock);
		/* no timeout: the daemon answers every request it read */
		poll(&p, 1, -1);
		pthread_mutex_lock(&s->lock);
		s->reading = false;
		sess_pump(s);
		pthread_cond_broadcast(&s->cond);
	}
}

static void sess_unwait(struct rdmafs_session *s, struct rcl_wait *w)
{
	struct rcl_wait **pp;

	for (pp = &s->waiting; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
}

/*
 * Sends @m (its seq filled here) with @fd in SCM_RIGHTS when >= 0 and
 * waits for the reply: its status, and the hold id in *@hold.  The
 * kernel adds our credentials (the daemon asked for SO_PASSCRED).
 */
static int sess_request(struct rdmafs_session *s, struct proto_sess_msg *m,
			int fd, uint64_t *hold)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	unsigned char buf[PROTO_SESS_MAX];
	struct iovec iov = { .iov_base = buf };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct rcl_wait w = { 0 };
	struct cmsghdr *c;
	ssize_t sent;
	int len, ret;

	/* a child that inherited the session: the holds are its parent's */
	if (getpid() != s->owner)
		return -EPERM;
	if (fd >= 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	pthread_mutex_lock(&s->lock);
	if (s->lost) {
		ret = -ENOTCONN;
		goto out;
	}
	m->seq = w.seq = ++s->seq;
	len = proto_sess_encode(m, buf, sizeof(buf));
	if (len < 0) {
		ret = -EINVAL;
		goto out;
	}
	iov.iov_len = (size_t)len;
	/* in flight before it is sent: whoever reads the reply finds us */
	w.next = s->waiting;
	s->waiting = &w;
	pthread_mutex_unlock(&s->lock);
	do {
		sent = sendmsg(s->sock, &mh, MSG_NOSIGNAL);
	} while (sent < 0 && errno == EINTR);
	ret = sent < 0 ? -errno : 0;
	pthread_mutex_lock(&s->lock);
	if (ret == -EPIPE || ret == -ECONNRESET || ret == -ENOTCONN) {
		sess_lost(s); /* the daemon is gone, and every hold with it */
		ret = -ENOTCONN;
	}
	if (!ret)
		sess_wait(s, &w);
	sess_unwait(s, &w);
	if (!ret)
		ret = w.done ? w.status : -ENOTCONN;
	if (!ret && hold)
		*hold = w.hold;
out:
	pthread_mutex_unlock(&s->lock);
	return ret;
}

RDMAFS_EXPORT int rdmafs_session_hold(struct rdmafs_session *session, int fd,
				      const struct rdmafs_range *range,
				      rdmafs_hold_t *hold)
{
	RCL_KEEP_ERRNO;
	struct proto_sess_msg m = { .type = PROTO_SESS_HOLD };
	struct stat st;
	struct rng r;
	uint64_t id;
	int ret;

	if (hold)
		*hold = 0;
	if (!session || fd < 0 || !range || !hold)
		return -EINVAL;
	if (rcl_range(range, &r))
		return -EINVAL;
	/* before the file, which may be on the mount that went with it */
	if (getpid() != session->owner)
		return -EPERM;
	if (__atomic_load_n(&session->lost, __ATOMIC_ACQUIRE))
		return -ENOTCONN;
	if (fstat(fd, &st) < 0)
		return -errno;
	/* cheap checks first; the daemon makes them all again itself */
	if (st.st_dev != session->dev) {
		ret = rcl_check_file(fd, &st);
		return ret ? ret : -EXDEV; /* on another rdmafs mount */
	}
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	m.off = r.all ? 0 : r.off;
	m.len = r.all ? PROTO_NOTICE_WHOLE : r.len;
	ret = sess_request(session, &m, fd, &id);
	if (ret)
		return ret;
	if (!id)
		return -EPROTO; /* a hold without an id */
	*hold = id;
	return 0;
}

RDMAFS_EXPORT int rdmafs_session_release(struct rdmafs_session *session,
					 rdmafs_hold_t hold)
{
	RCL_KEEP_ERRNO;
	struct proto_sess_msg m = { .type = PROTO_SESS_RELEASE, .hold = hold };

	if (!session)
		return -EINVAL;
	if (!hold)
		return -ENOENT; /* never a hold's id */
	return sess_request(session, &m, -1, NULL);
}

RDMAFS_EXPORT int rdmafs_session_next_notice(struct rdmafs_session *session,
					     struct rdmafs_notice *notice)
{
	RCL_KEEP_ERRNO;
	struct rdmafs_session *s = session;
	int ret = 0;

	if (!s || !notice)
		return -EINVAL;
	if (getpid() != s->owner)
		return -EPERM; /* its parent's notices and replies */
	pthread_mutex_lock(&s->lock);
	/* with a request in flight, its waiter reads the socket for us */
	if (!s->len && !s->waiting && !s->reading)
		sess_pump(s);
	if (s->len) {
		*notice = s->queue[s->head];
		s->head = (s->head + 1) % RCL_SESS_QUEUE;
		s->len--;
		if (notice->flags & RDMAFS_NOTICE_LOST)
			s->lost = 2;
	} else if (s->lost == 2) {
		ret = -ENOTCONN;
	} else if (s->bad) {
		s->bad--;
		ret = -EPROTO;
	} else {
		ret = -EAGAIN;
	}
	sess_signal(s);
	pthread_mutex_unlock(&s->lock);
	return ret;
}
