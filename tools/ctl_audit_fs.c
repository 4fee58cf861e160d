// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rdmafsctl audit: the filesystem underneath, through the descriptor
 * audit_reach_backing() (ctl_audit.c) opened: the daemon's own backing
 * directory, checked by identity.  Everything here only reads, except
 * the DAX probe, an O_TMPFILE that never has a name (or, where O_TMPFILE
 * is not offered, a random hidden name unlinked at once).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "ctl_audit.h"

#ifndef STATX_ATTR_DAX
#define STATX_ATTR_DAX 0x00200000
#endif

/*
 * The XFS geometry ioctl, as <xfs/xfs_fs.h> (xfslibs-dev) defines it:
 * defined here so that the tool builds without that package.  The v5
 * structure is 256 bytes; only the fields up to flags matter here.
 */
struct audit_xfs_geom {
	uint32_t blocksize, rtextsize, agblocks, agcount, logblocks, sectsize;
	uint32_t inodesize, imaxpct;
	uint64_t datablocks, rtblocks, rtextents, logstart;
	unsigned char uuid[16];
	uint32_t sunit, swidth;
	int32_t version;
	uint32_t flags;
	unsigned char rest[256 - 96];
};
_Static_assert(sizeof(struct audit_xfs_geom) == 256, "xfs_fsop_geom v5");
#define AUDIT_XFS_IOC_FSGEOMETRY _IOR('X', 126, struct audit_xfs_geom)
#define AUDIT_XFS_GEOM_REFLINK (1u << 20) /* XFS_FSOP_GEOM_FLAGS_REFLINK */

#define XFS_MAGIC 0x58465342
#define EXT4_MAGIC 0xEF53
#define TMPFS_MAGIC 0x01021994

/* The FIEMAP work of the pins check: enough for big files, never hours. */
#define PIN_MAX_EXTENTS 65536
#define PIN_MAX_SECONDS 10
#define PIN_MAX_SHOWN 8

/* ---- mountinfo ---- */

/* Undoes mountinfo's \ooo escapes in place. */
static char *unoctal(char *s)
{
	char *r = s, *w = s;

	while (*r) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' &&
		    r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 +
				      (r[3] - '0'));
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = 0;
	return s;
}

static int parse_line(char *line, struct audit_mnt *m)
{
	char *f[6], *save = NULL, *tok, *sep;
	int i;

	memset(m, 0, sizeof(*m));
	sep = strstr(line, " - ");
	if (!sep)
		return -EINVAL;
	*sep = 0;
	tok = strtok_r(line, " ", &save);
	for (i = 0; i < 6 && tok; i++, tok = strtok_r(NULL, " ", &save))
		f[i] = tok;
	if (i < 6 || sscanf(f[0], "%d", &m->id) != 1 ||
	    sscanf(f[2], "%u:%u", &m->major, &m->minor) != 2)
		return -EINVAL;
	save = NULL;
	m->root = strdup(unoctal(f[3]));
	m->mountpoint = strdup(unoctal(f[4]));
	m->opts = strdup(f[5]);
	tok = strtok_r(sep + 3, " \n", &save);
	m->fstype = strdup(tok ? tok : "?");
	tok = strtok_r(NULL, " \n", &save);
	m->source = strdup(tok ? unoctal(tok) : "?");
	tok = strtok_r(NULL, " \n", &save);
	m->superopts = strdup(tok ? tok : "");
	if (!m->root || !m->mountpoint || !m->opts || !m->fstype ||
	    !m->source || !m->superopts) {
		audit_mountinfo_free(m, 1);
		return -ENOMEM;
	}
	return 0;
}

void audit_mountinfo_free(struct audit_mnt *mnts, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(mnts[i].root);
		free(mnts[i].mountpoint);
		free(mnts[i].fstype);
		free(mnts[i].source);
		free(mnts[i].opts);
		free(mnts[i].superopts);
	}
}

