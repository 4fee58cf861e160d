/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rdmafs over a loop-mounted ext4 image made by the test (the harness
 * makes XFS), and a user writing until the filesystem says no: for the
 * tests of space spent with the caller's rights (reserve, quota).
 */
#ifndef RDMAFS_TEST_EXT4_UTIL_H
#define RDMAFS_TEST_EXT4_UTIL_H

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "as-user.h"
#include "harness.h"

#define IMG_MIB 64
#define CHUNK (64 * 1024)
#define MIB (1024 * 1024)

/*
 * rdmafs over a fresh ext4 image made with @mkfs_opts and mounted with
 * @mount_opts.  The harness takes it down as it does its own loop
 * images (mnt.xfs means "a loop mount to undo").  Returns 0 or -errno.
 */
static inline int ext4_setup(struct mnt *m, const char *mkfs_opts,
			     const char *mount_opts)
{
	const char *tmp = getenv("TMPDIR");

	memset(m, 0, sizeof(*m));
	m->daemon = -1;
	snprintf(m->scratch, sizeof(m->scratch), "%s/rdmafs-space.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(m->scratch))
		return -errno;
	chmod(m->scratch, 0755);
	snprintf(m->backing, sizeof(m->backing), "%s/backing", m->scratch);
	snprintf(m->mountpoint, sizeof(m->mountpoint), "%s/mnt", m->scratch);
	snprintf(m->img, sizeof(m->img), "%s/ext4.img", m->scratch);
	if (mkdir(m->backing, 0755) < 0 || mkdir(m->mountpoint, 0755) < 0)
		goto fail;
	if (harness_sh("truncate -s %dm '%s' && mkfs.ext4 -q -F %s '%s' "
		       ">/dev/null 2>&1 && mount -o loop%s%s '%s' '%s' "
		       "2>/dev/null",
		       IMG_MIB, m->img, mkfs_opts, m->img,
		       mount_opts ? "," : "", mount_opts ? mount_opts : "",
		       m->img, m->backing) != 0)
		goto fail;
	m->xfs = true;
	chmod(m->backing, 0777);
	if (mnt_start(m, NULL) == 0)
		return 0;
fail:
	mnt_teardown(m);
	return -EIO;
}

/* What a child writing until it fails found. */
struct fill {
	char path[PATH_MAX];
	long long written;
	int err;
};

static inline int fill_call(void *arg)
{
	static char buf[CHUNK];
	struct fill *f = arg;
	int fd = open(f->path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	ssize_t n;

	if (fd < 0)
		return f->err = errno;
	for (;;) {
		n = write(fd, buf, sizeof(buf));
		if (n < 0) {
			f->err = errno;
			break;
		}
		f->written += n;
	}
	close(fd);
	return 0;
}

static inline struct fill *fill_as(uid_t uid, const char *path)
{
	struct fill *f = as_user_shared(sizeof(*f));

	ck_assert_ptr_nonnull(f);
	snprintf(f->path, sizeof(f->path), "%s", path);
	ck_assert_int_eq(as_user(uid, uid ? TEST_GID : 0, 022, fill_call, f),
			 0);
	return f;
}

#endif
