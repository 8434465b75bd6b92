#!/bin/sh
# t_http_wkd: the WKD checklist (shared/docs/wkd-clients.md section 4, items
# 1-10) against a real wkdd over TLS, on both the direct and the advanced
# layout, with a store made by wkdctl.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"

need curl certtool gpg
need_wkdctl

IDN=xn--mnchen-3ya.test			# münchen.test
IDN_PATH='m%C3%BCnchen.test'		# as sq sends it
make_certs a.test '*.a.test' b.test '*.b.test' c.test '*.c.test' \
    "$IDN" "*.$IDN"
make_store a.test b.test "$IDN"

# One key per address, published through wkdctl.
for addr in alice@a.test bob@b.test "alice@$IDN"; do
	gen_key "$addr" > "$T/$addr.fpr" || { fail "gpg: key for $addr"; finish; }
	ctl account add "$addr" >/dev/null 2>&1 ||
	    { fail "wkdctl account add $addr"; finish; }
	ctl import "$T/$addr.pgp" >/dev/null 2>&1 ||
	    { fail "wkdctl import $addr"; finish; }
done
HA=$(hash_of alice@a.test)
HB=$(hash_of bob@b.test)
is "$HA" kei1q4tipxxu1yj79k9kfukdhfy631xe "wkdctl hash alice@a.test"
UNKNOWN=$(hash_of nobody@a.test)

write_conf
start_wkdd || finish

# fetch_layout LAYOUT DOMAIN SUFFIX [CURL-ARGS...]: fetch SUFFIX (e.g.
# /hu/HASH) under DOMAIN's well-known directory in layout direct|advanced.
fetch_layout() {
	_l=$1 _d=$2 _s=$3
	shift 3
	if [ "$_l" = direct ]; then
		fetch "$_d" "/.well-known/openpgpkey$_s" "$@"
	else
		fetch "openpgpkey.$_d" "/.well-known/openpgpkey/$_d$_s" "$@"
	fi
}

# One UID, for addr, in the binary key in $T/body.
one_uid() {
	gpg --batch --with-colons --show-keys "$T/body" 2>/dev/null |
	    awk -F: -v a="$1" '
		$1 == "pub" { pubs++ }
		$1 == "uid" { uids++; if (index(tolower($10), "<" a ">")) m++ }
		END { exit !(pubs == 1 && uids == 1 && m == 1) }'
}

# Bit 7 of the first octet: binary OpenPGP, not armor.
binary_body() {
	_b=$(od -An -tu1 -N1 "$T/body" | tr -d ' ')
	[ -n "$_b" ] && [ "$_b" -ge 128 ]
}

