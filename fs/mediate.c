// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Mediation: see mediate.h.
 *
 * Parked requests live on one list, watched by one thread.  It wakes when
 * a pin goes (rfs_mediate_kick(), called on every pin change), when a
 * caller is interrupted, and at the nearest deadline, checks every parked
 * request, and finishes the ones that may go on outside its lock.  Parked
 * requests are few (each is a process blocked on a layout change), so a
 * list scanned per wake-up is enough, and a request waiting for pins to go
 * is answered within one wake-up of the last unpin.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mediate.h"
#include "pins.h"
#include "core/audit.h"
#include "core/identity.h"
#include "core/pintable.h"

#define AUDIT_PINS 16

struct rfs_mediator {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool running, stopping;
	struct rfs_med *parked;
	pthread_rwlock_t gate; /* see rfs_gate_enter() in mediate.h */
	uint64_t refused, deferred, broken, audited, copied;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void count(uint64_t *c)
{
	__atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
}

/* Records a decision with the overlapping pins (@pins, or looked up). */
static void record(struct rfs *fs, struct rfs_med *m, const char *event,
		   int err, int64_t waited_ms, const struct audit_pin *pins,
		   size_t npins)
{
	struct audit_pin found[AUDIT_PINS];
	struct audit_event ev = {
		.event = event,
		.op = m->op,
		.range = AUDIT_RANGE_SPAN,
		.offset = m->off,
		.length = m->len,
		.err = err,
		.waited_ms = waited_ms,
		.process = m->who,
	};
	char path[PATH_MAX], dir[PATH_MAX];

	if (!pins) {
		npins = rfs_pins_overlapping(fs, m->dev, m->ino, m->off, m->len,
					     found, AUDIT_PINS);
		if (m->has2 && npins < AUDIT_PINS)
			npins += rfs_pins_overlapping(
				fs, m->dev2, m->ino2, m->off2, m->len2,
				found + npins, AUDIT_PINS - npins);
		pins = found;
	}
	ev.pins = pins;
	ev.npins = npins < AUDIT_PINS ? npins : AUDIT_PINS;
	if (m->path_fd >= 0 &&
	    rfs_rel_path(fs, m->path_fd, path, sizeof(path)) == 0)
		ev.path = path;
	else if (m->path_fd < 0 && m->name &&
		 rfs_rel_path(fs, m->dir_fd, dir, sizeof(dir)) == 0 &&
		 snprintf(path, sizeof(path), "%s%s%s", dir, *dir ? "/" : "",
			  m->name) < (int)sizeof(path))
		ev.path = path;
	if (m->cls == POL_UNLINK)
		ev.range = AUDIT_RANGE_ALL;
	ev.reason = m->reason;
	audit_log(fs->audit, &ev);
}

static bool still_pinned(struct rfs *fs, struct rfs_med *m)
{
	return ptab_has_overlap(fs->pins, m->dev, m->ino, m->off, m->len) ||
	       (m->has2 &&
		ptab_has_overlap(fs->pins, m->dev2, m->ino2, m->off2, m->len2));
}

static void med_free(struct rfs_med *m)
{
	free(m->who);
	free(m);
}

static void finish(struct rfs_med *m, int err)
{
	m->finish(m, err);
	med_free(m);
}

/* What the mediator does with one parked request, outside its lock. */
static void settle(struct rfs *fs, struct rfs_med *m, int64_t now)
{
	struct audit_pin revoked[AUDIT_PINS];
	int64_t waited = now - m->parked_ms;
	size_t n;

	/* The answer below must not race with a late interrupt. */
	fuse_req_interrupt_func(m->req, NULL, NULL);
	if (m->interrupted) {
		record(fs, m, "interrupted", EINTR, waited, NULL, 0);
		return finish(m, -EINTR);
	}
	/*
	 * From "no pin left" (or the break) to the operation's end, as in
	 * the handlers: a pin made meanwhile would be cut.
	 */
	rfs_gate_enter(fs);
	if (!still_pinned(fs, m)) {
		record(fs, m, "done", 0, waited, NULL, 0);
		finish(m, 0);
		return rfs_gate_leave(fs);
	}
	if (!m->breaking) {
		rfs_gate_leave(fs);
		record(fs, m, "timeout", ETXTBSY, waited, NULL, 0);
		return finish(m, -ETXTBSY);
	}
	n = rfs_pins_revoke(fs, m->dev, m->ino, m->path_fd, m->off, m->len,
			    revoked, AUDIT_PINS);
	if (m->has2 && n < AUDIT_PINS)
		n += rfs_pins_revoke(fs, m->dev2, m->ino2, m->path_fd2, m->off2,
				     m->len2, revoked + n, AUDIT_PINS - n);
	count(&fs->med->broken);
	record(fs, m, "break", 0, waited, revoked, n);
	finish(m, 0);
	rfs_gate_leave(fs);
}

static void *mediator(void *arg)
{
	struct rfs *fs = arg;
	struct rfs_mediator *md = fs->med;
	sigset_t all;

	/* Signals are for libfuse's threads (SIGTERM ends the session). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	ptab_thread_online();
	pthread_mutex_lock(&md->lock);
	while (!md->stopping) {
		struct rfs_med **p = &md->parked, *ready = NULL, *m;
		int64_t now = now_ms(), next = now + 1000;
		struct timespec ts;

		while ((m = *p)) {
			if (m->interrupted || m->deadline_ms <= now ||
			    !still_pinned(fs, m)) {
				*p = m->next;
				m->next = ready;
				ready = m;
				continue;
			}
			if (m->deadline_ms < next)
				next = m->deadline_ms;
			p = &m->next;
		}
		if (ready) {
			pthread_mutex_unlock(&md->lock);
			while ((m = ready)) {
				ready = m->next;
				settle(fs, m, now);
			}
			pthread_mutex_lock(&md->lock);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (next - now) / 1000;
		ts.tv_nsec += ((next - now) % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&md->cond, &md->lock, &ts);
	}
	pthread_mutex_unlock(&md->lock);
	ptab_thread_offline();
	return NULL;
}

int rfs_mediate_start(struct rfs *fs)
{
	struct rfs_mediator *md = calloc(1, sizeof(*md));
	pthread_condattr_t ca;
	pthread_rwlockattr_t ra;
	int err;

	if (!md)
		return -ENOMEM;
	pthread_mutex_init(&md->lock, NULL);
	/*
	 * Writers first: with glibc's default a steady stream of truncates
	 * from several threads would keep a pin out for ever.
	 */
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(
		&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&md->gate, &ra);
	pthread_rwlockattr_destroy(&ra);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&md->cond, &ca);
	pthread_condattr_destroy(&ca);
	fs->med = md;
	err = pthread_create(&md->thread, NULL, mediator, fs);
	if (err)
		return -err;
	md->running = true;
	return 0;
}

