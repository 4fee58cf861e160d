// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Making a hold (session.h), on a thread of its own: a hold stabilises a
 * block map (slow I/O) and takes the layout gate, which the epoll thread
 * must never wait for.  One job at a time per session (its EPOLLIN is
 * off meanwhile; its end and its owner's exit are still watched).
 *
 * The packet and its descriptor are read by a keeper thread with a
 * descriptor table of its own (keeper() below), which holds the
 * descriptor until the job is done.  The file is named by that
 * descriptor, never by a path, and is checked without any FUSE request
 * to this daemon:
 *
 *   - fcntl(F_GETFL): not O_PATH (EBADF), open for writing (EACCES): the
 *     open mode proves the holder may change the file, so a hold needs
 *     no further permission check;
 *   - statx(AT_STATX_DONT_SYNC): on this mount's FUSE device (EXDEV),
 *     a regular file (EINVAL);
 *   - name_to_handle_at(): FUSE's handle (type 0x81) carries the node
 *     id, which is rdmafs's struct rfs_inode (inode.c); alive since the
 *     descriptor keeps the kernel's inode.  Not the root, a regular file
 *     whose inode number is the one statx saw (EINVAL otherwise).
 *
 * Then the pin is made as a persistent one is (pin_add.c), with the
 * session's owner as its owner (limits, space) and holder.  The hold is
 * registered, pending, before its pin is added, so that a revocation
 * or the session's end in between finds it (session_int.h).
 *
 * Errors (the REPLY's status): EBADF (no descriptor, or O_PATH), EACCES
 * (not open for writing), EXDEV (not a file of this mount), EINVAL (not
 * a regular file, or the range goes past the file's end), ENOSPC (a pin
 * limit), EIO (the mount's device is not known), ENOMEM, or what
 * stabilising the range met (e.g. ENOSPC, EIO).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "pinsvc.h"
#include "session_int.h"

/*
 * Keepers closing what they received, and how many may be so before a
 * HOLD of a user other than root is refused.  A close of a descriptor of
 * another FUSE mount is a FLUSH to that mount's server, which a user may
 * run and stop answering: the keeper then waits for it, and without a
 * bound each such HOLD would cost the daemon a thread for good.  Past it
 * a user's HOLD ends its session (logged); root's are still served.
 */
#define SESS_MAXCLOSING 64
static unsigned int closing;

/* FUSE's handle of a file, without its parent (fs/fuse/inode.c). */
#define FUSE_FH_TYPE 0x81

/* What the keeper saw of the descriptor: raw results, judged by the job. */
struct fdinfo {
	int fl; /* F_GETFL, or -errno */
	int stx_err; /* statx: 0 or -errno */
	struct statx stx;
	int fh_err; /* name_to_handle_at: 0 or -errno */
	int fh_type;
	unsigned int fh_bytes;
	uint64_t nodeid;
};

struct job {
	struct rfs_sessions *ss;
	struct sess *s;
	int conn; /* the session's socket (the daemon's table) */
	/* Between the job and its keeper. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool received, drop;
	int rx_err;
	struct sess_rx rx;
	struct fdinfo fi;
};

static void inspect(int fd, struct fdinfo *fi)
{
	struct {
		struct file_handle fh;
		unsigned char b[MAX_HANDLE_SZ];
	} h;
	uint32_t hi, lo;
	int mnt;

	fi->fl = fcntl(fd, F_GETFL);
	if (fi->fl < 0)
		fi->fl = -errno;
	fi->stx_err = statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC,
			    STATX_TYPE | STATX_INO, &fi->stx) < 0
			      ? -errno
			      : 0;
	h.fh.handle_bytes = sizeof(h.b);
	if (name_to_handle_at(fd, "", &h.fh, &mnt, AT_EMPTY_PATH) < 0) {
		fi->fh_err = errno == EOVERFLOW ? -EINVAL : -errno;
		return;
	}
	fi->fh_type = h.fh.handle_type;
	fi->fh_bytes = h.fh.handle_bytes;
	if (h.fh.handle_bytes >= 8) {
		memcpy(&hi, h.b, 4);
		memcpy(&lo, h.b + 4, 4);
		fi->nodeid = (uint64_t)hi << 32 | lo;
	}
}

/*
 * The keeper: a thread with a descriptor table of its own, where the
 * packet's descriptors land, so that the daemon's table never holds a
 * file of its own mount (session_int.h).  It reads the packet, looks at
 * its descriptor, and keeps it open (and so the kernel's inode, and the
 * struct rfs_inode it names) until the job is done; then closes it (a
 * FLUSH the workers answer) and frees the job.  Only system calls and
 * the job's own lock here: descriptors by number mean this table.
 */
static void *keeper(void *arg)
{
	static bool warned;
	struct job *j = arg;
	int conn = j->conn;
	bool own = unshare(CLONE_FILES) == 0;
	size_t i;

	if (own) {
		/* Nothing of the daemon's: the FUSE device least of all. */
		if (conn > 0)
			close_range(0, (unsigned int)conn - 1, 0);
		close_range((unsigned int)conn + 1, ~0U, 0);
	} else if (!__atomic_exchange_n(&warned, true, __ATOMIC_RELAXED)) {
		/* Still the daemon's table: syslog is safe here. */
		syslog(LOG_WARNING,
		       "session channel: unshare(CLONE_FILES): %m; holds' descriptors pass through the daemon's own table");
	}
	j->rx_err = sess_receive(conn, &j->rx, SESS_RX_FDS);
	/* Not kept while a close below may wait (see closing). */
	if (own)
		close(conn);
	if (!j->rx_err && j->rx.nfds == 1 && !j->rx.ctrunc)
		inspect(j->rx.fds[0], &j->fi);
	pthread_mutex_lock(&j->lock);
	j->received = true;
	pthread_cond_signal(&j->cond);
	while (!j->drop)
		pthread_cond_wait(&j->cond, &j->lock);
	pthread_mutex_unlock(&j->lock);
	if (own) {
		close_range(0, ~0U, 0);
	} else {
		for (i = 0; i < j->rx.nfds; i++)
			close(j->rx.fds[i]);
	}
	pthread_cond_destroy(&j->cond);
	pthread_mutex_destroy(&j->lock);
	free(j);
	__atomic_fetch_sub(&closing, 1, __ATOMIC_RELAXED);
	return NULL;
}

static int detached(void *(*fn)(void *), void *arg)
{
	pthread_attr_t at;
	pthread_t t;
	int err;

	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&t, &at, fn, arg);
	pthread_attr_destroy(&at);
	return -err;
}

/* The inode of this mount the descriptor names, open for writing. */
static int hold_inode(struct rfs_sessions *ss, const struct fdinfo *fi,
		      struct rfs_inode **inp)
{
	struct rfs_inode *in;

	if (fi->fl < 0 || (fi->fl & O_PATH))
		return -EBADF;
	if ((fi->fl & O_ACCMODE) != O_WRONLY && (fi->fl & O_ACCMODE) != O_RDWR)
		return -EACCES;
	if (!ss->dev_known)
		return -EIO;
	if (fi->stx_err)
		return fi->stx_err;
	if (fi->stx.stx_dev_major != ss->dev_major ||
	    fi->stx.stx_dev_minor != ss->dev_minor)
		return -EXDEV;
	if (!S_ISREG(fi->stx.stx_mode))
		return -EINVAL;
	if (fi->fh_err)
		return fi->fh_err;
	if (fi->fh_type != FUSE_FH_TYPE || fi->fh_bytes < 8 ||
	    fi->nodeid == 0 || fi->nodeid == FUSE_ROOT_ID)
		return -EINVAL;
	/* Alive: the keeper's descriptor holds the kernel's inode. */
	in = (struct rfs_inode *)(uintptr_t)fi->nodeid;
	if (in->type != S_IFREG || (uint64_t)in->ino != fi->stx.stx_ino)
		return -EINVAL;
	*inp = in;
	return 0;
}

/*
 * The hold's pin is in the table: the hold becomes active and the REPLY
 * goes, then what met it while pending.  With the lock held.  Returns
 * -ENOBUFS when the session must end (its replies are not read).
 */
static int complete(struct rfs_sessions *ss, struct sess *s,
		    struct sess_hold *h, uint64_t seq)
{
	int err = sess_reply(ss, s, seq, 0, h->id);

	if (h->has_notice)
		sess_notice(ss, s, &h->notice);
	h->has_notice = false;
	if (h->revoked) {
		/* Revoked before it was acknowledged: gone already. */
		sess_hold_unlink(s, h);
		sess_notice(ss, s, &h->revnotice);
		sess_hold_free(h);
	} else {
		h->active = true;
		s->nactive++;
		ss->npins++;
	}
	return err;
}

/* A HOLD: 0 when it is acknowledged, -errno for the reply. */
static int do_hold(struct job *j, const struct proto_sess_msg *m,
		   bool *overflow)
{
	struct rfs_sessions *ss = j->ss;
	struct sess *s = j->s;
	struct rfs *fs = ss->fs;
	struct rng r = { .off = m->off, .len = m->len };
	struct sess_hold *h;
	struct rfs_inode *in = NULL;
	char rel[PATH_MAX];
	struct pin pin;
	int err;

	err = hold_inode(ss, &j->fi, &in);
	if (err)
		return err;
	if (m->len == PROTO_NOTICE_WHOLE)
		r = (struct rng){ .all = true };
	h = calloc(1, sizeof(*h));
	if (!h || (in->handle && !(h->fh = sess_fh_copy(in->handle)))) {
		sess_hold_free(h);
		return -ENOMEM;
	}
	h->dev = in->dev;
	h->ino = in->ino;
	pthread_mutex_lock(&ss->lock);
	if (s->dead) {
		pthread_mutex_unlock(&ss->lock);
		sess_hold_free(h);
		return -ESRCH; /* nobody to answer */
	}
	/* Unique in the daemon, not only the session: never mistaken. */
	h->id = ++ss->next_hold;
	h->next = s->holds;
	s->holds = h;
	pthread_mutex_unlock(&ss->lock);

	pin = (struct pin){
		.owner = s->uid,
		.holder = s->pid,
		.sess = s->id,
		.hold = h->id,
	};
	err = rfs_pins_add_session(fs, in, &r, &pin, rel, sizeof(rel));
	if (!err) {
		h->pin = pin;
		h->rel = rel[0] ? strdup(rel) : NULL;
		rfs_record_pin_who(fs, s->who, "pin", "session", h->rel, &pin,
				   NULL);
	}
	pthread_mutex_lock(&ss->lock);
	if (err || s->dead) {
		sess_hold_unlink(s, h);
		pthread_mutex_unlock(&ss->lock);
		/* Ended meanwhile: the pin goes as its session's did. */
		if (!err && sess_unpin(fs, s, h, "session closed"))
			rfs_pins_changed(fs);
		sess_hold_free(h);
		return err ? err : -ESRCH;
	}
	*overflow = complete(ss, s, h, m->seq) == -ENOBUFS;
	pthread_mutex_unlock(&ss->lock);
	return 0;
}

static void *job_main(void *arg)
{
	struct job *j = arg;
	struct rfs_sessions *ss = j->ss;
	struct sess *s = j->s;
	struct proto_sess_msg m = { 0 };
	bool overflow = false, malformed = false;
	uint64_t seq = 0;
	int st;

	pthread_mutex_lock(&j->lock);
	while (!j->received)
		pthread_cond_wait(&j->cond, &j->lock);
	pthread_mutex_unlock(&j->lock);
	if (j->rx_err || j->rx.n == 0) {
		sess_end(ss, s, j->rx_err ? "session error" : "session closed");
	} else {
		st = sess_check(s, &j->rx, &m);
		seq = st ? sess_raw_seq(j->rx.b, (size_t)j->rx.n) : m.seq;
		malformed = !seq;
		if (!st && !malformed)
			st = do_hold(j, &m, &overflow);
		if (st && !malformed) {
			pthread_mutex_lock(&ss->lock);
			overflow = sess_reply(ss, s, seq, st, 0) == -ENOBUFS;
			pthread_mutex_unlock(&ss->lock);
		}
	}
	if (malformed)
		sess_end(ss, s, "malformed request");
	else if (overflow)
		sess_end(ss, s, "holder does not read its replies");
	/*
	 * The keeper closes the descriptors and frees the job; counted
	 * before this session may send its next request (see closing).
	 */
	__atomic_fetch_add(&closing, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&j->lock);
	j->drop = true;
	pthread_cond_signal(&j->cond);
	pthread_mutex_unlock(&j->lock);
	pthread_mutex_lock(&ss->lock);
	s->busy = false;
	s->refs--;
	sess_arm(ss, s);
	sess_wake(ss);
	if (!--ss->jobs)
		pthread_cond_broadcast(&ss->idle);
	pthread_mutex_unlock(&ss->lock);
	return NULL;
}

int sess_job(struct rfs_sessions *ss, struct sess *s)
{
	struct job *j = calloc(1, sizeof(*j));
	int err;

	if (!j)
		return -ENOMEM;
	if (s->uid != 0 &&
	    __atomic_load_n(&closing, __ATOMIC_RELAXED) >= SESS_MAXCLOSING) {
		static unsigned long refused;
		unsigned long n =
			__atomic_add_fetch(&refused, 1, __ATOMIC_RELAXED);

		free(j);
		/* Logged at the 1st, 2nd, 4th... refusal: never a flood. */
		if (!(n & (n - 1)))
			syslog(LOG_WARNING,
			       "session %llu of pid %d uid %u (%s): HOLD refused (%lu so far): %u descriptors still closing, a FUSE server does not answer",
			       (unsigned long long)s->id, (int)s->pid,
			       (unsigned int)s->uid, s->comm, n,
			       SESS_MAXCLOSING);
		return -EAGAIN;
	}
	j->ss = ss;
	j->s = s;
	j->conn = s->fd;
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->cond, NULL);
	pthread_mutex_lock(&ss->lock);
	s->busy = true;
	s->refs++;
	ss->jobs++;
	sess_arm(ss, s);
	pthread_mutex_unlock(&ss->lock);
	/* The keeper first: it owns the job once the job thread lets go. */
	err = detached(keeper, j);
	if (!err) {
		err = detached(job_main, j);
		if (err) {
			/*
			 * The keeper reads the packet, then drops it; not
			 * after the session is gone (its socket's number
			 * may be another's by then).
			 */
			__atomic_fetch_add(&closing, 1, __ATOMIC_RELAXED);
			pthread_mutex_lock(&j->lock);
			while (!j->received)
				pthread_cond_wait(&j->cond, &j->lock);
			j->drop = true;
			pthread_cond_signal(&j->cond);
			pthread_mutex_unlock(&j->lock);
			j = NULL;
		}
	}
	if (err) {
		pthread_mutex_lock(&ss->lock);
		s->busy = false;
		s->refs--;
		if (!--ss->jobs)
			pthread_cond_broadcast(&ss->idle);
		sess_arm(ss, s);
		pthread_mutex_unlock(&ss->lock);
		if (j) {
			pthread_cond_destroy(&j->cond);
			pthread_mutex_destroy(&j->lock);
			free(j);
		}
	}
	return err;
}
