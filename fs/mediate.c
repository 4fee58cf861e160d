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
#include <unistd.h>

#include "mediate.h"
#include "med_snap.h"
#include "core/audit.h"
#include "core/identity.h"
#include "core/pintable.h"

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

/* Releases what @m holds, once answered. */
static void release(struct rfs *fs, struct rfs_med *m)
{
	const struct rfs_med_op *op = m->op;

	if (op->release)
		op->release(fs, m);
	if (m->own_path_fd && m->path_fd >= 0)
		close(m->path_fd);
	rfs_med_snap_free(&m->snap);
	free(m->who);
	m->who = NULL;
}

/* Answers @m: performs it (@err 0) or refuses it; then releases it. */
static void finish(struct rfs *fs, struct rfs_med *m, int err)
{
	const struct rfs_med_op *op = m->op;

	if (!err)
		op->perform(m);
	else if (op->refuse)
		op->refuse(m, err);
	else
		fuse_reply_err(m->req, -err);
	release(fs, m);
}

/* The same for a parked request, which is then freed. */
static void finish_parked(struct rfs *fs, struct rfs_med *m, int err)
{
	finish(fs, m, err);
	free(m);
}

/*
 * What the mediator does with one parked request, outside its lock: the
 * attempt takes its own snapshot, under the gate (from "no pin left", or
 * the break, to the operation's end, as in rfs_mediate(): a pin made
 * meanwhile would be cut).
 */
