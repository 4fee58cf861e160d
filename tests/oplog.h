/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Operation logs for differential mount tests.
 *
 * A passthrough is right when it does what the backing filesystem does.
 * The tests therefore run one operation sequence twice, once on a
 * directory of the backing filesystem and once on a directory of the
 * mount, record every result (return value or errno name, and the
 * attributes and contents that matter) as text, and compare the two
 * texts.  The expected answers are the backing filesystem's own, so the
 * tests stay right on XFS, ext4 or tmpfs alike.
 *
 * Everything is static inline so that each test program takes what it
 * uses without unused-function warnings.
 */
#ifndef RDMAFS_TEST_OPLOG_H
#define RDMAFS_TEST_OPLOG_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct oplog {
	char *buf;
	size_t len, cap;
	const char *base; /* the directory the sequence runs in */
	char path[8][PATH_MAX]; /* rotating results of oplog_path() */
	unsigned int next;
};

static inline void oplog_init(struct oplog *l, const char *base)
{
	memset(l, 0, sizeof(*l));
	l->base = base;
}

static inline void oplog_free(struct oplog *l)
{
	free(l->buf);
	l->buf = NULL;
	l->len = l->cap = 0;
}

static inline __attribute__((format(printf, 2, 3))) void
oplog_add(struct oplog *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(l->buf ? l->buf + l->len : NULL,
			      l->buf ? l->cap - l->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			abort();
		if (l->buf && l->len + (size_t)n + 2 <= l->cap)
			break;
		l->cap = (l->cap + (size_t)n + 2) * 2;
		l->buf = realloc(l->buf, l->cap);
		if (!l->buf)
			abort();
	}
	l->len += (size_t)n;
	l->buf[l->len++] = '\n';
	l->buf[l->len] = '\0';
}

/* @rel inside the log's base directory; valid for the next 7 calls. */
static inline const char *oplog_path(struct oplog *l, const char *rel)
{
	char *p = l->path[l->next++ & 7];

	if (snprintf(p, PATH_MAX, "%s/%s", l->base, rel) >= PATH_MAX)
		abort();
	return p;
}

static inline const char *errname(int err)
{
	const char *s = strerrorname_np(err);

	return s ? s : "E?";
}

static inline long oplog_res(struct oplog *l, const char *what, long ret,
			     int err, bool value)
{
	if (ret < 0)
		oplog_add(l, "%s = -1 %s", what, errname(err));
	else if (value)
		oplog_add(l, "%s = %ld", what, ret);
	else
		oplog_add(l, "%s = ok", what);
	errno = err;
	return ret;
}

/*
 * OP() records "expr = N" or "expr = -1 ENAME"; OPOK() records only
 * success, for results that legitimately differ (descriptor numbers).
 * Both evaluate to the result, with errno as the call left it.
 */
