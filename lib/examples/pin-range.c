/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * librdmafs example: pin a range of a file in an rdmafs mount (as an
 * RDMA application does before it registers that memory), print the
 * file's pins, and unpin it again.
 *
 *   cc pin-range.c $(pkg-config --cflags --libs rdmafs) -o pin-range
 *   ./pin-range /mnt/rdmafs/data 0 4096
 *
 * Exits 0 on success, 1 on an error (printed with rdmafs_strerror()),
 * 2 on bad usage.
 */
#define _POSIX_C_SOURCE 200809L /* O_CLOEXEC, in strict C99 too */

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rdmafs/rdmafs.h>

static int fail(const char *what, int err)
{
	fprintf(stderr, "pin-range: %s: %s\n", what, rdmafs_strerror(err));
	return 1;
}

int main(int argc, char **argv)
{
	struct rdmafs_range r = { 0, RDMAFS_WHOLE };
	struct rdmafs_pin *pins;
	size_t n, i;
	int fd, err;

	if (argc != 2 && argc != 4) {
		fprintf(stderr, "usage: pin-range FILE [OFFSET LENGTH]\n");
		return 2;
	}
	if (argc == 4) {
		r.offset = strtoull(argv[2], NULL, 0);
		r.length = strtoull(argv[3], NULL, 0);
	}
	/* pinning needs write permission on the file, as any user.* xattr */
	fd = open(argv[1], O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror("pin-range: open");
		return 1;
	}
	err = rdmafs_pin(fd, &r, 1, 0);
	if (err)
		return fail("pin", err);
	/* ... here the application would register the range for RDMA ... */
	err = rdmafs_file_pins(fd, &pins, &n);
	if (err)
		return fail("file pins", err);
	for (i = 0; i < n; i++) {
		if (pins[i].range.length == RDMAFS_WHOLE)
			printf("all");
		else
			printf("%" PRIu64 "+%" PRIu64, pins[i].range.offset,
			       pins[i].range.length);
		printf(" owner=%" PRIu32 " since=%" PRId64 "\n", pins[i].owner,
		       pins[i].since);
	}
	rdmafs_pins_free(pins, n);
	/* ... and deregister it before it unpins */
	err = rdmafs_unpin(fd, &r, 0);
	if (err)
		return fail("unpin", err);
	close(fd);
	return 0;
}
