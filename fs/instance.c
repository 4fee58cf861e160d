// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One rdmafs per backing filesystem (DESIGN §11).  Pins are kept per
 * inode, and a second daemon over any part of the same filesystem
 * (BACKING itself under another name, a subdirectory, a parent, a hard
 * link, a bind mount) reaches the same inodes without seeing the first
 * one's pins: a truncate through it would free a pinned range.  So a
 * daemon holds two exclusive flocks for its whole life:
 *
 *  - BACKING/.rdmafs/lock, which works across mount namespaces (every
 *    daemon over BACKING meets the same inode), and
 *  - RUNDIR/MAJ:MIN.lock for the device of BACKING, which catches a
 *    daemon over another directory of the same filesystem.  RUNDIR is
 *    /run/rdmafs (root), or $XDG_RUNTIME_DIR/rdmafs for a daemon that is
 *    not root; without either, only the first lock is taken (warned).
 *    The session channel's socket (session.h) is RUNDIR/MAJ:MIN.sock;
 *    root's RUNDIR is 0711 so that other users can reach it.
 *
 * Both directories must be the daemon's own (storedir.c): an ordinary
 * user who made BACKING/.rdmafs first could otherwise rename the lock
 * away and start a second daemon.
 *
 * flock rather than a POSIX record lock: a flock belongs to the open file
 * description, which fuse_daemonize()'s child inherits, so the lock
 * outlives the parent's exit; and the kernel drops it when the last
 * descriptor closes, so a daemon killed with SIGKILL leaves no stale lock
 * behind.  The files' text (pid, backing, mountpoint) is only for the
 * message.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "core/pinindex.h"
#include "rdmafs.h"
#include "core/storedir.h"

#define LOCK_NAME "lock"
#define RUN_DIR "/run/rdmafs"
/*
 * A daemon that was just unmounted may still be on its way out, holding
 * its locks, when fusermount3 -u has returned: wait this long for it.
 */
#define BUSY_WAIT_MS 3000
#define BUSY_STEP_MS 50

static void write_text(int fd, const char *text, int n)
{
	if (fd < 0 || n < 0)
		return;
	/* Best effort: the lock, not the text, keeps others out. */
	if (ftruncate(fd, 0) < 0)
		return;
	if (pwrite(fd, text, (size_t)n, 0) < 0)
		return;
}

void rfs_instance_note(struct rfs *fs)
{
	char buf[64 + 2 * 4096];
	int n;

	n = snprintf(buf, sizeof(buf), "%d %s\n", (int)getpid(),
		     fs->o.mountpoint);
	if (n > 0 && (size_t)n < sizeof(buf))
		write_text(fs->lock_fd, buf, n);
	n = snprintf(buf, sizeof(buf), "%d\n%s\n%s\n", (int)getpid(),
		     fs->backing_real ? fs->backing_real : fs->o.backing,
		     fs->o.mountpoint);
	if (n > 0 && (size_t)n < sizeof(buf))
		write_text(fs->dev_lock_fd, buf, n);
}

/* The holder's text: "PID MNT\n" (@dev false) or "PID\nBACKING\nMNT\n". */
struct holder {
	long pid;
	const char *backing, *mnt;
	char buf[64 + 2 * 4096];
};

static bool read_holder(int fd, bool dev, struct holder *h)
{
	ssize_t n = pread(fd, h->buf, sizeof(h->buf) - 1, 0);
	char *p, *nl;

	if (n <= 0)
		return false;
	h->buf[n] = '\0';
	h->pid = strtol(h->buf, &p, 10);
	if (h->pid <= 0 || *p != (dev ? '\n' : ' '))
		return false;
	p++;
	h->backing = NULL;
	if (dev) {
		nl = strchr(p, '\n');
		if (!nl)
			return false;
		*nl = '\0';
		h->backing = p;
		p = nl + 1;
	}
	nl = strrchr(p, '\n');
	if (!nl)
		return false;
	*nl = '\0';
	h->mnt = p;
	return true;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * flock(LOCK_EX|LOCK_NB) on @fd.  While busy, waits up to BUSY_WAIT_MS
 * for a holder that is no longer mounted here (one exiting after its
 * unmount); a holder whose mount is still there is refused at once.
 * Returns 0, -EBUSY (holder in @h when known) or -errno.
 */
static int take(int fd, bool dev, struct holder *h, bool *known)
{
	int waited = 0;

	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK)
			return -errno;
		*known = read_holder(fd, dev, h);
		if (*known && rfs_is_rdmafs_mount(h->mnt))
			return -EBUSY;
		if (waited >= BUSY_WAIT_MS)
			return -EBUSY;
		sleep_ms(BUSY_STEP_MS);
		waited += BUSY_STEP_MS;
	}
}

