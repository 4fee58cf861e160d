# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# bench-report.sh: bench.sh's report (sourced through bench-lib.sh, never
# run): medians, ratios to native, the Markdown tables, the data files
# and the PNG plot (plot.gp, with gnuplot where installed).
# shellcheck disable=SC2154,SC2034 # bench.sh's variables

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

# Prints a Markdown table row: the cells given, separated by " | ".
md_row() {
	local s

	printf -v s ' %s |' "$@"
	echo "|$s"
}

# Succeeds if TARGET is one of the columns.
has() {
	[[ " ${targets[*]} " == *" $1 "* ]]
}

# A ratio against a floor: "0.93" or "0.42 (below 0.85)".
vs_goal() {
	if [[ $1 != n/a ]] && awk -v r="$1" -v g="$2" 'BEGIN { exit !(r < g) }'; then
		echo "$1 (below $2)"
	else
		echo "$1"
	fi
}

# Issue 10's goals, row by row: rdmafs with passthrough against native
# (0.9 for sequential, 0.85 for random and mmap reads, 0.3 for metadata)
# and against passthrough_hp with passthrough; the 3.14 build against
# passthrough_ll.  A pair ratio below 1 is a row where rdmafs is slower.
print_goals() {
	local row goal r

	has rdmafs || has rdmafs314 || return 0
	echo
	echo "Against the goals (issue 10):"
	echo
	echo "| Row | rdmafs passthrough / native | rdmafs passthrough / passthrough_hp passthrough | rdmafs 3.14 / passthrough_ll 3.14 |"
	echo "|---|--:|--:|--:|"
	for row in "${rows[@]}"; do
		case $row in
		seq*) goal=0.90 ;;
		rand* | mmap) goal=0.85 ;;
		*) goal=0.30 ;;
		esac
		r=$(ratio "$(cell "$row" rdmafs)" "$(cell "$row" native)")
		md_row "${label[$row]%% (*}" "$(vs_goal "$r" "$goal")" \
			"$(vs_goal "$(ratio "$(cell "$row" rdmafs)" "$(cell "$row" pthp)")" 1)" \
			"$(vs_goal "$(ratio "$(cell "$row" rdmafs314)" "$(cell "$row" ptll)")" 1)"
	done
}

print_report() {
	local row t n line
	local -a cells others=("${targets[@]:1}")

	echo "## rdmafs benchmark"
	echo
	echo "$started, $(uname -sr), $(nproc) CPUs," \
		"backing: $backing_kind, runs: $RUNS (median, interleaved)," \
		"rdmafs options: ${RDMAFS_OPTS:-default}," \
		"load average at start: $load_start, at the end:" \
		"$(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	echo "Ratio to native (higher is better, 1.00 is native speed):"
	echo
	cells=("Row")
	for t in "${others[@]}"; do
		cells+=("${title[$t]}")
	done
	md_row "${cells[@]}"
	line="|---|"
	for t in "${others[@]}"; do
		line+="--:|"
	done
	echo "$line"
	for row in "${rows[@]}"; do
		n=$(cell "$row" native)
		cells=("${label[$row]%% (*}")
		for t in "${others[@]}"; do
			cells+=("$(ratio "$(cell "$row" "$t")" "$n")")
		done
		md_row "${cells[@]}"
	done
	print_goals
	echo
	echo "Medians:"
	echo
	cells=("Row")
	for t in "${targets[@]}"; do
		cells+=("${title[$t]}")
	done
	md_row "${cells[@]}"
	echo "$line--:|"
	for row in "${rows[@]}"; do
		cells=("${label[$row]}")
		for t in "${targets[@]}"; do
			cells+=("$(cell "$row" "$t")")
		done
		md_row "${cells[@]}"
	done
	echo
	echo "Columns:"
	echo
	for t in "${targets[@]}"; do
		echo "- **${title[$t]}**: ${desc[$t]}"
	done
	echo
	echo "Sizes: sequential $SEQ_SIZE file (fsync at end), random reads over" \
		"a $RAND_SIZE file for $RAND_TIME s (direct=$RAND_DIRECT), mmap" \
		"reads of $MMAP_IO of it, each page once, metadata $META_COUNT" \
		"files in one directory with a $META_PAUSE s pause before the" \
		"stat and unlink phases; all single-threaded except the 4-job row." \
		"Each FUSE column is mounted for its own turn only, over a" \
		"directory of the same backing filesystem. The whole run took" \
		"$((SECONDS / 60)) min $((SECONDS % 60)) s."
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

# bench.tsv: the ratios to native, one line per row, one column per
# target (what plot.gp draws); bench-runs.tsv: every run's value.
write_data() {
	local row t line

	line="row"
	for t in "${targets[@]:1}"; do
		line+=$'\t'"${title[$t]}"
	done
	echo "$line" >"$BENCH_OUT_DIR/bench.tsv"
	for row in "${rows[@]}"; do
		line=${short[$row]}
		for t in "${targets[@]:1}"; do
			line+=$'\t'$(ratio "$(cell "$row" "$t")" "$(cell "$row" native)")
		done
		echo "$line" >>"$BENCH_OUT_DIR/bench.tsv"
	done
	printf 'row\ttarget\tvalues\n' >"$BENCH_OUT_DIR/bench-runs.tsv"
	for row in "${rows[@]}"; do
		for t in "${targets[@]}"; do
			printf '%s\t%s\t%s\n' "$row" "${title[$t]}" \
				"${result[$row.$t]:-}" >>"$BENCH_OUT_DIR/bench-runs.tsv"
		done
	done
}

plot() {
	local png=$BENCH_OUT_DIR/bench.png

	if ! command -v gnuplot >/dev/null; then
		note "no plot: gnuplot is not installed (apt-get install gnuplot-nox)"
		return 0
	fi
	if ((${#targets[@]} < 2)); then
		return 0
	fi
	if ! gnuplot -e "datafile='$BENCH_OUT_DIR/bench.tsv'" \
		-e "outfile='$png'" -e "ncols=${#targets[@]}" \
		-e "subtitle='$(uname -r), $backing_fs backing, median of $RUNS'" \
		"$here/plot.gp" 2>"$tmp/gnuplot.err"; then
		note "gnuplot failed: $(head -n 3 "$tmp/gnuplot.err" | tr '\n' ' ')"
		return 0
	fi
	plotted=$png
}

write_outputs() {
	local report

	plotted=
	write_data
	plot
	report=$(print_report)
	[[ -n $plotted ]] && report+=$'\n\n'"![ratio to native]($(basename "$plotted"))"
	printf '%s\n' "$report" >"$BENCH_OUT_DIR/bench.md"
	printf '%s\n' "$report"
	if [[ -n ${BENCH_OUT:-} ]]; then
		printf '%s\n' "$report" >"$BENCH_OUT"
		say "report also written to $BENCH_OUT"
	fi
	say "report: $BENCH_OUT_DIR/bench.md${plotted:+, plot: $plotted}," \
		"data: $BENCH_OUT_DIR/bench.tsv, bench-runs.tsv"
}
