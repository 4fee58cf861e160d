/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The rdmafs mount's own atime flags, followed through remounts, for the
 * backing side (mountflags.c).
 */
#ifndef RDMAFS_MOUNTFLAGS_H
#define RDMAFS_MOUNTFLAGS_H

#include "rdmafs.h"

struct rfs_mflags {
	struct rfs *fs;
	int noatime; /* atomic: the mount is noatime */
	int nodiratime; /* atomic: the mount is nodiratime */
	int mnt_id; /* our mount's ID, once found; -1 before */
	char *escaped; /* the mountpoint as mountinfo spells it */
	int poll_fd; /* /proc/self/mountinfo, polled for changes */
	int wake[2]; /* a pipe that stops the watcher */
	pthread_t thread;
	bool running;
};

/*
 * Reads the mount's flags from /proc/self/mountinfo and starts a thread
 * that reads them again whenever the mount table changes.  Call it in the
 * daemon (init).  Returns 0 or -errno; without it, atime is left to the
 * backing filesystem.
 */
int rfs_mflags_start(struct rfs *fs);
/* Stops the thread and frees fs->mflags. */
void rfs_mflags_stop(struct rfs *fs);

/*
 * Whether reads of a file (@dir false) or directory (@dir true) must
 * leave the backing inode's atime alone (O_NOATIME).
 */
static inline bool rfs_noatime(const struct rfs *fs, bool dir)
{
	const struct rfs_mflags *mf = fs->mflags;

	if (!mf)
		return false;
	return __atomic_load_n(&mf->noatime, __ATOMIC_RELAXED) ||
	       (dir && __atomic_load_n(&mf->nodiratime, __ATOMIC_RELAXED));
}

/*
 * Puts O_NOATIME on @fd, or takes it off, to match @want; *@state is the
 * fd's flag as last set (atomic, as reads of one file run in parallel).
 * The kernel lets only the owner or CAP_FOWNER set it: a daemon that is
 * not root gives up quietly on other users' files.
 */
void rfs_noatime_fd(int fd, bool want, bool *state);

#endif