/*
 * Opens (creating it 0600) lock file @name in private directory @dfd,
 * shown as @shown.  Not following a symlink, and only a plain file of
 * ours with one link: a hard link to a file someone else can open would
 * let them take or share our lock.  -EROFS when it is missing on a
 * read-only filesystem.
 */
static int open_lock_file(int dfd, const char *name, const char *shown)
{
	int fd, err;

	fd = openat(dfd, name,
		    O_RDWR | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK |
			    O_CLOEXEC,
		    0600);
	/* A read-only backing: an existing lock file still locks. */
	if (fd < 0 && errno == EROFS)
		fd = openat(dfd, name,
			    O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK |
				    O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if (err != -EROFS)
			fprintf(stderr,
				"rdmafs: couldn't open the lock %s: %s\n",
				shown, strerror(-err));
		return err;
	}
	err = sdir_file_ok(fd, shown);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/* BACKING/.rdmafs/lock into fs->lock_fd. */
static int lock_backing(struct rfs *fs)
{
	char shown[4096 + 32];
	struct holder h;
	bool known = false;
	int dfd, fd, err;

	snprintf(shown, sizeof(shown), "%s/%s", fs->o.backing, PIDX_DIR);
	dfd = sdir_private_dir(fs->root_fd, PIDX_DIR, shown, NULL);
	if (dfd == -EROFS) {
		/*
		 * Nothing can change a read-only backing through any number
		 * of daemons, so no pin is at stake: serve it unlocked.
		 */
		fprintf(stderr,
			"rdmafs: warning: %s is read-only and has no %s/%s: not locked against a second rdmafs\n",
			fs->o.backing, PIDX_DIR, LOCK_NAME);
		return 0;
	}
	if (dfd < 0) {
		if (dfd != -EPERM)
			fprintf(stderr, "rdmafs: couldn't open %s: %s\n", shown,
				strerror(-dfd));
		return dfd;
	}
	snprintf(shown, sizeof(shown), "%s/%s/%s", fs->o.backing, PIDX_DIR,
		 LOCK_NAME);
	fd = open_lock_file(dfd, LOCK_NAME, shown);
	close(dfd);
	if (fd == -EROFS) {
		fprintf(stderr,
			"rdmafs: warning: %s is read-only and has no %s/%s: not locked against a second rdmafs\n",
			fs->o.backing, PIDX_DIR, LOCK_NAME);
		return 0;
	}
	if (fd < 0)
		return fd;
	err = take(fd, false, &h, &known);
	if (err) {
		if (err == -EBUSY && known)
			fprintf(stderr,
				"rdmafs: %s is already served by rdmafs (pid %ld at %s)\n",
				fs->o.backing, h.pid, h.mnt);
		else if (err == -EBUSY)
			fprintf(stderr,
				"rdmafs: %s is already served by another rdmafs\n",
				fs->o.backing);
		else
			fprintf(stderr, "rdmafs: couldn't lock %s: %s\n", shown,
				strerror(-err));
		close(fd);
		return err;
	}
	fs->lock_fd = fd;
	return 0;
}

/*
 * The directory for the per-filesystem locks: /run/rdmafs for root;
 * $XDG_RUNTIME_DIR/rdmafs (itself the user's own) for anyone else.
 * Returns a descriptor, -ENOENT when a non-root daemon has none (the
 * caller warns), or -errno with the reason printed.
 */
static int run_dir(char *shown, size_t size)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	int fd, pfd;

	if (geteuid() == 0) {
		snprintf(shown, size, "%s", RUN_DIR);
		fd = sdir_private_dir(AT_FDCWD, RUN_DIR, RUN_DIR, NULL);
		if (fd < 0 && fd != -EPERM)
			fprintf(stderr, "rdmafs: couldn't open %s: %s\n",
				RUN_DIR, strerror(-fd));
		/*
		 * Other users connect to the session sockets in it: they
		 * may pass through (0711), not list it; what a session
		 * may do is proven per hold by the descriptor it passes.
		 */
		if (fd >= 0 && fstat(fd, &st) == 0 &&
		    (st.st_mode & 07777) != 0711 && fchmod(fd, 0711) < 0)
			fprintf(stderr,
				"rdmafs: warning: couldn't make %s 0711: %s (other users cannot open sessions)\n",
				RUN_DIR, strerror(errno));
		return fd;
	}
	if (!xdg || xdg[0] != '/')
		return -ENOENT;
	snprintf(shown, size, "%s/rdmafs", xdg);
	pfd = open(xdg, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0)
		return -ENOENT;
	/* The runtime directory is the user's own (XDG Base Directory). */
	if (fstat(pfd, &st) < 0 || st.st_uid != geteuid() ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		close(pfd);
		return -ENOENT;
	}
	fd = sdir_private_dir(pfd, "rdmafs", shown, NULL);
	close(pfd);
	if (fd < 0 && fd != -EPERM)
		fprintf(stderr, "rdmafs: couldn't open %s: %s\n", shown,
			strerror(-fd));
	return fd;
}

