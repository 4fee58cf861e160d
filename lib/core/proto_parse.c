// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Walking and parsing the pin listing and the status of an rdmafs mount
 * (doc/pins.md), kept apart from rdmafsctl's output so that the unit test
 * can feed it pages without a mount.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/proto_parse.h"
#include "core/pathesc.h"

/*
 * How often a value may grow between the length probe and the fetch, and
 * how often the walk restarts when a page vanished, before giving up: a
 * listing changing that fast will not be read consistently anyway.
 */
#define READ_RETRIES 8
#define WALK_RESTARTS 4

static void set_err(struct proto_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_err(struct proto_err *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

int proto_read_value(proto_getxattr_fn *get, void *ctx, const char *name,
		     char **val, size_t *len)
{
	char *buf = NULL;
	ssize_t size, got;
	int ret = -EAGAIN, tries;

	for (tries = 0; tries < READ_RETRIES; tries++) {
		size = get(ctx, name, NULL, 0);
		if (size < 0) {
			ret = (int)size;
			goto out_free;
		}
		free(buf);
		/* +1: room for the NUL and never a malloc(0) */
		buf = malloc((size_t)size + 1);
		if (!buf)
			return -ENOMEM;
		/*
		 * Not fetched with size 0: that would ask for the length
		 * again, and of a value that may have grown meanwhile.
		 */
		got = size ? get(ctx, name, buf, (size_t)size) : 0;
		if (got == -ERANGE || got > size)
			continue;
		if (got < 0) {
			ret = (int)got;
			goto out_free;
		}
		/*
		 * A value that shrank in between fits and comes back whole;
		 * only a grown one is refused with ERANGE.
		 */
		buf[got] = '\0';
		*val = buf;
		*len = (size_t)got;
		return 0;
	}
out_free:
	free(buf);
	return ret;
}

int proto_unescape(const char *s, size_t n, char **out, size_t *out_len)
{
	return pesc_unescape(s, n, out, out_len);
}

/*
 * Plain decimal as the daemon writes it: digits only, no leading zero
 * (except "0"), at most @max.  Returns 0 or -EINVAL.
 */
static int parse_dec(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!n || (n > 1 && s[0] == '0'))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		unsigned int d;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = (unsigned int)(s[i] - '0');
		if (v > (max - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int parse_range(const char *s, size_t n, struct proto_pin *pin)
{
	const char *plus;

	if (n == 3 && !memcmp(s, "all", 3)) {
		pin->all = true;
		pin->off = 0;
		pin->len = 0;
		return 0;
	}
	plus = memchr(s, '+', n);
	if (!plus)
		return -EINVAL;
	/* pins fit in off_t (lib/range.h), so anything beyond is garbage */
	if (parse_dec(s, (size_t)(plus - s), INT64_MAX, &pin->off) ||
	    parse_dec(plus + 1, n - (size_t)(plus - s) - 1, INT64_MAX,
		      &pin->len) ||
	    !pin->len || pin->len > (uint64_t)INT64_MAX - pin->off)
		return -EINVAL;
	pin->all = false;
	return 0;
}

/*
 * RFC 3339 uses digits, `-`, `:`, `T`, `Z`, `.` and `+` (lower case t and
 * z are allowed too).  Anything else means a broken field, and the value
 * goes into JSON verbatim, so refuse it rather than pass it on.
 */
static int parse_since(const char *s, size_t n, struct proto_pin *pin)
{
	size_t i;

	if (!n || n >= sizeof(pin->since) || s[0] < '0' || s[0] > '9')
		return -EINVAL;
	for (i = 0; i < n; i++) {
		/* strchr() would find the NUL that ends the set */
		if (s[i] == '\0' || !strchr("0123456789-:TZtz.+", s[i]))
			return -EINVAL;
	}
	memcpy(pin->since, s, n);
	pin->since[n] = '\0';
	return 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_blank_line(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!is_blank(s[i]))
			return false;
	}
	return true;
}

/* Next blank-separated token at or after *pos; false at the end. */
static bool next_token(const char *s, size_t n, size_t *pos, const char **tok,
		       size_t *tok_len)
{
	size_t i = *pos, start;

	while (i < n && is_blank(s[i]))
		i++;
	if (i == n)
		return false;
	start = i;
	while (i < n && !is_blank(s[i]))
		i++;
	*tok = s + start;
	*tok_len = i - start;
	*pos = i;
	return true;
}

#define FIELD_OWNER 0x1
#define FIELD_HOLDER 0x2
#define FIELD_SINCE 0x4

static int parse_field(const char *tok, size_t n, struct proto_pin *pin,
		       unsigned int *seen, const char **why)
{
	const char *eq = memchr(tok, '=', n);
	const char *v;
	size_t klen, vlen;
	uint64_t num;

	if (!eq || eq == tok) {
		*why = "expected key=value after the range";
		return -EINVAL;
	}
	klen = (size_t)(eq - tok);
	v = eq + 1;
	vlen = n - klen - 1;
	if (klen == 5 && !memcmp(tok, "owner", 5)) {
		if (*seen & FIELD_OWNER) {
			*why = "owner= given twice";
			return -EINVAL;
		}
		if (parse_dec(v, vlen, UINT32_MAX, &num)) {
			*why = "owner= is not a uid";
			return -EINVAL;
		}
		pin->owner = (uint32_t)num;
		*seen |= FIELD_OWNER;
	} else if (klen == 6 && !memcmp(tok, "holder", 6)) {
		if (*seen & FIELD_HOLDER) {
			*why = "holder= given twice";
			return -EINVAL;
		}
		if (vlen == 1 && v[0] == '-') {
			pin->holder = 0;
		} else if (parse_dec(v, vlen, INT32_MAX, &num) || !num) {
			*why = "holder= is neither - nor a pid";
			return -EINVAL;
		} else {
			pin->holder = (pid_t)num;
		}
		*seen |= FIELD_HOLDER;
	} else if (klen == 5 && !memcmp(tok, "since", 5)) {
		if (*seen & FIELD_SINCE) {
			*why = "since= given twice";
			return -EINVAL;
		}
		if (parse_since(v, vlen, pin)) {
			*why = "since= is not an RFC 3339 time";
			return -EINVAL;
		}
		*seen |= FIELD_SINCE;
	}
	/* other keys: later daemons may add fields; the format allows it */
	return 0;
}

/*
 * What follows the path of a listing line, and all of a line of a file's
 * own pins: `RANGE owner=UID holder=PID|- since=TIME`, from @pos on.
 */
static int parse_range_fields(const char *s, size_t n, size_t pos,
			      struct proto_pin *pin, const char **why)
{
	unsigned int seen = 0;
	const char *tok;
	size_t tok_len;

	if (!next_token(s, n, &pos, &tok, &tok_len)) {
		*why = "no range";
		return -EINVAL;
	}
	if (parse_range(tok, tok_len, pin)) {
		*why = "bad range (expected OFFSET+LENGTH in decimal, or all)";
		return -EINVAL;
	}
	while (next_token(s, n, &pos, &tok, &tok_len)) {
		if (parse_field(tok, tok_len, pin, &seen, why))
			return -EINVAL;
	}
	if (!(seen & FIELD_OWNER)) {
		*why = "no owner=";
		return -EINVAL;
	}
	if (!(seen & FIELD_HOLDER)) {
		*why = "no holder=";
		return -EINVAL;
	}
	if (!(seen & FIELD_SINCE)) {
		*why = "no since=";
		return -EINVAL;
	}
	return 0;
}

int proto_parse_pin_line(const char *s, size_t n, struct proto_pin *out,
			 const char **why)
{
	struct proto_pin pin = { 0 };
	const char *tok;
	size_t pos = 0, tok_len;
	int ret;

	if (!next_token(s, n, &pos, &tok, &tok_len)) {
		*why = "empty line";
		return -EINVAL;
	}
	ret = proto_unescape(tok, tok_len, &pin.path, &pin.path_len);
	if (ret == -ENOMEM)
		return ret;
	if (ret) {
		*why = "bad escape in the path";
		return ret;
	}
	if (parse_range_fields(s, n, pos, &pin, why)) {
		free(pin.path);
		return -EINVAL;
	}
	*out = pin;
	return 0;
}

static int pins_push(struct proto_pins *pins, const struct proto_pin *pin)
{
	if (pins->n == pins->cap) {
		size_t cap = pins->cap ? pins->cap * 2 : 64;
		struct proto_pin *v;

		v = reallocarray(pins->v, cap, sizeof(*v));
		if (!v)
			return -ENOMEM;
		pins->v = v;
		pins->cap = cap;
	}
	pins->v[pins->n++] = *pin;
	return 0;
}

/* Handles a `#...` line: only `#more NAME`, and only as the last line. */
static int parse_directive(const char *s, size_t n, bool last, const char *name,
			   size_t lineno, char **next, struct proto_err *err)
{
	size_t dlen = strlen(PROTO_MORE);
	const char *tok;
	size_t pos = dlen, tok_len;

	if (n <= dlen || memcmp(s, PROTO_MORE, dlen) || !is_blank(s[dlen])) {
		set_err(err, "%s, line %zu: unknown directive '%.*s'", name,
			lineno, (int)(n > 40 ? 40 : n), s);
		return -EINVAL;
	}
	if (!last) {
		set_err(err, "%s, line %zu: #more before the end of the page",
			name, lineno);
		return -EINVAL;
	}
	if (!next_token(s, n, &pos, &tok, &tok_len) || pos != n) {
		set_err(err, "%s, line %zu: #more needs exactly one name", name,
			lineno);
		return -EINVAL;
	}
	*next = strndup(tok, tok_len);
	return *next ? 0 : -ENOMEM;
}

int proto_parse_page(const char *s, size_t n, const char *name,
		     unsigned int page, struct proto_pins *pins, char **next,
		     struct proto_err *err)
{
	size_t pos = 0, lineno = 0;
	int ret;

	*next = NULL;
	/* programs that store strlen() + 1 leave a NUL at the end */
	while (n && s[n - 1] == '\0')
		n--;
	while (pos < n) {
		const char *line = s + pos, *nl, *why;
		size_t len, rest;
		struct proto_pin pin;
		bool last;

		nl = memchr(line, '\n', n - pos);
		len = nl ? (size_t)(nl - line) : n - pos;
		pos += len + (nl ? 1 : 0);
		lineno++;
		/* only blank lines may follow the last one that counts */
		for (rest = pos;
		     rest < n && (s[rest] == '\n' || is_blank(s[rest])); rest++)
			;
		last = rest == n;
		if (memchr(line, '\0', len)) {
			set_err(err, "%s, line %zu: NUL in the listing", name,
				lineno);
			return -EINVAL;
		}
		if (is_blank_line(line, len))
			continue;
		if (line[0] == '#') {
			ret = parse_directive(line, len, last, name, lineno,
					      next, err);
			if (ret)
				return ret;
			continue;
		}
		ret = proto_parse_pin_line(line, len, &pin, &why);
		if (ret == -EINVAL)
			set_err(err, "%s, line %zu: %s: '%.*s'", name, lineno,
				why, (int)(len > 80 ? 80 : len), line);
		if (ret)
			return ret;
		pin.page = page;
		ret = pins_push(pins, &pin);
		if (ret) {
			free(pin.path);
			return ret;
		}
	}
	return 0;
}

int proto_parse_file_pins(const char *s, size_t n, struct proto_pins *pins,
			  struct proto_err *err)
{
	size_t pos = 0, lineno = 0;
	int ret;

	err->msg[0] = '\0';
	while (n && s[n - 1] == '\0')
		n--;
	while (pos < n) {
		const char *line = s + pos, *nl, *why;
		struct proto_pin pin = { 0 };
		size_t len;

		nl = memchr(line, '\n', n - pos);
		len = nl ? (size_t)(nl - line) : n - pos;
		pos += len + (nl ? 1 : 0);
		lineno++;
		if (is_blank_line(line, len))
			continue;
		ret = memchr(line, '\0', len) ? -EINVAL : 0;
		why = "NUL in the value";
		if (!ret)
			ret = parse_range_fields(line, len, 0, &pin, &why);
		if (ret) {
			set_err(err, "line %zu: %s: '%.*s'", lineno, why,
				(int)(len > 80 ? 80 : len), line);
			proto_pins_free(pins);
			return ret;
		}
		ret = pins_push(pins, &pin);
		if (ret) {
			proto_pins_free(pins);
			return ret;
		}
	}
	return 0;
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, unsigned int m, unsigned int d)
{
	int64_t era;
	unsigned int yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned int)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* @n decimal digits at @s into *@v; false unless all are digits. */
static bool digits(const char *s, size_t n, unsigned int *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (unsigned int)(s[i] - '0');
	}
	return true;
}

int proto_parse_since(const char *s, int64_t *sec)
{
	static const unsigned char mdays[] = { 31, 29, 31, 30, 31, 30,
					       31, 31, 30, 31, 30, 31 };
	unsigned int y, mo, d, h, mi, se, oh, om;
	size_t n = strlen(s), i = 19;
	int64_t off = 0;

	/* YYYY-MM-DDTHH:MM:SS, the fixed part of RFC 3339 */
	if (n < 20 || !digits(s, 4, &y) || s[4] != '-' ||
	    !digits(s + 5, 2, &mo) || s[7] != '-' || !digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
	    s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &se))
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
	    mi > 59 || se > 60)
		return -EINVAL;
	/* fractions of a second are dropped: the API counts seconds */
	if (s[i] == '.') {
		size_t f = ++i;

		while (s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == f)
			return -EINVAL;
	}
	if ((s[i] == 'Z' || s[i] == 'z') && s[i + 1] == '\0') {
		off = 0;
	} else if ((s[i] == '+' || s[i] == '-') && n - i == 6 &&
		   digits(s + i + 1, 2, &oh) && s[i + 3] == ':' &&
		   digits(s + i + 4, 2, &om) && oh <= 23 && om <= 59) {
		off = (int64_t)(oh * 3600 + om * 60);
		if (s[i] == '-')
			off = -off;
	} else {
		return -EINVAL;
	}
	/* a leap second (:60) counts as the next second, as POSIX time does */
	*sec = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se -
	       off;
	return 0;
}