for L in direct advanced; do
	# 1. Policy: 200 on both layouts, ACAO, lines end in LF.
	fetch_layout $L a.test /policy
	is "$STATUS" 200 "$L: policy 200"
	is "$(header Access-Control-Allow-Origin)" "*" "$L: policy ACAO"
	if [ "$(body_size)" -eq 0 ] ||
	    [ "$(tail -c 1 "$T/body" | od -An -c | tr -d ' ')" = '\n' ]; then
		pass "$L: policy empty or ends in LF"
	else
		fail "$L: policy empty or ends in LF"
	fi
	fetch_layout $L a.test /policy -I
	is "$STATUS" 200 "$L: HEAD policy 200"
	fetch_layout $L b.test /policy
	is "$STATUS" 200 "$L: policy of another hosted domain 200"

	# 2. A known address.
	fetch_layout $L a.test "/hu/$HA"
	is "$STATUS" 200 "$L: key 200"
	is "$(header Content-Type)" application/octet-stream "$L: key type"
	is "$(header Content-Length)" "$(body_size)" "$L: Content-Length"
	is "$(header Access-Control-Allow-Origin)" "*" "$L: key ACAO"
	check "$L: key is binary" binary_body
	check "$L: exactly one key, one UID, alice@a.test" one_uid alice@a.test
	check "$L: key under 256 KiB" [ "$(body_size)" -lt 262144 ]
	ETAG=$(header ETag)
	check "$L: ETag sent" [ -n "$ETAG" ]
	cp "$T/body" "$T/key.$L"

	# 3. The query is ignored, whatever it holds.
	for q in '' '?l=alice' '?l=ALICE' '?l=Alice%2Bx' '?l=a+b' '?l=%FC' \
	    '?l=%u00FC' '?l=%zz%' '?l=%C3%BC&l=x&x' '?'; do
		fetch_layout $L a.test "/hu/$HA$q"
		if [ "$STATUS" = 200 ] && cmp -s "$T/body" "$T/key.$L"; then
			pass "$L: same key with query '$q'"
		else
			fail "$L: same key with query '$q' (status $STATUS)"
		fi
	done

	# 4. Misses: 404 with ACAO, never 401/403/500.
	for p in "/hu/$UNKNOWN" /hu/kei1q4tipxxu1yj79k9kfukdhfy631x \
	    /hu/kei1q4tipxxu1yj79k9kfukdhfy631xee \
	    /hu/KEI1Q4TIPXXU1YJ79K9KFUKDHFY631XE \
	    /hu/lei1q4tipxxu1yj79k9kfukdhfy631xe; do
		fetch_layout $L a.test "$p"
		is "$STATUS" 404 "$L: 404 for $p"
		is "$(header Access-Control-Allow-Origin)" "*" "$L: ACAO on 404"
	done
	fetch_layout $L c.test "/hu/$HA"
	is "$STATUS" 404 "$L: 404 for a domain not hosted"
	fetch_layout $L c.test /policy
	is "$STATUS" 404 "$L: no policy for a domain not hosted"

	# 5. HEAD: GET's headers, no body; a miss is 404.
	fetch_layout $L a.test "/hu/$HA" -I
	is "$STATUS" 200 "$L: HEAD key 200"
	# curl -I writes the headers where the body would go: only them.
	check "$L: HEAD has no body" cmp -s "$T/body" "$T/headers"
	is "$(header Content-Length)" "$(wc -c < "$T/key.$L" | tr -d ' ')" \
	    "$L: HEAD Content-Length"
	is "$(header Content-Type)" application/octet-stream "$L: HEAD type"
	is "$(header ETag)" "$ETAG" "$L: HEAD ETag"
	is "$(header Access-Control-Allow-Origin)" "*" "$L: HEAD ACAO"
	fetch_layout $L a.test "/hu/$UNKNOWN" -I
	is "$STATUS" 404 "$L: HEAD miss 404"

	# 6. CORS preflight.
	fetch_layout $L a.test "/hu/$HA" -X OPTIONS \
	    -H 'Origin: https://webmail.example' \
	    -H 'Access-Control-Request-Method: GET' \
	    -H 'Access-Control-Request-Headers: authorization,x-openpgp-padding'
	check "$L: OPTIONS 204 or 200" [ "$STATUS" = 204 -o "$STATUS" = 200 ]
	is "$(header Access-Control-Allow-Origin)" "*" "$L: OPTIONS ACAO"
	is "$(header Access-Control-Allow-Methods)" "GET, HEAD, OPTIONS" \
	    "$L: OPTIONS methods"
	is "$(header Access-Control-Allow-Headers)" \
	    "authorization,x-openpgp-padding" "$L: OPTIONS allows the headers"

	# 7. Authorization and padding headers are ignored.
	pad=$(printf '%512s' '' | tr ' ' x)
	fetch_layout $L a.test "/hu/$HA" \
	    -H 'Authorization: Basic bm8tdXNlcjo=' -H "X-OpenPGP-Padding: $pad"
	if [ "$STATUS" = 200 ] && cmp -s "$T/body" "$T/key.$L"; then
		pass "$L: Authorization and X-OpenPGP-Padding ignored"
	else
		fail "$L: Authorization and X-OpenPGP-Padding ignored ($STATUS)"
	fi
	fetch_layout $L a.test "/hu/$UNKNOWN" -H 'Authorization: Bearer x'
	is "$STATUS" 404 "$L: miss with Authorization is 404, not 401"

	# 8. No listings.
	for p in /hu/ /hu / ''; do
		fetch_layout $L a.test "$p"
		is "$STATUS" 404 "$L: no listing of '$p'"
	done

	# 10. Other methods: 405 with Allow.
	for m in POST PUT DELETE PATCH PROPFIND; do
		fetch_layout $L a.test "/hu/$HA" -X $m
		is "$STATUS" 405 "$L: $m 405"
		is "$(header Allow)" "GET, HEAD, OPTIONS" "$L: $m Allow"
		is "$(header Access-Control-Allow-Origin)" "*" "$L: $m ACAO"
	done
	fetch_layout $L a.test "/hu/$HA" -X POST --data-binary 'x=1'
	is "$STATUS" 405 "$L: POST with a body 405"

	# ETag and If-None-Match.
	fetch_layout $L a.test "/hu/$HA" -H "If-None-Match: $ETAG"
	is "$STATUS" 304 "$L: If-None-Match: the ETag gives 304"
	is "$(body_size)" 0 "$L: 304 has no body"
	is "$(header ETag)" "$ETAG" "$L: 304 carries the ETag"
	is "$(header Access-Control-Allow-Origin)" "*" "$L: 304 ACAO"
	fetch_layout $L a.test "/hu/$HA" -H "If-None-Match: \"x\", W/$ETAG"
	is "$STATUS" 304 "$L: If-None-Match: list with the weak ETag: 304"
	fetch_layout $L a.test "/hu/$HA" -H 'If-None-Match: "nope"'
	is "$STATUS" 200 "$L: If-None-Match: another ETag gives 200"
	fetch_layout $L a.test "/hu/$HA" -H 'If-None-Match: *'
	is "$STATUS" 304 "$L: If-None-Match: * gives 304"

	check_wkdd "$L layout"