void rfs_mediate_stop(struct rfs *fs)
{
	struct rfs_mediator *md = fs->med;
	struct rfs_med *m;

	if (!md)
		return;
	pthread_mutex_lock(&md->lock);
	md->stopping = true;
	pthread_cond_signal(&md->cond);
	pthread_mutex_unlock(&md->lock);
	if (md->running)
		pthread_join(md->thread, NULL);
	/* Nobody will wait for them any more: answer, never hang. */
	while ((m = md->parked)) {
		md->parked = m->next;
		fuse_req_interrupt_func(m->req, NULL, NULL);
		record(fs, m, "shutdown", ESHUTDOWN, now_ms() - m->parked_ms,
		       NULL, 0);
		finish(m, -ESHUTDOWN);
	}
	pthread_cond_destroy(&md->cond);
	pthread_mutex_destroy(&md->lock);
	pthread_rwlock_destroy(&md->gate);
	free(md);
	fs->med = NULL;
}

void rfs_gate_enter(struct rfs *fs)
{
	pthread_rwlock_rdlock(&fs->med->gate);
}

void rfs_gate_leave(struct rfs *fs)
{
	pthread_rwlock_unlock(&fs->med->gate);
}

void rfs_gate_lock_pin(struct rfs *fs)
{
	pthread_rwlock_wrlock(&fs->med->gate);
}

void rfs_gate_unlock_pin(struct rfs *fs)
{
	pthread_rwlock_unlock(&fs->med->gate);
}

void rfs_mediate_kick(struct rfs *fs)
{
	struct rfs_mediator *md = fs->med;

	if (!md)
		return;
	pthread_mutex_lock(&md->lock);
	if (md->parked)
		pthread_cond_signal(&md->cond);
	pthread_mutex_unlock(&md->lock);
}

static void on_interrupt(fuse_req_t req, void *data)
{
	struct rfs_med *m = data;
	struct rfs *fs = rfs_of(req);

	pthread_mutex_lock(&fs->med->lock);
	m->interrupted = true;
	pthread_cond_signal(&fs->med->cond);
	pthread_mutex_unlock(&fs->med->lock);
}

static void park(struct rfs *fs, struct rfs_med *m, bool breaking)
{
	struct rfs_mediator *md = fs->med;

	m->breaking = breaking;
	m->parked_ms = now_ms();
	m->deadline_ms = m->parked_ms + (int64_t)fs->pol.break_timeout * 1000;
	count(&md->deferred);
	record(fs, m, "defer", 0, -1, NULL, 0);
	/*
	 * Before the list: once listed, the mediator may answer and free
	 * the request at any moment.  An interrupt that came already calls
	 * on_interrupt now, which only marks @m.
	 */
	fuse_req_interrupt_func(m->req, on_interrupt, m);
	pthread_mutex_lock(&md->lock);
	m->next = md->parked;
	md->parked = m;
	pthread_cond_signal(&md->cond);
	pthread_mutex_unlock(&md->lock);
}

