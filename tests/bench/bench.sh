#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench.sh: compare rdmafs with its backing filesystem used directly
# ("native") and with libfuse's passthrough_ll example, all three over the
# same scratch filesystem, and print the medians as a Markdown table.
# README.md next to this file lists the knobs and explains the rows.
#
# Needs root: it mounts a loop XFS image and FUSE filesystems and drops the
# page cache between writing and reading.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)

QUICK=${QUICK:-0}
if [[ $QUICK == 1 ]]; then
	RUNS=${RUNS:-1}
	SEQ_SIZE=${SEQ_SIZE:-128m}
	RAND_SIZE=${RAND_SIZE:-64m}
	RAND_TIME=${RAND_TIME:-2}
	META_COUNT=${META_COUNT:-2000}
	BIG_COUNT=${BIG_COUNT:-30000}
else
	RUNS=${RUNS:-3}
	SEQ_SIZE=${SEQ_SIZE:-1g}
	RAND_SIZE=${RAND_SIZE:-1g}
	RAND_TIME=${RAND_TIME:-10}
	META_COUNT=${META_COUNT:-10000}
	BIG_COUNT=${BIG_COUNT:-1000000}
fi
RAND_DIRECT=${RAND_DIRECT:-1}
META_PAUSE=${META_PAUSE:-1.5}
ROWS=${ROWS:-seqwrite seqread rand1 rand4 meta}
BIG_DIRS=${BIG_DIRS:-100}
EMFILE_COUNT=${EMFILE_COUNT:-25000}
EMFILE_TIMEOUT=${EMFILE_TIMEOUT:-300}
IMG_SIZE=${IMG_SIZE:-8g}
BENCH_BACKING=${BENCH_BACKING:-xfs}
RDMAFS_OPTS=${RDMAFS_OPTS:-}
PTLL_OPTS=${PTLL_OPTS:-}
RDMAFS_BIN=${RDMAFS_BIN:-$top/build/fs/rdmafs}
METABENCH_BIN=${METABENCH_BIN:-}
FUSE_EXAMPLES=${FUSE_EXAMPLES:-/usr/share/doc/libfuse3-dev/examples}

targets=(native rdmafs ptll)
declare -A title=([native]=native [rdmafs]=rdmafs [ptll]=passthrough_ll)
rows=(seqwrite seqread rand1 rand4 create stat unlink)
declare -A label=(
	[seqwrite]="Sequential write, 1 MiB blocks (MiB/s)"
	[seqread]="Sequential read, 1 MiB blocks, cold cache (MiB/s)"
	[rand1]="Random read 4 KiB, 1 job (IOPS)"
	[rand4]="Random read 4 KiB, 4 jobs (IOPS)"
	[create]="Create empty files (ops/s)"
	[stat]="Stat files (ops/s)"
	[unlink]="Unlink files (ops/s)"
)
declare -A result=()	# "ROW.TARGET" -> space-separated values, one per run
declare -A pid=()	# TARGET -> daemon pid
declare -A dir=()	# TARGET -> the directory the workloads run in
notes=()
stop_info=
job=		# the workload running in the background, if any
sampler=	# the descriptor sampler, if it runs
value=
fio_value=
tmp=
backing=
backing_kind=

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

# Reads the mount table rather than stat'ing the path, which would hang
# on a stuck FUSE daemon.
is_mounted() {
	awk -v m="$1" '$5 == m { found = 1 } END { exit !found }' \
		/proc/self/mountinfo
}

# Unmounts TARGET's FUSE mount and waits for its daemon to exit.  What
# went wrong, if anything, is left in stop_info and, unless a second
# argument says "quiet", noted in the report.
stop_daemon() {
	local t=$1 p=${pid[$1]:-} mnt=${dir[$1]:-} i rc=0 err

	stop_info=
	[[ -n $p ]] || return 0
	if [[ -n $mnt ]] && is_mounted "$mnt" &&
		! err=$(timeout 20 fusermount3 -u "$mnt" 2>&1); then
		stop_info="fusermount3 -u failed (${err:-timed out}); "
		if timeout 20 umount "$mnt" 2>/dev/null; then
			stop_info+="umount worked"
		else
			umount -l "$mnt" 2>/dev/null || true
			stop_info+="detached it lazily"
		fi
	fi
	for ((i = 0; i < 100; i++)); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$p" 2>/dev/null; then
		stop_info+="${stop_info:+; }did not exit within 10 s of the unmount; sent SIGTERM"
		kill -TERM "$p" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$p" 2>/dev/null; then
			stop_info+=", then SIGKILL"
			kill -KILL "$p" 2>/dev/null || true
		fi
	fi
	wait "$p" 2>/dev/null || rc=$?
	pid[$t]=
	if ((rc != 0)); then
		stop_info+="${stop_info:+; }exited with status $rc"
		[[ -s $tmp/$t.log ]] && tail -n 20 "$tmp/$t.log" >&2
	fi
	if [[ -n $stop_info && ${2:-} != quiet ]]; then
		note "${title[$t]} daemon $stop_info"
	fi
	return 0
}

