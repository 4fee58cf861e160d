#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# reqcount.sh: count the FUSE requests each file operation costs, per
# opcode, for rdmafs in its configurations and for libfuse's
# passthrough_ll, and print them side by side.  README.md next to this
# file explains the rows.
#
#   tests/bench/reqcount.sh [LABEL=KIND:BINARY[:OPTIONS] ...]
#
# KIND is rdmafs (mounted on a directory of its own), rdmafs_over
# (overmounted: BACKING == MOUNTPOINT, as recommended) or ptll
# (passthrough_ll, -o source=).  Without arguments: build/fs/rdmafs
# (RDMAFS_BIN) both ways, RDMAFS314_BIN both ways when set, and the
# passthrough_ll of tools/libfuse-private's prefix when built.
#
# Each configuration gets a fresh private tmpfs (BACKING=xfs: a loop XFS
# image) as its backing.  Counting uses the kernel's fuse_request_send
# tracepoint in a tracefs instance of our own, filtered to the mount's
# connection (METHOD=trace, the default where /sys/kernel/tracing has
# events/fuse), or else the daemon's -d output (METHOD=log; counts
# FORGETs too, which the tracepoint does not see).
#
# Needs root.  N (1000): operations per phase.  PAUSE (1.5): seconds slept
# before the phases that should meet expired kernel caches.  PHASES: a
# comma-separated subset.  RDMAFS_OPTS, PTLL_OPTS: extra -o options.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
N=${N:-1000}
PAUSE=${PAUSE:-1.5}
PHASES=${PHASES:-}
BACKING=${BACKING:-tmpfs}
RDMAFS_OPTS=${RDMAFS_OPTS:-}
PTLL_OPTS=${PTLL_OPTS:-}
RDMAFS_BIN=${RDMAFS_BIN:-$top/build/fs/rdmafs}
RDMAFS314_BIN=${RDMAFS314_BIN:-}
REQCOUNT_BIN=${REQCOUNT_BIN:-}
TRACEFS=/sys/kernel/tracing

if (($(id -u) != 0)); then
	echo "reqcount.sh: needs root (mounts)" >&2
	exit 77
fi
# The tracepoints live in tracefs, which a minimal system may not mount.
if [[ ! -d $TRACEFS/events ]] && [[ -d $TRACEFS ]]; then
	mount -t tracefs nodev "$TRACEFS" 2>/dev/null || true
fi
if [[ -z ${METHOD:-} ]]; then
	METHOD=log
	[[ -d $TRACEFS/events/fuse/fuse_request_send ]] && METHOD=trace
fi

tmp=$(mktemp -d /tmp/reqcount.XXXXXX)
inst=
daemon_pid=
mounts=()

cleanup() {
	local m i
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
		m=${mounts[i]}
		fusermount3 -u "$m" 2>/dev/null || umount "$m" 2>/dev/null ||
			umount -l "$m" 2>/dev/null || true
	done
	[[ -n $daemon_pid ]] && kill "$daemon_pid" 2>/dev/null || true
	[[ -n $inst && -d $inst ]] && rmdir "$inst" 2>/dev/null || true
	if findmnt -rn -o TARGET | grep "^$tmp/" >/dev/null; then
		echo "reqcount.sh: mounts left under $tmp; not removing it" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -z $REQCOUNT_BIN ]]; then
	REQCOUNT_BIN=$tmp/reqcount
	gcc -O2 -Wall -Wextra -Wno-unused-parameter -o "$REQCOUNT_BIN" \
		"$here/reqcount.c"
fi

