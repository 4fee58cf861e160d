// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The mount-wide listing and the status; see listing.h.
 *
 * Page 0 of the listing is built from the pins and paths of the moment
 * (the index names the pinned files, the table or each file's stored
 * record gives their pins) and kept as a snapshot; later pages are cut
 * from it, so a reader walking the pages sees one consistent listing.
 * When pins changed (or a pinned path may have) since the snapshot, a
 * later page answers ENODATA and the reader starts over at page 0
 * (rdmafsctl does).  A snapshot of the same pin generation is reused for
 * as long as the mount lets the kernel cache attributes (timeout=):
 * renames and unlinks through the mount bump the generation, so only a
 * change made behind the mount's back can go unseen, and no longer than
 * cached attributes would.  A listing that fails is never kept.
 *
 * The snapshot is root's listing.  Any other caller gets a view of it:
 * the lines of the files whose path resolves, with the caller's fsuid,
 * fsgid and groups (creds.c), from the backing root to the very inode
 * listed.  Views are kept per caller (uid, gid and groups) for as long as
 * their snapshot, so a user's pages are consistent too and root's path
 * costs nothing more.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "listing.h"
#include "passthrough.h"
#include "pinstore_io.h"
#include "pinsvc.h"
#include "session.h"
#include "core/pathesc.h"
#include "core/pinindex.h"
#include "core/pintable.h"
#include "core/proto_format.h"

/* Callers whose views are kept; more evict the least recently used. */
#define NVIEWS 8
/* As many groups as creds.c switches to. */
#define VIEW_GROUPS 256

/* A file of the snapshot: its inode and path (NULL: not known). */
struct lfile {
	uint64_t dev, ino;
	char *rel;
};

/* Adjacent lines of one file in the snapshot's text. */
struct lgroup {
	size_t file, start, end;
};

struct snap {
	struct sbuf text;
	struct lfile *files;
	size_t nfiles;
	struct lgroup *groups;
	size_t ngroups;
	uint64_t pins, pinned;
};

struct caller {
	uid_t uid;
	gid_t gid;
	size_t ngroups;
	gid_t groups[VIEW_GROUPS];
};

struct view {
	bool used, valid;
	struct caller who;
	uint64_t snap_id;
	struct sbuf text;
	uint64_t pins, pinned;
	int64_t used_ms;
};

struct rfs_listing {
	pthread_mutex_t lock;
	struct snap snap;
	bool valid;
	uint64_t gen, id;
	int64_t ms; /* CLOCK_MONOTONIC when it was made */
	struct view views[NVIEWS];
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Errors of a path walk that mean "not there, or not reachable": anything
 * else (out of descriptors or memory, I/O) means "cannot tell".
 */
static bool unreachable(int err)
{
	return err == ENOENT || err == ENOTDIR || err == EACCES ||
	       err == EPERM || err == ELOOP || err == EXDEV ||
	       err == ENAMETOOLONG || err == ESTALE;
}

/*
 * Resolves @rel from the backing root (with the thread's credentials)
 * and checks that it is the inode (@dev, @ino).  Returns 1 when it is, 0
 * when it is not or cannot be reached, or -errno when that cannot be told.
 */
static int path_is(struct rfs *fs, const char *rel, uint64_t dev, uint64_t ino)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC | O_NOFOLLOW,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			   RESOLVE_NO_MAGICLINKS,
	};
	struct stat st;
	int fd, ok, err;

	fd = (int)syscall(SYS_openat2, fs->root_fd, rel, &how, sizeof(how));
	if (fd < 0)
		return unreachable(errno) ? 0 : -errno;
	ok = fstat(fd, &st) == 0;
	err = errno;
	close(fd);
	if (!ok)
		return -err;
	return (uint64_t)st.st_ino == ino && (uint64_t)st.st_dev == dev;
}

/* A pset_visit_fn: the listing line of a pin of the file at @arg. */
struct lines {
	struct sbuf *b;
	const char *path; /* raw: proto_format escapes it */
};

static int path_line(const struct pin *p, void *arg)
{
	struct lines *c = arg;

	proto_format_pin_line(c->b, c->path, p);
	return 0;
}

/*
 * A descriptor of the file @it names: by its handle, or without one (a
 * session pin's file where handles do not work) by its path, which must
 * still lead to it.  -ESTALE when it is gone or cannot be found.
 */
