#!/bin/sh
# t_lifecycle_keys: key updates and replacement, UID revocation, expired
# keys, unpublish/publish, account removal, and the audit log, each
# checked on what a running wkdd serves right after the wkdctl command.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"
# shellcheck disable=SC2034 # keys.sh uses $tmp.
tmp=$T
. "$TOP/tests/integ/keys.sh"

need curl certtool gpg
need_wkdctl
keys_init

make_certs a.test '*.a.test'
make_store a.test
ctl account add alice@a.test --alias al@a.test >/dev/null &&
ctl account add bob@a.test >/dev/null &&
ctl account add carol@a.test --alias c2@a.test >/dev/null &&
ctl account add dave@a.test --alias d2@a.test >/dev/null &&
ctl account add erin@a.test >/dev/null &&
ctl account add old@a.test >/dev/null &&
ctl account add other@a.test >/dev/null
setup "store with accounts" [ $? -eq 0 ]

write_conf
# shellcheck disable=SC2119 # no argument: the default conf.
start_wkdd || finish

# get ADDR: what wkdd serves for ADDR (advanced method) into $T/body.
get() {
	fetch "openpgpkey.a.test" \
	    "/.well-known/openpgpkey/a.test/hu/$(hash_of "$1")?l=${1%@*}"
}

# keys_served: "FPR:VALIDITY:EXPIRY" for each key in $T/body, in order.
keys_served() {
	gpg --batch --with-colons --show-keys "$T/body" 2>/dev/null | awk -F: '
	    $1 == "pub" { v = $2; e = $7; want = 1; next }
	    $1 == "fpr" && want { print $10 ":" v ":" e; want = 0 }'
}

# --- Update: expiry extended and a subkey added in gpg, re-imported; both
# addresses of the key serve the merged key at once.
A=$(keys_gen 'Alice <alice@a.test>' ed25519)
keys_adduid "$A" 'Alice <al@a.test>'
kgpg --passphrase '' --quick-set-expire "$A" 1y 2>/dev/null
keys_pub "$A" "$T/a1.pub"
ctl import "$T/a1.pub" >/dev/null 2>&1
get alice@a.test
e1=$(keys_served | cut -d: -f3)
check "A served with its first expiry" [ -n "$e1" ]
kgpg --passphrase '' --quick-set-expire "$A" 3y 2>/dev/null
kgpg --passphrase '' --quick-add-key "$A" cv25519 encr 3y 2>/dev/null
keys_pub "$A" "$T/a2.pub"
want=$(gpg --batch --with-colons --show-keys "$T/a2.pub" |
    awk -F: '$1 == "pub" { print $7; exit }')
ctl import "$T/a2.pub" > "$T/out" 2>&1
check "re-import of A merges" grep -q "^key $A (known: merged)" "$T/out"
for addr in alice@a.test al@a.test; do
	get "$addr"
	is "$(keys_served)" "$A:-:$want" "$addr: served key carries the new expiry"
	n=$(gpg --batch --list-packets "$T/body" 2>/dev/null |
	    grep -c '^:public sub key packet:')
	is "$n" 1 "$addr: served key carries the new subkey"
done
check "new expiry is later than the old one" [ "$want" -gt "$e1" ]

# --- Expired keys keep being served; list and show say since when.
kgpg --faked-system-time 20200101T000000 --passphrase '' \
    --quick-gen-key 'Old <old@a.test>' ed25519 default 1y 2>/dev/null
O1=$(kgpg --with-colons --list-keys '=Old <old@a.test>' 2>/dev/null |
    awk -F: '$1 == "fpr" { print $10; exit }')
keys_pub "$O1" "$T/old.pub"
ctl import "$T/old.pub" > "$T/out" 2>&1
check "an expired key is imported" grep -q "^key $O1 \[expired\]" "$T/out"
get old@a.test
is "$STATUS" 200 "the expired key is served"
ctl list > "$T/out"
check "list: expired (since 2021-...)" \
    grep -q "^old@a.test	$O1	expired (since 2020-12-3[01]\|^old@a.test	$O1	expired (since 2021-01-0" "$T/out"
ctl show "$O1" > "$T/out"
check "show: state expired" grep -q '^  state: expired (since 202' "$T/out"
check "show: which addresses serve it" \
    grep -q '^  published at: old@a.test$' "$T/out"

