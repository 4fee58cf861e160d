// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rdmafs-mr: the device, its protection domain and one RC queue pair,
 * brought up as ibv_rc_pingpong does.  On RoCE (soft-RoCE included) the
 * path needs a GID: by default the first RoCE v2 GID of an IPv4 address
 * (rxe over lo has ::ffff:127.0.0.1), else the first usable one.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rdmafs-mr.h"

static const char no_device[] =
	PROG ": no RDMA device: load rdma_rxe and add a link "
	     "(rdma link add rxe0 type rxe netdev eth0)\n";

static struct ibv_device *find_device(struct ibv_device **list, int n,
				      const char *name)
{
	int i;

	if (!name)
		return list[0];
	for (i = 0; i < n; i++)
		if (!strcmp(ibv_get_device_name(list[i]), name))
			return list[i];
	fprintf(stderr,
		PROG ": Couldn't find RDMA device %s (there are:", name);
	for (i = 0; i < n; i++)
		fprintf(stderr, " %s", ibv_get_device_name(list[i]));
	fprintf(stderr, ")\n");
	return NULL;
}

static bool gid_zero(const union ibv_gid *g)
{
	static const union ibv_gid zero;

	return !memcmp(g, &zero, sizeof(zero));
}

static bool gid_v4(const union ibv_gid *g)
{
	static const uint8_t prefix[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(g->raw, prefix, sizeof(prefix));
}

/* -1 (no GID) on InfiniBand; the best RoCE GID otherwise. */
static int pick_gid(struct mr_rdma *r)
{
	struct ibv_gid_entry e;
	int i, first = -1;

	if (r->port_attr.link_layer != IBV_LINK_LAYER_ETHERNET)
		return -1;
	for (i = 0; i < r->port_attr.gid_tbl_len; i++) {
		if (ibv_query_gid_ex(r->ctx, r->port, i, &e, 0))
			continue;
		if (gid_zero(&e.gid))
			continue;
		if (e.gid_type == IBV_GID_TYPE_ROCE_V2 && gid_v4(&e.gid))
			return i;
		if (first < 0)
			first = i;
	}
	return first < 0 ? 0 : first;
}

int verbs_open(struct mr_rdma *r, const struct mr_opts *o)
{
	struct ibv_device **list;
	struct ibv_device *dev;
	int n = 0;

	list = ibv_get_device_list(&n);
	if (!list || n == 0) {
		/* ENOSYS: no RDMA in the kernel at all; same advice */
		fputs(no_device, stderr);
		if (list)
			ibv_free_device_list(list);
		return MR_FAILED;
	}
	dev = find_device(list, n, o->dev);
	if (dev) {
		r->ctx = ibv_open_device(dev);
		if (!r->ctx)
			fprintf(stderr,
				PROG ": Couldn't get context for %s: %s\n",
				ibv_get_device_name(dev), strerror(errno));
		else
			r->dev_name = ibv_get_device_name(r->ctx->device);
	}
	ibv_free_device_list(list); /* the context keeps its device */
	if (!r->ctx)
		return MR_FAILED;
	r->port = (uint8_t)o->ib_port;
	if (ibv_query_port(r->ctx, r->port, &r->port_attr)) {
		fprintf(stderr, PROG ": Couldn't get port %d info of %s\n",
			o->ib_port, r->dev_name);
		return MR_FAILED;
	}
	if (r->port_attr.state != IBV_PORT_ACTIVE)
		fprintf(stderr, PROG ": warning: port %d of %s is not active\n",
			o->ib_port, r->dev_name);
	r->gid_index = o->gid_index >= 0 ? o->gid_index : pick_gid(r);
	if (r->gid_index >= 0 &&
	    ibv_query_gid(r->ctx, r->port, r->gid_index, &r->gid)) {
		fprintf(stderr, PROG ": Couldn't read GID %d of %s port %d\n",
			r->gid_index, r->dev_name, o->ib_port);
		return MR_FAILED;
	}
	r->pd = ibv_alloc_pd(r->ctx);
	if (!r->pd) {
		fprintf(stderr, PROG ": Couldn't allocate PD on %s\n",
			r->dev_name);
		return MR_FAILED;
	}
	r->cq = ibv_create_cq(r->ctx, 16, NULL, NULL, 0);
	if (!r->cq) {
		fprintf(stderr, PROG ": Couldn't create CQ on %s\n",
			r->dev_name);
		return MR_FAILED;
	}
	return MR_OK;
}

int verbs_create_qp(struct mr_rdma *r, int access)
{
	struct ibv_qp_init_attr init = {
		.send_cq = r->cq,
		.recv_cq = r->cq,
		.cap = { .max_send_wr = 8,
			 .max_recv_wr = 1,
			 .max_send_sge = 1,
			 .max_recv_sge = 1 },
		.qp_type = IBV_QPT_RC,
		.sq_sig_all = 0,
	};
	struct ibv_qp_attr attr = {
		.qp_state = IBV_QPS_INIT,
		.pkey_index = 0,
		.port_num = r->port,
		.qp_access_flags = access,
	};

	if (r->qp)
		ibv_destroy_qp(r->qp);
	r->qp = ibv_create_qp(r->pd, &init);
	if (!r->qp) {
		fprintf(stderr, PROG ": Couldn't create QP on %s: %s\n",
			r->dev_name, strerror(errno));
		return MR_FAILED;
	}
	errno = ibv_modify_qp(r->qp, &attr,
			      IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT |
				      IBV_QP_ACCESS_FLAGS);
	if (errno) {
		fprintf(stderr, PROG ": Couldn't modify QP to INIT: %s\n",
			strerror(errno));
		return MR_FAILED;
	}
	return MR_OK;
}

void verbs_local(const struct mr_rdma *r, struct mr_peer *me)
{
	struct timespec ts;

	memset(me, 0, sizeof(*me));
	clock_gettime(CLOCK_REALTIME, &ts);
	me->lid = r->port_attr.lid;
	me->qpn = r->qp->qp_num;
	me->psn = (uint32_t)(ts.tv_nsec ^ r->qp->qp_num) & 0xffffff;
	if (r->gid_index >= 0)
		me->gid = r->gid;
}

int verbs_connect(struct mr_rdma *r, const struct mr_peer *me,
		  const struct mr_peer *peer)
{
	struct ibv_qp_attr attr = {
		.qp_state = IBV_QPS_RTR,
		.path_mtu = r->port_attr.active_mtu,
		.dest_qp_num = peer->qpn,
		.rq_psn = peer->psn,
		.max_dest_rd_atomic = 1,
		.min_rnr_timer = 12,
		.ah_attr = { .dlid = peer->lid, .sl = 0, .port_num = r->port },
	};

	if (!gid_zero(&peer->gid) && r->gid_index >= 0) {
		attr.ah_attr.is_global = 1;
		attr.ah_attr.grh.dgid = peer->gid;
		attr.ah_attr.grh.sgid_index = (uint8_t)r->gid_index;
		attr.ah_attr.grh.hop_limit = 1;
	}
	errno = ibv_modify_qp(r->qp, &attr,
			      IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU |
				      IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
				      IBV_QP_MAX_DEST_RD_ATOMIC |
				      IBV_QP_MIN_RNR_TIMER);
	if (errno) {
		fprintf(stderr, PROG ": Couldn't modify QP to RTR: %s\n",
			strerror(errno));
		return MR_FAILED;
	}
	attr.qp_state = IBV_QPS_RTS;
	attr.timeout = 14;
	attr.retry_cnt = 7;
	attr.rnr_retry = 7;
	attr.sq_psn = me->psn;
	attr.max_rd_atomic = 1;
	errno = ibv_modify_qp(r->qp, &attr,
			      IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
				      IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN |
				      IBV_QP_MAX_QP_RD_ATOMIC);
	if (errno) {
		fprintf(stderr, PROG ": Couldn't modify QP to RTS: %s\n",
			strerror(errno));
		return MR_FAILED;
	}
	return MR_OK;
}

int verbs_quiesce(struct mr_rdma *r)
{
	struct ibv_qp_attr attr = { .qp_state = IBV_QPS_ERR };

	if (!r->qp)
		return MR_OK;
	errno = ibv_modify_qp(r->qp, &attr, IBV_QP_STATE);
	if (errno) {
		fprintf(stderr, PROG ": Couldn't modify QP to ERR: %s\n",
			strerror(errno));
		return MR_FAILED;
	}
	return MR_OK;
}

void verbs_close(struct mr_rdma *r)
{
	if (r->qp)
		ibv_destroy_qp(r->qp);
	if (r->cq)
		ibv_destroy_cq(r->cq);
	if (r->pd)
		ibv_dealloc_pd(r->pd);
	if (r->ctx)
		ibv_close_device(r->ctx);
	memset(r, 0, sizeof(*r));
}

/* Busy-polls with short sleeps: one work request at a time, no channel. */
int verbs_wait(struct mr_rdma *r, int timeout)
{
	const struct timespec nap = { 0, 50 * 1000 };
	struct timespec now, end;
	struct ibv_wc wc;
	int n;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += timeout;
	for (;;) {
		n = ibv_poll_cq(r->cq, 1, &wc);
		if (n < 0) {
			fprintf(stderr, PROG ": Couldn't poll CQ\n");
			return MR_FAILED;
		}
		if (n == 1)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec ||
		    (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec)) {
			fprintf(stderr,
				PROG ": Couldn't complete the RDMA write: no "
				     "completion in %d s\n",
				timeout);
			return MR_FAILED;
		}
		nanosleep(&nap, NULL);
	}
	if (wc.status != IBV_WC_SUCCESS) {
		fprintf(stderr,
			PROG ": Couldn't complete the RDMA write: %s (status "
			     "%d, vendor error 0x%x)\n",
			ibv_wc_status_str(wc.status), (int)wc.status,
			wc.vendor_err);
		return MR_FAILED;
	}
	return MR_OK;
}
