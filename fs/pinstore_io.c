// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Storing and reading a file's persistent pins; see pinstore_io.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <syslog.h>
#include <unistd.h>

#include "ops.h"
#include "core/pinindex.h"
#include "pinsvc.h"
#include "pinstore_io.h"
#include "session.h"
#include "core/pinstore.h"
#include "core/pintable.h"

/* Tries to read a value that keeps changing size under us. */
#define READ_TRIES 4

/*
 * A descriptor that xattr calls and fsync accept: O_PATH descriptors do
 * neither, so those are reopened (read-only: fsync needs no more).
 */
static int usable_fd(int fd, bool *opened)
{
	char path[64];
	int flags = fcntl(fd, F_GETFL), nfd;

	*opened = false;
	if (flags < 0)
		return -errno;
	if (!(flags & O_PATH))
		return fd;
	rfs_fd_path(path, sizeof(path), fd);
	nfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nfd < 0)
		return -errno;
	*opened = true;
	return nfd;
}

int rfs_pins_store(int fd, const struct pset *set)
{
	size_t size = pstore_size(pset_count(set));
	bool opened;
	void *buf;
	ssize_t n;
	int wfd, err = 0;

	if (size > PROTO_VALUE_MAX)
		return -ENOSPC;
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	n = pstore_encode(set, buf, size);
	if (n < 0) {
		free(buf);
		return (int)n;
	}
	wfd = usable_fd(fd, &opened);
	if (wfd < 0) {
		free(buf);
		return wfd;
	}
	if (n == 0)
		err = fremovexattr(wfd, PROTO_STORE) < 0 && errno != ENODATA
			      ? -errno
			      : 0;
	else if (fsetxattr(wfd, PROTO_STORE, buf, (size_t)n, 0) < 0)
		/* E2BIG and ERANGE: the filesystem cannot hold that many. */
		err = errno == E2BIG || errno == ERANGE ? -ENOSPC : -errno;
	/*
	 * On the device before the caller is told.  fsync of the file is
	 * not enough: on XFS (6.18) an fsync'd xattr change was lost in
	 * about one power cut in ten while other transactions ran (an
	 * xattr update spans several transactions, and the inode can be
	 * unpinned before the last one is forced), where syncfs, which
	 * forces the whole log, lost none in hundreds (tests/
	 * test-mount-crash.c).  On DAX there is no page cache for syncfs
	 * to write back, so it costs little more than the log force.
	 */
	if (!err && syncfs(wfd) < 0)
		err = -errno;
	if (opened)
		close(wfd);
	free(buf);
	return err;
}

struct collect {
	struct pin *pins;
	size_t n;
};

static int collect_pin(const struct pin *p, void *arg)
{
	struct collect *c = arg;

	c->pins[c->n++] = *p;
	return 0;
}

/* Reads the raw value into a new *@buf; returns its length or -errno. */
static ssize_t read_value(int fd, void **buf)
{
	char path[64];
	ssize_t n, m;
	int i;

	rfs_fd_path(path, sizeof(path), fd);
	for (i = 0; i < READ_TRIES; i++) {
		n = getxattr(path, PROTO_STORE, NULL, 0);
		if (n < 0)
			return -errno;
		*buf = malloc(n ? (size_t)n : 1);
		if (!*buf)
			return -ENOMEM;
		m = getxattr(path, PROTO_STORE, *buf, (size_t)n);
		if (m >= 0)
			return m;
		free(*buf);
		*buf = NULL;
		/* ERANGE: it grew since the size was read; read it again. */
		if (errno != ERANGE)
			return -errno;
	}
	return -EAGAIN;
}

int rfs_pins_read_stored(int fd, struct pin **pins, size_t *n)
{
	struct collect c = { 0 };
	void *buf = NULL;
	ssize_t len = read_value(fd, &buf);
	int err;

	*pins = NULL;
	*n = 0;
	if (len == -ENODATA || len == -ENOTSUP)
		return 0;
	if (len < 0)
		return (int)len;
	/* At most one pin per record, and one for a damaged value. */
	c.pins = malloc(((size_t)len / PSTORE_REC + 1) * sizeof(*c.pins));
	if (!c.pins) {
		free(buf);
		return -ENOMEM;
	}
	err = pstore_decode(buf, (size_t)len, collect_pin, &c);
	if (err == -EUCLEAN) {
		struct stat st;

		/* Every record is checked before any is passed on. */
		c.n = 0;
		c.pins[c.n++] = (struct pin){ .all = true };
		fstat(fd, &st);
		syslog(LOG_ERR,
		       "damaged pin record on inode %llu: treated as pinned whole by root until root unpins it",
		       (unsigned long long)st.st_ino);
		err = 0;
	}
	free(buf);
	if (err) {
		free(c.pins);
		return err;
	}
	*pins = c.pins;
	*n = c.n;
	return 0;
}

