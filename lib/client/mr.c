// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * librdmafs-rdma: a held, mapped and registered range of a file in an
 * rdmafs mount (rdmafs_mr.h, DESIGN §10).  The hold comes first, so that
 * the block map is stable before the mapping reaches it, and goes last,
 * so that no layout change can happen under a live region.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mr.h"

struct rdmafs_mr {
	struct rdmafs_session *session;
	rdmafs_hold_t hold;
	struct rdmafs_range range; /* the file's, never RDMAFS_WHOLE */
	void *map; /* from the page below range.offset */
	size_t map_len;
	struct ibv_mr *ibv;
	enum rdmafs_mr_kind kind;
};

/*
 * The range to map: the one held, with RDMAFS_WHOLE resolved to the
 * file's size once the hold keeps it from shrinking.
 */
static int resolve(int fd, const struct rdmafs_range *in,
		   struct rdmafs_range *out)
{
	struct stat st;

	*out = *in;
	if (in->length != RDMAFS_WHOLE)
		return 0;
	if (fstat(fd, &st) < 0)
		return -errno;
	out->offset = 0;
	out->length = (uint64_t)st.st_size;
	return out->length ? 0 : -EINVAL; /* nothing to map */
}

static int map_range(struct rdmafs_mr *mr, int fd)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t start, delta;

	if (page <= 0)
		page = 4096;
	start = mr->range.offset & ~((uint64_t)page - 1);
	delta = mr->range.offset - start;
	if (mr->range.length > SIZE_MAX - delta)
		return -ENOMEM;
	mr->map_len = (size_t)(delta + mr->range.length);
	mr->map = mmap(NULL, mr->map_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		       fd, (off_t)start);
	if (mr->map == MAP_FAILED) {
		mr->map = NULL;
		return -errno;
	}
	return (int)delta;
}

MR_EXPORT int rdmafs_mr_open(struct rdmafs_session *session, int fd,
			     const struct rdmafs_range *range,
			     struct ibv_pd *pd, int access, unsigned int flags,
			     struct rdmafs_mr **out,
			     struct rdmafs_mr_report *report)
{
	struct rdmafs_mr_report local;
	struct rdmafs_mr *mr;
	int ret, delta;

	MR_KEEP_ERRNO;
	if (!report)
		report = &local;
	memset(report, 0, sizeof(*report));
	*out = NULL;
	if (!session || !range || !pd ||
	    (flags & ~(RDMAFS_MR_PLAIN_ONLY | RDMAFS_MR_ODP_ONLY)) ||
	    (flags & RDMAFS_MR_PLAIN_ONLY && flags & RDMAFS_MR_ODP_ONLY) ||
	    (access & IBV_ACCESS_ON_DEMAND))
		return -EINVAL;
	mr = calloc(1, sizeof(*mr));
	if (!mr)
		return -ENOMEM;
	mr->session = session;
	report->failed = "hold";
	ret = rdmafs_session_hold(session, fd, range, &mr->hold);
	if (ret) {
		free(mr);
		return ret;
	}
	report->failed = "map";
	ret = resolve(fd, range, &mr->range);
	if (ret)
		goto release;
	delta = map_range(mr, fd);
	if (delta < 0) {
		ret = delta;
		goto release;
	}
	report->failed = "register";
	mr->ibv = mr_register(pd, (char *)mr->map + delta, mr->range.length,
			      access, flags, report, &ret);
	if (!mr->ibv)
		goto unmap;
	report->failed = NULL;
	mr->kind = report->kind;
	*out = mr;
	return 0;

unmap:
	munmap(mr->map, mr->map_len);
release:
	rdmafs_session_release(session, mr->hold);
	free(mr);
	return ret;
}

MR_EXPORT int rdmafs_mr_close(struct rdmafs_mr *mr)
{
	int ret;

	MR_KEEP_ERRNO;
	if (!mr)
		return 0;
	if (mr->ibv) {
		/* it returns an errno value, not -1 */
		ret = ibv_dereg_mr(mr->ibv);
		if (ret)
			return -(ret > 0 ? ret
					 : EIO); /* still held: fail closed */
		mr->ibv = NULL;
	}
	munmap(mr->map, mr->map_len);
	ret = rdmafs_session_release(mr->session, mr->hold);
	free(mr);
	return ret;
}

MR_EXPORT struct ibv_mr *rdmafs_mr_ibv(const struct rdmafs_mr *mr)
{
	return mr->ibv;
}

MR_EXPORT rdmafs_hold_t rdmafs_mr_hold(const struct rdmafs_mr *mr)
{
	return mr->hold;
}

MR_EXPORT void rdmafs_mr_range(const struct rdmafs_mr *mr,
			       struct rdmafs_range *range)
{
	*range = mr->range;
}

MR_EXPORT enum rdmafs_mr_kind rdmafs_mr_kind(const struct rdmafs_mr *mr)
{
	return mr->kind;
}

MR_EXPORT const char *rdmafs_mr_kind_name(enum rdmafs_mr_kind kind)
{
	switch (kind) {
	case RDMAFS_MR_NONE:
		return "none";
	case RDMAFS_MR_PLAIN:
		return "plain";
	case RDMAFS_MR_ODP:
		return "odp";
	}
	return NULL;
}
