// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The journald sink; see audit_journal.h for the fields.  Sent with
 * libsystemd's sd_journal_sendv(), which speaks journald's native
 * protocol (a value holding a newline goes length-prefixed, so no name
 * can forge a field; a large entry goes through a sealed memfd).
 * Without libsystemd (-Dsystemd=disabled) the events go to syslog.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/audit_journal.h"

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-journal.h>

/* Fields of one entry, at most (audit_journal.h lists them). */
#define NFIELDS 24
/* MESSAGE, four long values, and the short fields with room to spare. */
#define ENTRY_MAX (AUDIT_TEXT_MAX + 4 * AUDIT_JOURNAL_VALUE_MAX + 4096)

struct entry {
	char *buf; /* every "NAME=value", back to back */
	size_t len;
	struct iovec iov[NFIELDS];
	int n;
};

static void field(struct entry *e, const char *name, const char *val, size_t n,
		  size_t max)
{
	size_t nl = strlen(name);

	if (n > max)
		n = max;
	/* Sized for the longest entry: never cut, never over. */
	if (e->n == NFIELDS || nl + 1 + n > ENTRY_MAX - e->len)
		return;
	e->iov[e->n].iov_base = e->buf + e->len;
	e->iov[e->n].iov_len = nl + 1 + n;
	e->n++;
	memcpy(e->buf + e->len, name, nl);
	e->buf[e->len + nl] = '=';
	memcpy(e->buf + e->len + nl + 1, val, n);
	e->len += nl + 1 + n;
}

static void field_str(struct entry *e, const char *name, const char *val)
{
	if (val)
		field(e, name, val, strlen(val), AUDIT_JOURNAL_VALUE_MAX);
}

static void field_fmt(struct entry *e, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void field_fmt(struct entry *e, const char *name, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(tmp))
		field(e, name, tmp, n, sizeof(tmp));
}

static void process_fields(struct entry *e, const struct ident *id)
{
	field_fmt(e, "RDMAFS_PID", "%d", (int)id->pid);
	if (id->flags & IDENT_TGID)
		field_fmt(e, "RDMAFS_TGID", "%d", (int)id->tgid);
	field_fmt(e, "RDMAFS_UID", "%u", (unsigned int)id->uid);
	field_fmt(e, "RDMAFS_GID", "%u", (unsigned int)id->gid);
	/* The arrays are NUL-terminated by identity.c; bounded anyway. */
	if (id->flags & IDENT_COMM)
		field(e, "RDMAFS_COMM", id->comm,
		      strnlen(id->comm, sizeof(id->comm)), sizeof(id->comm));
	if (id->flags & IDENT_EXE)
		field(e, "RDMAFS_EXE", id->exe,
		      strnlen(id->exe, sizeof(id->exe)),
		      AUDIT_JOURNAL_VALUE_MAX);
	if (id->flags & IDENT_CMDLINE)
		field(e, "RDMAFS_CMDLINE", id->cmdline,
		      strnlen(id->cmdline, sizeof(id->cmdline)),
		      AUDIT_JOURNAL_VALUE_MAX);
}

static void build(struct entry *e, const struct audit_event *ev,
		  const char *message, size_t mlen, int priority)
{
	char ebuf[16];

	field(e, "MESSAGE", message, mlen, AUDIT_TEXT_MAX);
	field_fmt(e, "PRIORITY", "%d", priority);
	field_str(e, "SYSLOG_IDENTIFIER", "rdmafs");
	field_str(e, "SYSLOG_FACILITY", "3");
	field_str(e, "RDMAFS_EVENT", ev->event);
	field_str(e, "RDMAFS_OP", ev->op);
	field_str(e, "RDMAFS_PATH", ev->path);
	if (ev->range == AUDIT_RANGE_SPAN) {
		field_fmt(e, "RDMAFS_OFFSET", "%" PRIu64, ev->offset);
		field_fmt(e, "RDMAFS_LENGTH", "%" PRIu64, ev->length);
	} else if (ev->range == AUDIT_RANGE_ALL) {
		field_str(e, "RDMAFS_OFFSET", "0");
		field_str(e, "RDMAFS_LENGTH", "all");
	}
	if (ev->err) {
		field_str(e, "RDMAFS_ERRNO",
			  audit_errname(ev->err, ebuf, sizeof(ebuf)));
		field_fmt(e, "ERRNO", "%d", ev->err < 0 ? -ev->err : ev->err);
	}
	if (ev->waited_ms >= 0)
		field_fmt(e, "RDMAFS_WAITED_MS", "%" PRId64, ev->waited_ms);
	field_fmt(e, "RDMAFS_NPINS", "%zu", ev->npins);
	if (ev->process)
		process_fields(e, ev->process);
	if (ev->reason)
		field(e, "RDMAFS_REASON", ev->reason, strlen(ev->reason), 1024);
}

bool audit_journal_running(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t n = strlen(path);
	int fd, r;

	if (n >= sizeof(sun.sun_path))
		return false;
	memcpy(sun.sun_path, path, n + 1);
	/*
	 * A socket left behind by a journald that is gone refuses the
	 * connection: then syslog, as without journald.
	 */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	return r == 0;
}

int audit_journal_send(const struct audit_event *ev, const char *message,
		       size_t mlen, int priority)
{
	struct entry e = { 0 };
	int err;

	/* Too big for a worker thread's stack, as audit_log()'s line. */
	e.buf = malloc(ENTRY_MAX);
	if (!e.buf)
		return -ENOMEM;
	build(&e, ev, message, mlen, priority);
	/* libsystemd's calls return -errno themselves. */
	err = sd_journal_sendv(e.iov, e.n);
	free(e.buf);
	return err < 0 ? err : 0;
}

#else /* !HAVE_LIBSYSTEMD */

bool audit_journal_running(const char *path)
{
	return false;
}

int audit_journal_send(const struct audit_event *ev, const char *message,
		       size_t mlen, int priority)
{
	return -ENOSYS;
}

#endif
