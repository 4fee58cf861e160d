/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rdmafs_mount_status(): the status xattr of the mount root, parsed by
 * the core's proto_parse_status, as a struct.  Every key=value is kept in
 * fields[] (later daemons add keys); the ones the header names must be
 * there and well-formed, else the answer is -EIO rather than a struct
 * with a guessed field.
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"

/* Plain decimal, as the daemon writes numbers; -EIO otherwise. */
static int num(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s || (s[0] == '0' && s[1]))
		return -EIO;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' ||
		    v > (max - (uint64_t)(*s - '0')) / 10)
			return -EIO;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

static int action(const char *s, enum rdmafs_action *out)
{
	int a;

	for (a = 0; a < RDMAFS_NACTIONS; a++) {
		if (!strcmp(s, rdmafs_action_name((enum rdmafs_action)a))) {
			*out = (enum rdmafs_action)a;
			return 0;
		}
	}
	return -EIO;
}

static const char *get(const struct rdmafs_status *st, const char *key)
{
	size_t i;

	for (i = 0; i < st->nfields; i++) {
		if (!strcmp(st->fields[i].key, key))
			return st->fields[i].value;
	}
	return NULL;
}

/* A count, or -1 with pins_error for "unknown" (doc/pins.md). */
static int count(struct rdmafs_status *st, const char *key, int64_t *out)
{
	const char *v = get(st, key), *why;
	uint64_t n;

	if (!v)
		return -EIO;
	if (!strcmp(v, "unknown")) {
		why = get(st, "pins_error");
		if (!st->pins_error)
			st->pins_error = strdup(why ? why : "unknown");
		if (!st->pins_error)
			return -ENOMEM;
		*out = -1;
		return 0;
	}
	if (num(v, INT64_MAX, &n))
		return -EIO;
	*out = (int64_t)n;
	return 0;
}

static int u64(const struct rdmafs_status *st, const char *key, uint64_t *out)
{
	const char *v = get(st, key);

	return v ? num(v, UINT64_MAX, out) : -EIO;
}

static int fill(struct rdmafs_status *st)
{
	static const struct {
		const char *key;
		size_t off;
	} u[] = {
		{ "max_pins", offsetof(struct rdmafs_status, max_pins) },
		{ "max_pins_per_file",
		  offsetof(struct rdmafs_status, max_pins_per_file) },
		{ "max_pins_per_user",
		  offsetof(struct rdmafs_status, max_pins_per_user) },
		{ "break_timeout",
		  offsetof(struct rdmafs_status, break_timeout) },
		{ "refused", offsetof(struct rdmafs_status, refused) },
		{ "deferred", offsetof(struct rdmafs_status, deferred) },
		{ "broken", offsetof(struct rdmafs_status, broken) },
		{ "audited", offsetof(struct rdmafs_status, audited) },
		{ "copied", offsetof(struct rdmafs_status, copied) },
	};
	const char *v;
	uint64_t kill;
	size_t i;
	int c, ret;

	v = get(st, "version");
	if (!v || !*v)
		return -EIO;
	st->version = strdup(v);
	if (!st->version)
		return -ENOMEM;
	ret = count(st, "pins", &st->pins);
	if (!ret)
		ret = count(st, "files_pinned", &st->files_pinned);
	for (i = 0; !ret && i < sizeof(u) / sizeof(u[0]); i++)
		ret = u64(st, u[i].key, (uint64_t *)((char *)st + u[i].off));
	if (ret)
		return ret;
	v = get(st, "policy");
	if (!v || action(v, &st->policy))
		return -EIO;
	for (c = 0; c < RDMAFS_NCLASSES; c++) {
		v = get(st, rdmafs_class_name((enum rdmafs_class)c));
		if (!v || action(v, &st->action[c]))
			return -EIO;
	}
	if (u64(st, "break_kill", &kill) || kill > 1)
		return -EIO;
	st->break_kill = (int)kill;
	return 0;
}

RDMAFS_EXPORT int rdmafs_mount_status(struct rdmafs_mount *mount,
				      struct rdmafs_status **status)
{
	RCL_KEEP_ERRNO;
	struct rdmafs_status *st;
	struct proto_kv *kv = NULL;
	struct proto_err err;
	size_t n = 0, len, i;
	char *val;
	int ret;

	if (!mount || !status)
		return -EINVAL;
	*status = NULL;
	ret = proto_read_value(rcl_fgetxattr, &mount->root_fd, PROTO_STATUS,
			       &val, &len);
	if (ret)
		return ret;
	ret = proto_parse_status(val, len, &kv, &n, &err);
	free(val);
	if (ret)
		return ret == -EINVAL ? -EIO : ret;
	st = calloc(1, sizeof(*st));
	if (!st) {
		proto_kv_free(kv, n);
		return -ENOMEM;
	}
	/* the same strings, moved: proto_kv and rdmafs_field are alike */
	st->fields = n ? calloc(n, sizeof(*st->fields)) : NULL;
	if (n && !st->fields) {
		proto_kv_free(kv, n);
		free(st);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		st->fields[i].key = kv[i].key;
		st->fields[i].value = kv[i].val;
	}
	st->nfields = n;
	free(kv);
	ret = fill(st);
	if (ret) {
		rdmafs_status_free(st);
		return ret;
	}
	*status = st;
	return 0;
}

RDMAFS_EXPORT void rdmafs_status_free(struct rdmafs_status *status)
{
	RCL_KEEP_ERRNO;
	size_t i;

	if (!status)
		return;
	for (i = 0; i < status->nfields; i++) {
		free(status->fields[i].key);
		free(status->fields[i].value);
	}
	free(status->fields);
	free(status->version);
	free(status->pins_error);
	free(status);
}
