/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * librdmafs-rdma: a range of a file in an rdmafs mount, held in a
 * session, mapped through the mount and registered as an RDMA memory
 * region (rdmafs DESIGN §10).  Built only with rdma-core (libibverbs):
 * its own library, so that librdmafs.so.1 neither needs libibverbs nor
 * exports calls that a build option takes away.  See rdmafs_mr_open(3).
 *
 * The order is the contract: hold, then map, then register; and on the
 * way back deregister, then unmap, then release.  While the memory region
 * lives, the hold keeps the range's blocks where they are; rdmafs tells
 * the holder (a notice on the session) before an operation may move
 * them, and the holder quiesces its RDMA, closes the region and so
 * releases the hold.
 *
 * The kernel refuses plain (long-term pinned) registrations of fsdax
 * pages (EOPNOTSUPP) and, since Linux 6.5, writable ones of file pages
 * that need dirty tracking, such as FUSE's page cache (EFAULT).  An
 * on-demand-paging (ODP) registration works on both, where the device
 * offers it.  rdmafs_mr_open() tries plain first, then ODP, and says
 * which worked, or why neither did.
 *
 * The rules of rdmafs.h hold here too: 0 or -errno, never errno, no
 * printing.  A struct rdmafs_mr is used by one thread at a time.
 */
#ifndef RDMAFS_RDMAFS_MR_H
#define RDMAFS_RDMAFS_MR_H

#include <infiniband/verbs.h>
#include <rdmafs/rdmafs.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How the region is registered. */
enum rdmafs_mr_kind {
	RDMAFS_MR_NONE, /* not registered (a failure) */
	RDMAFS_MR_PLAIN, /* ibv_reg_mr(): pages pinned long-term */
	RDMAFS_MR_ODP, /* IBV_ACCESS_ON_DEMAND: MMU notifiers, no pins */
};

/* rdmafs_mr_open() @flags: at most one of */
#define RDMAFS_MR_PLAIN_ONLY 0x1u /* never try ODP */
#define RDMAFS_MR_ODP_ONLY 0x2u /* skip the plain registration */

/* What rdmafs_mr_open() tried, and why it failed when it did. */
struct rdmafs_mr_report {
	enum rdmafs_mr_kind kind; /* what worked; RDMAFS_MR_NONE: nothing */
	/*
	 * On failure, the step that failed: "hold" (the errors of
	 * rdmafs_session_hold()), "map" (mmap(2)'s, or the size of the
	 * file) or "register" (see below); NULL on success.  Static.
	 */
	const char *failed;
	int plain_err; /* -errno of the plain registration; 0: ok or untried */
	int odp_err; /* -errno of the ODP registration; 0: ok or untried */
	/*
	 * rdmafs_mr_odp_support() of the device for the access asked:
	 * 1 yes, 0 no, -errno when it could not tell (set when looked at:
	 * once the plain registration failed, or with RDMAFS_MR_ODP_ONLY).
	 */
	int odp_support;
	/*
	 * On failure, the reason in words: the registration that failed,
	 * with which errno and what the kernel means by it, e.g. "plain
	 * registration: EOPNOTSUPP (Operation not supported): the kernel
	 * refuses long-term pins of DAX (fsdax) pages; ...".  After an ODP
	 * registration that worked, why the plain one did not; else "".
	 */
	char reason[512];
};

struct rdmafs_mr;

/*
 * Holds @range of the file open at @fd (O_RDWR, through an rdmafs
 * mount) in @session, maps it MAP_SHARED through the mount, and
 * registers the mapping on @pd with @access (IBV_ACCESS_*; the library
 * adds IBV_ACCESS_ON_DEMAND for an ODP registration): plain first, then
 * ODP when the device reports ODP for the RC operations @access allows,
 * per @flags.  The region covers exactly the range (the mapping starts
 * at the page below its offset).  On success *@mr is the region; the
 * caller may close @fd.  @report, when not NULL, says what was tried.
 *
 * Errors: those of rdmafs_session_hold() and mmap(2) (-EACCES: @fd is
 * not open O_RDWR); -EINVAL for flags or an empty range; the errno of the
 * last registration tried (-EOPNOTSUPP, -EFAULT, -ENOMEM, ...).  On
 * failure nothing is left held, mapped or registered.
 */
int rdmafs_mr_open(struct rdmafs_session *session, int fd,
		   const struct rdmafs_range *range, struct ibv_pd *pd,
		   int access, unsigned int flags, struct rdmafs_mr **mr,
		   struct rdmafs_mr_report *report);

/*
 * Deregisters, unmaps and releases, in that order, and frees @mr (NULL
 * is allowed).  Quiesce first: move the queue pairs that use the region
 * to the error state (or destroy them).  If the deregistration fails the
 * region stays open, still held, and its -errno is returned (so that the
 * range is never released under a live region): close the session to
 * drop the hold anyway.  Otherwise @mr is freed, and the error of the
 * release (-ENOENT: the hold had been revoked; -ENOTCONN: the session
 * had ended) or 0 is returned.
 */
int rdmafs_mr_close(struct rdmafs_mr *mr);

/* The verbs memory region: addr, length, lkey, rkey. */
struct ibv_mr *rdmafs_mr_ibv(const struct rdmafs_mr *mr);
/* The hold, to match the notices of the session against. */
rdmafs_hold_t rdmafs_mr_hold(const struct rdmafs_mr *mr);
/* The range of the file the region covers (never RDMAFS_WHOLE). */
void rdmafs_mr_range(const struct rdmafs_mr *mr, struct rdmafs_range *range);
enum rdmafs_mr_kind rdmafs_mr_kind(const struct rdmafs_mr *mr);
/* "plain", "odp", "none"; NULL for a value out of range. */
const char *rdmafs_mr_kind_name(enum rdmafs_mr_kind kind);

/*
 * Whether @context offers ODP registrations for RC queue pairs doing
 * what @access allows (IBV_ACCESS_REMOTE_WRITE: RDMA WRITE, and so on):
 * 1 yes, 0 no, -errno when the device cannot be asked.
 */
int rdmafs_mr_odp_support(struct ibv_context *context, int access);

#ifdef __cplusplus
}
#endif

#endif