/* N of `user.rdmafs.pins.N`, or 0 when @name is not such a page. */
static uint64_t page_number(const char *name)
{
	size_t plen = strlen(PROTO_PINS);
	uint64_t num;

	if (strncmp(name, PROTO_PINS, plen) || name[plen] != '.')
		return 0;
	if (parse_dec(name + plen + 1, strlen(name + plen + 1), UINT32_MAX,
		      &num))
		return 0;
	return num;
}

void proto_pins_free(struct proto_pins *pins)
{
	size_t i;

	for (i = 0; i < pins->n; i++)
		free(pins->v[i].path);
	free(pins->v);
	pins->v = NULL;
	pins->n = 0;
	pins->cap = 0;
}

static int pin_cmp(const struct proto_pin *a, const struct proto_pin *b)
{
	size_t n = a->path_len < b->path_len ? a->path_len : b->path_len;
	int c = memcmp(a->path, b->path, n);

	if (c)
		return c;
	if (a->path_len != b->path_len)
		return a->path_len < b->path_len ? -1 : 1;
	if (a->all != b->all)
		return a->all ? 1 : -1;
	if (a->off != b->off)
		return a->off < b->off ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	if (a->owner != b->owner)
		return a->owner < b->owner ? -1 : 1;
	if (a->holder != b->holder)
		return a->holder < b->holder ? -1 : 1;
	return strcmp(a->since, b->since);
}

