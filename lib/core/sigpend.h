/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Whether a thread has a signal pending that would interrupt it, read
 * from /proc/TID/status: for a parked request whose caller the kernel
 * cannot tell us about (DESIGN §3, "a signal to the waiting caller ends
 * the wait with EINTR").
 *
 * FUSE over io_uring carries no FUSE_INTERRUPT to the request (libfuse
 * 3.18 never matches an interrupt with a ring request), so the mediator
 * asks the caller's thread itself.  A caller waiting for a FUSE answer
 * sleeps in the kernel (request_wait_answer(): killable or
 * uninterruptible once its request reached the daemon) and never takes
 * a signal that comes meanwhile: the signal stays pending, visible in
 * SigPnd (the thread's own) or ShdPnd (its process's), until the
 * request ends.  So "pending, not blocked by the thread, not ignored by
 * the process" is exactly "a signal the kernel would have interrupted
 * the request for".  SIGKILL counts whatever the masks say.
 */
#ifndef RDMAFS_SIGPEND_H
#define RDMAFS_SIGPEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Signal masks as /proc shows them: bit n - 1 is signal n. */
struct sigpend {
	uint64_t pnd; /* SigPnd: pending for the thread itself */
	uint64_t shd; /* ShdPnd: pending for its whole process */
	uint64_t blk; /* SigBlk: the thread's blocked signals */
	uint64_t ign; /* SigIgn: the process's ignored signals */
	unsigned int threads; /* Threads: 1, or 2 for more (0: unknown) */
};

/* What a thread's pending signals mean for its wait. */
enum sigpend_verdict {
	SIGPEND_NO, /* nothing would interrupt it */
	SIGPEND_YES, /* a signal for it, or a fatal one */
	/*
	 * A signal for its process, which another of its threads may take
	 * in a moment: it interrupts this one if still pending later.
	 */
	SIGPEND_MAYBE,
};

/*
 * Parses the text of a /proc/TID/status (@len bytes, not necessarily
 * NUL-terminated) into @sp.  Returns 0, or -EINVAL when one of the four
 * mask lines is missing or is not a hexadecimal mask.  Without a
 * Threads line, threads is 0 (unknown: taken as several).
 */
int sigpend_parse(const char *text, size_t len, struct sigpend *sp);

/*
 * Whether @sp shows a signal that interrupts a wait: SIGKILL, or one
 * pending, not blocked and not ignored; SIGPEND_MAYBE when only the
 * process's set has one and the process has other threads.
 */
enum sigpend_verdict sigpend_interrupts(const struct sigpend *sp);

/*
 * Reads /proc/@tid/status into @sp.  Returns 0, -ESRCH when no such
 * thread is left, or -errno (out of descriptors, an unreadable /proc).
 */
int sigpend_read(pid_t tid, struct sigpend *sp);

#endif
