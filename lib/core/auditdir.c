// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Whether a directory is safe to keep the audit log in: a question of
 * its own, asked by the daemon at start-up to name the bad directory in
 * its message, and by the audit sink at every (re)open.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/audit.h"

/*
 * Every directory from @path's up to / must be root's or ours and not
 * writable by group or others, unless sticky (where others cannot rename
 * or remove our file): else someone could swap the log for a link or
 * their own file between two reopens, as sshd's StrictModes reasons.
 * Returns 0, or -EACCES with the first bad directory in @bad.
 */
int audit_unsafe_dir(const char *path, char *bad, size_t size)
{
	char dir[PATH_MAX], real[PATH_MAX], *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		slash[slash == dir] = '\0';
	if (!realpath(dir, real))
		return -errno;
	for (;;) {
		if (stat(real, &st) < 0)
			return -errno;
		if ((st.st_uid != 0 && st.st_uid != geteuid()) ||
		    ((st.st_mode & (S_IWGRP | S_IWOTH)) &&
		     !(st.st_mode & S_ISVTX))) {
			if (bad)
				snprintf(bad, size, "%s", real);
			return -EACCES;
		}
		if (strcmp(real, "/") == 0)
			return 0;
		slash = strrchr(real, '/');
		slash[slash == real] = '\0';
	}
}