#define OP(l, expr)                                     \
	({                                              \
		long r_;                                \
		errno = 0;                              \
		r_ = (long)(expr);                      \
		oplog_res((l), #expr, r_, errno, true); \
	})
#define OPOK(l, expr)                                    \
	({                                               \
		long r_;                                 \
		errno = 0;                               \
		r_ = (long)(expr);                       \
		oplog_res((l), #expr, r_, errno, false); \
	})

/* Short alias for paths in a sequence: needs a 'struct oplog *l' in scope. */
#define P(rel) oplog_path(l, rel)

/* What to record of a stat: the fields that must agree. */
enum {
	ST_BLOCKS = 1, /* st_blocks */
	ST_TIMES = 2, /* mtime and ctime-is-set */
	ST_OWNER = 4, /* uid and gid */
};

static inline void oplog_st(struct oplog *l, const char *what,
			    const struct stat *st, int fields)
{
	char extra[160] = "";
	size_t n = 0;

	if (fields & ST_BLOCKS)
		n += snprintf(extra + n, sizeof(extra) - n, " blocks=%lld",
			      (long long)st->st_blocks);
	if (fields & ST_TIMES)
		n += snprintf(extra + n, sizeof(extra) - n, " mtime=%lld.%09ld",
			      (long long)st->st_mtim.tv_sec,
			      st->st_mtim.tv_nsec);
	if (fields & ST_OWNER)
		snprintf(extra + n, sizeof(extra) - n, " uid=%u gid=%u",
			 st->st_uid, st->st_gid);
	oplog_add(l, "%s: mode=%07o nlink=%lu size=%lld rdev=%u:%u%s", what,
		  st->st_mode, (unsigned long)st->st_nlink,
		  S_ISDIR(st->st_mode) ? -1LL : (long long)st->st_size,
		  major(st->st_rdev), minor(st->st_rdev), extra);
}

/* lstat of @rel; directory sizes are left out, they are not portable. */
static inline void oplog_lstat(struct oplog *l, const char *rel, int fields)
{
	struct stat st;
	char what[PATH_MAX + 16];

	snprintf(what, sizeof(what), "lstat %s", rel);
	if (lstat(oplog_path(l, rel), &st) < 0) {
		oplog_add(l, "%s = -1 %s", what, errname(errno));
		return;
	}
	oplog_st(l, what, &st, fields);
}

static inline void oplog_fstat(struct oplog *l, const char *tag, int fd,
			       int fields)
{
	struct stat st;
	char what[64];

	snprintf(what, sizeof(what), "fstat %s", tag);
	if (fstat(fd, &st) < 0) {
		oplog_add(l, "%s = -1 %s", what, errname(errno));
		return;
	}
	oplog_st(l, what, &st, fields);
}

static inline uint64_t fnv1a(const void *p, size_t n, uint64_t h)
{
	const unsigned char *c = p;

	while (n--)
		h = (h ^ *c++) * 0x100000001b3ull;
	return h;
}

/* Size and a hash of the contents of @rel, read from the start. */
static inline void oplog_content(struct oplog *l, const char *rel)
{
	uint64_t h = 0xcbf29ce484222325ull;
	char buf[65536];
	long long size = 0;
	ssize_t n;
	int fd = open(oplog_path(l, rel), O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		oplog_add(l, "content %s = -1 %s", rel, errname(errno));
		return;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		h = fnv1a(buf, (size_t)n, h);
		size += n;
	}
	if (n < 0)
		oplog_add(l, "content %s: read -1 %s", rel, errname(errno));
	else
		oplog_add(l, "content %s: %lld bytes hash %016llx", rel, size,
			  (unsigned long long)h);
	close(fd);
}

static int oplog_cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names and types in directory @rel. */
static inline void oplog_ls(struct oplog *l, const char *rel)
{
	DIR *d = opendir(oplog_path(l, rel));
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, i;

	if (!d) {
		oplog_add(l, "ls %s = -1 %s", rel, errname(errno));
		return;
	}
	while ((de = readdir(d))) {
		names = realloc(names, (n + 1) * sizeof(*names));
		if (!names ||
		    asprintf(&names[n], "%s/%u", de->d_name, de->d_type) < 0)
			abort();
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), oplog_cmp_names);
	oplog_add(l, "ls %s: %zu entries", rel, n);
	for (i = 0; i < n; i++) {
		oplog_add(l, "  %s", names[i]);
		free(names[i]);
	}
	free(names);
}

/* @s with every occurrence of the base directory replaced by "$D". */
static inline void oplog_unbase(const struct oplog *l, const char *s, char *out,
				size_t size)
{
	size_t blen = strlen(l->base), n = 0;

	while (*s && n + 3 < size) {
		if (blen && strncmp(s, l->base, blen) == 0) {
			memcpy(out + n, "$D", 2);
			n += 2;
			s += blen;
		} else {
			out[n++] = *s++;
		}
	}
	out[n] = '\0';
}

/* Runs @cmd with the shell and records it (base as "$D") and its status. */
static inline int oplog_sh(struct oplog *l, const char *cmd)
{
	char shown[2 * PATH_MAX];
	int st = system(cmd);

	st = st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
	oplog_unbase(l, cmd, shown, sizeof(shown));
	oplog_add(l, "$ %s = %d", shown, st);
	return st;
}

/*
 * Compares two logs line by line.  Returns true when equal; otherwise
 * describes the first difference in @msg.
 */
static inline bool oplog_same(const struct oplog *a, const struct oplog *b,
			      char *msg, size_t size)
{
	const char *p = a->buf ? a->buf : "", *q = b->buf ? b->buf : "";
	int line = 1;

	while (*p && *p == *q) {
		if (*p == '\n')
			line++;
		p++;
		q++;
	}
	if (!*p && !*q)
		return true;
	while (p > (a->buf ? a->buf : "") && p[-1] != '\n' &&
	       q > (b->buf ? b->buf : "") && q[-1] != '\n') {
		p--;
		q--;
	}
	snprintf(msg, size, "line %d differs:\n  native: %.*s\n  mount:  %.*s",
		 line, (int)strcspn(p, "\n"), p, (int)strcspn(q, "\n"), q);
	return false;
}

#endif
