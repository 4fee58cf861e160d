// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A session's pins and their end (session.h, session_int.h): a session
 * ends once, whoever notices first (its connection's end or its owner's
 * exit on the epoll thread, break_kill, a stop), and its active holds'
 * pins leave the table at once, each audited with why; the epoll thread
 * frees it later (session.c).  Also the files session pins are on, for
 * the listing.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <unistd.h>

#include "pinsvc.h"
#include "session_int.h"
#include "core/pinindex.h"
#include "core/pintable.h"

void sess_put(struct rfs_sessions *ss, struct sess *s)
{
	pthread_mutex_lock(&ss->lock);
	s->refs--;
	if (s->dead && !s->refs)
		sess_wake(ss);
	pthread_mutex_unlock(&ss->lock);
}

void sess_hold_unlink(struct sess *s, struct sess_hold *h)
{
	struct sess_hold **pp;

	for (pp = &s->holds; *pp; pp = &(*pp)->next) {
		if (*pp == h) {
			*pp = h->next;
			return;
		}
	}
}

void sess_hold_free(struct sess_hold *h)
{
	if (!h)
		return;
	free(h->fh);
	free(h->rel);
	free(h);
}

struct find_pin {
	const struct sess_hold *h;
	uint64_t sess;
	bool found;
};

static int is_hold_pin(const struct pin *p, void *arg)
{
	struct find_pin *c = arg;

	if (p->id == c->h->pin.id && p->off == c->h->pin.off &&
	    p->sess == c->sess && p->hold == c->h->id) {
		c->found = true;
		return 1;
	}
	return 0;
}

bool sess_unpin(struct rfs *fs, const struct sess *s, const struct sess_hold *h,
		const char *why)
{
	struct find_pin c = { .h = h, .sess = s->id };
	struct ptab_file *f;

	f = rfs_pins_lock(fs, h->dev, h->ino);
	if (!f)
		return false;
	/*
	 * Ids are unique only within the set of the moment: a file whose
	 * entry was dropped and made again may reuse one, so the pin must
	 * still be this hold's before it goes.
	 */
	pset_overlaps(ptab_file_pins(f), h->pin.off, 1, is_hold_pin, &c);
	if (c.found)
		ptab_pin_remove_id(fs->pins, f, h->pin.off, h->pin.id, NULL);
	ptab_file_unlock(fs->pins, f);
	if (c.found)
		rfs_record_pin_who(fs, s->who, "unpin", "session", h->rel,
				   &h->pin, why);
	return c.found;
}

void sess_end(struct rfs_sessions *ss, struct sess *s, const char *why)
{
	struct sess_hold *gone = NULL, **pp, *h;
	bool any = false;

	pthread_mutex_lock(&ss->lock);
	if (s->dead) {
		pthread_mutex_unlock(&ss->lock);
		return;
	}
	s->dead = true;
	ss->nsess--;
	/* Holds being added are their job's to undo (it sees dead). */
	for (pp = &s->holds; (h = *pp);) {
		if (h->active) {
			*pp = h->next;
			h->next = gone;
			gone = h;
		} else {
			pp = &h->next;
		}
	}
	ss->npins -= s->nactive;
	s->nactive = 0;
	s->qn = s->qnotices = 0;
	/* The holder reads the end now, even while a job keeps the fd. */
	shutdown(s->fd, SHUT_RDWR);
	pthread_mutex_unlock(&ss->lock);
	while ((h = gone)) {
		gone = h->next;
		any |= sess_unpin(ss->fs, s, h, why);
		sess_hold_free(h);
	}
	if (any)
		rfs_pins_changed(ss->fs);
	syslog(LOG_INFO, "session %llu of pid %d (%s) ended: %s",
	       (unsigned long long)s->id, (int)s->pid, s->comm, why);
	sess_wake(ss);
}

