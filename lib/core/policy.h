/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The mediation policy (DESIGN §3): for each class of layout-changing
 * operation, what happens when it touches a pinned range.  pol_decide() is
 * a pure function of the policy, the requester and one snapshot of the
 * pins the operation would touch, so that every combination can be
 * unit-tested and the decision, the audit record and the holders' notices
 * all see the same pins.
 *
 * The policy is kept in one parsed form, struct pol: the mount options
 * are parsed into it (pol_set_base(), pol_set()) and every text of it
 * (the status lines, remount's comparison) is derived from it
 * (pol_value(), pol_format()).
 */
#ifndef RDMAFS_POLICY_H
#define RDMAFS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/pinset.h"

enum pol_class {
	POL_TRUNCATE, /* a size decrease cutting into a pin */
	POL_PUNCH, /* fallocate punch-hole / zero / collapse / insert */
	POL_REFLINK, /* copy_file_range with a pinned source or destination */
	POL_UNLINK, /* the last name of a pinned file goes */
	POL_NCLASSES
};

enum pol_action {
	POL_REFUSE, /* ETXTBSY at once */
	POL_DEFER, /* wait for the pins to go; ETXTBSY at the timeout */
	POL_BREAK, /* wait; at the timeout revoke the pins and go on */
	POL_AUDIT, /* perform and record */
	POL_COPY, /* reflink only: a plain data copy, never sharing extents */
	POL_NACTIONS
};

/* What the daemon does with one request. */
enum pol_verdict {
	POL_PERFORM, /* untouched by pins: as the backing filesystem would */
	POL_DO_REFUSE, /* ETXTBSY at once */
	POL_DO_DEFER,
	POL_DO_BREAK,
	POL_DO_AUDIT, /* perform, and record it */
	POL_DO_COPY, /* perform as a plain copy, and record it */
	POL_DO_DEADLOCK, /* EDEADLK at once: the caller holds the pin itself */
};

struct pol {
	enum pol_action action[POL_NCLASSES];
	/* policy=: what the classes got unless overridden (status, remount) */
	enum pol_action base;
	unsigned int break_timeout; /* seconds */
	bool break_kill;
};

/*
 * The pins one attempt of a request would touch, read in one go under
 * the pin table's file lock (both ends of a copy together): all of them,
 * never a prefix, so that a decision over them is complete.
 */
struct pol_snap {
	const struct pin *pins;
	size_t n;
};

/* Who asks. */
struct pol_req {
	enum pol_class cls;
	uint32_t uid;
	int32_t tgid; /* its process (thread group); <= 0: unknown */
};

/* The defaults of §3: refuse everything, reflink=copy, 45 s. */
void pol_default(struct pol *p);
/*
 * Sets the action of @cls from a name.  Returns 0 or -EINVAL for an
 * unknown name or "copy" for a class other than reflink.
 */
int pol_set(struct pol *p, enum pol_class cls, const char *name);
/*
 * policy=NAME: sets the base and every class but reflink (which keeps
 * copy unless reflink= says otherwise; apply class overrides after
 * this).  Returns 0 or -EINVAL ("copy" is no base).
 */
int pol_set_base(struct pol *p, const char *name);

/*
 * The decision over @s for @r, with in *@why (may be NULL) the audit
 * reason when the policy's action alone did not decide it, else NULL:
 *  - no pin in @s: perform;
 *  - a live session pin in @s held by the requester's own thread group
 *    (DESIGN §6): EDEADLK at once, whatever the action, since waiting
 *    would wait for itself;
 *  - an unlink (or rename over the last name) whose pins are all
 *    persistent pins of the requester's uid is never parked, under defer
 *    or break: parked, it would hold its directory's lock in the kernel
 *    for the whole break timeout, stalling every other user's lookups
 *    and creates there, for a wait only the caller itself can end; it
 *    is refused at once instead (the caller unpins first).  The other
 *    classes park holding only the file's own inode lock, so for them
 *    whose pins they are changes nothing;
 *  - otherwise the class's action.
 */
enum pol_verdict pol_decide(const struct pol *p, const struct pol_req *r,
			    const struct pol_snap *s, const char **why);

const char *pol_class_name(enum pol_class cls);
const char *pol_action_name(enum pol_action a);
/*
 * The text of one policy key as the status reports it ("policy",
 * "truncate", ..., "break_timeout", "break_kill") into @buf.  Returns 0,
 * or -ENOENT when @key is not one of them.
 */
int pol_value(const struct pol *p, const char *key, char *buf, size_t size);
/*
 * Every key, as "key=value\n" lines, into @buf; returns the length it
 * needed (as snprintf).
 */
int pol_format(const struct pol *p, char *buf, size_t size);

#endif
