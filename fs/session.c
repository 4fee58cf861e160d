// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The session channel: see session.h.  (Placeholder while the server is
 * written: no channel, every call a no-op.)
 */
#include <errno.h>

#include "session.h"

int rfs_sess_start(struct rfs *fs)
{
	(void)fs;
	return -ENOTSUP;
}

void rfs_sess_stop(struct rfs *fs)
{
	(void)fs;
}

int rfs_sess_address(struct rfs *fs, char *buf, size_t size)
{
	(void)fs;
	(void)buf;
	(void)size;
	return -ENOTSUP;
}

size_t rfs_sess_notify(struct rfs *fs, const struct pin *pins, size_t n,
		       const struct proto_notice *what,
		       struct rfs_sess_holder *told, size_t max)
{
	(void)fs;
	(void)pins;
	(void)n;
	(void)what;
	(void)told;
	(void)max;
	return 0;
}

bool rfs_sess_holds_any(struct rfs *fs, uint64_t sess, const struct pin *pins,
			size_t n)
{
	(void)fs;
	(void)sess;
	(void)pins;
	(void)n;
	return false;
}

int rfs_sess_kill(struct rfs *fs, uint64_t sess)
{
	(void)fs;
	(void)sess;
	return -ESRCH;
}

void rfs_sess_revoked(struct rfs *fs, const struct pin *p,
		      const struct proto_notice *what)
{
	(void)fs;
	(void)p;
	(void)what;
}

void rfs_sess_counts(struct rfs *fs, uint64_t *sessions, uint64_t *pins)
{
	(void)fs;
	*sessions = 0;
	*pins = 0;
}
