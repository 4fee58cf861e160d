// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Bounded descriptor cache: see fdcache.h for why it exists.
 */
#include <errno.h>
#include <unistd.h>

#include "core/fdcache.h"

static void lru_unlink(struct fdc_entry *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
	e->prev = e->next = NULL;
}

static void lru_push(struct fdc *c, struct fdc_entry *e)
{
	e->next = c->lru.next;
	e->prev = &c->lru;
	c->lru.next->prev = e;
	c->lru.next = e;
}

/* Called with the lock held; closes idle descriptors down to @keep. */
static size_t evict_locked(struct fdc *c, size_t keep)
{
	size_t n = 0;

	while (c->st.open > keep && c->lru.prev != &c->lru) {
		struct fdc_entry *victim = c->lru.prev;

		lru_unlink(victim);
		close(victim->fd);
		victim->fd = -1;
		c->st.open--;
		c->st.evictions++;
		n++;
	}
	return n;
}

int fdc_init(struct fdc *c, size_t cap)
{
	int err;

	if (cap == 0)
		return -EINVAL;
	err = pthread_mutex_init(&c->lock, NULL);
	if (err)
		return -err;
	c->lru.next = c->lru.prev = &c->lru;
	c->lru.fd = -1;
	c->lru.users = 0;
	c->cap = cap;
	c->st = (struct fdc_stats){ 0 };
	return 0;
}

void fdc_destroy(struct fdc *c)
{
	pthread_mutex_lock(&c->lock);
	evict_locked(c, 0);
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_destroy(&c->lock);
}

void fdc_entry_init(struct fdc_entry *e)
{
	e->fd = -1;
	e->users = 0;
	e->prev = e->next = NULL;
}

int fdc_get(struct fdc *c, struct fdc_entry *e, fdc_open_fn open, void *arg)
{
	int fd;

	pthread_mutex_lock(&c->lock);
	if (e->fd >= 0) {
		if (e->users++ == 0)
			lru_unlink(e);
		c->st.hits++;
		fd = e->fd;
		pthread_mutex_unlock(&c->lock);
		return fd;
	}
	c->st.misses++;
	pthread_mutex_unlock(&c->lock);

	/* Open outside the lock: it is a syscall that may sleep on I/O. */
	fd = open(arg);
	if (fdc_is_exhausted(fd)) {
		fdc_shrink(c, 0);
		fd = open(arg);
	}
	if (fd < 0)
		return fd;

	pthread_mutex_lock(&c->lock);
	if (e->fd >= 0) {
		/* Another thread opened it meanwhile: share theirs. */
		if (e->users++ == 0)
			lru_unlink(e);
		pthread_mutex_unlock(&c->lock);
		close(fd);
		return e->fd;
	}
	e->fd = fd;
	e->users = 1;
	c->st.open++;
	evict_locked(c, c->cap);
	pthread_mutex_unlock(&c->lock);
	return fd;
}

void fdc_put(struct fdc *c, struct fdc_entry *e)
{
	pthread_mutex_lock(&c->lock);
	if (--e->users == 0) {
		lru_push(c, e);
		evict_locked(c, c->cap);
	}
	pthread_mutex_unlock(&c->lock);
}

void fdc_adopt(struct fdc *c, struct fdc_entry *e, int fd)
{
	pthread_mutex_lock(&c->lock);
	if (e->fd >= 0) {
		pthread_mutex_unlock(&c->lock);
		close(fd);
		return;
	}
	e->fd = fd;
	c->st.open++;
	if (e->users == 0)
		lru_push(c, e);
	evict_locked(c, c->cap);
	pthread_mutex_unlock(&c->lock);
}

void fdc_drop(struct fdc *c, struct fdc_entry *e)
{
	pthread_mutex_lock(&c->lock);
	if (e->fd >= 0) {
		if (e->users == 0)
			lru_unlink(e);
		close(e->fd);
		e->fd = -1;
		c->st.open--;
	}
	pthread_mutex_unlock(&c->lock);
}

size_t fdc_shrink(struct fdc *c, size_t keep)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = evict_locked(c, keep);
	pthread_mutex_unlock(&c->lock);
	return n;
}

void fdc_get_stats(struct fdc *c, struct fdc_stats *st)
{
	pthread_mutex_lock(&c->lock);
	*st = c->st;
	pthread_mutex_unlock(&c->lock);
}
