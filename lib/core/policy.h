/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The mediation policy (DESIGN §3): for each class of layout-changing
 * operation, what happens when it touches a pinned range.  pol_decide() is
 * a pure function of the operation class, whether pins overlap, whose
 * they are, and the policy, so that every combination can be unit-tested.
 */
#ifndef RDMAFS_POLICY_H
#define RDMAFS_POLICY_H

#include <stdbool.h>

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
	POL_DO_REFUSE,
	POL_DO_DEFER,
	POL_DO_BREAK,
	POL_DO_AUDIT, /* perform, and record it */
	POL_DO_COPY, /* perform as a plain copy, and record it */
};

struct pol {
	enum pol_action action[POL_NCLASSES];
	unsigned int break_timeout; /* seconds */
	bool break_kill;
};

/* The defaults of §3: refuse everything, reflink=copy, 45 s. */
void pol_default(struct pol *p);
/*
 * Sets the action of @cls (or of every class but an explicit override's,
 * for policy=) from a name.  Returns 0 or -EINVAL for an unknown name or
 * "copy" for a class other than reflink.
 */
int pol_set(struct pol *p, enum pol_class cls, const char *name);
/*
 * @own: every overlapping pin is a persistent pin of the caller's own
 * uid.  An unlink (or rename over the last name) then is never parked,
 * under defer or break: parked, it would hold its directory's lock in the
 * kernel for the whole break timeout, stalling every other user's lookups
 * and creates there, for a wait only the caller itself can end; it is
 * refused at once instead (the caller unpins first).  The other classes
 * park holding only the file's own inode lock, so @own changes nothing
 * for them.
 */
enum pol_verdict pol_decide(const struct pol *p, enum pol_class cls,
			    bool overlaps, bool own);

const char *pol_class_name(enum pol_class cls);
const char *pol_action_name(enum pol_action a);

#endif