done

cmp -s "$T/key.direct" "$T/key.advanced"
check "direct and advanced serve the same bytes" [ $? -eq 0 ]

# 9. The path's domain: case, trailing dot, escapes, IDN; and the Host.
for d in A.TEST a.test. A.Test. '%61.test'; do
	fetch openpgpkey.a.test "/.well-known/openpgpkey/$d/hu/$HA"
	if [ "$STATUS" = 200 ] && cmp -s "$T/body" "$T/key.advanced"; then
		pass "advanced: path domain '$d'"
	else
		fail "advanced: path domain '$d' ($STATUS)"
	fi
done
fetch openpgpkey.a.test "/.well-known/openpgpkey/a.test/hu/$HA" \
    -H 'Host: OPENPGPKEY.A.TEST.'
is "$STATUS" 200 "advanced: Host in capitals with a trailing dot"
fetch a.test "/.well-known/openpgpkey/hu/$HA" -H 'Host: A.Test.'
is "$STATUS" 200 "direct: Host in capitals with a trailing dot"

for d in "$IDN_PATH" "$IDN" 'M%C3%9CNCHEN.TEST' "$IDN." 'XN--MNCHEN-3YA.TEST'
do
	fetch "openpgpkey.$IDN" "/.well-known/openpgpkey/$d/hu/$HA?l=alice"
	if [ "$STATUS" = 200 ] && one_uid "alice@$IDN"; then
		pass "advanced: IDN path domain '$d'"
	else
		fail "advanced: IDN path domain '$d' ($STATUS)"
	fi
done
fetch "$IDN" "/.well-known/openpgpkey/hu/$HA"
is "$STATUS" 200 "direct: IDN host"

# Crossed tenants: one domain's keys never under another's name.
fetch openpgpkey.a.test "/.well-known/openpgpkey/b.test/hu/$HB"
is "$STATUS" 404 "Host openpgpkey.a.test, path b.test: 404"
fetch openpgpkey.b.test "/.well-known/openpgpkey/a.test/hu/$HA"
is "$STATUS" 404 "Host openpgpkey.b.test, path a.test: 404"
fetch openpgpkey.b.test "/.well-known/openpgpkey/a.test/policy"
is "$STATUS" 404 "Host openpgpkey.b.test, policy of a.test: 404"
fetch b.test "/.well-known/openpgpkey/hu/$HA"
is "$STATUS" 404 "direct: alice's hash under b.test: 404"
fetch openpgpkey.a.test "/.well-known/openpgpkey/a.test%2Fhu/$HA"
is "$STATUS" 404 "encoded / in the path domain: 404"
fetch a.test "/.well-known/openpgpkey/hu/$HA" -H 'Host: b.test'
is "$STATUS" 404 "SNI a.test, Host b.test: the Host decides: 404"
fetch a.test "/.well-known/openpgpkey/hu/$HA" -0 -H 'Host:'
is "$STATUS" 404 "HTTP/1.0 without Host: 404"
# An IP literal as server name (OpenSSL clients given https://127.0.0.1/
# send one, against RFC 6066) names no tenant: the Host decides.
printf 'GET /.well-known/openpgpkey/hu/%s HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n' \
    "$HA" | timeout 20 openssl s_client -quiet -connect "127.0.0.1:$PORT" \
    -servername 127.0.0.1 -CAfile "$T/ca.pem" > "$T/ipsni.out" 2>/dev/null
is "$(head -n 1 "$T/ipsni.out" | tr -d '\r')" "HTTP/1.1 200 OK" \
    "SNI 127.0.0.1, Host a.test: 200"

check_wkdd "path domains"

# The log: one line per request, no query, no local part.
fetch a.test "/.well-known/openpgpkey/hu/$HA?l=secret.local.part"
grep -q " 127.0.0.1 GET a.test key 200 " "$LOG"
check "log line for a key request" [ $? -eq 0 ]
grep -q 'secret.local.part' "$LOG"
check "the query (local part) is not logged" [ $? -ne 0 ]
grep -q "$HA" "$LOG"
check "the hash is not logged" [ $? -ne 0 ]
grep -q "GET openpgpkey.b.test - 404" "$LOG"
check "a crossed request is logged as a 404" [ $? -eq 0 ]

finish
