/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The library's version and the names of the policy's classes and
 * actions: the core's policy module names them once for the daemon's
 * options and status, so the public enums mirror its enums.
 */
#include "client.h"
#include "core/policy.h"

_Static_assert((int)RDMAFS_TRUNCATE == (int)POL_TRUNCATE &&
		       (int)RDMAFS_PUNCH == (int)POL_PUNCH &&
		       (int)RDMAFS_REFLINK == (int)POL_REFLINK &&
		       (int)RDMAFS_UNLINK == (int)POL_UNLINK &&
		       (int)RDMAFS_NCLASSES == (int)POL_NCLASSES,
	       "rdmafs_class mirrors pol_class");
_Static_assert((int)RDMAFS_REFUSE == (int)POL_REFUSE &&
		       (int)RDMAFS_DEFER == (int)POL_DEFER &&
		       (int)RDMAFS_BREAK == (int)POL_BREAK &&
		       (int)RDMAFS_AUDIT == (int)POL_AUDIT &&
		       (int)RDMAFS_COPY == (int)POL_COPY &&
		       (int)RDMAFS_NACTIONS == (int)POL_NACTIONS,
	       "rdmafs_action mirrors pol_action");

RDMAFS_EXPORT const char *rdmafs_version(void)
{
	return RDMAFS_VERSION;
}

RDMAFS_EXPORT const char *rdmafs_class_name(enum rdmafs_class cls)
{
	if ((unsigned int)cls >= RDMAFS_NCLASSES)
		return NULL;
	return pol_class_name((enum pol_class)cls);
}

RDMAFS_EXPORT const char *rdmafs_action_name(enum rdmafs_action action)
{
	if ((unsigned int)action >= RDMAFS_NACTIONS)
		return NULL;
	return pol_action_name((enum pol_action)action);
}
