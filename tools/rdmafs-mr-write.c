// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rdmafs-mr write: the peer.  It connects to a target (rdmafs-mr serve)
 * over TCP, RDMA-writes known data into the target's whole region, and
 * tells it "done"; the target syncs and answers "ok", so that when this
 * exits 0 the data is in the file.  The data is one byte repeated
 * (--pattern) or, with --seed N, 32-byte records "%08x %022x\n" of the
 * seed and the record's offset in the region, which a test can check at
 * any offset of the file.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rdmafs-mr.h"

/* One work request at a time, at most this big (a soft-RoCE limit too). */
#define CHUNK (1u << 20)

static void fill(char *buf, uint64_t len, const struct mr_opts *o)
{
	char rec[33];
	uint64_t off, n;

	if (o->pattern >= 0) {
		memset(buf, o->pattern, len);
		return;
	}
	for (off = 0; off < len; off += 32) {
		snprintf(rec, sizeof(rec), "%08" PRIx32 " %022" PRIx64 "\n",
			 o->seed, off);
		n = len - off < 32 ? len - off : 32;
		memcpy(buf + off, rec, n);
	}
}

static int write_all(struct mr_rdma *r, struct ibv_mr *local,
		     const struct mr_peer *peer, const struct mr_opts *o)
{
	uint32_t chunk = CHUNK;
	struct ibv_send_wr *bad;
	uint64_t off;
	int ret;

	if (r->port_attr.max_msg_sz && r->port_attr.max_msg_sz < chunk)
		chunk = r->port_attr.max_msg_sz;
	for (off = 0; off < peer->len; off += chunk) {
		struct ibv_sge sge = {
			.addr = (uintptr_t)local->addr + off,
			.length = (uint32_t)(peer->len - off < chunk
						     ? peer->len - off
						     : chunk),
			.lkey = local->lkey,
		};
		struct ibv_send_wr wr = {
			.wr_id = off,
			.sg_list = &sge,
			.num_sge = 1,
			.opcode = IBV_WR_RDMA_WRITE,
			.send_flags = IBV_SEND_SIGNALED,
			.wr.rdma = { .remote_addr = peer->addr + off,
				     .rkey = peer->rkey },
		};

		errno = ibv_post_send(r->qp, &wr, &bad);
		if (errno) {
			fprintf(stderr,
				PROG ": Couldn't post the RDMA write: %s\n",
				strerror(errno));
			return MR_FAILED;
		}
		ret = verbs_wait(r, o->timeout);
		if (ret)
			return ret;
	}
	return MR_OK;
}

static int write_peer(struct mr_rdma *r, int fd, const struct mr_opts *o,
		      char **buf, struct ibv_mr **local)
{
	struct mr_peer me, peer;
	char line[64];
	int ret;

	verbs_local(r, &me);
	ret = wire_send_peer(fd, &me);
	if (!ret)
		ret = wire_recv_peer(fd, &peer);
	if (ret)
		return ret;
	if (!peer.len || peer.len > SIZE_MAX) {
		fprintf(stderr, PROG ": Couldn't write: the target offers "
				     "no region\n");
		return MR_FAILED;
	}
	*buf = aligned_alloc(4096, (peer.len + 4095) & ~(uint64_t)4095);
	if (!*buf) {
		fprintf(stderr, PROG ": Couldn't allocate %" PRIu64 " bytes\n",
			peer.len);
		return MR_FAILED;
	}
	fill(*buf, peer.len, o);
	*local = ibv_reg_mr(r->pd, *buf, peer.len, IBV_ACCESS_LOCAL_WRITE);
	if (!*local) {
		fprintf(stderr,
			PROG ": Couldn't register the local buffer: %s\n",
			strerror(errno));
		return MR_FAILED;
	}
	ret = verbs_connect(r, &me, &peer);
	if (!ret)
		ret = write_all(r, *local, &peer, o);
	if (!ret)
		ret = wire_send_line(fd, "done\n");
	if (ret)
		return ret;
	ret = wire_recv_line(fd, line, sizeof(line));
	if (ret <= 0 || strcmp(line, "ok")) {
		fprintf(stderr, PROG ": Couldn't confirm the write: the "
				     "target did not answer ok\n");
		return MR_FAILED;
	}
	printf("wrote %" PRIu64 " bytes addr=0x%" PRIx64 " rkey=0x%" PRIx32
	       "\n",
	       peer.len, peer.addr, peer.rkey);
	return fflush(stdout) ? MR_FAILED : MR_OK;
}

int mr_write(const struct mr_opts *o, const char *hostport)
{
	struct mr_rdma r = { 0 };
	struct ibv_mr *local = NULL;
	char *buf = NULL;
	int fd = -1, ret;

	ret = verbs_open(&r, o);
	if (!ret)
		ret = verbs_create_qp(&r, 0);
	if (!ret)
		ret = wire_connect(hostport, &fd);
	if (!ret)
		ret = write_peer(&r, fd, o, &buf, &local);
	if (local)
		ibv_dereg_mr(local);
	verbs_close(&r);
	free(buf);
	if (fd >= 0)
		close(fd);
	return ret;
}
