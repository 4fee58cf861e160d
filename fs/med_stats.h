/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The mediation's counters, as user.rdmafs.status shows them (and
 * rdmafsctl metrics turns them into Prometheus metrics).
 *
 * Every counter is a uint64_t bumped with a relaxed atomic add and read
 * with relaxed atomic loads: no lock on the mediated path, and a status
 * read sees each counter whole, if not all of them at one instant.  The
 * wait histogram keeps one count per bucket (not cumulative), so that an
 * observation is one add; the status prints them cumulated from one pass
 * of loads, so its buckets never decrease and its "+Inf" bucket and its
 * count are the same number by construction.
 */
#ifndef RDMAFS_MED_STATS_H
#define RDMAFS_MED_STATS_H

#include <stdint.h>

#include "core/policy.h"
#include "core/strbuf.h"

struct rfs;

/* What became of a parked (deferred or breaking) request. */
enum rfs_med_outcome {
	RFS_MED_OUT_DONE, /* the pins went: performed */
	RFS_MED_OUT_TIMEOUT, /* defer's timeout: ETXTBSY */
	RFS_MED_OUT_BREAK, /* break's timeout: pins revoked, performed */
	RFS_MED_OUT_INTERRUPTED, /* the caller gave up: EINTR */
	RFS_MED_OUT_ERROR, /* the pins could not be looked at again */
	RFS_MED_OUT_SHUTDOWN, /* the daemon stopped: ESHUTDOWN */
	RFS_MED_NOUTCOMES
};

/* The wait histogram's upper bounds in ms; one more bucket: +Inf. */
#define RFS_MED_WAIT_BOUNDS 6
#define RFS_MED_WAIT_BUCKETS (RFS_MED_WAIT_BOUNDS + 1)

struct rfs_med_stats {
	uint64_t refused, deferred, broken, audited, copied;
	uint64_t notified, killed; /* holders told, killed by break_kill */
	/* Each request touching a pin, once, by class and first decision. */
	uint64_t decided[POL_NCLASSES][POL_NACTIONS];
	uint64_t outcome[RFS_MED_NOUTCOMES];
	uint64_t wait_bucket[RFS_MED_WAIT_BUCKETS]; /* not cumulative */
	uint64_t wait_sum_ms;
};

static inline void rfs_med_stats_inc(uint64_t *c)
{
	__atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
}

/* A request of class @cls decided with @a (refusals of any cause). */
void rfs_med_stats_decided(struct rfs_med_stats *s, enum pol_class cls,
			   enum pol_action a);
/* A parked request answered with @out after @waited_ms in all. */
void rfs_med_stats_waited(struct rfs_med_stats *s, enum rfs_med_outcome out,
			  int64_t waited_ms);
/*
 * Appends the counters' status lines to @t (see doc/rdmafs.1.rst): the
 * totals (refused ... killed), then decided.CLASS.ACTION, deferred.OUTCOME,
 * wait_ms_bucket.LE, wait_ms_sum and wait_ms_count.
 */
void rfs_med_stats_format(const struct rfs_med_stats *s, struct sbuf *t);

/*
 * In session.c: the live sessions that hold at least one pin now (a
 * session opened and holding nothing is no holder).
 */
uint64_t rfs_sess_holders(struct rfs *fs);

#endif
