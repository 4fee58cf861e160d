// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One rdmafs per backing directory (DESIGN §11).  Two daemons over one
 * directory would not see each other's pins: a truncate through one
 * would free a range pinned through the other.  The first daemon holds
 * an exclusive flock on BACKING/.rdmafs/lock for its whole life; a
 * second one, however it names the directory (another path, a symlink,
 * a bind mount), meets the same inode and is refused before it mounts.
 *
 * flock rather than a POSIX record lock: a flock belongs to the open file
 * description, which fuse_daemonize()'s child inherits, so the lock
 * outlives the parent's exit; and the kernel drops it when the last
 * descriptor closes, so a daemon killed with SIGKILL leaves no stale lock
 * behind.  The file's text (pid and mountpoint) is only for the message.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pinindex.h"
#include "rdmafs.h"

#define LOCK_NAME "lock"

void rfs_instance_note(struct rfs *fs)
{
	char buf[64 + 4096];
	int n;

	if (fs->lock_fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "%d %s\n", (int)getpid(),
		     fs->o.mountpoint);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return;
	/* Best effort: the lock, not the text, keeps others out. */
	if (ftruncate(fs->lock_fd, 0) < 0)
		return;
	if (pwrite(fs->lock_fd, buf, (size_t)n, 0) < 0)
		return;
}

/* Says who holds the lock, from the text the holder wrote. */
static void report_holder(struct rfs *fs, int fd)
{
	char buf[64 + 4096], *mnt, *nl;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	long pid;

	if (n > 0) {
		buf[n] = '\0';
		pid = strtol(buf, &mnt, 10);
		nl = strrchr(mnt, '\n');
		if (pid > 0 && *mnt == ' ' && nl) {
			*nl = '\0';
			fprintf(stderr,
				"rdmafs: %s is already served by rdmafs (pid %ld at %s)\n",
				fs->o.backing, pid, mnt + 1);
			return;
		}
	}
	fprintf(stderr, "rdmafs: %s is already served by another rdmafs\n",
		fs->o.backing);
}

static int open_lock(struct rfs *fs)
{
	int dfd, fd, err;

	if (mkdirat(fs->root_fd, PIDX_DIR, 0700) < 0 && errno != EEXIST)
		return -errno;
	dfd = openat(fs->root_fd, PIDX_DIR,
		     O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	fd = openat(dfd, LOCK_NAME,
		    O_RDWR | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600);
	/* A read-only backing: an existing lock file still locks. */
	if (fd < 0 && errno == EROFS)
		fd = openat(dfd, LOCK_NAME,
			    O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	err = fd < 0 ? -errno : fd;
	close(dfd);
	return err;
}

int rfs_instance_lock(struct rfs *fs)
{
	int fd = open_lock(fs);

	fs->lock_fd = -1;
	if (fd == -EROFS) {
		/*
		 * Nothing can change a read-only backing through any number
		 * of daemons, so no pin is at stake: serve it unlocked.
		 */
		fprintf(stderr,
			"rdmafs: warning: %s is read-only and has no %s/%s: not locked against a second rdmafs\n",
			fs->o.backing, PIDX_DIR, LOCK_NAME);
		return 0;
	}
	if (fd < 0) {
		fprintf(stderr, "rdmafs: couldn't lock %s/%s/%s: %s\n",
			fs->o.backing, PIDX_DIR, LOCK_NAME, strerror(-fd));
		return fd;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;

		if (err == EWOULDBLOCK)
			report_holder(fs, fd);
		else
			fprintf(stderr, "rdmafs: couldn't lock %s/%s/%s: %s\n",
				fs->o.backing, PIDX_DIR, LOCK_NAME,
				strerror(err));
		close(fd);
		return err == EWOULDBLOCK ? -EBUSY : -err;
	}
	fs->lock_fd = fd;
	/* Now, not only after daemonising: the text may be a dead one's. */
	rfs_instance_note(fs);
	return 0;
}
