// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The instance lock and the pin index are safety state: a user who could
 * replace, rename or hard-link them could start a second daemon (whose
 * truncate frees a range pinned through the first) or hide a pin.  So the
 * directory holding them must be the daemon's own, like sshd's
 * StrictModes: an existing one, which an ordinary user may have created
 * first in a world-writable BACKING, is checked, never trusted.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/storedir.h"

int sdir_private_dir(int parent_fd, const char *name, const char *shown,
		     bool *created)
{
	struct stat st;
	bool made;
	int fd, mkdir_err;

	made = mkdirat(parent_fd, name, 0700) == 0;
	mkdir_err = made ? 0 : errno;
	if (!made && errno != EEXIST && errno != EROFS)
		return -errno;
	if (created)
		*created = made;
	/* O_NOFOLLOW: a symlink named like the store is not the store. */
	fd = openat(parent_fd, name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && !made)
		return mkdir_err == EROFS ? -EROFS : -ENOENT;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	if (st.st_uid != geteuid()) {
		fprintf(stderr,
			"rdmafs: %s belongs to uid %u, not to rdmafs's uid %u: whoever owns it could replace the lock or the pin index in it; remove it or give it to uid %u with mode 0700 (chown %u %s; chmod 0700 %s)\n",
			shown, (unsigned int)st.st_uid, (unsigned int)geteuid(),
			(unsigned int)geteuid(), (unsigned int)geteuid(), shown,
			shown);
		close(fd);
		return -EPERM;
	}
	if (!(st.st_mode & (S_IWGRP | S_IWOTH)))
		return fd;
	if (fchmod(fd, 0700) == 0) {
		fprintf(stderr,
			"rdmafs: warning: %s was writable by others (mode %04o): made it 0700\n",
			shown, (unsigned int)(st.st_mode & 07777));
		return fd;
	}
	if (errno == EROFS) {
		/* Nobody can change a read-only filesystem either. */
		fprintf(stderr,
			"rdmafs: warning: %s is writable by others (mode %04o) on a read-only filesystem\n",
			shown, (unsigned int)(st.st_mode & 07777));
		return fd;
	}
	fprintf(stderr,
		"rdmafs: %s is writable by others (mode %04o) and couldn't be made 0700: %s\n",
		shown, (unsigned int)(st.st_mode & 07777), strerror(errno));
	close(fd);
	return -EPERM;
}

int sdir_file_ok(int fd, const char *shown)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    st.st_nlink != 1 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		fprintf(stderr,
			"rdmafs: %s is not a regular file of uid %u with one link, writable only by its owner (it is mode %04o, uid %u, %lu links): someone else may share it; remove it\n",
			shown, (unsigned int)geteuid(),
			(unsigned int)(st.st_mode & 07777),
			(unsigned int)st.st_uid, (unsigned long)st.st_nlink);
		return -EPERM;
	}
	return 0;
}