cleanup() {
	local rc=$? t

	trap - EXIT INT TERM
	set +e
	stop_job "$job"
	stop_job "$sampler"
	for t in ptll rdmafs; do
		stop_daemon "$t"
	done
	if [[ -n $tmp ]]; then
		if is_mounted "$tmp/backing"; then
			umount "$tmp/backing" 2>/dev/null ||
				umount -l "$tmp/backing"
		fi
		# Never recurse into a mount that is still there.
		if grep -qF " $tmp/" /proc/self/mounts; then
			say "bench.sh: something is still mounted under $tmp; leaving it"
		else
			rm -rf "$tmp"
		fi
	fi
	exit "$rc"
}

# Stops background process PID (a workload or the sampler) if it runs.
stop_job() {
	local p=$1 i

	[[ -n $p ]] || return 0
	kill -TERM "$p" 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
}

# Runs a workload as a background job with its output in the file OUT
# (and OUT.err), and waits for it.  Bash runs a trap for Ctrl-C or SIGTERM
# only after a foreground command ends, and not at all when the command
# catches the signal itself (fio does); the wait builtin returns at once
# instead, so the trap runs and cleanup stops the job.
run_job() {
	local out=$1 rc=0

	shift
	"$@" >"$out" 2>"$out.err" &
	job=$!
	wait "$job" || rc=$?
	job=
	return "$rc"
}

