// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rdmafs-mr serve: the target of RDMA writes.  It holds a range of a
 * file in an rdmafs session, maps it through the mount and registers it
 * (librdmafs-rdma), prints what a peer needs, lets writers connect over
 * TCP on loopback, and serves break notices: quiesce (the QP to the
 * error state), deregister, unmap, release, exit 0 (DESIGN §6, §10).
 * Each line goes out flushed, for scripts reading it through a pipe; the
 * formats are in doc/rdmafs-mr.1.rst.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/range.h"
#include "rdmafs/rdmafs_mr.h"
#include "rdmafs-mr.h"

/* The target's region takes RDMA writes (which need local write too). */
#define SERVE_ACCESS (IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE)

struct srv {
	const struct mr_opts *o;
	const char *file;
	struct rdmafs_mount *mount;
	struct rdmafs_session *sess;
	struct mr_rdma r;
	struct rdmafs_mr *mr;
	int fd, listen_fd, client_fd, sig_fd;
	bool qp_used; /* a writer connected it: the next one needs a new QP */
};

/* "Couldn't ...: <rdmafs_strerror>"; MR_NOT_RDMAFS for -ENOTSUP. */
static int fail_lib(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail_lib(int err, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": Couldn't ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", rdmafs_strerror(err));
	return err == -ENOTSUP ? MR_NOT_RDMAFS : MR_FAILED;
}

static void print_range(const struct rdmafs_range *r)
{
	if (r->length == RDMAFS_WHOLE)
		printf("all");
	else
		printf("%" PRIu64 "+%" PRIu64, r->offset, r->length);
}

/* A command name as one word: blanks and controls become '?'. */
static void print_comm(const char *comm)
{
	size_t i, n = strnlen(comm, 16);

	for (i = 0; i < n; i++)
		putchar(comm[i] > ' ' && comm[i] < 0x7f ? comm[i] : '?');
}

static int block_signals(struct srv *s)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	s->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return s->sig_fd < 0 ? -errno : 0;
}

/* Holds, maps and registers; the message says which step failed, why. */
static int open_region(struct srv *s, const struct rdmafs_range *range,
		       const char *arg)
{
	struct rdmafs_mr_report rep;
	int ret;

	ret = rdmafs_mr_open(s->sess, s->fd, range, s->r.pd, SERVE_ACCESS,
			     s->o->reg_flags, &s->mr, &rep);
	if (ret && rep.failed && !strcmp(rep.failed, "register")) {
		fprintf(stderr, PROG ": Couldn't register %s of %s on %s: %s\n",
			arg, s->file, s->r.dev_name, rep.reason);
		return MR_REFUSED;
	}
	if (ret && rep.failed && !strcmp(rep.failed, "map")) {
		fprintf(stderr, PROG ": Couldn't map %s of %s: %s\n", arg,
			s->file, strerror(-ret));
		return MR_FAILED;
	}
	if (ret)
		return fail_lib(ret, "hold %s of %s", arg, s->file);
	/* after an ODP registration, why the plain one failed */
	if (rep.reason[0])
		printf("note %s\n", rep.reason);
	return MR_OK;
}

static void print_region(struct srv *s)
{
	struct ibv_mr *m = rdmafs_mr_ibv(s->mr);
	struct rdmafs_range range;
	struct mr_peer me;
	char gid[64];
	int odp = rdmafs_mr_odp_support(s->r.ctx, SERVE_ACCESS);
	const char *plain = "ok";

	rdmafs_mr_range(s->mr, &range);
	verbs_local(&s->r, &me);
	if (rdmafs_mr_kind(s->mr) == RDMAFS_MR_ODP)
		plain = s->o->reg_flags & RDMAFS_MR_ODP_ONLY ? "untried"
							     : "refused";
	printf("mr addr=0x%" PRIxPTR " rkey=0x%" PRIx32 " len=%zu reg=%s "
	       "plain=%s odp=%d dev=%s port=%d gid=%s lid=%u qpn=%" PRIu32
	       " tcp=127.0.0.1:%d hold=%" PRIu64 " pid=%d range=",
	       (uintptr_t)m->addr, m->rkey, m->length,
	       rdmafs_mr_kind_name(rdmafs_mr_kind(s->mr)), plain,
	       odp < 0 ? -1 : odp, s->r.dev_name, (int)s->r.port,
	       wire_gid(&me.gid, gid, sizeof(gid)), (unsigned int)me.lid,
	       me.qpn, s->o->tcp_port, rdmafs_mr_hold(s->mr), (int)getpid());
	print_range(&range);
	printf("\n");
	fflush(stdout);
}