static int open_item(struct rfs *fs, const struct pidx_item *it)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC | O_NOFOLLOW,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			   RESOLVE_NO_MAGICLINKS,
	};
	struct stat st;
	int fd;

	if (it->fh) {
		fd = open_by_handle_at(fs->mount_fd, it->fh,
				       O_PATH | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	if (!it->hint)
		return -ESTALE;
	fd = (int)syscall(SYS_openat2, fs->root_fd, it->hint, &how,
			  sizeof(how));
	if (fd < 0)
		return unreachable(errno) ? -ESTALE : -errno;
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_ino != it->ino ||
	    (uint64_t)st.st_dev != it->dev) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

/*
 * The lines of one file's pins, from the table or its stored record.
 * @indexed: @it is the pin index's (else a session pin's file, which
 * the index does not name).
 */
static int list_file(struct rfs *fs, const struct pidx_item *it, bool indexed,
		     struct sbuf *t, struct lfile *lf)
{
	char rel[PATH_MAX];
	struct lines c = { .b = t, .path = rel };
	struct ptab_file *f;
	struct pin *pins = NULL;
	size_t n = 0, i;
	int fd, err = 0;

	lf->dev = it->dev;
	lf->ino = it->ino;
	lf->rel = NULL;
	fd = open_item(fs, it);
	if (fd < 0) {
		if (fd != -ESTALE)
			return fd; /* out of descriptors: cannot tell */
		/* The inode is gone, and its pins with it. */
		if (indexed)
			pidx_del(fs->pidx, it->dev, it->ino);
		return 0;
	}
	/*
	 * A file whose dentry left the cache reopens disconnected: its
	 * path is then the index's hint, when that still names it.
	 */
	if (rfs_rel_path(fs, fd, rel, sizeof(rel)) == 0) {
		err = 1;
	} else if (it->hint) {
		err = path_is(fs, it->hint, it->dev, it->ino);
		if (err > 0)
			snprintf(rel, sizeof(rel), "%s", it->hint);
	}
	if (err < 0)
		goto out;
	if (err > 0) {
		lf->rel = strdup(rel);
		if (!lf->rel) {
			err = -ENOMEM;
			goto out;
		}
	} else {
		/* Renamed outside the mount and out of the cache. */
		snprintf(rel, sizeof(rel), "?ino=%llu",
			 (unsigned long long)it->ino);
	}
	err = 0;
	f = rfs_pins_lock(fs, it->dev, it->ino);
	if (f) {
		pset_foreach(ptab_file_pins(f), path_line, &c);
		ptab_file_unlock(fs->pins, f);
		goto out;
	}
	/* A session's file whose pins went meanwhile. */
	if (!indexed)
		goto out;
	/* Not used since mount: read its stored pins without loading them. */
	err = rfs_pins_read_stored(fd, &pins, &n);
	if (!err && n == 0)
		pidx_del(fs->pidx, it->dev, it->ino);
	for (i = 0; !err && i < n; i++)
		path_line(&pins[i], &c);
	free(pins);
out:
	close(fd);
	return err ? err : sbuf_err(t);
}

static void snap_free(struct snap *s)
{
	size_t i;

	for (i = 0; i < s->nfiles; i++)
		free(s->files[i].rel);
	free(s->files);
	free(s->groups);
	sbuf_free(&s->text);
	memset(s, 0, sizeof(*s));
}

struct line {
	char *s;
	size_t file;
};

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(((const struct line *)a)->s, ((const struct line *)b)->s);
}

/*
 * Sorts the lines of @raw (those of file i start at @start[i]) by path
 * into @s, grouping the adjacent lines of each file.
 */
static int sort_lines(struct snap *s, struct sbuf *raw, const size_t *start)
{
	struct line *lines;
	size_t nl = 0, i, k;
	char *p;

	for (p = raw->buf; p && *p; p++)
		nl += *p == '\n';
	lines = calloc(nl ? nl : 1, sizeof(*lines));
	s->groups = calloc(nl ? nl : 1, sizeof(*s->groups));
	if (!lines || !s->groups) {
		free(lines);
		return -ENOMEM;
	}
	for (i = 0, k = 0; i < s->nfiles; i++) {
		if (start[i + 1] == start[i])
			continue;
		s->pinned++;
		for (p = raw->buf + start[i]; p < raw->buf + start[i + 1];) {
			lines[k].s = p;
			lines[k++].file = i;
			p = strchr(p, '\n');
			*p++ = '\0';
		}
	}
	qsort(lines, nl, sizeof(*lines), cmp_lines);
	for (i = 0; i < nl; i++) {
		struct lgroup *g = &s->groups[s->ngroups - (s->ngroups > 0)];

		if (!s->ngroups || g->file != lines[i].file) {
			g = &s->groups[s->ngroups++];
			g->file = lines[i].file;
			g->start = s->text.len;
		}
		sbuf_add(&s->text, lines[i].s, strlen(lines[i].s));
		sbuf_add(&s->text, "\n", 1);
		g->end = s->text.len;
	}
	s->pins = nl;
	free(lines);
	return sbuf_err(&s->text);
}

