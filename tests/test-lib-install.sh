#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# librdmafs as a program outside the tree sees it: `meson install
# --destdir` of the build, the files it must install (librdmafs.so.N,
# rdmafs.h as the only header, rdmafs.pc, the section 3 man pages), then
# the example lib/examples/pin-range.c copied out of the tree and built
# with `pkg-config --cflags --libs rdmafs` against that tree, and run,
# with the example built in the tree, against a real rdmafs mount.
#
# Usage: test-lib-install.sh BUILD_DIR SOURCE_DIR [TREE_EXAMPLE]
# The install checks need meson, cc and pkg-config (exit 77 without);
# the runs need root and /dev/fuse (exit 77 without, after the checks).

set -euo pipefail

BUILD=${1:?usage: test-lib-install.sh BUILD_DIR SOURCE_DIR [EXAMPLE]}
SRC=${2:?usage: test-lib-install.sh BUILD_DIR SOURCE_DIR [EXAMPLE]}
TREE_EXAMPLE=${3:-}
BIN=${RDMAFS_BIN:-$BUILD/fs/rdmafs}
ME=test-lib-install

for tool in meson cc pkg-config; do
	if ! command -v "$tool" >/dev/null; then
		echo "skip: $tool is missing"
		exit 77
	fi
done

# One rdmafs per backing filesystem: a /run/rdmafs of our own (see
# test-mount-ctl.sh), when we may make a mount namespace.
if [ "$(id -u)" -eq 0 ] && [ -z "${RDMAFS_TEST_NS:-}" ] &&
	command -v unshare >/dev/null; then
	RDMAFS_TEST_NS=1 exec unshare -m --propagation private \
		bash "$0" "$@"
fi
if [ -n "${RDMAFS_TEST_NS:-}" ]; then
	[ -d /run/rdmafs ] || mkdir -m 0700 /run/rdmafs
	mount -t tmpfs -o mode=0700 rdmafs-run /run/rdmafs
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/rdmafs-libinst.XXXXXX")
chmod 755 "$T"
D=$T/dest
M=$T/m
B=$T/b
failures=0

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	while findmnt -n -M "$M" >/dev/null 2>&1; do
		fusermount3 -u -z "$M" 2>/dev/null || umount -l "$M" || break
	done
	rm -rf "$T"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

pass() {
	echo "ok: $*"
}

# ---- install ----
if ! meson install -C "$BUILD" --no-rebuild --destdir "$D" \
	>"$T/install.log" 2>&1; then
	echo "FAIL: meson install --destdir failed:"
	tail -n 20 "$T/install.log"
	exit 1
fi

pc=$(find "$D" -name rdmafs.pc -path '*/pkgconfig/*' | head -n 1)
if [ -z "$pc" ]; then
	echo "FAIL: no rdmafs.pc installed"
	exit 1
fi
pcdir=$(dirname "$pc")
libdir=$(dirname "$pcdir")
# the paths in rdmafs.pc are the prefix's; the sysroot makes them $D's
pkgconf() {
	PKG_CONFIG_SYSROOT_DIR=$D PKG_CONFIG_LIBDIR=$pcdir PKG_CONFIG_PATH='' \
		pkg-config "$@"
}

for f in librdmafs.so librdmafs.so.1 librdmafs.so.1.0.0; do
	if [ -e "$libdir/$f" ]; then
		pass "installed $f"
	else
		fail "$libdir/$f is not installed"
	fi
done
# (rdmafs_mr.h goes with librdmafs-rdma, built with -Drdma only)
headers=$(find "$D" -name '*.h' ! -name rdmafs_mr.h)
if [ -n "$(find "$D" -name 'librdmafs-rdma.so.1')" ] &&
	[ -z "$(find "$D" -path '*/rdmafs/rdmafs_mr.h')" ]; then
	fail "librdmafs-rdma is installed without rdmafs_mr.h"
fi
# with the sysroot: $D/usr/local/include, or wherever the prefix put it
incdir=$(pkgconf --variable=includedir rdmafs)
if [ "$headers" = "$incdir/rdmafs/rdmafs.h" ]; then
	pass "rdmafs.h is the one installed header"
else
	fail "installed headers: $headers (want only $incdir/rdmafs/rdmafs.h)"
fi
# every call has a page (or a link to its group's page), when the build
# makes man pages at all (-Dman, rst2man): then rdmafs(1) is there too
if [ -n "$(find "$D" -path '*/man1/rdmafs.1')" ]; then
	missing=0
	calls=$(sed -n 's/^[a-z].*\<\(rdmafs_[a-z_]*\)(.*/\1/p' \
		"$SRC/lib/include/rdmafs/rdmafs.h" | sort -u)
	for page in librdmafs $calls; do
		if [ -z "$(find "$D" -path "*/man3/$page.3*")" ]; then
			fail "man page $page(3) is not installed"
			missing=$((missing + 1))
		fi
	done
	if [ "$missing" -eq 0 ]; then
		pass "section 3 man pages: librdmafs(3) and every call of rdmafs.h"
	fi
