// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * librdmafs-rdma: registering a mapping of a file, plain first and then
 * with on-demand paging, and saying in words why the kernel refused
 * (DESIGN §10).  The words matter: "Operation not supported" alone does
 * not tell a user that DAX pages cannot be pinned long-term.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mr.h"

MR_EXPORT int rdmafs_mr_odp_support(struct ibv_context *context, int access)
{
	struct ibv_device_attr_ex attr;
	uint32_t want = 0, rc;
	int ret;

	MR_KEEP_ERRNO;
	memset(&attr, 0, sizeof(attr));
	ret = ibv_query_device_ex(context, NULL, &attr);
	if (ret)
		return -(ret > 0 ? ret : EIO);
	if (!(attr.odp_caps.general_caps & IBV_ODP_SUPPORT))
		return 0;
	if (access & IBV_ACCESS_REMOTE_WRITE)
		want |= IBV_ODP_SUPPORT_WRITE;
	if (access & IBV_ACCESS_REMOTE_READ)
		want |= IBV_ODP_SUPPORT_READ;
	if (access & IBV_ACCESS_REMOTE_ATOMIC)
		want |= IBV_ODP_SUPPORT_ATOMIC;
	rc = attr.odp_caps.per_transport_caps.rc_odp_caps;
	return (rc & want) == want;
}

/* What the kernel means by @err for a registration of a file mapping. */
static const char *plain_meaning(int err)
{
	switch (err) {
	case EOPNOTSUPP:
		return "the kernel refuses long-term pins of DAX (fsdax) "
		       "pages";
	case EFAULT:
		return "the kernel refuses writable long-term pins of file "
		       "pages that need dirty tracking (a FUSE page-cache "
		       "mapping, Linux >= 6.5), or the range is not mapped";
	case ENOMEM:
		return "out of memory, or over the locked-memory limit "
		       "(ulimit -l, RLIMIT_MEMLOCK)";
	case EPERM:
		return "not permitted (the locked-memory limit, or the "
		       "device's policy)";
	case EINVAL:
		return "the device refused the access flags or the range";
	default:
		return NULL;
	}
}

static const char *odp_meaning(int err)
{
	switch (err) {
	case EINVAL:
	case EOPNOTSUPP:
		return "the device or the kernel refused an on-demand-paging "
		       "registration for this access";
	case EFAULT:
		return "the range is not mapped";
	case ENOMEM:
		return "out of memory";
	default:
		return NULL;
	}
}

/* Appends to the report's reason, always NUL-terminated. */
static void say(struct rdmafs_mr_report *rep, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(struct rdmafs_mr_report *rep, const char *fmt, ...)
{
	size_t used = strlen(rep->reason);
	va_list ap;

	if (used + 1 >= sizeof(rep->reason))
		return;
	va_start(ap, fmt);
	vsnprintf(rep->reason + used, sizeof(rep->reason) - used, fmt, ap);
	va_end(ap);
}

static void say_err(struct rdmafs_mr_report *rep, const char *what, int err,
		    const char *meaning)
{
	const char *name = strerrorname_np(err);
	const char *desc = strerrordesc_np(err);

	say(rep, "%s%s registration: %s (%s)%s%s", rep->reason[0] ? "; " : "",
	    what, name ? name : "?", desc ? desc : "unknown error",
	    meaning ? ": " : "", meaning ? meaning : "");
}

/* ibv_reg_mr() sets errno; a provider that forgets gets EIO. */
static struct ibv_mr *reg(struct ibv_pd *pd, void *addr, size_t len, int access,
			  int *err)
{
	struct ibv_mr *mr;

	errno = 0;
	mr = ibv_reg_mr(pd, addr, len, access);
	*err = mr ? 0 : errno ? errno : EIO;
	return mr;
}

struct ibv_mr *mr_register(struct ibv_pd *pd, void *addr, size_t len,
			   int access, unsigned int flags,
			   struct rdmafs_mr_report *rep, int *ret)
{
	struct ibv_mr *mr;
	int err;

	if (!(flags & RDMAFS_MR_ODP_ONLY)) {
		mr = reg(pd, addr, len, access, &err);
		if (mr) {
			rep->kind = RDMAFS_MR_PLAIN;
			return mr;
		}
		rep->plain_err = -err;
		say_err(rep, "plain", err, plain_meaning(err));
		*ret = -err;
		if (flags & RDMAFS_MR_PLAIN_ONLY) {
			say(rep, "; ODP not tried (plain only)");
			return NULL;
		}
	}
	rep->odp_support = rdmafs_mr_odp_support(pd->context, access);
	if (rep->odp_support < 0) {
		say(rep, "%scouldn't query the device's ODP capabilities: %s",
		    rep->reason[0] ? "; " : "",
		    strerrordesc_np(-rep->odp_support));
		*ret = rep->plain_err ? rep->plain_err : rep->odp_support;
		return NULL;
	}
	if (!rep->odp_support) {
		say(rep,
		    "%sthe device reports no on-demand paging (ODP) for RC "
		    "%s (soft-RoCE has it since Linux 6.14 with "
		    "CONFIG_INFINIBAND_ON_DEMAND_PAGING)",
		    rep->reason[0] ? "; " : "",
		    access & IBV_ACCESS_REMOTE_WRITE ? "RDMA writes"
						     : "this access");
		*ret = rep->plain_err ? rep->plain_err : -EOPNOTSUPP;
		return NULL;
	}
	mr = reg(pd, addr, len, access | IBV_ACCESS_ON_DEMAND, &err);
	if (mr) {
		rep->kind = RDMAFS_MR_ODP;
		return mr;
	}
	rep->odp_err = -err;
	say_err(rep, "ODP", err, odp_meaning(err));
	*ret = -err;
	return NULL;
}
