/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside the session channel (session.h): the state its files share.
 * session.c runs the socket and the epoll thread and opens sessions;
 * session_end.c ends them and drops their pins; session_io.c sends and
 * queues what goes to a holder (replies, notices) and serves what the
 * holders send; session_hold.c makes a hold, on a thread of its own.
 *
 * Lock order (DESIGN §6: a release must reach a parked request at once,
 * and nothing may deadlock with the layout gate):
 *
 *   layout gate (mediate.h)  ->  pin table file lock  ->  sessions' lock
 *
 * and the sessions' lock (struct rfs_sessions.lock) is a leaf: nothing
 * else is taken while it is held, and nothing that can block is done
 * under it (sends are MSG_DONTWAIT, the kill a pidfd signal).  Pins are
 * added and removed with the sessions' lock released: a session's end
 * takes its holds off the session under the lock, then removes their
 * pins without it; a hold registers itself (pending) before its pin is
 * added and is completed after, so that a revocation or a session's end
 * in between is never lost.  The epoll thread never takes the gate.
 *
 * No descriptor of a file of the mount ever enters the daemon's own
 * descriptor table: closing one sends the daemon a FLUSH its own workers
 * must answer, and a daemon killed with one open never finishes dying
 * (its exit's FLUSH waits for itself, while the FUSE device that would
 * abort it is released only after).  The epoll thread peeks at each
 * packet with no room for descriptors; one that carries some is read by
 * a keeper thread with a descriptor table of its own (session_hold.c).
 */
#ifndef RDMAFS_SESSION_INT_H
#define RDMAFS_SESSION_INT_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "session.h"
#include "core/identity.h"
#include "core/proto_session.h"

/* Notices queued for a holder that does not read; replies get more. */
#define SESS_QNOTICES 64
#define SESS_QREPLIES 16
#define SESS_QMAX (SESS_QNOTICES + SESS_QREPLIES)
/* The most descriptors one request may carry before it is malformed. */
#define SESS_MAXFDS 8

struct sess_hold {
	struct sess_hold *next;
	uint64_t id; /* the hold id, > 0, unique in the daemon's life */
	/* Its pin is in the table (pin valid); else being added. */
	bool active;
	/* Met while being added: sent once the REPLY is out. */
	bool revoked, has_notice;
	struct proto_notice notice, revnotice;
	struct pin pin; /* as added: off and id find it in the table */
	uint64_t dev, ino; /* the backing inode */
	struct file_handle *fh; /* the backing handle, or NULL */
	char *rel; /* the path when held (audit, listing), or NULL */
};

struct sess_qent {
	uint8_t len;
	bool reply;
	unsigned char b[PROTO_NOTICE_SIZE];
};

struct sess {
	struct sess *next;
	uint64_t id;
	int fd; /* the connection */
	int pidfd; /* the owner's */
	pid_t pid; /* owner's tgid (SO_PEERCRED) */
	uid_t uid;
	gid_t gid;
	char comm[16];
	struct ident *who; /* read at connect, for the audit trail */
	struct sess_hold *holds;
	size_t nactive; /* active holds */
	bool dead; /* ended: pins dropped; reaped once refs is 0 */
	bool busy; /* a job (HOLD) in flight: EPOLLIN off */
	bool out_armed; /* EPOLLOUT on: the queue is not empty */
	int refs; /* jobs and callers using it outside the lock */
	unsigned int qhead, qn, qnotices;
	uint64_t dropped;
	struct sess_qent q[SESS_QMAX];
};

struct rfs_sessions {
	struct rfs *fs;
	pthread_mutex_t lock;
	pthread_cond_t idle; /* jobs reached 0 */
	int lfd, epfd, evfd;
	pthread_t thread;
	bool running, stopping;
	char path[108];
	uint32_t dev_major, dev_minor;
	bool dev_known;
	uint64_t next_id, next_hold; /* session and hold ids, from 1 */
	struct sess *list;
	uint64_t nsess, npins;
	unsigned int jobs;
};