/*
 * The pin index's files, then those only session pins are on (the index
 * names files with persistent pins): every pinned file once.  Returns
 * how many, @nidx of them the index's, or -errno.
 */
static ssize_t all_files(struct rfs *fs, struct pidx_item **out, size_t *nidx)
{
	struct pidx_item *items = NULL, *sess = NULL, *all;
	ssize_t n, ns;
	size_t i, k;

	*out = NULL;
	n = fs->pidx ? pidx_items(fs->pidx, &items) : 0;
	if (n < 0)
		return n;
	ns = rfs_sess_files(fs, &sess);
	if (ns < 0) {
		pidx_free_items(items, (size_t)n);
		return ns;
	}
	*nidx = (size_t)n;
	if (ns == 0) {
		free(sess);
		*out = items;
		return n;
	}
	all = realloc(items, ((size_t)n + (size_t)ns) * sizeof(*all));
	if (!all) {
		pidx_free_items(items, (size_t)n);
		pidx_free_items(sess, (size_t)ns);
		return -ENOMEM;
	}
	for (i = 0, k = (size_t)n; i < (size_t)ns; i++) {
		if (pidx_items_has(all, *nidx, sess[i].dev, sess[i].ino)) {
			free(sess[i].fh);
			free(sess[i].hint);
			continue;
		}
		all[k++] = sess[i];
	}
	free(sess);
	*out = all;
	return (ssize_t)k;
}

/* The whole mount's listing, sorted by path: complete, or an error. */
static int build_snap(struct rfs *fs, struct snap *s)
{
	struct pidx_item *items = NULL;
	struct sbuf raw = { 0 };
	size_t *start = NULL, i, nidx = 0;
	ssize_t n;
	int err = 0;

	memset(s, 0, sizeof(*s));
	n = all_files(fs, &items, &nidx);
	if (n < 0)
		return (int)n;
	s->files = calloc(n ? (size_t)n : 1, sizeof(*s->files));
	start = calloc((size_t)n + 1, sizeof(*start));
	if (!s->files || !start)
		err = -ENOMEM;
	for (i = 0; !err && i < (size_t)n; i++) {
		start[i] = raw.len;
		err = list_file(fs, &items[i], i < nidx, &raw, &s->files[i]);
		s->nfiles = i + 1;
	}
	if (!err) {
		start[s->nfiles] = raw.len;
		err = sort_lines(s, &raw, start);
	}
	if (items)
		pidx_free_items(items, (size_t)n);
	free(start);
	sbuf_free(&raw);
	if (err)
		snap_free(s);
	return err;
}

/* Makes the snapshot current; with the listing's lock held. */
static int refresh(struct rfs *fs, struct rfs_listing *l)
{
	uint64_t gen = __atomic_load_n(&fs->pin_gen, __ATOMIC_ACQUIRE);
	int64_t now = mono_ms();
	int err;

	if (l->valid && l->gen == gen &&
	    now - l->ms < (int64_t)(fs->timeout * 1000))
		return 0;
	snap_free(&l->snap);
	l->valid = false;
	/* Pins changed while it is built make the next read rebuild it. */
	err = build_snap(fs, &l->snap);
	if (err)
		return err;
	l->valid = true;
	l->gen = gen;
	l->ms = now;
	l->id++;
	return 0;
}

static int cmp_gid(const void *a, const void *b)
{
	gid_t x = *(const gid_t *)a, y = *(const gid_t *)b;

	return x < y ? -1 : x > y;
}

static void caller_of(fuse_req_t req, struct caller *c)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	int n;

	memset(c, 0, sizeof(*c));
	c->uid = ctx->uid;
	c->gid = ctx->gid;
	/* Without its groups a caller sees less, never more. */
	n = fuse_req_getgroups(req, VIEW_GROUPS, c->groups);
	c->ngroups = n < 0 ? 0 : n > VIEW_GROUPS ? VIEW_GROUPS : (size_t)n;
	qsort(c->groups, c->ngroups, sizeof(gid_t), cmp_gid);
}

