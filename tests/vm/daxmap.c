// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daxmap FILE MIB: stores into a shared mapping of FILE (made MIB MiB
 * long) and says what backs the mapping, for tests/vm/smoke.sh: the page
 * cache before and after (/proc/meminfo Cached), the VMA's flags and
 * residency (/proc/self/smaps), and how many of the mapping's pages are
 * frames of persistent memory (/proc/self/pagemap against /proc/iomem; root
 * only).  A DAX mapping stores into the NVDIMM, so no page cache grows and
 * every frame is a pmem frame.  The verdict is smoke.sh's; this only
 * measures (python does the same in ten times the time under TCG).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MIB (1UL << 20)
#define PAGE 4096UL
#define MAX_RANGES 16

static long cached_mib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Cached: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib < 0 ? -1 : kib / 1024;
}

/* The VMA at @addr in smaps: its Rss and VmFlags lines, as they are. */
static void print_smaps(uintptr_t addr)
{
	char line[512];
	int in = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		uintptr_t lo, hi;

		line[strcspn(line, "\n")] = '\0';
		/* A VMA's first line: "lo-hi perms ..."; fields: "Name: ...". */
		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " ", &lo, &hi) == 2) {
			in = lo == addr;
			if (in)
				printf("maps %s\n", line);
		} else if (in && !strncmp(line, "Rss:", 4)) {
			printf("smaps %s\n", line);
		} else if (in && !strncmp(line, "VmFlags:", 8)) {
			printf("vmflags %s\n", line + 9);
			break;
		}
	}
	fclose(f);
}

/* /proc/iomem's "Persistent Memory" ranges (real addresses as root). */
static int pmem_ranges(uint64_t r[][2], int max)
{
	char line[256];
	int n = 0;
	FILE *f = fopen("/proc/iomem", "r");

	if (!f)
		return 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		uint64_t lo, hi;
		char name[128];

		if (sscanf(line, " %" SCNx64 "-%" SCNx64 " : %127[^\n]", &lo,
			   &hi, name) == 3 &&
		    !strncmp(name, "Persistent Memory", 17)) {
			r[n][0] = lo;
			r[n][1] = hi;
			printf("pmem_range %" PRIx64 "-%" PRIx64 "\n", lo, hi);
			n++;
		}
	}
	fclose(f);
	return n;
}

/* One page a MiB: present frames, and those inside a pmem range. */
static void count_frames(char *map, size_t size)
{
	uint64_t r[MAX_RANGES][2];
	int n = pmem_ranges(r, MAX_RANGES);
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	unsigned long in = 0, total = 0;

	for (size_t off = 0; fd >= 0 && off < size; off += MIB) {
		uint64_t e, phys;

		if (pread(fd, &e, sizeof(e),
			  (off_t)((uintptr_t)(map + off) / PAGE * 8)) !=
			    sizeof(e) ||
		    !(e >> 63))
			continue;
		phys = (e & ((1ULL << 55) - 1)) * PAGE;
		total++;
		for (int i = 0; i < n; i++)
			if (phys && phys >= r[i][0] && phys <= r[i][1]) {
				in++;
				break;
			}
	}
	if (fd >= 0)
		close(fd);
	printf("frames_in_pmem %lu %lu\n", in, total);
}

int main(int argc, char **argv)
{
	size_t size;
	long before, after;
	char *map;
	int fd;

	if (argc != 3 || atol(argv[2]) <= 0) {
		fprintf(stderr, "usage: daxmap FILE MIB\n");
		return 2;
	}
	size = (size_t)atol(argv[2]) * MIB;
	fd = open(argv[1], O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)size) || fsync(fd)) {
		fprintf(stderr, "daxmap: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	before = cached_mib();
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		fprintf(stderr, "daxmap: mmap: %s\n", strerror(errno));
		return 1;
	}
	for (size_t off = 0; off < size; off += PAGE)
		memcpy(map + off, "rdmafsvm", 8);
	if (msync(map, size, MS_SYNC)) {
		fprintf(stderr, "daxmap: msync: %s\n", strerror(errno));
		return 1;
	}
	after = cached_mib();
	print_smaps((uintptr_t)map);
	printf("cached_mib %ld %ld\n", before, after);
	count_frames(map, size);
	munmap(map, size);
	close(fd);
	return 0;
}