/* Equal pins sort by position, so the first of each group comes first. */
static int index_cmp(const void *pa, const void *pb, void *base)
{
	const struct proto_pin *v = base;
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	int c = pin_cmp(&v[a], &v[b]);

	if (c)
		return c;
	return a < b ? -1 : a > b;
}

/*
 * Drops each pin that repeats one from an earlier page: it moved down
 * while the walk went on.  Repeats within one page are left alone, as the
 * daemon wrote them from one consistent look at the pins.
 */
static int drop_page_repeats(struct proto_pins *pins)
{
	size_t *idx, i, j, kept;
	bool *drop;

	if (pins->n < 2 || pins->v[pins->n - 1].page == 0)
		return 0;
	idx = calloc(pins->n, sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	drop = calloc(pins->n, sizeof(*drop));
	if (!drop) {
		free(idx);
		return -ENOMEM;
	}
	for (i = 0; i < pins->n; i++)
		idx[i] = i;
	qsort_r(idx, pins->n, sizeof(*idx), index_cmp, pins->v);
	for (i = 0; i < pins->n; i = j) {
		const struct proto_pin *first = &pins->v[idx[i]];

		for (j = i + 1;
		     j < pins->n && !pin_cmp(first, &pins->v[idx[j]]); j++) {
			if (pins->v[idx[j]].page != first->page)
				drop[idx[j]] = true;
		}
	}
	for (i = 0, kept = 0; i < pins->n; i++) {
		if (drop[i])
			free(pins->v[i].path);
		else
			pins->v[kept++] = pins->v[i];
	}
	pins->n = kept;
	free(drop);
	free(idx);
	return 0;
}

/* One walk over the pages; -ENODATA past the first page means "restart". */
static int walk_pages(proto_getxattr_fn *get, void *ctx,
		      struct proto_pins *pins, struct proto_err *err)
{
	char *name = NULL, *next = NULL, *val = NULL;
	uint64_t last_num = 0, num;
	unsigned int page;
	size_t len = 0;
	int ret;

	for (page = 0;; page++) {
		const char *cur = page ? name : PROTO_PINS;

		ret = proto_read_value(get, ctx, cur, &val, &len);
		if (ret == -ENODATA && page)
			ret = -EAGAIN;
		if (ret)
			goto out;
		ret = proto_parse_page(val, len, cur, page, pins, &next, err);
		free(val);
		if (ret)
			goto out;
		if (!next)
			break;
		num = page_number(next);
		if (!num || num <= last_num) {
			set_err(err,
				"%s names '%.64s' as the next page, not user.rdmafs.pins.N past %llu",
				cur, next, (unsigned long long)last_num);
			ret = -EINVAL;
			goto out;
		}
		last_num = num;
		free(name);
		name = next;
		next = NULL;
	}
	ret = 0;
out:
	free(next);
	free(name);
	return ret;
}

int proto_read_pins(proto_getxattr_fn *get, void *ctx, struct proto_pins *pins,
		    struct proto_err *err)
{
	int ret = -EAGAIN, tries;

	err->msg[0] = '\0';
	for (tries = 0; tries < WALK_RESTARTS; tries++) {
		ret = walk_pages(get, ctx, pins, err);
		if (!ret)
			ret = drop_page_repeats(pins);
		if (!ret)
			return 0;
		proto_pins_free(pins);
		if (ret != -EAGAIN)
			break;
	}
	return ret;
}

void proto_kv_free(struct proto_kv *kv, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++) {
		free(kv[i].key);
		free(kv[i].val);
	}
	free(kv);
}