static bool same_caller(const struct caller *a, const struct caller *b)
{
	return a->uid == b->uid && a->gid == b->gid &&
	       a->ngroups == b->ngroups &&
	       memcmp(a->groups, b->groups, a->ngroups * sizeof(gid_t)) == 0;
}

/*
 * The caller's view; with @make, a free or the least recently used slot
 * when it has none, else NULL.
 */
static struct view *view_slot(struct rfs_listing *l, const struct caller *c,
			      bool make)
{
	struct view *v, *old = &l->views[0];

	for (v = l->views; v < l->views + NVIEWS; v++) {
		if (v->used && same_caller(&v->who, c))
			return v;
		if (!v->used || (old->used && v->used_ms < old->used_ms))
			old = v;
	}
	if (!make)
		return NULL;
	sbuf_free(&old->text);
	memset(old, 0, sizeof(*old));
	old->used = true;
	old->who = *c;
	return old;
}

/* Fills @v with what its caller (of @req) may see of the snapshot. */
static int view_build(fuse_req_t req, struct rfs_listing *l, struct view *v)
{
	struct rfs *fs = rfs_of(req);
	const struct snap *s = &l->snap;
	struct rfs_cred cred;
	signed char *vis;
	size_t i;
	int err;

	sbuf_free(&v->text);
	v->valid = false;
	v->pins = v->pinned = 0;
	vis = calloc(s->nfiles ? s->nfiles : 1, 1);
	if (!vis)
		return -ENOMEM;
	err = rfs_cred_enter(req, &cred, true);
	for (i = 0; !err && i < s->nfiles; i++) {
		if (!s->files[i].rel)
			continue; /* no path: nobody reaches it by one */
		err = path_is(fs, s->files[i].rel, s->files[i].dev,
			      s->files[i].ino);
		vis[i] = err > 0;
		err = err < 0 ? err : 0;
	}
	rfs_cred_leave(&cred);
	for (i = 0; !err && i < s->ngroups; i++) {
		const struct lgroup *g = &s->groups[i];
		const char *p;

		if (!vis[g->file])
			continue;
		sbuf_add(&v->text, s->text.buf + g->start, g->end - g->start);
		for (p = s->text.buf + g->start; p < s->text.buf + g->end; p++)
			v->pins += *p == '\n';
		/* Each file's lines are one group unless paths collide. */
		if (vis[g->file] == 1) {
			v->pinned++;
			vis[g->file] = 2;
		}
	}
	free(vis);
	if (!err)
		err = sbuf_err(&v->text);
	if (err) {
		sbuf_free(&v->text);
		return err;
	}
	v->valid = true;
	v->snap_id = l->id;
	return 0;
}

/*
 * The text and counts the caller of @req sees, with the lock held and
 * the snapshot valid.  With @build, a missing or old view is made; else
 * it is -ENODATA (a later page of a listing that changed).
 */
static int caller_text(fuse_req_t req, struct rfs_listing *l, bool build,
		       const struct sbuf **out, uint64_t *pins,
		       uint64_t *pinned)
{
	struct caller c;
	struct view *v;
	int err;

	if (fuse_req_ctx(req)->uid == 0) {
		*out = &l->snap.text;
		*pins = l->snap.pins;
		*pinned = l->snap.pinned;
		return 0;
	}
	caller_of(req, &c);
	v = view_slot(l, &c, build);
	if (!v)
		return -ENODATA;
	if (!v->valid || v->snap_id != l->id) {
		if (!build)
			return -ENODATA;
		err = view_build(req, l, v);
		if (err)
			return err;
	}
	v->used_ms = mono_ms();
	*out = &v->text;
	*pins = v->pins;
	*pinned = v->pinned;
	return 0;
}

/*
 * Page @page of @all: whole lines, at most 64 KiB with room for the
 * "#more" line that names the next page.
 */
static int cut_page(const struct sbuf *all, unsigned long page, struct sbuf *t)
{
	size_t start = 0, budget = PROTO_VALUE_MAX - 64;
	unsigned long pg = 0;

	for (;;) {
		size_t end = start;

		/* Take whole lines up to the budget. */
		while (end < all->len) {
			char *nl = memchr(all->buf + end, '\n', all->len - end);
			size_t next = (size_t)(nl - all->buf) + 1;

			if (next - start > budget && end > start)
				break;
			end = next;
		}
		if (pg == page) {
			sbuf_add(t, all->buf ? all->buf + start : "",
				 end - start);
			if (end < all->len)
				proto_format_more(t, page);
			return sbuf_err(t);
		}
		if (end >= all->len)
			return -ENODATA; /* no such page */
		start = end;
		pg++;
	}
}

