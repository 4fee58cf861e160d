/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Opening and closing a session (DESIGN §6; the protocol is
 * doc/session.md, its wire format core/proto_session.h).
 *
 * The daemon publishes its socket through the mount root's virtual xattr
 * user.rdmafs.session, read on the descriptor of the root the mount
 * handle keeps, so the address comes from the mount itself, never from
 * a path the caller or the environment could redirect.  Still, a socket
 * path names whoever bound it: the peer must be root or ourselves
 * (SO_PEERCRED), and its HELLO must name the FUSE device of this very
 * mount, or the session is refused before anything is sent.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "client.h"
#include "core/proto_session.h"

/* How long the daemon may take to greet (it does so at accept). */
#define HELLO_TIMEOUT_MS 5000

/* The socket's path, from the mount root's PROTO_SESSION. */
static int sess_address(const struct rdmafs_mount *m, char *path, size_t size)
{
	char val[256];
	ssize_t n;
	int ret;

	n = fgetxattr(m->root_fd, PROTO_SESSION, val, sizeof(val));
	if (n < 0) {
		/* a daemon without the channel (rdmafs < 0.2, or it failed) */
		if (errno == ENOTSUP || errno == ENODATA)
			return -EOPNOTSUPP;
		return errno == ERANGE ? -EPROTO : -errno;
	}
	ret = proto_sess_addr_parse(val, (size_t)n, path, size);
	return ret;
}

static int sess_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd, ret;

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* proto_sess_addr_parse() checked that it fits sun_path */
	strcpy(sa.sun_path, path);
	do {
		ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		goto fail;
	/* whoever bound the path: only root's or our own daemon will do */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		goto fail;
	if (cred.uid != 0 && cred.uid != geteuid()) {
		close(fd);
		return -EPERM;
	}
	return fd;

fail:
	ret = -errno;
	close(fd);
	return ret;
}

/* Waits for the daemon's HELLO and checks it is this mount's daemon. */
static int sess_hello(struct rdmafs_session *s)
{
	struct pollfd p = { .fd = s->sock, .events = POLLIN };
	unsigned char buf[PROTO_SESS_MAX];
	struct proto_sess_msg m;
	ssize_t n;
	int ret;

	do {
		ret = poll(&p, 1, HELLO_TIMEOUT_MS);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	if (ret == 0)
		return -ETIMEDOUT;
	do {
		n = recv(s->sock, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* closed before a word: the daemon refused the session (a limit) */
	if (n == 0)
		return -ECONNRESET;
	if ((size_t)n > sizeof(buf))
		return -EPROTO;
	ret = proto_sess_decode(buf, (size_t)n, &m);
	if (ret)
		return ret;
	if (m.type != PROTO_SESS_HELLO)
		return -EPROTO;
	if (makedev(m.dev_major, m.dev_minor) != s->dev)
		return -EXDEV; /* another mount's daemon */
	s->id = m.sess;
	s->break_timeout = m.break_timeout;
	return 0;
}

/* The descriptor the application polls: the socket and the queue's. */
static int sess_pollset(struct rdmafs_session *s)
{
	struct epoll_event ev = { .events = EPOLLIN };

	s->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->evfd < 0)
		return -errno;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0)
		return -errno;
	ev.data.fd = s->sock;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->sock, &ev) < 0)
		return -errno;
	ev.data.fd = s->evfd;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->evfd, &ev) < 0)
		return -errno;
	return 0;
}

static void sess_free(struct rdmafs_session *s)
{
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->evfd >= 0)
		close(s->evfd);
	/*
	 * Closing the channel ends every hold of the session in the daemon;
	 * but a forked child may still have a copy of the socket, which
	 * would keep the session open: the owner shuts it down for all.  A
	 * child closes only its own copy, leaving its parent's session be.
	 */
	if (s->sock >= 0 && getpid() == s->owner)
		shutdown(s->sock, SHUT_RDWR);
	if (s->sock >= 0)
		close(s->sock);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

RDMAFS_EXPORT int rdmafs_session_open(struct rdmafs_mount *mount,
				      unsigned int flags,
				      struct rdmafs_session **session)
{
	RCL_KEEP_ERRNO;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct rdmafs_session *s;
	struct stat st;
	int ret;

	if (session)
		*session = NULL;
	if (!mount || !session || flags)
		return -EINVAL;
	ret = sess_address(mount, path, sizeof(path));
	if (ret)
		return ret;
	if (fstat(mount->root_fd, &st) < 0)
		return -errno;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->sock = s->epfd = s->evfd = -1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->owner = getpid();
	s->dev = st.st_dev;
	s->sock = sess_connect(path);
	if (s->sock < 0) {
		ret = s->sock;
		goto fail;
	}
	ret = sess_hello(s);
	if (ret)
		goto fail;
	ret = sess_pollset(s);
	if (ret)
		goto fail;
	*session = s;
	return 0;

fail:
	sess_free(s);
	return ret;
}

RDMAFS_EXPORT void rdmafs_session_close(struct rdmafs_session *session)
{
	RCL_KEEP_ERRNO;

	if (session)
		sess_free(session);
}

RDMAFS_EXPORT int rdmafs_session_fd(const struct rdmafs_session *session)
{
	if (!session)
		return -EINVAL;
	return session->epfd;
}