int audit_mountinfo_read(pid_t pid, struct audit_mnt **mnts, size_t *n)
{
	char path[64], *line = NULL;
	struct audit_mnt *v = NULL, m;
	size_t len = 0, cnt = 0;
	FILE *f;
	int err = 0;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/mountinfo");
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (getline(&line, &len, f) > 0) {
		void *p;

		if (parse_line(line, &m))
			continue;
		p = realloc(v, (cnt + 1) * sizeof(*v));
		if (!p) {
			audit_mountinfo_free(&m, 1);
			err = -ENOMEM;
			break;
		}
		v = p;
		v[cnt++] = m;
	}
	free(line);
	fclose(f);
	if (err) {
		audit_mountinfo_free(v, cnt);
		free(v);
		return err;
	}
	*mnts = v;
	*n = cnt;
	return 0;
}

/* ---- the backing ---- */

static bool unreachable(struct audit *a, const char *check)
{
	if (a->bfd >= 0)
		return false;
	audit_add(a, check, AUDIT_WARNING,
		  "couldn't reach the backing (%s): not checked%s", a->why_not,
		  a->root ? "" : "; run as root");
	return true;
}

/* ---- fs-type ---- */

static const char *magic_name(long type)
{
	switch ((unsigned long)type) {
	case XFS_MAGIC:
		return "xfs";
	case EXT4_MAGIC:
		return "ext4";
	case TMPFS_MAGIC:
		return "tmpfs";
	case 0x858458f6:
		return "ramfs";
	case 0x65735546:
		return "fuse";
	case 0x9123683e:
		return "btrfs";
	case 0x794c7630:
		return "overlay";
	case 0x6969:
		return "nfs";
	default:
		return "unknown";
	}
}

static const char *fstype(struct audit *a, long magic)
{
	return a->have_mnt ? a->bmnt.fstype : magic_name(magic);
}

void audit_check_fstype(struct audit *a)
{
	struct statfs sf;
	const char *name, *src;

	if (unreachable(a, "fs-type"))
		return;
	if (fstatfs(a->bfd, &sf)) {
		audit_add(a, "fs-type", AUDIT_WARNING,
			  "couldn't statfs the backing: %s", strerror(errno));
		return;
	}
	name = fstype(a, sf.f_type);
	src = a->have_mnt ? a->bmnt.source : "?";
	if ((sf.f_type == XFS_MAGIC && !strcmp(name, "xfs")) ||
	    (sf.f_type == EXT4_MAGIC && !strcmp(name, "ext4")))
		audit_add(
			a, "fs-type", AUDIT_OK,
			"%s on %s: a block filesystem with a block map to pin and DAX support (backing %s, reached through %s)",
			name, src, a->bpath ? a->bpath : a->backing, a->via);
	else
		audit_add(
			a, "fs-type", AUDIT_FAILURE,
			"%s on %s is not xfs or ext4: no block map rdmafs can keep stable and no fsdax; put the backing on XFS or ext4 on a pmem device mounted with -o dax=always",
			name, src);
	audit_fact_str(a, "fstype", name);
	audit_fact_str(a, "source", src);
	audit_fact_str(a, "backing", a->bpath ? a->bpath : a->backing);
	audit_fact_str(a, "via", a->via);
}

/* ---- dax and map-sync ---- */

