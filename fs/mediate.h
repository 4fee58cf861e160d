/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Mediation of layout-changing operations under pins (DESIGN §3): the one
 * entry point every such request goes through.
 *
 * A handler describes its request in a struct rfs_med on its stack (the
 * inode(s) and range(s) it would touch, its own arguments) with a
 * struct rfs_med_op saying what the operation is, and calls
 * rfs_mediate().  That takes the layout gate (below), finds the pins the
 * request would touch as ONE snapshot taken under the pin table's file
 * lock, lets pol_decide() (core/policy.h) judge it for the requester, and
 * performs, refuses or parks the request, with one audit record built
 * from the same snapshot.  A parked request is copied off the stack and
 * holds no worker thread; the mediator thread answers it when the pins
 * are gone, at the timeout, or when the caller is interrupted (or has a
 * signal pending, which io_uring does not tell: med_wait.c), taking a new
 * snapshot for that attempt.
 */
#ifndef RDMAFS_MEDIATE_H
#define RDMAFS_MEDIATE_H

#include <stdbool.h>
#include <stdint.h>

#include "rdmafs.h"
#include "core/holders.h"
#include "core/pinset.h"
#include "core/policy.h"
#include "core/strbuf.h"

struct rfs_med;

/* What op->check() found (or -errno, with m->reason saying what failed). */
enum {
	RFS_MED_GO = 0, /* mediate m's range(s) */
	RFS_MED_PLAIN = 1, /* no pin can be touched: perform as is */
	RFS_MED_DONE = 2, /* check() answered the request itself */
};

/* One kind of mediated request (mediated_ops.c, mediated_names.c). */
struct rfs_med_op {
	enum pol_class cls;
	const char *name; /* the audit "op" */
	size_t args_size; /* sizeof *m->args: copied when parked */
	/*
	 * Whether the request must be checked even when the mount has no
	 * pin in the table or the index (it needs check() to perform).
	 */
	bool always;
	/*
	 * Optional, under the gate: finds what the request touches (opens,
	 * stats, looks up), setting or narrowing m's inode(s) and range(s).
	 * When the handler named an inode already, it is called only if
	 * the snapshot of the handler's range has pins, and the snapshot is
	 * then narrowed to the range check() leaves.  Returns RFS_MED_*.
	 */
	int (*check)(struct rfs *fs, struct rfs_med *m);
	/*
	 * Optional: before parking, copies what m->args points to in the
	 * kernel's request buffer (names), which is reused once the
	 * handler returns.  0, or -ENOMEM having kept nothing.
	 */
	int (*keep)(struct rfs_med *m);
	/* Performs the operation (m->copy: as a plain copy) and replies. */
	void (*perform)(struct rfs_med *m);
	/* Optional: replies @err (-errno); default fuse_reply_err(). */
	void (*refuse)(struct rfs_med *m, int err);
	/* Optional: after the reply, releases what m->args holds. */
	void (*release)(struct rfs *fs, struct rfs_med *m);
};

/* The pins a request would touch (med_snap.c), as one snapshot. */
struct rfs_med_snap {
	struct pin *pins; /* few[], or allocated when more */
	size_t n; /* all of them */
	size_t n1; /* of which the first inode's (the rest: the second's) */
	size_t cap;
	bool taken;
	struct pin few[4];
};

struct rfs_med {
	fuse_req_t req;
	const struct rfs_med_op *op;
	dev_t dev; /* the inode touched (0, 0: check() finds it) */
	ino_t ino;
	uint64_t off, len; /* and the range (len saturates) */
	/* A second inode (reflink: the other end of the copy). */
	bool has2;
	dev_t dev2;
	ino_t ino2;
	uint64_t off2, len2;
	int path_fd; /* an fd of the file (O_PATH will do); -1: none */
	int path_fd2; /* the same for the second inode */
	bool own_path_fd; /* close path_fd at release */
	/* Without path_fd: the file's name in directory dir_fd, or NULL. */
	const char *name;
	int dir_fd;
	/* Why, when not the policy alone decided (audit "reason"). */
	const char *reason;
	bool copy; /* reflink=copy: copy the data, share no extent */
	void *args; /* the op's own (op->args_size bytes) */
	struct rfs_med_snap snap; /* owned by mediate.c */
	/* Parking, owned by mediate.c. */
	struct rfs_med *next;
	int64_t parked_ms, deadline_ms;
	bool breaking, interrupted;
	/* The caller has a signal pending (med_wait.c): an interrupt. */
	bool signalled, sig_maybe;
	bool ring; /* parked holding an io_uring entry (med_wait.c) */
	struct ident *who; /* the offender, read when the request came */
	/*
	 * Session holders told of it, and their fates (DESIGN §6): set
	 * when it parks, grown at wake-ups by holders who pinned since.
	 */
	struct holders holders;
	struct timespec deadline_rt; /* the notices' deadline */
	int failed; /* -errno: holders could not be tracked; refuse */
	char why[64]; /* why killed holders were killed */
};

/* A request of @op on the stack: fill in its inode(s), range(s), args. */
static inline struct rfs_med
rfs_med_init(fuse_req_t req, const struct rfs_med_op *op, void *args)
{
	struct rfs_med m = {
		.req = req,
		.op = op,
		.args = args,
		.path_fd = -1,
		.path_fd2 = -1,
		.dir_fd = -1,
	};

	return m;
}

/*
 * The entry point: mediates @m (on the caller's stack; copied if parked)
 * and answers its request exactly once, performing it, refusing it or
 * parking it.  Takes the layout gate itself.  Any error while finding
 * out whether a pin is touched refuses the request with that error and
 * audits it (DESIGN §11); nothing falls through to the plain operation.
 */
void rfs_mediate(struct rfs *fs, struct rfs_med *m);

/*
 * For op->check(): (re)takes @m's snapshot of the pins over its current
 * inode(s) and range(s).  Returns 0 or -ENOMEM.
 */
int rfs_med_snap(struct rfs *fs, struct rfs_med *m);

int rfs_mediate_start(struct rfs *fs);
/* Answers every parked request with an error and stops the thread. */
void rfs_mediate_stop(struct rfs *fs);
/* Pins were removed somewhere: parked requests may go on. */
void rfs_mediate_kick(struct rfs *fs);

/*
 * The layout gate (issue 7): closes the window between a mediated
 * handler's "is this range pinned?" and its plain operation.
 * rfs_mediate() holds it shared from its first look at the pin table
 * until the operation has returned, the no-pins fast path included; the
 * mediator holds it shared while it performs a parked request.  A pin
 * takes it exclusive only to verify its range's block map and insert
 * itself in the pin table, so an acknowledged pin never meets a layout
 * change that decided "not pinned" before it.  A parked request does not
 * hold it while parked.
 *
 * Writer-preferring and not recursive: never take it shared twice in one
 * thread, and never wait for the kernel, a parked request or a pin
 * table file lock's holder's gate while holding it.
 */
void rfs_gate_enter(struct rfs *fs);
void rfs_gate_leave(struct rfs *fs);
void rfs_gate_lock_pin(struct rfs *fs);
void rfs_gate_unlock_pin(struct rfs *fs);

/*
 * Appends the status lines of the policy and counters to @t: parked
 * (requests waiting now), refused, deferred, broken, audited, copied,
 * notified (holders told, once per request and session), killed
 * (holders killed by break_kill), then med_stats.h's by class and
 * action, parked requests' outcomes and waits, and holders (sessions
 * holding a pin).  A failure is @t's sticky error: never a cut text.
 */
void rfs_mediate_status(struct rfs *fs, struct sbuf *t);

#endif
