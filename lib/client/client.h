/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the files of librdmafs share and do not export: the mount handle,
 * where a descriptor is mounted, and the conversions between the public
 * types and the core's.  Internal names use the prefix rcl_; the symbol
 * map (librdmafs.map) keeps everything but rdmafs_* local.
 */
#ifndef RDMAFS_CLIENT_H
#define RDMAFS_CLIENT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "rdmafs/rdmafs.h"
#include "core/proto_parse.h"
#include "core/range.h"

#define RDMAFS_EXPORT __attribute__((visibility("default")))

/*
 * Every call keeps the caller's errno: the library reports through its
 * return value only (rdmafs.h).  RCL_KEEP_ERRNO at the top of an exported
 * function restores errno when the function returns, whatever the path.
 */
static inline void rcl_restore_errno(int *saved)
{
	errno = *saved;
}

#define RCL_KEEP_ERRNO \
	int rcl_saved_errno __attribute__((cleanup(rcl_restore_errno))) = errno

struct rdmafs_mount {
	int root_fd; /* O_RDONLY | O_DIRECTORY of the mount root */
	char *path; /* the mount point, as this namespace shows it */
};

/* Where a descriptor is: its mount, from /proc/self/mountinfo. */
struct rcl_where {
	int mnt_id;
	char *mountpoint; /* unescaped, malloc'd */
	bool whole; /* the mount shows the whole rdmafs (root field "/") */
};

/*
 * Finds the mount of @fd and checks that it is an rdmafs mount (statfs
 * says FUSE, mountinfo says fuse.rdmafs).  Returns 0 with @w filled (free
 * with rcl_where_free()), -ENOTSUP when it is not rdmafs, or -errno.
 */
int rcl_where(int fd, struct rcl_where *w);
void rcl_where_free(struct rcl_where *w);

/*
 * Opens the root of the mount @w describes (@flags, O_RDONLY or O_PATH,
 * with O_DIRECTORY) and checks it is that very mount (not one mounted
 * over it since).  Returns
 * the descriptor, -ENOTSUP when @w is a bind mount of a directory inside
 * rdmafs (its root is not rdmafs's root), -ESTALE when another mount
 * hides it, or -errno.
 */
int rcl_open_root(const struct rcl_where *w, int flags);

/* The mount id of @fd (from /proc/self/fdinfo), or -errno. */
int rcl_mnt_id(int fd);

/*
 * A regular file of an rdmafs mount: 0 with *@st filled, -ENOTSUP, or
 * -EINVAL for another kind of file.
 */
int rcl_check_file(int fd, struct stat *st);

/*
 * @r as the core's range: -EINVAL for a length of 0, RDMAFS_WHOLE with
 * an offset, or a range past INT64_MAX (what the daemon refuses too).
 */
int rcl_range(const struct rdmafs_range *r, struct rng *out);

/* The core's listing pins as the public ones; moves the paths. */
int rcl_pins_export(struct proto_pins *in, struct rdmafs_pin **pins,
		    size_t *count);

/* An xattr getter for proto_read_value() on a descriptor (ctx: int *). */
ssize_t rcl_fgetxattr(void *ctx, const char *name, void *buf, size_t size);

/*
 * A session (session.c opens it, session_io.c talks over it).  Several
 * threads may use one: requests (HOLD, RELEASE) are tagged with a
 * sequence number and may be in flight together, so that a release
 * never waits behind a slow hold.  Whoever waits for a reply reads the
 * socket for everyone (one reader at a time, the others wait on @cond)
 * and queues the notices it meets; rdmafs_session_next_notice() reads
 * the socket itself only while no request is in flight.  The descriptor
 * the application polls is an epoll set of the socket and an eventfd
 * that is readable while the queue is not empty, so it polls readable
 * exactly when a notice waits, wherever it is.
 */
#define RCL_SESS_QUEUE 256 /* notices kept; past it the oldest are dropped */

struct rcl_wait; /* a request waiting for its reply (session_io.c) */

struct rdmafs_session {
	pthread_mutex_t lock; /* everything below that changes */
	pthread_cond_t cond; /* a reply arrived, or the reader left */
	int sock; /* the channel: AF_UNIX SOCK_SEQPACKET */
	int epfd; /* what rdmafs_session_fd() gives: sock + evfd */
	int evfd; /* eventfd, non-zero while notices are queued */
	pid_t owner; /* the process that opened it (fork: not a child) */
	dev_t dev; /* st_dev of the mount's files */
	uint64_t id; /* from HELLO */
	uint32_t break_timeout;
	uint64_t seq; /* the last sequence number sent */
	struct rcl_wait *waiting; /* requests in flight */
	bool reading; /* a waiter reads the socket for all */
	bool signalled; /* evfd is non-zero */
	int lost; /* 0 live; 1 ended, LOST queued; 2 LOST delivered */
	unsigned int bad; /* malformed packets not yet reported */
	uint64_t dropped; /* notices lost to a full queue */
	struct rdmafs_notice queue[RCL_SESS_QUEUE]; /* a ring */
	unsigned int head, len;
};

#endif
