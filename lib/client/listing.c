/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A file's pins and the mount-wide listing as arrays of struct
 * rdmafs_pin.  The text is read and parsed by the core's proto_parse
 * (the same code that reads it for rdmafsctl and its unit test); this
 * file only converts the result.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "client.h"

ssize_t rcl_fgetxattr(void *ctx, const char *name, void *buf, size_t size)
{
	ssize_t n = fgetxattr(*(int *)ctx, name, buf, size);

	return n < 0 ? -errno : n;
}

int rcl_pins_export(struct proto_pins *in, struct rdmafs_pin **pins,
		    size_t *count)
{
	struct rdmafs_pin *out;
	size_t i;

	*pins = NULL;
	*count = 0;
	if (!in->n)
		return 0;
	out = calloc(in->n, sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (i = 0; i < in->n; i++) {
		const struct proto_pin *p = &in->v[i];

		/* malformed: the daemon always writes a full RFC 3339 time */
		if (proto_parse_since(p->since, &out[i].since)) {
			free(out);
			return -EIO;
		}
		out[i].range.offset = p->all ? 0 : p->off;
		out[i].range.length = p->all ? RDMAFS_WHOLE : p->len;
		out[i].owner = p->owner;
		out[i].holder = p->holder;
	}
	/* only now, when nothing can fail: the paths move */
	for (i = 0; i < in->n; i++) {
		out[i].path = in->v[i].path;
		in->v[i].path = NULL;
	}
	*pins = out;
	*count = in->n;
	return 0;
}

RDMAFS_EXPORT int rdmafs_file_pins(int fd, struct rdmafs_pin **pins,
				   size_t *count)
{
	RCL_KEEP_ERRNO;
	struct proto_pins pp = { 0 };
	struct proto_err err;
	struct stat st;
	char *val;
	size_t len;
	int ret;

	if (!pins || !count)
		return -EINVAL;
	*pins = NULL;
	*count = 0;
	ret = rcl_check_file(fd, &st);
	if (ret)
		return ret;
	ret = proto_read_value(rcl_fgetxattr, &fd, PROTO_PIN, &val, &len);
	if (ret == -ENODATA)
		return 0; /* no pins */
	if (ret)
		return ret;
	ret = proto_parse_file_pins(val, len, &pp, &err);
	free(val);
	if (ret)
		return ret == -EINVAL ? -EIO : ret;
	ret = rcl_pins_export(&pp, pins, count);
	proto_pins_free(&pp);
	return ret;
}

RDMAFS_EXPORT void rdmafs_pins_free(struct rdmafs_pin *pins, size_t count)
{
	RCL_KEEP_ERRNO;
	size_t i;

	if (!pins)
		return;
	for (i = 0; i < count; i++)
		free(pins[i].path);
	free(pins);
}

RDMAFS_EXPORT int rdmafs_mount_pins(struct rdmafs_mount *mount,
				    struct rdmafs_pin **pins, size_t *count)
{
	RCL_KEEP_ERRNO;
	struct proto_pins pp = { 0 };
	struct proto_err err;
	int ret;

	if (!mount || !pins || !count)
		return -EINVAL;
	*pins = NULL;
	*count = 0;
	ret = proto_read_pins(rcl_fgetxattr, &mount->root_fd, &pp, &err);
	if (ret == -EINVAL)
		return -EIO; /* a malformed listing, not a bad argument */
	if (ret)
		return ret;
	ret = rcl_pins_export(&pp, pins, count);
	proto_pins_free(&pp);
	return ret;
}