/* epoll data: the listening socket, the wake-up, else id << 1 | pidfd. */
#define SESS_EV_LISTEN 0
#define SESS_EV_WAKE 1

/* session.c */
/* The live session @id, with the lock held; NULL when none. */
struct sess *sess_find(struct rfs_sessions *ss, uint64_t id);
/*
 * Ends @s (a reference held, or the epoll thread): its active holds'
 * pins go, each audited with @why; the epoll thread reaps it.
 */
void sess_end(struct rfs_sessions *ss, struct sess *s, const char *why);
/* Drops a reference taken under the lock; wakes the reaper. */
void sess_put(struct rfs_sessions *ss, struct sess *s);
/* Wakes the epoll thread (reap, re-arm). */
void sess_wake(struct rfs_sessions *ss);
/* The epoll events @s wants now, with the lock held. */
void sess_arm(struct rfs_sessions *ss, struct sess *s);
/* Removes the pin of @h from the table; true when it was there. */
bool sess_unpin(struct rfs *fs, const struct sess *s, const struct sess_hold *h,
		const char *why);
void sess_hold_free(struct sess_hold *h);
/* Takes @h off @s's list, with the lock held. */
void sess_hold_unlink(struct sess *s, struct sess_hold *h);
/* A copy of @fh (NULL: NULL), or NULL without memory. */
struct file_handle *sess_fh_copy(const struct file_handle *fh);

/* session_io.c */
/* The hold @id of @s, with the lock held; NULL when none. */
struct sess_hold *sess_find_hold(struct sess *s, uint64_t id);
/*
 * Sends or queues the packet @b of @len bytes to @s, with the lock held;
 * never blocks.  A notice past the queue's bound is dropped (logged); a
 * reply past it ends the session (returns -ENOBUFS: call sess_end()
 * after unlocking).
 */
int sess_send(struct rfs_sessions *ss, struct sess *s, const void *b,
	      size_t len, bool reply);
/* Sends what the queue holds, on EPOLLOUT; with the lock held. */
void sess_flush(struct rfs_sessions *ss, struct sess *s);
int sess_reply(struct rfs_sessions *ss, struct sess *s, uint64_t seq,
	       int status, uint64_t hold);
/* Sends the notice @n for hold @h of @s, with the lock held. */
void sess_notice(struct rfs_sessions *ss, struct sess *s,
		 const struct proto_notice *n);
/* Serves a readable connection (the epoll thread). */
void sess_readable(struct rfs_sessions *ss, struct sess *s);
/* Replies; ends the session of a holder that reads nothing. */
void sess_reply_now(struct rfs_sessions *ss, struct sess *s, uint64_t seq,
		    int status);

/* One packet as received, with what came along. */
struct sess_rx {
	unsigned char b[PROTO_SESS_MAX + 1];
	ssize_t n;
	int fds[SESS_MAXFDS];
	size_t nfds;
	bool creds, ctrunc, trunc;
	struct ucred cr;
};
/* How sess_receive() reads. */
enum {
	SESS_RX_PEEK, /* leave it queued; no descriptor installed */
	SESS_RX_NOFDS, /* read it; descriptors dropped, never installed */
	SESS_RX_FDS, /* read it, descriptors installed (a job's table) */
};
/* Receives one packet from @fd; 0 (r->n 0: EOF) or -errno. */
int sess_receive(int fd, struct sess_rx *r, int how);
/* What a request deserves before it is served: 0, or -errno to reply. */
int sess_check(const struct sess *s, const struct sess_rx *r,
	       struct proto_sess_msg *m);
/* The sequence number of a packet that failed to decode, or 0. */
uint64_t sess_raw_seq(const unsigned char *b, size_t n);

/* session_hold.c */
/*
 * Starts a job for @s's next packet, which came with descriptors: the
 * job reads it into a descriptor table of its own and serves it (a
 * HOLD, or an error reply).  Takes the session's busy slot.  Returns 0
 * or -errno having done nothing.
 */
int sess_job(struct rfs_sessions *ss, struct sess *s);

#endif
