/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A whole file's FNV-1a hash, shared by the mount tests that check that a
 * file's contents did not change (mount-pins, mount-failclosed).
 * Header-only: it uses Check's assertions.
 */
#ifndef RDMAFS_HASH_TEST_UTIL_H
#define RDMAFS_HASH_TEST_UTIL_H

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

/* FNV-1a of the whole file at @path; a failed open or read fails the test. */
static inline uint64_t fnv(const char *path)
{
	static unsigned char b[1 << 16];
	uint64_t h = 0xcbf29ce484222325ull;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, i;

	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	while ((n = read(fd, b, sizeof(b))) > 0)
		for (i = 0; i < n; i++)
			h = (h ^ b[i]) * 0x100000001b3ull;
	ck_assert_int_eq(n, 0);
	close(fd);
	return h;
}

#endif