static bool has_opt(const char *opts, const char *opt)
{
	size_t n = strlen(opt);
	const char *p = opts;

	while (p && *p) {
		if (!strncmp(p, opt, n) && (p[n] == ',' || !p[n]))
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

static const char *dax_option(const struct audit *a)
{
	static const char *const opts[] = { "dax=always", "dax=inode",
					    "dax=never", "dax" };
	size_t i;

	if (!a->have_mnt)
		return NULL;
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		if (has_opt(a->bmnt.superopts, opts[i]) ||
		    has_opt(a->bmnt.opts, opts[i]))
			return opts[i];
	}
	return "none";
}

/* The block device's queue/dax: 1, 0, or -1 when not known. */
static int device_dax(const struct audit *a)
{
	char path[96], c = 0;
	unsigned int ma = major(a->bst.st_dev), mi = minor(a->bst.st_dev);
	FILE *f;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/queue/dax", ma, mi);
	f = fopen(path, "re");
	if (!f) {
		/* a partition has its disk's queue */
		snprintf(path, sizeof(path),
			 "/sys/dev/block/%u:%u/../queue/dax", ma, mi);
		f = fopen(path, "re");
	}
	if (!f)
		return -1;
	if (fread(&c, 1, 1, f) != 1)
		c = 0;
	fclose(f);
	return c == '1' ? 1 : c == '0' ? 0 : -1;
}

/* An existing regular file, opened read-only, when we cannot create. */
static int existing_file(struct audit *a)
{
	int dfd = openat(a->bfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *d;
	struct stat st;
	int fd = -1, seen = 0;
	DIR *dp;

	if (dfd < 0)
		return -1;
	dp = fdopendir(dfd);
	if (!dp) {
		close(dfd);
		return -1;
	}
	while (fd < 0 && seen++ < 1000 && (d = readdir(dp))) {
		/* not the daemon's hidden store */
		if (!strncmp(d->d_name, ".rdmafs", 7))
			continue;
		if (fstatat(a->bfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode))
			continue;
		fd = openat(a->bfd, d->d_name,
			    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
				    O_NOATIME);
		if (fd < 0 && errno == EPERM)
			fd = openat(a->bfd, d->d_name,
				    O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
					    O_CLOEXEC);
		if (fd >= 0)
			snprintf(a->probe_how, sizeof(a->probe_how),
				 "an existing file (no write access)");
	}
	closedir(dp);
	return fd;
}

/*
 * Where O_TMPFILE is not offered: a random name, created exclusively and
 * unlinked only while it still is our file (a name an attacker can guess
 * or swap would make audit remove someone else's).
 */
static int named_probe(struct audit *a)
{
	unsigned long long r = 0;
	struct stat fst, nst;
	char name[64];
	int fd;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r ^= (unsigned long long)getpid() << 32 ^
		     (unsigned long long)time(NULL) ^ (uintptr_t)&r;
	snprintf(name, sizeof(name), ".rdmafsctl-audit.%016llx", r);
	fd = openat(a->bfd, name,
		    O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (!fstat(fd, &fst) &&
	    !fstatat(a->bfd, name, &nst, AT_SYMLINK_NOFOLLOW) &&
	    fst.st_dev == nst.st_dev && fst.st_ino == nst.st_ino)
		unlinkat(a->bfd, name, 0);
	snprintf(a->probe_how, sizeof(a->probe_how),
		 "a file named %s for a moment (no O_TMPFILE here)", name);
	return fd;
}

static int make_probe(struct audit *a)
{
	int fd;

	/* O_TMPFILE: a file that never has a name, gone at close */
	fd = openat(a->bfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0) {
		snprintf(a->probe_how, sizeof(a->probe_how), "an O_TMPFILE");
		return fd;
	}
	if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL) {
		fd = named_probe(a);
		if (fd >= 0)
			return fd;
	}
	return existing_file(a);
}

void audit_check_dax(struct audit *a)
{
	const char *opt, *how;
	struct statx sx;
	bool known;
	int dev;

	if (unreachable(a, "dax"))
		return;
	opt = dax_option(a);
	dev = device_dax(a);
	a->probe = make_probe(a);
	known = a->probe >= 0 &&
		!statx(a->probe, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx) &&
		(sx.stx_attributes_mask & STATX_ATTR_DAX);
	a->probe_dax = known && (sx.stx_attributes & STATX_ATTR_DAX);
	how = a->probe >= 0 ? a->probe_how : "none possible";
	if (a->probe_dax) {
		audit_add(
			a, "dax", AUDIT_OK,
			"DAX: a probe file (%s) has the DAX attribute (mount option %s): mappings reach the pmem blocks directly",
			how, opt ? opt : "unknown");
	} else if (known) {
		audit_add(
			a, "dax", AUDIT_FAILURE,
			"not DAX: a probe file (%s) has no DAX attribute (mount option %s%s%s%s): pages would go through the page cache, where RDMA writes land in cache pages, not in the pinned blocks; RDMA pins of fsdax need a pmem device (fsdax namespace) mounted with -o dax=always",
			how, opt ? opt : "unknown", dev >= 0 ? "; " : "",
			dev < 0	      ? ""
			: a->have_mnt ? a->bmnt.source
				      : "the device",
			dev == 0   ? " is not a DAX-capable device"
			: dev == 1 ? " is DAX-capable"
				   : "");
	} else if (opt && (!strcmp(opt, "dax=always") || !strcmp(opt, "dax"))) {
		audit_add(
			a, "dax", AUDIT_WARNING,
			"couldn't probe a file (%s): the mount says %s, which is DAX for every file",
			how, opt);
	} else {
		audit_add(
			a, "dax", AUDIT_WARNING,
			"couldn't tell whether files are DAX (probe: %s; mount option %s); mount the pmem device with -o dax=always to be sure",
			how, opt ? opt : "unknown");
	}
	audit_fact_bool(a, "dax", a->probe_dax);
	audit_fact_str(a, "mount_option", opt);
	if (dev >= 0)
		audit_fact_bool(a, "device_dax", dev == 1);
	audit_fact_str(a, "probe", a->probe >= 0 ? a->probe_how : NULL);
}

void audit_check_map_sync(struct audit *a)
{
	int prot = PROT_READ, fl;
	void *p;

	if (a->bfd < 0 || a->probe < 0) {
		audit_add(
			a, "map-sync", AUDIT_WARNING,
			"no probe file in the backing: MAP_SYNC not checked%s",
			a->root ? "" : "; run as root");
		return;
	}
	fl = fcntl(a->probe, F_GETFL);
	if (fl >= 0 && (fl & O_ACCMODE) == O_RDWR)
		prot |= PROT_WRITE;
	/* nothing is touched: whether the mapping is offered is the answer */
	p = mmap(NULL, 4096, prot, MAP_SHARED_VALIDATE | MAP_SYNC, a->probe, 0);
	if (p != MAP_FAILED) {
		munmap(p, 4096);
		audit_add(
			a, "map-sync", AUDIT_OK,
			"MAP_SYNC mappings work: an application's flushes of mapped pmem are durable without fsync");
	} else if (errno == EOPNOTSUPP) {
		audit_add(
			a, "map-sync", AUDIT_FAILURE,
			"no MAP_SYNC (EOPNOTSUPP): the backing is not DAX, so its mappings are page cache, not pmem; see the dax check");
	} else {
		audit_add(a, "map-sync", AUDIT_WARNING,
			  "couldn't map the probe file: %s", strerror(errno));
	}
	close(a->probe);
	a->probe = -1;
}

/* ---- reflink ---- */

void audit_check_reflink(struct audit *a)
{
	struct audit_xfs_geom g;
	struct statfs sf;

	if (unreachable(a, "reflink"))
		return;
	if (fstatfs(a->bfd, &sf)) {
		audit_add(a, "reflink", AUDIT_WARNING,
			  "couldn't statfs the backing: %s", strerror(errno));
		return;
	}
	if (sf.f_type != XFS_MAGIC) {
		audit_add(a, "reflink", AUDIT_OK,
			  "%s has no reflink: extents are never shared",
			  fstype(a, sf.f_type));
		audit_fact_bool(a, "reflink", false);
		return;
	}
	memset(&g, 0, sizeof(g));
	if (ioctl(a->bfd, AUDIT_XFS_IOC_FSGEOMETRY, &g)) {
		audit_add(
			a, "reflink", AUDIT_WARNING,
			"couldn't read the XFS geometry: %s; reflink not known",
			strerror(errno));
		return;
	}
	if (g.flags & AUDIT_XFS_GEOM_REFLINK)
		audit_add(
			a, "reflink", AUDIT_OK,
			"xfs reflink=1: files may share extents (cp --reflink, dedupe); rdmafs unshares a range when it is pinned and refuses (or, with reflink=copy, copies) a copy_file_range onto pinned ranges, so pinned blocks stay the file's own; a reflink on the raw path would bypass that (see overmount)");
	else
		audit_add(a, "reflink", AUDIT_OK,
			  "xfs reflink=0: extents are never shared");
	audit_fact_bool(a, "reflink", g.flags & AUDIT_XFS_GEOM_REFLINK);
}

/* ---- pins ---- */

static int open_beneath(int dirfd, const char *path)
{
	struct open_how how = {
		.flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
			 O_NOATIME,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			   RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));

	if (fd < 0 && errno == EPERM) {
		how.flags &= ~(uint64_t)O_NOATIME;
		fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	}
	return (int)fd;
}

#define BAD_FLAGS                                              \
	(FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC |      \
	 FIEMAP_EXTENT_ENCODED | FIEMAP_EXTENT_DATA_INLINE |   \
	 FIEMAP_EXTENT_NOT_ALIGNED | FIEMAP_EXTENT_UNWRITTEN | \
	 FIEMAP_EXTENT_SHARED)

static const char *flag_name(uint32_t f)
{
	if (f & FIEMAP_EXTENT_SHARED)
		return "shared extent";
	if (f & FIEMAP_EXTENT_UNWRITTEN)
		return "unwritten extent";
	if (f & FIEMAP_EXTENT_DELALLOC)
		return "delayed allocation";
	if (f & FIEMAP_EXTENT_UNKNOWN)
		return "extent of unknown location";
	return "extent without a block of its own";
}

#define FM_BATCH 64

/*
 * Walks the extents of [off, off+len): 0 stable, 1 not (*@why says
 * where), -E2BIG over the extent budget, or -errno.
 */
static int walk(int fd, uint64_t off, uint64_t len, char *why, size_t wsz,
		unsigned int *budget)
{
	struct fiemap *fm;
	uint64_t cur = off, end = off + len;
	int ret = 0;
	unsigned int i;

	fm = calloc(1, sizeof(*fm) + FM_BATCH * sizeof(struct fiemap_extent));
	if (!fm)
		return -ENOMEM;
	while (cur < end && !ret) {
		uint64_t before = cur;

		fm->fm_start = cur;
		fm->fm_length = end - cur;
		fm->fm_flags = 0;
		fm->fm_extent_count = FM_BATCH;
		fm->fm_mapped_extents = 0;
		if (ioctl(fd, FS_IOC_FIEMAP, fm)) {
			ret = -errno;
			break;
		}
		if (!fm->fm_mapped_extents) {
			snprintf(why, wsz, "hole at %llu+%llu",
				 (unsigned long long)cur,
				 (unsigned long long)(end - cur));
			ret = 1;
			break;
		}
		for (i = 0; i < fm->fm_mapped_extents && cur < end; i++) {
			struct fiemap_extent *e = &fm->fm_extents[i];
			uint64_t eend = e->fe_logical + e->fe_length;

			if (e->fe_logical > cur) {
				snprintf(why, wsz, "hole at %llu+%llu",
					 (unsigned long long)cur,
					 (unsigned long long)(e->fe_logical -
							      cur));
				ret = 1;
				break;
			}
			if (e->fe_flags & BAD_FLAGS) {
				snprintf(why, wsz, "%s at %llu+%llu",
					 flag_name(e->fe_flags),
					 (unsigned long long)e->fe_logical,
					 (unsigned long long)e->fe_length);
				ret = 1;
				break;
			}
			if (eend > cur)
				cur = eend;
			if (!--*budget) {
				ret = -E2BIG;
				break;
			}
			if ((e->fe_flags & FIEMAP_EXTENT_LAST) && cur < end) {
				snprintf(why, wsz, "hole at %llu+%llu",
					 (unsigned long long)cur,
					 (unsigned long long)(end - cur));
				ret = 1;
				break;
			}
		}
		if (!ret && cur == before) {
			ret = -EIO; /* no progress: a filesystem bug */
			break;
		}
	}
	free(fm);
	return ret;
}

struct pin_tally {
	size_t checked, bad, errors;
	bool capped;
	char *shown; /* "; "-separated problems for the reason */
	char *json; /* the same as a JSON array */
};

static void tally(struct audit *a, struct pin_tally *t,
		  const struct rdmafs_pin *p, const char *what)
{
	char range[48], *line = NULL, *js, *s;

	if (p->range.length == RDMAFS_WHOLE)
		snprintf(range, sizeof(range), "all");
	else
		snprintf(range, sizeof(range), "%llu+%llu",
			 (unsigned long long)p->range.offset,
			 (unsigned long long)p->range.length);
	if (asprintf(&line, "%s %s: %s", p->path, range, what) < 0) {
		a->nomem = true;
		return;
	}
	if (t->bad + t->errors <= PIN_MAX_SHOWN) {
		if (asprintf(&s, "%s%s%s", t->shown ? t->shown : "",
			     t->shown ? "; " : "", line) >= 0) {
			free(t->shown);
			t->shown = s;
		}
	}
	js = audit_json_str(line);
	if (js && asprintf(&s, "%s%s%s", t->json ? t->json : "[",
			   t->json ? ", " : "", js) >= 0) {
		free(t->json);
		t->json = s;
	} else {
		a->nomem = true;
	}
	free(js);
	free(line);
}

static void check_one(struct audit *a, struct pin_tally *t,
		      const struct rdmafs_pin *p, unsigned int *budget)
{
	uint64_t off = p->range.offset, len = p->range.length;
	char why[160], what[200];
	struct stat st;
	int fd, ret;

	if (p->path[0] == '?') {
		t->errors++;
		tally(a, t, p, "the daemon lost the file's path: not checked");
		return;
	}
	fd = open_beneath(a->bfd, p->path);
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(what, sizeof(what), "couldn't open in the backing: %s",
			 strerror(errno));
		t->errors++;
		tally(a, t, p, what);
		if (fd >= 0)
			close(fd);
		return;
	}
	if (len == RDMAFS_WHOLE) {
		off = 0;
		len = (uint64_t)st.st_size;
	}
	ret = len ? walk(fd, off, len, why, sizeof(why), budget) : 0;
	close(fd);
	if (ret == 0 || ret == 1)
		t->checked++;
	if (ret == 1) {
		t->bad++;
		tally(a, t, p, why);
	} else if (ret == -E2BIG) {
		t->capped = true;
	} else if (ret < 0) {
		snprintf(what, sizeof(what), "couldn't FIEMAP: %s",
			 strerror(-ret));
		t->errors++;
		tally(a, t, p, what);
	}
}

