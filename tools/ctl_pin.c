// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rdmafsctl pin and unpin: persistent pins of one file, through
 * librdmafs (rdmafs_pin(), rdmafs_unpin()).  RANGE arguments are read by
 * the core's range parser, the one the daemon uses, so the tool accepts
 * exactly what `setfattr -n user.rdmafs.pin` would.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/range.h"
#include "rdmafs/rdmafs.h"
#include "ctl.h"

/* More than the library takes in one call; it answers EINVAL then. */
#define CTL_RANGES_MAX 512

/*
 * Opens @path to name the file to librdmafs.  Read-only first: that takes
 * no lock of the file, also while a layout change of it is parked (no
 * O_TRUNC, and O_NONBLOCK so that a FIFO cannot hang us).  A user may
 * pin a file it can write but not read, so write-only is the fallback;
 * the kernel checks the pin's own permission (write) on the setxattr.
 */
static int open_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0 && errno == EACCES)
		fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int open_failed(const char *path, int err)
{
	fprintf(stderr, PROG ": Couldn't open %s: %s\n", path, strerror(-err));
	return CTL_FAILED;
}

static void to_public(const struct rng *r, struct rdmafs_range *out)
{
	if (r->all)
		*out = (struct rdmafs_range){ 0, RDMAFS_WHOLE };
	else
		*out = (struct rdmafs_range){ r->off, r->len };
}

/*
 * Parses every RANGE argument (each one range or a comma-separated list)
 * into @out; CTL_OK, or CTL_USAGE with a message.
 */
static int parse_ranges(const struct subcommand *cmd, char **args, int nargs,
			struct rdmafs_range *out, size_t *count)
{
	struct rng r[CTL_RANGES_MAX];
	size_t n = 0, k, j;
	int i, ret;

	for (i = 0; i < nargs; i++) {
		ret = rng_parse_list(args[i], strlen(args[i]), r,
				     CTL_RANGES_MAX - n, &k);
		if (ret == -E2BIG)
			return ctl_usage_error(cmd, "more than %d ranges",
					       CTL_RANGES_MAX);
		if (ret)
			return ctl_usage_error(
				cmd,
				"malformed RANGE '%s': want OFFSET+LENGTH or all, e.g. 0+1M",
				args[i]);
		for (j = 0; j < k; j++)
			to_public(&r[j], &out[n + j]);
		n += k;
	}
	*count = n;
	return CTL_OK;
}

/* The RANGE arguments as one list, for messages. */
static void join(char **args, int nargs, char *buf, size_t size)
{
	size_t len = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < nargs && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
					i ? "," : "", args[i]);
}

int ctl_cmd_pin(const struct subcommand *cmd, int argc, char **argv)
{
	struct rdmafs_range *ranges;
	struct ctl_args a;
	char what[256];
	size_t n;
	int fd, ret;

	ret = ctl_parse_args(cmd, argc, argv, 0, 2, INT_MAX,
			     "a FILE and at least one RANGE", &a);
	if (ret >= 0)
		return ret;
	ranges = calloc(CTL_RANGES_MAX, sizeof(*ranges));
	if (!ranges)
		return ctl_fail(-ENOMEM, "pin");
	ret = parse_ranges(cmd, a.pos + 1, a.npos - 1, ranges, &n);
	if (ret)
		goto out_free;
	fd = open_file(a.pos[0]);
	if (fd < 0) {
		ret = open_failed(a.pos[0], fd);
		goto out_free;
	}
	ret = rdmafs_pin(fd, ranges, n, 0);
	close(fd);
	if (ret) {
		join(a.pos + 1, a.npos - 1, what, sizeof(what));
		ret = ctl_fail_pin(ret, a.pos[0], "pin %s of %s", what,
				   a.pos[0]);
	}
out_free:
	free(ranges);
	return ret;
}

int ctl_cmd_unpin(const struct subcommand *cmd, int argc, char **argv)
{
	struct rdmafs_range range;
	struct ctl_args a;
	struct rng r;
	int fd, ret;

	ret = ctl_parse_args(cmd, argc, argv, 0, 2, 2, "a FILE and one RANGE",
			     &a);
	if (ret >= 0)
		return ret;
	if (rng_parse(a.pos[1], strlen(a.pos[1]), &r))
		return ctl_usage_error(
			cmd, "malformed RANGE '%s': want OFFSET+LENGTH or all",
			a.pos[1]);
	to_public(&r, &range);
	fd = open_file(a.pos[0]);
	if (fd < 0)
		return open_failed(a.pos[0], fd);
	/* all: every pin of the caller, as `setfattr -x` (root: every pin) */
	ret = rdmafs_unpin(fd, r.all ? NULL : &range, 0);
	close(fd);
	if (ret)
		return ctl_fail(ret, "unpin %s of %s", a.pos[1], a.pos[0]);
	return CTL_OK;
}
