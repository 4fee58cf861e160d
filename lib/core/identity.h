/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Who made a request: the identity of an offender, for the audit trail
 * (DESIGN §5).
 *
 * FUSE tells the daemon only the thread id, uid and gid of the caller.
 * What an administrator needs after the fact ("who broke my pin, and
 * why?") is the program: its process id, name, executable and command
 * line.  Those live in /proc and must be read while the request is in
 * flight, because the caller may exit the moment it gets its answer, and
 * its pid may then be reused by an unrelated process.
 *
 * Reading is best effort by design: a process can exit, turn into a
 * zombie (its exe and cmdline vanish first) or hide parts of itself
 * between any two reads.  ident_read() records what it could and never
 * makes a request fail.
 */
#ifndef RDMAFS_IDENTITY_H
#define RDMAFS_IDENTITY_H

#include <limits.h>
#include <sys/types.h>

/*
 * A task's name is at most 15 bytes for user threads (TASK_COMM_LEN),
 * but newer kernels report up to 63 for kernel threads; the spare room
 * costs nothing and keeps a long name from being cut.
 */
#define IDENT_COMM_MAX 64
/* Command lines longer than this (NUL included) are cut. */
#define IDENT_CMDLINE_MAX 4096

/* Which fields of struct ident hold data (pid, uid and gid always do). */
enum {
	IDENT_TGID = 1 << 0,
	IDENT_COMM = 1 << 1,
	IDENT_EXE = 1 << 2,
	IDENT_CMDLINE = 1 << 3,
	/* exe or cmdline was longer than its buffer and has been cut */
	IDENT_EXE_TRUNC = 1 << 4,
	IDENT_CMDLINE_TRUNC = 1 << 5,
};

struct ident {
	pid_t pid; /* the thread id the kernel gave with the request */
	pid_t tgid; /* its process id; -1 unless IDENT_TGID */
	uid_t uid; /* the request's credentials, not /proc's */
	gid_t gid;
	unsigned int flags; /* IDENT_* */
	/*
	 * The name of the thread itself (what `ps -L` and `top -H` show):
	 * the program's name unless the thread renamed itself.  Raw bytes:
	 * a process may put anything but NUL in its name.
	 */
	char comm[IDENT_COMM_MAX];
	/* The executable's path; " (deleted)" ends it if it was replaced. */
	char exe[PATH_MAX];
	/*
	 * The arguments joined by single spaces (the NULs that separate
	 * them in /proc turned into spaces), so an argument that holds a
	 * space cannot be told from two; a process that rewrote its
	 * argument area shows what it wrote.
	 */
	char cmdline[IDENT_CMDLINE_MAX];
};

/*
 * Reads the identity of thread @tid, which made a request with @uid and
 * @gid, into @out.  @out->pid, uid and gid are always set and the other
 * fields are empty (tgid -1) unless their flag is set.
 *
 * Returns 0 when anything could be read from /proc, -ESRCH when nothing
 * could (the thread is gone, or @tid <= 0, which is what FUSE reports for
 * a caller outside the daemon's pid namespace), or another -errno when
 * /proc itself could not be opened (e.g. -EMFILE).  Even then @out is
 * fit to be logged.
 *
 * Costs about ten system calls and no allocation: some 30 us, most of it
 * in opening /proc files (status alone is a third), so it belongs on the
 * mediated path and pin changes, never on plain I/O.  A pid reused between
 * the request and this call cannot be detected here; the window is the
 * time the request has been in the daemon.
 */
int ident_read(pid_t tid, uid_t uid, gid_t gid, struct ident *out);

#endif
