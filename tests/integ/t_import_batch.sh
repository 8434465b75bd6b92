#!/bin/sh
# t_import_batch: one keyring with everything a provider's keyring holds —
# good keys, keys for foreign domains only, a run of garbage, a truncated
# key, a revocation certificate alone, two keys for one address in both
# orders, a key spanning two accounts — imported in one command: the good
# keys are published, every other one reported with its reason, the
# summary line and exit status say so, and what wkdd serves is exactly
# what the report says was published.  Then --json, --strict, and a later
# import of an older key.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"
# shellcheck disable=SC2034 # keys.sh uses $tmp.
tmp=$T
. "$TOP/tests/integ/keys.sh"

need curl certtool gpg node
need_wkdctl
keys_init

make_certs b.test '*.b.test' c.test '*.c.test'
make_store b.test c.test
ctl account add alice@b.test >/dev/null &&
ctl account add bob@b.test >/dev/null &&
ctl account add dave@b.test >/dev/null &&
ctl account add erin@b.test >/dev/null &&
ctl account add carol@c.test >/dev/null
setup "store with five accounts over two domains" [ $? -eq 0 ]

# Two keys for dave@b.test: the old one self-signed a year ago.
D1=$(kgpg --faked-system-time 20251101T120000 --passphrase "" \
    --quick-gen-key 'Dave (old) <dave@b.test>' ed25519 default never \
    2>/dev/null; kgpg --with-colons --list-keys '=Dave (old) <dave@b.test>' |
    awk -F: '$1 == "fpr" { print $10; exit }')
D2=$(keys_gen 'Dave <dave@b.test>' ed25519)
A=$(keys_gen 'Alice <alice@b.test>' ed25519)
B=$(keys_gen 'Bob <bob@b.test>' ed25519)
C=$(keys_gen 'Carol <carol@c.test>' ed25519)
F=$(keys_gen 'Frank <frank@foreign.example>' ed25519)
X=$(keys_gen 'Erin <erin@b.test>' ed25519)
keys_adduid "$X" 'Carol <carol@c.test>'
setup "keys made" [ "${#D1}${#D2}${#A}${#X}" = 40404040 ]
for k in A B C F X D1 D2; do
	eval "keys_pub \$$k $T/$k.pub"
done
head -c 3000 /dev/urandom | tr '\200-\377' '\000-\177' > "$T/garbage"
sz=$(wc -c < "$T/B.pub")
head -c $((sz - 9)) "$T/B.pub" > "$T/B.trunc"
sed 's/^:-----/-----/' "$GNUPGHOME/openpgp-revocs.d/$F.rev" |
    kgpg --dearmor > "$T/F.rev" 2>/dev/null
setup "a revocation certificate made" [ -s "$T/F.rev" ]

# The keyring: old Dave before new Dave here; the other order below.
cat "$T/F.rev" "$T/A.pub" "$T/garbage" "$T/F.pub" "$T/X.pub" "$T/D1.pub" \
    "$T/D2.pub" "$T/C.pub" "$T/B.trunc" > "$T/ring1"
off_garbage=$(($(wc -c < "$T/F.rev") + $(wc -c < "$T/A.pub")))
ctl import "$T/ring1" > "$T/out" 2> "$T/err"
rc=$?
is "$rc" 3 "mixed keyring: exit 3 (some keys skipped or failed, the rest imported)"
check "summary line: published, skipped, failed and superseded counted" \
    grep -q "^9 keys: 3 published, 0 unchanged, 2 skipped, 3 failed, 1 superseded$" "$T/out"
grep '^[0-9]* keys:' "$T/out" | sed 's/^/# /'
check "alice published" grep -q "^  published at alice@b.test$" "$T/out"
check "carol published (her own key)" grep -q "^  published at carol@c.test$" "$T/out"
check "garbage reported with its byte offset" \
    grep -q "ring1: not a valid OpenPGP key at byte $off_garbage " "$T/err"
check "the truncated key reported as not valid" \
    grep -Eq "ring1: not a valid OpenPGP key at byte [0-9]+" "$T/err"
check "the foreign-only key skipped, by fingerprint" \
    grep -q "key $F: refused: no UID with an address of an account here" "$T/err"
check "its UID's reason" grep -q "frank@foreign.example>: domain foreign.example is not hosted" "$T/out"
check "the key spanning two accounts publishes for neither" \
    grep -q "key $X: refused: it spans accounts .* and .*: use --account" "$T/err"
