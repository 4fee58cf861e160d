#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# rdmafs-mr (DESIGN §10, issue 11) where it can run without RDMA: --help
# and --version, the usage errors (exit 2), a FILE outside rdmafs (exit
# 3), and, on a machine without any RDMA device, `serve` over a real
# mount and `write` failing with the advice to load rdma_rxe (exit 1, one
# line, nothing on stdout, no crash) and leaving no pin behind.  With an
# RDMA device present those last checks are skipped: the vm suite runs
# the real thing (a registration, RDMA writes, a break).
#
# Needs root and /dev/fuse (exit 77 otherwise).  Arguments: rdmafsctl,
# then rdmafs-mr.

set -uo pipefail

MR=${2:?usage: test-mount-mr.sh RDMAFSCTL RDMAFS_MR}

# shellcheck source=tests/ctl-test-lib.sh
. "$(dirname "$0")/ctl-test-lib.sh"

# mr_error NAME STATUS PATTERN ARGS...: rdmafs-mr must exit with STATUS,
# one line on stderr matching PATTERN, nothing on stdout.
mr_error() {
	local name=$1 want=$2 pattern=$3 rc
	shift 3
	timeout 60 "$MR" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		fail "$name: exit status $rc, not $want: $(head -c 300 "$T/err")"
	elif [ "$(wc -l <"$T/err")" -ne 1 ]; then
		fail "$name: stderr is not one line: $(cat "$T/err")"
	elif ! grep -Eq -- "$pattern" "$T/err"; then
		fail "$name: stderr '$(cat "$T/err")' does not match '$pattern'"
	elif [ -s "$T/out" ]; then
		fail "$name: printed on stdout: $(head -c 200 "$T/out")"
	else
		pass "$name: $(cat "$T/err")"
	fi
}

# no_pins NAME: the mount has no pin and no hold at all
no_pins() {
	if ctl "$1: pins" pins "$M" && [ "$(cat "$T/out")" = "no pins" ]; then
		pass "$1: no pin left behind"
	else
		fail "$1: pins left behind: $(head -c 300 "$T/out")"
	fi
}

# ---- help, version, usage ----
if timeout 10 "$MR" --help >"$T/out" 2>"$T/err" && ! [ -s "$T/err" ] &&
	grep -q '^Usage: rdmafs-mr serve ' "$T/out" &&
	grep -q 'write \[OPTIONS\] HOST:PORT' "$T/out" &&
	grep -q '^Exit status' "$T/out"; then
	pass "--help"
else
	fail "--help: $(head -c 300 "$T/out" "$T/err")"
fi
if timeout 10 "$MR" serve --help >"$T/out" 2>&1 && grep -q '^Usage:' "$T/out"; then
	pass "serve --help"
else
	fail "serve --help: $(head -c 300 "$T/out")"
fi
if timeout 10 "$MR" --version >"$T/out" 2>&1 &&
	grep -Eqx 'rdmafs-mr [0-9]+\.[0-9]+\.[0-9]+' "$T/out"; then
	pass "--version: $(cat "$T/out")"
else
	fail "--version: $(head -c 300 "$T/out")"
fi
mr_error "no command" 2 "^rdmafs-mr: a command is needed"
mr_error "unknown command" 2 "^rdmafs-mr: unknown command 'frob'" frob
mr_error "serve without RANGE" 2 "serve wants FILE and RANGE" serve "$T/x"
mr_error "malformed RANGE" 2 "malformed RANGE '0\+'" serve "$T/x" 0+
mr_error "bad option" 2 "bad option .*--frob" serve --frob "$T/x" all
mr_error "write option to serve" 2 "are for write, not serve" \
	serve --seed 1 "$T/x" all
mr_error "serve option to write" 2 "are for serve, not write" \
	write --odp 127.0.0.1:1
mr_error "pattern and seed" 2 "exclude each other" \
	write --seed 1 --pattern 2 127.0.0.1:1
mr_error "bad port" 2 "--port wants a number from 1 to 65535" \
	serve --port 0 "$T/x" all
mr_error "malformed HOST:PORT" 2 "malformed 'nohost': want HOST:PORT" \
	write nohost

# ---- a file outside rdmafs ----
mkdir "$B" "$M"
echo data >"$T/plain"
mr_error "not rdmafs" 3 \
	"^rdmafs-mr: Couldn't open the mount of $T/plain: not on an rdmafs mount" \
	serve "$T/plain" all

# ---- a real mount, without an RDMA device ----
do_mount
truncate -s 1M "$M/data"
mr_error "missing file" 1 "^rdmafs-mr: Couldn't open $M/nothing: No such file" \
	serve "$M/nothing" all
if compgen -G '/sys/class/infiniband/*' >/dev/null; then
	echo "note: an RDMA device is present: the no-device checks are" \
		"skipped (the vm suite registers for real)"
else
	no_device="^rdmafs-mr: no RDMA device: load rdma_rxe and add a link \(rdma link add rxe0 type rxe netdev eth0\)$"
	mr_error "serve without a device" 1 "$no_device" serve "$M/data" 0+64K
	no_pins "serve without a device"
	mr_error "serve --odp without a device" 1 "$no_device" \
		serve --odp -d rxe0 "$M/data" all
	no_pins "serve --odp without a device"
	mr_error "write without a device" 1 "$no_device" write 127.0.0.1:18515
fi
# the file is untouched and free: a truncate goes through at once
if timeout 10 truncate -s 0 "$M/data" && [ "$(stat -c %s "$M/data")" = 0 ]; then
	pass "the file is free afterwards"
else
	fail "truncate after rdmafs-mr failed"
fi
do_umount || fail "umount"

if [ "$failures" -ne 0 ]; then
	echo "test-mount-mr: $failures failure(s)"
	exit 1
fi
echo "test-mount-mr: all passed"