static void settle(struct rfs *fs, struct rfs_med *m, int64_t now)
{
	struct audit_pin revoked[RFS_MED_AUDIT_PINS];
	int64_t waited = now - m->parked_ms;
	size_t n;
	int err;

	/* The answer below must not race with a late interrupt. */
	fuse_req_interrupt_func(m->req, NULL, NULL);
	rfs_gate_enter(fs);
	err = rfs_med_snap(fs, m);
	if (err) {
		/* Whether pins are left cannot be told: fail closed. */
		m->reason = "out of memory";
		rfs_med_record(fs, m, "refuse", err, waited, NULL, 0);
		finish_parked(fs, m, err);
	} else if (m->interrupted) {
		rfs_med_record(fs, m, "interrupted", EINTR, waited, NULL, 0);
		finish_parked(fs, m, -EINTR);
	} else if (!m->snap.n) {
		rfs_med_record(fs, m, "done", 0, waited, NULL, 0);
		finish_parked(fs, m, 0);
	} else if (!m->breaking) {
		rfs_med_record(fs, m, "timeout", ETXTBSY, waited, NULL, 0);
		finish_parked(fs, m, -ETXTBSY);
	} else {
		n = rfs_med_break(fs, m, revoked, RFS_MED_AUDIT_PINS);
		count(&fs->med->broken);
		rfs_med_record(fs, m, "break", 0, waited, revoked, n);
		finish_parked(fs, m, 0);
	}
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
			    !rfs_med_pinned_now(fs, m)) {
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
		rfs_med_record(fs, m, "shutdown", ESHUTDOWN,
			       now_ms() - m->parked_ms, NULL, 0);
		finish_parked(fs, m, -ESHUTDOWN);
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

/*
 * A copy of @m off the handler's stack, owning what @m owned (its
 * arguments' names copied out of the kernel's request buffer), or NULL
 * (out of memory: @m still owns everything).
 */
static struct rfs_med *keep(struct rfs_med *m)
{
	const struct rfs_med_op *op = m->op;
	struct rfs_med *h = malloc(sizeof(*h) + op->args_size);

	if (!h)
		return NULL;
	*h = *m;
	h->args = h + 1;
	memcpy(h->args, m->args, op->args_size);
	if (op->keep && op->keep(h) < 0) {
		free(h);
		return NULL;
	}
	return h;
}

static void park(struct rfs *fs, struct rfs_med *m, bool breaking)
{
	struct rfs_mediator *md = fs->med;

	m->breaking = breaking;
	m->parked_ms = now_ms();
	m->deadline_ms = m->parked_ms + (int64_t)fs->pol.break_timeout * 1000;
	count(&md->deferred);
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
 * Refuses @m, whose effect on pins could not be told (DESIGN §11: out of
 * descriptors or memory, an unreadable pin store), with @err (-errno):
 * counted as refused, recorded as a "refuse" with errno @err and
 * @reason.  Never performs anything.
 */
static void fail(struct rfs *fs, struct rfs_med *m, int err, const char *reason)
{
	if (!m->who)
		m->who = offender(m->req);
	m->reason = reason ? reason : m->reason;
	count(&fs->med->refused);
	rfs_med_record(fs, m, "refuse", err, -1, NULL, 0);
	finish(fs, m, err < 0 ? err : -err);
}

/* Decides over m's snapshot, and acts.  Under the gate. */
static void decide(struct rfs *fs, struct rfs_med *m)
{
	struct pol_snap snap = { .pins = m->snap.pins, .n = m->snap.n };
	struct pol_req r = {
		.cls = m->op->cls,
		.uid = fuse_req_ctx(m->req)->uid,
	};
	struct rfs_med *h;
	enum pol_verdict v;
	const char *why;

	/* The end with pins first: the audit names its path and range. */
	if (m->has2 && !m->snap.n1)
		rfs_med_swap_ends(m);
	/* Pins are touched: never a plain perform, so the offender is due. */
	m->who = offender(m->req);
	if (m->who && (m->who->flags & IDENT_TGID))
		r.tgid = m->who->tgid;
	v = pol_decide(&fs->pol, &r, &snap, &why);
	if (why)
		m->reason = why;
	switch (v) {
	case POL_PERFORM:
		return finish(fs, m, 0);
	case POL_DO_DEADLOCK:
		count(&fs->med->refused);
		rfs_med_record(fs, m, "refuse", EDEADLK, -1, NULL, 0);
		return finish(fs, m, -EDEADLK);
	case POL_DO_AUDIT:
		count(&fs->med->audited);
		rfs_med_record(fs, m, "audit", 0, -1, NULL, 0);
		return finish(fs, m, 0);
	case POL_DO_COPY:
		count(&fs->med->copied);
		m->copy = true;
		rfs_med_record(fs, m, "copy", 0, -1, NULL, 0);
		return finish(fs, m, 0);
	case POL_DO_DEFER:
	case POL_DO_BREAK:
		h = keep(m);
		if (!h)
			return fail(fs, m, -ENOMEM, "out of memory");
		rfs_med_record(fs, m, "defer", 0, -1, NULL, 0);
		/*
		 * Here the holders of m->snap's session pins are to be told
		 * (DESIGN §6, the session channel of the next issue): from
		 * this same snapshot, before the request is parked.
		 */
		/*
		 * @h owns it all now; parked, it takes a new snapshot for
		 * each attempt.
		 */
		rfs_med_snap_free(&m->snap);
		h->snap.pins = NULL;
		rfs_med_snap_free(&h->snap);
		return park(fs, h, v == POL_DO_BREAK);
	case POL_DO_REFUSE:
	default:
		count(&fs->med->refused);
		rfs_med_record(fs, m, "refuse", ETXTBSY, -1, NULL, 0);
		return finish(fs, m, -ETXTBSY);
	}
}

/* rfs_mediate() under the gate. */
static void mediate_gated(struct rfs *fs, struct rfs_med *m)
{
	const struct rfs_med_op *op = m->op;
	bool known = m->dev || m->ino;
	int r;

	if (!op->always && !rfs_med_pins_maybe(fs))
		return finish(fs, m, 0);
	/* The handler's range first: nothing pinned, nothing to find out. */
	if (known) {
		r = rfs_med_snap(fs, m);
		if (r < 0)
			return fail(fs, m, r, "out of memory");
		if (!m->snap.n && !op->always)
			return finish(fs, m, 0);
	}
	if (op->check) {
		r = op->check(fs, m);
		if (r == RFS_MED_DONE)
			return release(fs, m);
		if (r < 0)
			return fail(fs, m, r, NULL);
		if (r == RFS_MED_PLAIN)
			return finish(fs, m, 0);
	}
	if (m->snap.taken) {
		rfs_med_snap_narrow(m);
	} else {
		r = rfs_med_snap(fs, m);
		if (r < 0)
			return fail(fs, m, r, "out of memory");
	}
	if (!m->snap.n)
		return finish(fs, m, 0);
	decide(fs, m);
}

void rfs_mediate(struct rfs *fs, struct rfs_med *m)
{
	rfs_gate_enter(fs);
	mediate_gated(fs, m);
	rfs_gate_leave(fs);
}

void rfs_mediate_status(struct rfs *fs, char *buf, size_t size)
{
	struct rfs_mediator *md = fs->med;
	int n;

	n = pol_format(&fs->pol, buf, size);
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
