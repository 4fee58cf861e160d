// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rdmafsctl audit: the kernel around the mount, read from the status and
 * /proc/sys (FUSE passthrough, io_uring, lease-break-time), and the RDMA
 * devices.  The kernel refuses long-term pins
 * of fsdax pages, so an MR over a DAX file mapping works only with
 * on-demand paging (ODP) on the device, for RC writes and reads (what an
 * RDMA target serves).  Without the 'rdma' build there is no libibverbs
 * to ask: the check says so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "ctl_audit.h"

/* ---- the checks that read only the status and /proc/sys ---- */

void audit_check_passthrough(struct audit *a)
{
	const char *dp = audit_status(a, "data_path");
	const char *why = audit_status(a, "data_path_why");
	struct utsname u;
	int maj = 0, min = 0;

	if (!a->is_mount) {
		if (uname(&u))
			snprintf(u.release, sizeof(u.release), "unknown");
		sscanf(u.release, "%d.%d", &maj, &min);
		if (maj > 6 || (maj == 6 && min >= 9))
			audit_add(
				a, "passthrough", AUDIT_OK,
				"not a mount; kernel %s offers FUSE passthrough (6.9 or later): mount rdmafs with a libfuse of 3.17 or later, as root",
				u.release);
		else
			audit_add(
				a, "passthrough", AUDIT_WARNING,
				"not a mount; kernel %s has no FUSE passthrough (needs 6.9): reads, writes and mmap through rdmafs will go through the daemon, without DAX",
				u.release);
		return;
	}
	if (dp && !strcmp(dp, "passthrough")) {
		audit_add(
			a, "passthrough", AUDIT_OK,
			"kernel passthrough: reads, writes and mmap go straight to the backing files (DAX mappings through the mount)");
	} else {
		audit_add(
			a, "passthrough", AUDIT_WARNING,
			"passthrough off (%s): reads and writes go through the daemon and mmap through the mount uses FUSE's page cache, not DAX; run a build with libfuse 3.17 or later as root (CAP_SYS_ADMIN) on kernel 6.9 or later",
			why  ? why
			: dp ? dp
			     : "the daemon does not say");
	}
	audit_fact_str(a, "data_path", dp);
}

void audit_check_uring(struct audit *a)
{
	const char *tp = audit_status(a, "transport");
	const char *why = audit_status(a, "transport_why");
	char param[8] = "";
	FILE *f = fopen("/sys/module/fuse/parameters/enable_uring", "re");

	if (f) {
		if (!fgets(param, sizeof(param), f))
			param[0] = 0;
		fclose(f);
		param[strcspn(param, "\n")] = 0;
	}
	if (tp && !strcmp(tp, "io_uring"))
		audit_add(a, "io-uring", AUDIT_OK,
			  "requests that reach the daemon come over io_uring");
	else if (!f)
		audit_add(
			a, "io-uring", AUDIT_OK,
			"%s%s%sthe kernel has no FUSE over io_uring (6.14 or later): requests use /dev/fuse, which is fine, only slower for metadata",
			a->is_mount ? "transport /dev/fuse (" : "",
			a->is_mount ? (why ? why : "no reason given") : "",
			a->is_mount ? "); " : "");
	else if (strcmp(param, "Y"))
		audit_add(
			a, "io-uring", AUDIT_OK,
			"%s%s%sfuse.enable_uring=%s; for faster metadata, echo Y > /sys/module/fuse/parameters/enable_uring and mount with -o io_uring",
			a->is_mount ? "transport /dev/fuse (" : "",
			a->is_mount ? (why ? why : "no reason given") : "",
			a->is_mount ? "); " : "", param);
	else if (a->is_mount)
		audit_add(
			a, "io-uring", AUDIT_OK,
			"transport /dev/fuse (%s), though fuse.enable_uring=Y: mount with -o io_uring to use it",
			why ? why : "no reason given");
	else
		audit_add(
			a, "io-uring", AUDIT_OK,
			"fuse.enable_uring=Y: mount rdmafs with -o io_uring to use it");
	audit_fact_str(a, "transport", tp);
	audit_fact_str(a, "enable_uring", f ? param : NULL);
}

/*
 * lease-break-time is what the kernel gives a lease holder to let go;
 * break_timeout is rdmafs's same promise to pin holders.  A shorter
 * break_timeout breaks holders written to the kernel's budget before they
 * expect it; a much longer one keeps a deferred truncate or unlink (and
 * the inode lock the kernel holds meanwhile, which stalls everyone else
 * on that file or directory) waiting for minutes.
 */
#define LEASE_LONG_FACTOR 4
#define LEASE_LONG_MIN 300

void audit_check_lease(struct audit *a)
{
	long lbt = -1;
	FILE *f = fopen("/proc/sys/fs/lease-break-time", "re");
	char num[24];
	uint64_t bt;

	if (f) {
		if (fscanf(f, "%ld", &lbt) != 1)
			lbt = -1;
		fclose(f);
	}
	if (lbt < 0) {
		audit_add(
			a, "lease-break", AUDIT_WARNING,
			"couldn't read /proc/sys/fs/lease-break-time: break_timeout not compared");
		return;
	}
	if (!a->is_mount) {
		audit_add(
			a, "lease-break", AUDIT_OK,
			"lease-break-time is %ld s; rdmafs's break_timeout defaults to 45 s, the kernel's default: holders get what lease holders get",
			lbt);
		audit_fact_num(a, "lease_break_time", lbt);
		return;
	}
	bt = a->st->break_timeout;
	if (bt == 0)
		audit_add(
			a, "lease-break", AUDIT_WARNING,
			"break_timeout=0: deferred operations give up and breaks revoke at once, holders get no time to release (lease-break-time is %ld s); mount with break_timeout=%ld",
			lbt, lbt);
	else if (bt < (uint64_t)lbt)
		audit_add(
			a, "lease-break", AUDIT_WARNING,
			"break_timeout=%llu s is shorter than lease-break-time (%ld s): holders that budget the kernel's lease time may be broken before they release; mount with break_timeout=%ld",
			(unsigned long long)bt, lbt, lbt);
	else if (bt > (uint64_t)LEASE_LONG_FACTOR * (uint64_t)lbt &&
		 bt > LEASE_LONG_MIN)
		audit_add(
			a, "lease-break", AUDIT_WARNING,
			"break_timeout=%llu s is far above lease-break-time (%ld s): a deferred truncate or unlink keeps its file (or directory) locked that long and stalls other users of it; consider break_timeout=%ld",
			(unsigned long long)bt, lbt, lbt);
	else
		audit_add(
			a, "lease-break", AUDIT_OK,
			"break_timeout=%llu s against lease-break-time %ld s: holders get at least the kernel's lease time to release",
			(unsigned long long)bt, lbt);
	audit_fact_num(a, "lease_break_time", lbt);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)bt);
	audit_fact_json(a, "break_timeout", num);
}

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
