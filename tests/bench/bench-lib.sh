# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# bench-lib.sh: the machinery of bench.sh (sourced by it, never run): the
# backing filesystem, starting and stopping the FUSE daemons, running
# workloads, the descriptor tests, and the clean-up on exit.  bench.sh
# holds the workloads and the choice of targets; bench-report.sh the report.
# shellcheck source-path=SCRIPTDIR disable=SC2154,SC2034 # bench.sh's variables

# Reads the mount table rather than stat'ing the path, which would hang
# on a stuck FUSE daemon.
is_mounted() {
	awk -v m="$1" '$5 == m { found = 1 } END { exit !found }' \
		/proc/self/mountinfo
}

# Unmounts KEY's FUSE mount and waits for its daemon to exit.  What went
# wrong, if anything, is left in stop_info and, unless a second argument
# says "quiet", noted in the report.
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
		note "${title[$t]:-$t} daemon $stop_info"
	fi
	return 0
}

cleanup() {
	local rc=$? t

	trap - EXIT INT TERM
	set +e
	stop_job "$job"
	stop_job "$sampler"
	for t in "${!pid[@]}"; do
		stop_daemon "$t"
	done
	if [[ -n $uring_old ]]; then
		echo "$uring_old" >"$URING_PARAM" ||
			say "bench.sh: could not restore $URING_PARAM to $uring_old"
	fi
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
# instead, so the trap runs and cleanup stops the job.  JOB_TIMEOUT
# bounds it, so that a hung daemon cannot stall the whole run.
run_job() {
	local out=$1 rc=0

	shift
	timeout -k 10 "$JOB_TIMEOUT" "$@" >"$out" 2>"$out.err" &
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
		--terse-version=3 --group_reporting "$@"; then
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

# The backing filesystem all targets share: a private tmpfs, a fresh
# loop-mounted XFS image, or a plain directory in TMPDIR.
setup_backing() {
	case $BENCH_BACKING in
	tmpfs)
		mount -t tmpfs -o "size=$IMG_SIZE,mode=0755" rdmafs-bench \
			"$backing" || die "could not mount a tmpfs"
		backing_kind="tmpfs (size=$IMG_SIZE)"
		;;
	xfs)
		if command -v mkfs.xfs >/dev/null &&
			truncate -s "$IMG_SIZE" "$tmp/xfs.img" &&
			mkfs.xfs -q -m reflink=1 "$tmp/xfs.img" &&
			mount -o loop "$tmp/xfs.img" "$backing"; then
			backing_kind="XFS (reflink=1) on a $IMG_SIZE loop image"
		else
			say "bench.sh: no loop XFS; using a plain directory"
			rm -f "$tmp/xfs.img"
		fi
		;;
	esac
	backing_fs=$(findmnt -no FSTYPE -T "$backing" ||
		stat -f -c %T "$backing")
	[[ -n $backing_kind ]] || backing_kind="$backing_fs directory"
}

# libfuse 3.14's passthrough_ll, built from the installed examples into
# the temporary directory (never part of the tree).
build_ptll() {
	local f
	local -a fuse_flags

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
	gcc -O2 -o "$tmp/passthrough_ll" "$tmp/src/passthrough_ll.c" \
		"${fuse_flags[@]}"
}

# The libfuse version of passthrough_hp's prefix (tools/libfuse-private
# records it in PREFIX/.complete).
pthp_version() {
	local f
	f=$(dirname "$(dirname "$PTHP_BIN")")/.complete

	if [[ -r $f ]]; then
		cut -d- -f1 "$f"
	else
		echo "unknown"
	fi
}