fi

# ---- an outside program, built with pkg-config ----
mkdir "$T/app"
cp "$SRC/lib/examples/pin-range.c" "$T/app/"
read -ra flags <<<"$(pkgconf --cflags --libs rdmafs)"
# a sanitizer build's library needs its runtime loaded first: build the
# outside program with the same sanitizers (the CI's ASan+UBSan run)
san=()
needed=$(readelf -d "$libdir/librdmafs.so.1" 2>/dev/null || true)
if grep -q 'libasan' <<<"$needed"; then
	san+=(-fsanitize=address)
fi
if grep -q 'libubsan' <<<"$needed"; then
	san+=(-fsanitize=undefined)
fi
if ! (cd "$T/app" && cc -std=c99 -Wall -Wextra -Werror -o pin-range \
	pin-range.c "${flags[@]}" ${san[@]+"${san[@]}"}) >"$T/cc.log" 2>&1; then
	echo "FAIL: the example does not build against the installed tree:"
	echo "  cc ... ${flags[*]}"
	cat "$T/cc.log"
	exit 1
fi
pass "example built with: pkg-config --cflags --libs rdmafs: ${flags[*]}"
if LD_LIBRARY_PATH=$libdir ldd "$T/app/pin-range" |
	grep "librdmafs.so.1 => $libdir/" >/dev/null; then
	pass "it loads librdmafs.so.1 from the installed tree"
else
	fail "librdmafs.so.1 not from $libdir: $(LD_LIBRARY_PATH=$libdir ldd "$T/app/pin-range" | grep rdmafs)"
fi

# ---- run against a real mount ----
if [ "$(id -u)" -ne 0 ] || ! [ -c /dev/fuse ] ||
	! { exec 3<>/dev/fuse; } 2>/dev/null; then
	[ "$failures" -eq 0 ] || exit 1
	echo "skip: no root or no /dev/fuse: the example was not run"
	exit 77
fi
exec 3>&-
for tool in fusermount3 findmnt timeout setfattr; do
	if ! command -v "$tool" >/dev/null; then
		[ "$failures" -eq 0 ] || exit 1
		echo "skip: $tool is missing"
		exit 77
	fi
done
mkdir "$B" "$M"
if ! timeout 20 "$BIN" "$B" "$M" 2>"$T/err"; then
	echo "FAIL: couldn't mount: $(cat "$T/err")"
	exit 1
fi
for _ in $(seq 100); do
	[ "$(findmnt -n -o FSTYPE -M "$M" | tail -n 1)" = fuse.rdmafs ] && break
	sleep 0.05
done
head -c 65536 /dev/urandom >"$M/data"
if ! setfattr -n user.rdmafs.pin -v 0+1 "$M/data" 2>/dev/null; then
	echo "skip: no pins on this backing (${TMPDIR:-/tmp} without FIEMAP)"
	exit 77
fi
setfattr -n user.rdmafs.unpin -v all "$M/data"

run_example() {
	local what=$1 out
	shift
	if out=$("$@" "$M/data" 4096 8192 2>&1) &&
		grep -qx "4096+8192 owner=0 since=[0-9]*" <<<"$out"; then
		pass "$what: pinned, listed, unpinned"
	else
		fail "$what: exit $?: $out"
	fi
	if getfattr -n user.rdmafs.pin "$M/data" >/dev/null 2>&1; then
		fail "$what: left a pin behind"
	fi
}
run_example "installed example" env LD_LIBRARY_PATH="$libdir" \
	"$T/app/pin-range"
if [ -n "$TREE_EXAMPLE" ]; then
	run_example "example built in the tree" "$TREE_EXAMPLE"
fi
# an error comes back as rdmafs_strerror's words and exit 1
rc=0
out=$(LD_LIBRARY_PATH=$libdir "$T/app/pin-range" "$T/cc.log" 2>&1) || rc=$?
if [ "$rc" -eq 1 ] && [ "$out" = "pin-range: pin: not on an rdmafs mount, or not offered by its daemon" ]; then
	pass "a file outside rdmafs: exit 1, ENOTSUP in words"
else
	fail "a file outside rdmafs: exit $rc: $out"
fi

if [ "$failures" -ne 0 ]; then
	echo "$ME: $failures failure(s)"
	exit 1
fi
echo "$ME: all passed"
