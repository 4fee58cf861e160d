// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What travels on a session (session.h): the holder's requests as they
 * arrive, replies and notices on their way out.
 *
 * Nothing here blocks.  A packet that does not fit the socket now waits
 * in the session's queue (in order, sent on EPOLLOUT); a holder that does
 * not read loses notices past SESS_QNOTICES (logged: its breaks still
 * time out, and break_kill still applies) and its session past
 * SESS_QMAX, since a reply must never be lost.  Requests are checked
 * field by field (core/proto_session.c) and must carry the owner's
 * credentials; a request with a descriptor goes to a job thread
 * (session_hold.c), one at a time per session, and everything else is
 * answered here, on the epoll thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>

#include "pinsvc.h"
#include "session_int.h"
#include "core/le.h"
#include "core/policy.h"

int sess_send(struct rfs_sessions *ss, struct sess *s, const void *b,
	      size_t len, bool reply)
{
	struct sess_qent *e;
	ssize_t n;

	if (s->dead)
		return 0;
	if (s->qn == 0) {
		n = send(s->fd, b, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == (ssize_t)len)
			return 0;
		/* A broken connection: its end comes through epoll. */
		if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			return 0;
	}
	if (!reply && (s->qnotices >= SESS_QNOTICES || s->qn >= SESS_QMAX)) {
		/* Logged at the 1st, 2nd, 4th, 8th... drop: never a flood. */
		s->dropped++;
		if (!(s->dropped & (s->dropped - 1)))
			syslog(LOG_WARNING,
			       "session %llu of pid %d (%s): %llu notices dropped, it does not read them",
			       (unsigned long long)s->id, (int)s->pid, s->comm,
			       (unsigned long long)s->dropped);
		return 0;
	}
	if (s->qn >= SESS_QMAX) {
		syslog(LOG_WARNING,
		       "session %llu of pid %d (%s): ended, it does not read its replies",
		       (unsigned long long)s->id, (int)s->pid, s->comm);
		return -ENOBUFS;
	}
	e = &s->q[(s->qhead + s->qn) % SESS_QMAX];
	e->len = (uint8_t)len;
	e->reply = reply;
	memcpy(e->b, b, len);
	s->qn++;
	s->qnotices += !reply;
	if (!s->out_armed) {
		s->out_armed = true;
		sess_arm(ss, s);
	}
	return 0;
}

void sess_flush(struct rfs_sessions *ss, struct sess *s)
{
	while (s->qn) {
		struct sess_qent *e = &s->q[s->qhead];
		ssize_t n =
			send(s->fd, e->b, e->len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			s->qn = s->qnotices = 0; /* the end is coming */
			break;
		}
		s->qnotices -= !e->reply;
		s->qhead = (s->qhead + 1) % SESS_QMAX;
		s->qn--;
	}
	s->out_armed = false;
	sess_arm(ss, s);
}

int sess_reply(struct rfs_sessions *ss, struct sess *s, uint64_t seq,
	       int status, uint64_t hold)
{
	struct proto_sess_msg m = {
		.type = PROTO_SESS_REPLY,
		.status = status,
		.seq = seq,
		.hold = status ? 0 : hold,
	};
	unsigned char b[PROTO_SESS_MAX];
	int n = proto_sess_encode(&m, b, sizeof(b));

	if (n < 0)
		return n;
	return sess_send(ss, s, b, (size_t)n, true);
}

/* Replies, ending the session of a holder that reads nothing. */
void sess_reply_now(struct rfs_sessions *ss, struct sess *s, uint64_t seq,
		    int status)
{
	int err;

	pthread_mutex_lock(&ss->lock);
	err = sess_reply(ss, s, seq, status, 0);
	pthread_mutex_unlock(&ss->lock);
	if (err == -ENOBUFS)
		sess_end(ss, s, "holder does not read its replies");
}

void sess_notice(struct rfs_sessions *ss, struct sess *s,
		 const struct proto_notice *n)
{
	unsigned char b[PROTO_NOTICE_SIZE];
	int len = proto_notice_encode(n, b, sizeof(b));

	if (len < 0) {
		syslog(LOG_ERR, "session %llu: couldn't encode a notice: %s",
		       (unsigned long long)s->id, strerror(-len));
		return;
	}
	/* A notice never ends a session: it is dropped first. */
	sess_send(ss, s, b, (size_t)len, false);
}

struct sess_hold *sess_find_hold(struct sess *s, uint64_t id)
{
	struct sess_hold *h;

	for (h = s->holds; h; h = h->next)
		if (h->id == id)
			return h;
	return NULL;
}

