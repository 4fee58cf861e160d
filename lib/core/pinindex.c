// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The index of pinned files; see pinindex.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "core/pinindex.h"
#include "core/storedir.h"

#define LOG "index"
#define LOG_TMP "index.tmp"
#define HANDLE_MAX 128
/* "+ dev ino type" + handle hex + path hex + newline */
#define LINE_MAX_LEN (64 + 2 * HANDLE_MAX + 2 * PATH_MAX + 2)

struct pidx_ent {
	struct pidx_ent *next;
	uint64_t dev, ino;
	struct file_handle *fh;
	char *hint;
	/* Its last line is on the device: adding it again writes nothing. */
	bool synced;
};

static size_t slot(const struct pidx *x, uint64_t dev, uint64_t ino)
{
	uint64_t h = ino * 0x9E3779B97F4A7C15ull ^ dev;

	return (size_t)(h ^ (h >> 31)) & (x->nbuckets - 1);
}

static struct pidx_ent **find(struct pidx *x, uint64_t dev, uint64_t ino)
{
	struct pidx_ent **p = &x->buckets[slot(x, dev, ino)];

	while (*p && ((*p)->dev != dev || (*p)->ino != ino))
		p = &(*p)->next;
	return p;
}

static void grow(struct pidx *x)
{
	size_t n = x->nbuckets * 2, i;
	struct pidx_ent **b = calloc(n, sizeof(*b)), *e, *next;
	size_t old = x->nbuckets;
	struct pidx_ent **ob = x->buckets;

	if (!b)
		return;
	x->buckets = b;
	x->nbuckets = n;
	for (i = 0; i < old; i++) {
		for (e = ob[i]; e; e = next) {
			size_t s = slot(x, e->dev, e->ino);

			next = e->next;
			e->next = b[s];
			b[s] = e;
		}
	}
	free(ob);
}

static struct file_handle *fh_dup(const struct file_handle *fh)
{
	struct file_handle *c = malloc(sizeof(*c) + fh->handle_bytes);

	if (c)
		memcpy(c, fh, sizeof(*c) + fh->handle_bytes);
	return c;
}

/*
 * Applies one change to the in-memory set; takes ownership of @fh, @hint.
 * @synced: the line saying so is on the device.  Returns 0, or -ENOMEM
 * when a new entry could not be recorded.
 */
static int apply(struct pidx *x, uint64_t dev, uint64_t ino,
		 struct file_handle *fh, char *hint, bool synced)
{
	struct pidx_ent **p = find(x, dev, ino), *e = *p;

	if (!fh) {
		if (e) {
			*p = e->next;
			free(e->fh);
			free(e->hint);
			free(e);
			x->live--;
		}
		free(hint);
		return 0;
	}
	if (e) {
		free(e->fh);
		free(e->hint);
		e->fh = fh;
		e->hint = hint;
		e->synced = synced;
		return 0;
	}
	e = malloc(sizeof(*e));
	if (!e) {
		free(fh);
		free(hint);
		return -ENOMEM;
	}
	e->dev = dev;
	e->ino = ino;
	e->fh = fh;
	e->hint = hint;
	e->synced = synced;
	e->next = NULL;
	*p = e;
	if (++x->live > x->nbuckets)
		grow(x);
	return 0;
}

static void hex_into(char *buf, size_t size, int *n, const unsigned char *p,
		     size_t len)
{
	size_t i;

	for (i = 0; i < len && (size_t)*n + 4 < size; i++)
		*n += snprintf(buf + *n, size - (size_t)*n, "%02x", p[i]);
}

/* The "+" line; @size must leave room for the hex of a PATH_MAX path. */
static int format_add(char *buf, size_t size, uint64_t dev, uint64_t ino,
		      const struct file_handle *fh, const char *hint)
{
	int n = snprintf(buf, size, "+ %llu %llu %d ", (unsigned long long)dev,
			 (unsigned long long)ino, fh->handle_type);

	hex_into(buf, size, &n, fh->f_handle, fh->handle_bytes);
	buf[n++] = ' ';
	if (hint && *hint)
		hex_into(buf, size, &n, (const unsigned char *)hint,
			 strlen(hint));
	else
		buf[n++] = '-';
	buf[n++] = '\n';
	return n;
}

/*
 * Appends a line; with @sync, it is on the device before this returns.
 * Returns 0, or -errno (-EIO for a short write).  Without a log (a
 * read-only backing) there is nothing to write: 0.
 */
