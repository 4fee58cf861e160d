/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers shared by the Check mount tests that pin files (mount-pins,
 * mount-mediate).  Header-only: they use Check's assertions, which the
 * harness library does not link.
 */
#ifndef RDMAFS_PIN_TEST_UTIL_H
#define RDMAFS_PIN_TEST_UTIL_H

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

/* Writes @len bytes to a new @path (synced, so FIEMAP sees real extents). */
static inline void put_file(const char *path, const void *data, size_t len,
			    mode_t mode)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, mode);

	ck_assert_msg(fd >= 0, "create %s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(fsync(fd), 0);
	ck_assert_int_eq(close(fd), 0);
}

/* A file of @size pseudo-random bytes (seeded by @seed). */
static inline void put_random(const char *path, size_t size, unsigned int seed)
{
	unsigned char *b = malloc(size ? size : 1);
	size_t i;

	ck_assert_ptr_nonnull(b);
	for (i = 0; i < size; i++)
		b[i] = (unsigned char)(rand_r(&seed) >> 7);
	put_file(path, b, size, 0644);
	free(b);
}

/* Pins (or unpins) @v on @path; 0 or the errno. */
static inline int pin(const char *path, const char *v)
{
	return setxattr(path, "user.rdmafs.pin", v, strlen(v), 0) < 0 ? errno
								      : 0;
}

static inline int unpin(const char *path, const char *v)
{
	return setxattr(path, "user.rdmafs.unpin", v, strlen(v), 0) < 0 ? errno
									: 0;
}

#endif
