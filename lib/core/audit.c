// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The audit trail's sinks and formats: see audit.h for the formats.
 *
 * Both formats are built into a caller's buffer by one writer that keeps
 * counting past the end, so "does not fit" is known without a second
 * pass.  audit_log() then tries the whole event and, only if that is too
 * long, fixed levels of cutting, the least useful text (the command line)
 * first.  The last level always fits, so an event is never lost to its
 * own size.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "core/audit.h"
#include "core/audit_journal.h"
#include "core/jsonesc.h"
#include "core/range.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct audit {
	pthread_mutex_t lock; /* guards fd against audit_reopen() */
	int fd; /* the JSON file; -1 without one */
	char *path; /* absolute, for audit_reopen(); NULL without a file */
	int flags;
	/* events to journald (audit_journal.h) in syslog's place */
	bool journal;
};

/* How much of an event to show, in raw bytes and pins. */
struct limits {
	size_t str_max; /* event, op, path, comm, exe */
	size_t cmdline_max;
	size_t npins_max;
	size_t nholders_max; /* per group */
};

/*
 * Tried in order until the event fits.  The last level bounds a JSON
 * line to about 9 KiB and a text line to about 6 KiB (every byte escaped
 * to six resp. four; two holders per group, each with a why), under both
 * AUDIT_LINE_MAX and AUDIT_TEXT_MAX.
 */
static const struct limits levels[] = {
	{ SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX },
	{ SIZE_MAX, 256, SIZE_MAX, SIZE_MAX },
	{ 1024, 256, 64, 64 },
	{ 128, 64, 8, 2 },
};

struct out {
	char *buf;
	size_t size;
	/* bytes produced so far, even those that did not fit */
	size_t len;
	bool cut; /* something was left out */
	const struct limits *lim;
};

static void put(struct out *o, const char *s, size_t n)
{
	/* Keep a byte for the NUL; once something misses, all later do. */
	if (o->len < o->size && n < o->size - o->len)
		memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void putc_(struct out *o, char c)
{
	put(o, &c, 1);
}

static void putf(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void putf(struct out *o, const char *fmt, ...)
{
	char tmp[96];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	/* Only numbers and short names come here; never expect a cut. */
	if (n < 0 || (size_t)n >= sizeof(tmp))
		n = 0;
	put(o, tmp, n);
}

static int finish(struct out *o)
{
	if (o->len >= o->size || o->len > INT32_MAX)
		return -ENOSPC;
	o->buf[o->len] = '\0';
	return (int)o->len;
}

/*
 * How many of the @n bytes at @s to show within @max; backs off to the
 * start of a UTF-8 sequence rather than split one into stray bytes.
 */
static size_t shown(struct out *o, const char *s, size_t n, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t k = max;

	if (n <= max)
		return n;
	o->cut = true;
	while (k > 0 && max - k < 3 && (u[k] & 0xc0) == 0x80)
		k--;
	return (u[k] & 0xc0) == 0x80 ? max : k;
}

static void put_out(void *ctx, const char *s, size_t n)
{
	put(ctx, s, n);
}

static void json_str(struct out *o, const char *s, size_t n)
{
	jesc_string(s, n, put_out, o);
}

/* @s cut to @max bytes, or null when @s is NULL or unreadable. */
static void json_field(struct out *o, const char *s, bool ok, size_t max)
{
	size_t n;

	if (!s || !ok) {
		puts_(o, "null");
		return;
	}
	n = strlen(s);
	json_str(o, s, shown(o, s, n, max));
}

/* Printable ASCII and well-formed UTF-8 characters pass; not C1 controls. */
static void text_str(struct out *o, const char *s, size_t n, bool keep_spaces)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < n) {
		if ((u[i] > ' ' && u[i] < 0x7f && u[i] != '\\') ||
		    (u[i] == ' ' && keep_spaces)) {
			putc_(o, s[i++]);
			continue;
		}
		k = u[i] >= 0x80 ? jesc_utf8_len(u + i, n - i) : 0;
		if (k && !(u[i] == 0xc2 && u[i + 1] < 0xa0)) {
			put(o, s + i, k);
			i += k;
			continue;
		}
		putf(o, "\\%03o", u[i]);
		i++;
	}
}

