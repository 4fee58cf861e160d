// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rdmafsctl's output helpers (ctl_out.h): what a table cell or a JSON
 * string looks like, the same for every command.
 */
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>
#include <wctype.h>

#include "core/jsonesc.h"
#include "ctl_out.h"

/*
 * Format characters (Unicode category Cf) that are "printable" yet
 * invisible, and some reorder the rest of the line (bidi overrides and
 * isolates): a file name must not hide or rearrange what a table shows.
 */
static bool is_format_char(wchar_t wc)
{
	return wc == 0xad || wc == 0x61c || wc == 0x180e ||
	       (wc >= 0x200b && wc <= 0x200f) ||
	       (wc >= 0x202a && wc <= 0x202e) ||
	       (wc >= 0x2060 && wc <= 0x206f) || wc == 0xfeff ||
	       (wc >= 0xfff9 && wc <= 0xfffb);
}

/* Columns of the printable character at @s and its bytes in *@len, or -1. */
static int mb_width(const char *s, size_t n, mbstate_t *st, size_t *len)
{
	wchar_t wc;
	size_t k = mbrtowc(&wc, s, n, st);

	if (k == (size_t)-1 || k == (size_t)-2 || !k || !iswprint((wint_t)wc) ||
	    is_format_char(wc))
		return -1;
	*len = k;
	return wcwidth(wc);
}

char *out_render(const char *s, size_t n, size_t *width)
{
	char *out = malloc(n * 4 + 1), *p = out;
	mbstate_t st;
	size_t i = 0;

	if (!out)
		return NULL;
	*width = 0;
	memset(&st, 0, sizeof(st));
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t k = 0;
		int w;

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			*p++ = (char)c;
			(*width)++;
			i++;
			continue;
		}
		w = c >= 0x80 ? mb_width(s + i, n - i, &st, &k) : -1;
		if (w >= 0) {
			memcpy(p, s + i, k);
			p += k;
			*width += (size_t)w;
			i += k;
			continue;
		}
		memset(&st, 0, sizeof(st));
		p += sprintf(p, "\\%03o", c);
		*width += 4;
		i++;
	}
	*p = '\0';
	return out;
}

void out_pad(size_t have, size_t want)
{
	for (; have < want; have++)
		putchar(' ');
}

void out_cell(const char *s, size_t n, size_t cols)
{
	size_t w;
	char *r = out_render(s, n, &w);

	/* by hand: printf pads bytes, not columns */
	fputs(r ? r : "?", stdout);
	out_pad(r ? w : 1, cols);
	free(r);
}

void out_size(uint64_t v, char *buf, size_t size)
{
	static const char units[] = "KMGTPE";
	uint64_t unit = 1024;
	double d;
	int u = 0;

	if (v < 1024) {
		snprintf(buf, size, "%llu", (unsigned long long)v);
		return;
	}
	while (u < 5 && v / unit >= 1024) {
		unit <<= 10;
		u++;
	}
	if (!(v % unit)) {
		snprintf(buf, size, "%llu%c", (unsigned long long)(v / unit),
			 units[u]);
		return;
	}
	d = (double)v / (double)unit;
	/* 1048575 would print as "1024.0K" */
	if (d >= 1023.95 && u < 5) {
		d /= 1024;
		u++;
	}
	snprintf(buf, size, "%.1f%c", d, units[u]);
}

void out_owner(uint32_t uid, char *buf, size_t size)
{
	/* listings are long and mostly one owner: skip NSS on a repeat */
	static char last[64];
	static uint32_t last_uid;
	static bool have_last;
	struct passwd *pw;

	if (!have_last || last_uid != uid) {
		pw = getpwuid((uid_t)uid);
		if (pw)
			snprintf(last, sizeof(last), "%u(%s)", uid,
				 pw->pw_name);
		else
			snprintf(last, sizeof(last), "%u", uid);
		last_uid = uid;
		have_last = true;
	}
	snprintf(buf, size, "%s", last);
}

void out_holder(pid_t pid, char *buf, size_t size)
{
	char path[64], comm[32];
	size_t n, w;
	FILE *f;
	char *r;

	if (!pid) {
		snprintf(buf, size, "-");
		return;
	}
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f || !fgets(comm, sizeof(comm), f)) {
		if (f)
			fclose(f);
		snprintf(buf, size, "%d", (int)pid);
		return;
	}
	fclose(f);
	n = strcspn(comm, "\n");
	r = out_render(comm, n, &w);
	snprintf(buf, size, "%d(%s)", (int)pid, r ? r : "?");
	free(r);
}

void out_time(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) ||
	    !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, size, "%lld", (long long)t);
}

void out_json_str(const char *s, size_t n)
{
	jesc_fputs(stdout, s, n);
}
