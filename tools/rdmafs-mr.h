/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rdmafs-mr: what its files share.  rdmafs-mr.c parses the command line;
 * rdmafs-mr-verbs.c opens the device and drives the RC queue pair;
 * rdmafs-mr-wire.c exchanges what each side needs over TCP;
 * rdmafs-mr-serve.c is the target (held, mapped, registered range) and
 * rdmafs-mr-write.c the peer that RDMA-writes into it.  Every function
 * that can fail prints its "Couldn't ..." line and returns an exit
 * status (MR_*), so that main() only returns it.
 */
#ifndef RDMAFS_MR_TOOL_H
#define RDMAFS_MR_TOOL_H

#include <stdbool.h>
#include <stdint.h>

#include <infiniband/verbs.h>

#define PROG "rdmafs-mr"

/* Exit statuses (doc/rdmafs-mr.1.rst). */
enum {
	MR_OK = 0,
	MR_FAILED = 1, /* any other failure, e.g. no RDMA device */
	MR_USAGE = 2, /* options, arguments, a malformed RANGE */
	MR_NOT_RDMAFS = 3, /* FILE is not on an rdmafs mount (as rdmafsctl) */
	MR_REFUSED = 4, /* the memory region could not be registered */
	MR_REVOKED = 5, /* the hold ended without a release (revoked, lost) */
};

#define MR_DEFAULT_PORT 18515

struct mr_opts {
	const char *dev; /* -d: NULL for the first device */
	int ib_port; /* -i */
	int gid_index; /* -g: -1 picks one */
	int tcp_port; /* --port */
	unsigned int reg_flags; /* RDMAFS_MR_PLAIN_ONLY, RDMAFS_MR_ODP_ONLY */
	bool ignore_notices;
	int pattern; /* -1 when --seed */
	uint32_t seed;
	int timeout; /* seconds to wait for a completion */
};

/* One end of the connection, as the other needs it. */
struct mr_peer {
	uint16_t lid;
	uint32_t qpn, psn;
	union ibv_gid gid;
	/* the target's region; 0 from the writer */
	uint64_t addr, len;
	uint32_t rkey;
};

struct mr_rdma {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	struct ibv_port_attr port_attr;
	const char *dev_name;
	uint8_t port;
	int gid_index; /* -1: no GID (InfiniBand by LID) */
	union ibv_gid gid;
};

/* rdmafs-mr-verbs.c */
int verbs_open(struct mr_rdma *r, const struct mr_opts *o);
int verbs_create_qp(struct mr_rdma *r, int access);
/* Fills @me with what the peer needs of this end (not the region). */
void verbs_local(const struct mr_rdma *r, struct mr_peer *me);
int verbs_connect(struct mr_rdma *r, const struct mr_peer *me,
		  const struct mr_peer *peer);
/* Stops the queue pair (the error state flushes it): the quiesce. */
int verbs_quiesce(struct mr_rdma *r);
void verbs_close(struct mr_rdma *r);
/* Waits for one completion of a signalled work request. */
int verbs_wait(struct mr_rdma *r, int timeout);

/* rdmafs-mr-wire.c */
int wire_listen(int port, int *fd);
int wire_connect(const char *hostport, int *fd);
int wire_send_peer(int fd, const struct mr_peer *p);
int wire_recv_peer(int fd, struct mr_peer *p);
int wire_send_line(int fd, const char *line);
/*
 * Reads one line (without its newline) into @buf: 1 when read, 0 at
 * the end of the stream, -1 on an error (printed).
 */
int wire_recv_line(int fd, char *buf, size_t size);
const char *wire_gid(const union ibv_gid *gid, char *buf, size_t size);

int mr_serve(const struct mr_opts *o, const char *file, const char *range);
int mr_write(const struct mr_opts *o, const char *hostport);

#endif
