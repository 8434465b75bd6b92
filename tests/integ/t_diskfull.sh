#!/bin/sh
# t_diskfull: the store on a small tmpfs (4 MiB, mounted in a private mount
# namespace of its own) is filled up by imports of Debian's keys, one key
# an import, while wkdd serves it.  The import that finds no room fails
# with "disk full: STORE" (not LMDB's "Input/output error" of a short
# write) and changes nothing: the store dumps as before it, opens, lists
# and backs up (its copy checked); every key imported before is served, by
# the wkdd that ran throughout, and the refused one is not.  With room
# made, the same import succeeds.  A full map ("store full (raise
# store-size)") is t_import_bad's.
if [ -z "${WKDD_DISKFULL_NS:-}" ] && [ "$(id -u)" = 0 ] &&
    unshare -m --propagation private true 2>/dev/null; then
	WKDD_DISKFULL_NS=1 exec unshare -m --propagation private sh "$0" "$@"
fi
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"
. "$TOP/tests/integ/debkeys.sh"

[ -n "${WKDD_DISKFULL_NS:-}" ] ||
    skip_all "needs root and unshare -m (a tmpfs in a mount namespace)"
need curl certtool mdb_dump
need_wkdctl
debian_keys

FS=$T/fs
mkdir -p "$FS"
mount -t tmpfs -o size=4m,mode=0755 wkdd-diskfull "$FS" || {
	fail "mount a 4 MiB tmpfs"
	finish
}
trap 'umount "$FS" 2>/dev/null; lib_cleanup' EXIT
STORE=$FS/store

make_certs debian.org openpgpkey.debian.org
make_store debian.org
setup "account sync" ctl account sync "$T/dk/users.tsv"
write_conf "limit-rate 0" "access-log off"
start_wkdd || finish

# served ADDR: fetch ADDR's key (advanced method; lib.sh's fetch checks
# what comes back).
served() {
	fetch openpgpkey.debian.org \
	    "/.well-known/openpgpkey/debian.org/hu/$(hash_of "$1")?l=${1%@*}"
}

# Leave about 640 KiB free: a few dozen keys' room.
avail() {
	df -k "$FS" | awk 'NR == 2 { print $4 }'
}
setup "fill the tmpfs" dd if=/dev/zero of="$FS/filler" bs=64k \
    count=$((($(avail) - 640) / 64))
diag "$(avail) KiB left on the store's filesystem"

# --- Import until the filesystem is full -----------------------------------
: > "$T/published"
n=0 failed= first=
while read -r k; do
	[ $n -lt 400 ] || break
	mdb_dump -a "$STORE" > "$T/before.dump" 2>&1 || break
	ctl import "$k" > "$T/imp.out" 2> "$T/imp.err"
	rc=$?
	# 3: a key published, with a warning about another of its UIDs.
	if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
		failed=$k
		break
	fi
	n=$((n + 1))
	sed -n 's/^  published at //p' "$T/imp.out" >> "$T/published"
	# wkdd serves throughout: the first key published, after each import.
	[ -n "$first" ] || first=$(head -n 1 "$T/published")
	served "$first"
	if [ "$STATUS" != 200 ]; then
		fail "after import $n: $first not served ($STATUS)"
	fi
done < "$T/dk/pub"
diag "$n imports succeeded ($(wc -l < "$T/published" | tr -d ' ')" \
    "addresses), $(avail) KiB left"

check "the filesystem filled up: an import failed (after $n)" \
    test -n "$failed"
is "$rc" 1 "the import finding no room: exit 1"
like "$T/imp.err" "disk full: $STORE" "it says: disk full: $STORE"
unlike "$T/imp.err" "Input/output error" "not LMDB's Input/output error"
show "$T/imp.err"

# --- Nothing partial, the store intact -------------------------------------
mdb_dump -a "$STORE" > "$T/after.dump" 2>&1
check "the store dumps as before the failed import (nothing partial)" \
    cmp -s "$T/before.dump" "$T/after.dump"
ctl list > "$T/list" 2> "$T/list.err"
is "$?" 0 "wkdctl list works on the full filesystem"
check "list: the $(wc -l < "$T/published" | tr -d ' ') addresses published" \
    sh -c 'for a in $(cat "$1"); do grep -qF "$a" "$2" || exit 1; done' \
    sh "$T/published" "$T/list"
ctl backup "$T/copy.mdb" > "$T/backup.out" 2>&1
ok $? "wkdctl backup (to another filesystem): the copy checks"
show "$T/backup.out"

# Every key imported before is served, and what was refused is not.
bad=0
for a in $(cat "$T/published"); do
	served "$a"
	[ "$STATUS" = 200 ] || { bad=$((bad + 1)); diag "$a: $STATUS"; }
done
is "$bad" 0 "every address published before the failure is served"
# The refused key's first debian.org address that no earlier key took.
fa=$(awk -v f="$failed" -F '\t' '$1 == f' "$T/dk/uids" |
    tr '\t' '\n' | grep -oiE '[^<> ]+@debian\.org' | tr 'A-Z' 'a-z' |
    while read -r a; do grep -qxF "$a" "$T/published" || echo "$a"; done |
    head -n 1)
if [ -n "$fa" ]; then
	served "$fa"
	is "$STATUS" 404 "the refused key's address ($fa): not served"
fi

# Full still: a second try fails the same way; wkdd is unharmed.
ctl import "$failed" > "$T/imp2.out" 2> "$T/imp2.err"
is "$?" 1 "the filesystem still full: the import fails again"
like "$T/imp2.err" "disk full: $STORE" "... and says disk full again"
check_wkdd "full filesystem"

# --- Room made: the same import succeeds -----------------------------------
rm -f "$FS/filler"
ctl import "$failed" > "$T/imp3.out" 2> "$T/imp3.err"
rc=$?
check "room made: the refused key imports (exit $rc)" test $rc = 0 -o $rc = 3
if [ -n "$fa" ]; then
	served "$fa"
	is "$STATUS" 200 "... and is served ($fa)"
fi
served "$first"
is "$STATUS" 200 "the first key still served"
finish