static int append(struct pidx *x, const char *line, size_t n, bool sync)
{
	ssize_t w;
	off_t end;

	if (x->logerr)
		return x->logerr;
	if (x->logfd < 0)
		return 0;
	/* One write per line: a crash tears at most the last line. */
	w = write(x->logfd, line, n);
	if (w != (ssize_t)n) {
		int err = w < 0 ? -errno : -EIO;

		/*
		 * A part-line (a full filesystem) would glue the next line
		 * to it, and replay would lose both: cut it off, or append
		 * nothing more.
		 */
		end = w > 0 ? lseek(x->logfd, 0, SEEK_CUR) : 0;
		if (w > 0 && (end < w || ftruncate(x->logfd, end - w) < 0))
			x->logerr = -EIO;
		return err;
	}
	x->lines++;
	return sync && fdatasync(x->logfd) < 0 ? -errno : 0;
}

static struct file_handle *parse_handle(int type, const char *hex)
{
	size_t n = strlen(hex) / 2, i;
	struct file_handle *fh;

	if (n == 0 || n > HANDLE_MAX)
		return NULL;
	fh = malloc(sizeof(*fh) + n);
	if (!fh)
		return NULL;
	fh->handle_type = type;
	fh->handle_bytes = (unsigned int)n;
	for (i = 0; i < n; i++) {
		unsigned int v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
			free(fh);
			return NULL;
		}
		fh->f_handle[i] = (unsigned char)v;
	}
	return fh;
}

static char *parse_hint(const char *hex)
{
	size_t n = strlen(hex) / 2, i;
	char *s;

	if (strcmp(hex, "-") == 0 || n == 0)
		return NULL;
	s = malloc(n + 1);
	if (!s)
		return NULL;
	for (i = 0; i < n; i++) {
		unsigned int v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1 || v == 0) {
			free(s);
			return NULL;
		}
		s[i] = (char)v;
	}
	s[n] = '\0';
	return s;
}

/*
 * Replays the log into the set.  *@good gets the length of its complete
 * lines, less than its size when a crash tore the last one.  Returns 0,
 * or -errno when the set may miss an entry of the log.
 */
static int replay(struct pidx *x, off_t *good)
{
	FILE *f;
	char *line = malloc(LINE_MAX_LEN), hex[2 * HANDLE_MAX + 2];
	char *hint = malloc(2 * PATH_MAX + 2);
	unsigned long long dev, ino;
	struct file_handle *fh;
	bool skip = false;
	int type, fd, k, err = 0;

	*good = 0;
	if (!line || !hint) {
		err = -ENOMEM;
		goto out;
	}
	fd = openat(x->dirfd, LOG, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		err = errno == ENOENT ? 0 : -errno;
		goto out;
	}
	f = fdopen(fd, "r");
	if (!f) {
		err = -errno;
		close(fd);
		goto out;
	}
	while (fgets(line, LINE_MAX_LEN, f)) {
		/*
		 * No newline: a torn last line, ignored (and cut off by the
		 * caller), or a longer line than any written here, skipped
		 * to its end so that the lines after it still count.
		 */
		if (!strchr(line, '\n')) {
			skip = true;
			continue;
		}
		*good = ftello(f);
		x->lines++;
		if (skip) {
			skip = false;
			continue;
		}
		k = sscanf(line, "+ %llu %llu %d %257s %8193s", &dev, &ino,
			   &type, hex, hint);
		if (k >= 4) {
			/* A handle that does not parse deletes nothing. */
			fh = parse_handle(type, hex);
			if (fh)
				err = apply(x, dev, ino, fh,
					    k == 5 ? parse_hint(hint) : NULL,
					    true);
		} else if (sscanf(line, "- %llu %llu", &dev, &ino) == 2) {
			err = apply(x, dev, ino, NULL, NULL, true);
		}
		if (err)
			break;
	}
	if (!err && ferror(f))
		err = -EIO;
	fclose(f);
out:
	free(line);
	free(hint);
	return err;
}

