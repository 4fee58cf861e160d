/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Mount-test harness: a real rdmafs daemon over a real scratch backing
 * directory.  The backing directory is a loop-mounted XFS image with
 * reflink where mkfs.xfs and loop devices are available (the closest
 * thing to the DAX XFS rdmafs is made for), else a plain temp directory.
 */
#ifndef RDMAFS_TEST_HARNESS_H
#define RDMAFS_TEST_HARNESS_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#define SKIP_CODE 77

struct mnt {
	char scratch[256]; /* temp dir holding everything below */
	char backing[PATH_MAX]; /* the backing directory */
	char mountpoint[PATH_MAX]; /* where rdmafs is mounted */
	char img[PATH_MAX]; /* the XFS image, when xfs */
	bool xfs; /* backing is a loop-mounted XFS */
	bool overmount; /* mountpoint == backing */
	pid_t daemon; /* rdmafs -f, our child */
};

/* Exits with 77 unless we are root and /dev/fuse is usable. */
void harness_require_root_fuse(void);

/* The rdmafs binary: $RDMAFS_BIN, set by meson. */
const char *harness_rdmafs_bin(void);

/*
 * Makes a scratch backing directory and mounts rdmafs on it with the
 * extra -o options @opts (may be NULL).  With @overmount the mountpoint is
 * the backing directory itself.  Returns 0 or -errno; on failure nothing
 * is left mounted.  The daemon unmounts and exits when the calling thread
 * dies, so call it from a thread that outlives the mount.
 */
int mnt_setup(struct mnt *m, const char *opts, bool overmount);

/*
 * Unmounts, waits for the daemon and removes the scratch area.  Returns
 * the daemon's exit status (0 when it exited cleanly) or -errno.
 */
int mnt_teardown(struct mnt *m);

/*
 * Stops the daemon but keeps the backing directory: a clean unmount, or
 * with @crash a SIGKILL and a lazy unmount of the dead mount.  Returns
 * the daemon's exit status (clean) or 0 (crash), or -errno.  Only the
 * process that started the daemon can wait for it: call it from there.
 */
int mnt_stop(struct mnt *m, bool crash);

/*
 * Starts a new daemon, with the extra -o options @opts, on the backing
 * directory of a mount that mnt_stop() stopped.  Returns 0 or -errno.
 */
int mnt_start(struct mnt *m, const char *opts);

/*
 * Power loss of the backing XFS: `xfs_io -x -c shutdown` without a log
 * flush, so whatever is not on the device yet is lost, as in a power
 * cut.  The daemon keeps running (it gets EIO); stop it with
 * mnt_stop(m, true), then mnt_backing_remount().  Returns 0, -EOPNOTSUPP
 * when the backing is not a loop-mounted XFS, or -EIO.
 */
int mnt_backing_shutdown(const struct mnt *m);

/*
 * Unmounts the backing XFS and mounts its image again, on the same loop
 * device when it can (the index of pinned files records device numbers);
 * log recovery replays what reached the device.  The daemon must be
 * stopped.  Returns 0 or -errno.
 */
int mnt_backing_remount(struct mnt *m);

/* Paths inside the mount and inside the backing directory. */
const char *mnt_path(const struct mnt *m, const char *rel);
const char *bk_path(const struct mnt *m, const char *rel);

/*
 * Runs a shell command and returns what it printed on stdout (to free);
 * *@st gets its exit status, or -1.  Aborts when it cannot run it at all.
 */
char *harness_run(int *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Runs a shell command; returns its exit status, or -1. */
int harness_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Unmounts and removes what a crashed test left behind: the scratch dirs
 * (each with mnt/ and backing/) listed one a line in the file @list, which
 * is then removed.  Nothing happens when @list does not exist.
 */
void harness_cleanup_leftovers(const char *list);

/* True when the given uid could run a process (for unprivileged tests). */
#define TEST_UID 4242
#define TEST_GID 4242

#endif
