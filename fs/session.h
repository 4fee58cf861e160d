/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The session channel (DESIGN §6; wire format in core/proto_session.h,
 * protocol for people in doc/session.md): pins held by live processes.
 *
 * A session is one connection to the daemon's AF_UNIX SOCK_SEQPACKET
 * socket (RUNDIR/MAJ:MIN.sock, published through the mount root's
 * user.rdmafs.session).  Its owner is the process (thread group) that
 * connected, as the kernel tells it (SO_PEERCRED, a pidfd); holds name
 * their file by a descriptor opened through the mount and passed with
 * SCM_RIGHTS, whose open mode proves the access, and each message's
 * SCM_CREDENTIALS must be the owner's.  A session and its pins end at
 * once when the owner closes it (or its last copy of the descriptor
 * closes), or when the owner exits in any way (its pidfd polls readable),
 * whichever comes first: no polling, no zombie pins.
 *
 * One thread serves every session with epoll, and does only what never
 * blocks (a release, a session's end, sending notices); a HOLD, which
 * stabilises a block map and takes the layout gate, runs on a thread of
 * its own, one at a time per session.  Nothing here takes an inode lock
 * of a file or directory in the mount, so a release reaches a request
 * parked in the kernel under such a lock at once.
 *
 * Session pins are ordinary pins of the pin table with holder = the
 * owner's pid, sess = the session's id and hold = the hold's id
 * (core/pinset.h), never stored on disk; every decision sees them with
 * the persistent ones.  Hold ids are unique in the daemon's life, not
 * only in their session.
 *
 * A REPLY's status: for any request, EPERM (the sender is not the
 * session's owner: a child that inherited the descriptor), EPROTO (a
 * malformed message, more than one descriptor, a descriptor with a
 * RELEASE), EPROTONOSUPPORT (another version); a packet without a
 * sequence number to answer ends the session.  HOLD: EBADF (no
 * descriptor, or an O_PATH one), EACCES (not open for writing), EXDEV
 * (not a file of this mount), EINVAL (not a regular file, the root, or
 * a range past the file's end), ENOSPC (a pin limit), EIO (the mount's
 * device unknown), ENOMEM, or what stabilising the range met.  RELEASE:
 * ENOENT (no such hold in this session: released, revoked, or another
 * session's).  A session not reading its replies (more than 80 packets
 * queued) is ended; notices past 64 queued are dropped (logged).
 */
#ifndef RDMAFS_SESSION_H
#define RDMAFS_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rdmafs.h"
#include "core/pinset.h"
#include "core/proto_notice.h"

struct pidx_item;

/* A holder that a request met: told of it, and what became of it. */
struct rfs_sess_holder {
	uint64_t sess; /* the session */
	int32_t pid; /* its owner */
	uint32_t uid;
	char comm[16]; /* the owner's comm when the session opened */
};

/*
 * Starts the channel after mounting, in the daemonised process: binds
 * the socket in the run directory (instance.c) and starts its thread.
 * Returns 0, or -errno: sessions are then unavailable (the caller logs
 * why; the mount goes on, and user.rdmafs.session answers ENOTSUP).
 */
int rfs_sess_start(struct rfs *fs);
/*
 * Ends every session (their pins go; each holder reads the channel's end
 * as RDMAFS_NOTICE_LOST), stops the thread and removes the socket.
 */
void rfs_sess_stop(struct rfs *fs);

/*
 * The value of user.rdmafs.session ("1 PATH\n", proto_session.h) into
 * @buf; returns its length or -ENOTSUP when there is no channel.
 */
int rfs_sess_address(struct rfs *fs, char *buf, size_t size);

/*
 * Tells the holder of every session pin among @pins (one notice per
 * pin, naming its hold) that the request @what describes (class, range,
 * breaker pid/uid/comm, deadline; its hold field is ignored) wants it.
 * Never blocks: a notice that does not fit the socket now is queued (a
 * bounded queue per session; past it, dropped and logged).  Copies up to
 * @max distinct sessions told to @told; returns how many there were.
 */
size_t rfs_sess_notify(struct rfs *fs, const struct pin *pins, size_t n,
		       const struct proto_notice *what,
		       struct rfs_sess_holder *told, size_t max);

/*
 * True when session @sess still holds a pin among @pins (by its hold
 * ids): whether a told holder released in time.
 */
bool rfs_sess_holds_any(struct rfs *fs, uint64_t sess, const struct pin *pins,
			size_t n);

/*
 * break_kill: sends SIGKILL to the owner of session @sess through its
 * pidfd (race-free: never another process that reused the pid), then
 * ends the session at once, dropping all of its pins -- only when it
 * still holds one of the @n pins at @pins (by hold id), looked at under
 * the sessions' lock with the signal, so that a holder whose RELEASE
 * was served first is never killed.  Returns 0, -ESRCH when the
 * session had ended, holds none of them any more (it released) or its
 * owner had exited by itself (its pins dropped), or
 * another -errno when the signal could not be sent (the holder lives
 * on, its session and pins untouched: revoke them).
 */
int rfs_sess_kill(struct rfs *fs, uint64_t sess, const struct pin *pins,
		  size_t n);

/*
 * Session pin @p was removed by someone other than its holder (a
 * break's revocation, the file's last name removed): the session forgets
 * the hold and its holder gets a notice with PROTO_NOTICE_REVOKED,
 * describing @what (NULL: no operation is known).
 */
void rfs_sess_revoked(struct rfs *fs, const struct pin *p,
		      const struct proto_notice *what);

/* Sessions open now, and the session pins they hold (status). */
void rfs_sess_counts(struct rfs *fs, uint64_t *sessions, uint64_t *pins);

/* The file (@dev, @ino) of session pins is now at @rel: the listing's hint. */
void rfs_sess_renamed(struct rfs *fs, uint64_t dev, uint64_t ino,
		      const char *rel);

/*
 * The files session pins are on now, once each (inode, backing handle
 * or NULL, path when held or NULL), for the listing: the pin index
 * names only files with persistent pins.  Returns how many (free with
 * pidx_free_items()) or -ENOMEM.
 */
ssize_t rfs_sess_files(struct rfs *fs, struct pidx_item **out);

#endif