/* Rewrites the log with just the live entries; true when done. */
static bool compact(struct pidx *x)
{
	char *line = malloc(LINE_MAX_LEN);
	size_t i;
	int fd, n;
	struct pidx_ent *e;

	if (!line)
		return false;
	fd = openat(x->dirfd, LOG_TMP,
		    O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		    0600);
	if (fd < 0) {
		free(line);
		return false;
	}
	for (i = 0; i < x->nbuckets; i++) {
		for (e = x->buckets[i]; e; e = e->next) {
			n = format_add(line, LINE_MAX_LEN, e->dev, e->ino,
				       e->fh, e->hint);
			if (write(fd, line, (size_t)n) != n)
				goto fail;
		}
	}
	/* The rename is durable only once the directory is synced too. */
	if (fsync(fd) < 0 || renameat(x->dirfd, LOG_TMP, x->dirfd, LOG) < 0 ||
	    fsync(x->dirfd) < 0)
		goto fail;
	close(fd);
	free(line);
	x->lines = x->live;
	return true;
fail:
	close(fd);
	free(line);
	unlinkat(x->dirfd, LOG_TMP, 0);
	return false;
}

/* Syncs the directory of @fd (an O_PATH descriptor will not do). */
static void sync_dir(int fd)
{
	int d = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (d >= 0) {
		fsync(d);
		close(d);
	}
}

/*
 * A file in the store that is not plainly ours (a hard link or symlink
 * planted while the directory was open to others) is unlinked, never
 * appended to or truncated: its name goes, the file it shares stays.
 * Returns 0, or -errno when a name could not be examined (out of
 * descriptors): the log is not ours to drop for that.
 */
