#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench.sh: measure, side by side in one run, the backing filesystem used
# directly ("native"), rdmafs in its configurations (kernel passthrough,
# daemon path, io_uring, the libfuse 3.14 build) and libfuse's own
# passthrough examples (passthrough_ll 3.14, passthrough_hp 3.18 with and
# without passthrough); write the medians and their ratios to native as a
# Markdown table and a PNG plot.  README.md next to this file lists the
# knobs and explains the rows and the columns.
#
# Needs root: it mounts the backing (tmpfs or a loop XFS image) and FUSE
# filesystems, and drops the page cache between writing and reading.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)

QUICK=${QUICK:-0}
if [[ $QUICK == 1 ]]; then
	RUNS=${RUNS:-1}
	SEQ_SIZE=${SEQ_SIZE:-128m}
	RAND_SIZE=${RAND_SIZE:-64m}
	RAND_TIME=${RAND_TIME:-2}
	MMAP_IO=${MMAP_IO:-16m}
	META_COUNT=${META_COUNT:-2000}
	BIG_COUNT=${BIG_COUNT:-30000}
	EMFILE_COUNT=${EMFILE_COUNT:-0}
else
	RUNS=${RUNS:-3}
	SEQ_SIZE=${SEQ_SIZE:-1g}
	RAND_SIZE=${RAND_SIZE:-1g}
	RAND_TIME=${RAND_TIME:-10}
	MMAP_IO=${MMAP_IO:-$RAND_SIZE}
	META_COUNT=${META_COUNT:-10000}
	BIG_COUNT=${BIG_COUNT:-1000000}
	EMFILE_COUNT=${EMFILE_COUNT:-25000}
fi
RAND_DIRECT=${RAND_DIRECT:-1}
META_PAUSE=${META_PAUSE:-1.5}
ROWS=${ROWS:-seqwrite seqread rand1 rand4 mmap meta}
TARGETS=${TARGETS:-native rdmafs rdmafs_daemon rdmafs_uring rdmafs314 ptll pthp pthp_daemon}
BIG_DIRS=${BIG_DIRS:-100}
EMFILE_TIMEOUT=${EMFILE_TIMEOUT:-300}
JOB_TIMEOUT=${JOB_TIMEOUT:-1800}
IMG_SIZE=${IMG_SIZE:-8g}
BENCH_BACKING=${BENCH_BACKING:-xfs}
BENCH_URING=${BENCH_URING:-0}
RDMAFS_OPTS=${RDMAFS_OPTS:-}
URING_OPTS=${URING_OPTS:-io_uring,no_passthrough}
PTLL_OPTS=${PTLL_OPTS:-}
PTHP_OPTS=${PTHP_OPTS:-}
BENCH_OVERMOUNT=${BENCH_OVERMOUNT:-1}
# ninja passes its own choices as BENCH_DEFAULT_*, so that the variables
# without the prefix, set by hand, still win.
RDMAFS_BIN=${RDMAFS_BIN:-${BENCH_DEFAULT_RDMAFS:-}}
RDMAFS314_BIN=${RDMAFS314_BIN:-${BENCH_DEFAULT_RDMAFS314:-}}
PTHP_BIN=${PTHP_BIN:-${BENCH_DEFAULT_PTHP:-}}
BENCH_OUT_DIR=${BENCH_OUT_DIR:-${BENCH_DEFAULT_OUT_DIR:-}}
BENCH_BUILD_DIR=${BENCH_BUILD_DIR:-${BENCH_DEFAULT_BUILD_DIR:-}}
METABENCH_BIN=${METABENCH_BIN:-}
FUSE_EXAMPLES=${FUSE_EXAMPLES:-/usr/share/doc/libfuse3-dev/examples}
URING_PARAM=/sys/module/fuse/parameters/enable_uring

