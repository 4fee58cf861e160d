// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Runs a fuzz target's function over files, without libFuzzer: the unit
 * tests fuzz-* replay the seed corpus (and any crash file added to it)
 * on every test run, in the normal build.  Arguments are files or
 * directories (their regular files, in name order).  Exits 0 when every
 * input ran (a failed invariant aborts), 1 when an input cannot be read
 * or there was none.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0, r;

	if (!f) {
		fprintf(stderr, "replay: couldn't open %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	do {
		if (n == cap) {
			uint8_t *b = realloc(buf, cap ? 2 * cap : 4096);

			if (!b) {
				fclose(f);
				free(buf);
				return -1;
			}
			buf = b;
			cap = cap ? 2 * cap : 4096;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	fclose(f);
	/* A copy of exactly n bytes: ASan sees any read past the input. */
	{
		uint8_t *exact = malloc(n ? n : 1);

		if (!exact) {
			free(buf);
			return -1;
		}
		memcpy(exact, buf, n);
		free(buf);
		LLVMFuzzerTestOneInput(exact, n);
		free(exact);
	}
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
	size_t ran = 0;
	int i, k, n;

	for (i = 1; i < argc; i++) {
		struct dirent **ents;
		struct stat st;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
				strerror(errno));
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (run_file(argv[i]) < 0)
				return 1;
			ran++;
			continue;
		}
		n = scandir(argv[i], &ents, NULL, by_name);
		if (n < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
				strerror(errno));
			return 1;
		}
		for (k = 0; k < n; k++) {
			char p[PATH_MAX];
			int err = 0;

			snprintf(p, sizeof(p), "%s/%s", argv[i],
				 ents[k]->d_name);
			if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
				err = run_file(p);
				ran++;
			}
			free(ents[k]);
			if (err < 0) {
				while (++k < n)
					free(ents[k]);
				free(ents);
				return 1;
			}
		}
		free(ents);
	}
	printf("replay: %zu inputs\n", ran);
	return ran ? 0 : 1;
}
