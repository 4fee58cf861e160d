/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pin sets as the crash tests model them, and reading them back from a
 * mount: a file's pins and the mount-wide listing.  Header-only, like
 * pin-test-util.h: it uses Check's assertions.
 */
#ifndef RDMAFS_CRASH_TEST_UTIL_H
#define RDMAFS_CRASH_TEST_UTIL_H

#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/xattr.h>

#include "harness.h"

#define CT_PIN "user.rdmafs.pin"
#define CT_UNPIN "user.rdmafs.unpin"
#define CT_PINS "user.rdmafs.pins"
#define CT_STATUS "user.rdmafs.status"
#define CT_SET_MAX 64

/* One pin of root's: a byte range, or the whole file (`all`). */
struct rg {
	uint64_t off, len;
	bool all;
};

/* The pins of one file, sorted, without duplicates. */
struct rgset {
	size_t n;
	struct rg r[CT_SET_MAX];
};

static inline int rg_cmp(const void *pa, const void *pb)
{
	const struct rg *a = pa, *b = pb;

	if (a->all != b->all)
		return a->all ? -1 : 1;
	if (a->off != b->off)
		return a->off < b->off ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return 0;
}

static inline bool rg_eq(const struct rg *a, const struct rg *b)
{
	return rg_cmp(a, b) == 0;
}

static inline void set_add(struct rgset *s, struct rg r)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (rg_eq(&s->r[i], &r))
			return; /* pinning twice is pinning once */
	ck_assert_uint_lt(s->n, CT_SET_MAX);
	s->r[s->n++] = r;
	qsort(s->r, s->n, sizeof(s->r[0]), rg_cmp);
}

static inline void set_del(struct rgset *s, struct rg r)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (rg_eq(&s->r[i], &r)) {
			memmove(&s->r[i], &s->r[i + 1],
				(s->n - i - 1) * sizeof(s->r[0]));
			s->n--;
			return;
		}
}

static inline bool set_eq(const struct rgset *a, const struct rgset *b)
{
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (!rg_eq(&a->r[i], &b->r[i]))
			return false;
	return true;
}

/* "{0+4096 all}" into @buf, for messages. */
static inline const char *set_str(const struct rgset *s, char *buf, size_t size)
{
	size_t i, len = 0;

	len += (size_t)snprintf(buf, size, "{");
	for (i = 0; i < s->n && len < size; i++) {
		if (s->r[i].all)
			len += (size_t)snprintf(buf + len, size - len, "%sall",
						i ? " " : "");
		else
			len += (size_t)snprintf(
				buf + len, size - len, "%s%" PRIu64 "+%" PRIu64,
				i ? " " : "", s->r[i].off, s->r[i].len);
	}
	if (len < size)
		snprintf(buf + len, size - len, "}");
	return buf;
}

/* Parses "all" or "OFF+LEN" (decimal, as gets print them). */
static inline bool rg_parse(const char *tok, struct rg *r)
{
	unsigned long long off, len;
	int end = 0;

	memset(r, 0, sizeof(*r));
	if (strcmp(tok, "all") == 0) {
		r->all = true;
		return true;
	}
	if (sscanf(tok, "%llu+%llu%n", &off, &len, &end) != 2 ||
	    tok[end] != '\0')
		return false;
	r->off = off;
	r->len = len;
	return true;
}

/* The value of xattr @name (NUL-terminated, to free), or NULL and errno. */
static inline char *ct_get(const char *path, const char *name)
{
	ssize_t n = getxattr(path, name, NULL, 0), m;
	char *b;

	if (n < 0)
		return NULL;
	b = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(b);
	m = getxattr(path, name, b, (size_t)n);
	if (m < 0) {
		int e = errno;

		free(b);
		errno = e;
		return NULL;
	}
	b[m] = '\0';
	return b;
}

/*
 * The pins of root (owner=0) of a file, from its user.rdmafs.pin; empty
 * when it answers ENODATA.  Every line must be well formed.
 */
