/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Scratch directories for the unit tests of the core's file-handling
 * modules (storedir, pinindex, auditdir, stabilize): made under $TMPDIR
 * (or /tmp) with mkdtemp, removed with everything in them, and a private
 * mount namespace so that what a test mounts goes away with the process
 * on every path, a crash or a timeout's SIGKILL included.
 */
#ifndef RDMAFS_TEST_SCRATCH_UTIL_H
#define RDMAFS_TEST_SCRATCH_UTIL_H

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/* Makes "$TMPDIR/rdmafs-@tag.XXXXXX" into @buf (PATH_MAX bytes). */
static inline void scratch_make(char *buf, const char *tag)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(buf, PATH_MAX, "%s/rdmafs-%s.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp", tag);
	ck_assert_ptr_nonnull(mkdtemp(buf));
}

static inline int scratch_rm_one(const char *p, const struct stat *st, int type,
				 struct FTW *f)
{
	(void)st;
	(void)f;
	/* A test may leave a directory unreadable: it still goes. */
	if (type == FTW_DP || type == FTW_DNR)
		return rmdir(p) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(p) < 0 && errno != ENOENT ? -1 : 0;
}

/* Removes @path and everything below it (never following a link). */
static inline int scratch_remove(const char *path)
{
	return nftw(path, scratch_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * For main(), before running the tests: a directory (0755) that holds
 * every scratch directory of this run, as $TMPDIR.  A failed assertion
 * ends a test's process before its teardown; scratch_run_end(), in the
 * parent, removes what it left.  Returns 0 or -errno.
 */
static char scratch_run[PATH_MAX];

static inline int scratch_run_begin(const char *tag)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(scratch_run, sizeof(scratch_run), "%s/rdmafs-%s-run.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp", tag);
	if (!mkdtemp(scratch_run) || chmod(scratch_run, 0755) < 0 ||
	    setenv("TMPDIR", scratch_run, 1) < 0)
		return -errno;
	return 0;
}

static inline void scratch_run_end(void)
{
	if (scratch_run[0])
		scratch_remove(scratch_run);
}

/*
 * Moves the calling process into a mount namespace of its own, with no
 * propagation back: its mounts (and the loop devices that mount -o loop
 * set to clear themselves) vanish when its last process exits.  Returns
 * 0 or -errno (needs CAP_SYS_ADMIN).
 */
static inline int scratch_private_mounts(void)
{
	if (unshare(CLONE_NEWNS) < 0)
		return -errno;
	/* "none": ignored here, but valgrind checks every string. */
	if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	return 0;
}

#endif
