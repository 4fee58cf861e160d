// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control xattrs: parse, dispatch, reply; see ctlxattr.h.
 *
 * Everything that reaches the pin service has been parsed here (ranges
 * with lib/core/range.c, the root's unpin value with
 * pesc_parse_path_range()), and every value sent back is written with
 * lib/core/proto_format.c, so the daemon speaks exactly the format the
 * clients parse.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ctlxattr.h"
#include "listing.h"
#include "mediate.h"
#include "pinsvc.h"
#include "session.h"
#include "core/pathesc.h"
#include "core/pinindex.h"
#include "core/pintable.h"
#include "core/proto_format.h"
#include "core/proto_session.h"
#include "core/strbuf.h"

static bool has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

static void reply_text(fuse_req_t req, int err, struct sbuf *b, size_t size)
{
	if (!err)
		err = sbuf_err(b);
	if (err)
		fuse_reply_err(req, -err);
	else if (b->len > PROTO_VALUE_MAX)
		fuse_reply_err(req, E2BIG);
	else if (size == 0)
		fuse_reply_xattr(req, b->len);
	else if (size < b->len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, sbuf_str(b), b->len);
	sbuf_free(b);
}

static int pin_line(const struct pin *p, void *arg)
{
	proto_format_pin_line(arg, NULL, p);
	return 0;
}

/* user.rdmafs.pin (get): the file's pins, one line each. */
static int get_pins(struct rfs *fs, struct rfs_inode *in, struct sbuf *b)
{
	struct ptab_file *f;

	if (in->type != S_IFREG)
		return -ENODATA;
	f = rfs_pins_lock(fs, in->dev, in->ino);
	if (!f)
		return -ENODATA;
	pset_foreach(ptab_file_pins(f), pin_line, b);
	ptab_file_unlock(fs->pins, f);
	return b->len ? sbuf_err(b) : -ENODATA;
}

/*
 * user.rdmafs.session: where the session channel is (proto_session.h).
 * ENOTSUP without one, as for an attribute the filesystem lacks.
 */
static int get_session(struct rfs *fs, struct sbuf *b)
{
	char addr[256];
	int n = rfs_sess_address(fs, addr, sizeof(addr));

	if (n < 0)
		return n == -ENOTSUP ? -ENOTSUP : -EIO;
	sbuf_add(b, addr, (size_t)n);
	return sbuf_err(b);
}

/* user.rdmafs.status: the listing's counts, then the policy's lines. */
static int get_status(fuse_req_t req, struct sbuf *b)
{
	int err = rfs_listing_status(req, b);

	if (err)
		return err;
	/* Straight into @b: no fixed buffer to cut the counters short. */
	rfs_mediate_status(rfs_of(req), b);
	return sbuf_err(b);
}

static int ctl_pin(fuse_req_t req, struct rfs_inode *in, const char *value,
		   size_t size)
{
	struct rng r[PROTO_PIN_RANGES_MAX];
	size_t n;
	int err;

	if (in->type != S_IFREG)
		return -EINVAL;
	err = rng_parse_list(value, size, r, PROTO_PIN_RANGES_MAX, &n);
	if (err)
		return err == -E2BIG ? -EINVAL : err;
	return rfs_pins_add(req, in, r, n);
}

/* user.rdmafs.unpin on a file (@value a RANGE), or removexattr (NULL). */
static int ctl_unpin_file(fuse_req_t req, struct rfs_inode *in,
			  const char *value, size_t size)
{
	struct rfs *fs = rfs_of(req);
	bool whole = false;
	struct rng r;
	int fd, err;

	if (in->type != S_IFREG)
		return -EINVAL;
	if (value) {
		err = pesc_parse_unpin_range(value, size, &r, &whole);
		if (err)
			return err;
	}
	fd = rfs_ifd_get(fs, in);
	if (fd < 0)
		return fd;
	err = rfs_pins_remove(req, in->dev, in->ino, fd, value ? &r : NULL,
			      whole, value ? "setxattr" : "removexattr");
	rfs_ifd_put(fs, in);
	return err;
}

/* True when @fd is the hidden store, or inside it. */
static int in_hidden_store(struct rfs *fs, int fd)
{
	size_t n = strlen(PIDX_DIR);
	char rel[PATH_MAX];
	int err = rfs_rel_path(fs, fd, rel, sizeof(rel));

	if (err)
		return err;
	return strncmp(rel, PIDX_DIR, n) == 0 &&
	       (rel[n] == '\0' || rel[n] == '/');
}

