/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rdmafs_pin(): persistent pins through the file's own control xattr
 * (doc/pins.md), after checking that the descriptor is on an rdmafs
 * mount.  The ranges are formatted by the core's range module, whose
 * parser the daemon uses, so what is sent is what is meant.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "client.h"

/* The daemon takes at most this many ranges in one value (doc/pins.md). */
#define PIN_RANGES_MAX 64

int rcl_range(const struct rdmafs_range *r, struct rng *out)
{
	if (r->length == RDMAFS_WHOLE) {
		if (r->offset)
			return -EINVAL;
		*out = (struct rng){ .all = true };
		return 0;
	}
	if (!r->length || r->offset > INT64_MAX ||
	    r->length > (uint64_t)INT64_MAX - r->offset)
		return -EINVAL;
	*out = (struct rng){ .off = r->offset, .len = r->length };
	return 0;
}

RDMAFS_EXPORT int rdmafs_pin(int fd, const struct rdmafs_range *ranges,
			     size_t count, unsigned int flags)
{
	RCL_KEEP_ERRNO;
	char value[PIN_RANGES_MAX * RNG_FMT_MAX];
	struct stat st;
	size_t i, n = 0;
	struct rng r;
	int ret;

	if (flags || !ranges || !count || count > PIN_RANGES_MAX)
		return -EINVAL;
	ret = rcl_check_file(fd, &st);
	if (ret)
		return ret;
	for (i = 0; i < count; i++) {
		ret = rcl_range(&ranges[i], &r);
		if (ret)
			return ret;
		if (i)
			value[n++] = ',';
		ret = rng_format(&r, value + n, sizeof(value) - n);
		if (ret < 0)
			return -EINVAL;
		n += (size_t)ret;
	}
	/* the daemon checks the size itself, under the file's lock */
	if (fsetxattr(fd, PROTO_PIN, value, n, 0) < 0)
		return -errno;
	return 0;
}