/* Quiesce, deregister, unmap, release; MR_REVOKED when it was too late. */
static int teardown(struct srv *s)
{
	int ret = verbs_quiesce(&s->r);

	if (ret)
		return ret;
	ret = rdmafs_mr_close(s->mr);
	if (ret == -ENOENT || ret == -ENOTCONN) {
		s->mr = NULL;
		return MR_REVOKED;
	}
	if (ret) {
		/* -errno of the deregistration: still registered, still held */
		fprintf(stderr, PROG ": Couldn't deregister the region: %s\n",
			strerror(-ret));
		return MR_FAILED;
	}
	s->mr = NULL;
	return MR_OK;
}

/* A writer: its QP details in, ours and the region's out. */
static int accept_writer(struct srv *s)
{
	const struct timeval tv = { .tv_sec = 10 };
	struct ibv_mr *m = rdmafs_mr_ibv(s->mr);
	struct mr_peer me, peer;
	char gid[64];
	int ret;

	s->client_fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (s->client_fd < 0)
		return MR_OK; /* gone already: wait for the next */
	/* a writer that says nothing must not keep us from notices long */
	setsockopt(s->client_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (s->qp_used) {
		ret = verbs_create_qp(&s->r, SERVE_ACCESS);
		if (ret)
			return ret;
	}
	s->qp_used = true;
	verbs_local(&s->r, &me);
	me.addr = (uintptr_t)m->addr;
	me.rkey = m->rkey;
	me.len = m->length;
	if (wire_recv_peer(s->client_fd, &peer) ||
	    verbs_connect(&s->r, &me, &peer) ||
	    wire_send_peer(s->client_fd, &me)) {
		close(s->client_fd);
		s->client_fd = -1;
		return MR_OK; /* that writer failed; the target goes on */
	}
	printf("connected qpn=%" PRIu32 " gid=%s\n", peer.qpn,
	       wire_gid(&peer.gid, gid, sizeof(gid)));
	fflush(stdout);
	return MR_OK;
}

/* The writer's "done": sync what it wrote to the file, then "ok". */
static void writer_line(struct srv *s)
{
	struct ibv_mr *m = rdmafs_mr_ibv(s->mr);
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t start = (uintptr_t)m->addr & ~((uintptr_t)page - 1);
	char line[64];
	int ret = wire_recv_line(s->client_fd, line, sizeof(line));

	if (ret > 0 && !strcmp(line, "done")) {
		if (msync((void *)start, (uintptr_t)m->addr + m->length - start,
			  MS_SYNC) < 0)
			fprintf(stderr, PROG ": Couldn't sync %s: %s\n",
				s->file, strerror(errno));
		printf("done\n");
		fflush(stdout);
		wire_send_line(s->client_fd, "ok\n");
		return;
	}
	if (ret > 0)
		fprintf(stderr, PROG ": unexpected from the writer: '%.40s'\n",
			line);
	close(s->client_fd);
	s->client_fd = -1;
}

/* Returns -1 to go on, else the exit status. */
static int drain(struct srv *s)
{
	rdmafs_hold_t hold = rdmafs_mr_hold(s->mr);
	struct rdmafs_notice n;
	const char *op;
	bool revoked;
	int ret;

	for (;;) {
		ret = rdmafs_session_next_notice(s->sess, &n);
		if (ret == -EAGAIN)
			return -1;
		if (ret == -EPROTO)
			continue; /* malformed: skipped, as rdmafsctl does */
		if (ret)
			return fail_lib(ret, "read a notice");
		if (n.flags & RDMAFS_NOTICE_LOST) {
			fprintf(stderr,
				PROG ": The session ended: the daemon "
				     "went away, and the hold with it\n");
			teardown(s);
			return MR_REVOKED;
		}
		if (n.hold != hold)
			continue;
		revoked = n.flags & RDMAFS_NOTICE_REVOKED;
		op = rdmafs_class_name(n.op);
		printf("%s op=%s range=", revoked ? "revoked" : "notice",
		       op ? op : "?");
		print_range(&n.range);
		printf(" pid=%d uid=%u comm=", (int)n.pid, (unsigned int)n.uid);
		print_comm(n.comm);
		printf("%s\n",
		       revoked || !s->o->ignore_notices ? "" : " ignored");
		fflush(stdout);
		if (n.flags & RDMAFS_NOTICE_REVOKED) {
			fprintf(stderr,
				PROG ": The hold of %s was revoked "
				     "without a release\n",
				s->file);
			teardown(s);
			return MR_REVOKED;
		}
		if (s->o->ignore_notices)
			continue;
		ret = teardown(s);
		if (ret)
			return ret;
		printf("released on notice op=%s pid=%d comm=", op ? op : "?",
		       (int)n.pid);
		print_comm(n.comm);
		printf("\n");
		return fflush(stdout) ? MR_FAILED : MR_OK;
	}
}

static int serve_loop(struct srv *s)
{
	struct pollfd p[3];
	int ret;

	for (;;) {
		ret = drain(s);
		if (ret >= 0)
			return ret;
		p[0] = (struct pollfd){ .fd = rdmafs_session_fd(s->sess),
					.events = POLLIN };
		p[1] = (struct pollfd){ .fd = s->sig_fd, .events = POLLIN };
		p[2] = (struct pollfd){ .fd = s->client_fd >= 0 ? s->client_fd
								: s->listen_fd,
					.events = POLLIN };
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, PROG ": Couldn't poll: %s\n",
				strerror(errno));
			return MR_FAILED;
		}
		if (p[1].revents & POLLIN) {
			ret = teardown(s);
			if (ret)
				return ret;
			printf("released on signal\n");
			return fflush(stdout) ? MR_FAILED : MR_OK;
		}
		if (!(p[2].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (s->client_fd >= 0) {
			writer_line(s);
			continue;
		}
		ret = accept_writer(s);
		if (ret)
			return ret;
	}
}

static int serve(struct srv *s, const char *arg)
{
	struct rdmafs_range range = { 0, RDMAFS_WHOLE };
	struct rng r;
	int ret;

	if (rng_parse(arg, strlen(arg), &r)) {
		fprintf(stderr,
			PROG ": malformed RANGE '%s': want OFFSET+LENGTH or "
			     "all, e.g. 0+1M (see " PROG " --help)\n",
			arg);
		return MR_USAGE;
	}
	if (!r.all)
		range = (struct rdmafs_range){ r.off, r.len };
	/* the hold and the shared writable mapping both need O_RDWR */
	s->fd = open(s->file, O_RDWR | O_CLOEXEC);
	if (s->fd < 0) {
		fprintf(stderr, PROG ": Couldn't open %s: %s\n", s->file,
			strerror(errno));
		return MR_FAILED;
	}
	ret = rdmafs_mount_open(s->file, &s->mount);
	if (ret)
		return fail_lib(ret, "open the mount of %s", s->file);
	ret = rdmafs_session_open(s->mount, 0, &s->sess);
	if (ret)
		return fail_lib(ret, "open a session on %s",
				rdmafs_mount_path(s->mount));
	ret = verbs_open(&s->r, s->o);
	if (ret)
		return ret;
	ret = open_region(s, &range, arg);
	if (ret)
		return ret;
	close(s->fd);
	s->fd = -1;
	ret = block_signals(s);
	if (ret)
		return fail_lib(ret, "block signals");
	ret = verbs_create_qp(&s->r, SERVE_ACCESS);
	if (!ret)
		ret = wire_listen(s->o->tcp_port, &s->listen_fd);
	if (ret)
		return ret;
	print_region(s);
	return serve_loop(s);
}

int mr_serve(const struct mr_opts *o, const char *file, const char *range)
{
	struct srv s = { .o = o,
			 .file = file,
			 .fd = -1,
			 .listen_fd = -1,
			 .client_fd = -1,
			 .sig_fd = -1 };
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ret = serve(&s, range);
	/* on an error path: quiesce first, never release under a live MR */
	if (s.mr && teardown(&s) == MR_FAILED)
		ret = MR_FAILED;
	verbs_close(&s.r);
	rdmafs_session_close(s.sess);
	rdmafs_mount_close(s.mount);
	if (s.fd >= 0)
		close(s.fd);
	if (s.client_fd >= 0)
		close(s.client_fd);
	if (s.listen_fd >= 0)
		close(s.listen_fd);
	if (s.sig_fd >= 0)
		close(s.sig_fd);
	return ret;
}