# FUSE over io_uring needs the fuse module's enable_uring switched on
# before the mount.  BENCH_URING=1 does it for the run (cleanup puts the
# old value back); otherwise the column is left out with a note.  It is
# asked again before every mount of the column: the switch is the whole
# machine's, and something else may have turned it off in the meantime.
uring_ready() {
	local v

	if [[ ! -e $URING_PARAM ]]; then
		note "${title[rdmafs_uring]}: the kernel has no FUSE over io_uring ($URING_PARAM); column left out"
		return 1
	fi
	v=$(cat "$URING_PARAM")
	case $v in
	Y | 1) return 0 ;;
	esac
	if [[ $BENCH_URING == 1 ]]; then
		if echo 1 >"$URING_PARAM"; then
			if [[ -z $uring_old ]]; then
				uring_old=$v
				note "$URING_PARAM switched on for the run (BENCH_URING=1), back to $v at the end"
			fi
			return 0
		fi
		note "${title[rdmafs_uring]}: could not switch on $URING_PARAM"
		return 1
	fi
	note "${title[rdmafs_uring]}: $URING_PARAM is $v (BENCH_URING=1 switches it on for the run)${1:-; column left out}"
	return 1
}

# Sets cmd to the command line that serves the backing directory SRC at
# MNT as TARGET, in the foreground.
daemon_cmd() {
	local t=$1 src=$2 mnt=$3 o
	local -a extra

	case $t in
	rdmafs | rdmafs_daemon | rdmafs_uring | big)
		case $t in
		rdmafs) o=passthrough ;;
		rdmafs_daemon) o=no_passthrough ;;
		rdmafs_uring) o=$URING_OPTS ;;
		big) o= ;;
		esac
		[[ -n $RDMAFS_OPTS ]] && o+=${o:+,}$RDMAFS_OPTS
		cmd=("$RDMAFS_BIN" -f ${o:+-o "$o"} "$src" "$mnt")
		;;
	rdmafs314)
		cmd=("$RDMAFS314_BIN" -f ${RDMAFS_OPTS:+-o "$RDMAFS_OPTS"}
			"$src" "$mnt")
		;;
	ptll)
		cmd=("$tmp/passthrough_ll" -f -o "source=$src"
			${PTLL_OPTS:+-o "$PTLL_OPTS"} "$mnt")
		;;
	pthp | pthp_daemon)
		read -ra extra <<<"$PTHP_OPTS"
		cmd=("$PTHP_BIN" --foreground)
		[[ $t == pthp_daemon ]] && cmd+=(--nopassthrough)
		cmd+=("${extra[@]}" "$src" "$mnt")
		;;
	esac
}

# Starts KEY's daemon (the command line in cmd) in the foreground of a
# background job, so that its pid is ours to stop, and waits until its
# mount at MNT is up.  Returns 1, with the reason noted, if it is not.
start_daemon() {
	local t=$1 mnt=$2 i

	dir[$t]=$mnt
	"${cmd[@]}" >"$tmp/$t.log" 2>&1 &
	pid[$t]=$!
	for ((i = 0; i < 100; i++)); do
		is_mounted "$mnt" && return 0
		if ! kill -0 "${pid[$t]}" 2>/dev/null; then
			wait "${pid[$t]}" 2>/dev/null || true
			pid[$t]=
			note "${title[$t]:-$t} did not mount: ${cmd[*]}: $(tail -n 3 "$tmp/$t.log" | tr '\n' ' ')"
			return 1
		fi
		sleep 0.1
	done
	note "${title[$t]:-$t} did not mount within 10 s: ${cmd[*]}"
	stop_daemon "$t" quiet
	return 1
}

