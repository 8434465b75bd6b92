#!/bin/sh
# wkdctl import with keys made by gpg during the test: UID selection and
# reasons, key shaping (checked with gpg --list-packets and against
# gpg-wks-client --install-key), secret keypairs, mixed case, IDN, Unicode
# hash, revoked UIDs, merge, replacement, retired aliases, remove.
. "$(dirname "$0")/lib_wkdctl.sh"
. "$(dirname "$0")/keys.sh"
PKT="perl $(dirname "$0")/pgpkt.pl"

if ! command -v gpg >/dev/null 2>&1; then
	skip "gpg not installed"
	finish
fi
keys_init

# The packets of an OpenPGP file, one per line, as gpg sees them:
# "pub", "sub", "uid <text>", "attr", "sig <class> <issuer> <created>".
summary() {
	gpg --batch --list-packets "$1" 2>/dev/null | awk '
	/^:public key packet:/		{ print "pub"; next }
	/^:public sub key packet:/	{ print "sub"; next }
	/^:secret/			{ print "SECRET"; next }
	/^:user ID packet:/		{ print "uid " substr($0, 19); next }
	/^:attribute packet:/		{ print "attr"; next }
	/^:signature packet:/		{ k = $NF; sig = 1; next }
	sig && /sigclass/ {
		c = $0; sub(/.*sigclass /, "", c); sub(/,.*/, "", c)
		t = $0; sub(/.*created /, "", t); sub(/,.*/, "", t)
		print "sig " c " " k " " t; sig = 0
	}'
}

keyid() {
	printf '%s\n' "$1" | cut -c25-40
}

# check_blob FILE ADDR FPR NAME: the served blob's invariants.
check_blob() {
	summary "$1" > "$tmp/sum"
	is "$(grep -c '^uid ' "$tmp/sum")" 1 "$4: exactly one UID"
	like "$tmp/sum" "^uid .*$2" "$4: the UID is $2"
	unlike "$tmp/sum" '^(attr|SECRET)' "$4: no photo, no secret key packet"
	awk -v k="$(keyid "$3")" '$1 == "sig" && $3 != k { bad = 1 } END { exit bad }' "$tmp/sum"
	ok $? "$4: every signature is a self-signature"
	t=$($PKT tags "$1")
	case " $t " in *" 5 "*|*" 7 "*|*" 17 "*) r=1 ;; *) r=0 ;; esac
	ok $r "$4: no tag 5/7/17 ($t)"
	head -c1 "$1" | od -An -tx1 | grep -Eq '(9[0-9a-f]|c6)'
	ok $? "$4: binary, not armored"
}

# same_as_wks FILE KEYFILE ADDR FPR NAME: our blob has gpg-wks-client's
# packet sequence, except the third-party certifications gpg keeps and we
# drop (draft-22 §5 and the issue: no third-party certification).
same_as_wks() {
	[ -x "$WKS_CLIENT" ] || { skip "gpg-wks-client not installed"; return; }
	rm -rf "$tmp/wks"; mkdir -p "$tmp/wks"
	f=$(wks_install "$2" "$3" "$tmp/wks") && [ -f "$f" ]
	ok $? "$5: gpg-wks-client --install-key made a file"
	summary "$f" | awk -v k="$(keyid "$4")" '$1 != "sig" || $3 == k' > "$tmp/wks.sum"
	summary "$1" > "$tmp/our.sum"
	if cmp -s "$tmp/wks.sum" "$tmp/our.sum"; then ok 0 "$5: same packets as gpg-wks-client"
	else
		ok 1 "$5: same packets as gpg-wks-client"
		diff "$tmp/wks.sum" "$tmp/our.sum" | sed 's/^/#   /'
	fi
}

# gpg --import of the blob in a fresh keyring: accepted, with one UID.
gpg_accepts() {
	h=$tmp/gpgcheck.$tap_n
	mkdir -p "$h"; chmod 700 "$h"
	GNUPGHOME=$h gpg --batch --quiet --import "$1" 2>/dev/null
	ok $? "$3: gpg --import accepts the exported key"
	c=$(GNUPGHOME=$h gpg --batch --with-colons --list-keys 2>/dev/null | grep -c '^uid:')
	u=$(GNUPGHOME=$h gpg --batch --with-colons --list-keys 2>/dev/null | awk -F: '$1 == "uid" { print $10 }')
	is "$c:$u" "1:$2" "$3: gpg sees only the UID $2"
	GNUPGHOME=$h gpgconf --kill all >/dev/null 2>&1
}

