// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The inode table: backing (st_dev, st_ino) -> struct rfs_inode.
 *
 * The kernel's node id is the address of the struct, as in libfuse's
 * passthrough_ll; hard links find the same struct, so they share a node.
 * An inode holds a file handle rather than a descriptor, so the number of
 * inodes the kernel may remember is bounded by memory, not by the
 * open-file limit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pinsvc.h"
#include "rdmafs.h"

#define HANDLE_MAX 128

static size_t hash_key(dev_t dev, ino_t ino, size_t n)
{
	uint64_t h = (uint64_t)ino * 0x9E3779B97F4A7C15ull ^ (uint64_t)dev;

	return (size_t)(h ^ (h >> 29)) & (n - 1);
}

int rfs_itable_init(struct rfs *fs)
{
	struct rfs_itable *t = &fs->itab;

	t->nbuckets = 1024;
	t->count = 0;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	if (!t->buckets)
		return -ENOMEM;
	pthread_mutex_init(&t->lock, NULL);
	pthread_mutex_init(&fs->dev_lock, NULL);
	return 0;
}

static void inode_free(struct rfs *fs, struct rfs_inode *in)
{
	fdc_drop(&fs->fdc, &in->fdc);
	if (in->fixed_fd >= 0)
		close(in->fixed_fd);
	free(in->handle);
	free(in);
}

void rfs_itable_destroy(struct rfs *fs)
{
	struct rfs_itable *t = &fs->itab;
	size_t i;

	for (i = 0; i < t->nbuckets; i++) {
		struct rfs_inode *in = t->buckets[i], *next;

		for (; in; in = next) {
			next = in->hnext;
			if (in != &fs->root)
				inode_free(fs, in);
		}
	}
	while (t->stale) {
		struct rfs_inode *in = t->stale;

		t->stale = in->hnext;
		inode_free(fs, in);
	}
	free(t->buckets);
	for (i = 0; i < fs->ndevs; i++)
		close(fs->devs[i].fd);
	free(fs->devs);
	pthread_mutex_destroy(&t->lock);
	pthread_mutex_destroy(&fs->dev_lock);
}

static struct rfs_inode *find_locked(struct rfs_itable *t, dev_t dev, ino_t ino)
{
	struct rfs_inode *in = t->buckets[hash_key(dev, ino, t->nbuckets)];

	while (in && (in->ino != ino || in->dev != dev))
		in = in->hnext;
	return in;
}

