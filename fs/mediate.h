/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Mediation of layout-changing operations under pins (DESIGN §3).
 *
 * A handler that is about to change the block map of a range describes
 * the change in a struct rfs_med and hands it to rfs_mediate(), which
 * performs it at once (no pin touched, or policy audit/copy), refuses it,
 * or parks it: a parked request holds no worker thread; the mediator
 * thread answers it when the pins are gone, at the timeout, or when the
 * caller is interrupted.
 */
#ifndef RDMAFS_MEDIATE_H
#define RDMAFS_MEDIATE_H

#include <stdbool.h>
#include <stdint.h>

#include "rdmafs.h"
#include "core/policy.h"

struct rfs_med;

/*
 * Performs the operation (err == 0) or fails it with @err, replies to the
 * request, and frees what the operation holds; @m is freed by the caller.
 * m->copy tells a reflink to copy plainly.
 */
typedef void (*rfs_med_finish_fn)(struct rfs_med *m, int err);

struct rfs_med {
	fuse_req_t req;
	enum pol_class cls;
	const char *op; /* audit name: truncate, punch, reflink, unlink */
	dev_t dev; /* the pinned inode touched, and the range */
	ino_t ino;
	uint64_t off, len;
	/* A second inode (reflink: the other end of the copy). */
	bool has2;
	dev_t dev2;
	ino_t ino2;
	uint64_t off2, len2;
	int path_fd; /* an fd of the file (O_PATH will do); -1: none */
	int path_fd2; /* the same for the second inode */
	/* Without path_fd: the file's name in directory dir_fd, or NULL. */
	const char *name;
	int dir_fd;
	/* Why, when not the policy alone decided (audit "reason"). */
	const char *reason;
	bool copy; /* reflink=copy: copy the data, share no extent */
	rfs_med_finish_fn finish;
	void *args; /* the handler's own, freed by finish */
	/* Parking, owned by mediate.c. */
	struct rfs_med *next;
	int64_t parked_ms, deadline_ms;
	bool breaking, interrupted;
	struct ident *who; /* the offender, read when the request came */
};

int rfs_mediate_start(struct rfs *fs);
/* Answers every parked request with an error and stops the thread. */
void rfs_mediate_stop(struct rfs *fs);
/* Pins were removed somewhere: parked requests may go on. */
void rfs_mediate_kick(struct rfs *fs);

/*
 * Decides, and performs, refuses or parks @m (allocated with malloc;
 * rfs_mediate takes it).  Call only when a pinned range may be touched.
 */
void rfs_mediate(struct rfs *fs, struct rfs_med *m);

/*
 * Refuses a request whose effect on pins could not be told (DESIGN §11:
 * out of descriptors or memory, an unreadable pin store): answers m->req
 * with @err (-errno), counts it as refused and records a "refuse" with
 * errno @err and @reason.  Never performs anything.  @m (the stack will
 * do) only describes what is known of the request (inode, range, path);
 * it is neither finished nor freed.
 */
void rfs_mediate_fail(struct rfs *fs, struct rfs_med *m, int err,
		      const char *reason);

/*
 * The layout gate (issue 7): closes the window between a mediated
 * handler's "is this range pinned?" and its plain operation.  Every
 * handler of a mediated class (truncate, O_TRUNC open and create,
 * fallocate punch/zero/collapse/insert, copy_file_range, unlink and
 * rename) holds it shared from that check until the operation has
 * returned, the no-pins fast path included; the mediator holds it shared
 * while it performs a parked request.  A pin takes it exclusive only to
 * verify its range's block map and insert itself in the pin table, so an
 * acknowledged pin never meets a layout change that decided "not pinned"
 * before it.  A parked request does not hold it while parked.
 *
 * Writer-preferring and not recursive: never take it shared twice in one
 * thread, and never wait for the kernel, a parked request or a pin
 * table file lock's holder's gate while holding it.
 */
void rfs_gate_enter(struct rfs *fs);
void rfs_gate_leave(struct rfs *fs);
void rfs_gate_lock_pin(struct rfs *fs);
void rfs_gate_unlock_pin(struct rfs *fs);

/* The status lines of the policy and counters. */
void rfs_mediate_status(struct rfs *fs, char *buf, size_t size);

#endif