# --- The store: three domains, accounts with aliases.
run $W init
$W domain add example.org >/dev/null &&
$W domain add example.net >/dev/null &&
$W domain add münchen.de >/dev/null &&
$W account add alice@example.org --alias alice@example.net --alias alice.old@example.org >/dev/null &&
$W account add dave@example.org --alias d@example.net >/dev/null &&
$W account add bob.smith@example.org >/dev/null &&
$W account add 'max@münchen.de' >/dev/null &&
$W account add 'Äbc@example.org' >/dev/null
setup "store with domains and accounts" [ $? -eq 0 ]

# --- Key A: three UIDs (two hosted, one foreign), a photo, a revoked UID,
# and an exportable certification by another key.
A=$(keys_gen 'Alice <alice@example.org>')
[ -n "$A" ]
setup "generated key A" [ $? -eq 0 ]
keys_adduid "$A" 'Alice Work <alice@example.net>'
keys_adduid "$A" 'Alice <alice@foreign.example>'
keys_adduid "$A" 'Alice Old <alice.old@example.org>'
keys_revuid "$A" 'Alice Old <alice.old@example.org>'
keys_photo "$A"
X=$(keys_gen 'Xavier <x@elsewhere.example>')
keys_certify "$X" "$A"
keys_pub "$A" "$tmp/a.pub"
summary "$tmp/a.pub" > "$tmp/a.sum"
grep -q '^attr' "$tmp/a.sum" && grep -q "^sig 0x1[0-3] $(keyid "$X")" "$tmp/a.sum"
ok $? "key A carries a photo and a third-party certification"

run $W import "$tmp/a.pub"
is "$rc" 0 "import key A"
like "$out" "^key $A" "report names the key"
like "$out" '^  published at alice@example\.org$' "A: published at alice@example.org"
like "$out" '^  published at alice@example\.net$' "A: published at alice@example.net"
like "$out" 'not published: Alice <alice@foreign\.example>: domain foreign\.example is not hosted' "A: foreign domain reported"
like "$out" 'not published: \[user attribute\]: .*photo' "A: photo reported"
like "$out" 'not published: Alice Old <alice\.old@example\.org>: revoked UID' "A: revoked UID reported"

for addr in alice@example.org alice@example.net; do
	run $W export "$addr" -o "$tmp/a-$addr.gpg"
	is "$rc" 0 "export $addr"
	check_blob "$tmp/a-$addr.gpg" "$addr" "$A" "A at $addr"
	same_as_wks "$tmp/a-$addr.gpg" "$tmp/a.pub" "$addr" "$A" "A at $addr"
done
gpg_accepts "$tmp/a-alice@example.org.gpg" 'Alice <alice@example.org>' "A at alice@example.org"
run $W export alice.old@example.org -o "$tmp/x"
is "$rc" 1 "nothing published for the revoked UID's address"

# export to stdout gives the same bytes.
$W export alice@example.org > "$tmp/a-stdout.gpg"
cmp -s "$tmp/a-stdout.gpg" "$tmp/a-alice@example.org.gpg"
ok $? "export to stdout = export -o"

# The stored certificate: no photo, no third-party signature, no secrets.
mdb_dump -s certs "$S" | $PKT hexvals > "$tmp/certs"
unlike "$tmp/certs" '(^| )(5|7|17)( |$)' "stored certificates: no tag 5/7/17"
run $W show "$A"
like "$out" 'uid: Alice Work <alice@example\.net>' "show FPR lists the certificate's UIDs"
# Only UIDs of hosted domains are stored: the others are never published.
printf '%s\n' "$out" > "$tmp/show"
unlike "$tmp/show" 'alice@foreign\.example' "show FPR: no UID of a domain not hosted"
like "$out" 'published at: alice@example\.net' "show FPR lists where it is published"

