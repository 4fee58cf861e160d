/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Running a piece of a test as another user: a child process that drops
 * to the uid and gid (with no supplementary groups) and the umask given.
 * What it finds out comes back as its exit status, or through memory
 * shared with the parent (as_user_shared).
 */
#ifndef RDMAFS_TEST_AS_USER_H
#define RDMAFS_TEST_AS_USER_H

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * In a child (a function run by as_user or a fork): reports a failed
 * expectation on stderr and returns 1 from that function, which becomes
 * the child's exit status; Check's assertions don't work there.
 */
#define CHILD_EXPECT(cond)                                                \
	do {                                                              \
		if (!(cond)) {                                            \
			fprintf(stderr,                                   \
				"%s:%d: as uid %d: expected %s (%s)\n",   \
				__FILE__, __LINE__, (int)getuid(), #cond, \
				strerror(errno));                         \
			return 1;                                         \
		}                                                         \
	} while (0)

/*
 * Runs @fn(@arg) as @uid:@gid under umask @mask; returns what @fn
 * returned (0..255), 254 when the child could not become the user, or -1
 * when it could not be run.
 */
static inline int as_user(uid_t uid, gid_t gid, mode_t mask,
			  int (*fn)(void *arg), void *arg)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setgid(gid) < 0 ||
		    setuid(uid) < 0)
			_exit(254);
		umask(mask);
		_exit(fn(arg) & 0xff);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* Zeroed memory that a child's writes reach the parent through. */
static inline void *as_user_shared(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

#endif