static void text_field(struct out *o, const char *s, bool ok, size_t max,
		       bool keep_spaces)
{
	size_t n, k;

	if (!s || !ok) {
		putc_(o, '?');
		return;
	}
	n = strlen(s);
	k = shown(o, s, n, max);
	text_str(o, s, k, keep_spaces);
	if (k < n)
		puts_(o, "...");
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void json_time(struct out *o, int64_t ns)
{
	int64_t rem;
	struct tm tm;
	time_t t;

	if (!ns)
		ns = now_ns();
	t = ns / 1000000000;
	rem = ns % 1000000000;
	if (rem < 0) {
		rem += 1000000000;
		t--;
	}
	if (!gmtime_r(&t, &tm)) {
		puts_(o, "null");
		return;
	}
	putf(o, "\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"", tm.tm_year + 1900,
	     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	     (int)(rem / 1000000));
}

static void put_range(struct out *o, const struct audit_pin *p)
{
	struct rng r = { .off = p->off, .len = p->len, .all = p->all };
	char tmp[RNG_FMT_MAX];
	int n;

	n = rng_format(&r, tmp, sizeof(tmp));
	if (n > 0)
		put(o, tmp, n);
}

static size_t shown_pins(struct out *o, size_t npins)
{
	if (npins <= o->lim->npins_max)
		return npins;
	o->cut = true;
	return o->lim->npins_max;
}

static const char *errname(int err, char *buf, size_t size)
{
	return err ? audit_errname(err, buf, size) : NULL;
}

static bool ident_cut(const struct ident *id)
{
	return id->flags & (IDENT_EXE_TRUNC | IDENT_CMDLINE_TRUNC);
}

/* Whether @h is listed in group @g ("told" is group WAITING's slot). */
static bool in_group(const struct audit_holder *h, int g)
{
	return g == AUDIT_HOLDER_WAITING ? h->told : (int)h->fate == g;
}

/* A comm is at most 15 bytes and NUL-terminated, or not trusted. */
static const char *holder_comm(const struct audit_holder *h)
{
	return h->comm[0] && memchr(h->comm, '\0', sizeof(h->comm)) ? h->comm
								    : NULL;
}

static void json_holders(struct out *o, const struct audit_event *ev)
{
	size_t i, k, max = o->lim->nholders_max;
	int g;

	puts_(o, ",\"holders\":{");
	for (g = 0; g < AUDIT_NFATES; g++) {
		putf(o, "%s\"%s\":[", g ? "," : "", audit_holder_group(g));
		for (i = k = 0; i < ev->nholders; i++) {
			const struct audit_holder *h = &ev->holders[i];

			if (!in_group(h, g))
				continue;
			if (k++ == max) {
				o->cut = true;
				break;
			}
			putf(o, "%s{\"pid\":%" PRId32 ",\"comm\":",
			     k > 1 ? "," : "", h->pid);
			json_field(o, holder_comm(h), true, o->lim->str_max);
			if (g == AUDIT_HOLDER_KILLED) {
				puts_(o, ",\"why\":");
				json_field(o, h->why, true, o->lim->str_max);
			}
			putc_(o, '}');
		}
		putc_(o, ']');
	}
	putc_(o, '}');
}

static void text_holders(struct out *o, const struct audit_event *ev)
{
	size_t i, k, max = o->lim->nholders_max;
	int g;

	for (g = 0; g < AUDIT_NFATES; g++) {
		for (i = k = 0; i < ev->nholders; i++) {
			const struct audit_holder *h = &ev->holders[i];

			if (!in_group(h, g))
				continue;
			if (k++ == max) {
				o->cut = true;
				puts_(o, ",...");
				break;
			}
			if (k == 1)
				putf(o, " %s=", audit_holder_group(g));
			else
				putc_(o, ',');
			putf(o, "%" PRId32 "(comm=", h->pid);
			text_field(o, holder_comm(h), true, o->lim->str_max,
				   false);
			if (g == AUDIT_HOLDER_KILLED) {
				puts_(o, ",why=");
				text_field(o, h->why, true, o->lim->str_max,
					   false);
			}
			putc_(o, ')');
		}
	}
}

static int format_json(const struct audit_event *ev, char *buf, size_t size,
		       const struct limits *lim)
{
	struct out o = { .buf = buf, .size = size, .lim = lim };
	const struct ident *id = ev->process;
	const char *ename;
	char ebuf[16];
	size_t i, n;

	puts_(&o, "{\"time\":");
	json_time(&o, ev->time_ns);
	puts_(&o, ",\"event\":");
	json_field(&o, ev->event, true, lim->str_max);
	puts_(&o, ",\"op\":");
	json_field(&o, ev->op, true, lim->str_max);
	puts_(&o, ",\"path\":");
	json_field(&o, ev->path, true, lim->str_max);
	switch (ev->range) {
	case AUDIT_RANGE_SPAN:
		putf(&o, ",\"offset\":%" PRIu64 ",\"length\":%" PRIu64,
		     ev->offset, ev->length);
		break;
	case AUDIT_RANGE_ALL:
		puts_(&o, ",\"offset\":0,\"length\":null");
		break;
	default:
		puts_(&o, ",\"offset\":null,\"length\":null");
		break;
	}
	ename = errname(ev->err, ebuf, sizeof(ebuf));
	puts_(&o, ",\"errno\":");
	json_field(&o, ename, true, SIZE_MAX);
	if (ev->waited_ms >= 0)
		putf(&o, ",\"waited_ms\":%" PRId64, ev->waited_ms);
	else
		puts_(&o, ",\"waited_ms\":null");

	puts_(&o, ",\"pins\":[");
	n = shown_pins(&o, ev->npins);
	for (i = 0; i < n; i++) {
		const struct audit_pin *p = &ev->pins[i];

		puts_(&o, i ? ",{\"range\":\"" : "{\"range\":\"");
		put_range(&o, p);
		putf(&o, "\",\"owner\":%" PRIu32 ",\"holder\":", p->owner);
		if (p->holder > 0)
			putf(&o, "%" PRId32 "}", p->holder);
		else
			puts_(&o, "null}");
	}
	putc_(&o, ']');

	puts_(&o, ",\"process\":");
	if (id) {
		putf(&o, "{\"pid\":%d,\"tgid\":", (int)id->pid);
		if (id->flags & IDENT_TGID)
			putf(&o, "%d", (int)id->tgid);
		else
			puts_(&o, "null");
		putf(&o, ",\"uid\":%u,\"gid\":%u,\"comm\":", (unsigned)id->uid,
		     (unsigned)id->gid);
		json_field(&o, id->comm, id->flags & IDENT_COMM, lim->str_max);
		puts_(&o, ",\"exe\":");
		json_field(&o, id->exe, id->flags & IDENT_EXE, lim->str_max);
		puts_(&o, ",\"cmdline\":");
		json_field(&o, id->cmdline, id->flags & IDENT_CMDLINE,
			   lim->cmdline_max);
		putc_(&o, '}');
		if (ident_cut(id))
			o.cut = true;
	} else {
		puts_(&o, "null");
	}
	if (ev->nholders)
		json_holders(&o, ev);
	if (ev->reason) {
		puts_(&o, ",\"reason\":");
		json_field(&o, ev->reason, true, lim->str_max);
	}
	if (o.cut)
		puts_(&o, ",\"truncated\":true");
	putc_(&o, '}');
	return finish(&o);
}

static int format_text(const struct audit_event *ev, char *buf, size_t size,
		       const struct limits *lim)
{
	struct out o = { .buf = buf, .size = size, .lim = lim };
	const struct ident *id = ev->process;
	const char *ename;
	char ebuf[16];
	size_t i, n;

	text_field(&o, ev->event, true, lim->str_max, false);
	putc_(&o, ' ');
	text_field(&o, ev->op, true, lim->str_max, false);
	if (ev->path) {
		puts_(&o, " path=");
		text_field(&o, ev->path, true, lim->str_max, false);
	}
	if (ev->range == AUDIT_RANGE_SPAN)
		putf(&o, " off=%" PRIu64 " len=%" PRIu64, ev->offset,
		     ev->length);
	else if (ev->range == AUDIT_RANGE_ALL)
		puts_(&o, " off=0 len=all");
	ename = errname(ev->err, ebuf, sizeof(ebuf));
	if (ename) {
		puts_(&o, " err=");
		puts_(&o, ename);
	}
	if (ev->waited_ms >= 0)
		putf(&o, " waited_ms=%" PRId64, ev->waited_ms);

	n = shown_pins(&o, ev->npins);
	for (i = 0; i < n; i++) {
		const struct audit_pin *p = &ev->pins[i];

		puts_(&o, i ? "," : " pins=");
		put_range(&o, p);
		putf(&o, "(owner=%" PRIu32 ",holder=", p->owner);
		if (p->holder > 0)
			putf(&o, "%" PRId32 ")", p->holder);
		else
			puts_(&o, "-)");
	}
	if (n < ev->npins)
		putf(&o, "%s...(%zu more)", n ? "," : " pins=", ev->npins - n);
	text_holders(&o, ev);
	if (ev->reason) {
		puts_(&o, " reason=");
		text_field(&o, ev->reason, true, lim->str_max, false);
	}

	if (id) {
		putf(&o, " by pid=%d tgid=", (int)id->pid);
		if (id->flags & IDENT_TGID)
			putf(&o, "%d", (int)id->tgid);
		else
			putc_(&o, '?');
		putf(&o, " uid=%u gid=%u comm=", (unsigned)id->uid,
		     (unsigned)id->gid);
		text_field(&o, id->comm, id->flags & IDENT_COMM, lim->str_max,
			   false);
		puts_(&o, " exe=");
		text_field(&o, id->exe, id->flags & IDENT_EXE, lim->str_max,
			   false);
		/* Last, so that it may keep its spaces: it runs to the end. */
		puts_(&o, " cmdline=");
		text_field(&o, id->cmdline, id->flags & IDENT_CMDLINE,
			   lim->cmdline_max, true);
	}
	return finish(&o);
}

int audit_format_json(const struct audit_event *ev, char *buf, size_t size)
{
	return format_json(ev, buf, size, &levels[0]);
}

int audit_format_text(const struct audit_event *ev, char *buf, size_t size)
{
	return format_text(ev, buf, size, &levels[0]);
}

typedef int (*format_fn)(const struct audit_event *ev, char *buf, size_t size,
			 const struct limits *lim);

static int format_fitted(format_fn fn, const struct audit_event *ev, char *buf,
			 size_t size)
{
	size_t i;
	int n = -ENOSPC;

	for (i = 0; i < ARRAY_SIZE(levels) && n == -ENOSPC; i++)
		n = fn(ev, buf, size, &levels[i]);
	return n;
}

#define E(name) [name] = #name
static const char *const errno_names[] = {
	E(EPERM),      E(ENOENT),	E(ESRCH),     E(EINTR),
	E(EIO),	       E(ENXIO),	E(E2BIG),     E(ENOEXEC),
	E(EBADF),      E(ECHILD),	E(EAGAIN),    E(ENOMEM),
	E(EACCES),     E(EFAULT),	E(ENOTBLK),   E(EBUSY),
	E(EEXIST),     E(EXDEV),	E(ENODEV),    E(ENOTDIR),
	E(EISDIR),     E(EINVAL),	E(ENFILE),    E(EMFILE),
	E(ENOTTY),     E(ETXTBSY),	E(EFBIG),     E(ENOSPC),
	E(ESPIPE),     E(EROFS),	E(EMLINK),    E(EPIPE),
	E(EDOM),       E(ERANGE),	E(EDEADLK),   E(ENAMETOOLONG),
	E(ENOLCK),     E(ENOSYS),	E(ENOTEMPTY), E(ELOOP),
	E(ENOMSG),     E(ENODATA),	E(ETIME),     E(ENOLINK),
	E(EPROTO),     E(EBADMSG),	E(EOVERFLOW), E(EBADFD),
	E(EILSEQ),     E(EUSERS),	E(ENOTSOCK),  E(EMSGSIZE),
	E(EOPNOTSUPP), E(ENOBUFS),	E(ENOTCONN),  E(ESHUTDOWN),
	E(ETIMEDOUT),  E(ECONNREFUSED), E(EALREADY),  E(EINPROGRESS),
	E(ESTALE),     E(EUCLEAN),	E(EREMOTEIO), E(EDQUOT),
	E(ENOMEDIUM),  E(ECANCELED),	E(ENOKEY),    E(EKEYEXPIRED),
	E(EOWNERDEAD), E(EHWPOISON),
};
#undef E

const char *audit_errname(int err, char *buf, size_t size)
{
	/* Widened first: -INT_MIN does not fit in an int. */
	long long e = err < 0 ? -(long long)err : err;

	if (e < (long long)ARRAY_SIZE(errno_names) && errno_names[e])
		return errno_names[e];
	if (size)
		snprintf(buf, size, "E%lld", e);
	return buf;
}

/* Where a layout change met a pin: what an administrator looks for. */
static int priority(const char *event)
{
	static const char *const warn[] = { "refuse", "timeout", "break",
					    "audit", "kill" };
	size_t i;

	for (i = 0; event && i < ARRAY_SIZE(warn); i++) {
		if (!strcmp(event, warn[i]))
			return LOG_WARNING;
	}
	return LOG_INFO;
}

static int write_all(int fd, const char *buf, size_t n)
{
	ssize_t r;

	/*
	 * One write() does it: an O_APPEND write to a regular file is
	 * placed and copied under the inode lock, whole.  The loop only
	 * finishes a write that a full disk or a signal cut short.
	 */
	while (n) {
		r = write(fd, buf, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO;
		buf += r;
		n -= r;
	}
	return 0;
}

static int open_log(const char *path)
{
	/*
	 * O_NOFOLLOW: whoever can write the log's directory must not point
	 * the daemon's (root's) appends at another file.  O_NONBLOCK: a
	 * FIFO without a reader fails (ENXIO) instead of hanging the open;
	 * only a regular file is taken, and blocking writes are restored.
	 */
	int fd, err = audit_unsafe_dir(path, NULL, 0);
	struct stat st;

	if (err)
		return err;
	fd = open(path,
		  O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY |
			  O_NOFOLLOW | O_NONBLOCK,
		  0640);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -EINVAL;
		goto out_close;
	}
	/*
	 * The daemon's own, alone: a hard link would append root's lines to
	 * a file someone else chose, a file of another user or one others
	 * can write would let them forge or erase the trail.
	 */
	if (st.st_uid != geteuid() || st.st_nlink != 1 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		err = -EPERM;
		goto out_close;
	}
	if (fcntl(fd, F_SETFL, O_APPEND) < 0) {
		err = -errno;
		goto out_close;
	}
	return fd;

out_close:
	close(fd);
	return err;
}

static char *absolute(const char *path)
{
	char *cwd, *abs;
	int n;

	if (path[0] == '/')
		return strdup(path);
	cwd = getcwd(NULL, 0);
	if (!cwd)
		return NULL;
	n = asprintf(&abs, "%s/%s", cwd, path);
	free(cwd);
	if (n < 0) {
		errno = ENOMEM;
		return NULL;
	}
	return abs;
}

struct audit *audit_open(const char *path, int flags)
{
	struct audit *a;
	int err;

	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->fd = -1;
	a->flags = flags;
	err = pthread_mutex_init(&a->lock, NULL);
	if (err)
		goto out_free;
	if (path) {
		a->path = absolute(path);
		if (!a->path) {
			err = errno;
			goto out_mutex;
		}
		a->fd = open_log(a->path);
		if (a->fd < 0) {
			err = -a->fd;
			goto out_path;
		}
	}
	/*
	 * openlog() either way: the daemon's own messages go to syslog.
	 * The events go to journald instead where it runs (never both:
	 * journald also takes syslog's socket, and would show each twice).
	 */
	if (!(flags & AUDIT_NO_SYSLOG)) {
		openlog("rdmafs", LOG_PID, LOG_DAEMON);
		a->journal = audit_journal_running(AUDIT_JOURNAL_SOCKET);
	}
	return a;

out_path:
	free(a->path);
out_mutex:
	pthread_mutex_destroy(&a->lock);
out_free:
	free(a);
	errno = err;
	return NULL;
}

int audit_reopen(struct audit *a)
{
	int fd, old;

	if (!a || !a->path)
		return 0;
	fd = open_log(a->path);
	if (fd < 0)
		return fd;
	pthread_mutex_lock(&a->lock);
	old = a->fd;
	a->fd = fd;
	pthread_mutex_unlock(&a->lock);
	close(old);
	return 0;
}

void audit_close(struct audit *a)
{
	if (!a)
		return;
	if (!(a->flags & AUDIT_NO_SYSLOG))
		closelog();
	if (a->fd >= 0)
		close(a->fd);
	free(a->path);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

static void log_text(struct audit *a, const struct audit_event *ev)
{
	static const char prefix[] = "rdmafs: audit: ";
	const size_t plen = sizeof(prefix) - 1;
	char line[sizeof(prefix) + AUDIT_TEXT_MAX];
	ssize_t r;
	int n;

	n = format_fitted(format_text, ev, line + plen, AUDIT_TEXT_MAX);
	if (n < 0)
		return;
	/*
	 * Never as the format: the line holds names users chose.  Should
	 * journald have gone away since, syslog rather than nothing.
	 */
	if (!(a->flags & AUDIT_NO_SYSLOG) &&
	    (!a->journal ||
	     audit_journal_send(ev, line + plen, n, priority(ev->event)) < 0))
		syslog(priority(ev->event), "%s", line + plen);
	if (a->flags & AUDIT_STDERR) {
		memcpy(line, prefix, plen);
		line[plen + n] = '\n';
		do {
			r = write(STDERR_FILENO, line, plen + n + 1);
		} while (r < 0 && errno == EINTR);
	}
}

int audit_log(struct audit *a, const struct audit_event *ev)
{
	struct audit_event e;
	char *buf;
	int n, err;

	if (!a)
		return 0;
	e = *ev;
	if (!e.time_ns)
		e.time_ns = now_ns();
	if (!(a->flags & AUDIT_NO_SYSLOG) || (a->flags & AUDIT_STDERR))
		log_text(a, &e);
	if (!a->path)
		return 0;

	/* Too big for a worker thread's stack, whatever its size is set to. */
	buf = malloc(AUDIT_LINE_MAX);
	if (!buf)
		return -ENOMEM;
	/* Room for the newline where the NUL goes. */
	n = format_fitted(format_json, &e, buf, AUDIT_LINE_MAX);
	if (n < 0) {
		free(buf);
		return n;
	}
	buf[n++] = '\n';
	pthread_mutex_lock(&a->lock);
	err = write_all(a->fd, buf, n);
	pthread_mutex_unlock(&a->lock);
	free(buf);
	return err;
}