/* RELEASE: the pin goes, then the reply says so. */
static void do_release(struct rfs_sessions *ss, struct sess *s,
		       const struct proto_sess_msg *m)
{
	struct sess_hold *h;
	bool gone;

	pthread_mutex_lock(&ss->lock);
	h = sess_find_hold(s, m->hold);
	if (!h || !h->active) {
		pthread_mutex_unlock(&ss->lock);
		sess_reply_now(ss, s, m->seq, -ENOENT);
		return;
	}
	sess_hold_unlink(s, h);
	s->nactive--;
	ss->npins--;
	pthread_mutex_unlock(&ss->lock);
	gone = sess_unpin(ss->fs, s, h, "released");
	if (gone)
		rfs_pins_changed(ss->fs); /* parked requests go on now */
	sess_hold_free(h);
	sess_reply_now(ss, s, m->seq, gone ? 0 : -ENOENT);
}

uint64_t sess_raw_seq(const unsigned char *b, size_t n)
{
	uint32_t type;

	if (n < 24 || le_get32(b) != PROTO_SESS_MAGIC)
		return 0;
	type = le_get32(b + 8);
	if (type != PROTO_SESS_HOLD && type != PROTO_SESS_RELEASE)
		return 0;
	return le_get64(b + 16);
}

int sess_receive(int fd, struct sess_rx *r, int how)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred)) +
			 CMSG_SPACE(SESS_MAXFDS * sizeof(int))];
		struct cmsghdr align;
	} c;
	struct iovec iov = { .iov_base = r->b, .iov_len = sizeof(r->b) };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = c.buf,
		/*
		 * Without room for descriptors the kernel installs none
		 * (MSG_CTRUNC says some came): a peek only learns of them,
		 * a read drops them without a close, hence without a FLUSH.
		 */
		.msg_controllen = how == SESS_RX_FDS
					  ? sizeof(c.buf)
					  : CMSG_SPACE(sizeof(struct ucred)),
	};
	struct cmsghdr *cm;

	memset(r, 0, sizeof(*r));
	r->n = recvmsg(fd, &mh,
		       MSG_DONTWAIT | MSG_CMSG_CLOEXEC |
			       (how == SESS_RX_PEEK ? MSG_PEEK : 0));
	if (r->n < 0)
		return -errno;
	r->trunc = mh.msg_flags & MSG_TRUNC;
	r->ctrunc = mh.msg_flags & MSG_CTRUNC;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET)
			continue;
		if (cm->cmsg_type == SCM_RIGHTS) {
			size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			size_t i;

			for (i = 0; i < k && r->nfds < SESS_MAXFDS; i++)
				memcpy(&r->fds[r->nfds++],
				       CMSG_DATA(cm) + i * sizeof(int),
				       sizeof(int));
		} else if (cm->cmsg_type == SCM_CREDENTIALS &&
			   cm->cmsg_len >= CMSG_LEN(sizeof(r->cr))) {
			memcpy(&r->cr, CMSG_DATA(cm), sizeof(r->cr));
			r->creds = true;
		}
	}
	return 0;
}

int sess_check(const struct sess *s, const struct sess_rx *r,
	       struct proto_sess_msg *m)
{
	int err;

	if (r->trunc ||
	    proto_sess_kind(r->b, (size_t)r->n) != PROTO_SESS_KIND_MSG)
		return -EPROTO;
	err = proto_sess_decode(r->b, (size_t)r->n, m);
	if (err)
		return err;
	if (m->type != PROTO_SESS_HOLD && m->type != PROTO_SESS_RELEASE)
		return -EPROTO;
	/* A child that inherited the descriptor is not the holder. */
	if (!r->creds || r->cr.pid != s->pid)
		return -EPERM;
	if (r->ctrunc || r->nfds > 1)
		return -EPROTO;
	if (m->type == PROTO_SESS_HOLD && r->nfds == 0)
		return -EBADF;
	if (m->type == PROTO_SESS_RELEASE && r->nfds)
		return -EPROTO;
	return 0;
}

/* Serves one packet; false when the session stops reading for now. */
static bool serve(struct rfs_sessions *ss, struct sess *s)
{
	struct proto_sess_msg m = { 0 };
	struct sess_rx r;
	uint64_t seq;
	int err = sess_receive(s->fd, &r, SESS_RX_PEEK), st;

	if (err == -EAGAIN || err == -EWOULDBLOCK || err == -EINTR)
		return false;
	if (err || r.n == 0) {
		sess_end(ss, s, err ? "session error" : "session closed");
		return false;
	}
	if (r.ctrunc) {
		/*
		 * Descriptors came: a job reads the packet into a table of
		 * its own (session_hold.c), never into the daemon's.
		 */
		if (sess_job(ss, s) < 0)
			sess_end(ss, s, "couldn't start a job");
		return false;
	}
	err = sess_receive(s->fd, &r, SESS_RX_NOFDS);
	if (err || r.n == 0) {
		sess_end(ss, s, err ? "session error" : "session closed");
		return false;
	}
	st = sess_check(s, &r, &m);
	seq = st ? sess_raw_seq(r.b, (size_t)r.n) : m.seq;
	if (!seq) {
		/* Nothing to answer: a client that speaks no protocol. */
		sess_end(ss, s, "malformed request");
		return false;
	}
	if (st)
		sess_reply_now(ss, s, seq, st);
	else
		do_release(ss, s, &m);
	return true;
}

