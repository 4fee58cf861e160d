// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The service manager's readiness protocol; see notify.h.
 *
 * With libsystemd (meson feature 'systemd'), sd_notify() does it: it
 * knows every address form systemd may hand out (newer ones speak over
 * vsock, for a manager outside a VM).  Without it, a few lines here
 * speak the documented AF_UNIX form (a path, or '@' for the abstract
 * namespace), which is all a host's systemd uses, so that a build
 * without libsystemd still works under Type=notify rather than needing
 * the library for one datagram.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>

int rfs_notify(const char *state)
{
	return sd_notify(0, state);
}

#else

int rfs_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t alen;
	size_t n;
	ssize_t r;
	int fd, err = 0;

	if (!path || !*path)
		return 0;
	n = strlen(path);
	if (path[0] != '/' && path[0] != '@')
		return -EAFNOSUPPORT; /* vsock: needs libsystemd */
	/* A path needs its NUL; an abstract name ('@' becomes NUL) none. */
	if (n + (path[0] == '/' ? 1 : 0) > sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, path, n);
	if (path[0] == '@')
		sun.sun_path[0] = '\0'; /* abstract: no NUL at the end */
	alen = offsetof(struct sockaddr_un, sun_path) + n +
	       (path[0] == '/' ? 1 : 0);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/*
	 * MSG_DONTWAIT: a manager whose queue is full must not stall the
	 * daemon; the state is advisory, the mount works without it.
	 */
	do
		r = sendto(fd, state, strlen(state),
			   MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&sun,
			   alen);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		err = -errno;
	close(fd);
	return err ? err : 1;
}
#endif
