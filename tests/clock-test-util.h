/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Time helpers shared by the mount tests that wait for something with a
 * deadline (mount-mediate, mount-failclosed).
 */
#ifndef RDMAFS_CLOCK_TEST_UTIL_H
#define RDMAFS_CLOCK_TEST_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <time.h>

/* Milliseconds on the monotonic clock (only differences mean anything). */
static inline int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps the whole @ms, even when a signal interrupts it. */
static inline void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

#endif