static void grow_locked(struct rfs_itable *t)
{
	size_t n = t->nbuckets * 2, i;
	struct rfs_inode **b = calloc(n, sizeof(*b));

	if (!b)
		return; /* longer chains, still correct */
	for (i = 0; i < t->nbuckets; i++) {
		struct rfs_inode *in = t->buckets[i], *next;

		for (; in; in = next) {
			size_t h = hash_key(in->dev, in->ino, n);

			next = in->hnext;
			in->hnext = b[h];
			b[h] = in;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
}

static void insert_locked(struct rfs_itable *t, struct rfs_inode *in)
{
	size_t h;

	if (t->count >= t->nbuckets * 2)
		grow_locked(t);
	h = hash_key(in->dev, in->ino, t->nbuckets);
	in->hnext = t->buckets[h];
	t->buckets[h] = in;
	t->count++;
}

static void unlink_from(struct rfs_inode **p, struct rfs_inode *in)
{
	while (*p && *p != in)
		p = &(*p)->hnext;
	if (*p)
		*p = in->hnext;
}

static void remove_locked(struct rfs_itable *t, struct rfs_inode *in)
{
	unlink_from(&t->buckets[hash_key(in->dev, in->ino, t->nbuckets)], in);
	t->count--;
}

static struct file_handle *handle_of(int fd)
{
	struct file_handle *fh = malloc(sizeof(*fh) + HANDLE_MAX);
	int mnt;

	if (!fh)
		return NULL;
	fh->handle_bytes = HANDLE_MAX;
	if (name_to_handle_at(fd, "", fh, &mnt, AT_EMPTY_PATH) < 0) {
		free(fh);
		return NULL;
	}
	return fh;
}

static bool same_handle(const struct file_handle *a,
			const struct file_handle *b)
{
	return a->handle_type == b->handle_type &&
	       a->handle_bytes == b->handle_bytes &&
	       memcmp(a->f_handle, b->f_handle, a->handle_bytes) == 0;
}

/*
 * True when @in is an earlier inode that had the same number: it leaves
 * the table (the kernel may still use it until it forgets it) so that a
 * new node takes the number.
 */
static bool stale_locked(struct rfs_itable *t, struct rfs_inode *in,
			 const struct file_handle *fh)
{
	if (!in->handle || !fh || same_handle(in->handle, fh))
		return false;
	remove_locked(t, in);
	in->hnext = t->stale;
	t->stale = in;
	return true;
}

/* The root goes into the table so that a lookup of it finds the same node. */
void rfs_itable_add_root(struct rfs *fs)
{
	pthread_mutex_lock(&fs->itab.lock);
	insert_locked(&fs->itab, &fs->root);
	pthread_mutex_unlock(&fs->itab.lock);
}

struct rfs_inode *rfs_inode(fuse_req_t req, fuse_ino_t ino)
{
	if (ino == FUSE_ROOT_ID)
		return &rfs_of(req)->root;
	return (struct rfs_inode *)(uintptr_t)ino;
}

/* A descriptor on the filesystem of @dev for open_by_handle_at. */
static int dev_fd(struct rfs *fs, dev_t dev, mode_t mode, int fd)
{
	char path[64];
	size_t i;
	int ret = -1;
	struct rfs_devfd *d;

	if (dev == fs->root.dev)
		return fs->mount_fd;
	pthread_mutex_lock(&fs->dev_lock);
	for (i = 0; i < fs->ndevs; i++) {
		if (fs->devs[i].dev == dev) {
			ret = fs->devs[i].fd;
			goto out;
		}
	}
	d = realloc(fs->devs, (fs->ndevs + 1) * sizeof(*d));
	if (!d)
		goto out;
	fs->devs = d;
	/*
	 * open_by_handle_at() wants a real descriptor, not O_PATH.  A new
	 * filesystem is met at its mount root, a directory, which can be
	 * opened without side effects; a file mounted on its own is left
	 * to the descriptor-per-inode fallback.
	 */
	if (!S_ISDIR(mode))
		goto out;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ret = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ret >= 0) {
		d[fs->ndevs].dev = dev;
		d[fs->ndevs].fd = ret;
		fs->ndevs++;
	}
out:
	pthread_mutex_unlock(&fs->dev_lock);
	return ret;
}

/*
 * A handle goes stale when its inode is gone from the backing filesystem:
 * to the caller that is a file that no longer exists.
 */
static int handle_errno(void)
{
	return errno == ESTALE ? -ENOENT : -errno;
}

static int open_handle_cb(void *arg)
{
	struct rfs_inode *in = arg;
	int fd = open_by_handle_at(in->mount_fd, in->handle,
				   O_PATH | O_CLOEXEC | O_NOFOLLOW);

	return fd < 0 ? handle_errno() : fd;
}

int rfs_ifd_get(struct rfs *fs, struct rfs_inode *in)
{
	if (in->fixed_fd >= 0)
		return in->fixed_fd;
	return fdc_get(&fs->fdc, &in->fdc, open_handle_cb, in);
}

void rfs_ifd_put(struct rfs *fs, struct rfs_inode *in)
{
	if (in->fixed_fd < 0)
		fdc_put(&fs->fdc, &in->fdc);
}

int rfs_inode_open(struct rfs *fs, struct rfs_inode *in, int flags)
{
	char path[64];
	int fd, tries;

	flags &= ~(O_CREAT | O_EXCL | O_NOCTTY | O_NOFOLLOW);
	flags |= O_CLOEXEC;
	for (tries = 0; tries < 2; tries++) {
		if (in->handle) {
			fd = open_by_handle_at(in->mount_fd, in->handle, flags);
		} else {
			snprintf(path, sizeof(path), "/proc/self/fd/%d",
				 in->fixed_fd);
			fd = open(path, flags);
		}
		if (fd >= 0)
			return fd;
		if (!fdc_is_exhausted(-errno))
			break;
		fdc_shrink(&fs->fdc, 0);
	}
	return handle_errno();
}

static int openat_retry(struct rfs *fs, int dfd, const char *name, int flags)
{
	int fd = openat(dfd, name, flags);

	if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
		fdc_shrink(&fs->fdc, 0);
		fd = openat(dfd, name, flags);
	}
	return fd < 0 ? -errno : fd;
}

static struct rfs_inode *
inode_new(struct rfs *fs, int fd, const struct stat *st, struct file_handle *fh)
{
	struct rfs_inode *in = calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	in->dev = st->st_dev;
	in->ino = st->st_ino;
	in->type = st->st_mode & S_IFMT;
	in->fixed_fd = -1;
	in->mount_fd = -1;
	fdc_entry_init(&in->fdc);

	if (fh) {
		in->mount_fd = dev_fd(fs, st->st_dev, st->st_mode, fd);
		if (in->mount_fd >= 0) {
			in->handle = fh;
			return in;
		}
		free(fh);
	}
	/* No handle for this filesystem: hold the descriptor instead. */
	in->fixed_fd = -2;
	return in;
}

/*
 * True when @fd, the descriptor a create returned, is the inode @st
 * that the name now leads to: nothing renamed another file over the
 * new name in between (possible only behind the mount).
 */