# --- Key D: a passphrase-protected secret keypair with several UIDs.
D=$(keys_gen_pw 'Dave <dave@example.org>' 's3cret')
keys_adduid "$D" 'Dave <d@example.net>' 's3cret'
keys_adduid "$D" 'Dave <dave@gmail.example>' 's3cret'
keys_sec "$D" "$tmp/d.sec" 's3cret'
t=$($PKT tags "$tmp/d.sec")
case " $t " in *" 5 "*" 7 "*) r=0 ;; *) r=1 ;; esac
ok $r "key D exported as a secret keypair ($t)"
$PKT secrets "$tmp/d.sec" > "$tmp/d.secrets"
run $W import "$tmp/d.sec"
is "$rc" 0 "import a passphrase-protected secret keypair (no passphrase asked)"
like "$out" '^  published at dave@example\.org$' "D: published at dave@example.org"
like "$out" '^  published at d@example\.net$' "D: published at the alias d@example.net"
like "$out" 'dave@gmail\.example>: domain gmail\.example is not hosted' "D: foreign UID reported"
$W export dave@example.org -o "$tmp/d1.gpg"
check_blob "$tmp/d1.gpg" dave@example.org "$D" "D at dave@example.org"
keys_pub "$D" "$tmp/d.pub"
same_as_wks "$tmp/d1.gpg" "$tmp/d.pub" dave@example.org "$D" "D at dave@example.org"
gpg_accepts "$tmp/d1.gpg" 'Dave <dave@example.org>' "D at dave@example.org"
r=0
while read -r s; do
	$PKT contains "$S/data.mdb" "$s" && r=1
done < "$tmp/d.secrets"
ok $r "no secret key material of D in data.mdb"
mdb_dump -a "$S" > "$tmp/dump"
! grep -qi "$(head -1 "$tmp/d.secrets" | cut -c1-32)" "$tmp/dump"
ok $? "no secret key material of D in mdb_dump -a"

# An unprotected secret keypair, armored, from stdin.
keys_sec "$A" "$tmp/a.sec"
$PKT secrets "$tmp/a.sec" > "$tmp/a.secrets"
gpg --batch --pinentry-mode loopback --passphrase '' --export-secret-keys -a "$A" |
    $W import - > "$out" 2> "$err"
is "$?" 0 "import an armored unprotected secret keypair from stdin"
like "$out" "^key $A \(known: merged\)" "A again: merged into the stored key"
r=0
while read -r s; do
	$PKT contains "$S/data.mdb" "$s" && r=1
done < "$tmp/a.secrets"
ok $r "no secret key material of A in data.mdb"

# --- Mixed case, IDN, Unicode hash.
B=$(keys_gen 'Bob Smith <Bob.Smith@Example.ORG>')
M=$(keys_gen 'Max <max@münchen.de>')
U=$(keys_gen 'Äbc <ÄBC@example.org>')
keys_pub "$B" "$tmp/b.pub"; keys_pub "$M" "$tmp/m.pub"; keys_pub "$U" "$tmp/u.pub"
run $W import "$tmp/b.pub" "$tmp/m.pub" "$tmp/u.pub"
is "$rc" 0 "import three keys in one command"
like "$out" '^  published at bob\.smith@example\.org$' "mixed-case UID published at the lowercase address"
like "$out" '^  published at max@xn--mnchen-3ya\.de$' "IDN UID published at the A-label address"
like "$out" '^  published at Äbc@example\.org$' "ÄBC published (ASCII lowered only)"
$W export Bob.Smith@EXAMPLE.org -o "$tmp/b1.gpg"
check_blob "$tmp/b1.gpg" 'Bob.Smith@Example.ORG' "$B" "B (mixed case)"
same_as_wks "$tmp/b1.gpg" "$tmp/b.pub" 'Bob.Smith@Example.ORG' "$B" "B (mixed case)"
$W export 'max@münchen.de' -o "$tmp/m1.gpg"
check_blob "$tmp/m1.gpg" 'max@m.*nchen\.de' "$M" "M (IDN)"
same_as_wks "$tmp/m1.gpg" "$tmp/m.pub" 'max@münchen.de' "$M" "M (IDN)"
gpg_accepts "$tmp/m1.gpg" 'Max <max@münchen.de>' "M (IDN)"
mdb_dump -p -s wkd "$S" > "$tmp/wkd"
h=$($WKDCTL hash 'ÄBC@example.org' | awk '$1 == "hash" { print $2 }')
hu=$($WKDCTL hash 'ÄBC@example.org' | awk '$1 == "unicode-hash" { print $2 }')
like "$tmp/wkd" "example\.org/$h" "ÄBC served under the draft's hash"
like "$tmp/wkd" "example\.org/$hu" "ÄBC also served under the Unicode hash ($hu)"
# Once äbc@example.org is bound, that hash is its own: Äbc's extra entry
# goes, and removing Äbc's key later leaves äbc's entry alone.
run $W account add 'äbc@example.org'
is "$rc" 0 "account äbc@example.org (the Unicode lowering of Äbc)"
mdb_dump -p -s wkd "$S" > "$tmp/wkd"
unlike "$tmp/wkd" "example\.org/$hu" "Äbc's Unicode-hash entry gone once äbc is bound"
like "$tmp/wkd" "example\.org/$h" "Äbc's own entry stays"
U2=$(keys_gen 'Small <äbc@example.org>')
keys_pub "$U2" "$tmp/u2.pub"
run $W import "$tmp/u2.pub"
like "$out" 'published at äbc@example\.org$' "äbc published under its own hash"
run $W remove "$U"
is "$rc" 0 "remove Äbc's key"
mdb_dump -p -s wkd "$S" > "$tmp/wkd"
like "$tmp/wkd" "example\.org/$hu" "äbc's entry survives the removal of Äbc's key"
unlike "$tmp/wkd" "example\.org/$h" "Äbc's entry removed"
h=$($WKDCTL hash 'max@xn--mnchen-3ya.de' | awk '$1 == "hash" { print $2 }')
like "$tmp/wkd" "xn--mnchen-3ya\.de/$h" "IDN entry stored under the A-label"

