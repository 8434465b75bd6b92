#!/bin/sh
# The README's quick start, as a new user types it: a store from the config
# file, a domain, an account with an alias, a gpg-exported secret keypair
# with several UIDs, and back a key gpg accepts with only the asked-for UID.
. "$(dirname "$0")/lib_wkdctl.sh"
. "$(dirname "$0")/keys.sh"

if ! command -v gpg >/dev/null 2>&1; then
	skip "gpg not installed"
	finish
fi
keys_init
printf 'store %s\n' "$tmp/wkd" > "$tmp/wkdd.conf"
C="$WKDCTL -f $tmp/wkdd.conf"

run $C init
is "$rc" 0 "wkdctl init"
run $C domain add example.org
is "$rc" 0 "wkdctl domain add example.org"
run $C account add alice@example.org --alias a.smith@example.org
is "$rc" 0 "wkdctl account add alice@example.org --alias a.smith@example.org"

F=$(keys_gen_pw 'Alice <alice@example.org>' 'correct horse')
keys_adduid "$F" 'Alice Smith <a.smith@example.org>' 'correct horse'
keys_adduid "$F" 'Alice <alice@gmail.example>' 'correct horse'
keys_sec "$F" "$tmp/alice.key" 'correct horse'
run $C import "$tmp/alice.key"
is "$rc" 0 "wkdctl import alice.key (secret keypair, no passphrase asked)"
like "$out" '^  published at alice@example\.org$' "published at the primary address"
like "$out" '^  published at a\.smith@example\.org$' "published at the alias"
like "$out" 'alice@gmail\.example>: domain gmail\.example is not hosted' "other UID explained"

run $C list
is "$(wc -l < "$out" | tr -d ' ')" 2 "wkdctl list: two addresses"

for a in alice@example.org a.smith@example.org; do
	h=$tmp/fresh-$a
	mkdir -p "$h"; chmod 700 "$h"
	$C export "$a" > "$tmp/$a.key"
	GNUPGHOME=$h gpg --batch --quiet --import "$tmp/$a.key" 2>/dev/null
	ok $? "gpg --import accepts wkdctl export $a"
	GNUPGHOME=$h gpg --batch --with-colons --list-keys > "$tmp/colons" 2>/dev/null
	awk -F: '$1 == "uid" { print $10 }' "$tmp/colons" > "$tmp/uids"
	like "$tmp/uids" "<$(printf '%s' "$a" | sed 's/\./\\./g')>\$" "$a: its UID carries $a"
	is "$(grep -c '^uid:' "$tmp/colons")" 1 "$a: exactly one UID"
	is "$(awk -F: '$1 == "fpr" { print $10; exit }' "$tmp/colons")" "$F" "$a: the right key"
	if GNUPGHOME=$h gpg --batch --with-colons --list-secret-keys 2>/dev/null |
	    grep -q '^sec'; then r=1; else r=0; fi
	ok $r "$a: no secret key came with it"
	GNUPGHOME=$h gpgconf --kill all >/dev/null 2>&1
done

run $C hash alice@example.org
like "$out" '^advanced https://openpgpkey\.example\.org/\.well-known/openpgpkey/example\.org/hu/' "wkdctl hash: advanced URL"

finish