declare -A title=(
	[native]="native"
	[rdmafs]="rdmafs passthrough"
	[rdmafs_daemon]="rdmafs daemon"
	[rdmafs_uring]="rdmafs io_uring"
	[rdmafs314]="rdmafs 3.14"
	[ptll]="passthrough_ll 3.14"
	[pthp]="passthrough_hp passthrough"
	[pthp_daemon]="passthrough_hp daemon"
)
declare -A desc=()	# TARGET -> what the column is, for the report
rows=()		# the report's rows, in order: ROWS with meta unfolded
declare -A label=(
	[seqwrite]="Sequential write, 1 MiB blocks (MiB/s)"
	[seqread]="Sequential read, 1 MiB blocks, cold cache (MiB/s)"
	[rand1]="Random read 4 KiB, 1 job (IOPS)"
	[rand4]="Random read 4 KiB, 4 jobs (IOPS)"
	[mmap]="mmap random read 4 KiB, cold (IOPS)"
	[create]="Create empty files (ops/s)"
	[stat]="Stat files (ops/s)"
	[unlink]="Unlink files (ops/s)"
)
declare -A short=([seqwrite]="seq write" [seqread]="seq read"
	[rand1]="rand 1 job" [rand4]="rand 4 jobs" [mmap]="mmap rand"
	[create]=create [stat]=stat [unlink]=unlink)
declare -A result=()	# "ROW.TARGET" -> space-separated values, one per run
declare -A pid=()	# TARGET -> daemon pid
declare -A dir=()	# TARGET -> the directory the workloads run in
declare -A logged=()	# TARGET -> its start-up log has been noted
targets=()
notes=()
stop_info=
job=		# the workload running in the background, if any
sampler=	# the descriptor sampler, if it runs
value=
fio_value=
tmp=
backing=
backing_kind=
backing_fs=
uring_old=

say() {
	printf '%s\n' "$*" >&2
}

die() {
	say "bench.sh: $*"
	exit 1
}

note() {
	notes+=("$*")
	say "note: $*"
}

# shellcheck source=bench-lib.sh
. "$here/bench-lib.sh"

# The m_ROW functions measure ROW on a target once and set value.
m_seqwrite() {
	local f=${dir[$1]}/seq.dat

	rm -f "$f" || return 1
	sync
	fio_field 48 --name=seqwrite --filename="$f" --ioengine=psync \
		--rw=write --bs=1M --size="$SEQ_SIZE" --end_fsync=1 || return 1
	value=$(mib "$fio_value")
}

m_seqread() {
	local f=${dir[$1]}/seq.dat

	[[ -f $f ]] || return 1
	# Both the FUSE inode's page cache and the backing file's must go.
	drop_caches || return 1
	fio_field 7 --name=seqread --filename="$f" --ioengine=psync \
		--rw=read --bs=1M --size="$SEQ_SIZE" || return 1
	rm -f "$f" || return 1
	value=$(mib "$fio_value")
}

# The loop image's pages in the host's page cache, so that the backing
# answers from memory as a DAX device would (tmpfs always does).
warm_backing() {
	[[ $backing_fs == tmpfs ]] && return 0
	run_job "$tmp/dd.out" dd if="$backing/native/rand.dat" \
		of=/dev/null bs=1M iflag=direct status=none
}

# With RAND_DIRECT=1 every read reaches the daemon or the passthrough
# backing file (no FUSE page cache) and the backing answers from memory.
# With RAND_DIRECT=0 the reads are buffered and start from cold caches.
randread() {
	if [[ $RAND_DIRECT == 1 ]]; then
		warm_backing || return 1
	else
		drop_caches || return 1
	fi
	fio_field 8 --name=randread --filename="${dir[$1]}/rand.dat" \
		--ioengine=psync --rw=randread --bs=4k --size="$RAND_SIZE" \
		--numjobs="$2" --direct="$RAND_DIRECT" --time_based \
		--runtime="$RAND_TIME" || return 1
	value=$fio_value
}

m_rand1() {
	randread "$1" 1
}

m_rand4() {
	randread "$1" 4
}

