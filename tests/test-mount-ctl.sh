#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# rdmafsctl against a real mount: `pins` and `status`, as a table and as
# JSON, for paths that need escaping, `all` pins, another user's pins,
# errors and exit statuses on things that are not an rdmafs mount, and a
# listing of more than 64 KiB that the daemon must split into pages,
# which rdmafsctl (through librdmafs) must show whole, each pin exactly
# once.  pin/unpin are in test-mount-ctl-pin.sh, events in
# test-mount-ctl-events.sh.
#
# Needs root and /dev/fuse (exit 77 otherwise).  RDMAFS_BIN and RDMAFSCTL
# name the binaries under test (or pass RDMAFSCTL as the first argument).

set -uo pipefail

NMANY=${NMANY:-1500}

# shellcheck source=tests/ctl-test-lib.sh
. "$(dirname "$0")/ctl-test-lib.sh"

mkdir "$B" "$M"
do_mount

# Without pin support there is nothing to test rdmafsctl against; that is
# a failure of the daemon, not a reason to skip.
if ! getfattr -n user.rdmafs.status "$M" >/dev/null 2>&1; then
	fail "the daemon does not serve user.rdmafs.status: no pin support"
	exit 1
fi

# ---- usage ----
if ctl "--help" --help && grep -q "pins" "$T/out" &&
	grep -q "status" "$T/out"; then
	pass "--help lists the commands"
else
	fail "--help: $(head -c 300 "$T/out")"
fi
if ctl "--version" --version && grep -Eq '^rdmafsctl [0-9]+\.[0-9]+' "$T/out"; then
	pass "--version: $(cat "$T/out")"
else
	fail "--version: $(cat "$T/out")"
fi
if ctl "pins --help" pins --help && grep -q "MOUNT" "$T/out"; then
	pass "pins --help"
else
	fail "pins --help: $(cat "$T/out")"
fi
timeout 10 "$CTL" >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" -ne 2 ]; then
	fail "no command: exit status $rc, not 2"
elif ! grep -q '^Usage' "$T/err" || [ -s "$T/out" ]; then
	fail "no command: no usage on stderr: $(cat "$T/err")"
else
	pass "no command: usage on stderr, exit 2"
fi
ctl_error "unknown command" 2 "unknown command 'frob'" frob "$M"
ctl_error "no mount" 2 "^rdmafsctl pins: need exactly one MOUNT " pins
ctl_error "two mounts" 2 "need exactly one MOUNT" status "$M" "$M"
ctl_error "bad option" 2 "unknown option '--frob'" pins --frob "$M"
ctl_error "another command's option" 2 "unknown option '--follow'" \
	pins --follow "$M"

# ---- an empty mount ----
if ctl "empty pins" pins "$M" && [ "$(cat "$T/out")" = "no pins" ]; then
	pass "no pins: table says so"
else
	fail "no pins: table: $(head -c 300 "$T/out")"
fi
if ctl "empty pins --json" pins --json "$M" && [ "$(cat "$T/out")" = "[]" ]; then
	pass "no pins: JSON []"
else
	fail "no pins: JSON: $(head -c 300 "$T/out")"
fi
if ctl "empty status" status "$M" && grep -Eq '^pins +0$' "$T/out" &&
	grep -Eq '^version +[0-9]' "$T/out"; then
	pass "status of an empty mount"
else
	fail "status of an empty mount: $(cat "$T/out")"
fi
ctl "empty status --json" status --json "$M" &&
	json_check "status --json of an empty mount" "
assert d['pins'] == 0, d
assert d['files_pinned'] == 0, d
assert isinstance(d['version'], str), d
assert all(isinstance(v, int) for k, v in d.items() if k.startswith('max_')), d"

# ---- not an rdmafs root ----
ctl_error "pins of a plain directory" 3 \
	"^rdmafsctl: Couldn't read pins of $T: not on an rdmafs mount" \
	pins "$T"
ctl_error "status of a plain directory" 3 \
	"^rdmafsctl: Couldn't read the status of $T: not on an rdmafs mount" \
	status "$T"
ctl_error "pins of a missing path" 1 "Couldn't read pins of .*No such file" \
	pins "$T/nonexistent"

# ---- pins that need escaping, all, another owner ----
mkdir "$M/dir"
names=(plain "with space" $'tab\there' $'new\nline' 'back\slash' '#hash'
	'dir/sub file' 'mid#hash' big)
for n in "${names[@]}"; do
	truncate -s 2M "$M/$n" || fail "couldn't create '$n'"