/* The offender, read now: it may be gone when the request ends. */
static struct ident *offender(fuse_req_t req)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct ident *who = malloc(sizeof(*who));

	if (who && ident_read(ctx->pid, ctx->uid, ctx->gid, who) < 0 &&
	    who->pid == 0) {
		free(who);
		who = NULL;
	}
	return who;
}

/*
 * True when every pin overlapping @m is a persistent pin of @uid (and
 * there is one).  A live holder's pin is never "own": its holder can be
 * told and release, so waiting for it makes sense.
 */
static bool own_pins(struct rfs *fs, struct rfs_med *m, uid_t uid)
{
	struct audit_pin few[AUDIT_PINS], *p = few;
	size_t n, max = AUDIT_PINS, i;
	bool own;

	/* Pins may come and go meanwhile: count, then look, until it fits. */
	for (;;) {
		n = rfs_pins_overlapping(fs, m->dev, m->ino, m->off, m->len, p,
					 max);
		if (n <= max)
			break;
		if (p != few)
			free(p);
		max = n + 8;
		p = malloc(max * sizeof(*p));
		if (!p)
			return false; /* not known to be own: park as usual */
	}
	own = n > 0;
	for (i = 0; i < n && own; i++)
		own = p[i].holder <= 0 && p[i].owner == uid;
	if (p != few)
		free(p);
	return own;
}

void rfs_mediate_fail(struct rfs *fs, struct rfs_med *m, int err,
		      const char *reason)
{
	struct ident *saved = m->who;
	const char *why = m->reason;

	m->who = offender(m->req);
	m->reason = reason;
	count(&fs->med->refused);
	record(fs, m, "refuse", err, -1, NULL, 0);
	free(m->who);
	m->who = saved;
	m->reason = why;
	fuse_reply_err(m->req, err < 0 ? -err : err);
}

void rfs_mediate(struct rfs *fs, struct rfs_med *m)
{
	bool pinned = still_pinned(fs, m), own = false;
	enum pol_verdict v;

	/* Only an unlink is decided by whose pins they are (policy.h). */
	if (pinned && m->cls == POL_UNLINK)
		own = own_pins(fs, m, fuse_req_ctx(m->req)->uid);
	v = pol_decide(&fs->pol, m->cls, pinned, own);
	if (v == POL_PERFORM)
		return finish(m, 0);
	m->who = offender(m->req);
	switch (v) {
	case POL_DO_REFUSE:
		count(&fs->med->refused);
		if (fs->pol.action[m->cls] != POL_REFUSE)
			m->reason = "only the caller's own pins: unpin first";
		record(fs, m, "refuse", ETXTBSY, -1, NULL, 0);
		return finish(m, -ETXTBSY);
	case POL_DO_AUDIT:
		count(&fs->med->audited);
		record(fs, m, "audit", 0, -1, NULL, 0);
		return finish(m, 0);
	case POL_DO_COPY:
		count(&fs->med->copied);
		m->copy = true;
		record(fs, m, "copy", 0, -1, NULL, 0);
		return finish(m, 0);
	case POL_DO_DEFER:
		return park(fs, m, false);
	case POL_DO_BREAK:
		return park(fs, m, true);
	default:
		return finish(m, 0);
	}
}

void rfs_mediate_status(struct rfs *fs, char *buf, size_t size)
{
	struct rfs_mediator *md = fs->med;
	int c, n;

	n = snprintf(buf, size, "policy=%s\n",
		     pol_action_name(fs->o.policy_default));
	for (c = 0; c < POL_NCLASSES && n > 0 && (size_t)n < size; c++)
		n += snprintf(buf + n, size - (size_t)n, "%s=%s\n",
			      pol_class_name(c),
			      pol_action_name(fs->pol.action[c]));
	if (n > 0 && (size_t)n < size)
		n += snprintf(buf + n, size - (size_t)n,
			      "break_timeout=%u\nbreak_kill=%d\n",
			      fs->pol.break_timeout, fs->pol.break_kill);
	if (md && n > 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n,
			 "refused=%" PRIu64 "\ndeferred=%" PRIu64
			 "\nbroken=%" PRIu64 "\naudited=%" PRIu64
			 "\ncopied=%" PRIu64 "\n",
			 __atomic_load_n(&md->refused, __ATOMIC_RELAXED),
			 __atomic_load_n(&md->deferred, __ATOMIC_RELAXED),
			 __atomic_load_n(&md->broken, __ATOMIC_RELAXED),
			 __atomic_load_n(&md->audited, __ATOMIC_RELAXED),
			 __atomic_load_n(&md->copied, __ATOMIC_RELAXED));
}