# fio's mmap engine maps the file and copies 4 KiB from random offsets,
# each block once (fio's random map), after madvise(MADV_RANDOM): every
# access is the first touch of its page, so it faults, and a FUSE mapping
# without passthrough asks the daemon for that page.  The page caches are
# dropped first (the FUSE inode's; tmpfs keeps its data).
m_mmap() {
	drop_caches || return 1
	warm_backing || return 1
	fio_field 8 --name=mmap --filename="${dir[$1]}/rand.dat" \
		--ioengine=mmap --rw=randread --bs=4k --size="$RAND_SIZE" \
		--io_size="$MMAP_IO" || return 1
	value=$fio_value
}

# One metabench pass fills in the create, stat and unlink rows at once.
m_meta() {
	local t=$1 d=${dir[$1]}/meta phase n secs rate

	mkdir "$d" || return 1
	if ! run_job "$tmp/meta.out" "$METABENCH_BIN" -p "$META_PAUSE" \
		"$d" "$META_COUNT"; then
		cat "$tmp/meta.out" "$tmp/meta.out.err" >&2
		return 1
	fi
	rmdir "$d" || return 1
	while read -r phase n secs rate; do
		[[ -n ${label[$phase]:-} ]] || continue
		result[$phase.$t]+="$rate "
		say "  ${title[$t]} $phase: $rate ops/s ($n in ${secs}s)"
	done <"$tmp/meta.out"
}

measure() {
	local row=$1 t=$2

	if [[ $row == meta ]]; then
		m_meta "$t" || note "run $run: ${title[$t]} metadata pass failed"
		return 0
	fi
	value=
	if "m_$row" "$t" && [[ -n $value ]]; then
		result[$row.$t]+="$value "
		say "  ${title[$t]} $row: $value"
	else
		note "run $run: ${title[$t]} $row failed"
	fi
}

# Prints the libfuse version an rdmafs binary runs on ("3.18.3").
fuse_version_of() {
	"$1" --version 2>&1 | awk '/FUSE library version/ { print $4 }'
}

is_317() {
	[[ $(printf '%s\n3.17\n' "$1" | sort -V | head -n1) == 3.17 ]]
}

# Configures and builds rdmafs with -Dlibfuse=CONFIG in DIR (kept there,
# so that the next run only rebuilds what changed) and prints the binary.
build_rdmafs() {
	local config=$1 d=$2

	say "building rdmafs (-Dlibfuse=$config) in $d"
	command -v meson >/dev/null && command -v ninja >/dev/null || return 1
	if [[ ! -f $d/build.ninja ]]; then
		meson setup "$d" "$top" -Dlibfuse="$config" \
			-Dmount_tests=false >"$d.log" 2>&1 || return 1
	fi
	ninja -C "$d" fs/rdmafs >>"$d.log" 2>&1 || return 1
	echo "$d/fs/rdmafs"
}