int rfs_sess_kill(struct rfs *fs, uint64_t sess, const struct pin *pins,
		  size_t n)
{
	struct rfs_sessions *ss = fs->sessions;
	bool holding = false;
	struct sess *s;
	size_t i;
	int err = 0;

	if (!ss)
		return -ESRCH;
	pthread_mutex_lock(&ss->lock);
	s = sess_find(ss, sess);
	/*
	 * A RELEASE takes its hold off the session under this lock before
	 * its pin goes: one served before this look is never punished.
	 */
	for (i = 0; s && i < n && !holding; i++)
		holding = pins[i].sess == sess &&
			  sess_find_hold(s, pins[i].hold) != NULL;
	if (!holding) {
		pthread_mutex_unlock(&ss->lock);
		return -ESRCH;
	}
	/*
	 * Through the pidfd: never another process that reused the pid.
	 * ESRCH: it has exited by itself (its end is on its way): its pins
	 * go now, and it was not killed.  Any other failure (EPERM: a
	 * daemon that is not root and a holder of another user) leaves it
	 * alive: say so, and let the break revoke its pins (a REVOKED
	 * notice) instead.
	 */
	if (syscall(SYS_pidfd_send_signal, s->pidfd, SIGKILL, NULL, 0) < 0) {
		err = -errno;
		if (err != -ESRCH) {
			syslog(LOG_WARNING,
			       "couldn't kill pid %d (session %llu): %m",
			       (int)s->pid, (unsigned long long)s->id);
			pthread_mutex_unlock(&ss->lock);
			return err;
		}
	}
	s->refs++;
	pthread_mutex_unlock(&ss->lock);
	sess_end(ss, s, err ? "holder exited" : "holder killed (break_kill)");
	sess_put(ss, s);
	return err;
}

struct file_handle *sess_fh_copy(const struct file_handle *fh)
{
	struct file_handle *c;

	if (!fh)
		return NULL;
	c = malloc(sizeof(*fh) + fh->handle_bytes);
	if (c)
		memcpy(c, fh, sizeof(*fh) + fh->handle_bytes);
	return c;
}

ssize_t rfs_sess_files(struct rfs *fs, struct pidx_item **out)
{
	struct rfs_sessions *ss = fs->sessions;
	struct pidx_item *items;
	struct sess_hold *h;
	struct sess *s;
	size_t n = 0;
	bool bad = false;

	*out = NULL;
	if (!ss)
		return 0;
	pthread_mutex_lock(&ss->lock);
	items = calloc(ss->npins ? ss->npins : 1, sizeof(*items));
	for (s = ss->list; items && s && !bad; s = s->next) {
		for (h = s->holds; h && !s->dead && !bad; h = h->next) {
			if (!h->active ||
			    pidx_items_has(items, n, h->dev, h->ino))
				continue;
			if (n >= ss->npins)
				break; /* cannot be: counted under the lock */
			items[n].dev = h->dev;
			items[n].ino = h->ino;
			items[n].fh = sess_fh_copy(h->fh);
			items[n].hint = h->rel ? strdup(h->rel) : NULL;
			bad = (h->fh && !items[n].fh) ||
			      (h->rel && !items[n].hint);
			n++;
		}
	}
	pthread_mutex_unlock(&ss->lock);
	if (!items || bad) {
		if (items)
			pidx_free_items(items, n);
		return -ENOMEM;
	}
	*out = items;
	return (ssize_t)n;
}

void rfs_sess_renamed(struct rfs *fs, uint64_t dev, uint64_t ino,
		      const char *rel)
{
	struct rfs_sessions *ss = fs->sessions;
	struct sess_hold *h;
	struct sess *s;
	char *c;

	if (!ss)
		return;
	pthread_mutex_lock(&ss->lock);
	for (s = ss->list; s; s = s->next) {
		for (h = s->holds; h; h = h->next) {
			if (!h->active || h->dev != dev || h->ino != ino)
				continue;
			/* Without memory the old path stays: a hint only. */
			c = strdup(rel);
			if (c) {
				free(h->rel);
				h->rel = c;
			}
		}
	}
	pthread_mutex_unlock(&ss->lock);
}
