// SPDX-License-Identifier: GPL-2.0-or-later
/* Writing listing lines and page names; see proto_format.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/pathesc.h"
#include "core/proto_format.h"
#include "core/range.h"

int proto_format_since(int64_t ns, char *buf, size_t size)
{
	/* Floor, not truncation: a time before 1970 keeps its second. */
	time_t t = (time_t)(ns / 1000000000 - (ns % 1000000000 < 0));
	struct tm tm;
	size_t n;

	if (!size)
		return -ENOSPC;
	buf[0] = '\0';
	if (!gmtime_r(&t, &tm))
		return -ENOSPC;
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!n) {
		buf[0] = '\0';
		return -ENOSPC;
	}
	return (int)n;
}

void proto_format_pin_line(struct sbuf *b, const char *path,
			   const struct pin *p)
{
	struct rng r = { .off = p->off, .len = p->len, .all = p->all };
	char rs[RNG_FMT_MAX], since[PROTO_SINCE_MAX];

	if (path) {
		size_t n = PESC_MAX(strlen(path));
		char *esc = malloc(n);

		if (!esc || pesc_escape(path, esc, n) < 0) {
			free(esc);
			/* Only memory can fail here: PESC_MAX always fits. */
			sbuf_fail(b, -ENOMEM);
			return;
		}
		sbuf_puts(b, esc);
		sbuf_add(b, " ", 1);
		free(esc);
	}
	rng_format(&r, rs, sizeof(rs));
	proto_format_since(p->since_ns, since, sizeof(since));
	if (p->holder)
		sbuf_printf(b, "%s owner=%u holder=%d since=%s\n", rs, p->owner,
			    p->holder, since);
	else
		sbuf_printf(b, "%s owner=%u holder=- since=%s\n", rs, p->owner,
			    since);
}

int proto_page_name(unsigned long page, char *buf, size_t size)
{
	if (page == 0)
		return snprintf(buf, size, "%s", PROTO_PINS);
	return snprintf(buf, size, "%s.%lu", PROTO_PINS, page);
}

bool proto_page_parse(const char *name, unsigned long *page)
{
	const size_t n = sizeof(PROTO_PINS) - 1;
	const char *d;
	unsigned long v = 0;

	if (strncmp(name, PROTO_PINS, n) != 0)
		return false;
	if (name[n] == '\0') {
		*page = 0;
		return true;
	}
	d = name + n + 1;
	if (name[n] != '.' || *d < '1' || *d > '9')
		return false;
	for (; *d; d++) {
		unsigned long digit = (unsigned long)(*d - '0');

		if (*d < '0' || *d > '9' || v > (ULONG_MAX - digit) / 10)
			return false;
		v = v * 10 + digit;
	}
	*page = v;
	return true;
}

void proto_format_more(struct sbuf *b, unsigned long page)
{
	char name[PROTO_PAGE_NAME_MAX];

	proto_page_name(page + 1, name, sizeof(name));
	sbuf_printf(b, PROTO_MORE " %s\n", name);
}
