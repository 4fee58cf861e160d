/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one JSON string escape of rdmafs: the audit trail's JSON Lines
 * (audit.c) and rdmafsctl's --json output write strings with it, so that
 * a name comes out the same wherever it is shown.
 *
 * The rule, for the raw bytes of a string (file names are bytes, not
 * text):
 *  - `"` and `\` as \" and \\; newline, carriage return, tab, backspace
 *    and form feed as \n, \r, \t, \b, \f; every other byte below 0x20,
 *    and DEL (valid JSON raw, but a terminal obeys it), as \u00XX;
 *  - a well-formed UTF-8 sequence (no overlong form, no surrogate,
 *    nothing past U+10FFFF, not cut short) is copied as it is, never
 *    escaped;
 *  - every other byte (0x80 to 0xff outside such a sequence) as \u00XX
 *    with its value, lower-case hex.
 *
 * So a line is always valid UTF-8 and valid JSON for every parser (no
 * lone surrogates, which some parsers reject and others replace).  A
 * generic parser reads an invalid byte as the Latin-1 character of the
 * same value, but the text itself loses nothing: since valid characters
 * are never escaped, an escape \u0080 to \u00ff in it always stands for
 * one raw byte, and jesc_restore_bytes() gives the exact bytes back.
 */
#ifndef RDMAFS_JSONESC_H
#define RDMAFS_JSONESC_H

#include <stddef.h>
#include <stdio.h>

/* Where the escaped text goes: @n bytes at @s, in order. */
typedef void (*jesc_put_fn)(void *ctx, const char *s, size_t n);

/*
 * The length of the well-formed UTF-8 sequence at @s (at most @n bytes,
 * @n >= 1), or 0 when it is not one: a stray continuation byte, an
 * overlong form, a surrogate, a code point past U+10FFFF, or a sequence
 * cut short.  ASCII bytes are sequences of 1.
 */
size_t jesc_utf8_len(const unsigned char *s, size_t n);

/* Writes the @n bytes at @s as one JSON string, quotes included. */
void jesc_string(const char *s, size_t n, jesc_put_fn put, void *ctx);

/* The same into @f (stdio reports write errors through ferror()). */
void jesc_fputs(FILE *f, const char *s, size_t n);

/*
 * Turns every escape \u0080 to \u00ff in the JSON text @text of @n bytes
 * back into the raw byte it stands for, in place, and returns the new
 * length.  Run on a line written by jesc_string() before handing it to a
 * parser that keeps raw bytes in strings (json-c does), the strings come
 * out as their exact original bytes.  Escaped backslashes are skipped
 * correctly (`\\u00e9` is a backslash and text).  A writer that does
 * escape valid characters (e.g. Python's ensure_ascii) does not follow
 * this rule: its é would come back as the byte 0xe9.
 */
size_t jesc_restore_bytes(char *text, size_t n);

#endif