# One run of every row on TARGET.  A FUSE target is mounted for its turn
# only: rdmafs takes a lock per backing filesystem (/run/rdmafs/MAJ:MIN.lock),
# so two rdmafs daemons cannot serve directories of the same filesystem at
# once, and one filesystem for all keeps the comparison fair.
run_target() {
	local t=$1 row says

	if [[ $t == rdmafs_uring ]] && ! uring_ready ": run $run left out"; then
		return 0
	fi
	if [[ $t != native ]]; then
		daemon_cmd "$t" "$backing/$t" "${dir[$t]}"
		start_daemon "$t" "${dir[$t]}" || return 0
	fi
	for row in $ROWS; do
		measure "$row" "$t"
	done
	[[ $t == native ]] && return 0
	stop_daemon "$t"
	if [[ $t == rdmafs_uring ]] &&
		! grep -q 'transport: io_uring' "$tmp/$t.log"; then
		note "run $run: ${title[$t]} did not get io_uring: $(grep -m1 'transport' "$tmp/$t.log")"
	fi
	# What the daemon said about its data path, once per column.
	if [[ -z ${logged[$t]:-} ]]; then
		logged[$t]=1
		says=$(grep -iE 'passthrough|io_uring|data path' "$tmp/$t.log" |
			head -n 3 | tr '\n' ' ') || true
		[[ -n $says ]] && note "${title[$t]} logged: $says"
	fi
	return 0
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

# rdmafs alone (default build, default options): BIG_COUNT empty files
# must all be created, stat'ed and unlinked, however far beyond the
# open-file limit that goes.
big_test() {
	local d rc=0 fds=0 rss=0 line phase n secs rate

	title[big]="rdmafs"
	mkdir -p "$backing/big" "$tmp/mnt-big"
	daemon_cmd big "$backing/big" "$tmp/mnt-big"
	start_daemon big "$tmp/mnt-big" || return 0
	d=$tmp/mnt-big/big
	say "rdmafs: $BIG_COUNT files in $BIG_DIRS directories"
	mkdir "$d"
	sample_daemon "${pid[big]}" "$tmp/stop-sampler" >"$tmp/sample" &
	sampler=$!
	run_job "$tmp/big.out" "$METABENCH_BIN" -d "$BIG_DIRS" "$d" \
		"$BIG_COUNT" || rc=$?
	touch "$tmp/stop-sampler"
	wait "$sampler" || true
	sampler=
	read -r fds rss <"$tmp/sample" || true
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
	stop_daemon big
	rm -rf "$backing/big"
}

# passthrough_ll keeps a descriptor per inode the kernel knows, so it
# runs out near the open-file limit.
emfile_demo() {
	local d rc=0 fds line phase n errname

	title[emfile]="passthrough_ll"
	mkdir -p "$backing/emfile" "$tmp/mnt-emfile"
	daemon_cmd ptll "$backing/emfile" "$tmp/mnt-emfile"
	start_daemon emfile "$tmp/mnt-emfile" || return 0
	d=$tmp/mnt-emfile/emfile
	say "passthrough_ll: $EMFILE_COUNT files"
	mkdir "$d"
	run_job "$tmp/emfile.out" timeout "$EMFILE_TIMEOUT" "$METABENCH_BIN" \
		"$d" "$EMFILE_COUNT" || rc=$?
	fds=$(find "/proc/${pid[emfile]}/fd" -mindepth 1 -maxdepth 1 \
		2>/dev/null | wc -l) || fds=0
	if ((rc == 0)); then
		emfile_verdict="passthrough_ll created, stat'ed and unlinked $EMFILE_COUNT files without error"
	elif ((rc == 124)); then
		emfile_verdict="passthrough_ll did not finish $EMFILE_COUNT files within $EMFILE_TIMEOUT s"
	else
		line=$(grep '^error' "$tmp/emfile.out" || echo "exit status $rc")
		read -r _ phase n errname _ <<<"$line"
		emfile_verdict="passthrough_ll failed: $phase of file $n of $EMFILE_COUNT returned ${errname:-?}; it held $fds descriptors (open-file limit $(ulimit -n))"
	fi
	stop_daemon emfile quiet
	[[ -n $stop_info ]] && emfile_verdict+="; afterwards the daemon $stop_info"
	say "  $emfile_verdict"
	rm -rf "$backing/emfile"
}

# shellcheck source=bench-report.sh
. "$here/bench-report.sh"
