// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rdmafsctl pins and status: the mount-wide listing and the status, as
 * librdmafs reads them (rdmafs_mount_pins(), rdmafs_mount_status()),
 * shown as a table or JSON.  Read-only: they need no privilege beyond
 * reading the mount root.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rdmafs/rdmafs.h"
#include "ctl.h"
#include "ctl_out.h"

/* ---- pins ---- */

struct pin_row {
	size_t path_w;
	char range[48];
	char size[16];
	char owner[80];
	char holder[64];
	char since[32];
};

static void print_pins_json(const struct rdmafs_pin *pins, size_t n)
{
	char since[32];
	size_t i;

	if (!n) {
		printf("[]\n");
		return;
	}
	printf("[\n");
	for (i = 0; i < n; i++) {
		const struct rdmafs_pin *p = &pins[i];

		printf("  {\"path\": ");
		out_json_str(p->path, strlen(p->path));
		if (p->range.length == RDMAFS_WHOLE)
			printf(", \"offset\": 0, \"length\": null, \"all\": true");
		else
			printf(", \"offset\": %llu, \"length\": %llu, \"all\": false",
			       (unsigned long long)p->range.offset,
			       (unsigned long long)p->range.length);
		printf(", \"owner\": %u, \"holder\": ", (unsigned)p->owner);
		if (p->holder)
			printf("%d", (int)p->holder);
		else
			printf("null");
		out_time(p->since, since, sizeof(since));
		printf(", \"since\": \"%s\"}%s\n", since, i + 1 < n ? "," : "");
	}
	printf("]\n");
}

static int print_pins_table(const struct rdmafs_pin *pins, size_t n)
{
	size_t w_path = strlen("PATH"), w_range = strlen("RANGE");
	size_t w_size = strlen("SIZE"), w_owner = strlen("OWNER");
	size_t w_holder = strlen("HOLDER"), i, len;
	struct pin_row *rows;
	char *r;

	if (!n) {
		printf("no pins\n");
		return CTL_OK;
	}
	rows = calloc(n, sizeof(*rows));
	if (!rows)
		return ctl_fail(-ENOMEM, "format the pins");
	for (i = 0; i < n; i++) {
		const struct rdmafs_pin *p = &pins[i];
		struct pin_row *row = &rows[i];

		r = out_render(p->path, strlen(p->path), &row->path_w);
		if (!r) {
			free(rows);
			return ctl_fail(-ENOMEM, "format the pins");
		}
		free(r);
		if (p->range.length == RDMAFS_WHOLE) {
			snprintf(row->range, sizeof(row->range), "all");
			snprintf(row->size, sizeof(row->size), "-");
		} else {
			snprintf(row->range, sizeof(row->range), "%llu+%llu",
				 (unsigned long long)p->range.offset,
				 (unsigned long long)p->range.length);
			out_size(p->range.length, row->size, sizeof(row->size));
		}
		out_owner(p->owner, row->owner, sizeof(row->owner));
		out_holder(p->holder, row->holder, sizeof(row->holder));
		out_time(p->since, row->since, sizeof(row->since));
		if (row->path_w > w_path)
			w_path = row->path_w;
		if ((len = strlen(row->range)) > w_range)
			w_range = len;
		if ((len = strlen(row->size)) > w_size)
			w_size = len;
		if ((len = strlen(row->owner)) > w_owner)
			w_owner = len;
		if ((len = strlen(row->holder)) > w_holder)
			w_holder = len;
	}
	printf("%-*s  %-*s  %*s  %-*s  %-*s  SINCE\n", (int)w_path, "PATH",
	       (int)w_range, "RANGE", (int)w_size, "SIZE", (int)w_owner,
	       "OWNER", (int)w_holder, "HOLDER");
	for (i = 0; i < n; i++) {
		const struct pin_row *row = &rows[i];

		out_cell(pins[i].path, strlen(pins[i].path), w_path);
		printf("  %-*s  %*s  %-*s  %-*s  %s\n", (int)w_range,
		       row->range, (int)w_size, row->size, (int)w_owner,
		       row->owner, (int)w_holder, row->holder, row->since);
	}
	free(rows);
	return CTL_OK;
}

int ctl_cmd_pins(const struct subcommand *cmd, int argc, char **argv)
{
	struct rdmafs_mount *m;
	struct rdmafs_pin *pins;
	struct ctl_args a;
	const char *mnt;
	size_t n;
	int ret;

	ret = ctl_parse_args(cmd, argc, argv, CTL_OPT_JSON, 1, 1, "one MOUNT",
			     &a);
	if (ret >= 0)
		return ret;
	mnt = a.pos[0];
	ret = rdmafs_mount_open(mnt, &m);
	if (ret)
		return ctl_fail(ret, "read pins of %s", mnt);
	ret = rdmafs_mount_pins(m, &pins, &n);
	rdmafs_mount_close(m);
	if (ret)
		return ctl_fail(ret, "read pins of %s", mnt);
	if (a.json) {
		print_pins_json(pins, n);
		ret = CTL_OK;
	} else {
		ret = print_pins_table(pins, n);
	}
	rdmafs_pins_free(pins, n);
	return ret ? ret : ctl_finish_output();
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

static void print_status_json(const struct rdmafs_status *st)
{
	size_t i;

	printf("{");
	for (i = 0; i < st->nfields; i++) {
		const struct rdmafs_field *f = &st->fields[i];

		printf("%s\n  ", i ? "," : "");
		out_json_str(f->key, strlen(f->key));
		printf(": ");
		if (is_json_number(f->value))
			printf("%s", f->value);
		else
			out_json_str(f->value, strlen(f->value));
	}
	printf("%s}\n", st->nfields ? "\n" : "");
}

static void print_status_table(const struct rdmafs_status *st)
{
	size_t i, w = 0;

	for (i = 0; i < st->nfields; i++) {
		if (strlen(st->fields[i].key) > w)
			w = strlen(st->fields[i].key);
	}
	for (i = 0; i < st->nfields; i++) {
		const struct rdmafs_field *f = &st->fields[i];

		out_cell(f->key, strlen(f->key), w);
		printf("  ");
		out_cell(f->value, strlen(f->value), 0);
		printf("\n");
	}
}

int ctl_cmd_status(const struct subcommand *cmd, int argc, char **argv)
{
	struct rdmafs_status *st;
	struct rdmafs_mount *m;
	struct ctl_args a;
	const char *mnt;
	int ret;

	ret = ctl_parse_args(cmd, argc, argv, CTL_OPT_JSON, 1, 1, "one MOUNT",
			     &a);
	if (ret >= 0)
		return ret;
	mnt = a.pos[0];
	ret = rdmafs_mount_open(mnt, &m);
	if (ret)
		return ctl_fail(ret, "read the status of %s", mnt);
	ret = rdmafs_mount_status(m, &st);
	rdmafs_mount_close(m);
	if (ret)
		return ctl_fail(ret, "read the status of %s", mnt);
	if (a.json)
		print_status_json(st);
	else
		print_status_table(st);
	rdmafs_status_free(st);
	return ctl_finish_output();
}
