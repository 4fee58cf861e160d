// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Mediation: see mediate.h.  How parked requests wait, and the thread
 * that watches them: med_wait.c.
 *
 * Live holders (DESIGN §6): a request that parks tells the holders of the
 * session pins in its snapshot first; each wake-up tells those who pinned
 * its range since (a hold kicks too); at a break's timeout, break_kill
 * kills those still holding before the break revokes what is left.  The
 * request's record names them all (m->holders, core/holders.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mediate.h"
#include "med_snap.h"
#include "med_wait.h"
#include "session.h"
#include "core/audit.h"
#include "core/identity.h"
#include "core/pintable.h"

/*
 * A refusal at decision time, whatever its cause (the policy, EDEADLK,
 * failing closed): counted in the total and under m's class.
 */
static void count_refused(struct rfs *fs, struct rfs_med *m)
{
	rfs_med_stats_inc(&fs->med->stats.refused);
	rfs_med_stats_decided(&fs->med->stats, m->op->cls, POL_REFUSE);
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
	holders_free(&m->holders);
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

/*
 * The same for a parked request, which is then freed; @out and @waited
 * (ms since it parked) go to the outcome counters and the wait
 * histogram.
 */
static void finish_parked(struct rfs *fs, struct rfs_med *m, int err,
			  enum rfs_med_outcome out, int64_t waited)
{
	rfs_med_stats_waited(&fs->med->stats, out, waited);
	finish(fs, m, err);
	rfs_med_ring_release(fs, m);
	free(m);
}

void rfs_med_shutdown(struct rfs *fs, struct rfs_med *m)
{
	int64_t waited = rfs_med_now_ms() - m->parked_ms;

	fuse_req_interrupt_func(m->req, NULL, NULL);
	rfs_med_record(fs, m, "shutdown", ESHUTDOWN, waited, NULL, 0);
	finish_parked(fs, m, -ESHUTDOWN, RFS_MED_OUT_SHUTDOWN, waited);
}

/*
 * Tells the holders of the session pins among the @n at @pins (the
 * first @n1 of m's first end, the rest of its second) that m wants
 * their range, and adds them to m->holders as told.  @pins must hold
 * only sessions not told yet (holders_untold()).  Returns 0, or -ENOMEM
 * having told nobody: the request must then be refused (DESIGN §11).
 */
static int tell(struct rfs *fs, struct rfs_med *m, const struct pin *pins,
		size_t n, size_t n1)
{
	size_t more = holders_count_new(&m->holders, pins, n), k, i;
	struct rfs_sess_holder *told;
	struct audit_holder *h;
	struct proto_notice what;
	int end;

	if (!more)
		return 0;
	told = calloc(more, sizeof(*told));
	if (!told || holders_reserve(&m->holders, more) < 0) {
		free(told);
		return -ENOMEM;
	}
	for (end = 0; end < 2; end++) {
		const struct pin *p = end ? pins + n1 : pins;
		size_t cnt = end ? n - n1 : n1;

		if (!cnt)
			continue;
		rfs_med_notice(m, end, &m->deadline_rt, &what);
		k = rfs_sess_notify(fs, p, cnt, &what, told, more);
		for (i = 0; i < k && i < more; i++) {
			h = holders_add(&m->holders, told[i].sess, told[i].pid,
					told[i].uid, told[i].comm);
			if (h && !h->told) {
				h->told = true;
				rfs_med_stats_inc(&fs->med->stats.notified);
			}
		}
	}
	free(told);
	return 0;
}

/*
 * A wake-up of the mediator: the holders told are those not told yet.
 * A failure marks @m to be refused.
 */
void rfs_med_tell_newcomers(struct rfs *fs, struct rfs_med *m)
{
	struct rfs_med_snap *s = &m->snap;
	size_t k1, k2;
	int err;

	if (m->failed)
		return;
	err = rfs_med_snap(fs, m);
	if (!err) {
		k1 = holders_untold(&m->holders, s->pins, s->n1);
		k2 = holders_untold(&m->holders, s->pins + s->n1, s->n - s->n1);
		memmove(s->pins + k1, s->pins + s->n1, k2 * sizeof(*s->pins));
		err = tell(fs, m, s->pins, k1 + k2, k1);
	}
	rfs_med_snap_free(s);
	if (err)
		m->failed = err;
}

struct holds_ctx {
	struct rfs *fs;
	const struct rfs_med_snap *snap;
};

/* Whether session @sess still holds one of the snapshot's pins. */
static bool holds(uint64_t sess, void *arg)
{
	struct holds_ctx *c = arg;

	return rfs_sess_holds_any(c->fs, sess, c->snap->pins, c->snap->n);
}

/* What became of m's told holders, by m's (fresh) snapshot. */
static size_t settle_holders(struct rfs *fs, struct rfs_med *m)
{
	struct holds_ctx c = { .fs = fs, .snap = &m->snap };

	return holders_settle(&m->holders, holds, &c);
}

/*
 * break_kill, at a break's timeout: SIGKILLs the owner of every session
 * still holding a pin over m's range, told or met only now (then told
 * first).  Before the gate: a session's end drops its pins, which must
 * not wait for a gate this thread holds.  Returns how many were killed,
 * with up to RFS_MED_AUDIT_PINS of the pins their deaths dropped in
 * @gone (*@ngone); a failure marks @m to be refused.
 */
static size_t kill_holders(struct rfs *fs, struct rfs_med *m,
			   struct audit_pin *gone, size_t *ngone)
{
	unsigned int secs = (m->deadline_ms - m->parked_ms) / 1000;
	size_t i, killed = 0;
	int err;

	rfs_med_tell_newcomers(fs, m);
	if (m->failed)
		return 0;
	err = rfs_med_snap(fs, m);
	if (err) {
		m->failed = err;
		return 0;
	}
	snprintf(m->why, sizeof(m->why),
		 "did not release within break_timeout=%us", secs);
	if (settle_holders(fs, m)) {
		for (i = 0; i < m->holders.n; i++) {
			struct audit_holder *h = &m->holders.h[i];

			if (h->fate != AUDIT_HOLDER_HOLDING)
				continue;
			/*
			 * The requester's own process, which held after its
			 * request parked (too late for EDEADLK): never killed
			 * for waiting on itself; the break revokes its pins.
			 */
			if (m->who && (m->who->flags & IDENT_TGID) &&
			    h->pid == m->who->tgid)
				continue;
			/*
			 * -ESRCH: its session ended meanwhile, or it holds
			 * none of these pins any more, looked at with the
			 * kill under the sessions' lock: released in time.
			 */
			err = rfs_sess_kill(fs, h->sess, m->snap.pins,
					    m->snap.n);
			if (err == -ESRCH) {
				h->fate = AUDIT_HOLDER_RELEASED;
				continue;
			}
			/* Still holding: the break revokes its pins. */
			if (err)
				continue;
			h->fate = AUDIT_HOLDER_KILLED;
			h->why = m->why;
			rfs_med_stats_inc(&fs->med->stats.killed);
			killed++;
		}
	}
	/* The record names the pins the break met, these included. */
	for (i = 0; i < m->snap.n && *ngone < RFS_MED_AUDIT_PINS; i++) {
		const struct pin *p = &m->snap.pins[i];
		struct audit_holder *h = holders_find(&m->holders, p->sess);

		if (!p->sess || !h || h->fate != AUDIT_HOLDER_KILLED)
			continue;
		rfs_med_audit_pin(p, &gone[(*ngone)++]);
	}
	rfs_med_snap_free(&m->snap);
	return killed;
}

/*
 * The break itself, under the gate, over m's fresh snapshot (the pins
 * rfs_med_break() revokes, since no pin is made while the gate is
 * held): the holders of its session pins that were not killed are
 * recorded as revoked; the record names the @n pins at @met (the killed
 * holders', RFS_MED_AUDIT_PINS of room) and those revoked.  Returns 0,
 * or -ENOMEM with nothing revoked.
 */
static int do_break(struct rfs *fs, struct rfs_med *m, struct audit_pin *met,
		    size_t n)
{
	if (holders_reserve(&m->holders,
			    holders_count_new(&m->holders, m->snap.pins,
					      m->snap.n)) < 0)
		return -ENOMEM;
	settle_holders(fs, m);
	holders_revoked(&m->holders, m->snap.pins, m->snap.n);
	n += rfs_med_break(fs, m, met + n, RFS_MED_AUDIT_PINS - n);
	rfs_med_stats_inc(&fs->med->stats.broken);
	rfs_med_record(fs, m, "break", 0, rfs_med_now_ms() - m->parked_ms, met,
		       n);
	return 0;
}

/*
 * What the mediator does with one parked request, outside its lock: the
 * attempt takes its own snapshot, under the gate (from "no pin left", or
 * the break, to the operation's end, as in rfs_mediate(): a pin made
 * meanwhile would be cut).  A request whose pins came back before its
 * deadline is parked again: never an early timeout, break or kill.  One
 * whose holders were killed is a break, even with no pin left to revoke.
 */
void rfs_med_settle(struct rfs *fs, struct rfs_med *m, int64_t now)
{
	int64_t waited = now - m->parked_ms;
	bool due = now >= m->deadline_ms;
	struct audit_pin met[RFS_MED_AUDIT_PINS];
	size_t killed = 0, nmet = 0;
	int err;

	/*
	 * The answer below must not race with a late interrupt: from here
	 * m->interrupted is final, and one that comes during the kills is
	 * too late (the break goes on, recorded as such).  A signal seen
	 * pending for the caller (med_wait.c) is an interrupt.
	 */
	fuse_req_interrupt_func(m->req, NULL, NULL);
	m->interrupted = m->interrupted || m->signalled;
	if (m->breaking && due && !m->interrupted && fs->pol.break_kill)
		killed = kill_holders(fs, m, met, &nmet);
	/*
	 * A pin is made only with the gate held exclusive (pin_add.c): one
	 * made between the kills and here is in the snapshot below and is
	 * revoked by the break (its holder told so), never cut unseen.
	 */
	rfs_gate_enter(fs);
	err = m->failed ? m->failed : rfs_med_snap(fs, m);
	if (m->interrupted) {
		/*
		 * The caller gave up: EINTR, whatever else went wrong
		 * (nothing is performed either way).  Without a snapshot
		 * the told holders' fates stay unknown (waiting).
		 */
		if (!err)
			settle_holders(fs, m);
		rfs_med_record(fs, m, "interrupted", EINTR, waited, NULL, 0);
		finish_parked(fs, m, -EINTR, RFS_MED_OUT_INTERRUPTED, waited);
	} else if (err) {
		/* Whether pins are left cannot be told: fail closed. */
		m->reason = "out of memory";
		rfs_med_stats_inc(&fs->med->stats.refused);
		rfs_med_record(fs, m, "refuse", err, waited, NULL, 0);
		finish_parked(fs, m, err, RFS_MED_OUT_ERROR, waited);
	} else if (!m->snap.n && !killed) {
		settle_holders(fs, m);
		rfs_med_record(fs, m, "done", 0, waited, NULL, 0);
		finish_parked(fs, m, 0, RFS_MED_OUT_DONE, waited);
	} else if (!due) {
		rfs_gate_leave(fs);
		rfs_med_snap_free(&m->snap);
		return rfs_med_park(fs, m, true);
	} else if (!m->breaking) {
		settle_holders(fs, m);
		rfs_med_record(fs, m, "timeout", ETXTBSY, waited, NULL, 0);
		finish_parked(fs, m, -ETXTBSY, RFS_MED_OUT_TIMEOUT, waited);
	} else if ((err = do_break(fs, m, met, nmet)) < 0) {
		m->reason = "out of memory";
		rfs_med_stats_inc(&fs->med->stats.refused);
		rfs_med_record(fs, m, "refuse", err, waited, NULL, 0);
		finish_parked(fs, m, err, RFS_MED_OUT_ERROR, waited);
	} else {
		finish_parked(fs, m, 0, RFS_MED_OUT_BREAK, waited);
	}
	rfs_gate_leave(fs);
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
	m->breaking = breaking;
	rfs_med_stats_inc(&fs->med->stats.deferred);
	rfs_med_stats_decided(&fs->med->stats, m->op->cls,
			      breaking ? POL_BREAK : POL_DEFER);
	rfs_med_park(fs, m, false);
}

/*
 * The offender, read now: it may be gone when the request ends.  FUSE
 * gives the calling thread's id; ident_read() finds its process (tgid),
 * which the EDEADLK rule and the notices need.  NULL when FUSE gave no
 * pid (a caller outside the daemon's pid namespace) or out of memory.
 */
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

/* m's deadline, for the mediator (monotonic) and the notices (real time). */
static void set_deadline(struct rfs *fs, struct rfs_med *m)
{
	unsigned int t = fs->pol.break_timeout;

	m->parked_ms = rfs_med_now_ms();
	m->deadline_ms = m->parked_ms + (int64_t)t * 1000;
	clock_gettime(CLOCK_REALTIME, &m->deadline_rt);
	m->deadline_rt.tv_sec += t;
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
	count_refused(fs, m);
	rfs_med_record(fs, m, "refuse", err, -1, NULL, 0);
	finish(fs, m, err < 0 ? err : -err);
}

/* Whether @s has a session pin (one a live process holds). */
static bool any_session_pin(const struct rfs_med_snap *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (holders_is_session(&s->pins[i]))
			return true;
	return false;
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
	/* Without it, EDEADLK could not be told from a wait for ourselves. */
	if (!m->who && fuse_req_ctx(m->req)->pid > 0)
		return fail(fs, m, -ENOMEM, "out of memory");
	if (m->who && (m->who->flags & IDENT_TGID))
		r.tgid = m->who->tgid;
	v = pol_decide(&fs->pol, &r, &snap, &why);
	if (why)
		m->reason = why;
	/*
	 * A caller whose process cannot be told (/proc unreadable: out of
	 * descriptors, or its thread dying) may hold one of these session
	 * pins itself: parked, it would wait for itself for the whole break
	 * timeout, and break_kill would then kill it.  Fail closed: refuse
	 * it at once, as the policy's refuse does.  A caller outside the
	 * daemon's pid namespace (FUSE gives pid 0) holds no session: a
	 * session's owner must have a pid here (session.c).
	 */
	if ((v == POL_DO_DEFER || v == POL_DO_BREAK) && r.tgid <= 0 &&
	    fuse_req_ctx(m->req)->pid > 0 && any_session_pin(&m->snap)) {
		m->reason =
			"the caller's process is unknown: it may hold the pin itself";
		v = POL_DO_REFUSE;
	}
	switch (v) {
	case POL_PERFORM:
		return finish(fs, m, 0);
	case POL_DO_DEADLOCK:
		count_refused(fs, m);
		rfs_med_record(fs, m, "refuse", EDEADLK, -1, NULL, 0);
		return finish(fs, m, -EDEADLK);
	case POL_DO_AUDIT:
		rfs_med_stats_inc(&fs->med->stats.audited);
		rfs_med_stats_decided(&fs->med->stats, m->op->cls, POL_AUDIT);
		rfs_med_record(fs, m, "audit", 0, -1, NULL, 0);
		return finish(fs, m, 0);
	case POL_DO_COPY:
		rfs_med_stats_inc(&fs->med->stats.copied);
		rfs_med_stats_decided(&fs->med->stats, m->op->cls, POL_COPY);
		m->copy = true;
		rfs_med_record(fs, m, "copy", 0, -1, NULL, 0);
		return finish(fs, m, 0);
	case POL_DO_DEFER:
	case POL_DO_BREAK:
		/*
		 * The holders of the snapshot's session pins are told from
		 * this same snapshot (DESIGN §6), before the request parks:
		 * a release that comes at once finds it parked or about to
		 * be (park() wakes the mediator, which looks again).
		 */
		if (!rfs_med_ring_reserve(fs, m)) {
			m->reason =
				"io_uring: as many requests parked as a ring queue can hold";
			count_refused(fs, m);
			rfs_med_record(fs, m, "refuse", ETXTBSY, -1, NULL, 0);
			return finish(fs, m, -ETXTBSY);
		}
		set_deadline(fs, m);
		if (tell(fs, m, m->snap.pins, m->snap.n, m->snap.n1) < 0 ||
		    !(h = keep(m))) {
			rfs_med_ring_release(fs, m);
			return fail(fs, m, -ENOMEM, "out of memory");
		}
		rfs_med_record(fs, m, "defer", 0, -1, NULL, 0);
		/*
		 * @h owns it all now (the holders told too); parked, it
		 * takes a new snapshot for each attempt.
		 */
		rfs_med_snap_free(&m->snap);
		h->snap.pins = NULL;
		rfs_med_snap_free(&h->snap);
		return park(fs, h, v == POL_DO_BREAK);
	case POL_DO_REFUSE:
	default:
		count_refused(fs, m);
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

void rfs_mediate_status(struct rfs *fs, struct sbuf *t)
{
	struct rfs_mediator *md = fs->med;
	char pol[512];
	size_t parked = 0;
	int n;

	if (md) {
		pthread_mutex_lock(&md->lock);
		parked = md->nparked;
		pthread_mutex_unlock(&md->lock);
	}
	/*
	 * Seven keys with values of at most 31 characters (pol_format()):
	 * it fits, but a cut policy would be a lie, so check anyway.
	 */
	n = pol_format(&fs->pol, pol, sizeof(pol));
	if (n < 0 || (size_t)n >= sizeof(pol))
		return sbuf_fail(t, -EOVERFLOW);
	sbuf_puts(t, pol);
	if (!md)
		return;
	sbuf_printf(t, "parked=%zu\n", parked);
	rfs_med_stats_format(&md->stats, t);
	sbuf_printf(t, "holders=%" PRIu64 "\n", rfs_sess_holders(fs));
}