void sess_readable(struct rfs_sessions *ss, struct sess *s)
{
	int i;
	bool busy;

	/* A few at a time: other sessions are served in between. */
	for (i = 0; i < 16; i++) {
		pthread_mutex_lock(&ss->lock);
		busy = s->busy || s->dead;
		pthread_mutex_unlock(&ss->lock);
		if (busy || !serve(ss, s))
			return;
	}
}

/* Whether session @id is among the @n of @seen; adds it when not. */
static bool seen_before(uint64_t *seen, size_t *n, uint64_t id)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (seen[i] == id)
			return true;
	seen[(*n)++] = id;
	return false;
}

size_t rfs_sess_notify(struct rfs *fs, const struct pin *pins, size_t n,
		       const struct proto_notice *what,
		       struct rfs_sess_holder *told, size_t max)
{
	struct rfs_sessions *ss = fs->sessions;
	struct proto_notice nt;
	struct sess_hold *h;
	uint64_t *seen;
	struct sess *s;
	size_t i, nseen = 0, count = 0;

	if (!ss || !n)
		return 0;
	/* The sessions told, to count each once (a snapshot is small). */
	seen = malloc(n * sizeof(*seen));
	if (!seen)
		syslog(LOG_ERR, "out of memory: holders counted once per pin");
	nt = *what;
	nt.comm[sizeof(nt.comm) - 1] = '\0';
	pthread_mutex_lock(&ss->lock);
	for (i = 0; i < n; i++) {
		if (!pins[i].sess)
			continue;
		s = sess_find(ss, pins[i].sess);
		h = s ? sess_find_hold(s, pins[i].hold) : NULL;
		if (!h)
			continue;
		nt.hold = h->id;
		if (h->active) {
			sess_notice(ss, s, &nt);
		} else {
			/* Its REPLY is not out yet: the notice follows it. */
			h->notice = nt;
			h->has_notice = true;
		}
		if (seen && seen_before(seen, &nseen, s->id))
			continue;
		if (count < max) {
			told[count].sess = s->id;
			told[count].pid = s->pid;
			told[count].uid = s->uid;
			memcpy(told[count].comm, s->comm, sizeof(s->comm));
		}
		count++;
	}
	pthread_mutex_unlock(&ss->lock);
	free(seen);
	return count;
}

bool rfs_sess_holds_any(struct rfs *fs, uint64_t sess, const struct pin *pins,
			size_t n)
{
	struct rfs_sessions *ss = fs->sessions;
	bool any = false;
	struct sess *s;
	size_t i;

	if (!ss || !sess)
		return false;
	pthread_mutex_lock(&ss->lock);
	s = sess_find(ss, sess);
	for (i = 0; s && i < n && !any; i++)
		any = pins[i].sess == sess && sess_find_hold(s, pins[i].hold);
	pthread_mutex_unlock(&ss->lock);
	return any;
}

void rfs_sess_revoked(struct rfs *fs, const struct pin *p,
		      const struct proto_notice *what)
{
	struct rfs_sessions *ss = fs->sessions;
	struct proto_notice nt = { .cls = POL_UNLINK };
	struct sess_hold *h;
	struct timespec now;
	struct sess *s;

	if (!ss || !p->sess)
		return;
	if (what) {
		nt = *what;
		nt.comm[sizeof(nt.comm) - 1] = '\0';
	} else {
		/* No operation known: the file's last name went. */
		nt.off = p->all ? 0 : p->off;
		nt.len = p->all ? PROTO_NOTICE_WHOLE : p->len;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	nt.flags = PROTO_NOTICE_REVOKED;
	nt.deadline_sec = now.tv_sec;
	nt.deadline_nsec = (uint32_t)now.tv_nsec;
	pthread_mutex_lock(&ss->lock);
	s = sess_find(ss, p->sess);
	h = s ? sess_find_hold(s, p->hold) : NULL;
	/* The same hold only: a pin id may be reused by a later one. */
	if (h && (!h->active || (h->pin.id == p->id && h->pin.off == p->off))) {
		nt.hold = h->id;
		if (!h->active) {
			/* Told after its REPLY, by its job. */
			h->revoked = true;
			h->revnotice = nt;
		} else {
			sess_hold_unlink(s, h);
			s->nactive--;
			ss->npins--;
			sess_notice(ss, s, &nt);
			sess_hold_free(h);
		}
	}
	pthread_mutex_unlock(&ss->lock);
}