int rfs_listing_page(fuse_req_t req, unsigned long page, struct sbuf *t)
{
	struct rfs *fs = rfs_of(req);
	struct rfs_listing *l = fs->listing;
	const struct sbuf *all;
	uint64_t gen = __atomic_load_n(&fs->pin_gen, __ATOMIC_ACQUIRE);
	uint64_t pins, pinned;
	int err = 0;

	pthread_mutex_lock(&l->lock);
	if (page == 0)
		err = refresh(fs, l);
	else if (!l->valid || l->gen != gen)
		err = -ENODATA;
	if (!err)
		err = caller_text(req, l, page == 0, &all, &pins, &pinned);
	if (!err)
		err = cut_page(all, page, t);
	pthread_mutex_unlock(&l->lock);
	return err;
}

/* KEY=PATH, escaped (pathesc.h); left out when it cannot be. */
static void status_path(struct sbuf *t, const char *key, const char *path)
{
	char esc[PESC_MAX(PATH_MAX)];

	if (path && pesc_escape(path, esc, sizeof(esc)) >= 0)
		sbuf_printf(t, "%s=%s\n", key, esc);
}

int rfs_listing_status(fuse_req_t req, struct sbuf *t)
{
	struct rfs *fs = rfs_of(req);
	struct rfs_listing *l = fs->listing;
	const struct sbuf *all;
	uint64_t pins = 0, pinned = 0, sessions, spins;
	struct stat bst;
	int err;

	/* Counted from the listing: the table misses files not looked up. */
	pthread_mutex_lock(&l->lock);
	err = refresh(fs, l);
	if (!err)
		err = caller_text(req, l, true, &all, &pins, &pinned);
	pthread_mutex_unlock(&l->lock);
	sbuf_printf(t, "version=%s\n", RDMAFS_VERSION);
	/*
	 * Where the daemon serves from, and which process it is, for tools
	 * that check the setup underneath (rdmafsctl audit): escaped as the
	 * listing's paths are, so a newline in a name cannot forge a key.
	 */
	sbuf_printf(t, "pid=%d\n", (int)getpid());
	status_path(t, "backing", fs->backing_real);
	/* Its identity: a path can be renamed or replaced since. */
	if (fstat(fs->root_fd, &bst) == 0)
		sbuf_printf(t, "backing_dev=%u:%u\nbacking_ino=%llu\n",
			    major(bst.st_dev), minor(bst.st_dev),
			    (unsigned long long)bst.st_ino);
	status_path(t, "mountpoint", fs->o.mountpoint);
	if (err) {
		/* Never a count that may be short: say it is not known. */
		sbuf_printf(t, "pins=unknown\nfiles_pinned=unknown\n");
		sbuf_printf(t, "pins_error=%s\n", strerror(-err));
	} else {
		sbuf_printf(t, "pins=%" PRIu64 "\n", pins);
		sbuf_printf(t, "files_pinned=%" PRIu64 "\n", pinned);
	}
	rfs_sess_counts(fs, &sessions, &spins);
	sbuf_printf(t, "sessions=%" PRIu64 "\n", sessions);
	sbuf_printf(t, "session_pins=%" PRIu64 "\n", spins);
	sbuf_printf(t, "max_pins=%u\n", fs->o.max_pins);
	sbuf_printf(t, "max_pins_per_file=%u\n", fs->o.max_pins_per_file);
	sbuf_printf(t, "max_pins_per_user=%u\n", fs->o.max_pins_per_user);
	rfs_pt_status(fs, t);
	rfs_uring_status(fs, t);
	return sbuf_err(t);
}

void rfs_listing_stale(struct rfs *fs)
{
	/* Only the listings depend on it: no parked request to wake. */
	__atomic_add_fetch(&fs->pin_gen, 1, __ATOMIC_RELEASE);
}

int rfs_listing_init(struct rfs *fs)
{
	struct rfs_listing *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	pthread_mutex_init(&l->lock, NULL);
	fs->listing = l;
	return 0;
}

void rfs_listing_free(struct rfs *fs)
{
	struct rfs_listing *l = fs->listing;
	size_t i;

	if (!l)
		return;
	snap_free(&l->snap);
	for (i = 0; i < NVIEWS; i++)
		sbuf_free(&l->views[i].text);
	pthread_mutex_destroy(&l->lock);
	free(l);
	fs->listing = NULL;
}
