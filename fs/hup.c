// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * SIGHUP reopens the audit log (audit_log=), as daemons do for logrotate:
 * after the rotation moved the file away, the daemon writes to a new file
 * at the same path instead of the moved one.  libfuse would take SIGHUP
 * as a request to unmount, which a log rotation must never cause.
 *
 * SIGHUP is blocked first thing in main(), before libfuse's handlers and
 * before any thread, so every thread inherits the mask and a SIGHUP that
 * comes during start-up waits; one thread takes it with sigwaitinfo():
 * audit_reopen() takes a lock and allocates, which a handler must not.
 * That thread starts last, after the pin table and the mediator: under a
 * tight task limit (TasksMax) those must be the ones that fail to start,
 * cleanly, not a library that aborts when its thread cannot be made.  It
 * is stopped before the audit trail is closed.
 *
 * SIGTERM and SIGINT are held back the same way until the mount serves:
 * libfuse's handlers turn them into a clean stop of the loop, but during
 * the mount itself one interrupted libfuse's wait for mount(8) (the
 * mtab entry) and start-up failed with a mount half made.  Held, a stop
 * asked during start-up is a clean stop as soon as the loop runs.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <syslog.h>

#include "rdmafs.h"
#include "hup.h"
#include "core/audit.h"

static pthread_t hup_tid;
static bool started, stopping;

static void hup_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGHUP);
}

static void *hup_thread(void *arg)
{
	struct rfs *fs = arg;
	siginfo_t si;
	sigset_t set;
	int err;

	hup_set(&set);
	for (;;) {
		if (sigwaitinfo(&set, &si) < 0)
			continue;
		if (__atomic_load_n(&stopping, __ATOMIC_ACQUIRE))
			break;
		if (!fs->o.audit_log) {
			syslog(LOG_INFO,
			       "SIGHUP from pid %d: no audit_log= to reopen",
			       (int)si.si_pid);
			continue;
		}
		err = audit_reopen(fs->audit);
		if (err)
			syslog(LOG_ERR,
			       "SIGHUP from pid %d: couldn't reopen the audit log %s (%s): still writing to the old file",
			       (int)si.si_pid, fs->o.audit_log, strerror(-err));
		else
			syslog(LOG_INFO,
			       "SIGHUP from pid %d: audit log %s reopened",
			       (int)si.si_pid, fs->o.audit_log);
	}
	return NULL;
}

/* SIGTERM and SIGINT: stop requests, held back while the mount starts. */
static void stop_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
}

void rfs_hup_block(void)
{
	sigset_t set;

	hup_set(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

void rfs_stop_signals_release(void)
{
	sigset_t set;

	stop_set(&set);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

int rfs_hup_start(struct rfs *fs)
{
	pthread_attr_t attr;
	sigset_t set;
	int err;

	hup_set(&set);
	pthread_attr_init(&attr);
	/* It only waits: a small stack is plenty. */
	pthread_attr_setstacksize(&attr, 64 * 1024);
	err = pthread_create(&hup_tid, &attr, hup_thread, fs);
	pthread_attr_destroy(&attr);
	if (err) {
		/*
		 * Unblocked in this thread, the one libfuse's loop runs in:
		 * a SIGHUP then stops the daemon, as libfuse has it, instead
		 * of staying pending for ever.
		 */
		pthread_sigmask(SIG_UNBLOCK, &set, NULL);
		return -err;
	}
	started = true;
	return 0;
}

void rfs_hup_stop(void)
{
	if (!started)
		return;
	started = false;
	__atomic_store_n(&stopping, true, __ATOMIC_RELEASE);
	/* To the thread itself: it wakes, sees stopping, and ends. */
	pthread_kill(hup_tid, SIGHUP);
	pthread_join(hup_tid, NULL);
}
