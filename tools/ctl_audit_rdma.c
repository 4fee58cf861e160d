// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rdmafsctl audit: the RDMA devices.  The kernel refuses long-term pins
 * of fsdax pages, so an MR over a DAX file mapping works only with
 * on-demand paging (ODP) on the device, for RC writes and reads (what an
 * RDMA target serves).  Without the 'rdma' build there is no libibverbs
 * to ask: the check says so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_audit.h"

#ifdef RDMAFS_CTL_RDMA
#include <infiniband/verbs.h>

/* 1: ODP for RC write and read, 0: not, -1: couldn't ask. */
static int device_odp(struct ibv_device *dev)
{
	struct ibv_device_attr_ex attr;
	struct ibv_context *ctx = ibv_open_device(dev);
	uint32_t want = IBV_ODP_SUPPORT_WRITE | IBV_ODP_SUPPORT_READ;
	int ret;

	if (!ctx)
		return -1;
	memset(&attr, 0, sizeof(attr));
	ret = ibv_query_device_ex(ctx, NULL, &attr);
	ibv_close_device(ctx);
	if (ret)
		return -1;
	return (attr.odp_caps.general_caps & IBV_ODP_SUPPORT) &&
	       (attr.odp_caps.per_transport_caps.rc_odp_caps & want) == want;
}

static void append(char **s, const char *name)
{
	char *t;

	if (asprintf(&t, "%s%s%s", *s ? *s : "", *s ? ", " : "", name) < 0)
		return;
	free(*s);
	*s = t;
}

void audit_check_rdma(struct audit *a)
{
	char *with = NULL, *without = NULL, *unknown = NULL;
	struct ibv_device **list;
	int n = 0, i, odp, nodp = 0;

	list = ibv_get_device_list(&n);
	if (!list || n == 0) {
		audit_add(
			a, "rdma", AUDIT_WARNING,
			"no RDMA device: MRs on pinned ranges not possible here; install the adapter's driver (or load rdma_rxe for soft-RoCE)");
		audit_fact_num(a, "devices", 0);
		if (list)
			ibv_free_device_list(list);
		return;
	}
	for (i = 0; i < n; i++) {
		const char *name = ibv_get_device_name(list[i]);

		odp = device_odp(list[i]);
		if (odp == 1) {
			nodp++;
			append(&with, name);
		} else if (odp == 0) {
			append(&without, name);
		} else {
			append(&unknown, name);
		}
	}
	ibv_free_device_list(list);
	if (nodp == n)
		audit_add(
			a, "rdma", AUDIT_OK,
			"RDMA device%s with ODP for RC write and read: %s; MRs over fsdax mappings work",
			n > 1 ? "s" : "", with);
	else if (nodp)
		audit_add(
			a, "rdma", AUDIT_WARNING,
			"ODP on %s, but not on %s%s%s: register fsdax MRs on a device with ODP (plain registration of fsdax pages fails with EOPNOTSUPP)",
			with, without ? without : "",
			without && unknown ? ", " : "", unknown ? unknown : "");
	else if (without)
		audit_add(
			a, "rdma", AUDIT_FAILURE,
			"no RDMA device offers ODP for RC write and read (%s%s%s): fsdax MRs need ODP; plain registration of fsdax pages fails with EOPNOTSUPP; use an adapter with ODP (or rdma_rxe on Linux 6.14 or later)",
			without, unknown ? ", couldn't ask " : "",
			unknown ? unknown : "");
	else
		audit_add(
			a, "rdma", AUDIT_WARNING,
			"couldn't query the RDMA devices (%s): ODP not known; run as root or check the device permissions",
			unknown ? unknown : "");
	audit_fact_num(a, "devices", n);
	audit_fact_num(a, "odp_devices", nodp);
	free(with);
	free(without);
	free(unknown);
}

#else

void audit_check_rdma(struct audit *a)
{
	audit_add(
		a, "rdma", AUDIT_WARNING,
		"not built with rdma: RDMA devices not checked (build rdmafs with libibverbs-dev for this check)");
}

#endif
