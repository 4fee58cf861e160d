// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * LD_PRELOAD shim of mount-startkill: the daemonised child of rdmafs is
 * killed (SIGKILL) when it starts its first thread, i.e. in the middle
 * of its start-up, after mounting and before it reports to the waiting
 * parent.  The parent (the process that loaded the shim) is left alone.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

static pid_t parent;

__attribute__((constructor)) static void note_parent(void)
{
	parent = getpid();
}

int pthread_create(pthread_t *t, const pthread_attr_t *attr,
		   void *(*fn)(void *), void *arg)
{
	(void)t;
	(void)attr;
	(void)fn;
	(void)arg;
	if (getpid() != parent)
		raise(SIGKILL);
	return EAGAIN;
}