void audit_check_pins(struct audit *a)
{
	struct pin_tally t = { 0 };
	unsigned int budget = PIN_MAX_EXTENTS;
	struct timespec t0, now;
	size_t i;

	if (!a->is_mount) {
		audit_add(a, "pins", AUDIT_OK,
			  "not an rdmafs mount: no pins to check");
		return;
	}
	if (a->pins_err) {
		audit_add(
			a, "pins", AUDIT_WARNING,
			"couldn't list the pins: %s; their block map not checked",
			rdmafs_strerror(a->pins_err));
		return;
	}
	if (!a->npins) {
		audit_add(a, "pins", AUDIT_OK, "no pins%s",
			  a->root ? "" : " that this user may see");
		audit_fact_num(a, "pins", 0);
		return;
	}
	if (unreachable(a, "pins"))
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < a->npins && !t.capped; i++) {
		check_one(a, &t, &a->pins[i], &budget);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec >= PIN_MAX_SECONDS)
			t.capped = i + 1 < a->npins;
	}
	if (t.bad)
		audit_add(
			a, "pins", AUDIT_FAILURE,
			"%zu of %zu pinned ranges are not allocated and unshared, so RDMA into them may write blocks the file does not own: %s%s; unpin and pin them again (pinning allocates and unshares)",
			t.bad, a->npins, t.shown ? t.shown : "",
			t.bad + t.errors > PIN_MAX_SHOWN ? "; ..." : "");
	else if (t.errors || t.capped)
		audit_add(
			a, "pins", AUDIT_WARNING,
			"%zu of %zu pinned ranges checked and stable%s%s%s",
			t.checked, a->npins,
			t.capped
				? "; stopped at the limit (65536 extents or 10 s): the rest not checked"
				: "",
			t.shown ? "; " : "", t.shown ? t.shown : "");
	else
		audit_add(
			a, "pins", AUDIT_OK,
			"%s %zu pinned range%s allocated and unshared (FIEMAP of the backing files)%s",
			a->npins > 1 ? "all" : "the", a->npins,
			a->npins > 1 ? "s are" : " is",
			a->root ? "" : "; only the pins this user may see");
	audit_fact_num(a, "pins", (int64_t)a->npins);
	audit_fact_num(a, "checked", (int64_t)t.checked);
	audit_fact_num(a, "unstable", (int64_t)t.bad);
	audit_fact_bool(a, "capped", t.capped);
	if (t.json) {
		char *s = NULL;

		if (asprintf(&s, "%s]", t.json) >= 0)
			audit_fact_json(a, "problems", s);
		free(s);
	}
	free(t.json);
	free(t.shown);
}
