/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside the mediation (mediate.c): the snapshot of the pins a request
 * would touch, the audit record built from it, and the break that
 * revokes them.  The only part of the mediation that talks to the pin
 * service (pins.h), so that mediate.c depends on core/ alone.
 */
#ifndef RDMAFS_MED_SNAP_H
#define RDMAFS_MED_SNAP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "mediate.h"

struct audit_pin;
struct proto_notice;

/* Pins in the mount, loaded or only in the index (cheap, lock-free). */
bool rfs_med_pins_maybe(struct rfs *fs);
/*
 * Keeps only the snapshot's pins that overlap m's current range(s)
 * (after op->check() narrowed them); no table access.
 */
void rfs_med_snap_narrow(struct rfs_med *m);
/* Swaps m's two ends (and the snapshot's halves' counts). */
void rfs_med_swap_ends(struct rfs_med *m);
/* Empties @s, freeing what it allocated. */
void rfs_med_snap_free(struct rfs_med_snap *s);
/* Moves @from into @to (a copy of the request that goes on). */
void rfs_med_snap_move(struct rfs_med_snap *to, struct rfs_med_snap *from);
/*
 * True when a pin still overlaps m's range(s): the mediator's test of
 * whether a parked request may be settled now.  Lock-free for files
 * without pins.
 */
bool rfs_med_pinned_now(struct rfs *fs, const struct rfs_med *m);

/*
 * Records a decision about @m (DESIGN §5) with @pins, or, when @pins is
 * NULL, with the pins of m's snapshot.
 */
void rfs_med_record(struct rfs *fs, const struct rfs_med *m, const char *event,
		    int err, int64_t waited_ms, const struct audit_pin *pins,
		    size_t npins);
/* @p as an audit record names it. */
void rfs_med_audit_pin(const struct pin *p, struct audit_pin *a);

/* The most pins one record names. */
#define RFS_MED_AUDIT_PINS 16

/*
 * The notice of m's request for its end @end (0: the first, 1: the
 * second), due at @deadline (CLOCK_REALTIME).
 */
void rfs_med_notice(const struct rfs_med *m, int end,
		    const struct timespec *deadline, struct proto_notice *n);

/*
 * The break: revokes the pins overlapping m's range(s), whoever holds
 * them, storing what is left (holders of session pins get a REVOKED
 * notice of m's request); copies up to @max of the revoked pins to @out
 * and returns how many went.
 */
size_t rfs_med_break(struct rfs *fs, const struct rfs_med *m,
		     struct audit_pin *out, size_t max);

#endif