static bool every_pin(const struct pin *p, void *arg)
{
	return true;
}

/*
 * Every pin, as every_pin(), telling the holder of each session pin
 * that it is revoked: it was the deleted file's, whose number a new file
 * reuses.  With the file's lock held: the sessions' lock comes after it
 * (session_int.h) and rfs_sess_revoked() never blocks, and telling here
 * needs no memory, so no holder is ever left unseen (DESIGN §11).
 */
static bool every_pin_told(const struct pin *p, void *arg)
{
	if (p->sess)
		rfs_sess_revoked(arg, p, NULL);
	return true;
}

static size_t handle_len(const struct file_handle *fh)
{
	return fh ? sizeof(*fh) + fh->handle_bytes : 0;
}

/*
 * Drops the pins of a locked @f when they belong to another file than
 * @fh (an earlier inode of the same number, deleted behind the mount:
 * its pins died with it), and tags @f as @fh's.  Returns 0, or -ENOMEM
 * with nothing changed; *@dropped is set when pins went.
 */
static int claim(struct rfs *fs, struct ptab_file *f,
		 const struct file_handle *fh, bool *dropped)
{
	uint64_t dev, ino;
	size_t n;

	if (!fh)
		return 0;
	if (ptab_file_tag_differs(f, fh, handle_len(fh)) &&
	    pset_count(ptab_file_pins(f))) {
		/* Tag first: it is what can fail. */
		if (ptab_file_set_tag(f, fh, handle_len(fh)))
			return -ENOMEM;
		n = ptab_pin_remove_if(fs->pins, f, every_pin_told, fs);
		ptab_file_inode(f, &dev, &ino);
		syslog(LOG_NOTICE,
		       "inode %llu is a new file: dropped the %zu pins of the deleted file that had its number",
		       (unsigned long long)ino, n);
		*dropped = true;
		return 0;
	}
	return ptab_file_set_tag(f, fh, handle_len(fh));
}

struct ptab_file *rfs_pins_entry(struct rfs *fs, const struct rfs_inode *in,
				 bool *dropped)
{
	struct ptab_file *f = ptab_get_or_create(fs->pins, in->dev, in->ino);
	int err;

	*dropped = false;
	if (!f)
		return NULL;
	err = claim(fs, f, in->handle, dropped);
	if (err) {
		ptab_file_unlock(fs->pins, f);
		errno = -err;
		return NULL;
	}
	return f;
}

/*
 * For a file with nothing stored: pins the table has under its number
 * belong to a dead file with that number, and go (*@dropped).
 */
static int claim_unstored(struct rfs *fs, uint64_t dev, uint64_t ino,
			  const struct file_handle *fh, bool *dropped)
{
	struct ptab_file *f = fh ? rfs_pins_lock(fs, dev, ino) : NULL;
	int err = 0;

	if (f) {
		err = claim(fs, f, fh, dropped);
		ptab_file_unlock(fs->pins, f);
	}
	return err;
}

/*
 * Loads the stored pins of the inode open at @fd (named by @fh, when
 * known) into the table, all or none, unless the table has its pins
 * already (then *@fresh is false).  Pins of another file with the same
 * number go first (*@dropped).  When something is stored, *@fp is the
 * file's entry, locked, for the caller to unlock; else NULL.
 */
