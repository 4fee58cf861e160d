// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Whether a directory is safe to keep the audit log in: a question of
 * its own, asked by the daemon at start-up to name the bad directory in
 * its message, and by the audit sink at every (re)open.
 */
#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/audit.h"

/* Root's or ours, and only they can rename or replace what is in it. */
static bool dir_safe(const struct stat *st)
{
	return (st->st_uid == 0 || st->st_uid == geteuid()) &&
	       (!(st->st_mode & (S_IWGRP | S_IWOTH)) ||
		(st->st_mode & S_ISVTX));
}

static int unsafe(const char *dir, char *bad, size_t size)
{
	if (bad)
		snprintf(bad, size, "%s", dir);
	return -EACCES;
}

/*
 * Every directory that the lookup of @path's directory passes through
 * must be root's or ours and not writable by group or others, unless
 * sticky (where others cannot rename or remove our file): else someone
 * could swap the log for a link or their own file between two reopens,
 * as sshd's StrictModes reasons.  The lookup is followed name by name,
 * through symlinks, because audit_reopen() looks the path up again: a
 * symlink in a directory others can write, or another user's symlink in
 * a sticky one, is theirs to point elsewhere, however safe the place it
 * leads to now.  Returns 0, or -EACCES with the first bad directory (the
 * one nearest the root) in @bad.
 */
int audit_unsafe_dir(const char *path, char *bad, size_t size)
{
	char cur[PATH_MAX], todo[2 * PATH_MAX], next[PATH_MAX];
	char link[PATH_MAX], rest[2 * PATH_MAX], *slash, *name;
	struct stat st, here;
	int links = 0;
	ssize_t n;
	size_t len;

	/* The directory part of @path, made absolute. */
	if (path[0] == '/') {
		todo[0] = '\0';
	} else if (!getcwd(todo, PATH_MAX)) {
		return -errno;
	}
	len = strlen(todo);
	if (snprintf(todo + len, sizeof(todo) - len, "/%s", path) >=
	    (int)(sizeof(todo) - len))
		return -ENAMETOOLONG;
	slash = strrchr(todo, '/');
	*slash = '\0';

	snprintf(cur, sizeof(cur), "/");
	if (stat(cur, &here) < 0)
		return -errno;
	if (!dir_safe(&here))
		return unsafe(cur, bad, size);
	name = todo;
	while (*name) {
		char *end;

		while (*name == '/')
			name++;
		if (!*name)
			break;
		end = strchrnul(name, '/');
		if (*end)
			*end++ = '\0';
		if (strcmp(name, ".") == 0) {
			name = end;
			continue;
		}
		if (strcmp(name, "..") == 0) {
			/* @cur is resolved: its parent is its prefix. */
			slash = strrchr(cur, '/');
			slash[slash == cur] = '\0';
			if (stat(cur, &here) < 0)
				return -errno;
			name = end;
			continue;
		}
		if (snprintf(next, sizeof(next), "%s%s%s", cur,
			     strcmp(cur, "/") ? "/" : "",
			     name) >= (int)sizeof(next))
			return -ENAMETOOLONG;
		if (lstat(next, &st) < 0)
			return -errno;
		if (S_ISLNK(st.st_mode)) {
			/* Its own directory decides who can replace it. */
			if ((here.st_mode & S_ISVTX) && st.st_uid != 0 &&
			    st.st_uid != geteuid())
				return unsafe(cur, bad, size);
			if (++links > 40)
				return -ELOOP;
			n = readlink(next, link, sizeof(link) - 1);
			if (n < 0)
				return -errno;
			link[n] = '\0';
			if (snprintf(rest, sizeof(rest), "%s/%s", link, end) >=
			    (int)sizeof(rest))
				return -ENAMETOOLONG;
			memcpy(todo, rest, sizeof(todo));
			name = todo;
			if (link[0] == '/') {
				snprintf(cur, sizeof(cur), "/");
				if (stat(cur, &here) < 0)
					return -errno;
			}
			continue;
		}
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
		if (!dir_safe(&st))
			return unsafe(next, bad, size);
		memcpy(cur, next, sizeof(cur));
		here = st;
		name = end;
	}
	return 0;
}