/* RUNDIR/MAJ:MIN.lock for the backing's filesystem into fs->dev_lock_fd. */
static int lock_device(struct rfs *fs)
{
	char dir[4096], name[64], shown[4096 + 64];
	struct holder h;
	struct stat st;
	bool known = false;
	int dfd, fd, err;

	if (fstat(fs->root_fd, &st) < 0)
		return -errno;
	dfd = run_dir(dir, sizeof(dir));
	if (dfd == -ENOENT && geteuid() != 0) {
		fprintf(stderr,
			"rdmafs: warning: not root and no private $XDG_RUNTIME_DIR: another rdmafs over a different directory of the filesystem of %s is not detected\n",
			fs->o.backing);
		return 0;
	}
	if (dfd < 0)
		return dfd;
	snprintf(name, sizeof(name), "%u:%u.lock", major(st.st_dev),
		 minor(st.st_dev));
	snprintf(shown, sizeof(shown), "%s/%s", dir, name);
	fd = open_lock_file(dfd, name, shown);
	close(dfd);
	if (fd < 0)
		return fd;
	err = take(fd, true, &h, &known);
	if (err) {
		if (err == -EBUSY && known)
			fprintf(stderr,
				"rdmafs: the filesystem of %s (%u:%u) is already served by rdmafs (pid %ld: %s at %s)\n",
				fs->o.backing, major(st.st_dev),
				minor(st.st_dev), h.pid, h.backing, h.mnt);
		else if (err == -EBUSY)
			fprintf(stderr,
				"rdmafs: the filesystem of %s (%u:%u) is already served by another rdmafs\n",
				fs->o.backing, major(st.st_dev),
				minor(st.st_dev));
		else
			fprintf(stderr, "rdmafs: couldn't lock %s: %s\n", shown,
				strerror(-err));
		close(fd);
		return err;
	}
	fs->dev_lock_fd = fd;
	return 0;
}

int rfs_instance_sock_path(struct rfs *fs, char *path, size_t size)
{
	char dir[4096];
	struct stat st;
	int dfd, n;

	if (fstat(fs->root_fd, &st) < 0)
		return -errno;
	dfd = run_dir(dir, sizeof(dir));
	if (dfd < 0)
		return dfd;
	close(dfd);
	n = snprintf(path, size, "%s/%u:%u.sock", dir, major(st.st_dev),
		     minor(st.st_dev));
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int rfs_instance_lock(struct rfs *fs)
{
	int err;

	fs->lock_fd = -1;
	fs->dev_lock_fd = -1;
	err = lock_backing(fs);
	if (!err)
		err = lock_device(fs);
	if (err) {
		if (fs->lock_fd >= 0)
			close(fs->lock_fd);
		fs->lock_fd = -1;
		return err;
	}
	/* Now, not only after daemonising: the text may be a dead one's. */
	rfs_instance_note(fs);
	return 0;
}

void rfs_instance_unlock(struct rfs *fs)
{
	if (fs->dev_lock_fd >= 0)
		close(fs->dev_lock_fd);
	if (fs->lock_fd >= 0)
		close(fs->lock_fd);
	fs->dev_lock_fd = -1;
	fs->lock_fd = -1;
}
