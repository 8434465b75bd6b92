#!/bin/sh
# A stored key is published at a newly bound (or re-published) address
# only if it is that account's key: never a key with a UID of another
# account's address.  Mallory's key, imported with --account mallory and
# carrying a UID for boss@ (then unbound), must not be served when the
# CEO's account gets the alias boss@.
. "$(dirname "$0")/lib_wkdctl.sh"
. "$(dirname "$0")/keys.sh"

if ! command -v gpg >/dev/null 2>&1 || ! command -v mdb_dump >/dev/null 2>&1
then
	skip "gpg or mdb_dump not installed"
	finish
fi
keys_init

served() {
	h=$($WKDCTL hash "$1" | awk '$1 == "hash" { print $2 }')
	mdb_dump -p -s wkd "$S" | grep -q "example\.org/$h"
}

run $W init
$W domain add example.org >/dev/null &&
$W account add mallory@example.org >/dev/null &&
$W account add ceo@example.org >/dev/null &&
$W account add solo@example.org >/dev/null
setup "store: accounts mallory, ceo, solo" [ $? -eq 0 ]

M=$(keys_gen 'Mallory <mallory@example.org>')
keys_adduid "$M" 'The Boss <boss@example.org>'
keys_pub "$M" "$tmp/m.pub"
run $W import --account mallory@example.org "$tmp/m.pub"
is "$rc" 0 "Mallory's key imported for her account"
like "$out" 'not published: The Boss <boss@example\.org>' \
    "its boss@ UID not published (unbound)"
C=$(keys_gen 'CEO <ceo@example.org>')
keys_pub "$C" "$tmp/c.pub"
run $W import "$tmp/c.pub"
is "$rc" 0 "the CEO's key imported"

run $W alias add ceo@example.org boss@example.org
is "$rc" 0 "boss@ becomes an alias of the CEO"
unlike "$out" "$M" "alias add does not name Mallory's key"
served boss@example.org
ok $((! $?)) "Mallory's key is not served at the CEO's alias"
run $W show boss@example.org
unlike "$out" "$M" "show: boss@ has no key of Mallory's"

# The same through unpublish/publish of an address with no key of its own.
run $W unpublish boss@example.org
run $W publish boss@example.org
is "$rc" 0 "publish boss@"
served boss@example.org
ok $((! $?)) "publish does not pick Mallory's key either"

# Revoking her own UID doesn't make Mallory's key nobody's: a revoked UID
# still names her account.
M2=$(keys_gen 'Mallory <mallory2@example.org>')
keys_adduid "$M2" 'Chief <chief@example.org>'
keys_pub "$M2" "$tmp/m2.pub"
$W account add mallory2@example.org >/dev/null
run $W import --account mallory2@example.org "$tmp/m2.pub"
is "$rc" 0 "Mallory's second key imported for her second account"
keys_revuid "$M2" 'Mallory <mallory2@example.org>'
keys_pub "$M2" "$tmp/m2r.pub"
run $W import "$tmp/m2r.pub"
is "$rc" 0 "the same key, its mallory2@ UID revoked, merged"
run $W alias add ceo@example.org chief@example.org
is "$rc" 0 "chief@ becomes an alias of the CEO"
served chief@example.org
ok $((! $?)) "the key with a revoked UID of Mallory's is not served there"

# An account's own key still comes back on publish.
S1=$(keys_gen 'Solo <solo@example.org>')
keys_pub "$S1" "$tmp/s.pub"
run $W import "$tmp/s.pub"
run $W unpublish solo@example.org
run $W publish solo@example.org
is "$rc" 0 "publish solo@ (a one-address account)"
like "$out" "\\(key $S1\\)" "its own key is published again"
served solo@example.org
ok $? "and served"

finish