check "the lone revocation certificate: use revoke --certificate" \
    grep -q "without a key (a revocation certificate goes to \"wkdctl revoke --certificate" "$T/err"
check "the old Dave key reported superseded" \
    grep -A3 "^key $D1" "$T/out" | grep -q "superseded by $D2, a newer key later in this import"
check "the new Dave key published" \
    grep -A3 "^key $D2" "$T/out" | grep -q "published at dave@b.test"

# Served: what the report says, nothing else.
write_conf
# shellcheck disable=SC2119 # no argument: the default conf.
start_wkdd || finish
served() {	# served ADDR DOMAIN: fingerprints wkdd serves for ADDR
	fetch "openpgpkey.$2" "/.well-known/openpgpkey/$2/hu/$(hash_of "$1")"
	if [ "$STATUS" != 200 ]; then echo "status $STATUS"; return; fi
	gpg --batch --with-colons --show-keys "$T/body" 2>/dev/null |
	    awk -F: '$1 == "fpr" && !seen[$10]++ && p { print $10 } $1 == "pub" { p = 1 } $1 == "sub" { p = 0 }' |
	    head -n 1
}
is "$(served alice@b.test b.test)" "$A" "wkdd serves alice's key"
is "$(served carol@c.test c.test)" "$C" "wkdd serves carol's own key, not the spanning one"
is "$(served dave@b.test b.test)" "$D2" "wkdd serves the newer Dave key"
is "$(served erin@b.test b.test)" "status 404" "erin (only in the spanning key): nothing served"
is "$(served bob@b.test b.test)" "status 404" "bob (only truncated): nothing served"
ctl export dave@b.test -o "$T/dave.pgp" >/dev/null 2>&1
fetch "openpgpkey.b.test" "/.well-known/openpgpkey/b.test/hu/$(hash_of dave@b.test)"
check "dave: the bytes served are wkdctl export's" cmp -s "$T/body" "$T/dave.pgp"
ctl show "$D1" > "$T/show" 2>&1
check "show: the old Dave key is superseded by the new" grep -q "superseded by $D2" "$T/show"

# The other order, into a store of its own: new Dave first, then old.
STORE1=$STORE
STORE=$T/store2
make_store b.test
ctl account add dave@b.test >/dev/null
cat "$T/D2.pub" "$T/D1.pub" > "$T/ring2"
ctl import "$T/ring2" > "$T/out2" 2> "$T/err2"
is "$?" 0 "new key then old: exit 0 (both stored)"
check "new key then old: summary" grep -q "^2 keys: 1 published, 0 unchanged, 0 skipped, 0 failed, 1 superseded$" "$T/out2"
ctl export dave@b.test -o "$T/dave2.pgp" >/dev/null 2>&1
check "new key then old: the newer key is published" \
    sh -c "gpg --batch --with-colons --show-keys '$T/dave2.pgp' | grep -q 'fpr:::::::::$D2:'"
# A later import of the old key alone changes nothing served.
ctl import "$T/D1.pub" > "$T/out3" 2>&1
check "the old key imported later: not published, superseded" \
    grep -Eq "superseded: the key served \($D2\) is newer|the key was superseded by $D2" "$T/out3"
ctl export dave@b.test -o "$T/dave3.pgp" >/dev/null 2>&1
check "the old key imported later: the newer key still served" cmp -s "$T/dave2.pgp" "$T/dave3.pgp"
# The same keyring again: unchanged.
ctl import "$T/ring2" > "$T/out4" 2>&1
check "the same keyring again: nothing changed" \
    grep -q "^2 keys: 0 published, 1 unchanged, 0 skipped, 0 failed, 1 superseded$" "$T/out4"
STORE=$STORE1

# --json: the same report, machine-readable.
ctl import --json "$T/ring1" > "$T/json" 2>/dev/null
node -e '
	const r = JSON.parse(require("fs").readFileSync(process.argv[1]));
	const by = {};
	for (const k of r.keys) by[k.fingerprint || "@" + k.offset] = k.status;
	const want = process.argv.slice(2);
	let bad = 0;
	for (let i = 0; i < want.length; i += 2)
		if (by[want[i]] !== want[i + 1]) {
			console.log("# " + want[i] + ": " + by[want[i]]);
			bad = 1;
		}
	if (!r.committed || r.summary.skipped !== 2 || r.summary.failed !== 3)
		bad = 1;
	process.exit(bad);
