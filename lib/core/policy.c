// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The mediation policy; see policy.h.
 */
#include <errno.h>
#include <string.h>

#include "core/policy.h"

static const char *const class_names[POL_NCLASSES] = {
	[POL_TRUNCATE] = "truncate",
	[POL_PUNCH] = "punch",
	[POL_REFLINK] = "reflink",
	[POL_UNLINK] = "unlink",
};

static const char *const action_names[POL_NACTIONS] = {
	[POL_REFUSE] = "refuse", [POL_DEFER] = "defer", [POL_BREAK] = "break",
	[POL_AUDIT] = "audit",	 [POL_COPY] = "copy",
};

void pol_default(struct pol *p)
{
	int c;

	for (c = 0; c < POL_NCLASSES; c++)
		p->action[c] = POL_REFUSE;
	p->action[POL_REFLINK] = POL_COPY;
	p->break_timeout = 45;
	p->break_kill = false;
}

int pol_set(struct pol *p, enum pol_class cls, const char *name)
{
	int a;

	if (cls >= POL_NCLASSES || !name)
		return -EINVAL;
	for (a = 0; a < POL_NACTIONS; a++) {
		if (strcmp(name, action_names[a]) != 0)
			continue;
		if (a == POL_COPY && cls != POL_REFLINK)
			return -EINVAL;
		p->action[cls] = a;
		return 0;
	}
	return -EINVAL;
}

enum pol_verdict pol_decide(const struct pol *p, enum pol_class cls,
			    bool overlaps, bool own)
{
	bool park_ok = !own || cls != POL_UNLINK;

	if (!overlaps || cls >= POL_NCLASSES)
		return POL_PERFORM;
	switch (p->action[cls]) {
	case POL_DEFER:
		return park_ok ? POL_DO_DEFER : POL_DO_REFUSE;
	case POL_BREAK:
		return park_ok ? POL_DO_BREAK : POL_DO_REFUSE;
	case POL_AUDIT:
		return POL_DO_AUDIT;
	case POL_COPY:
		return POL_DO_COPY;
	case POL_REFUSE:
	default:
		return POL_DO_REFUSE;
	}
}

const char *pol_class_name(enum pol_class cls)
{
	return cls < POL_NCLASSES ? class_names[cls] : "?";
}

const char *pol_action_name(enum pol_action a)
{
	return a < POL_NACTIONS ? action_names[a] : "?";
}
