/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sessions (DESIGN §6): pins held by a live process, and notices to
 * their holders when an operation wants their range.
 *
 * Not yet offered by the daemon: the session channel arrives with issue
 * 9, so rdmafs_session_open() answers -EOPNOTSUPP and no session object
 * can exist yet.  The object is laid out for that channel already, so
 * that the calls keep their signatures: a descriptor the daemon talks
 * through (polled by the application), the mount it belongs to, and a
 * lock, since the header lets threads share a session (one may wait in
 * poll while another holds and releases).  The other calls check their
 * arguments now, as they will then.
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "client.h"

struct rdmafs_session {
	pthread_mutex_t lock; /* the channel's requests and replies */
	struct rdmafs_mount *mount; /* not owned: outlived by the caller's */
	int fd; /* the channel; POLLIN when a notice waits */
	rdmafs_hold_t next_hold; /* ids given out, never reused */
};

RDMAFS_EXPORT int rdmafs_session_open(struct rdmafs_mount *mount,
				      unsigned int flags,
				      struct rdmafs_session **session)
{
	if (session)
		*session = NULL;
	if (!mount || !session || flags)
		return -EINVAL;
	/* no daemon offers the session channel yet (rdmafs < 0.2) */
	return -EOPNOTSUPP;
}

RDMAFS_EXPORT void rdmafs_session_close(struct rdmafs_session *session)
{
	RCL_KEEP_ERRNO;

	if (!session)
		return;
	/* closing the channel ends every hold of the session in the daemon */
	if (session->fd >= 0)
		close(session->fd);
	pthread_mutex_destroy(&session->lock);
	free(session);
}

RDMAFS_EXPORT int rdmafs_session_fd(const struct rdmafs_session *session)
{
	if (!session)
		return -EINVAL;
	return session->fd;
}

RDMAFS_EXPORT int rdmafs_session_hold(struct rdmafs_session *session, int fd,
				      const struct rdmafs_range *range,
				      rdmafs_hold_t *hold)
{
	struct rng r;

	if (!session || fd < 0 || !range || !hold)
		return -EINVAL;
	if (rcl_range(range, &r))
		return -EINVAL;
	return -EOPNOTSUPP;
}

RDMAFS_EXPORT int rdmafs_session_release(struct rdmafs_session *session,
					 rdmafs_hold_t hold)
{
	if (!session)
		return -EINVAL;
	return -EOPNOTSUPP;
}

RDMAFS_EXPORT int rdmafs_session_next_notice(struct rdmafs_session *session,
					     struct rdmafs_notice *notice)
{
	if (!session || !notice)
		return -EINVAL;
	return -EOPNOTSUPP;
}
