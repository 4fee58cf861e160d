/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the fuzz targets share.  Each target defines LLVMFuzzerTestOneInput
 * and checks invariants with FZ_CHECK, which aborts (libFuzzer and the
 * sanitizers report an abort as a crash, with the input saved) rather
 * than assert(), which a release build would compile out.
 *
 * Built two ways (tests/fuzz/meson.build): with clang's -fsanitize=fuzzer
 * as a fuzzer, and with any compiler linked to replay.c as a unit test
 * that runs the seed corpus through the same function.
 */
#ifndef RDMAFS_FUZZ_H
#define RDMAFS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FZ_CHECK(cond)                                                   \
	do {                                                             \
		if (!(cond)) {                                           \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", \
				__FILE__, __LINE__, #cond);              \
			abort();                                         \
		}                                                        \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