# --- Bad self-signatures: the UID and the subkey they bind are dropped.
$W account add carol@example.org --alias carol2@example.org >/dev/null
C=$(keys_gen 'Carol <carol@example.org>')
keys_adduid "$C" 'Carol <carol2@example.org>'
keys_pub "$C" "$tmp/c.pub"
t=$($PKT tags "$tmp/c.pub")
# Packets: 6 13 2 13 2 14 2 (gpg lists the UIDs in the order added).
$PKT corrupt "$tmp/c.pub" "$tmp/c-bad.pub" 4 6
run $W import "$tmp/c-bad.pub"
is "$rc" 0 "import a key with a broken UID self-signature and binding ($t)"
like "$out" 'not published: Carol <carol2@example\.org>: no valid self-signature' "broken UID self-signature reported"
$W export carol@example.org -o "$tmp/c1.gpg"
is "$($PKT tags "$tmp/c1.gpg")" "6 13 2" "subkey with a broken binding dropped"
run $W show "$C"
unlike "$out" 'carol2' "UID with a broken self-signature not stored"

# Several keys in one armored file.
gpg --batch --armor --export "$B" "$C" > "$tmp/two.asc"
run $W import "$tmp/two.asc"
is "$rc" 0 "import two keys from one armored file"
is "$(grep -c '^key ' "$out")" 2 "both keys reported"

# --- --account: only that account's addresses.
run $W import --account alice@example.org "$tmp/b.pub"
is "$rc" 1 "import --account with another account's key refused"
like "$err" 'Bob\.Smith@Example\.ORG>: an address of another account' "--account: reason given"
like "$err" "key $B: refused" "--account: error names the key"
run $W import --account alice@example.net "$tmp/a.pub"
is "$rc" 0 "import --account given as an alias"

# --- Merge: a new subkey and a new expiry come in; the blob is rebuilt.
kgpg --passphrase '' --quick-add-key "$A" cv25519 encr never 2>/dev/null
kgpg --passphrase '' --quick-set-expire "$A" 5y 2>/dev/null
keys_pub "$A" "$tmp/a2.pub"
run $W import "$tmp/a2.pub"
is "$rc" 0 "re-import A with a new subkey and expiry"
like "$out" '\(known: merged\)' "re-import merges"
$W export alice@example.org -o "$tmp/a3.gpg"
is "$(summary "$tmp/a3.gpg" | grep -c '^sub')" 2 "merged blob has both subkeys"
check_blob "$tmp/a3.gpg" alice@example.org "$A" "A merged"
same_as_wks "$tmp/a3.gpg" "$tmp/a2.pub" alice@example.org "$A" "A merged (newest self-signature only)"

# --- Replacement: another key for alice@example.org.
A2=$(keys_gen 'Alice New <alice@example.org>')
keys_pub "$A2" "$tmp/anew.pub"
run $W import "$tmp/anew.pub"
is "$rc" 0 "import another key for alice@example.org"
like "$out" "published at alice@example\.org \(replaces key $A\)" "replacement is reported"
$W export alice@example.org -o "$tmp/anew.gpg"
like "$tmp/anew.gpg" 'Alice New' "alice@example.org now serves the new key"
run $W show alice@example.net
like "$out" "key: $A" "alice@example.net still serves the old key"

