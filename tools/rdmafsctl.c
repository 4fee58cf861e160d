// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rdmafsctl: the administrator's view of an rdmafs mount.  Everything it
 * shows comes from the control xattrs of the mount's root (doc/pins.md),
 * so it needs no privilege beyond reading them and no channel of its own
 * to the daemon.  Subcommands live in one table; a new one is a function
 * and a row.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <wchar.h>
#include <wctype.h>

#include "core/proto_parse.h"

#ifndef RDMAFS_VERSION
#define RDMAFS_VERSION "unknown"
#endif

#define PROG "rdmafsctl"

struct subcommand {
	const char *name;
	int (*fn)(const struct subcommand *cmd, int argc, char **argv);
	const char *synopsis; /* arguments after the name */
	const char *summary; /* one line for rdmafsctl --help */
	const char *help; /* the options, for rdmafsctl NAME --help */
};

/* ---- output helpers ---- */

/* Columns of the printable character at @s and its bytes in *@len, or -1. */
static int mb_width(const char *s, size_t n, mbstate_t *st, size_t *len)
{
	wchar_t wc;
	size_t k = mbrtowc(&wc, s, n, st);

	if (k == (size_t)-1 || k == (size_t)-2 || !k || !iswprint((wint_t)wc))
		return -1;
	*len = k;
	return wcwidth(wc);
}

/*
 * A path or value made safe and readable for a terminal: printable
 * characters of the locale as they are, everything else (control
 * characters, bytes that are not a character here) and the backslash as
 * \ooo, so that what is shown names one file only.  Returns a malloc'd
 * string and its width in columns in *@width, or NULL.
 */
static char *render(const char *s, size_t n, size_t *width)
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

/*
 * Writes @n bytes as a JSON string.  Valid UTF-8 goes through as is; a
 * byte that is not part of valid UTF-8 becomes \udcXX, Python's
 * "surrogateescape", so that a file name in another encoding still comes
 * out as valid JSON and can be turned back into its exact bytes
 * (path.encode("utf-8", "surrogateescape")).
 */
static void json_string(FILE *f, const char *s, size_t n)
{
	size_t i = 0;

	fputc('"', f);
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t k = 0, j;
		uint32_t cp = 0;

		if (c == '"' || c == '\\') {
			fprintf(f, "\\%c", c);
			i++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			i++;
			continue;
		}
		if (c < 0x80) {
			fputc(c, f);
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 4;
			cp = c & 0x07;
		}
		for (j = 1; k && j < k; j++) {
			unsigned char cc;

			if (i + j >= n)
				break;
			cc = (unsigned char)s[i + j];
			if ((cc & 0xc0) != 0x80)
				break;
			cp = cp << 6 | (cc & 0x3f);
		}
		/* overlong forms, surrogates and beyond U+10FFFF are invalid */
		if (k && j == k && !(k == 3 && cp < 0x800) &&
		    !(k == 4 && cp < 0x10000) &&
		    !(cp >= 0xd800 && cp < 0xe000) && cp <= 0x10ffff) {
			fwrite(s + i, 1, k, f);
			i += k;
			continue;
		}
		fprintf(f, "\\udc%02x", c);
		i++;
	}
	fputc('"', f);
}

/* 1536 -> "1.5K", 1048576 -> "1M": exact when it is, else one decimal. */
static void human_size(uint64_t v, char *buf, size_t size)
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

/* "1000(alice)", or just the uid when no user has it. */
static void owner_name(uint32_t uid, char *buf, size_t size)
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

/* "-", "PID(comm)" while the holder lives, or "PID" when it cannot be seen. */
static void holder_name(pid_t pid, char *buf, size_t size)
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
	r = render(comm, n, &w);
	snprintf(buf, size, "%d(%s)", (int)pid, r ? r : "?");
	free(r);
}

static int finish_output(void)
{
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, PROG ": Couldn't write the output: %s\n",
			strerror(errno));
		return 1;
	}
	return 0;
}

/* ---- reading the mount ---- */