# --- Replacement, domain default (keep-revoked off): only the new key.
B1=$(keys_gen 'Bob <bob@a.test>' ed25519)
keys_sec "$B1" "$T/b1.sec"
ctl import "$T/b1.sec" >/dev/null 2>&1
B2=$(keys_gen 'Bob New <bob@a.test>' ed25519)
keys_pub "$B2" "$T/b2.pub"
ctl import "$T/b2.pub" > "$T/out" 2>&1
check "replacement reported" \
    grep -q "published at bob@a.test (replaces key $B1)" "$T/out"
get bob@a.test
is "$(keys_served)" "$B2:-:" "bob@a.test serves only the new key"
ctl show "$B1" > "$T/out"
check "show: old key superseded by the new one" \
    grep -q "^  state: valid, superseded by $B2" "$T/out"
ctl revoke --reason superseded "$B1" > "$T/out" 2>&1
is "$?" 0 "revoke the superseded key (stored certificate)"
get bob@a.test
is "$(keys_served)" "$B2:-:" "keep-revoked off: still only the new key"
# Re-importing the old key does not take the address back.
ctl import "$T/b1.sec" > "$T/out" 2>&1
check "old key re-imported: not published, says why" \
    grep -q "not published: Bob <bob@a.test>: a revoked key does not replace" "$T/out"
get bob@a.test
is "$(keys_served)" "$B2:-:" "... bob@a.test still serves the new key"

# --- keep-revoked on: new key first, then the revoked predecessor.
ctl domain set a.test keep-revoked on > "$T/out" 2>&1
is "$?" 0 "domain set a.test keep-revoked on"
get bob@a.test
is "$(keys_served | tr '\n' ' ')" "$B2:-: $B1:r: " \
    "keep-revoked: new key, then the revoked old one"
n=$(gpg --batch --with-colons --show-keys "$T/body" 2>/dev/null |
    grep -c '^uid:')
is "$n" 2 "... each with its one UID"
check "... total within 256 KiB" [ "$(body_size)" -le 262144 ]
h=$T/gk
mkdir -p "$h" && chmod 700 "$h"
GNUPGHOME=$h gpg --batch --quiet --import "$T/body" 2>/dev/null
GNUPGHOME=$h gpg --batch --check-sigs "$B1" > "$T/check" 2>&1
check "gpg verifies the predecessor's revocation" grep -q '^rev!' "$T/check"
GNUPGHOME=$h gpgconf --kill all >/dev/null 2>&1
# Not revoked: a replaced key is not served alongside.
E1=$(keys_gen 'Erin <erin@a.test>' ed25519)
keys_pub "$E1" "$T/e1.pub"
ctl import "$T/e1.pub" >/dev/null 2>&1
E2=$(keys_gen 'Erin New <erin@a.test>' ed25519)
keys_pub "$E2" "$T/e2.pub"
ctl import "$T/e2.pub" >/dev/null 2>&1
get erin@a.test
is "$(keys_served)" "$E2:-:" "keep-revoked: a valid predecessor is not served"
# Its revocation arriving later (re-import): served at once behind E2.
keys_revoke "$E1"
keys_pub "$E1" "$T/e1r.pub"
ctl import "$T/e1r.pub" > "$T/out" 2>&1
is "$?" 0 "revoked predecessor re-imported"
get erin@a.test
is "$(keys_served | tr '\n' ' ')" "$E2:-: $E1:r: " \
    "... now served after the new key"
# Removing the predecessor takes it out of what is served.
ctl remove "$E1" > "$T/out" 2>&1
is "$?" 0 "remove the revoked predecessor"
get erin@a.test
is "$(keys_served)" "$E2:-:" "... erin@a.test serves the new key alone"
ctl domain set a.test keep-revoked off >/dev/null 2>&1
get bob@a.test
is "$(keys_served)" "$B2:-:" "keep-revoked off again: only the new key"

# --- UID revocation unpublishes that address only.
C=$(keys_gen 'Carol <carol@a.test>' ed25519)
keys_adduid "$C" 'Carol <c2@a.test>'
keys_pub "$C" "$T/c1.pub"
ctl import "$T/c1.pub" >/dev/null 2>&1
get c2@a.test
is "$STATUS" 200 "c2@a.test served"
keys_revuid "$C" 'Carol <c2@a.test>'
keys_pub "$C" "$T/c2.pub"
ctl import "$T/c2.pub" > "$T/out" 2>&1
check "UID revocation: reported" \
    grep -q 'unpublished: c2@a.test (its UID is revoked' "$T/out"