static int drop_foreign(struct pidx *x)
{
	static const char *const names[] = { LOG, LOG_TMP };
	size_t i;
	int fd;

	for (i = 0; i < 2; i++) {
		fd = openat(x->dirfd, names[i],
			    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT)
			continue;
		/* ELOOP: a symlink; ENXIO: a socket, or a FIFO's kin. */
		if (fd < 0 && errno != ELOOP && errno != ENXIO)
			return -errno;
		if (fd < 0 || sdir_file_ok(fd, names[i]) < 0 || i == 1)
			unlinkat(x->dirfd, names[i], 0);
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

int pidx_open(struct pidx *x, int root_fd)
{
	bool created, compacted = false;
	off_t good;
	int err;

	memset(x, 0, sizeof(*x));
	x->logfd = -1;
	pthread_mutex_init(&x->lock, NULL);
	x->nbuckets = 64;
	x->buckets = calloc(x->nbuckets, sizeof(*x->buckets));
	if (!x->buckets)
		return -ENOMEM;
	/* Checked like the instance lock's directory (storedir.c). */
	x->dirfd = sdir_private_dir(root_fd, PIDX_DIR, "BACKING/" PIDX_DIR,
				    &created);
	if (x->dirfd < 0) {
		errno = -x->dirfd;
		goto unavailable;
	}
	err = drop_foreign(x);
	if (err) {
		close(x->dirfd);
		errno = -err;
		goto unavailable;
	}
	/* Incomplete, the set still serves; the caller hears of it. */
	err = replay(x, &good);
	if (!err && x->lines > 2 * x->live + 64)
		compacted = compact(x);
	x->logfd = openat(
		x->dirfd, LOG,
		O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	/* No log on a read-only backing is no loss: nothing is pinned. */
	if (x->logfd < 0 && errno != EROFS)
		x->logerr = err = -errno;
	/*
	 * A torn last line would swallow the next line appended: cut it
	 * off, once the whole log has been read (else @good is short).
	 */
	if (!err && x->logfd >= 0 && !compacted &&
	    lseek(x->logfd, 0, SEEK_END) > good &&
	    ftruncate(x->logfd, good) < 0)
		x->logerr = err = -errno;
	/*
	 * The synced appends need the log's own name on the device, and
	 * the directory's in the backing root when it is new.
	 */
	fsync(x->dirfd);
	if (created)
		sync_dir(root_fd);
	return err;
unavailable:
	/*
	 * A read-only backing filesystem: listing covers loaded files.
	 * Else (out of descriptors) an add must not claim to be recorded.
	 */
	x->dirfd = -1;
	if (errno != EROFS)
		x->logerr = -errno;
	return -errno;
}

void pidx_close(struct pidx *x)
{
	size_t i;
	struct pidx_ent *e, *next;

	for (i = 0; i < x->nbuckets; i++) {
		for (e = x->buckets[i]; e; e = next) {
			next = e->next;
			free(e->fh);
			free(e->hint);
			free(e);
		}
	}
	free(x->buckets);
	if (x->logfd >= 0)
		close(x->logfd);
	if (x->dirfd >= 0)
		close(x->dirfd);
	pthread_mutex_destroy(&x->lock);
}

int pidx_add(struct pidx *x, uint64_t dev, uint64_t ino,
	     const struct file_handle *fh, const char *hint)
{
	struct pidx_ent *e;
	struct file_handle *c;
	char *line, *h;
	int n, err;

	pthread_mutex_lock(&x->lock);
	e = *find(x, dev, ino);
	if (!fh && e)
		fh = e->fh;
	if (!hint && e)
		hint = e->hint;
	if (!fh ||
	    (e && e->synced && e->fh->handle_bytes == fh->handle_bytes &&
	     memcmp(e->fh->f_handle, fh->f_handle, fh->handle_bytes) == 0 &&
	     (e->hint == hint ||
	      (e->hint && hint && strcmp(e->hint, hint) == 0)))) {
		pthread_mutex_unlock(&x->lock);
		return 0;
	}
	c = fh_dup(fh);
	h = hint ? strdup(hint) : NULL;
	line = malloc(LINE_MAX_LEN);
	if (c && line && (!hint || h)) {
		n = format_add(line, LINE_MAX_LEN, dev, ino, c, h);
		err = apply(x, dev, ino, c, h, false);
		if (!err)
			err = append(x, line, (size_t)n, true);
		/* Else the entry is known but not kept: a retry writes it. */
		if (!err)
			(*find(x, dev, ino))->synced = true;
	} else {
		free(c);
		free(h);
		err = -ENOMEM;
	}
	free(line);
	pthread_mutex_unlock(&x->lock);
	return err;
}

void pidx_del(struct pidx *x, uint64_t dev, uint64_t ino)
{
	char line[64];
	int n;

	pthread_mutex_lock(&x->lock);
	if (*find(x, dev, ino)) {
		(void)apply(x, dev, ino, NULL, NULL, false);
		n = snprintf(line, sizeof(line), "- %llu %llu\n",
			     (unsigned long long)dev, (unsigned long long)ino);
		/*
		 * Not synced: a "-" line lost in a crash leaves a stale
		 * entry, which the listing drops when it finds no pins.
		 */
		(void)append(x, line, (size_t)n, false);
		if (x->lines > 2 * x->live + 4096 && x->dirfd >= 0) {
			(void)compact(x);
			if (x->logfd >= 0)
				close(x->logfd);
			x->logfd = openat(x->dirfd, LOG,
					  O_WRONLY | O_APPEND | O_CREAT |
						  O_NOFOLLOW | O_CLOEXEC,
					  0600);
			if (x->logfd < 0)
				x->logerr = -errno;
		}
	}
	pthread_mutex_unlock(&x->lock);
}

bool pidx_has(struct pidx *x, uint64_t dev, uint64_t ino)
{
	bool r;

	pthread_mutex_lock(&x->lock);
	r = *find(x, dev, ino) != NULL;
	pthread_mutex_unlock(&x->lock);
	return r;
}

bool pidx_any(struct pidx *x)
{
	bool r;

	pthread_mutex_lock(&x->lock);
	r = x->live > 0;
	pthread_mutex_unlock(&x->lock);
	return r;
}

ssize_t pidx_items(struct pidx *x, struct pidx_item **out)
{
	struct pidx_item *items;
	struct pidx_ent *e;
	size_t i, n = 0;

	pthread_mutex_lock(&x->lock);
	items = calloc(x->live ? x->live : 1, sizeof(*items));
	if (!items) {
		pthread_mutex_unlock(&x->lock);
		return -ENOMEM;
	}
	for (i = 0; i < x->nbuckets; i++) {
		for (e = x->buckets[i]; e; e = e->next) {
			items[n].dev = e->dev;
			items[n].ino = e->ino;
			items[n].fh = fh_dup(e->fh);
			items[n].hint = e->hint ? strdup(e->hint) : NULL;
			n++;
			/* A listing that would miss an entry is no listing. */
			if (!items[n - 1].fh || (e->hint && !items[n - 1].hint))
				goto nomem;
		}
	}
	pthread_mutex_unlock(&x->lock);
	*out = items;
	return (ssize_t)n;
nomem:
	pthread_mutex_unlock(&x->lock);
	pidx_free_items(items, n);
	return -ENOMEM;
}

void pidx_free_items(struct pidx_item *items, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(items[i].fh);
		free(items[i].hint);
	}
	free(items);
}
