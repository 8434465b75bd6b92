#!/bin/sh
# wkdctl import of bad input: a clear error naming the file or key and the
# reason, exit status 1, and the store byte-for-byte as it was.
. "$(dirname "$0")/lib_wkdctl.sh"
. "$(dirname "$0")/keys.sh"
PKT="perl $(dirname "$0")/pgpkt.pl"

if ! command -v gpg >/dev/null 2>&1; then
	skip "gpg not installed"
	finish
fi
keys_init

$W init >/dev/null &&
$W domain add example.org >/dev/null &&
$W account add alice@example.org >/dev/null &&
$W account add bob@example.org >/dev/null
setup "store with two accounts" [ $? -eq 0 ]
run $W account list
is "$(awk '{ print $1 }' "$out" | sort | tr '\n' ' ')" \
    "alice@example.org bob@example.org " "the two accounts are there, no more"

A=$(keys_gen 'Alice <alice@example.org>')
keys_pub "$A" "$tmp/a.pub"
run $W import "$tmp/a.pub"
is "$rc" 0 "a good import first (the store is not empty)"

# refused NAME REGEX FILE...: import fails, says REGEX, changes nothing.
refused() {
	name=$1 re=$2
	shift 2
	before=$(store_sum)
	run $W import "$@"
	is "$rc" 1 "$name: exit 1"
	like "$err" "$re" "$name: message"
	like "$err" 'store is unchanged|wkdctl: ' "$name: says so on stderr"
	is "$(store_sum)" "$before" "$name: data.mdb unchanged"
	[ ! -s "$out" ]
	ok $? "$name: nothing on stdout"
}

head -c 2000 /dev/urandom > "$tmp/garbage"
refused "garbage" "garbage: not a valid OpenPGP key" "$tmp/garbage"

printf 'Hello, I am not a key.\n' > "$tmp/text"
refused "text file" "text: not a valid OpenPGP key" "$tmp/text"

sz=$(wc -c < "$tmp/a.pub")
head -c $((sz - 7)) "$tmp/a.pub" > "$tmp/trunc"
refused "truncated packet" "trunc: not a valid OpenPGP key" "$tmp/trunc"

: > "$tmp/empty"
refused "empty file" "empty: .*no key" "$tmp/empty"

gpg --batch --armor --export "$A" | head -n 5 > "$tmp/trunc.asc"
refused "truncated armor" "trunc.asc: " "$tmp/trunc.asc"

refused "missing file" "$tmp/nonexistent: No such file" "$tmp/nonexistent"
mkdir "$tmp/adir"
refused "unreadable file (a directory)" "adir: Is a directory" "$tmp/adir"

# --strict: one bad file among good ones, and nothing at all is imported.
B=$(keys_gen 'Bob <bob@example.org>')
keys_pub "$B" "$tmp/b.pub"
refused "--strict: good and bad files together" "garbage: " --strict "$tmp/b.pub" "$tmp/garbage"
run $W show bob@example.org
like "$out" 'key: none' "good key of a failed import not published"

# A key without any UID.
$PKT strip-uids "$tmp/b.pub" "$tmp/nouid"
t=$($PKT tags "$tmp/nouid")
case " $t " in *" 13 "*) r=1 ;; *) r=0 ;; esac
ok $r "key without UID made ($t)"
refused "key without UID" "key $B: .*no user ID" "$tmp/nouid"

# Only a UID in a domain not hosted here.
F=$(keys_gen 'Frank <frank@foreign.example>')
keys_pub "$F" "$tmp/f.pub"
refused "unknown domain" "key $F: refused" "$tmp/f.pub"
like "$err" 'frank@foreign\.example>: domain foreign\.example is not hosted' "unknown domain: reason per UID"

# Someone else's address: hosted domain, but not an address of an account,
# or (with --account) another account's address.
M=$(keys_gen 'Mallory <mallory@example.org>')
keys_pub "$M" "$tmp/m.pub"
refused "address of no account" "key $M: refused" "$tmp/m.pub"
like "$err" 'mallory@example\.org>: not an address of any account' "address of no account: reason"
refused "another account's address" "key $B: refused" --account alice@example.org "$tmp/b.pub"
like "$err" 'an address of another account \(bob@example\.org\)' "another account's address: reason"
refused "--account that doesn't exist" "nobody@example\.org: no such account" --account nobody@example.org "$tmp/b.pub"

# --strict: a key with a good UID and a bad key in one file: all or nothing.
cat "$tmp/b.pub" "$tmp/m.pub" > "$tmp/bm.pub"
refused "--strict: good and bad key in one file" "key $M: refused" --strict "$tmp/bm.pub"

# A key whose blob would be over 256 KiB (1600 subkeys, made by RNP in
# t_import: gpg takes minutes for that many).
if [ -x "$O/tests/t_import" ]; then
	H=$("$O/tests/t_import" --make-huge "$tmp/huge.pub")
	$W account add huge@example.org >/dev/null
	refused "blob over 256 KiB" "key $H: huge@example\.org: .*over the 256 KiB limit" "$tmp/huge.pub"
else
	skip "build/tests/t_import not built (make test-bins)"
fi

# The store is full (store-size 1M): the import fails with KS_FULL and
# leaves the store as it was (compared with mdb_dump -a).
S2=$tmp/small
cat > "$tmp/small.conf" <<CONF
store $S2
store-size 1M
CONF
WS="$WKDCTL -f $tmp/small.conf"
$WS init >/dev/null && $WS domain add example.org >/dev/null &&
    $WS account add alice@example.org >/dev/null
setup "small store" [ $? -eq 0 ]
# Fill it with address records until a command fails for want of space.
i=0 full=0
for batch in 200 20 2 1; do
	while [ $i -lt 100000 ]; do
		i=$((i + 1))
		args=
		j=0
		while [ $j -lt $batch ]; do
			args="$args --alias a$i.$j@example.org"
			j=$((j + 1))
		done
		# shellcheck disable=SC2086
		if ! $WS account add "p$i@example.org" $args >/dev/null 2>"$err"; then
			grep -q 'store full' "$err" && full=$((full + 1))
			break
		fi
	done
done
[ "$full" -ge 1 ]
ok $? "store filled up ($i accounts; account add failed with 'store full')"
# An account add writes more pages than an import (the address indexes):
# fill what is left with domains, which write fewer.
i=0
while [ $i -lt 10000 ]; do
	i=$((i + 1))
	$WS domain add --no-cert "d$i.example" >/dev/null 2>"$err" || break
done
grep -q 'store full' "$err"
ok $? "store filled up (then $i domains; domain add failed with 'store full')"
before=$(mdb_dump -a "$S2")
beforesum=$(sha256sum "$S2/data.mdb" | awk '{ print $1 }')
run $WS import "$tmp/a.pub"
is "$rc" 1 "import into a full store: exit 1"
like "$err" "key $A: .*store full" "full store: message names the key"
is "$(mdb_dump -a "$S2")" "$before" "full store: mdb_dump -a unchanged"
is "$(sha256sum "$S2/data.mdb" | awk '{ print $1 }')" "$beforesum" "full store: data.mdb unchanged"

finish