static int load_fd(struct rfs *fs, uint64_t dev, uint64_t ino,
		   const struct file_handle *fh, int fd, struct ptab_file **fp,
		   bool *fresh, bool *dropped)
{
	struct ptab_file *f;
	struct pin *pins;
	size_t n, i;
	int err;

	*fp = NULL;
	*fresh = *dropped = false;
	err = rfs_pins_read_stored(fd, &pins, &n);
	if (err)
		return err;
	if (n == 0)
		return claim_unstored(fs, dev, ino, fh, dropped);
	f = ptab_get_or_create(fs->pins, dev, ino);
	if (!f) {
		free(pins);
		return -ENOMEM;
	}
	err = claim(fs, f, fh, dropped);
	if (err) {
		ptab_file_unlock(fs->pins, f);
		free(pins);
		return err;
	}
	/* Pins in the table already: loaded by an earlier lookup. */
	if (pset_count(ptab_file_pins(f)) == 0) {
		for (i = 0; i < n && !err; i++)
			err = ptab_pin_load(fs->pins, f, &pins[i], NULL);
		/* All or none: a partial set would be stored as the whole. */
		if (err)
			ptab_pin_remove_if(fs->pins, f, every_pin, NULL);
		*fresh = !err;
	}
	free(pins);
	*fp = f;
	return err;
}

int rfs_pins_load(struct rfs *fs, struct rfs_inode *in, int fd)
{
	char rel[PATH_MAX];
	struct ptab_file *f;
	bool fresh, dropped;
	int err, perr;

	if (!fs->pins)
		return 0;
	err = load_fd(fs, in->dev, in->ino, in->handle, fd, &f, &fresh,
		      &dropped);
	if (!f) {
		/* The index named the dead file: not this one's business. */
		if (!err && dropped && fs->pidx)
			pidx_del(fs->pidx, in->dev, in->ino);
		if (dropped)
			rfs_pins_changed(fs);
		return err;
	}
	/* Looked up by name: repair the index if it lost this file. */
	if (!err && pset_count(ptab_file_pins(f)) && fs->pidx) {
		perr = pidx_add(fs->pidx, in->dev, in->ino, in->handle,
				rfs_rel_path(fs, fd, rel, sizeof(rel)) == 0
					? rel
					: NULL);
		/*
		 * Fail closed (DESIGN §11): not recorded, a listing after
		 * a restart would miss the file.  The pins stay in the
		 * table, enforced; the next lookup tries again.
		 */
		if (perr) {
			syslog(LOG_WARNING,
			       "couldn't record inode %llu in the pin index: %s: its lookup fails until it can",
			       (unsigned long long)in->ino, strerror(-perr));
			err = perr;
		}
	}
	ptab_file_unlock(fs->pins, f);
	/*
	 * New in the table, and maybe in the index: listings are old.
	 * After the file's lock: this wakes the mediator, which takes
	 * files' locks under its own.
	 */
	if (fresh || dropped)
		rfs_pins_changed(fs);
	return err;
}

int rfs_pins_load_created(struct rfs *fs, struct rfs_inode *in)
{
	bool dropped = false;
	int err;

	if (!fs->pins)
		return 0;
	/* No getxattr: a file created a moment ago has no pin record. */
	err = claim_unstored(fs, in->dev, in->ino, in->handle, &dropped);
	if (!err && dropped && fs->pidx)
		pidx_del(fs->pidx, in->dev, in->ino);
	if (dropped)
		rfs_pins_changed(fs);
	return err;
}

void rfs_pins_preload(struct rfs *fs)
{
	struct pidx_item *items = NULL;
	struct ptab_file *f;
	size_t i, failed = 0;
	ssize_t n;
	struct stat st;
	bool fresh, dropped;
	int fd, err;

	n = fs->pidx && fs->pins ? pidx_items(fs->pidx, &items) : 0;
	if (n < 0) {
		syslog(LOG_WARNING, "couldn't preload the pins: %s",
		       strerror((int)-n));
		return;
	}
	for (i = 0; i < (size_t)n; i++) {
		fd = open_by_handle_at(fs->mount_fd, items[i].fh,
				       O_PATH | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ESTALE) /* gone, with its pins */
				pidx_del(fs->pidx, items[i].dev, items[i].ino);
			else
				failed++;
			continue;
		}
		f = NULL;
		err = fstat(fd, &st) < 0 ? -errno : 0;
		if (!err)
			err = load_fd(fs, st.st_dev, st.st_ino, items[i].fh, fd,
				      &f, &fresh, &dropped);
		if (!err && !f)
			pidx_del(fs->pidx, items[i].dev, items[i].ino);
		if (f)
			ptab_file_unlock(fs->pins, f);
		failed += err != 0;
		close(fd);
	}
	if (items)
		pidx_free_items(items, (size_t)n);
	if (failed)
		syslog(LOG_WARNING,
		       "couldn't preload the pins of %zu files: they load when looked up",
		       failed);
}
