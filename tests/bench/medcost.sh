#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# medcost.sh: what the mediation of a truncate costs, and how often it
# goes to the pin table (issue 8: one snapshot per attempt).  See
# README.md here.
#
#   tests/bench/medcost.sh [RDMAFS_BINARY ...]
#
# For each binary (default: $RDMAFS_BIN, else build/fs/rdmafs), on a fresh
# loop-mounted XFS with two 1 MiB files, f pinned whole and g pinned in
# its first 4 KiB, N rounds of:
#   refuse: truncate f to 0 under policy=refuse (refused, ETXTBSY);
#   audit:  truncate f to 512 KiB and back to 1 MiB under policy=audit
#           (the cut is mediated, audited and performed; the growth not);
#   miss:   the same on g under policy=refuse (the cut misses the pin).
# Prints microseconds per round and, when perf can place uprobes, how
# many times the daemon looked a file up in the pin table (ptab_find +
# ptab_has_overlap) and locked a file's entry (ptab_file_lock +
# ptab_has_overlap, which locks the entry of a pinned file), per round.
# The probes cost some microseconds each: PROBE=0 for times without them.
set -euo pipefail

N=${N:-500}

if [ "$(id -u)" != 0 ]; then
	echo "medcost: needs root (loop mount, FUSE)" >&2
	exit 77
fi
for t in mkfs.xfs setfattr fusermount3 python3; do
	command -v "$t" >/dev/null || {
		echo "medcost: $t missing" >&2
		exit 77
	}
done
[ $# -gt 0 ] || set -- "${RDMAFS_BIN:-build/fs/rdmafs}"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/medcost.XXXXXX")
DAEMON=
PROBES=
cleanup() {
	if mountpoint -q "$WORK/m" 2>/dev/null; then
		fusermount3 -u "$WORK/m" 2>/dev/null ||
			umount -l "$WORK/m" 2>/dev/null || true
	fi
	if [ -n "$DAEMON" ]; then
		wait "$DAEMON" 2>/dev/null || true
		DAEMON=
	fi
	if mountpoint -q "$WORK/b" 2>/dev/null; then
		umount "$WORK/b" 2>/dev/null || umount -l "$WORK/b" || true
	fi
}
trap 'cleanup; [ -z "$PROBES" ] || perf probe -q -d "medcost:*" || true; rm -rf "$WORK"' EXIT INT TERM

cat >"$WORK/loop.py" <<'PY'
import errno, os, sys, time
mode, f, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
size = os.stat(f).st_size
t0 = time.perf_counter()
for _ in range(n):
    if mode == "refuse":
        try:
            os.truncate(f, 0)
            sys.exit("medcost: the truncate of a pinned file went through")
        except OSError as e:
            if e.errno != errno.ETXTBSY:
                raise
    else:
        os.truncate(f, size // 2)
        os.truncate(f, size)
print("%.1f" % ((time.perf_counter() - t0) / n * 1e6))
PY

# probes BIN: uprobes on the pin table's entry points, if perf can.
probes() {
	perf probe -q -d "medcost:*" 2>/dev/null || true
	PROBES=
	[ "${PROBE:-1}" = 1 ] && command -v perf >/dev/null || return 0
	perf probe -q -x "$1" -a medcost:find=ptab_find \
		-a medcost:lock=ptab_file_lock \
		-a medcost:overlap=ptab_has_overlap 2>/dev/null || return 0
	PROBES=medcost:find,medcost:lock,medcost:overlap
}

# run BIN POLICY MODE FILE: one mount, N rounds; prints "us finds locks".
run() {
	local bin=$1 policy=$2 mode=$3 file=$4 us find lock overlap
	mkdir -p "$WORK/b" "$WORK/m"
	rm -f "$WORK/img"
	truncate -s 512m "$WORK/img"
	mkfs.xfs -q "$WORK/img"
	mount -o loop "$WORK/img" "$WORK/b"
	for f in f g; do
		dd if=/dev/urandom of="$WORK/b/$f" bs=1M count=1 conv=fsync \
			status=none
	done
	"$bin" -f -o "policy=$policy" "$WORK/b" "$WORK/m" 2>/dev/null &
	DAEMON=$!
	for _ in $(seq 100); do
		mountpoint -q "$WORK/m" && break
		sleep 0.05
	done
	mountpoint -q "$WORK/m" || {
		echo "medcost: $bin did not mount" >&2
		exit 1
	}
	setfattr -n user.rdmafs.pin -v 0+1048576 "$WORK/m/f"
	setfattr -n user.rdmafs.pin -v 0+4096 "$WORK/m/g"
	if [ -n "$PROBES" ]; then
		perf stat -x, -o "$WORK/perf" -e "$PROBES" -a -- \
			python3 "$WORK/loop.py" "$mode" "$WORK/m/$file" "$N" \
			>"$WORK/us"
		find=$(awk -F, '$3 ~ /find/ { print $1 }' "$WORK/perf")
		lock=$(awk -F, '$3 ~ /:lock/ { print $1 }' "$WORK/perf")
		overlap=$(awk -F, '$3 ~ /overlap/ { print $1 }' "$WORK/perf")
		us=$(cat "$WORK/us")
		echo "$us $(((find + overlap) / N)) $(((lock + overlap) / N))"
	else
		us=$(python3 "$WORK/loop.py" "$mode" "$WORK/m/$file" "$N")
		echo "$us - -"
	fi
	cleanup
}

echo "medcost: N=$N rounds, XFS on loop; per round: us, table lookups, entry locks"
for bin in "$@"; do
	probes "$bin"
	echo "$bin"
	echo "  refuse  $(run "$bin" refuse refuse f)"
	echo "  audit   $(run "$bin" audit cut f)"
	echo "  miss    $(run "$bin" refuse cut g)"
done
