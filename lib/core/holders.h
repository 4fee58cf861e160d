/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The live holders one mediated request met (DESIGN §5, §6): which
 * sessions were told of it, and what became of each -- released in
 * time, still holding at its end, killed by break_kill or revoked by its
 * break.  Pure bookkeeping over snapshots of pins (core/pinset.h), so
 * that "who was told", "who released" and "who is left to kill" can be
 * unit-tested without a session channel; the mediation (fs/mediate.c)
 * does the telling and the killing.
 *
 * The list is the audit's own array (struct audit_holder), so that a
 * record names the holders without copying them.  Only adding a holder
 * needs memory, and only holders_reserve() allocates: the mediation
 * reserves first and fails closed (DESIGN §11) when it cannot.
 */
#ifndef RDMAFS_HOLDERS_H
#define RDMAFS_HOLDERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/audit.h"
#include "core/pinset.h"
#include "core/proto_notice.h"

struct holders {
	struct audit_holder *h; /* NULL while empty */
	size_t n, cap;
};

/* A session pin: one held by a live process, not a persistent one. */
static inline bool holders_is_session(const struct pin *p)
{
	return p->sess != 0;
}

/* The holder of session @sess in @l, or NULL. */
struct audit_holder *holders_find(struct holders *l, uint64_t sess);
/*
 * How many distinct sessions hold session pins among the @n at @pins
 * and are not in @l yet: what holders_reserve() needs for them.
 */
size_t holders_count_new(const struct holders *l, const struct pin *pins,
			 size_t n);
/* Room for @more holders; 0, or -ENOMEM with @l unchanged. */
int holders_reserve(struct holders *l, size_t more);
/*
 * The holder of @sess, added (not told, fate WAITING, @comm cut to 15
 * bytes; NULL: unknown) unless it is in @l already.  NULL only when it
 * is new and no room was reserved.
 */
struct audit_holder *holders_add(struct holders *l, uint64_t sess, int32_t pid,
				 uint32_t uid, const char *comm);
/*
 * Keeps, in place and in order, only the session pins of the @n at
 * @pins whose session is not in @l: the holders that a request parked
 * before they pinned has yet to tell.  Returns how many are left.
 */
size_t holders_untold(const struct holders *l, struct pin *pins, size_t n);
/* True when one of the @n pins at @pins belongs to session @sess. */
bool holders_in_pins(uint64_t sess, const struct pin *pins, size_t n);

/* Whether session @sess still holds an overlapping pin (its caller's). */
typedef bool (*holders_holds_fn)(uint64_t sess, void *arg);
/*
 * The end of a request: every holder still WAITING becomes HOLDING when
 * @holds says so, else RELEASED.  Holders already settled keep their
 * fate.  Returns how many are HOLDING (any, not only those just set):
 * under break_kill, those to kill.
 */
size_t holders_settle(struct holders *l, holders_holds_fn holds, void *arg);
/*
 * The break has revoked the @n pins at @pins: the holder of each session
 * pin among them that was not killed becomes REVOKED, added (untold,
 * with the pin's holder as pid) when it is not in @l.  Returns 0, or
 * -ENOMEM when one had to be added without the room reserved
 * (holders_count_new() tells how much).
 */
int holders_revoked(struct holders *l, const struct pin *pins, size_t n);
/* Frees the list, leaving it empty. */
void holders_free(struct holders *l);

/*
 * A notice (hold 0, flags 0) of a request of class @cls over its range
 * [@off, @off + @len) (@len saturating, as struct rfs_med's; an unlink,
 * or a range from 0 to the end, says the whole file; anything else is
 * cut to end at UINT64_MAX, so that the notice always encodes),
 * by the breaker @pid (< 0 reads as 0: not known), @uid and @comm (cut
 * to 15 bytes; NULL: empty), due at @deadline (CLOCK_REALTIME).
 */
void holders_notice(struct proto_notice *n, uint32_t cls, uint64_t off,
		    uint64_t len, int32_t pid, uint32_t uid, const char *comm,
		    const struct timespec *deadline);

#endif
