/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * FUSE over io_uring (DESIGN §9): whether the requests that reach the
 * daemon come through io_uring or /dev/fuse, and why (uring.c).
 * Included by rdmafs.h, whose rfs_of() watches the first requests.
 */
#ifndef RDMAFS_URING_H
#define RDMAFS_URING_H

/* FUSE_USE_VERSION comes from meson (fs/meson.build). */
#include <fuse_lowlevel.h>
#include <stdbool.h>

struct rfs;
struct sbuf;

/*
 * At FUSE init: asks for io_uring when -o io_uring was given and the
 * kernel offers it, else logs the transport and why io_uring is off
 * (libfuse too old, no CONFIG_FUSE_IO_URING, enable_uring off).
 */
void rfs_uring_init(struct rfs *fs, struct fuse_conn_info *conn);

/*
 * The entries of each io_uring queue (one queue per CPU; the kernel
 * queues a request on its caller's CPU's).  A parked request keeps its
 * entry until answered: with every entry of a queue parked, each new
 * request from that CPU, an unpin included, would wait behind them
 * until their break timeout.  rdmafs sets libfuse's depth itself and
 * parks at most RFS_URING_DEPTH - 1 ring requests (med_wait.c), so
 * that every queue keeps an entry free.
 */
#define RFS_URING_DEPTH 32

/*
 * Adds the libfuse options for -o io_uring to @args (-o io_uring and
 * its queue depth), when @fs asked for it.
 */
void rfs_uring_args(struct rfs *fs, struct fuse_args *args);

/* Set once the transport is known for good: rfs_of() stops asking. */
extern bool rfs_uring_settled;
/*
 * From rfs_of() until then: the first request through io_uring logs
 * "transport: io_uring" once; one through /dev/fuse after io_uring was
 * negotiated logs why the rings did not start (libfuse built without
 * liburing, or their start failed).
 */
void rfs_uring_note(fuse_req_t req);

/* The status lines (user.rdmafs.status): transport=, transport_why=. */
void rfs_uring_status(struct rfs *fs, struct sbuf *t);

#endif