/*
 * user.rdmafs.unpin on the mount root: "PATH RANGE [ino=INO]".
 *
 * While an operation on a file is parked, the kernel holds that file's
 * inode lock, so an unpin through the file itself would wait for the
 * very operation it should release; through the root it does not.
 *
 * The path is resolved with the caller's rights (a directory it cannot
 * search answers EACCES, whether or not the file exists), and what it
 * resolves to is checked, not its spelling: the hidden store is not
 * there for anyone ("./.rdmafs/index" and "a/../.rdmafs" included).
 * With INO, a path that now leads to another inode (the file renamed or
 * replaced since the caller named it) answers ESTALE and unpins nothing.
 */
static int ctl_unpin_path(fuse_req_t req, const char *value, size_t size)
{
	struct rfs *fs = rfs_of(req);
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	struct rfs_cred cred;
	struct stat st;
	struct rng r;
	uint64_t ino;
	bool whole;
	char *path;
	int fd, err;

	err = pesc_parse_unpin(value, size, &path, &r, &ino, &whole);
	if (err)
		return err;
	err = rfs_cred_enter(req, &cred, true);
	if (err) {
		free(path);
		return err;
	}
	fd = (int)syscall(SYS_openat2, fs->root_fd, path, &how, sizeof(how));
	err = fd < 0 ? -errno : 0;
	rfs_cred_leave(&cred);
	free(path);
	if (err)
		return err;
	err = in_hidden_store(fs, fd);
	if (err > 0)
		err = -ENOENT; /* as the mount shows it: not there */
	if (!err && fstat(fd, &st) < 0)
		err = -errno;
	/* The mount shows the backing inode's number (ops_attr.c). */
	if (!err && ino && (uint64_t)st.st_ino != ino)
		err = -ESTALE;
	if (!err && !S_ISREG(st.st_mode))
		err = -EINVAL;
	if (!err)
		err = rfs_pins_remove(req, st.st_dev, st.st_ino, fd, &r, whole,
				      "setxattr");
	close(fd);
	return err;
}

bool rfs_ctl_getxattr(fuse_req_t req, struct rfs_inode *in, const char *name,
		      size_t size)
{
	struct rfs *fs = rfs_of(req);
	struct sbuf b = SBUF_INIT;
	unsigned long page;
	int err;

	if (has_prefix(name, PROTO_HIDDEN_PREFIX)) {
		fuse_reply_err(req, ENODATA);
		return true;
	}
	if (!has_prefix(name, PROTO_PREFIX))
		return false;
	if (strcmp(name, PROTO_PIN) == 0)
		err = get_pins(fs, in, &b);
	else if (in == &fs->root && proto_page_parse(name, &page))
		err = rfs_listing_page(req, page, &b);
	else if (in == &fs->root && strcmp(name, PROTO_STATUS) == 0)
		err = get_status(req, &b);
	else if (in == &fs->root && strcmp(name, PROTO_SESSION) == 0)
		err = get_session(fs, &b);
	else
		err = -ENODATA;
	reply_text(req, err, &b, size);
	return true;
}

bool rfs_ctl_setxattr(fuse_req_t req, struct rfs_inode *in, const char *name,
		      const char *value, size_t size)
{
	int err;

	if (has_prefix(name, PROTO_HIDDEN_PREFIX)) {
		fuse_reply_err(req, EPERM);
		return true;
	}
	if (!has_prefix(name, PROTO_PREFIX))
		return false;
	if (strcmp(name, PROTO_PIN) == 0)
		err = ctl_pin(req, in, value, size);
	else if (strcmp(name, PROTO_UNPIN) == 0 && in == &rfs_of(req)->root)
		err = ctl_unpin_path(req, value, size);
	else if (strcmp(name, PROTO_UNPIN) == 0)
		err = ctl_unpin_file(req, in, value, size);
	else
		err = -EINVAL;
	fuse_reply_err(req, -err);
	return true;
}

bool rfs_ctl_removexattr(fuse_req_t req, struct rfs_inode *in, const char *name)
{
	int err;

	if (has_prefix(name, PROTO_HIDDEN_PREFIX)) {
		fuse_reply_err(req, EPERM);
		return true;
	}
	if (!has_prefix(name, PROTO_PREFIX))
		return false;
	if (strcmp(name, PROTO_PIN) == 0)
		err = ctl_unpin_file(req, in, NULL, 0);
	else
		err = -EINVAL;
	fuse_reply_err(req, -err);
	return true;
}

size_t rfs_ctl_filter_list(char *list, size_t len)
{
	size_t in = 0, out = 0;

	while (in < len) {
		size_t n = strnlen(list + in, len - in) + 1;

		if (!has_prefix(list + in, PROTO_HIDDEN_PREFIX) &&
		    !has_prefix(list + in, PROTO_PREFIX)) {
			memmove(list + out, list + in, n);
			out += n;
		}
		in += n;
	}
	return out;
}