done
pin "$M/plain" 0+1M
# setfattr reads a value starting 0x as hex bytes: quotes make it text
pin "$M/plain" '"0x100000+4K"'
pin "$M/with space" 4096+4K
pin "$M/with space" 8192+1
for n in $'tab\there' $'new\nline' 'back\slash' '#hash' 'dir/sub file' \
	'mid#hash'; do
	pin "$M/$n" 0+1
done
pin "$M/big" all
expected=11

other=false
if command -v setpriv >/dev/null; then
	truncate -s 1M "$M/theirs" && chmod 666 "$M/theirs"
	if setpriv --reuid=65534 --regid=65534 --clear-groups \
		setfattr -n user.rdmafs.pin -v 0+64K "$M/theirs" 2>"$T/err"; then
		other=true
		expected=$((expected + 1))
	else
		fail "pin as uid 65534: $(cat "$T/err")"
	fi
else
	echo "note: no setpriv: no pin by another user"
fi

if ctl "pins" pins "$M"; then
	cp "$T/out" "$T/table"
	lines=$(wc -l <"$T/table")
	if [ "$lines" -ne $((expected + 1)) ]; then
		fail "table: $lines lines for $expected pins: $(cat "$T/table")"
	fi
	if ! head -n 1 "$T/table" |
		grep -Eq '^PATH +RANGE +SIZE +OWNER +HOLDER +SINCE$'; then
		fail "table header: $(head -n 1 "$T/table")"
	fi
	# each row: the path as shown, then range, size, owner, holder, since
	while IFS='|' read -r shown range size owner; do
		if ! grep -Eq "^$shown +$range +$size +$owner +- +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$" \
			"$T/table"; then
			fail "table: no row '$shown $range $size $owner'"
		fi
	done <<'EOF'
plain|0\+1048576|1M|0\(root\)
plain|1048576\+4096|4K|0\(root\)
with space|4096\+4096|4K|0\(root\)
with space|8192\+1|1|0\(root\)
tab\\011here|0\+1|1|0\(root\)
new\\012line|0\+1|1|0\(root\)
back\\134slash|0\+1|1|0\(root\)
#hash|0\+1|1|0\(root\)
dir/sub file|0\+1|1|0\(root\)
mid#hash|0\+1|1|0\(root\)
big|all|-|0\(root\)
EOF
	if $other && ! grep -Eq '^theirs +0\+65536 +64K +65534(\(nobody\))? +- ' \
		"$T/table"; then
		fail "table: no row for uid 65534's pin"
	fi
	# the columns line up: RANGE starts at one offset on every line
	col=$(head -n 1 "$T/table" | awk '{ print index($0, "RANGE") }')
	bad=$(awk -v c="$col" 'NR > 1 && substr($0, c - 2, 2) != "  " { print }' \
		"$T/table")
	if [ -n "$bad" ]; then
		fail "table: RANGE column not aligned at $col: $bad"
	else
		pass "table: $expected rows, escaped paths, aligned"
	fi
fi

if ctl "pins --json" pins --json "$M"; then
	json_check "pins --json: every pin, exact fields" "
want = {
    ('plain', 0, 1048576, False, 0),
    ('plain', 1048576, 4096, False, 0),
    ('with space', 4096, 4096, False, 0),
    ('with space', 8192, 1, False, 0),
    ('tab\there', 0, 1, False, 0),
    ('new\nline', 0, 1, False, 0),
    ('back\\\\slash', 0, 1, False, 0),
    ('#hash', 0, 1, False, 0),
    ('dir/sub file', 0, 1, False, 0),
    ('mid#hash', 0, 1, False, 0),
    ('big', 0, None, True, 0),
}
if '$other' == 'true':
    want.add(('theirs', 0, 65536, False, 65534))
assert isinstance(d, list), type(d)
got = [(p['path'], p['offset'], p['length'], p['all'], p['owner']) for p in d]
assert len(got) == len(set(got)), 'repeated: %r' % got
assert set(got) == want, 'missing %r, extra %r' % (want - set(got), set(got) - want)
for p in d:
    assert set(p) == {'path', 'offset', 'length', 'all', 'owner', 'holder', 'since'}, p
    assert p['holder'] is None, p
    assert re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z', p['since']), p
"
fi

if ctl "status" status --json "$M"; then
	json_check "status --json counts the pins" "
want = $expected
assert d['pins'] == want, (d, want)
assert d['files_pinned'] == want - 2, d"
fi
if ctl "status table" status "$M" &&
	grep -Eq "^pins +$expected\$" "$T/out"; then
	pass "status table: pins $expected"
else
	fail "status table: $(cat "$T/out")"
fi

