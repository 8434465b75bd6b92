#!/bin/sh
# The Unicode-lowercase hash never serves one account's key for another's
# address: "ÄÖ@d" and "Äö@d" are different addresses (only A-Z are lowered
# for the draft's hash) with the same Unicode lowering "äö@d"; if two
# accounts own them, neither may be published under that shared hash.
. "$(dirname "$0")/lib_wkdctl.sh"
. "$(dirname "$0")/keys.sh"

if ! command -v gpg >/dev/null 2>&1 || ! command -v mdb_dump >/dev/null 2>&1
then
	skip "gpg or mdb_dump not installed"
	finish
fi
keys_init

hashes() {
	$WKDCTL hash "$1" | awk -v k="$2" '$1 == k { print $2 }'
}

run $W init
$W domain add example.org >/dev/null &&
$W account add 'ÄÖ@example.org' >/dev/null &&
$W account add 'Äö@example.org' >/dev/null
ok $? "two accounts whose addresses have the same Unicode lowering"

X=$(keys_gen 'X <ÄÖ@example.org>')
Y=$(keys_gen 'Y <Äö@example.org>')
keys_pub "$X" "$tmp/x.pub"; keys_pub "$Y" "$tmp/y.pub"
hx=$(hashes 'ÄÖ@example.org' hash)
hy=$(hashes 'Äö@example.org' hash)
hu=$(hashes 'ÄÖ@example.org' unicode-hash)
is "$(hashes 'Äö@example.org' unicode-hash)" "$hu" "both share one Unicode hash"

run $W import "$tmp/x.pub"
is "$rc" 0 "import X's key"
mdb_dump -p -s wkd "$S" > "$tmp/wkd"
like "$tmp/wkd" "example\.org/$hx" "X served under its own hash"
unlike "$tmp/wkd" "example\.org/$hu" "X not served under the shared Unicode hash"

run $W import "$tmp/y.pub"
is "$rc" 0 "import Y's key"
mdb_dump -p -s wkd "$S" > "$tmp/wkd"
like "$tmp/wkd" "example\.org/$hy" "Y served under its own hash"
unlike "$tmp/wkd" "example\.org/$hu" "Y not served under the shared Unicode hash"

# Bound one after the other: X's Unicode entry, made while it was the only
# one, goes when Y's address is bound.
$W account add 'ÅÖ@example.org' >/dev/null
Z=$(keys_gen 'Z <ÅÖ@example.org>')
keys_pub "$Z" "$tmp/z.pub"
run $W import "$tmp/z.pub"
hz=$(hashes 'ÅÖ@example.org' unicode-hash)
mdb_dump -p -s wkd "$S" > "$tmp/wkd"
like "$tmp/wkd" "example\.org/$hz" "a lone Unicode lowering is published"
run $W account add 'Åö@example.org'
is "$rc" 0 "a second address with that lowering bound"
mdb_dump -p -s wkd "$S" > "$tmp/wkd"
unlike "$tmp/wkd" "example\.org/$hz" "the shared Unicode entry is taken down"
run $W import "$tmp/z.pub"
mdb_dump -p -s wkd "$S" > "$tmp/wkd"
unlike "$tmp/wkd" "example\.org/$hz" "and not made again by a re-import"

finish