drop_caches() {
	sync
	if ! { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; then
		return 1
	fi
}

# Runs fio over the rest of the arguments and sets fio_value to field
# FIELD of its terse (version 3) line: 7 read KiB/s, 8 read IOPS, 48 write
# KiB/s.
fio_field() {
	local field=$1

	shift
	fio_value=
	if ! run_job "$tmp/fio.out" fio --output-format=terse \
		--terse-version=3 --group_reporting --ioengine=psync "$@"; then
		cat "$tmp/fio.out" "$tmp/fio.out.err" >&2
		return 1
	fi
	fio_value=$(awk -F';' -v f="$field" '
		$1 == 3 { if ($5 != 0) exit 1; print $f; found = 1 }
		END { if (!found) exit 1 }' "$tmp/fio.out")
}

mib() {
	awk -v k="$1" 'BEGIN { printf "%.1f\n", k / 1024 }'
}

# The m_ROW functions measure ROW on a target once and set value.
m_seqwrite() {
	local f=${dir[$1]}/seq.dat

	rm -f "$f" || return 1
	sync
	fio_field 48 --name=seqwrite --filename="$f" --rw=write \
		--bs=1M --size="$SEQ_SIZE" --end_fsync=1 || return 1
	value=$(mib "$fio_value")
}

m_seqread() {
	local f=${dir[$1]}/seq.dat

	[[ -f $f ]] || return 1
	# Both the FUSE inode's page cache and the backing file's must go.
	drop_caches || return 1
	fio_field 7 --name=seqread --filename="$f" --rw=read \
		--bs=1M --size="$SEQ_SIZE" || return 1
	rm -f "$f" || return 1
	value=$(mib "$fio_value")
}

# With RAND_DIRECT=1 every read reaches the daemon (no FUSE page cache)
# and the backing device answers from memory, as a DAX device would: the
# loop image's pages are warmed first.  With RAND_DIRECT=0 the reads are
# buffered and start from cold caches.
randread() {
	if [[ $RAND_DIRECT == 1 ]]; then
		run_job "$tmp/dd.out" dd if="$backing/native/rand.dat" \
			of=/dev/null bs=1M iflag=direct status=none || return 1
	else
		drop_caches || return 1
	fi
	fio_field 8 --name=randread --filename="${dir[$1]}/rand.dat" \
		--rw=randread --bs=4k --size="$RAND_SIZE" --numjobs="$2" \
		--direct="$RAND_DIRECT" --time_based --runtime="$RAND_TIME" ||
		return 1
	value=$fio_value
}

m_rand1() {
	randread "$1" 1
}

m_rand4() {
	randread "$1" 4
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

median() {
	printf '%s\n' "$@" | sort -g | awk '
		{ v[NR] = $1 }
		END {
			if (NR == 0) exit 1
			if (NR % 2) print v[(NR + 1) / 2]
			else print (v[NR / 2] + v[NR / 2 + 1]) / 2
		}'
}

# Prints the median of ROW.TARGET, formatted for the table, or "n/a".
cell() {
	local -a vals
	local m

	read -ra vals <<<"${result[$1.$2]:-}"
	if ((${#vals[@]} == 0)) || ! m=$(median "${vals[@]}"); then
		echo n/a
	elif [[ $1 == seq* ]]; then
		printf '%.1f\n' "$m"
	else
		printf '%.0f\n' "$m"
	fi
}

ratio() {
	if [[ $1 == n/a || $2 == n/a ]]; then
		echo n/a
	else
		awk -v a="$1" -v b="$2" 'BEGIN {
			if (b == 0) print "n/a"; else printf "%.2f\n", a / b }'
	fi
}

# Starts TARGET's daemon in the foreground of a background job, so that
# its pid is ours to stop, and waits until the mount is up.
start_daemon() {
	local t=$1 mnt=${dir[$1]} i
	local -a cmd

	case $t in
	rdmafs)
		cmd=("$RDMAFS_BIN" -f)
		[[ -n $RDMAFS_OPTS ]] && cmd+=(-o "$RDMAFS_OPTS")
		cmd+=("$backing/rdmafs" "$mnt")
		;;
	ptll)
		cmd=("$tmp/passthrough_ll" -f -o "source=$backing/ptll")
		[[ -n $PTLL_OPTS ]] && cmd+=(-o "$PTLL_OPTS")
		cmd+=("$mnt")
		;;
	esac
	"${cmd[@]}" >"$tmp/$t.log" 2>&1 &
	pid[$t]=$!
	for ((i = 0; i < 100; i++)); do
		is_mounted "$mnt" && return 0
		if ! kill -0 "${pid[$t]}" 2>/dev/null; then
			cat "$tmp/$t.log" >&2
			die "${title[$t]} did not mount: ${cmd[*]}"
		fi
		sleep 0.1
	done
	die "${title[$t]} did not mount within 10 s: ${cmd[*]}"
}

# Prints the most descriptors and resident KiB seen for PID every half
# second until PID exits or the file STOP appears.
sample_daemon() {
	local p=$1 stop=$2 fds rss max_fds=0 max_rss=0

	while [[ ! -e $stop ]] && kill -0 "$p" 2>/dev/null; do
		fds=$(find "/proc/$p/fd" -mindepth 1 -maxdepth 1 2>/dev/null |
			wc -l) || fds=0
		rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" \
			2>/dev/null) || rss=0
		((fds > max_fds)) && max_fds=$fds
		((${rss:-0} > max_rss)) && max_rss=$rss
		sleep 0.5
	done
	echo "$max_fds $max_rss"
}

# rdmafs alone: BIG_COUNT empty files must all be created, stat'ed and
# unlinked, however far beyond the open-file limit that goes.
big_test() {
	local d=${dir[rdmafs]}/big rc=0 fds=0 rss=0 line phase n secs rate

	say "rdmafs: $BIG_COUNT files in $BIG_DIRS directories"
	mkdir "$d"
	sample_daemon "${pid[rdmafs]}" "$tmp/stop-sampler" >"$tmp/sample" &
	sampler=$!
	run_job "$tmp/big.out" "$METABENCH_BIN" -d "$BIG_DIRS" "$d" \
		"$BIG_COUNT" || rc=$?
	touch "$tmp/stop-sampler"
	wait "$sampler" || true
	sampler=
	read -r fds rss <"$tmp/sample" || true
	big_lines=()
	while read -r phase n secs rate; do
		case $phase in
		create | stat | unlink)
			big_lines+=("| ${label[$phase]} | $rate | $n in ${secs%???} s |")
			say "  rdmafs $phase: $rate ops/s"
			;;
		esac
	done <"$tmp/big.out"
	if ((rc == 0)); then
		big_verdict="no errors; rdmafs held at most $fds descriptors and $((rss / 1024)) MiB resident (open-file limit $(ulimit -n))"
	else
		line=$(grep '^error' "$tmp/big.out" || echo "exit status $rc")
		big_verdict="FAILED: $line; rdmafs held at most $fds descriptors"
	fi
	say "  $big_verdict"
	rm -rf "$backing/rdmafs/big"
}

# passthrough_ll keeps a descriptor per inode the kernel knows, so it
# runs out near the open-file limit.
emfile_demo() {
	local d=${dir[ptll]}/emfile rc=0 fds line phase n errname

	say "passthrough_ll: $EMFILE_COUNT files"
	mkdir "$d"
	run_job "$tmp/emfile.out" timeout "$EMFILE_TIMEOUT" "$METABENCH_BIN" \
		"$d" "$EMFILE_COUNT" || rc=$?
	fds=$(find "/proc/${pid[ptll]}/fd" -mindepth 1 -maxdepth 1 2>/dev/null |
		wc -l) || fds=0
	if ((rc == 0)); then
		emfile_verdict="passthrough_ll created, stat'ed and unlinked $EMFILE_COUNT files without error"
	elif ((rc == 124)); then
		emfile_verdict="passthrough_ll did not finish $EMFILE_COUNT files within $EMFILE_TIMEOUT s"
	else
		line=$(grep '^error' "$tmp/emfile.out" || echo "exit status $rc")
		read -r _ phase n errname _ <<<"$line"
		emfile_verdict="passthrough_ll failed: $phase of file $n of $EMFILE_COUNT returned ${errname:-?}; it held $fds descriptors (open-file limit $(ulimit -n))"
	fi
	stop_daemon ptll quiet
	[[ -n $stop_info ]] && emfile_verdict+="; afterwards the daemon $stop_info"
	say "  $emfile_verdict"
	rm -rf "$backing/ptll/emfile"
}

print_report() {
	local row t n r p

	echo "## rdmafs benchmark"
	echo
	echo "$(date -u +%Y-%m-%dT%H:%MZ), $(uname -sr), $(nproc) CPUs," \
		"backing: $backing_kind, runs: $RUNS (median)," \
		"rdmafs options: ${RDMAFS_OPTS:-default}," \
		"load average at start: $load_start"
	echo
	echo "| Row | native | rdmafs | passthrough_ll | rdmafs/native | passthrough_ll/native |"
	echo "|---|--:|--:|--:|--:|--:|"
	for row in "${rows[@]}"; do
		n=$(cell "$row" native)
		r=$(cell "$row" rdmafs)
		p=$(cell "$row" ptll)
		echo "| ${label[$row]} | $n | $r | $p | $(ratio "$r" "$n") | $(ratio "$p" "$n") |"
	done
	echo
	echo "Sizes: sequential $SEQ_SIZE file (fsync at end), random reads over" \
		"a $RAND_SIZE file for $RAND_TIME s (direct=$RAND_DIRECT)," \
		"metadata $META_COUNT files in one directory with a $META_PAUSE s" \
		"pause before the stat and unlink phases (past the entry" \
		"timeout); all single-threaded except the 4-job row."
	if ((${#big_lines[@]})); then
		echo
		echo "### rdmafs, $BIG_COUNT empty files in $BIG_DIRS directories"
		echo
		echo "| Phase | ops/s | |"
		echo "|---|--:|---|"
		printf '%s\n' "${big_lines[@]}"
		echo
		echo "Result: $big_verdict."
	elif [[ -n $big_verdict ]]; then
		echo
		echo "rdmafs, $BIG_COUNT files: $big_verdict."
	fi
	if [[ -n $emfile_verdict ]]; then
		echo
		echo "passthrough_ll, $EMFILE_COUNT files: $emfile_verdict."
	fi
	if ((${#notes[@]})); then
		echo
		echo "Notes:"
		printf -- '- %s\n' "${notes[@]}"
	fi
}

# --- setup -----------------------------------------------------------

if ((EUID != 0)); then
	say "bench.sh: needs root (loop mount, FUSE mounts, drop_caches)"
	exit 77
fi
for tool in fio gcc pkg-config fusermount3 timeout; do
	command -v "$tool" >/dev/null || die "$tool not found"
done
[[ -x $RDMAFS_BIN ]] ||
	die "no rdmafs at $RDMAFS_BIN (build it, or set RDMAFS_BIN)"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number"
[[ $BENCH_BACKING == xfs || $BENCH_BACKING == dir ]] ||
	die "BENCH_BACKING must be xfs or dir"
for row in $ROWS; do
	case $row in
	seqwrite | seqread | rand1 | rand4 | meta) ;;
	*) die "unknown row '$row' in ROWS (seqwrite seqread rand1 rand4 meta)" ;;
	esac
done
# passthrough_ll does not raise its own soft limit; give both the same.
ulimit -n "$(ulimit -Hn)"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rdmafs-bench.XXXXXX")
tmp=$(realpath "$tmp")
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

backing=$tmp/backing
mkdir "$backing"
if [[ $BENCH_BACKING == xfs ]] && command -v mkfs.xfs >/dev/null &&
	truncate -s "$IMG_SIZE" "$tmp/xfs.img" &&
	mkfs.xfs -q -m reflink=1 "$tmp/xfs.img" &&
	mount -o loop "$tmp/xfs.img" "$backing"; then
	backing_kind="XFS (reflink=1) on a $IMG_SIZE loop image"
else
	[[ $BENCH_BACKING == xfs ]] && say "bench.sh: no loop XFS; using a plain directory"
	rm -f "$tmp/xfs.img"
	backing_kind="$(findmnt -no FSTYPE -T "$backing" ||
		stat -f -c %T "$backing") directory"
fi
say "backing: $backing_kind at $backing"

say "building passthrough_ll from $FUSE_EXAMPLES"
mkdir "$tmp/src"
for f in passthrough_ll.c passthrough_helpers.h; do
	if [[ -f $FUSE_EXAMPLES/$f ]]; then
		cp "$FUSE_EXAMPLES/$f" "$tmp/src/$f"
	elif [[ -f $FUSE_EXAMPLES/$f.gz ]]; then
		zcat "$FUSE_EXAMPLES/$f.gz" >"$tmp/src/$f"
	else
		die "no $f in $FUSE_EXAMPLES (install libfuse3-dev)"
	fi
done
read -ra fuse_flags <<<"$(pkg-config --cflags --libs fuse3)"
gcc -O2 -o "$tmp/passthrough_ll" "$tmp/src/passthrough_ll.c" "${fuse_flags[@]}"

if [[ -z $METABENCH_BIN ]]; then
	METABENCH_BIN=$tmp/metabench
	gcc -O2 -std=gnu11 -D_GNU_SOURCE -o "$METABENCH_BIN" "$here/metabench.c"
fi

dir[native]=$backing/native
dir[rdmafs]=$tmp/mnt-rdmafs
dir[ptll]=$tmp/mnt-ptll
mkdir "$backing/native" "$backing/rdmafs" "$backing/ptll" \
	"${dir[rdmafs]}" "${dir[ptll]}"

# One random-read file for all three, written once, through hard links.
say "writing the $RAND_SIZE random-read file"
fio_field 48 --name=prepare --filename="$backing/native/rand.dat" \
	--rw=write --bs=1M --size="$RAND_SIZE" --end_fsync=1
ln "$backing/native/rand.dat" "$backing/rdmafs/rand.dat"
ln "$backing/native/rand.dat" "$backing/ptll/rand.dat"

if ! drop_caches; then
	note "could not drop caches: read rows are warm-cache numbers"
	drop_caches() { sync; }
fi

start_daemon rdmafs
start_daemon ptll

# --- measurements ----------------------------------------------------

# Runs interleave the targets so that a burst of load from elsewhere on
# the machine spreads over all of them.
for ((run = 1; run <= RUNS; run++)); do
	for t in "${targets[@]}"; do
		say "[run $run/$RUNS] ${title[$t]}"
		for row in $ROWS; do
			measure "$row" "$t"
		done
	done
done

big_lines=()
big_verdict=
emfile_verdict=
if ((BIG_COUNT > 0)); then
	big_test
fi
if ((EMFILE_COUNT > 0)); then
	emfile_demo
fi

stop_daemon rdmafs
stop_daemon ptll

report=$(print_report)
printf '%s\n' "$report"
if [[ -n ${BENCH_OUT:-} ]]; then
	printf '%s\n' "$report" >"$BENCH_OUT"
	say "report written to $BENCH_OUT"
fi