static ssize_t mount_getxattr(void *ctx, const char *name, void *buf,
			      size_t size)
{
	ssize_t ret = getxattr((const char *)ctx, name, buf, size);

	return ret < 0 ? -errno : ret;
}

/* The one-line reason a control xattr of @mnt could not be read. */
static void read_failed(const char *what, const char *mnt, int ret,
			const struct proto_err *err)
{
	char why[sizeof(err->msg) + 64];

	switch (ret) {
	case -ENODATA:
	case -ENOTSUP:
		snprintf(why, sizeof(why), "is it an rdmafs mount?");
		break;
	case -EINVAL:
		if (err && err->msg[0])
			snprintf(why, sizeof(why), "malformed reply: %s",
				 err->msg);
		else
			snprintf(why, sizeof(why),
				 "%s (is it the root of an rdmafs mount?)",
				 strerror(-ret));
		break;
	case -EAGAIN:
		snprintf(why, sizeof(why),
			 "it kept changing while being read; try again");
		break;
	default:
		snprintf(why, sizeof(why), "%s", strerror(-ret));
	}
	fprintf(stderr, PROG ": Couldn't read %s of %s: %s\n", what, mnt, why);
}

/* ---- subcommand plumbing ---- */

/* getopt's own message would name the subcommand as the program. */
static void bad_option(const char *who, const char *help, char **argv)
{
	if (optopt)
		fprintf(stderr, "%s: unknown option '-%c' (see %s --help)\n",
			who, optopt, help);
	else
		fprintf(stderr, "%s: unknown option '%s' (see %s --help)\n",
			who, argv[optind - 1], help);
}

static void subcommand_usage(FILE *f, const struct subcommand *cmd)
{
	fprintf(f, "Usage: " PROG " %s %s\n%s.\n\n%s", cmd->name, cmd->synopsis,
		cmd->summary, cmd->help);
}

/*
 * The options every read-only view shares: --json, --help and one
 * MOUNTPOINT.  Returns -1 to go on, else the exit status.
 */
static int parse_view_args(const struct subcommand *cmd, int argc, char **argv,
			   bool *json, const char **mnt)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	*json = false;
	char who[64];

	snprintf(who, sizeof(who), PROG " %s", cmd->name);
	opterr = 0;
	/* 0: start over on the subcommand's argv, name as argv[0] */
	optind = 0;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*json = true;
			break;
		case 'h':
			subcommand_usage(stdout, cmd);
			return finish_output();
		default:
			bad_option(who, who, argv);
			return 1;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr,
			PROG " %s: need exactly one MOUNTPOINT (see " PROG
			     " %s --help)\n",
			cmd->name, cmd->name);
		return 1;
	}
	*mnt = argv[optind];
	return -1;
}

/* ---- pins ---- */

struct pin_row {
	char *path; /* rendered */
	size_t path_w;
	char range[48];
	char size[16];
	char owner[80];
	char holder[64];
};

static void print_pins_json(const struct proto_pins *pins)
{
	size_t i;

	if (!pins->n) {
		printf("[]\n");
		return;
	}
	printf("[\n");
	for (i = 0; i < pins->n; i++) {
		const struct proto_pin *p = &pins->v[i];

		printf("  {\"path\": ");
		json_string(stdout, p->path, p->path_len);
		if (p->all)
			printf(", \"offset\": 0, \"length\": null, \"all\": true");
		else
			printf(", \"offset\": %llu, \"length\": %llu, \"all\": false",
			       (unsigned long long)p->off,
			       (unsigned long long)p->len);
		printf(", \"owner\": %u, \"holder\": ", p->owner);
		if (p->holder)
			printf("%d", (int)p->holder);
		else
			printf("null");
		printf(", \"since\": ");
		json_string(stdout, p->since, strlen(p->since));
		printf("}%s\n", i + 1 < pins->n ? "," : "");
	}
	printf("]\n");
}

static void pad(size_t have, size_t want)
{
	for (; have < want; have++)
		putchar(' ');
}

