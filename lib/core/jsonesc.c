// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The JSON string escape shared by the audit trail and rdmafsctl: see
 * jsonesc.h for the rule and why it is this one.
 */
#include <stdbool.h>
#include <string.h>

#include "core/jsonesc.h"

size_t jesc_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (c < 0x80)
		return 1;
	if (c < 0xc2)
		return 0;
	if (c < 0xe0) {
		need = 1;
	} else if (c < 0xf0) {
		need = 2;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c < 0xf5) {
		need = 3;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n <= need || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i <= need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	}
	return need + 1;
}

void jesc_string(const char *s, size_t n, jesc_put_fn put, void *ctx)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run, k;
	char esc[6];

	put(ctx, "\"", 1);
	while (i < n) {
		/* Most names are plain ASCII: pass them in one piece. */
		for (run = i; run < n && u[run] >= 0x20 && u[run] < 0x7f &&
			      u[run] != '"' && u[run] != '\\';
		     run++)
			;
		if (run > i)
			put(ctx, s + i, run - i);
		i = run;
		if (i == n)
			break;
		switch (u[i]) {
		case '"':
			put(ctx, "\\\"", 2);
			break;
		case '\\':
			put(ctx, "\\\\", 2);
			break;
		case '\n':
			put(ctx, "\\n", 2);
			break;
		case '\r':
			put(ctx, "\\r", 2);
			break;
		case '\t':
			put(ctx, "\\t", 2);
			break;
		case '\b':
			put(ctx, "\\b", 2);
			break;
		case '\f':
			put(ctx, "\\f", 2);
			break;
		default:
			k = u[i] >= 0x80 ? jesc_utf8_len(u + i, n - i) : 0;
			if (k) {
				put(ctx, s + i, k);
				i += k;
				continue;
			}
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[u[i] >> 4];
			esc[5] = hex[u[i] & 0xf];
			put(ctx, esc, 6);
			break;
		}
		i++;
	}
	put(ctx, "\"", 1);
}

static void put_file(void *ctx, const char *s, size_t n)
{
	fwrite(s, 1, n, ctx);
}

void jesc_fputs(FILE *f, const char *s, size_t n)
{
	jesc_string(s, n, put_file, f);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t jesc_restore_bytes(char *text, size_t n)
{
	size_t i = 0, o = 0;

	while (i < n) {
		int hi, lo;

		if (text[i] != '\\') {
			text[o++] = text[i++];
			continue;
		}
		/*
		 * A backslash always starts a two-character escape at least,
		 * so stepping over both keeps "\\" from being read as the
		 * start of a \u escape.
		 */
		if (i + 6 <= n && text[i + 1] == 'u' && text[i + 2] == '0' &&
		    text[i + 3] == '0' && (hi = hexval(text[i + 4])) >= 8 &&
		    (lo = hexval(text[i + 5])) >= 0) {
			text[o++] = (char)(hi << 4 | lo);
			i += 6;
			continue;
		}
		text[o++] = text[i++];
		if (i < n)
			text[o++] = text[i++];
	}
	return o;
}