' "$T/json" "$A" unchanged "$F" skipped "$X" skipped "$D2" unchanged \
    "$D1" superseded "@$off_garbage" failed
check "--json: every key with its status, the summary counts" [ $? -eq 0 ]

# --strict: the same keyring is all or nothing.
before=$(sha256sum "$STORE/data.mdb")
ctl import --strict "$T/ring1" > "$T/out5" 2> "$T/err5"
is "$?" 1 "--strict: exit 1"
check "--strict: the store is unchanged" [ "$(sha256sum "$STORE/data.mdb")" = "$before" ]
check "--strict: says so" grep -q "import failed: the store is unchanged" "$T/err5"
check "--strict: nothing on stdout" [ ! -s "$T/out5" ]

# Nothing importable: exit 1, store unchanged.
ctl import "$T/F.pub" "$T/garbage" > "$T/out6" 2> "$T/err6"
is "$?" 1 "only foreign keys and garbage: exit 1"
check "only foreign keys and garbage: the store is unchanged" \
    [ "$(sha256sum "$STORE/data.mdb")" = "$before" ]

# A large input is imported a batch at a time (WKDCTL_IMPORT_BATCH keys;
# 2 here): each batch reported and committed as it is done, the JSON
# report still one object.  Into a store of its own.
STORE=$T/store3
make_store b.test c.test
for a in alice@b.test bob@b.test dave@b.test erin@b.test carol@c.test; do
	ctl account add "$a" >/dev/null || break
done
setup "store 3 with the five accounts" [ $? -eq 0 ]
WKDCTL_IMPORT_BATCH=2 ctl import --json "$T/ring1" > "$T/json3" 2> "$T/err3"
is "$?" 3 "in batches of 2: exit 3, as in one"
node -e '
	const r = JSON.parse(require("fs").readFileSync(process.argv[1]));
	const by = {};
	for (const k of r.keys) by[k.fingerprint || "@" + k.offset] = k.status;
	let bad = r.keys.length !== 9 || r.committed !== true ||
	    r.summary.keys !== 9 || r.summary.failed !== 3 ||
	    r.summary.skipped !== 2 || by[process.argv[2]] !== "published" ||
	    by[process.argv[3]] !== "skipped" ||
	    by[process.argv[4]] !== "skipped" ||
	    by[process.argv[5]] !== "published";
	if (bad)
		console.log("# " + JSON.stringify(r.summary));
	process.exit(bad ? 1 : 0);
' "$T/json3" "$A" "$F" "$X" "$D2"
check "in batches: one JSON object, every key, the summary" [ $? -eq 0 ]
ctl export dave@b.test -o "$T/dave4.pgp" >/dev/null 2>&1
check "in batches: the newer Dave key is served (the older in another batch)" \
    sh -c "gpg --batch --with-colons --show-keys '$T/dave4.pgp' | grep -q 'fpr:::::::::$D2:'"
ctl export alice@b.test -o "$T/alice4.pgp" >/dev/null 2>&1
STORE=$STORE1 ctl export alice@b.test -o "$T/alice1.pgp" >/dev/null 2>&1
check "in batches: alice's blob as in one batch" cmp -s "$T/alice1.pgp" "$T/alice4.pgp"
# From a pipe, in batches, again: nothing changes.
WKDCTL_IMPORT_BATCH=2 ctl import - < "$T/ring1" > "$T/out7" 2> "$T/err7"
is "$?" 3 "in batches from stdin: exit 3"
check "in batches from stdin: the summary counts all nine" \
    grep -q "^9 keys: 0 published, 3 unchanged, 2 skipped, 3 failed, 1 superseded$" "$T/out7"
grep '^[0-9]* keys:' "$T/out7" | sed 's/^/# /'
check "in batches from stdin: garbage reported at its offset in the stream" \
    grep -q "(stdin): not a valid OpenPGP key at byte $off_garbage " "$T/err7"
# --strict in batches: still one transaction, all or nothing.
before=$(sha256sum "$STORE/data.mdb")
WKDCTL_IMPORT_BATCH=2 ctl import --strict "$T/ring1" > "$T/out8" 2> "$T/err8"
is "$?" 1 "--strict in batches: exit 1"
check "--strict in batches: the store is unchanged" \
    [ "$(sha256sum "$STORE/data.mdb")" = "$before" ]
check "--strict in batches: says so" \
    grep -q "import failed: the store is unchanged" "$T/err8"
STORE=$STORE1

check_wkdd "batch imports"
stop_wkdd
finish