get c2@a.test
is "$STATUS" 404 "revoked UID's address: 404"
get carol@a.test
is "$(keys_served)" "$C:-:" "the key's other address still served"

# --- unpublish / publish.
ctl unpublish al@a.test > "$T/out" 2>&1
is "$?" 0 "unpublish al@a.test"
get al@a.test
is "$STATUS" 404 "unpublished: 404"
get alice@a.test
is "$STATUS" 200 "the key's other address still served"
ctl import "$T/a2.pub" > "$T/out" 2>&1
check "import does not re-publish it, and says so" \
    grep -q 'Alice <al@a.test>: unpublished by the operator' "$T/out"
get al@a.test
is "$STATUS" 404 "... still 404"
ctl publish al@a.test > "$T/out" 2>&1
is "$?" 0 "publish al@a.test"
check "publish names the key" grep -q "(key $A)" "$T/out"
get al@a.test
is "$(keys_served)" "$A:-:$want" "published again: A served"

# publish takes the successor, not a superseded key that another address
# of the account still serves.
ctl account add frank@a.test --alias fr@a.test >/dev/null 2>&1
F1=$(keys_gen 'Frank <frank@a.test>' ed25519)
keys_adduid "$F1" 'Frank <fr@a.test>'
keys_pub "$F1" "$T/f1.pub"
ctl import "$T/f1.pub" >/dev/null 2>&1
F2=$(keys_gen 'Frank New <frank@a.test>' ed25519)
keys_pub "$F2" "$T/f2.pub"
ctl import "$T/f2.pub" > "$T/out" 2>&1
check "F2 replaces F1 at frank@a.test" \
    grep -q "published at frank@a.test (replaces key $F1)" "$T/out"
ctl unpublish frank@a.test >/dev/null 2>&1 &&
    ctl publish frank@a.test > "$T/out" 2>&1
is "$?" 0 "unpublish, publish frank@a.test"
check "publish names the successor" grep -q "(key $F2)" "$T/out"
get frank@a.test
is "$(keys_served)" "$F2:-:" "published again: the successor served"
get fr@a.test
is "$(keys_served)" "$F1:-:" "... the old key still at fr@a.test"

# publish never falls back on a key imported for another account: Mallory
# imports a key that also names Ivan's address (refused for Ivan), and
# Ivan's unpublish + publish must not give Ivan Mallory's key.
ctl account add ivan@a.test >/dev/null 2>&1 &&
    ctl account add mallory@a.test >/dev/null 2>&1
I=$(keys_gen 'Ivan <ivan@a.test>' ed25519)
keys_pub "$I" "$T/i.pub"
ctl import "$T/i.pub" >/dev/null 2>&1
M=$(keys_gen 'Mallory <mallory@a.test>' ed25519)
keys_adduid "$M" 'Ivan <ivan@a.test>'
keys_pub "$M" "$T/m.pub"
ctl import --account mallory@a.test "$T/m.pub" > "$T/out" 2>&1
check "Mallory's key: Ivan's UID refused" \
    grep -q 'Ivan <ivan@a.test>: an address of another account' "$T/out"
ctl unpublish ivan@a.test >/dev/null 2>&1
ctl remove "$I" >/dev/null 2>&1
ctl publish ivan@a.test > "$T/out" 2>&1
check "publish ivan@a.test: Mallory's key is not taken" \
    grep -vq "$M" "$T/out"
get ivan@a.test
is "$STATUS" 404 "ivan@a.test: nothing served, not Mallory's key"
ctl alias add ivan@a.test iv@a.test >/dev/null 2>&1
get ivan@a.test
is "$STATUS" 404 "ivan@a.test: still nothing after alias add"

# --- Account removal: everything unpublished, addresses kept for good.
D=$(keys_gen 'Dave <dave@a.test>' ed25519)
keys_adduid "$D" 'Dave <d2@a.test>'
keys_pub "$D" "$T/d.pub"
ctl import "$T/d.pub" >/dev/null 2>&1
ctl account remove dave@a.test > "$T/out" 2>&1
is "$?" 0 "account remove dave@a.test"
check "account remove: says what stays bound" grep -q \
    "^account dave@a.test removed: 2 addresses unpublished; its 2 addresses stay bound and can't be reused$" \
    "$T/out"
