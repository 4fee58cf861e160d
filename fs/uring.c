// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * FUSE over io_uring: see uring.h.
 *
 * libfuse (>= 3.18, built with liburing) starts its rings during FUSE
 * init, after our init callback, and falls back to /dev/fuse silently
 * but for one line of its own when that fails.  The kernel, once io_uring
 * is negotiated, holds every request until the rings are registered, and
 * sends them all there after (only FORGET and INTERRUPT stay on
 * /dev/fuse); if registration fails it sends them to /dev/fuse.  So the
 * first request after init tells which transport the mount really uses,
 * and fuse_req_is_uring() says which one a request came through.
 *
 * io_uring has no FUSE interrupts: a parked request whose caller is
 * signalled learns it from /proc instead (med_wait.c, core/sigpend.h).
 *
 * One FUSE session per daemon, so the state is this file's own.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <unistd.h>

#include "uring.h"
#include "rdmafs.h"
#include "core/strbuf.h"

#define ENABLE_URING "/sys/module/fuse/parameters/enable_uring"

enum transport {
	TP_UNKNOWN,
	TP_DEV_FUSE,
	TP_URING,
};

bool rfs_uring_settled;
static int transport; /* enum transport, atomic */
static char why[200]; /* why not io_uring; written before requests */
static bool foreground;

static void say(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsyslog(prio, fmt, ap);
	va_end(ap);
	if (foreground) {
		fprintf(stderr, "rdmafs: ");
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
}

#if RFS_FUSE_URING
static bool claimed; /* a /dev/fuse request is saying why */

/* Why the kernel did not offer io_uring at init. */
static void kernel_why(void)
{
	char c = 0;
	FILE *f = fopen(ENABLE_URING, "re");

	if (!f) {
		snprintf(
			why, sizeof(why),
			"the kernel has no FUSE over io_uring (Linux >= 6.14 with CONFIG_FUSE_IO_URING)");
		return;
	}
	if (fread(&c, 1, 1, f) != 1)
		c = 0;
	fclose(f);
	if (c == 'N' || c == '0')
		snprintf(
			why, sizeof(why),
			"the kernel's enable_uring is off (as root: echo 1 > %s, then mount again)",
			ENABLE_URING);
	else
		snprintf(why, sizeof(why),
			 "the kernel did not offer it at FUSE init");
}
#endif

/* The transport is /dev/fuse for good: says so and why. */
static void dev_fuse(struct rfs *fs)
{
	__atomic_store_n(&transport, TP_DEV_FUSE, __ATOMIC_RELAXED);
	__atomic_store_n(&rfs_uring_settled, true, __ATOMIC_RELEASE);
	say(fs->o.io_uring ? LOG_WARNING : LOG_INFO,
	    "transport: /dev/fuse (io_uring off: %s)", why);
}

void rfs_uring_args(struct rfs *fs, struct fuse_args *args)
{
	char depth[64];

	if (!fs->o.io_uring)
		return;
	/* Last, so that ours wins over a depth given on the command line. */
	snprintf(depth, sizeof(depth), "-oio_uring,io_uring_q_depth=%u",
		 RFS_URING_DEPTH);
	fuse_opt_add_arg(args, depth);
}

void rfs_uring_init(struct rfs *fs, struct fuse_conn_info *conn)
{
	foreground = fs->o.foreground;
#if RFS_FUSE_URING
	if (!fs->o.io_uring) {
		snprintf(why, sizeof(why), "not asked for (-o io_uring)");
		/* libfuse wants it by default; it starts rings only if asked. */
		return dev_fuse(fs);
	}
	if (!(conn->capable_ext & FUSE_CAP_OVER_IO_URING)) {
		kernel_why();
		return dev_fuse(fs);
	}
	fuse_set_feature_flag(conn, FUSE_CAP_OVER_IO_URING);
	snprintf(why, sizeof(why), "no request came yet");
	say(LOG_INFO, "io_uring: negotiated with the kernel (libfuse %s)",
	    fuse_pkgversion());
#else
	(void)conn;
	snprintf(why, sizeof(why), "libfuse %s (needs >= 3.18)",
		 fuse_pkgversion());
	dev_fuse(fs);
#endif
}

void rfs_uring_note(fuse_req_t req)
{
#if RFS_FUSE_URING
	char *payload;
	size_t size;
	int was;

	if (fuse_req_is_uring(req)) {
		was = __atomic_exchange_n(&transport, TP_URING,
					  __ATOMIC_RELAXED);
		__atomic_store_n(&rfs_uring_settled, true, __ATOMIC_RELEASE);
		if (was != TP_URING)
			say(LOG_INFO, "transport: io_uring%s",
			    was == TP_DEV_FUSE ? " (after all)" : "");
		return;
	}
	/*
	 * Negotiated, yet a request through /dev/fuse: the rings did not
	 * start.  Only a libfuse built without liburing answers ENOTSUP
	 * here; one with it says EINVAL (not a ring request).  Not settled:
	 * a later ring request would say the rings run after all.  Until
	 * then every /dev/fuse request comes here: a plain load first keeps
	 * them from writing one shared cache line each.
	 */
	if (__atomic_load_n(&claimed, __ATOMIC_RELAXED) ||
	    __atomic_exchange_n(&claimed, true, __ATOMIC_RELAXED))
		return;
	if (fuse_req_get_payload(req, &payload, &size, NULL) == -ENOTSUP)
		snprintf(why, sizeof(why),
			 "libfuse %s was built without io_uring (liburing)",
			 fuse_pkgversion());
	else
		snprintf(
			why, sizeof(why),
			"libfuse could not start its rings (its log says why: \"failed to start io-uring\")");
	/* @why first: the status reads it once it sees /dev/fuse. */
	was = TP_UNKNOWN;
	__atomic_compare_exchange_n(&transport, &was, TP_DEV_FUSE, false,
				    __ATOMIC_RELEASE, __ATOMIC_RELAXED);
	if (was == TP_UNKNOWN)
		say(LOG_WARNING, "transport: /dev/fuse (io_uring off: %s)",
		    why);
#else
	(void)req;
#endif
}

void rfs_uring_status(struct rfs *fs, struct sbuf *t)
{
	int tp = __atomic_load_n(&transport, __ATOMIC_ACQUIRE);

	(void)fs;
	sbuf_printf(t, "transport=%s\n",
		    tp == TP_URING	? "io_uring"
		    : tp == TP_DEV_FUSE ? "dev_fuse"
					: "unknown");
	if (tp != TP_URING)
		sbuf_printf(t, "transport_why=%s\n", why);
}
