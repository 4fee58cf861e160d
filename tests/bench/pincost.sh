#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# pincost.sh: what a pin and an unpin cost through the mount, durability
# included (issue 7 item 4: the pin is on the device before setxattr
# returns).  See README.md here.
#
#   tests/bench/pincost.sh [RDMAFS_BINARY ...]
#
# For each binary (default: $RDMAFS_BIN, else build/fs/rdmafs), on a fresh
# loop-mounted XFS: N pins of distinct 4 KiB ranges of one written file,
# then their N unpins, each a setxattr through the mount, all from one
# setfattr --restore process (no process start per call).  A plain
# user.* xattr set N times through the same mount is the baseline: the
# FUSE round trip and the backing setxattr without anything rdmafs adds.
# Prints microseconds per call, the median of RUNS runs.
set -euo pipefail

N=${N:-200}
RUNS=${RUNS:-3}
IMG_SIZE=${IMG_SIZE:-1g}

if [ "$(id -u)" != 0 ]; then
	echo "pincost: needs root (loop mount, FUSE)" >&2
	exit 77
fi
for t in mkfs.xfs setfattr fusermount3; do
	command -v "$t" >/dev/null || {
		echo "pincost: $t missing" >&2
		exit 77
	}
done
[ $# -gt 0 ] || set -- "${RDMAFS_BIN:-build/fs/rdmafs}"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pincost.XXXXXX")
DAEMON=
cleanup() {
	if mountpoint -q "$WORK/mnt" 2>/dev/null; then
		fusermount3 -u "$WORK/mnt" 2>/dev/null ||
			umount -l "$WORK/mnt" 2>/dev/null || true
	fi
	if [ -n "$DAEMON" ]; then
		wait "$DAEMON" 2>/dev/null || true
		DAEMON=
	fi
	if mountpoint -q "$WORK/b" 2>/dev/null; then
		umount "$WORK/b" 2>/dev/null || umount -l "$WORK/b" || true
	fi
}
trap 'cleanup; rm -rf "$WORK"' EXIT INT TERM

now_us() { echo $(($(date +%s%N) / 1000)); }

# A setfattr --restore script: N sets of NAME on FILE, values from $3.
script() {
	local file=$1 name=$2 kind=$3 i
	for ((i = 0; i < N; i++)); do
		printf '# file: %s\n' "$file"
		case $kind in
		range) printf '%s="%d+4096"\n\n' "$name" $((i * 8192)) ;;
		plain) printf '%s="v%d"\n\n' "$name" "$i" ;;
		esac
	done
}

# Microseconds per call of one setfattr --restore run, in directory $WORK/mnt.
timed() {
	local t0 t1
	t0=$(now_us)
	(cd "$WORK/mnt" && setfattr --restore="$1")
	t1=$(now_us)
	echo $(((t1 - t0) / N))
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# One binary: prints "baseline pin unpin" (microseconds per call, medians).
measure() {
	local bin=$1 r base=() pins=() unpins=()
	script f user.bench plain >"$WORK/plain"
	script f user.rdmafs.pin range >"$WORK/pin"
	script f user.rdmafs.unpin range >"$WORK/unpin"
	for ((r = 0; r < RUNS; r++)); do
		mkdir -p "$WORK/b" "$WORK/mnt"
		rm -f "$WORK/img"
		truncate -s "$IMG_SIZE" "$WORK/img"
		mkfs.xfs -q -m reflink=1 "$WORK/img"
		mount -o loop "$WORK/img" "$WORK/b"
		# Written and synced: pins find nothing to stabilise, so what is
		# measured is the pin itself and making it durable.  SPARSE=1:
		# a hole, so that every pin allocates and writes its range too.
		if [ "${SPARSE:-0}" = 1 ]; then
			truncate -s $((N * 8192)) "$WORK/b/f"
		else
			dd if=/dev/urandom of="$WORK/b/f" bs=1M \
				count=$(((N * 8192 + 1048575) / 1048576)) \
				conv=fsync status=none
		fi
		sync
		"$bin" -f "$WORK/b" "$WORK/mnt" &
		DAEMON=$!
		for _ in $(seq 100); do
			mountpoint -q "$WORK/mnt" && break
			sleep 0.05
		done
		mountpoint -q "$WORK/mnt" || {
			echo "pincost: $bin did not mount" >&2
			exit 1
		}
		base+=("$(timed "$WORK/plain")")
		pins+=("$(timed "$WORK/pin")")
		unpins+=("$(timed "$WORK/unpin")")
		cleanup
	done
	echo "$(printf '%s\n' "${base[@]}" | median)" \
		"$(printf '%s\n' "${pins[@]}" | median)" \
		"$(printf '%s\n' "${unpins[@]}" | median)"
}

echo "pincost: N=$N calls each, median of $RUNS runs, XFS on loop$([ "${SPARSE:-0}" = 1 ] && echo ", sparse file")," \
	"$(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| %-40s | %9s | %9s | %9s | %9s | %9s |\n' binary "plain us" \
	"pin us" "unpin us" "pin-plain" "unpin-plain"
printf '|%s|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..42})" \
	----------- ----------- ----------- ----------- -----------
for bin in "$@"; do
	read -r b p u < <(measure "$bin")
	printf '| %-40s | %9s | %9s | %9s | %9s | %9s |\n' "$bin" "$b" "$p" \
		"$u" $((p - b)) $((u - b))
done