static bool is_created(int fd, const struct stat *st)
{
	struct stat cst;

	return fd >= 0 && fstat(fd, &cst) == 0 && cst.st_dev == st->st_dev &&
	       cst.st_ino == st->st_ino;
}

/*
 * @created_fd: the descriptor of a file the daemon has just created as
 * @name, or -1.  A new file has no pin record, so reading it is skipped.
 */
static int do_lookup(struct rfs *fs, struct rfs_inode *dir, const char *name,
		     struct fuse_entry_param *e, int created_fd)
{
	struct rfs_inode *in, *fresh;
	struct file_handle *fh;
	struct stat st;
	int dfd, fd, err;

	/* '..' of the root is the root: never step out of the backing tree. */
	if (dir == &fs->root && strcmp(name, "..") == 0)
		name = ".";

	dfd = rfs_ifd_get(fs, dir);
	if (dfd < 0)
		return dfd;
	fd = openat_retry(fs, dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	rfs_ifd_put(fs, dir);
	if (fd < 0)
		return fd;
	if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
		err = -errno;
		close(fd);
		return err;
	}

	memset(e, 0, sizeof(*e));
	e->attr = st;
	e->attr_timeout = fs->timeout;
	e->entry_timeout = fs->timeout;

	/*
	 * The handle tells a reused inode number from the inode the kernel
	 * still remembers under it: filesystems such as XFS hand a freed
	 * number to the next new file at once.
	 */
	fh = fs->handles ? handle_of(fd) : NULL;

	pthread_mutex_lock(&fs->itab.lock);
	in = find_locked(&fs->itab, st.st_dev, st.st_ino);
	if (in && !stale_locked(&fs->itab, in, fh)) {
		in->nlookup++;
		pthread_mutex_unlock(&fs->itab.lock);
		free(fh);
		close(fd);
		e->ino = in == &fs->root ? FUSE_ROOT_ID : (uintptr_t)in;
		return 0;
	}
	pthread_mutex_unlock(&fs->itab.lock);

	fresh = inode_new(fs, fd, &st, fh);
	if (!fresh) {
		free(fh);
		close(fd);
		return -ENOMEM;
	}
	/*
	 * Before the kernel may use the inode: a file whose stored pins
	 * cannot be read must not look unpinned (DESIGN §11), so the
	 * lookup fails instead and a later one tries again.
	 */
	if (fresh->type == S_IFREG) {
		err = is_created(created_fd, &st)
			      ? rfs_pins_load_created(fs, fresh)
			      : rfs_pins_load(fs, fresh, fd);
		if (err) {
			fresh->fixed_fd = -1;
			inode_free(fs, fresh);
			close(fd);
			return err;
		}
	}

	pthread_mutex_lock(&fs->itab.lock);
	in = find_locked(&fs->itab, st.st_dev, st.st_ino);
	if (in && !stale_locked(&fs->itab, in, fresh->handle)) {
		/* Lost a race with another lookup of the same inode. */
		in->nlookup++;
		pthread_mutex_unlock(&fs->itab.lock);
		fresh->fixed_fd = -1;
		inode_free(fs, fresh);
		close(fd);
		e->ino = in == &fs->root ? FUSE_ROOT_ID : (uintptr_t)in;
		return 0;
	}
	fresh->nlookup = 1;
	if (fresh->fixed_fd == -2)
		fresh->fixed_fd = fd;
	insert_locked(&fs->itab, fresh);
	pthread_mutex_unlock(&fs->itab.lock);

	/* The lookup's descriptor is the first cached one. */
	if (fresh->handle)
		fdc_adopt(&fs->fdc, &fresh->fdc, fd);
	e->ino = (uintptr_t)fresh;
	return 0;
}

int rfs_do_lookup(struct rfs *fs, struct rfs_inode *dir, const char *name,
		  struct fuse_entry_param *e)
{
	return do_lookup(fs, dir, name, e, -1);
}

int rfs_do_lookup_created(struct rfs *fs, struct rfs_inode *dir,
			  const char *name, int fd, struct fuse_entry_param *e)
{
	return do_lookup(fs, dir, name, e, fd);
}

void rfs_forget_one(struct rfs *fs, struct rfs_inode *in, uint64_t n)
{
	if (in == &fs->root)
		return;
	pthread_mutex_lock(&fs->itab.lock);
	if (n > in->nlookup)
		n = in->nlookup;
	in->nlookup -= n;
	if (in->nlookup) {
		pthread_mutex_unlock(&fs->itab.lock);
		return;
	}
	if (find_locked(&fs->itab, in->dev, in->ino) == in)
		remove_locked(&fs->itab, in);
	else
		unlink_from(&fs->itab.stale, in);
	pthread_mutex_unlock(&fs->itab.lock);
	inode_free(fs, in);
}
