# SPDX-License-Identifier: GPL-2.0-or-later
#
# plot.gp: bench.sh's plot.  One group of bars per row (the workloads),
# one bar per target, each the target's median divided by native's.
#
#   gnuplot -e "datafile='bench.tsv'" -e "outfile='bench.png'" \
#           -e "ncols=N" -e "subtitle='...'" plot.gp
#
# datafile is tab-separated: a header line ("row", then the target names),
# then one line per row; "n/a" is a missing bar.

if (!exists("subtitle")) subtitle = ""

set terminal pngcairo size 1400,650 font "sans,10" noenhanced
set output outfile
set datafile separator "\t"
set datafile missing "n/a"
# The header line names the columns and is no data row (else $0 is off by one).
set key autotitle columnhead

set title "Ratio to native (higher is better; 1 = native speed)\n" . subtitle
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key outside right top vertical
set grid ytics
set yrange [0:1.1<*]
set offsets 0, 0, graph 0.1, 0
set ylabel "target / native"
set xtics nomirror
set ytics 0.1
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 1.5 front

# Bar k (0-based) of n in a cluster with gap 1 sits at x = row + (k - (n - 1) / 2) / (n + 1).
n = ncols - 1
xpos(k) = $0 + (k - (n - 1) / 2.0) / (n + 1.0)
plot for [i=2:ncols] datafile using i:xtic(1) title columnheader(i), \
     for [i=2:ncols] datafile using (xpos(i - 2)):(column(i)):(sprintf(" %.2f", column(i))) \
         with labels rotate left font ",7" notitle