static inline void file_set(const char *path, struct rgset *s)
{
	char *v = ct_get(path, CT_PIN), *line, *save = NULL;

	memset(s, 0, sizeof(*s));
	if (!v) {
		ck_assert_msg(errno == ENODATA, "get %s %s: %s", path, CT_PIN,
			      strerror(errno));
		return;
	}
	for (line = strtok_r(v, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char tok[64];
		unsigned int owner;
		struct rg r;

		ck_assert_msg(sscanf(line, "%63s owner=%u", tok, &owner) == 2 &&
				      rg_parse(tok, &r),
			      "%s: malformed pin line \"%s\"", path, line);
		ck_assert_uint_eq(owner, 0);
		set_add(s, r);
	}
	free(v);
}

/*
 * The mount-wide listing (every page), split by path: @sets[i] gets the
 * pins listed for @names[i].  A path not in @names fails the test.
 * Returns how many lines it had.
 */
static inline size_t listing_sets(const struct mnt *m, const char **names,
				  size_t n, struct rgset *sets)
{
	char attr[64], *v, *line, *save;
	size_t lines = 0, i;
	int page = 0;
	bool more;

	for (i = 0; i < n; i++)
		memset(&sets[i], 0, sizeof(sets[i]));
	do {
		if (page == 0)
			snprintf(attr, sizeof(attr), "%s", CT_PINS);
		else
			snprintf(attr, sizeof(attr), "%s.%d", CT_PINS, page);
		v = ct_get(m->mountpoint, attr);
		ck_assert_msg(v, "get %s: %s", attr, strerror(errno));
		more = false;
		save = NULL;
		for (line = strtok_r(v, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			char path[PATH_MAX], tok[64];
			struct rg r;

			if (strncmp(line, "#more ", 6) == 0) {
				more = true;
				continue;
			}
			ck_assert_msg(sscanf(line, "%4095s %63s", path, tok) ==
						      2 &&
					      rg_parse(tok, &r),
				      "malformed listing line \"%s\"", line);
			for (i = 0; i < n && strcmp(names[i], path); i++)
				;
			ck_assert_msg(i < n, "listing names \"%s\"", line);
			set_add(&sets[i], r);
			lines++;
		}
		free(v);
		page++;
	} while (more);
	return lines;
}

/* The key=value of a status line of the mount, or -1. */
static inline long long status_of(const struct mnt *m, const char *key)
{
	char *v = ct_get(m->mountpoint, CT_STATUS), *p;
	size_t kl = strlen(key);
	long long r = -1;

	ck_assert_msg(v, "get %s: %s", CT_STATUS, strerror(errno));
	for (p = v; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
			r = strtoll(p + kl + 1, NULL, 10);
			break;
		}
	free(v);
	return r;
}

/* Extent flags that mean a block map is not fixed. */
#define CT_UNSTABLE                                              \
	(FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC |        \
	 FIEMAP_EXTENT_UNWRITTEN | FIEMAP_EXTENT_SHARED |        \
	 FIEMAP_EXTENT_DATA_INLINE | FIEMAP_EXTENT_NOT_ALIGNED | \
	 FIEMAP_EXTENT_ENCODED)

/*
 * How many bytes of [off, off + len) of the (backing) file @fd are
 * covered by extents without CT_UNSTABLE flags.
 */
static inline uint64_t stable_bytes(int fd, uint64_t off, uint64_t len)
{
	struct fiemap *fm =
		calloc(1, sizeof(*fm) + 64 * sizeof(fm->fm_extents[0]));
	uint64_t pos = off, end = off + len, good = 0;
	unsigned int i;

	ck_assert_ptr_nonnull(fm);
	while (pos < end) {
		memset(fm, 0, sizeof(*fm));
		fm->fm_start = pos;
		fm->fm_length = end - pos;
		fm->fm_flags = FIEMAP_FLAG_SYNC;
		fm->fm_extent_count = 64;
		ck_assert_int_eq(ioctl(fd, FS_IOC_FIEMAP, fm), 0);
		if (fm->fm_mapped_extents == 0)
			break;
		for (i = 0; i < fm->fm_mapped_extents; i++) {
			struct fiemap_extent *x = &fm->fm_extents[i];
			uint64_t s = x->fe_logical, e = s + x->fe_length;

			if (s < off)
				s = off;
			if (e > end)
				e = end;
			if (e > s && !(x->fe_flags & CT_UNSTABLE))
				good += e - s;
			pos = x->fe_logical + x->fe_length;
		}
		if (fm->fm_extents[i - 1].fe_flags & FIEMAP_EXTENT_LAST)
			break;
	}
	free(fm);
	return good;
}

#endif
