// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target: the on-disk pin record (lib/pinstore.c), which the daemon
 * reads from trusted.rdmafs.pins of any backing file.
 *
 * Invariants: decoding arbitrary bytes returns 0 or -EUCLEAN; on -EUCLEAN
 * no pin was reported (the daemon then treats the file as pinned whole);
 * a decoded pin is `all` or a range rdmafs could have made (len >= 1,
 * off + len <= INT64_MAX, so its listing line parses back) that a pin
 * set accepts; encoding the decoded set and decoding that gives the same
 * pins.  The input also serves as a list of pins to encode: what encode
 * writes decodes back to exactly those pins, and a buffer one byte short
 * is -ENOSPC.  Each input is decoded twice: as it is, and with its CRC
 * set right so that the records behind it are reached.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "core/pinset.h"
#include "core/pinstore.h"

#define MAXP 256

struct got {
	struct pin v[MAXP];
	size_t n;
	bool overflow;
};

static int collect(const struct pin *p, void *arg)
{
	struct got *g = arg;

	if (g->n == MAXP) {
		g->overflow = true;
		return 0;
	}
	g->v[g->n++] = *p;
	return 0;
}

static int cmp_pin(const void *a, const void *b)
{
	const struct pin *x = a, *y = b;

#define CMP(f)                                       \
	do {                                         \
		if (x->f != y->f)                    \
			return x->f < y->f ? -1 : 1; \
	} while (0)
	CMP(all);
	CMP(off);
	CMP(len);
	CMP(owner);
	CMP(since_ns);
#undef CMP
	return 0;
}

/* @p as a pin set stores it (an all pin has off = len = 0). */
static struct pin normal(struct pin p)
{
	if (p.all)
		p.off = p.len = 0;
	p.id = 0;
	p.holder = 0;
	return p;
}

static void same_pins(struct got *a, struct got *b)
{
	size_t i;

	FZ_CHECK(a->n == b->n);
	for (i = 0; i < a->n; i++) {
		a->v[i] = normal(a->v[i]);
		b->v[i] = normal(b->v[i]);
	}
	qsort(a->v, a->n, sizeof(a->v[0]), cmp_pin);
	qsort(b->v, b->n, sizeof(b->v[0]), cmp_pin);
	for (i = 0; i < a->n; i++)
		FZ_CHECK(cmp_pin(&a->v[i], &b->v[i]) == 0);
}

/* Encodes @s, checks the size and the short buffer, decodes into @g. */
static void round_trip(const struct pset *s, struct got *g)
{
	size_t need = pstore_size(pset_count(s));
	unsigned char *buf = malloc(need);
	ssize_t len;

	FZ_CHECK(buf);
	len = pstore_encode(s, buf, need);
	if (pset_count(s) == 0) {
		FZ_CHECK(len == 0);
	} else {
		FZ_CHECK(len == (ssize_t)need);
		FZ_CHECK(pstore_encode(s, buf, need - 1) == -ENOSPC);
		len = pstore_encode(s, buf, need);
		FZ_CHECK(pstore_decode(buf, (size_t)len, collect, g) == 0);
	}
	free(buf);
}

static void decode_arbitrary(const uint8_t *data, size_t size)
{
	static struct got g, back;
	struct pset s;
	size_t i;
	int err;

	memset(&g, 0, sizeof(g));
	memset(&back, 0, sizeof(back));
	err = pstore_decode(data, size, collect, &g);
	FZ_CHECK(err == 0 || err == -EUCLEAN);
	if (err) {
		FZ_CHECK(g.n == 0 && !g.overflow);
		return;
	}
	if (g.overflow)
		return;
	FZ_CHECK(g.n >= 1);
	pset_init(&s, 0);
	for (i = 0; i < g.n; i++) {
		const struct pin *p = &g.v[i];

		FZ_CHECK(p->holder == 0 && p->id == 0);
		if (!p->all) {
			FZ_CHECK(p->len >= 1);
			FZ_CHECK(p->off <= (uint64_t)INT64_MAX);
			FZ_CHECK(p->len <= (uint64_t)INT64_MAX - p->off);
		}
		FZ_CHECK(pset_add(&s, p, NULL) == 0);
	}
	FZ_CHECK(pset_verify(&s) == 0);
	round_trip(&s, &back);
	same_pins(&g, &back);
	pset_destroy(&s);
}

static uint64_t take(const uint8_t **p, const uint8_t *end, size_t n)
{
	uint64_t v = 0;

	while (n-- && *p < end)
		v = v << 8 | *(*p)++;
	return v;
}

/* The input as pins: per pin 1 flag byte, then off, len, owner, since. */
static void encode_arbitrary(const uint8_t *data, size_t size)
{
	static struct got want, back;
	const uint8_t *p = data, *end = data + size;
	struct pset s;

	memset(&want, 0, sizeof(want));
	memset(&back, 0, sizeof(back));
	pset_init(&s, 0);
	while (p < end && want.n < MAXP) {
		uint8_t fl = (uint8_t)take(&p, end, 1);
		struct pin pin = {
			/* Offsets mostly small, so that ranges overlap. */
			.off = take(&p, end, fl & 2 ? 8 : 2),
			.len = take(&p, end, fl & 4 ? 8 : 2),
			.owner = (uint32_t)take(&p, end, 4),
			.since_ns = (int64_t)take(&p, end, fl & 8 ? 8 : 1),
			.all = fl & 1,
			/* Session pins are not stored. */
			.holder = fl & 16 ? (int32_t)fl : 0,
		};

		if (!pin.all &&
		    (pin.len == 0 || pin.len > (uint64_t)INT64_MAX - pin.off ||
		     pin.off > (uint64_t)INT64_MAX))
			continue;
		FZ_CHECK(pset_add(&s, &pin, NULL) == 0);
		if (!pin.holder)
			want.v[want.n++] = pin;
	}
	if (want.n == pset_count(&s)) {
		round_trip(&s, &back);
		same_pins(&want, &back);
	} else {
		/* Session pins left out: the encoding has only the rest. */
		size_t need = pstore_size(want.n);
		unsigned char *buf = malloc(need);
		ssize_t len;

		FZ_CHECK(buf);
		len = pstore_encode(&s, buf, need);
		FZ_CHECK(want.n ? len == (ssize_t)need : len == 0);
		if (len > 0)
			FZ_CHECK(pstore_decode(buf, (size_t)len, collect,
					       &back) == 0);
		same_pins(&want, &back);
		free(buf);
	}
	pset_destroy(&s);
}

/* Independent CRC-32 (IEEE 802.3, reflected, as zlib's crc32()). */
static uint32_t ref_crc32(const uint8_t *p, size_t n)
{
	uint32_t c = ~0u;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *fixed;
	uint32_t c;

	decode_arbitrary(data, size);
	encode_arbitrary(data, size);
	/*
	 * The input again with its checksum made right: a fuzzer does not
	 * guess CRCs, and the records behind the checksum are what must be
	 * checked.
	 */
	if (size < PSTORE_HDR)
		return 0;
	fixed = malloc(size);
	FZ_CHECK(fixed);
	memcpy(fixed, data, size);
	c = ref_crc32(fixed + PSTORE_HDR, size - PSTORE_HDR);
	fixed[12] = (uint8_t)c;
	fixed[13] = (uint8_t)(c >> 8);
	fixed[14] = (uint8_t)(c >> 16);
	fixed[15] = (uint8_t)(c >> 24);
	decode_arbitrary(fixed, size);
	free(fixed);
	return 0;
}
