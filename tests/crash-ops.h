/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The crash test's stream of operations (test-mount-crash.c): pins of
 * one to three ranges of every size, unpins by range, of everything, by
 * removexattr and by path through the root, fsync'd writes and hole
 * punches outside the pins; how each changes a file's pins and bytes;
 * and running one through the mount.  Header-only, like pin-test-util.h.
 */
#ifndef RDMAFS_CRASH_OPS_H
#define RDMAFS_CRASH_OPS_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "crash-test-util.h"
#include "pin-test-util.h"

#define CO_KIB 1024ULL
#define CO_MIB (1024ULL * 1024ULL)
#define NFILES 4
#define FILE_PINS_MAX 8 /* the stream unpins above this many */

enum kind {
	K_PIN,
	K_UNPIN,
	K_UNPIN_ALL,
	K_RMXATTR,
	K_UNPIN_PATH,
	K_WRITE,
	K_PUNCH
};

static const char *const kind_names[] = { "pin",	   "unpin",
					  "unpin all",	   "removexattr",
					  "unpin by path", "write+fsync",
					  "punch+fsync" };

struct op {
	enum kind kind;
	int file;
	char value[256]; /* the xattr value */
	struct rg r[4]; /* the ranges pinned, or r[0] unpinned */
	int nr;
	uint64_t off, len; /* written or punched */
	unsigned int seed; /* of the bytes written */
	bool none; /* unpin all of a file without pins: ENODATA */
};

/* One file of the test, as the model has it. */
struct cfile {
	char name[16];
	uint64_t size;
	unsigned char *data; /* what reading it must return */
	struct rgset pins;
};

/* Byte @i of what a write with @seed puts down. */
static inline unsigned char wbyte(unsigned int seed, uint64_t i)
{
	uint32_t x = seed ^ (uint32_t)(i * 2654435761u) ^ (uint32_t)(i >> 32);

	x ^= x >> 15;
	x *= 0x2c1b3c6du;
	x ^= x >> 12;
	return (unsigned char)x;
}

/* Applies a finished write or punch to the model's bytes. */
static inline void apply_data(const struct op *o, unsigned char *data)
{
	uint64_t i;

	if (o->kind == K_PUNCH)
		memset(data + o->off, 0, o->len);
	else if (o->kind == K_WRITE)
		for (i = 0; i < o->len; i++)
			data[o->off + i] = wbyte(o->seed, i);
}

/* Applies a pin change to a file's pins (what the stream expects). */
static inline void apply_pins(const struct op *o, struct rgset *p)
{
	int i;

	switch (o->kind) {
	case K_PIN:
		for (i = 0; i < o->nr; i++)
			set_add(p, o->r[i]);
		break;
	case K_UNPIN:
	case K_UNPIN_PATH:
		set_del(p, o->r[0]);
		break;
	case K_UNPIN_ALL:
	case K_RMXATTR:
		p->n = 0;
		break;
	default:
		break;
	}
}

static inline unsigned int rnd(unsigned int *s)
{
	return (unsigned int)rand_r(s);
}

static inline uint64_t rnd64(unsigned int *s, uint64_t below)
{
	uint64_t x = ((uint64_t)rnd(s) << 31) ^ (uint64_t)rnd(s);

	return below ? x % below : 0;
}

/* A range of @size bytes: small, a page, or up to a few MiB. */
static inline struct rg gen_range(unsigned int *s, uint64_t size)
{
	static const uint64_t cls[] = { 100, 4 * CO_KIB, 64 * CO_KIB, CO_MIB,
					4 * CO_MIB };
	struct rg r = { 0 };
	uint64_t max;

	if (rnd(s) % 12 == 0) {
		r.all = true;
		return r;
	}
	r.off = rnd64(s, size);
	if (rnd(s) % 2)
		r.off &= ~(4 * CO_KIB - 1);
	max = cls[rnd(s) % 5];
	if (max > size - r.off)
		max = size - r.off;
	r.len = rnd(s) % 3 == 0 ? max : 1 + rnd64(s, max);
	return r;
}

static inline bool overlaps(const struct rgset *p, uint64_t off, uint64_t len)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->r[i].all || (p->r[i].off < off + len &&
				    off < p->r[i].off + p->r[i].len))
			return true;
	return false;
}

static inline void gen_pin(unsigned int *s, const struct cfile *f, struct op *o)
{
	size_t len = 0;
	int i;

	o->kind = K_PIN;
	o->nr = 1 + (int)(rnd(s) % 3);
	for (i = 0; i < o->nr; i++) {
		struct rg *r = &o->r[i];

		*r = gen_range(s, f->size);
		if (r->all)
			len += (size_t)snprintf(o->value + len,
						sizeof(o->value) - len, "%sall",
						i ? "," : "");
		else
			len += (size_t)snprintf(o->value + len,
						sizeof(o->value) - len,
						"%s%" PRIu64 "+%" PRIu64,
						i ? "," : "", r->off, r->len);
	}
}

