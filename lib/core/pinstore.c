// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Encoding of persistent pins; see pinstore.h.
 */
#include <errno.h>
#include <string.h>
#include <sys/types.h>

#include "core/pinstore.h"

#define MAGIC "RDPN"
#define VERSION 1
#define FLAG_ALL 1u

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put32(unsigned char *p, uint32_t v)
{
	put16(p, v);
	put16(p + 2, v >> 16);
}

static void put64(unsigned char *p, uint64_t v)
{
	put32(p, v);
	put32(p + 4, v >> 32);
}

static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const unsigned char *p)
{
	return get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t get64(const unsigned char *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* Bitwise CRC-32 (IEEE): values are small and written rarely. */
static uint32_t crc32(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	int k;

	while (n--) {
		c ^= *p++;
		for (k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
	}
	return ~c;
}

struct enc {
	unsigned char *p, *end;
	uint32_t count;
};

static int enc_one(const struct pin *pin, void *arg)
{
	struct enc *e = arg;

	if (pin->holder != 0)
		return 0;
	if (e->end - e->p < PSTORE_REC)
		return -ENOSPC;
	put64(e->p, pin->off);
	put64(e->p + 8, pin->len);
	put32(e->p + 16, pin->owner);
	put32(e->p + 20, pin->all ? FLAG_ALL : 0);
	put64(e->p + 24, (uint64_t)pin->since_ns);
	e->p += PSTORE_REC;
	e->count++;
	return 0;
}

ssize_t pstore_encode(const struct pset *s, void *buf, size_t size)
{
	unsigned char *b = buf;
	struct enc e;
	int err;

	if (size < PSTORE_HDR)
		return -ENOSPC;
	e.p = b + PSTORE_HDR;
	e.end = b + size;
	e.count = 0;
	err = pset_foreach(s, enc_one, &e);
	if (err)
		return err;
	if (e.count == 0)
		return 0;
	memcpy(b, MAGIC, 4);
	put16(b + 4, VERSION);
	put16(b + 6, PSTORE_REC);
	put32(b + 8, e.count);
	put32(b + 12, crc32(b + PSTORE_HDR, (size_t)(e.p - b - PSTORE_HDR)));
	return e.p - b;
}

int pstore_decode(const void *buf, size_t len, pset_visit_fn fn, void *arg)
{
	const unsigned char *b = buf, *r;
	uint32_t count, i;
	int err;

	if (len < PSTORE_HDR || memcmp(b, MAGIC, 4) != 0 ||
	    get16(b + 4) != VERSION || get16(b + 6) != PSTORE_REC)
		return -EUCLEAN;
	count = get32(b + 8);
	if (count == 0 || (len - PSTORE_HDR) / PSTORE_REC != count ||
	    (len - PSTORE_HDR) % PSTORE_REC != 0)
		return -EUCLEAN;
	if (crc32(b + PSTORE_HDR, len - PSTORE_HDR) != get32(b + 12))
		return -EUCLEAN;
	/* Every record first: a damaged value yields no pin at all. */
	for (i = 0, r = b + PSTORE_HDR; i < count; i++, r += PSTORE_REC) {
		uint64_t off = get64(r), n = get64(r + 8);

		/*
		 * Only what the range parser accepts (off + len <= INT64_MAX):
		 * a pin's listing line must parse back for an unpin.
		 */
		if (!(get32(r + 20) & FLAG_ALL) &&
		    (n == 0 || off > INT64_MAX || n > INT64_MAX - off))
			return -EUCLEAN;
	}
	for (i = 0, r = b + PSTORE_HDR; i < count; i++, r += PSTORE_REC) {
		struct pin p = {
			.off = get64(r),
			.len = get64(r + 8),
			.owner = get32(r + 16),
			.all = get32(r + 20) & FLAG_ALL,
			.since_ns = (int64_t)get64(r + 24),
		};

		err = fn(&p, arg);
		if (err)
			return err;
	}
	return 0;
}