if (($# == 0)); then
	set -- "rdmafs=rdmafs:$RDMAFS_BIN:$RDMAFS_OPTS" \
		"rdmafs_over=rdmafs_over:$RDMAFS_BIN:$RDMAFS_OPTS"
	if [[ -n $RDMAFS314_BIN ]]; then
		set -- "$@" "rdmafs314=rdmafs:$RDMAFS314_BIN:$RDMAFS_OPTS" \
			"rdmafs314_over=rdmafs_over:$RDMAFS314_BIN:$RDMAFS_OPTS"
	fi
	ptll=$("$top/tools/libfuse-private" --print-prefix 2>/dev/null)/libexec/passthrough_ll
	[[ -x $ptll ]] && set -- "$@" "ptll318=ptll:$ptll:$PTLL_OPTS"
fi

if [[ $METHOD == trace ]]; then
	inst=$TRACEFS/instances/reqcount-$$
	mkdir "$inst"
	echo 0 >"$inst/tracing_on"
	echo 16384 >"$inst/buffer_size_kb"
	echo 1 >"$inst/events/fuse/fuse_request_send/enable"
fi

# A fresh backing filesystem at $1.
make_backing() {
	mkdir -p "$1"
	if [[ $BACKING == xfs ]]; then
		truncate -s 2g "$1.img"
		mkfs.xfs -q -m reflink=1 "$1.img"
		mount -o loop "$1.img" "$1"
	else
		mount -t tmpfs -o size=2g,mode=0755 none "$1"
	fi
	mounts+=("$1")
}

wait_fuse() {
	local i
	for ((i = 0; i < 100; i++)); do
		[[ $(stat -f -c %T "$1" 2>/dev/null) == fuse* ]] && return 0
		kill -0 "$daemon_pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# Counts for configuration $1 (label), $2 (kind), $3 (binary), $4 (opts).
run_config() {
	local label=$1 kind=$2 bin=$3 opts=$4 bk=$tmp/bk-$1 mnt dev
	local log=$tmp/$label.log dbg=-f args=()

	make_backing "$bk"
	mnt=$tmp/mnt-$label
	[[ $kind == rdmafs_over ]] && mnt=$bk
	mkdir -p "$mnt"
	[[ $METHOD == log ]] && dbg=-d
	case $kind in
	rdmafs | rdmafs_over)
		args=("$dbg" ${opts:+-o "$opts"} "$bk" "$mnt") ;;
	ptll)
		args=("$dbg" -o "source=$bk${opts:+,$opts}" "$mnt") ;;
	*)
		echo "reqcount.sh: unknown kind $kind" >&2
		return 1 ;;
	esac
	"$bin" "${args[@]}" 2>"$log" &
	daemon_pid=$!
	if ! wait_fuse "$mnt"; then
		echo "reqcount.sh: $label did not mount:" >&2
		tail -5 "$log" >&2
		daemon_pid=
		return 1
	fi
	mounts+=("$mnt")
	mkdir "$mnt/work"
	if [[ $METHOD == trace ]]; then
		dev=$(mountpoint -d "$mnt")
		echo "connection == $(((${dev%%:*} << 20) | ${dev##*:}))" \
			>"$inst/events/fuse/fuse_request_send/filter"
		"$REQCOUNT_BIN" -t "$inst" -n "$N" -p "$PAUSE" \
			${PHASES:+-o "$PHASES"} "$mnt/work" >"$tmp/$label.out"
	else
		"$REQCOUNT_BIN" -l "$log" -n "$N" -p "$PAUSE" \
			${PHASES:+-o "$PHASES"} "$mnt/work" >"$tmp/$label.out"
	fi
	fusermount3 -u "$mnt"
	unset 'mounts[-1]'
	wait "$daemon_pid" || true
	daemon_pid=
	umount "$bk"
	unset 'mounts[-1]'
}

labels=()
for spec in "$@"; do
	label=${spec%%=*}
	rest=${spec#*=}
	kind=${rest%%:*}
	rest=${rest#*:}
	bin=${rest%%:*}
	opts=
	[[ $rest == *:* ]] && opts=${rest#*:}
	echo "reqcount.sh: $label ($kind $bin${opts:+ -o $opts})" >&2
	if run_config "$label" "$kind" "$bin" "$opts"; then
		labels+=("$label")
	fi
done

echo "# FUSE requests per operation ($METHOD, N=$N, $BACKING backing, kernel $(uname -r))"
echo
printf '| operation |'
for l in "${labels[@]}"; do printf ' %s |' "$l"; done
printf '\n|---|'
for l in "${labels[@]}"; do printf -- '---:|'; done
printf '\n'
for phase in $(awk '{print $1}' "$tmp/${labels[0]}.out"); do
	printf '| %s |' "$phase"
	for l in "${labels[@]}"; do
		printf ' %s |' "$(awk -v p="$phase" '$1 == p {print $3}' "$tmp/$l.out")"
	done
	printf '\n'
done
echo
echo "By opcode (requests per operation):"
for phase in $(awk '{print $1}' "$tmp/${labels[0]}.out"); do
	for l in "${labels[@]}"; do
		awk -v p="$phase" -v l="$l" '$1 == p {
			s = ""; for (i = 4; i <= NF; i++) s = s " " $i
			printf "  %-13s %-15s%s\n", p, l, s }' "$tmp/$l.out"
	done
done
