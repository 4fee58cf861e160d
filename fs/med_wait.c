// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * How parked requests wait (see mediate.h): one list, watched by one
 * thread.  It wakes when a pin goes (rfs_mediate_kick(), called on every
 * pin change), when a caller is interrupted, at the nearest deadline,
 * and every POLL_MS to look at the callers' signals; checks every parked
 * request, and has the ones that may go on settled outside its lock.
 * Parked requests are few (each is a process blocked on a layout
 * change), so a list scanned per wake-up is enough, and a request
 * waiting for pins to go is answered within one wake-up of the last
 * unpin.
 *
 * A signal to the waiting caller ends the wait with EINTR (DESIGN §3).
 * Over /dev/fuse the kernel says so with a FUSE_INTERRUPT, which libfuse
 * hands to on_interrupt().  FUSE over io_uring has no interrupts: the
 * kernel queues one on /dev/fuse, where libfuse 3.18 never matches it
 * with a ring request.  So the mediator also asks the callers themselves,
 * every POLL_MS and as soon as a request parks: FUSE names the calling
 * thread (fuse_req_ctx()->pid), and a thread waiting for a FUSE answer
 * sleeps in the kernel (request_wait_answer(): killable, or
 * uninterruptible once its request is in the daemon's hands), so a
 * signal sent to it stays pending where /proc/TID/status shows it.  One
 * that is not blocked and not ignored, or SIGKILL, ends the wait exactly
 * as an interrupt does (core/sigpend.h).  That also ends the wait of a
 * SIGKILLed caller, for which the kernel may send no interrupt at all,
 * and of one whose interrupt was lost.  The cost: one small /proc read
 * per parked request every POLL_MS; nothing while nothing is parked.
 *
 * Under io_uring a parked request also keeps its ring entry until it is
 * answered (uring.h): at most RFS_URING_DEPTH - 1 ring requests park at
 * once, so that no CPU's queue fills up with them; past that, a request
 * the policy would park (defer or break) is refused with ETXTBSY, its
 * record saying why, rather than freeze every caller on that CPU.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include "med_snap.h"
#include "med_wait.h"
#include "core/pintable.h"
#include "core/sigpend.h"

/* How often the callers' signals are looked at, in milliseconds. */
#define POLL_MS 100
/* How often holders are looked for without a kick (pins made without). */
#define RECHECK_MS 1000

int64_t rfs_med_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

void rfs_med_park(struct rfs *fs, struct rfs_med *m, bool again)
{
	struct rfs_mediator *md = fs->med;

	/*
	 * Before the list: once listed, the mediator may answer and free
	 * the request at any moment.  An interrupt that came already calls
	 * on_interrupt now, which only marks @m.
	 */
	fuse_req_interrupt_func(m->req, on_interrupt, m);
	pthread_mutex_lock(&md->lock);
	m->next = md->parked;
	md->parked = m;
	md->nparked++;
	if (again)
		md->recheck = true;
	else
		pthread_cond_signal(&md->cond);
	pthread_mutex_unlock(&md->lock);
}

bool rfs_med_ring_reserve(struct rfs *fs, struct rfs_med *m)
{
#if RFS_FUSE_URING
	unsigned int *n = &fs->med->ring_parked, was;

	if (!fuse_req_is_uring(m->req))
		return true;
	was = __atomic_load_n(n, __ATOMIC_RELAXED);
	do {
		if (was >= RFS_URING_DEPTH - 1)
			return false;
	} while (!__atomic_compare_exchange_n(
		n, &was, was + 1, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	m->ring = true;
#else
	(void)fs;
	(void)m;
#endif
	return true;
}

void rfs_med_ring_release(struct rfs *fs, struct rfs_med *m)
{
	if (m->ring)
		__atomic_sub_fetch(&fs->med->ring_parked, 1, __ATOMIC_RELAXED);
	m->ring = false;
}

/*
 * Whether m's caller has a signal pending that would interrupt it.  One
 * for its whole process counts once seen on two looks in a row: the
 * kernel may be giving it to another thread of the process, which takes
 * it at once; still pending POLL_MS later, it is this thread's.
 */
static bool caller_signalled(struct rfs_med *m)
{
	pid_t tid = fuse_req_ctx(m->req)->pid;
	enum sigpend_verdict v = SIGPEND_NO;
	struct sigpend sp;
	bool seen = m->sig_maybe;

	/* pid 0: a caller outside the daemon's pid namespace. */
	if (tid > 0 && sigpend_read(tid, &sp) == 0)
		v = sigpend_interrupts(&sp);
	m->sig_maybe = v == SIGPEND_MAYBE;
	return v == SIGPEND_YES || (v == SIGPEND_MAYBE && seen);
}

/*
 * The mediator, outside its lock, from the list's head @m at the time:
 * marks the requests whose caller was signalled.  Only this thread
 * unlinks requests, reads or writes m->signalled, and park() adds at
 * the head: the list from @m on stays as it is.
 */
static void poll_signals(struct rfs_med *m)
{
	for (; m; m = m->next) {
		if (m->signalled)
			continue;
		if (caller_signalled(m)) {
			m->signalled = true;
			m->reason = "a signal is pending for the caller";
		}
	}
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
		int64_t now = rfs_med_now_ms(), next = now + RECHECK_MS;
		struct timespec ts;

		while ((m = *p)) {
			if (m->interrupted || m->signalled || m->failed ||
			    m->deadline_ms <= now ||
			    !rfs_med_pinned_now(fs, m)) {
				*p = m->next;
				md->nparked--;
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
				rfs_med_settle(fs, m, now);
			}
			pthread_mutex_lock(&md->lock);
			continue;
		}
		if (md->parked && now >= md->next_poll) {
			m = md->parked;
			md->next_poll = now + POLL_MS;
			pthread_mutex_unlock(&md->lock);
			poll_signals(m);
			pthread_mutex_lock(&md->lock);
			continue;
		}
		if (md->recheck && md->parked) {
			/* As in poll_signals(): the list from @m on stays. */
			m = md->parked;
			md->recheck = false;
			pthread_mutex_unlock(&md->lock);
			for (; m; m = m->next)
				rfs_med_tell_newcomers(fs, m);
			pthread_mutex_lock(&md->lock);
			continue;
		}
		if (md->parked && md->next_poll < next)
			next = md->next_poll;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (next - now) / 1000;
		ts.tv_nsec += ((next - now) % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&md->cond, &md->lock, &ts);
		/* Pins are made without a kick: look for holders now and then. */
		now = rfs_med_now_ms();
		if (now >= md->next_recheck) {
			md->recheck = true;
			md->next_recheck = now + RECHECK_MS;
		}
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
		md->nparked--;
		rfs_med_shutdown(fs, m);
	}
	pthread_cond_destroy(&md->cond);
	pthread_mutex_destroy(&md->lock);
	pthread_rwlock_destroy(&md->gate);
	free(md);
	fs->med = NULL;
}

void rfs_mediate_kick(struct rfs *fs)
{
	struct rfs_mediator *md = fs->med;

	if (!md)
		return;
	pthread_mutex_lock(&md->lock);
	if (md->parked) {
		md->recheck = true;
		pthread_cond_signal(&md->cond);
	}
	pthread_mutex_unlock(&md->lock);
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