# MOUNT may be any path in the mount: librdmafs finds its root
ctl "pins --json of the root" pins --json "$M" && cp "$T/out" "$T/root.json"
if ctl "pins of a directory inside the mount" pins --json "$M/dir" &&
	cmp -s "$T/out" "$T/root.json"; then
	pass "pins of $M/dir: the mount's listing"
else
	fail "pins of $M/dir: $(head -c 300 "$T/out")"
fi

# an unpin shows at once
if ctl "unpin" unpin "$M/plain" 0+1M &&
	ctl "pins after unpin" pins "$M" &&
	! grep -Eq '^plain +0\+1048576 ' "$T/out" &&
	grep -Eq '^plain +1048576\+4096 ' "$T/out"; then
	pass "unpin 0+1M: gone from the listing, the other pin stays"
	expected=$((expected - 1))
else
	fail "unpin 0+1M: $(grep '^plain' "$T/out")"
fi

# ---- more than 64 KiB of listing: pages ----
mkdir "$M/many"
pad=$(printf '%0180d' 0)
many_name() {
	printf 'many/f %04d %s' "$1" "$pad"
}
start=$SECONDS
for i in $(seq "$NMANY"); do
	f=$M/$(many_name "$i")
	if ! head -c 4096 /dev/zero >"$f"; then
		fail "couldn't create $f"
		break
	fi
	if ! setfattr -n user.rdmafs.pin -v 0+4K "$f" 2>"$T/err"; then
		fail "pin #$i: $(cat "$T/err")"
		break
	fi
done
expected=$((expected + NMANY))
echo "note: $NMANY files created and pinned in $((SECONDS - start)) s"

# the daemon itself: the first page is full, and pages chain to the end
size=$(getfattr --only-values -n user.rdmafs.pins "$M" 2>/dev/null | wc -c)
if [ "$size" -gt 65536 ]; then
	fail "first page is $size bytes, more than an xattr value holds"
elif ! getfattr --only-values -n user.rdmafs.pins "$M" 2>/dev/null |
	tail -n 1 | grep -q '^#more user\.rdmafs\.pins\.'; then
	fail "a listing of $NMANY long names has no #more line"
else
	pass "first page: $size bytes, ends with #more"
fi
raw=0
page=user.rdmafs.pins
pages=0
: >"$T/raw"
while [ -n "$page" ] && [ "$pages" -lt 1000 ]; do
	getfattr --only-values -n "$page" "$M" >"$T/page" 2>"$T/err" || {
		fail "getfattr -n $page: $(cat "$T/err")"
		break
	}
	pages=$((pages + 1))
	grep -v '^#more ' "$T/page" >>"$T/raw"
	page=$(sed -n 's/^#more //p' "$T/page")
done
raw=$(wc -l <"$T/raw")
dups=$(sort "$T/raw" | uniq -d | wc -l)
if [ "$raw" -ne "$expected" ] || [ "$dups" -ne 0 ]; then
	fail "raw pages: $raw lines ($dups repeated) in $pages pages, want $expected"
else
	pass "raw pages: $expected lines in $pages pages, none repeated"
fi

if ctl "pins, paged" pins "$M"; then
	rows=$(($(wc -l <"$T/out") - 1))
	nmany=$(grep -c '^many/f ' "$T/out")
	dups=$(grep '^many/f ' "$T/out" | sort | uniq -d | wc -l)
	if [ "$rows" -ne "$expected" ] || [ "$nmany" -ne "$NMANY" ] ||
		[ "$dups" -ne 0 ]; then
		fail "paged table: $rows rows, $nmany of many/ ($dups repeated); want $expected and $NMANY"
	else
		pass "paged table: all $expected pins, each once"
	fi
fi
if ctl "pins --json, paged" pins --json "$M"; then
	json_check "paged JSON: every file of many/ exactly once" "
n = $NMANY
pad = '0' * 180
paths = [p['path'] for p in d if p['path'].startswith('many/')]
want = ['many/f %04d %s' % (i, pad) for i in range(1, n + 1)]
assert len(d) == $expected, len(d)
assert len(paths) == n, (len(paths), n)
assert sorted(paths) == sorted(want), set(want) ^ set(paths)
assert all(p['offset'] == 0 and p['length'] == 4096 for p in d
           if p['path'].startswith('many/'))"
fi

# ---- the listing outlives the daemon ----
if do_umount; then
	do_mount
	if ctl "pins after remount" pins --json "$M"; then
		json_check "after a remount: the same $expected pins" "
assert len(d) == $expected, len(d)
assert sum(p['path'].startswith('many/') for p in d) == $NMANY"
	fi
else
	fail "couldn't unmount $M"
fi

if [ "$failures" -ne 0 ]; then
	echo "$failures failure(s)"
	exit 1
fi
echo "all passed"
exit 0