static int print_pins_table(const struct proto_pins *pins)
{
	size_t w_path = strlen("PATH"), w_range = strlen("RANGE");
	size_t w_size = strlen("SIZE"), w_owner = strlen("OWNER");
	size_t w_holder = strlen("HOLDER"), i, len;
	struct pin_row *rows;

	if (!pins->n) {
		printf("no pins\n");
		return 0;
	}
	rows = calloc(pins->n, sizeof(*rows));
	if (!rows)
		goto out_nomem;
	for (i = 0; i < pins->n; i++) {
		const struct proto_pin *p = &pins->v[i];
		struct pin_row *r = &rows[i];

		r->path = render(p->path, p->path_len, &r->path_w);
		if (!r->path)
			goto out_free;
		if (p->all) {
			snprintf(r->range, sizeof(r->range), "all");
			snprintf(r->size, sizeof(r->size), "-");
		} else {
			snprintf(r->range, sizeof(r->range), "%llu+%llu",
				 (unsigned long long)p->off,
				 (unsigned long long)p->len);
			human_size(p->len, r->size, sizeof(r->size));
		}
		owner_name(p->owner, r->owner, sizeof(r->owner));
		holder_name(p->holder, r->holder, sizeof(r->holder));
		if (r->path_w > w_path)
			w_path = r->path_w;
		if ((len = strlen(r->range)) > w_range)
			w_range = len;
		if ((len = strlen(r->size)) > w_size)
			w_size = len;
		if ((len = strlen(r->owner)) > w_owner)
			w_owner = len;
		if ((len = strlen(r->holder)) > w_holder)
			w_holder = len;
	}
	printf("%-*s  %-*s  %*s  %-*s  %-*s  SINCE\n", (int)w_path, "PATH",
	       (int)w_range, "RANGE", (int)w_size, "SIZE", (int)w_owner,
	       "OWNER", (int)w_holder, "HOLDER");
	for (i = 0; i < pins->n; i++) {
		const struct pin_row *r = &rows[i];

		/* by hand: printf pads bytes, not columns */
		fputs(r->path, stdout);
		pad(r->path_w, w_path);
		printf("  %-*s  %*s  %-*s  %-*s  %s\n", (int)w_range, r->range,
		       (int)w_size, r->size, (int)w_owner, r->owner,
		       (int)w_holder, r->holder, pins->v[i].since);
	}
	for (i = 0; i < pins->n; i++)
		free(rows[i].path);
	free(rows);
	return 0;

out_free:
	for (i = 0; i < pins->n; i++)
		free(rows[i].path);
	free(rows);
out_nomem:
	fprintf(stderr, PROG ": Couldn't format the pins: %s\n",
		strerror(ENOMEM));
	return 1;
}

static int cmd_pins(const struct subcommand *cmd, int argc, char **argv)
{
	struct proto_pins pins = { 0 };
	struct proto_err err;
	const char *mnt;
	bool json;
	int ret;

	ret = parse_view_args(cmd, argc, argv, &json, &mnt);
	if (ret >= 0)
		return ret;
	ret = proto_read_pins(mount_getxattr, (void *)mnt, &pins, &err);
	if (ret) {
		read_failed("pins", mnt, ret, &err);
		return 1;
	}
	if (json) {
		print_pins_json(&pins);
		ret = 0;
	} else {
		ret = print_pins_table(&pins);
	}
	proto_pins_free(&pins);
	return ret ? ret : finish_output();
}

/* ---- status ---- */

/* Digits only and no leading zero: JSON takes it as a number. */
static bool is_json_number(const char *s)
{
	size_t n = strlen(s);

	if (!n || (n > 1 && s[0] == '0'))
		return false;
	return strspn(s, "0123456789") == n;
}

