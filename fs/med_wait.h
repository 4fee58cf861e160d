/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside the mediation: how parked requests wait (med_wait.c) and what
 * the mediator thread calls back in mediate.c to answer them.
 */
#ifndef RDMAFS_MED_WAIT_H
#define RDMAFS_MED_WAIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "mediate.h"
#include "med_stats.h"

struct rfs_mediator {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool running, stopping;
	struct rfs_med *parked;
	size_t nparked;
	unsigned int ring_parked; /* of which came through io_uring (atomic) */
	/* Pins changed, or a wait ended: tell holders who pinned since. */
	bool recheck;
	int64_t next_recheck; /* the next look without a kick */
	int64_t next_poll; /* the next look at the callers' signals */
	pthread_rwlock_t gate; /* see rfs_gate_enter() in mediate.h */
	struct rfs_med_stats stats; /* the status's counters */
};

/* CLOCK_MONOTONIC in milliseconds. */
int64_t rfs_med_now_ms(void);

/*
 * Puts @m (copied off the stack, deadline set) on the parked list; the
 * mediator may answer and free it at once.  @again: the mediator puts
 * back a request whose pins came back before its deadline.
 */
void rfs_med_park(struct rfs *fs, struct rfs_med *m, bool again);

/*
 * Before parking @m: whether it may keep its io_uring entry (uring.h,
 * RFS_URING_DEPTH), counting it (m->ring) if so; always true for a
 * request through /dev/fuse.  rfs_med_ring_release() when it is
 * answered.
 */
bool rfs_med_ring_reserve(struct rfs *fs, struct rfs_med *m);
void rfs_med_ring_release(struct rfs *fs, struct rfs_med *m);

/* In mediate.c, for the mediator thread, outside its lock: */
/*
 * Answers parked @m if it may go on, fails or times out (or was
 * interrupted), else parks it again.
 */
void rfs_med_settle(struct rfs *fs, struct rfs_med *m, int64_t now);
/* Tells the holders who pinned over parked @m's range since it parked. */
void rfs_med_tell_newcomers(struct rfs *fs, struct rfs_med *m);
/* Answers parked @m with ESHUTDOWN (the daemon stops) and frees it. */
void rfs_med_shutdown(struct rfs *fs, struct rfs_med *m);

#endif
