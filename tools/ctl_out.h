/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * How rdmafsctl shows data: text made safe for a terminal, sizes, users
 * and processes by name, aligned columns, and JSON strings (by the one
 * escape of core/jsonesc.h).
 */
#ifndef RDMAFS_CTL_OUT_H
#define RDMAFS_CTL_OUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/*
 * @n bytes of a path or value made safe and readable for a terminal:
 * printable characters of the locale as they are, everything else
 * (control characters, bytes that are not a character here) and the
 * backslash as \ooo, so that what is shown names one file only.  Returns
 * a malloc'd string and its width in columns in *@width, or NULL.
 */
char *out_render(const char *s, size_t n, size_t *width);

/* Prints @s rendered, padded with spaces to @cols columns (0: none). */
void out_cell(const char *s, size_t n, size_t cols);

/* Spaces from column @have to @want. */
void out_pad(size_t have, size_t want);

/* 1536 -> "1.5K", 1048576 -> "1M": exact when it is, else one decimal. */
void out_size(uint64_t v, char *buf, size_t size);

/* "1000(alice)", or just the uid when no user has it. */
void out_owner(uint32_t uid, char *buf, size_t size);

/* "-" for 0, "PID(comm)" while the process lives, else "PID". */
void out_holder(pid_t pid, char *buf, size_t size);

/* @t (seconds since the Epoch) as RFC 3339 UTC: "2026-11-25T09:40:00Z". */
void out_time(int64_t t, char *buf, size_t size);

/* @n bytes as a JSON string on stdout, quotes included. */
void out_json_str(const char *s, size_t n);

#endif
