#!/bin/sh
# t_http_live: changes made with wkdctl while wkdd runs are served on the
# next request, with no restart and no signal: import, remove, domain add,
# policy.  Also the page at "/".
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"

need curl certtool gpg
need_wkdctl

make_certs a.test '*.a.test' c.test '*.c.test'
make_store a.test
write_conf "www $TOP/www" "listen 127.0.0.2:0"
start_wkdd || finish
PORT2=$(echo "$PORTS" | sed -n 2p)

HA=$(hash_of alice@a.test)
HB=$(hash_of bob@a.test)

# key LAYOUT HASH: fetch a key of a.test.
key() {
	if [ "$1" = direct ]; then
		fetch a.test "/.well-known/openpgpkey/hu/$2"
	else
		fetch openpgpkey.a.test "/.well-known/openpgpkey/a.test/hu/$2"
	fi
}

for L in direct advanced; do
	key $L "$HA"
	is "$STATUS" 404 "$L: alice not published yet"
done

# Import: served at once.
FA=$(gen_key alice@a.test) || { fail "gpg: alice's key"; finish; }
ctl account add alice@a.test >/dev/null 2>&1
check "wkdctl account add alice@a.test" [ $? -eq 0 ]
ctl import "$T/alice@a.test.pgp" >/dev/null 2>&1
check "wkdctl import alice's key" [ $? -eq 0 ]
for L in direct advanced; do
	key $L "$HA"
	is "$STATUS" 200 "$L: alice served right after the import"
done
ETAG=$(header ETag)

# A second account while wkdd keeps its connections and state.
FB=$(gen_key bob@a.test) || { fail "gpg: bob's key"; finish; }
ctl account add bob@a.test >/dev/null 2>&1 &&
    ctl import "$T/bob@a.test.pgp" >/dev/null 2>&1
check "wkdctl import bob's key" [ $? -eq 0 ]
key advanced "$HB"
is "$STATUS" 200 "bob served right after his import"
key advanced "$HA"
is "$STATUS" 200 "alice still served"
is "$(header ETag)" "$ETAG" "alice's ETag unchanged by bob's import"
check_wkdd "imports"

# Remove: gone at once.
ctl remove "$FA" >/dev/null 2>&1
check "wkdctl remove alice's key" [ $? -eq 0 ]
for L in direct advanced; do
	key $L "$HA"
	is "$STATUS" 404 "$L: alice gone right after the remove"
	fetch a.test "/.well-known/openpgpkey/hu/$HA" -H "If-None-Match: $ETAG"
	is "$STATUS" 404 "$L: a poll with the old ETag gets 404"
done
key direct "$HB"
is "$STATUS" 200 "bob still served after alice's removal"
: "$FB"

# Requests in parallel on two listeners (two server threads) while
# wkdctl writes: every answer is 200 or 404, never an error.
burst() {
	_u="https://openpgpkey.a.test:$2/.well-known/openpgpkey/a.test/hu"
	_a=
	for _i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		_a="$_a -o /dev/null $_u/$HA -o /dev/null $_u/$HB"
	done
	# shellcheck disable=SC2086
	curl -s --cacert "$T/ca.pem" -w '%{http_code}\n' \
	    --resolve "openpgpkey.a.test:$2:$3" $_a > "$T/burst.$1"
}
burst 1 "$PORT" 127.0.0.1 &
b1=$!
burst 2 "$PORT2" 127.0.0.2 &
b2=$!
for i in 1 2 3; do
	ctl import "$T/alice@a.test.pgp" >/dev/null 2>&1
	ctl remove "$FA" >/dev/null 2>&1
done
wait $b1 $b2
is "$(cat "$T/burst.1" "$T/burst.2" | grep -cE '^(200|404)$')" 80 \
    "80 requests in parallel with imports and removes: all 200 or 404"
check_wkdd "parallel requests"

# Domain add: its policy is served at once, both layouts.
fetch c.test /.well-known/openpgpkey/policy
is "$STATUS" 404 "c.test not hosted yet: no policy"
ctl domain add c.test >/dev/null 2>&1
check "wkdctl domain add c.test" [ $? -eq 0 ]
fetch c.test /.well-known/openpgpkey/policy
is "$STATUS" 200 "direct: c.test policy right after domain add"
fetch openpgpkey.c.test /.well-known/openpgpkey/c.test/policy
is "$STATUS" 200 "advanced: c.test policy right after domain add"
is "$(header Access-Control-Allow-Origin)" "*" "c.test policy ACAO"
check_wkdd "remove and domain add"

# Policy content per domain.
printf 'protocol-version: 5\nmailbox-only\n' > "$T/policy"
if ctl domain policy a.test "$T/policy" >/dev/null 2>&1; then
	for L in direct advanced; do
		if [ $L = direct ]; then
			fetch a.test /.well-known/openpgpkey/policy
		else
			fetch openpgpkey.a.test \
			    /.well-known/openpgpkey/a.test/policy
		fi
		if [ "$STATUS" = 200 ] && cmp -s "$T/body" "$T/policy"; then
			pass "$L: policy set with wkdctl served at once"
		else
			fail "$L: policy set with wkdctl served at once ($STATUS)"
		fi
	done
	fetch c.test /.well-known/openpgpkey/policy
	is "$(body_size)" 0 "another domain's policy still empty"
else
	fail "wkdctl domain policy a.test FILE"
fi

# The page at "/" (www directive): for hosted names only.
fetch a.test /
is "$STATUS" 200 "www page at / of a hosted domain"
is "$(header Content-Type)" "text/html; charset=utf-8" "www page type"
# A template (www.c): the domain in, no address, no result.
sed -e 's/{{domain}}/a.test/g' -e 's/{{addr}}//g' -e 's/{{result}}//g' \
    "$TOP/www/index.html" > "$T/index.want"
cmp -s "$T/body" "$T/index.want"
check "www page is www/index.html, for a.test" [ $? -eq 0 ]
size=$(wc -c < "$T/index.want" | tr -d ' ')
wait_log " GET a.test index 200 "
check "request log: the page's size, $size bytes" \
    grep -qE " GET a.test index 200 $size " "$LOG"
fetch openpgpkey.a.test /
is "$STATUS" 200 "www page on openpgpkey.a.test"
fetch nowhere.a.test / -H 'Host: nowhere.test'
is "$STATUS" 404 "no page for a name not hosted"

finish