static int cmd_status(const struct subcommand *cmd, int argc, char **argv)
{
	struct proto_kv *kv = NULL;
	struct proto_err err;
	size_t len, count, i, w = 0;
	const char *mnt;
	char *val;
	bool json;
	int ret;

	ret = parse_view_args(cmd, argc, argv, &json, &mnt);
	if (ret >= 0)
		return ret;
	err.msg[0] = '\0';
	ret = proto_read_value(mount_getxattr, (void *)mnt, PROTO_STATUS, &val,
			       &len);
	if (ret) {
		read_failed("the status", mnt, ret, NULL);
		return 1;
	}
	ret = proto_parse_status(val, len, &kv, &count, &err);
	if (ret) {
		read_failed("the status", mnt, ret, &err);
		goto out_free_val;
	}
	if (json) {
		printf("{");
		for (i = 0; i < count; i++) {
			printf("%s\n  ", i ? "," : "");
			json_string(stdout, kv[i].key, strlen(kv[i].key));
			printf(": ");
			if (is_json_number(kv[i].val))
				printf("%s", kv[i].val);
			else
				json_string(stdout, kv[i].val,
					    strlen(kv[i].val));
		}
		printf("%s}\n", count ? "\n" : "");
	} else {
		for (i = 0; i < count; i++) {
			if (strlen(kv[i].key) > w)
				w = strlen(kv[i].key);
		}
		for (i = 0; i < count; i++) {
			size_t vw;
			char *r = render(kv[i].val, strlen(kv[i].val), &vw);

			printf("%-*s  %s\n", (int)w, kv[i].key, r ? r : "?");
			free(r);
		}
	}
	proto_kv_free(kv, count);
out_free_val:
	free(val);
	return ret ? 1 : finish_output();
}

/* ---- main ---- */

static const struct subcommand subcommands[] = {
	{
		.name = "pins",
		.fn = cmd_pins,
		.synopsis = "[--json] MOUNTPOINT",
		.summary = "List every pin in the mount",
		.help = "Prints PATH, RANGE (OFFSET+LENGTH in bytes, or all), SIZE,\n"
			"OWNER (uid and user), HOLDER (- for a persistent pin, else\n"
			"the holding process) and SINCE (UTC) for each pin.\n\n"
			"  -j, --json   print a JSON array of objects instead\n"
			"  -h, --help   show this help\n",
	},
	{
		.name = "status",
		.fn = cmd_status,
		.synopsis = "[--json] MOUNTPOINT",
		.summary =
			"Show the mount's version, policy, limits and counters",
		.help = "  -j, --json   print a JSON object instead\n"
			"  -h, --help   show this help\n",
	},
};

#define N_SUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

static void usage(FILE *f)
{
	size_t i, w = 0, len;

	fprintf(f, "Usage: " PROG " COMMAND [OPTIONS] [ARGS]\n"
		   "Shows and manages the pins of an rdmafs mount.\n\n"
		   "Commands:\n");
	for (i = 0; i < N_SUBCOMMANDS; i++) {
		len = strlen(subcommands[i].name) +
		      strlen(subcommands[i].synopsis) + 1;
		if (len > w)
			w = len;
	}
	for (i = 0; i < N_SUBCOMMANDS; i++) {
		len = strlen(subcommands[i].name) +
		      strlen(subcommands[i].synopsis) + 1;
		fprintf(f, "  %s %s%*s  %s\n", subcommands[i].name,
			subcommands[i].synopsis, (int)(w - len), "",
			subcommands[i].summary);
	}
	fprintf(f, "\nOptions:\n"
		   "  -h, --help      show this help\n"
		   "  -V, --version   show the version\n\n"
		   "'" PROG " COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	size_t i;
	int c;

	/* widths of non-ASCII file names, in the user's locale */
	setlocale(LC_CTYPE, "");
	opterr = 0;
	/* '+': options after the command name belong to the command */
	while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return finish_output();
		case 'V':
			printf(PROG " " RDMAFS_VERSION "\n");
			return finish_output();
		default:
			bad_option(PROG, PROG, argv);
			return 1;
		}
	}
	if (optind == argc) {
		usage(stderr);
		return 1;
	}
	for (i = 0; i < N_SUBCOMMANDS; i++) {
		if (!strcmp(argv[optind], subcommands[i].name))
			return subcommands[i].fn(&subcommands[i], argc - optind,
						 argv + optind);
	}
	fprintf(stderr, PROG ": unknown command '%s' (see " PROG " --help)\n",
		argv[optind]);
	return 1;
}
