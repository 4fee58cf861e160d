// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The mediation's counters; see med_stats.h.
 */
#include <inttypes.h>
#include <stdbool.h>

#include "med_stats.h"

static const int64_t wait_bounds[RFS_MED_WAIT_BOUNDS] = {
	1, 10, 100, 1000, 10000, 60000,
};

/* The status names of the outcomes: deferred.NAME=. */
static const char *const outcome_names[RFS_MED_NOUTCOMES] = {
	[RFS_MED_OUT_DONE] = "done",
	[RFS_MED_OUT_TIMEOUT] = "timeout",
	[RFS_MED_OUT_BREAK] = "break",
	[RFS_MED_OUT_INTERRUPTED] = "interrupted",
	[RFS_MED_OUT_ERROR] = "error",
	[RFS_MED_OUT_SHUTDOWN] = "shutdown",
};

static uint64_t load(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

void rfs_med_stats_decided(struct rfs_med_stats *s, enum pol_class cls,
			   enum pol_action a)
{
	if (cls < POL_NCLASSES && a < POL_NACTIONS)
		rfs_med_stats_inc(&s->decided[cls][a]);
}

void rfs_med_stats_waited(struct rfs_med_stats *s, enum rfs_med_outcome out,
			  int64_t waited_ms)
{
	size_t b = 0;

	/* The monotonic clock never goes back; a guard costs nothing. */
	if (waited_ms < 0)
		waited_ms = 0;
	while (b < RFS_MED_WAIT_BOUNDS && waited_ms > wait_bounds[b])
		b++;
	if (out < RFS_MED_NOUTCOMES)
		rfs_med_stats_inc(&s->outcome[out]);
	__atomic_add_fetch(&s->wait_sum_ms, (uint64_t)waited_ms,
			   __ATOMIC_RELAXED);
	rfs_med_stats_inc(&s->wait_bucket[b]);
}

/*
 * Whether @a is an action class @cls can be decided with: copy is
 * reflink's alone (pol_set() refuses it elsewhere), so the status lists
 * no decided.truncate.copy that could never count.
 */
static bool possible(int cls, int a)
{
	return a != POL_COPY || cls == POL_REFLINK;
}

void rfs_med_stats_format(const struct rfs_med_stats *s, struct sbuf *t)
{
	uint64_t cum = 0;
	int c, a, i;

	sbuf_printf(t,
		    "refused=%" PRIu64 "\ndeferred=%" PRIu64 "\nbroken=%" PRIu64
		    "\naudited=%" PRIu64 "\ncopied=%" PRIu64
		    "\nnotified=%" PRIu64 "\nkilled=%" PRIu64 "\n",
		    load(&s->refused), load(&s->deferred), load(&s->broken),
		    load(&s->audited), load(&s->copied), load(&s->notified),
		    load(&s->killed));
	/*
	 * Every possible pair, zeros included: a series that exists from
	 * the start lets a rate over it see its first increase.
	 */
	for (c = 0; c < POL_NCLASSES; c++)
		for (a = 0; a < POL_NACTIONS; a++)
			if (possible(c, a))
				sbuf_printf(t, "decided.%s.%s=%" PRIu64 "\n",
					    pol_class_name(c),
					    pol_action_name(a),
					    load(&s->decided[c][a]));
	for (i = 0; i < RFS_MED_NOUTCOMES; i++)
		sbuf_printf(t, "deferred.%s=%" PRIu64 "\n", outcome_names[i],
			    load(&s->outcome[i]));
	/* '+' is no key character (proto_parse.c): "inf" for +Inf. */
	for (i = 0; i < RFS_MED_WAIT_BUCKETS; i++) {
		cum += load(&s->wait_bucket[i]);
		if (i < RFS_MED_WAIT_BOUNDS)
			sbuf_printf(t,
				    "wait_ms_bucket.%" PRId64 "=%" PRIu64 "\n",
				    wait_bounds[i], cum);
		else
			sbuf_printf(t, "wait_ms_bucket.inf=%" PRIu64 "\n", cum);
	}
	sbuf_printf(t, "wait_ms_sum=%" PRIu64 "\nwait_ms_count=%" PRIu64 "\n",
		    load(&s->wait_sum_ms), cum);
}
