#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Every installed program and every exported library call has a man page,
# checked in the source tree, so that a call or command added without one
# fails here before anyone installs:
#
#  - each name in lib/client/librdmafs.map and librdmafs-rdma.map has a
#    section 3 page: doc/NAME.3.rst built by doc/meson.build, or a link in
#    its man_links to such a page; and that page's SYNOPSIS declares it;
#  - each function the public headers (lib/include/rdmafs/*.h) declare is
#    exported by one of the maps (no call that cannot be linked);
#  - each executable that meson installs (fs/, tools/) has NAME.1.rst
#    among the pages doc/meson.build builds;
#  - each page doc/meson.build names exists, and each section 3 page of
#    a call has SYNOPSIS, DESCRIPTION, RETURN VALUE and SEE ALSO;
#  - each rdmafsctl command (tools/rdmafsctl.c) is in rdmafsctl(1)'s
#    SYNOPSIS and COMMANDS.
#
# Usage: test-man-pages.sh [SOURCE_ROOT]   (default: the tree it lives in)

set -euo pipefail

src=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
doc=$src/doc
failures=0
checked=0

fail()
{
	echo "FAIL: $*"
	failures=$((failures + 1))
}

for f in "$doc/meson.build" "$src/lib/client/librdmafs.map"; do
	[[ -f $f ]] || {
		echo "skip: no $f"
		exit 77
	}
done

# The names in the man_pages lists of doc/meson.build ('rdmafs.1', ...).
mapfile -t pages < <(grep -E '^[[:space:]]*man_pages \+?=' "$doc/meson.build" |
	grep -oE "'[^']+\.[0-9]'" | tr -d "'" | sort -u)
# 'rdmafs_unpin': 'rdmafs_pin' lines of the man_links dictionaries.
declare -A link
while read -r name target; do
	link[$name]=$target
done < <(sed -nE "s/^[[:space:]]*'([a-z_0-9]+)':[[:space:]]*'([a-z_0-9]+)',?.*/\1 \2/p" \
	"$doc/meson.build")

has_page()
{
	local p
	for p in "${pages[@]}"; do
		[[ $p == "$1" ]] && return 0
	done
	return 1
}

for p in "${pages[@]}"; do
	[[ -f $doc/$p.rst ]] || fail "doc/meson.build builds $p but doc/$p.rst is missing"
done
for name in "${!link[@]}"; do
	has_page "${link[$name]}.3" ||
		fail "man link $name(3) leads to ${link[$name]}(3), which is not built"
done

# The text of section $2 (e.g. SYNOPSIS) of page $1: from its underlined
# title to the next one.
section_of()
{
	awk -v want="$2" '
		prev != "" && /^=+$/ { if (prev == want) on = 1; else if (on) exit }
		on { print }
		{ prev = $0 }
	' "$1"
}

# ---- exported calls ----
exports=()
for map in "$src"/lib/client/librdmafs.map "$src"/lib/client/librdmafs-rdma.map; do
	[[ -f $map ]] || continue
	mapfile -t -O "${#exports[@]}" exports < <(awk '
		/^[[:space:]]*global:/ { g = 1; next }
		/^[[:space:]]*local:/ { g = 0 }
		g && /^[[:space:]]*[a-z_0-9]+;/ { gsub(/[[:space:];]/, ""); print }
	' "$map")
done
((${#exports[@]} > 0)) || fail "no exported names found in the maps"
for sym in "${exports[@]}"; do
	checked=$((checked + 1))
	if has_page "$sym.3"; then
		page=$sym
	elif [[ -n ${link[$sym]:-} ]]; then
		page=${link[$sym]}
	else
		fail "$sym is exported but has no man page (doc/$sym.3.rst or a man_links entry)"
		continue
	fi
	[[ -f $doc/$page.3.rst ]] || continue # reported above
	if ! section_of "$doc/$page.3.rst" SYNOPSIS | grep "$sym\b" >/dev/null; then
		fail "$sym: its page $page(3) does not declare it in SYNOPSIS"
	fi
done

# ---- every public function is exported ----
for h in "$src"/lib/include/rdmafs/*.h; do
	while read -r fn; do
		checked=$((checked + 1))
		found=0
		for sym in "${exports[@]}"; do
			[[ $sym == "$fn" ]] && found=1 && break
		done
		((found)) || fail "${h#"$src"/} declares $fn, which no symbol map exports"
	done < <(grep -oE '^[a-z][^(;]*[ *]rdmafs_[a-z_0-9]+\(' "$h" |
		grep -oE 'rdmafs_[a-z_0-9]+\($' | tr -d '(' | sort -u)
done

# ---- section 3 pages of calls have the usual sections ----
for p in "${pages[@]}"; do
	[[ $p == rdmafs_*.3 && -f $doc/$p.rst ]] || continue
	for s in SYNOPSIS DESCRIPTION "RETURN VALUE" "SEE ALSO"; do
		checked=$((checked + 1))
		grep -qx -- "$s" "$doc/$p.rst" || fail "doc/$p.rst has no $s section"
	done
done

# ---- installed programs ----
for mb in "$src"/fs/meson.build "$src"/tools/meson.build; do
	while read -r prog; do
		checked=$((checked + 1))
		has_page "$prog.1" || fail "${mb#"$src"/} installs $prog but doc/meson.build builds no $prog.1"
	done < <(awk '
		match($0, /executable\('\''[^'\'']+'\''/) {
			name = substr($0, RSTART + 12, RLENGTH - 13)
		}
		name != "" && /install:[[:space:]]*true/ { print name; name = "" }
		/^[[:space:]]*$/ { name = "" }
	' "$mb")
done

# ---- rdmafsctl commands ----
ctl=$src/tools/rdmafsctl.c
page=$doc/rdmafsctl.1.rst
if [[ -f $ctl && -f $page ]]; then
	synopsis=$(section_of "$page" SYNOPSIS)
	commands=$(section_of "$page" COMMANDS)
	while read -r cmd; do
		checked=$((checked + 1))
		grep -q "rdmafsctl $cmd\*\*" <<<"$synopsis" ||
			fail "rdmafsctl $cmd is not in rdmafsctl(1)'s SYNOPSIS"
		grep -q "^\*\*$cmd\*\*" <<<"$commands" ||
			fail "rdmafsctl $cmd is not described in rdmafsctl(1)'s COMMANDS"
	done < <(sed -nE 's/^[[:space:]]*\.name = "([a-z-]+)",.*/\1/p' "$ctl")
fi

echo "$checked checks, $failures failed"
((failures == 0))