# --- A revoked key: the revocation is merged and published (clients learn
# of it); the address keeps serving that key.
keys_revoke "$B"
keys_pub "$B" "$tmp/b-rev.pub"
run $W import "$tmp/b-rev.pub"
is "$rc" 0 "import the revoked key B"
like "$out" "^key $B \(known: merged\) \[revoked\]" "report says the key is revoked"
$W export bob.smith@example.org -o "$tmp/b-rev.gpg"
summary "$tmp/b-rev.gpg" > "$tmp/sum"
like "$tmp/sum" "^sig 0x20 $(keyid "$B")" "the served key carries its revocation signature"
same_as_wks "$tmp/b-rev.gpg" "$tmp/b-rev.pub" 'Bob.Smith@Example.ORG' "$B" "B revoked"

# --- Retiring an alias takes its entry down, for good.
hn=$($WKDCTL hash alice@example.net | awk '$1 == "hash" { print $2 }')
run $W alias remove alice@example.org alice@example.net
is "$rc" 0 "alias remove"
mdb_dump -p -s wkd "$S" > "$tmp/wkd"
unlike "$tmp/wkd" "example\.net/$hn" "retired alias: its entry is gone"
run $W import "$tmp/a2.pub"
like "$out" 'alice@example\.net>: retired alias of account alice@example\.org' "retired alias not republished"
like "$out" "Alice <alice@example\.org>: the key was superseded by $A2" "the old key, imported again, does not take its address back"
run $W show alice@example.org
like "$out" "key: $A2" "alice@example.org still serves the new key"

# --- A retired alias of the same account can come back: it is published
# at once from the stored key that has a UID for it.
run $W alias add alice@example.org alice@example.net
is "$rc" 0 "retired alias re-added to its own account"
like "$out" "published at alice@example\.net \(key $A\)" "re-added alias published from the stored key"
$W export alice@example.net -o "$tmp/a-back.gpg"
check_blob "$tmp/a-back.gpg" alice@example.net "$A" "A at the re-added alias"
run $W alias add alice@example.org new@example.org
like "$out" 'no key of the account has a UID for it' "new alias without a UID: says so"

# --- remove: the key and everything published from it.
run $W remove "$D"
is "$rc" 0 "remove D"
like "$out" 'unpublished: dave@example\.org' "remove lists what it unpublished"
run $W export dave@example.org -o "$tmp/x"
is "$rc" 1 "removed key not exported"
like "$err" 'no key published' "removed key: message"
mdb_dump -s certs "$S" | grep -c . > /dev/null
run $W show "$D"
is "$rc" 1 "removed key is gone from the store"
hd=$($WKDCTL hash d@example.net | awk '$1 == "hash" { print $2 }')
mdb_dump -p -s wkd "$S" > "$tmp/wkd"
unlike "$tmp/wkd" "example\.net/$hd" "removed key: alias entry gone too"

# --- Removing a domain takes its entries down; its addresses stay bound.
run $W domain remove münchen.de
is "$rc" 0 "domain remove"
like "$out" '1 address unpublished' "domain remove: says what it unpublished"
mdb_dump -p -s wkd "$S" > "$tmp/wkd"
unlike "$tmp/wkd" 'xn--mnchen-3ya' "domain remove: no entry left under the domain"
run $W account add 'other@münchen.de'
is "$rc" 1 "removed domain: no new account there"
$W domain add münchen.de >/dev/null
run $W account show 'max@münchen.de'
like "$out" '^account max@xn--mnchen-3ya\.de' "domain added again: its account is still there"
run $W import "$tmp/m.pub"
like "$out" 'published at max@xn--mnchen-3ya\.de' "and its key can be published again"

run $W log alice@example.org
like "$out" "alice@example\.org: published key $A2 \(replaces $A\)$" "log: replacement"
run $W log "$D"
like "$out" "$D: key removed$" "log: key removed"
run $W log dave@example.org
like "$out" "dave@example\.org: unpublished key $D: key removed$" "log: address unpublished by remove"

run $W list
like "$out" "^alice@example\.org	$A2	valid$" "list shows the current key and its state"
run $W list example.net
unlike "$out" 'example\.org' "list DOMAIN filters"

finish