static bool is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

int proto_parse_status(const char *s, size_t n, struct proto_kv **kv,
		       size_t *count, struct proto_err *err)
{
	struct proto_kv *v = NULL, *grown;
	size_t pos = 0, lineno = 0, cnt = 0, cap = 0, i, klen;
	int ret = -EINVAL;

	while (n && s[n - 1] == '\0')
		n--;
	while (pos < n) {
		const char *line = s + pos, *nl, *eq;
		size_t len;

		nl = memchr(line, '\n', n - pos);
		len = nl ? (size_t)(nl - line) : n - pos;
		pos += len + (nl ? 1 : 0);
		lineno++;
		if (!len)
			continue;
		eq = memchr(line, '=', len);
		if (!eq || eq == line) {
			set_err(err, "line %zu: expected key=value: '%.*s'",
				lineno, (int)(len > 80 ? 80 : len), line);
			goto out_free;
		}
		klen = (size_t)(eq - line);
		for (i = 0; i < klen; i++) {
			if (!is_key_char(line[i])) {
				set_err(err, "line %zu: bad key '%.*s'", lineno,
					(int)(klen > 80 ? 80 : klen), line);
				goto out_free;
			}
		}
		if (memchr(line, '\0', len)) {
			set_err(err, "line %zu: NUL in the value", lineno);
			goto out_free;
		}
		for (i = 0; i < cnt; i++) {
			if (strlen(v[i].key) == klen &&
			    !memcmp(v[i].key, line, klen)) {
				set_err(err, "line %zu: key '%.*s' repeated",
					lineno, (int)(klen > 80 ? 80 : klen),
					line);
				goto out_free;
			}
		}
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			grown = reallocarray(v, cap, sizeof(*v));
			if (!grown)
				goto out_nomem;
			v = grown;
		}
		v[cnt].key = strndup(line, klen);
		v[cnt].val = strndup(eq + 1, len - klen - 1);
		cnt++;
		if (!v[cnt - 1].key || !v[cnt - 1].val)
			goto out_nomem;
	}
	*kv = v;
	*count = cnt;
	return 0;

out_nomem:
	ret = -ENOMEM;
out_free:
	proto_kv_free(v, cnt);
	return ret;
}