# Finds (or builds) the rdmafs binaries and passthrough_hp and decides,
# target by target, what runs; what cannot run is noted.
choose_targets() {
	local t ver bdir=${BENCH_BUILD_DIR:-$tmp} prefix

	# By hand, the usual build directory's rdmafs will do.
	if [[ -z $RDMAFS_BIN && -z ${BENCH_DEFAULT_BUILD_DIR:-} &&
		-x $top/build/fs/rdmafs ]] &&
		is_317 "$(fuse_version_of "$top/build/fs/rdmafs")"; then
		RDMAFS_BIN=$top/build/fs/rdmafs
	fi
	if [[ -z $RDMAFS_BIN ]] && { ((BIG_COUNT > 0)) ||
		[[ " $TARGETS " == *" rdmafs"[\ _]* ]]; }; then
		RDMAFS_BIN=$(build_rdmafs private "$bdir/rdmafs-default") ||
			note "could not build rdmafs on libfuse >= 3.17 (see $bdir/rdmafs-default.log)"
	fi
	if [[ -z $RDMAFS314_BIN && " $TARGETS " == *" rdmafs314 "* ]]; then
		RDMAFS314_BIN=$(build_rdmafs system "$bdir/rdmafs-314") ||
			note "could not build rdmafs on the system libfuse (see $bdir/rdmafs-314.log)"
	fi
	if [[ -z $PTHP_BIN ]] &&
		prefix=$("$top/tools/libfuse-private" --print-prefix 2>/dev/null); then
		PTHP_BIN=$prefix/libexec/passthrough_hp
	fi

	for t in $TARGETS; do
		[[ -n ${title[$t]:-} ]] ||
			die "unknown target '$t' in TARGETS (${!title[*]})"
		case $t in
		rdmafs | rdmafs_daemon | rdmafs_uring)
			if [[ ! -x $RDMAFS_BIN ]]; then
				note "${title[$t]}: no rdmafs binary (RDMAFS_BIN); column left out"
				continue
			fi
			ver=$(fuse_version_of "$RDMAFS_BIN")
			if ! is_317 "$ver"; then
				note "${title[$t]}: $RDMAFS_BIN runs on libfuse $ver, not >= 3.17; column left out"
				continue
			fi
			;;
		rdmafs314)
			if [[ ! -x $RDMAFS314_BIN ]]; then
				note "${title[$t]}: no rdmafs built on the system libfuse (RDMAFS314_BIN); column left out"
				continue
			fi
			ver=$(fuse_version_of "$RDMAFS314_BIN")
			;;
		pthp | pthp_daemon)
			if [[ ! -x $PTHP_BIN ]]; then
				note "${title[$t]}: no passthrough_hp (PTHP_BIN, or tools/libfuse-private's prefix); column left out"
				continue
			fi
			;;
		esac
		case $t in
		native) desc[$t]="the backing directory itself, no FUSE" ;;
		rdmafs) desc[$t]="\`$RDMAFS_BIN -o passthrough${RDMAFS_OPTS:+,$RDMAFS_OPTS}\` (libfuse $ver): reads, writes and mmap go to the backing file" ;;
		rdmafs_daemon) desc[$t]="\`$RDMAFS_BIN -o no_passthrough${RDMAFS_OPTS:+,$RDMAFS_OPTS}\` (libfuse $ver): every read and write through the daemon" ;;
		rdmafs_uring) desc[$t]="\`$RDMAFS_BIN -o $URING_OPTS${RDMAFS_OPTS:+,$RDMAFS_OPTS}\` (libfuse $ver): requests over FUSE io_uring" ;;
		rdmafs314) desc[$t]="\`$RDMAFS314_BIN${RDMAFS_OPTS:+ -o $RDMAFS_OPTS}\` (libfuse $ver): the daemon path" ;;
		ptll) desc[$t]="libfuse's passthrough_ll example, built from $FUSE_EXAMPLES (libfuse $(pkg-config --modversion fuse3))${PTLL_OPTS:+, -o $PTLL_OPTS}" ;;
		pthp) desc[$t]="\`$PTHP_BIN${PTHP_OPTS:+ $PTHP_OPTS}\` (libfuse $(pthp_version)): kernel passthrough" ;;
		pthp_daemon) desc[$t]="\`$PTHP_BIN --nopassthrough${PTHP_OPTS:+ $PTHP_OPTS}\` (libfuse $(pthp_version)): the daemon path, with its writeback cache" ;;
		esac
		if [[ $t == rdmafs_uring ]] && ! uring_ready; then
			continue
		fi
		targets+=("$t")
	done
	[[ ${targets[0]:-} == native ]] ||
		die "TARGETS must start with native (the ratios are to it)"
}

# --- setup -----------------------------------------------------------

if ((EUID != 0)); then
	say "bench.sh: needs root (mounts, FUSE mounts, drop_caches)"
	exit 77
fi
for tool in fio gcc pkg-config fusermount3 timeout; do
	command -v "$tool" >/dev/null || die "$tool not found"