ctl account add gina@a.test >/dev/null 2>&1 &&
    ctl account remove gina@a.test > "$T/out" 2>&1
check "account remove, one address: singular" grep -q \
    "^account gina@a.test removed: 0 addresses unpublished; its 1 address stays bound and can't be reused$" \
    "$T/out"
get dave@a.test
is "$STATUS" 404 "removed account: primary 404"
get d2@a.test
is "$STATUS" 404 "removed account: alias 404"
ctl account add d2@a.test > "$T/out" 2>&1
is "$?" 1 "its alias can't become another account"
ctl alias add other@a.test d2@a.test > "$T/out" 2>&1
is "$?" 1 "its alias can't be claimed by another account"
ctl alias add other@a.test dave@a.test > "$T/out" 2>&1
is "$?" 1 "its primary can't be claimed by another account"
ctl account add dave@a.test > "$T/out" 2>&1
is "$?" 1 "the account can't be added again"
ctl import "$T/d.pub" > "$T/out" 2>&1
check "import: not published, account removed" \
    grep -q 'Dave <dave@a.test>: account dave@a.test was removed' "$T/out"
ctl import --account other@a.test "$T/d.pub" > "$T/out" 2>&1
is "$?" 1 "import --account other: the key can't go there"
get d2@a.test
is "$STATUS" 404 "... d2@a.test still 404"
ctl publish d2@a.test > "$T/out" 2>&1
is "$?" 1 "publish refused for a removed account's address"

# --- The audit log: every operation above, with operator and command.
ctl log > "$T/log"
me=$(id -un)
for re in \
    "$A: certificate merged" \
    "alice@a.test: published key $A" \
    "$B1: key $B1: superseded by $B2 at bob@a.test" \
    "bob@a.test: published key $B2 \\(replaces $B1\\)" \
    "$B1: key $B1: valid, superseded by $B2 -> revoked \\(superseded" \
    "a.test: keep-revoked off -> on" \
    "bob@a.test: republished key $B2, then revoked key $B1" \
    "a.test: keep-revoked on -> off" \
    "c2@a.test: unpublished key $C: its UID is revoked" \
    "al@a.test: published key $A -> unpublished by the operator" \
    "al@a.test: unpublished -> published key $A" \
    "dave@a.test: unpublished key $D: account removed" \
    "d2@a.test: unpublished key $D: account removed" \
    "dave@a.test: account active -> removed"; do
	if grep -Eq "^[0-9-]+T[0-9:]+Z $me $re" "$T/log"; then
		pass "log: $re"
	else
		fail "log: $re"
	fi
done
ctl log -v "$B1" > "$T/out"
check "log -v: the command of each change" \
    grep -q "^    command: $WKDCTL -s $STORE revoke --reason superseded $B1$" "$T/out"
ctl log bob@a.test > "$T/out"
check "log ADDR: that address's entries only" \
    sh -c "! grep -v 'bob@a.test' '$T/out' | grep -q ."
ctl log --since 2999-01-01 > "$T/out"
is "$(wc -c < "$T/out" | tr -d ' ')" 0 "log --since the future: nothing"
ctl log --since "$(date -u +%Y-%m-%d)" > "$T/out"
check "log --since today: everything" [ "$(wc -l < "$T/out")" -eq "$(wc -l < "$T/log")" ]
ctl log --since yesterday > "$T/out" 2>&1
is "$?" 2 "log --since with a bad time: usage error"
ctl log --json "$B1" > "$T/json"
if command -v node >/dev/null 2>&1; then
	node -e '
	    const a = JSON.parse(require("fs").readFileSync(process.argv[1]));
	    const ok = Array.isArray(a) && a.length > 0 && a.every(e =>
		e.user && e.time && e.command.startsWith(process.argv[2]) &&
		typeof e.seq === "number" && e.subject && e.detail);
	    process.exit(ok ? 0 : 1);' "$T/json" "$WKDCTL" 2>"$T/err"
	check "log --json: an array of entries with user, time, command" [ $? -eq 0 ]
else
	skip "node not installed (log --json check)"
fi
check "log --json has the revocation" grep -q 'revoked (superseded' "$T/json"

check_wkdd "after the lifecycle"
finish
