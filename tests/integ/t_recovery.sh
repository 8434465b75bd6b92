#!/bin/sh
# t_recovery: mistakes undone from the store, checked on what wkdd serves:
# a remove of the newer key (republish serves the older one again, and no
# listing names the removed key), a domain removed and added again
# (republish DOMAIN brings its addresses back), an unpublish (republish
# --account), export --key of a stored certificate, and the audit log's
# operator under sudo.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"
# shellcheck disable=SC2034 # keys.sh uses $tmp.
tmp=$T
. "$TOP/tests/integ/keys.sh"

need curl certtool gpg
need_wkdctl
keys_init

make_certs r.test '*.r.test'
make_store r.test
ctl account add ann@r.test --alias a.n@r.test >/dev/null
setup "an account with an alias" [ $? -eq 0 ]

fpr_of() {	# fpr_of UID: the fingerprint of the key with that UID
	kgpg --with-colons --list-keys "=$1" | awk -F: '$1 == "fpr" { print $10; exit }'
}
kgpg --faked-system-time 20251101T120000 --passphrase "" --quick-gen-key \
    'Ann <ann@r.test>' future-default default never 2>/dev/null
OLD=$(fpr_of 'Ann <ann@r.test>')
keys_adduid "$OLD" 'Ann <a.n@r.test>'
NEW=$(keys_gen 'Ann (2026) <ann@r.test>')
keys_adduid "$NEW" 'Ann (2026) <a.n@r.test>'
keys_pub "$OLD" "$T/old.pub"
keys_pub "$NEW" "$T/new.pub"
setup "two keys for Ann, the newer one later" [ ${#OLD}${#NEW} = 4040 ]
ctl import "$T/old.pub" "$T/new.pub" > "$T/out" 2>&1
check "both imported" grep -q "^2 keys: 1 published, 0 unchanged, 0 skipped, 0 failed, 1 superseded$" "$T/out"

write_conf
# shellcheck disable=SC2119 # no argument: the default conf.
start_wkdd || finish
served() {	# served ADDR: the primary fingerprint wkdd serves for ADDR
	fetch openpgpkey.r.test "/.well-known/openpgpkey/r.test/hu/$(hash_of "$1")"
	if [ "$STATUS" != 200 ]; then echo "status $STATUS"; return; fi
	gpg --batch --with-colons --show-keys "$T/body" 2>/dev/null |
	    awk -F: '$1 == "pub" { p = 1; next } $1 == "fpr" && p { print $10; exit }'
}
is "$(served ann@r.test)" "$NEW" "the newer key is served"

# remove the newer key by mistake: nothing is served, and nothing names it.
ctl remove "$NEW" >/dev/null 2>&1
is "$(served ann@r.test)" "status 404" "after remove: ann@r.test serves nothing"
ctl list > "$T/list" 2>&1
ctl show "$OLD" > "$T/show" 2>&1
check "list never names the removed key" sh -c "! grep -q '$NEW' '$T/list'"
check "show of the older key: not superseded by a key that is gone" \
    sh -c "! grep -q 'superseded' '$T/show'"
ctl republish ann@r.test > "$T/out" 2>&1
check "republish ann@r.test: the older key" grep -q "^ann@r.test: published (key $OLD)" "$T/out"
is "$(served ann@r.test)" "$OLD" "wkdd serves the older key again"
is "$(served a.n@r.test)" "status 404" "the alias: only what was asked for"
ctl republish --account a.n@r.test > "$T/out" 2>&1
check "republish --account: every address of the account" \
    grep -q "^a.n@r.test: published (key $OLD)" "$T/out"
is "$(served a.n@r.test)" "$OLD" "wkdd serves the alias again"

# domain remove and add: its addresses come back with republish DOMAIN.
ctl domain remove r.test >/dev/null 2>&1
ctl domain add --no-cert r.test >/dev/null 2>&1
is "$(served ann@r.test)" "status 404" "domain removed and added: nothing served yet"
ctl republish r.test > "$T/out" 2>&1
check "republish r.test: both addresses" \
    [ "$(grep -c "published (key $OLD)" "$T/out")" -eq 2 ]
is "$(served ann@r.test)" "$OLD" "wkdd serves ann@r.test again"
is "$(served a.n@r.test)" "$OLD" "wkdd serves a.n@r.test again"

# unpublish, then republish serves it again.
ctl unpublish a.n@r.test >/dev/null 2>&1
is "$(served a.n@r.test)" "status 404" "unpublished"
ctl republish a.n@r.test >/dev/null 2>&1
is "$(served a.n@r.test)" "$OLD" "republish serves an unpublished address again"
ctl republish nobody@r.test > "$T/out" 2>&1
is "$?" 1 "republish of an address of no account: exit 1"

# export --key: the stored certificate, every valid UID; by fingerprint too.
ctl export --key "$OLD" -o "$T/cert.pgp" 2>/dev/null
n=$(gpg --batch --with-colons --show-keys "$T/cert.pgp" 2>/dev/null | grep -c '^uid')
is "$n" 2 "export --key: the stored certificate with both UIDs"
ctl export "$OLD" -o "$T/cert2.pgp" 2>/dev/null
check "export FPR: the same" cmp -s "$T/cert.pgp" "$T/cert2.pgp"
ctl export --key "$NEW" -o "$T/gone.pgp" > "$T/out" 2>&1
is "$?" 1 "export --key of a removed key: exit 1"
check "export --key of a removed key: says so" grep -q "not in the store" "$T/out"

# The audit log's operator is the invoking user under sudo.
if [ "$(id -u)" = 0 ]; then
	SUDO_USER=jdoe ctl republish ann@r.test >/dev/null 2>&1
	ctl log ann@r.test > "$T/log" 2>&1
	check "audit log: the sudo user is the operator" grep -q "jdoe (sudo)" "$T/log"
else
	skip "not root: SUDO_USER applies only to root"
fi

# log prune: old entries go (an erasure request), the newest and the
# prune itself stay; the store still refuses to give the address away.
n0=$(ctl log | wc -l)
ctl log prune --before 2000-01-01 > "$T/out" 2>&1
check "log prune before 2000: nothing pruned" grep -q "^log: 0 entries pruned$" "$T/out"
ctl log prune --before 2099-01-01 > "$T/out" 2>&1
check "log prune: says how many" grep -Eq "^log: [0-9]+ entries pruned$" "$T/out"
n1=$(ctl log | wc -l)
check "log prune: $n0 entries, then 2 (the newest and the prune)" [ "$n1" -eq 2 ]
ctl log > "$T/log2" 2>&1
check "log prune: the prune is logged" grep -q "entries before 2099-01-01 00:00:00Z pruned" "$T/log2"
ctl log prune --before yesterday > "$T/out" 2>&1
is "$?" 2 "log prune with a bad time: usage error"
ctl account add ann2@r.test --alias ann@r.test > "$T/out" 2>&1
check "after pruning, ann@r.test still can't move to another account" \
    grep -q "already" "$T/out"

# Erasure without reuse: account remove --erase keeps only keyed hashes
# of the addresses; nothing in the store names them once the log is
# pruned, and they can still never be bound again.
ctl account add erin@r.test --alias e.r@r.test >/dev/null 2>&1
E=$(keys_gen 'Erin <erin@r.test>')
keys_pub "$E" "$T/erin.pub"
ctl import "$T/erin.pub" >/dev/null 2>&1
is "$(served erin@r.test)" "$E" "erin's key served before the erasure"
ctl account remove --erase erin@r.test > "$T/out" 2>&1
check "account remove --erase: says what stays" \
    grep -q "^account erin@r.test erased: its 2 addresses kept only as keyed hashes" "$T/out"
is "$(served erin@r.test)" "status 404" "after the erasure: nothing served"
ctl account show erin@r.test > "$T/out" 2>&1
is "$?" 1 "after the erasure: no account erin@r.test"
ctl account add erin@r.test > "$T/out" 2>&1
check "an erased address can't be bound again" \
    grep -q "erased account (addresses are never reused)" "$T/out"
ctl account add x@r.test --alias e.r@r.test > "$T/out" 2>&1
check "nor an erased alias, by another account" \
    grep -q "e.r@r.test: the address of an erased account" "$T/out"
ctl log prune --before 2099-01-01 >/dev/null 2>&1
mdb_dump -a "$STORE" > "$T/dump" 2>&1
check "after log prune, the store names no erased address" \
    sh -c "! grep -qiE 'erin|e\\.r@' '$T/dump'"
check "nor holds the erased account's key" sh -c "! grep -q '$E' '$T/dump'"
is "$(served ann@r.test)" "$OLD" "the other account is untouched"

# On a terminal, account remove asks first; "n" changes nothing.
if command -v script >/dev/null 2>&1; then
	before=$(sha256sum "$STORE/data.mdb")
	echo n | script -qec "$WKDCTL -s $STORE account remove ann@r.test" \
	    /dev/null > "$T/tty" 2>&1
	check "on a terminal: asks before removing" grep -q "Remove account ann@r.test?" "$T/tty"
	check "answered n: the store is unchanged" \
	    [ "$(sha256sum "$STORE/data.mdb")" = "$before" ]
else
	skip "script(1) not installed"
fi

check_wkdd "recovery"
stop_wkdd
finish