done
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number"
case $BENCH_BACKING in
tmpfs | xfs | dir) ;;
*) die "BENCH_BACKING must be tmpfs, xfs or dir" ;;
esac
for row in $ROWS; do
	case $row in
	seqwrite | seqread | rand1 | rand4 | mmap | meta) ;;
	*) die "unknown row '$row' in ROWS (seqwrite seqread rand1 rand4 mmap meta)" ;;
	esac
done
for row in seqwrite seqread rand1 rand4 mmap meta; do
	[[ " $ROWS " == *" $row "* ]] || continue
	if [[ $row == meta ]]; then
		rows+=(create stat unlink)
	else
		rows+=("$row")
	fi
done
# passthrough_ll does not raise its own soft limit; give all the same.
ulimit -n "$(ulimit -Hn)"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u +%Y-%m-%dT%H:%MZ)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rdmafs-bench.XXXXXX")
tmp=$(realpath "$tmp")
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if [[ -z $BENCH_OUT_DIR ]]; then
	BENCH_OUT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/rdmafs-bench-out.XXXXXX")
fi
mkdir -p "$BENCH_OUT_DIR"
[[ -z $BENCH_BUILD_DIR ]] || mkdir -p "$BENCH_BUILD_DIR"

backing=$tmp/backing
mkdir "$backing"
setup_backing
say "backing: $backing_kind at $backing"

choose_targets
say "targets: ${targets[*]}"

if [[ " ${targets[*]} " == *" ptll "* ]] || ((EMFILE_COUNT > 0)); then
	build_ptll
fi
if [[ -z $METABENCH_BIN ]]; then
	METABENCH_BIN=$tmp/metabench
	gcc -O2 -std=gnu11 -D_GNU_SOURCE -o "$METABENCH_BIN" "$here/metabench.c"
fi

# Every target works in a directory of its own on the same backing
# filesystem; the FUSE ones are mounted one at a time (see run_target).
# rdmafs is deployed over its backing (rdmafs DIR DIR), which makes its
# default name and attribute cache last a day, as passthrough_hp's
# does: BENCH_OVERMOUNT=0 mounts it beside the directory instead.
for t in "${targets[@]}"; do
	mkdir -p "$backing/$t"
	if [[ $t == native ]]; then
		dir[$t]=$backing/native
	elif [[ $BENCH_OVERMOUNT == 1 && $t == rdmafs* ]]; then
		dir[$t]=$backing/$t
	else
		dir[$t]=$tmp/mnt-$t
		mkdir "${dir[$t]}"
	fi
done

# One random-read file for all, written once, through hard links.
say "writing the $RAND_SIZE random-read file"
fio_field 48 --name=prepare --filename="$backing/native/rand.dat" \
	--ioengine=psync --rw=write --bs=1M --size="$RAND_SIZE" --end_fsync=1
for t in "${targets[@]}"; do
	[[ $t == native ]] || ln "$backing/native/rand.dat" "$backing/$t/rand.dat"
done

if ! drop_caches; then
	note "could not drop caches: read rows are warm-cache numbers"
	drop_caches() { sync; }
fi

# --- measurements ----------------------------------------------------

# Runs interleave the targets so that a burst of load from elsewhere on
# the machine spreads over all of them, and each run starts one target
# further along, so that no target always follows the same other one.
n=${#targets[@]}
for ((run = 1; run <= RUNS; run++)); do
	for ((i = 0; i < n; i++)); do
		t=${targets[(i + run - 1) % n]}
		say "[run $run/$RUNS] ${title[$t]}"
		run_target "$t"
	done
done

big_lines=()
big_verdict=
emfile_verdict=
if ((BIG_COUNT > 0)) && [[ -x ${RDMAFS_BIN:-} ]]; then
	big_test
fi
if ((EMFILE_COUNT > 0)) && [[ -x $tmp/passthrough_ll ]]; then
	emfile_demo
fi

write_outputs
