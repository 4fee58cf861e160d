// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The open files and directories of the mount.  The kernel releases each
 * before it unmounts cleanly, but a daemon stopped by a signal leaves with
 * files still open; they are kept on a list so that exit frees them too.
 */
#include "rdmafs.h"

void rfs_open_init(struct rfs *fs)
{
	pthread_mutex_init(&fs->open_lock, NULL);
	fs->open_list.prev = fs->open_list.next = &fs->open_list;
}

void rfs_open_add(struct rfs *fs, struct rfs_open *o,
		  void (*release)(struct rfs_open *o))
{
	o->release = release;
	pthread_mutex_lock(&fs->open_lock);
	o->next = fs->open_list.next;
	o->prev = &fs->open_list;
	fs->open_list.next->prev = o;
	fs->open_list.next = o;
	pthread_mutex_unlock(&fs->open_lock);
}

void rfs_open_del(struct rfs *fs, struct rfs_open *o)
{
	pthread_mutex_lock(&fs->open_lock);
	o->prev->next = o->next;
	o->next->prev = o->prev;
	pthread_mutex_unlock(&fs->open_lock);
}

void rfs_open_release_all(struct rfs *fs)
{
	if (!fs->open_list.next)
		return;
	while (fs->open_list.next != &fs->open_list) {
		struct rfs_open *o = fs->open_list.next;

		rfs_open_del(fs, o);
		o->release(o);
	}
	pthread_mutex_destroy(&fs->open_lock);
}
