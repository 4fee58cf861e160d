// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rdmafs-mr: the out-of-band exchange over TCP, one text line each way
 * (readable in a packet capture and by hand with nc):
 *
 *   writer -> target: "rdmafs-mr 1 lid=L qpn=Q psn=P gid=G"
 *   target -> writer: the same, then " addr=0xA rkey=0xK len=N"
 *   writer -> target: "done" once its writes completed
 *   target -> writer: "ok" once the data is synced to the file
 *
 * G is the GID as an IPv6 address (:: on InfiniBand without GRH).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rdmafs-mr.h"

#define WIRE_MAX 512

const char *wire_gid(const union ibv_gid *gid, char *buf, size_t size)
{
	if (!inet_ntop(AF_INET6, gid->raw, buf, (socklen_t)size))
		snprintf(buf, size, "?");
	return buf;
}

/* The target listens on loopback only: the exchange is not authenticated. */
int wire_listen(int port, int *fd)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int one = 1;

	*fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*fd < 0) {
		fprintf(stderr, PROG ": Couldn't create a socket: %s\n",
			strerror(errno));
		return MR_FAILED;
	}
	setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(*fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(*fd, 1) < 0) {
		fprintf(stderr, PROG ": Couldn't listen on 127.0.0.1:%d: %s\n",
			port, strerror(errno));
		return MR_FAILED;
	}
	return MR_OK;
}

int wire_connect(const char *hostport, int *fd)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *res, *ai;
	char host[256];
	const char *colon = strrchr(hostport, ':');
	size_t n;
	int ret;

	n = colon ? (size_t)(colon - hostport) : 0;
	if (!colon || n == 0 || n >= sizeof(host) || !colon[1]) {
		fprintf(stderr, PROG ": Couldn't parse '%s': want HOST:PORT\n",
			hostport);
		return MR_USAGE;
	}
	memcpy(host, hostport, n);
	host[n] = '\0';
	ret = getaddrinfo(host, colon + 1, &hints, &res);
	if (ret) {
		fprintf(stderr, PROG ": Couldn't resolve %s: %s\n", hostport,
			gai_strerror(ret));
		return MR_FAILED;
	}
	*fd = -1;
	for (ai = res; ai; ai = ai->ai_next) {
		*fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			     ai->ai_protocol);
		if (*fd < 0)
			continue;
		if (!connect(*fd, ai->ai_addr, ai->ai_addrlen))
			break;
		ret = errno;
		close(*fd);
		*fd = -1;
		errno = ret;
	}
	freeaddrinfo(res);
	if (*fd < 0) {
		fprintf(stderr, PROG ": Couldn't connect to %s: %s\n", hostport,
			strerror(errno));
		return MR_FAILED;
	}
	return MR_OK;
}

int wire_send_line(int fd, const char *line)
{
	size_t len = strlen(line), done = 0;
	ssize_t n;

	while (done < len) {
		n = send(fd, line + done, len - done, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr,
				PROG ": Couldn't send to the peer: %s\n",
				strerror(errno));
			return MR_FAILED;
		}
		done += (size_t)n;
	}
	return MR_OK;
}

/* Byte by byte: the lines are short, and nothing past one is consumed. */
int wire_recv_line(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	char c;

	for (;;) {
		n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr,
				PROG ": Couldn't read from the peer: %s\n",
				strerror(errno));
			return -1;
		}
		if (n == 0) {
			buf[len] = '\0';
			return 0;
		}
		if (c == '\n')
			break;
		if (len + 1 >= size) {
			fprintf(stderr, PROG ": Couldn't read from the peer: "
					     "a line too long\n");
			return -1;
		}
		buf[len++] = c;
	}
	buf[len] = '\0';
	return 1;
}

int wire_send_peer(int fd, const struct mr_peer *p)
{
	char line[WIRE_MAX], gid[INET6_ADDRSTRLEN];
	int n;

	n = snprintf(line, sizeof(line),
		     "rdmafs-mr 1 lid=%u qpn=%" PRIu32 " psn=%" PRIu32
		     " gid=%s",
		     (unsigned int)p->lid, p->qpn, p->psn,
		     wire_gid(&p->gid, gid, sizeof(gid)));
	if (p->len)
		n += snprintf(line + n, sizeof(line) - (size_t)n,
			      " addr=0x%" PRIx64 " rkey=0x%" PRIx32
			      " len=%" PRIu64,
			      p->addr, p->rkey, p->len);
	snprintf(line + n, sizeof(line) - (size_t)n, "\n");
	return wire_send_line(fd, line);
}

int wire_recv_peer(int fd, struct mr_peer *p)
{
	char line[WIRE_MAX], gid[WIRE_MAX];
	unsigned int lid;
	int ret, n = 0;

	ret = wire_recv_line(fd, line, sizeof(line));
	if (ret < 0)
		return MR_FAILED;
	memset(p, 0, sizeof(*p));
	if (ret == 0 ||
	    sscanf(line,
		   "rdmafs-mr 1 lid=%u qpn=%" SCNu32 " psn=%" SCNu32
		   " gid=%511s%n",
		   &lid, &p->qpn, &p->psn, gid, &n) != 4 ||
	    lid > UINT16_MAX || inet_pton(AF_INET6, gid, p->gid.raw) != 1)
		goto bad;
	p->lid = (uint16_t)lid;
	if (line[n] &&
	    sscanf(line + n,
		   " addr=0x%" SCNx64 " rkey=0x%" SCNx32 " len=%" SCNu64,
		   &p->addr, &p->rkey, &p->len) != 3)
		goto bad;
	return MR_OK;
bad:
	fprintf(stderr, PROG ": Couldn't understand the peer: '%.80s'\n",
		ret ? line : "(nothing)");
	return MR_FAILED;
}
