// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The mediation policy; see policy.h.
 */
#include <errno.h>
#include <stdio.h>
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

/* The keys of pol_value(), in status order. */
static const char *const keys[] = { "policy",	 "truncate", "punch",
				    "reflink",	 "unlink",   "break_timeout",
				    "break_kill" };

void pol_default(struct pol *p)
{
	int c;

	for (c = 0; c < POL_NCLASSES; c++)
		p->action[c] = POL_REFUSE;
	p->action[POL_REFLINK] = POL_COPY;
	p->base = POL_REFUSE;
	p->break_timeout = 45;
	p->break_kill = false;
}

static int action_of(const char *name)
{
	int a;

	for (a = 0; name && a < POL_NACTIONS; a++)
		if (strcmp(name, action_names[a]) == 0)
			return a;
	return -EINVAL;
}

int pol_set(struct pol *p, enum pol_class cls, const char *name)
{
	int a = action_of(name);

	if (cls >= POL_NCLASSES || a < 0 ||
	    (a == POL_COPY && cls != POL_REFLINK))
		return -EINVAL;
	p->action[cls] = a;
	return 0;
}

int pol_set_base(struct pol *p, const char *name)
{
	int a = action_of(name), c;

	if (a < 0 || a == POL_COPY)
		return -EINVAL;
	p->base = a;
	for (c = 0; c < POL_NCLASSES; c++)
		if (c != POL_REFLINK)
			p->action[c] = a;
	return 0;
}

enum pol_verdict pol_decide(const struct pol *p, const struct pol_req *r,
			    const struct pol_snap *s, const char **why)
{
	bool own = true;
	size_t i;

	if (why)
		*why = NULL;
	if (!s || !s->n || r->cls >= POL_NCLASSES)
		return POL_PERFORM;
	for (i = 0; i < s->n; i++) {
		const struct pin *pin = &s->pins[i];

		if (pin->holder > 0 && r->tgid > 0 && pin->holder == r->tgid) {
			if (why)
				*why = "the caller holds the pin itself";
			return POL_DO_DEADLOCK;
		}
		if (pin->holder > 0 || pin->owner != r->uid)
			own = false;
	}
	switch (p->action[r->cls]) {
	case POL_DEFER:
	case POL_BREAK:
		if (own && r->cls == POL_UNLINK) {
			if (why)
				*why = "only the caller's own pins: unpin first";
			return POL_DO_REFUSE;
		}
		return p->action[r->cls] == POL_DEFER ? POL_DO_DEFER
						      : POL_DO_BREAK;
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

int pol_value(const struct pol *p, const char *key, char *buf, size_t size)
{
	int c;

	if (strcmp(key, "policy") == 0) {
		snprintf(buf, size, "%s", pol_action_name(p->base));
		return 0;
	}
	for (c = 0; c < POL_NCLASSES; c++) {
		if (strcmp(key, class_names[c]) == 0) {
			snprintf(buf, size, "%s",
				 pol_action_name(p->action[c]));
			return 0;
		}
	}
	if (strcmp(key, "break_timeout") == 0)
		snprintf(buf, size, "%u", p->break_timeout);
	else if (strcmp(key, "break_kill") == 0)
		snprintf(buf, size, "%d", p->break_kill);
	else
		return -ENOENT;
	return 0;
}

int pol_format(const struct pol *p, char *buf, size_t size)
{
	char val[32];
	size_t i, off;
	int n = 0, w;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		pol_value(p, keys[i], val, sizeof(val));
		off = (size_t)n < size ? (size_t)n : size;
		w = snprintf(buf + off, size - off, "%s=%s\n", keys[i], val);
		if (w < 0)
			return w;
		n += w;
	}
	return n;
}