/* An aligned hole to punch outside every pin, if one is found. */
static inline bool gen_punch(unsigned int *s, const struct cfile *f,
			     const struct rgset *p, struct op *o)
{
	uint64_t blocks = f->size / (4 * CO_KIB);
	int tries;

	for (tries = 0; tries < 8; tries++) {
		uint64_t b = rnd64(s, blocks), n = 1 + rnd64(s, 128);

		if (b + n > blocks)
			n = blocks - b;
		if (n == 0 || overlaps(p, b * 4 * CO_KIB, n * 4 * CO_KIB))
			continue;
		o->kind = K_PUNCH;
		o->off = b * 4 * CO_KIB;
		o->len = n * 4 * CO_KIB;
		return true;
	}
	return false;
}

/*
 * One operation on one of @files, chosen knowing the pins @sim they will
 * have by then (updated for this one).
 */
static inline void gen_op(unsigned int *s, const struct cfile *files,
			  struct rgset *sim, struct op *o)
{
	unsigned int c = rnd(s) % 100;
	const struct cfile *f;
	struct rgset *p;
	size_t i, plain = 0;

	memset(o, 0, sizeof(*o));
	o->file = (int)(rnd(s) % NFILES);
	f = &files[o->file];
	p = &sim[o->file];
	for (i = 0; i < p->n; i++)
		plain += !p->r[i].all;
	if (p->n >= FILE_PINS_MAX)
		c = 40 + c % 30;
	if (c < 40) {
		gen_pin(s, f, o);
	} else if (c < 70 && plain) {
		size_t k = rnd(s) % plain;

		for (i = 0; p->r[i].all || k--; i++)
			;
		o->r[0] = p->r[i];
		o->kind = c < 60 ? K_UNPIN : K_UNPIN_PATH;
		snprintf(o->value, sizeof(o->value), "%s%s%" PRIu64 "+%" PRIu64,
			 o->kind == K_UNPIN_PATH ? f->name : "",
			 o->kind == K_UNPIN_PATH ? " " : "", o->r[0].off,
			 o->r[0].len);
	} else if (c < 70) {
		o->kind = c % 2 ? K_UNPIN_ALL : K_RMXATTR;
		o->none = p->n == 0;
	} else if (c < 85 || !gen_punch(s, f, p, o)) {
		o->kind = K_WRITE;
		o->off = rnd64(s, f->size);
		o->len = 1 + rnd64(s, f->size - o->off < 256 * CO_KIB
					      ? f->size - o->off
					      : 256 * CO_KIB);
		o->seed = rnd(s);
	}
	/* What the file's pins will be if it succeeds. */
	apply_pins(o, p);
}

static inline int write_op(const char *path, const struct op *o)
{
	unsigned char *b = malloc(o->len);
	int fd, err = 0;
	uint64_t i;

	if (!b)
		return ENOMEM;
	for (i = 0; i < o->len; i++)
		b[i] = wbyte(o->seed, i);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		free(b);
		return errno;
	}
	if (o->kind == K_PUNCH) {
		if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)o->off, (off_t)o->len) < 0)
			err = errno;
	} else if (pwrite(fd, b, o->len, (off_t)o->off) != (ssize_t)o->len) {
		err = errno ? errno : EIO;
	}
	if (!err && fsync(fd) < 0)
		err = errno;
	close(fd);
	free(b);
	return err;
}

/*
 * Runs one operation through the mount, whose root is open as @root: 0
 * or its errno.  Paths go through that descriptor, so that after the
 * crash they reach the dead mount (ENOTCONN), never the directory under
 * it once the mount is detached.
 */
static inline int run_op(int root, const struct cfile *files,
			 const struct op *o)
{
	char path[64];
	int r = 0;

	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", root,
		 files[o->file].name);

	switch (o->kind) {
	case K_PIN:
		return pin(path, o->value);
	case K_UNPIN:
		return unpin(path, o->value);
	case K_UNPIN_ALL:
		r = unpin(path, "all");
		return r == ENODATA && o->none ? 0 : r;
	case K_RMXATTR:
		r = removexattr(path, CT_PIN);
		break;
	case K_UNPIN_PATH:
		r = fsetxattr(root, CT_UNPIN, o->value, strlen(o->value), 0);
		break;
	case K_WRITE:
	case K_PUNCH:
		return write_op(path, o);
	}
	/* Unpinning a file without pins is ENODATA: nothing to take back. */
	if (r < 0 && errno == ENODATA && o->kind == K_RMXATTR && o->none)
		return 0;
	return r < 0 ? errno : 0;
}

#endif
