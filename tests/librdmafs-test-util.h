/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers of the librdmafs mount tests (mount-librdmafs and
 * mount-librdmafs-load): one mount at a time in M, files made through it,
 * and the wake-up limit of mount-mediate.  Header-only: they use Check.
 */
#ifndef RDMAFS_LIBRDMAFS_TEST_UTIL_H
#define RDMAFS_LIBRDMAFS_TEST_UTIL_H

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "pin-test-util.h"
#include "rdmafs/rdmafs.h"

#define STATUS "user.rdmafs.status"
#define PINS "user.rdmafs.pins"
#define KIB 1024L

static struct mnt M;
static char leftovers[PATH_MAX];

/* Paths that must outlive mnt_path()'s static buffer. */
static inline char *mp(const char *rel)
{
	static __thread char bufs[8][PATH_MAX];
	static __thread int next;
	char *b = bufs[next++ % 8];
	int n = snprintf(b, PATH_MAX, "%s/%s", M.mountpoint, rel);

	ck_assert_int_lt(n, PATH_MAX);
	return b;
}

static inline int open_m(const char *rel, int flags)
{
	int fd = open(mp(rel), flags | O_CLOEXEC);

	ck_assert_msg(fd >= 0, "open %s: %s", rel, strerror(errno));
	return fd;
}

/* See mount-mediate: 100 ms, or 500 ms on an overloaded machine. */
static inline int64_t wake_limit(void)
{
	double load = 0;
	FILE *f = fopen("/proc/loadavg", "re");

	if (f) {
		if (fscanf(f, "%lf", &load) != 1)
			load = 0;
		fclose(f);
	}
	if (load > 2.0 * (double)sysconf(_SC_NPROCESSORS_ONLN)) {
		printf("mount-librdmafs: load average %.1f: wake-up limit 500 ms\n",
		       load);
		return 500;
	}
	return 100;
}

static inline void own_mount(const char *opts, const char *what)
{
	FILE *f;

	ck_assert_int_eq(mnt_setup(&M, opts, false), 0);
	printf("mount-librdmafs %s: %s backing\n", what,
	       M.xfs ? "xfs" : "tmpdir");
	fflush(stdout);
	f = fopen(leftovers, "a");
	if (f) {
		fprintf(f, "%s\n", M.scratch);
		fclose(f);
	}
	/* Pins need FIEMAP on the backing (not tmpfs): skip without it. */
	put_file(mp(".probe"), "x", 1, 0644);
	if (pin(mp(".probe"), "0+1")) {
		printf("mount-librdmafs: no pins on this backing\n");
		mnt_teardown(&M);
		exit(SKIP_CODE);
	}
	ck_assert_int_eq(unpin(mp(".probe"), "all"), 0);
	ck_assert_int_eq(unlink(mp(".probe")), 0);
	ck_assert_int_eq(chmod(M.mountpoint, 0755), 0);
}

static inline void teardown(void)
{
	mnt_teardown(&M);
}

/* A file of @size bytes in a new directory @dir (mode 0777). */
static inline int make_file(const char *dir, const char *name, size_t size,
			    mode_t mode)
{
	char rel[256];

	if (mkdir(mp(dir), 0777) == 0)
		ck_assert_int_eq(chmod(mp(dir), 0777), 0);
	snprintf(rel, sizeof(rel), "%s/%s", dir, name);
	put_random(mp(rel), size, 7);
	ck_assert_int_eq(chmod(mp(rel), mode), 0);
	return open_m(rel, O_RDWR);
}

static inline struct rdmafs_range R(uint64_t off, uint64_t len) {
	return (struct rdmafs_range){ off, len };
}

/* Where own mounts record their scratch dirs, for cleanup after a crash. */
static inline void
leftovers_init(const char *name)
{
	const char *tmp = getenv("TMPDIR");
	int fd;

	snprintf(leftovers, sizeof(leftovers), "%s/rdmafs-%s-left.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp", name);
	fd = mkstemp(leftovers);
	if (fd >= 0)
		close(fd);
}

#endif
