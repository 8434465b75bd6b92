#!/bin/sh
# t_www: the web page (wkdd/www.c, www/) of a live wkdd, with curl and in
# Debian's headless Chromium (tests/www/browse.js: playwright-core and
# axe-core, pinned in tests/www/package-lock.json, installed by npm ci).
#
# The store: good.test and broken.test hosted; alice@good.test's key
# published (an EdDSA key with an ECDH subkey), bob@good.test's published
# then revoked with wkdctl revoke (reason retired), carol@good.test none.
# The status pages show what `wkdctl domain check` stored, run for real
# against a wkdd and nsd in network namespaces (tests/integ/netns.sh):
# good.test's zone is what `wkdctl dns` prints, broken.test has no
# openpgpkey record.
#
# curl: types, caching headers and 304, CSP and the other headers; the
# lookup JSON says what `wkdctl show` says; the .asc is the served key
# armored; another domain's address and a name not hosted are refused;
# markup in an address comes back escaped; no local part in the logs;
# 429 under the key lookups' limits, which lookups share.  Chromium:
# browse.js's checks (lookups with and without JavaScript, status pages,
# no request leaving the origin, axe-core, screenshots at 1280 and 390
# pixels into $O/tests/www-shots, and into $WWW_SHOTS if set).
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"

need curl certtool gpg python3
need_wkdctl

# likev VALUE RE NAME, unlikev: tap.sh's like and unlike, of a value.
likev() {
	printf '%s\n' "$1" > "$T/likev"
	like "$T/likev" "$2" "$3"
}
unlikev() {
	printf '%s\n' "$1" > "$T/likev"
	unlike "$T/likev" "$2" "$3"
}

make_certs good.test '*.good.test' broken.test '*.broken.test'
make_store good.test broken.test

# keygen NAME ADDR: a key with an encryption subkey; binary in $T/ADDR.pgp,
# the secret one in $T/ADDR.sec; prints the fingerprint.
keygen() {
	mkdir -p -m 700 "$GNUPGHOME"
	gpg -q --batch --pinentry-mode loopback --passphrase '' \
	    --quick-gen-key "$1 <$2>" future-default default never \
	    >/dev/null 2>&1 || return 1
	gpg -q --batch --export "=$1 <$2>" > "$T/$2.pgp" &&
	gpg -q --batch --pinentry-mode loopback --passphrase '' \
	    --export-secret-keys "=$1 <$2>" > "$T/$2.sec" || return 1
	gpg --batch --with-colons --list-keys "=$1 <$2>" 2>/dev/null |
	    awk -F: '$1 == "fpr" { print $10; exit }'
}
FA=$(keygen Alice alice@good.test) && [ -n "$FA" ] ||
    { fail "gpg: alice's key"; finish; }
FB=$(keygen Bob bob@good.test) && [ -n "$FB" ] ||
    { fail "gpg: bob's key"; finish; }
setup "alice's account" ctl account add alice@good.test
setup "bob's account" ctl account add bob@good.test
setup "import alice's key" ctl import "$T/alice@good.test.pgp"
setup "import bob's key" ctl import "$T/bob@good.test.pgp"
setup "wkdctl revoke bob's key (retired)" ctl revoke --reason retired \
    --message "Left the project" --with-key "$T/bob@good.test.sec" "$FB"
HA=$(hash_of alice@good.test)
FJ=$(keygen Jürgen jürgen@good.test) && [ -n "$FJ" ] ||
    { fail "gpg: jürgen's key"; finish; }
setup "jürgen's account" ctl account add jürgen@good.test
setup "import jürgen's key" ctl import "$T/jürgen@good.test.pgp"

# --- the stored checks: wkdctl domain check in network namespaces ---------

. "$TOP/tests/integ/netns.sh"
if netns_require; then
	netns_up || { fail "network namespaces"; finish; }
	trap 'netns_down; lib_cleanup' EXIT
	printf 'listen %s:443\nstore %s\ntls-cert %s\ntls-key %s\nuser root\n' \
	    "$NETNS_SRV4" "$STORE" "$T/cert.pem" "$T/key.pem" > "$T/ns.conf"
	setup "wkdd on $NETNS_SRV4:443 in its namespace" \
	    netns_bg_ready wkdd-ns "$WKDD" -d -f "$T/ns.conf" -R 3
	ctl dns --target wkd.service.test --caa testca.test \
	    --cert "$T/cert.pem" good.test > "$T/good.dns" 2>"$T/dns.err"
	grep -v '^;' "$T/good.dns" | netns_zone good.test
	printf 'wkd\tA\t%s\n' "$NETNS_SRV4" | netns_zone service.test
	printf 'www\tA\t192.0.2.50\n' | netns_zone broken.test
	setup "DNSSEC for the zones (ldnsutils)" netns_dnssec
	setup "nsd serves the zones" nsd_start
	netns_cli "$WKDCTL" -s "$STORE" domain check --target wkd.service.test \
	    --caa testca.test --cafile "$T/ca.pem" \
	    --trust-anchor "$NETNS_ANCHOR" good.test \
	    > "$T/good.check" 2>&1
	is "$?" 0 "wkdctl domain check good.test passes (stored)"
	grep -E '^(warn|FAIL): ' "$T/good.check" | sed 's/^/# good.test: /'
	netns_cli "$WKDCTL" -s "$STORE" domain check --target wkd.service.test \
	    --caa testca.test --cafile "$T/ca.pem" \
	    --trust-anchor "$NETNS_ANCHOR" broken.test \
	    > "$T/broken.check" 2>&1
	is "$?" 1 "wkdctl domain check broken.test fails (stored)"
	[ "$tap_fail" -eq 0 ] || sed 's/^/#   /' "$T/good.check" "$T/broken.check"
	netns_kill wkdd-ns
else
	skip "stored checks: $netns_why"
fi

# --- wkdd on loopback, with the page ---------------------------------------

cp -R "$TOP/www" "$T/www"
write_conf "www $T/www" "access-log $T/access.log"
start_wkdd || finish

fetch good.test /
is "$STATUS" 200 "/ of good.test"
is "$(header Content-Type)" "text/html; charset=utf-8" "/: text/html"
csp=$(header Content-Security-Policy)
case $csp in
"default-src 'self';"*) pass "/: CSP default-src 'self'" ;;
*) fail "/: CSP default-src 'self' (got '$csp')" ;;
esac
unlikev "$csp" "unsafe-inline|unsafe-eval|\\*" "CSP: no inline script, no wildcard"
likev "$csp" "frame-ancestors 'none'" "CSP: not framed"
is "$(header X-Content-Type-Options)" nosniff "/: nosniff"
is "$(header Referrer-Policy)" no-referrer "/: no referrer"
is "$(header Cache-Control)" no-cache "/: revalidated (no-cache)"
etag=$(header ETag)
likev "$etag" '^"[a-z0-9]+"$' "/: an ETag"
fetch good.test / -H "If-None-Match: $etag"
is "$STATUS" 304 "/: 304 for its ETag"
check "/: 304 has no body" [ "$(body_size)" -eq 0 ]
if grep -q '<script[^>]*>[^<]' "$T/body" ||
    grep -qE ' on[a-z]+="| style="' "$TOP/www/index.html" "$TOP/www/status.html"; then
	fail "pages: no inline script, handler or style"
else
	pass "pages: no inline script, handler or style"
fi
if grep -hoiE '(src|href)="(https?:)?//[^"]*"' "$TOP/www/index.html" \
    "$TOP/www/status.html" | grep -v '^href="https://datatracker' |
    grep -q .; then
	fail "pages: nothing loaded from elsewhere"
else
	pass "pages: nothing loaded from elsewhere"
fi

fetch good.test /style.css
is "$STATUS" 200 "style.css"
is "$(header Content-Type)" "text/css; charset=utf-8" "style.css: text/css"
is "$(header Cache-Control)" "public, max-age=3600" "style.css: cached an hour"
check "style.css: the file's bytes" cmp -s "$T/body" "$TOP/www/style.css"
etag=$(header ETag)
fetch good.test /style.css -H "If-None-Match: $etag"
is "$STATUS" 304 "style.css: 304 for its ETag"
is "$(header ETag)" "$etag" "style.css: 304 names the same ETag"
fetch openpgpkey.good.test /app.js
is "$STATUS" 200 "app.js on openpgpkey.good.test"
is "$(header Content-Type)" "text/javascript; charset=utf-8" \
    "app.js: text/javascript"
is "$(header X-Content-Type-Options)" nosniff "app.js: nosniff"
fetch good.test /nothere.css
is "$STATUS" 404 "a file not in www: 404"
fetch good.test /status.html
is "$STATUS" 404 "status.html only as /status"
fetch good.test /.well-known/../style.css
is "$STATUS" 404 "no way out of the route table"
fetch other.good.test /style.css
is "$STATUS" 404 "a name not hosted: no page"

# The lookup JSON against `wkdctl show`.
jq_() { python3 -c "import json,sys; v=json.load(open(sys.argv[1])); print($2)" "$1"; }
fetch openpgpkey.good.test '/lookup.json?addr=alice%40good.test'
is "$STATUS" 200 "lookup.json alice: 200"
is "$(header Content-Type)" application/json "lookup.json: application/json"
is "$(header Cache-Control)" no-cache "lookup.json: no-cache"
cp "$T/body" "$T/alice.json"
ctl show "$FA" > "$T/alice.show"
ctl show alice@good.test > "$T/alice.addr"
is "$(jq_ "$T/alice.json" 'v["fingerprint"]')" \
    "$(awk '$1 == "key:" { print $2 }' "$T/alice.addr")" \
    "lookup.json: the fingerprint wkdctl show says is served"
is "$(jq_ "$T/alice.json" 'v["uid"]')" "Alice <alice@good.test>" \
    "lookup.json: the one UID"
is "$(jq_ "$T/alice.json" 'v["created"].replace("T", " ")')" \
    "$(sed -n 's/^  created: //p' "$T/alice.show")" \
    "lookup.json: created as wkdctl show says"
is "$(jq_ "$T/alice.json" 'v["expires"]')" None "lookup.json: never expires"
is "$(jq_ "$T/alice.json" 'v["state"]')" \
    "$(sed -n 's/^  state: //p' "$T/alice.show")" \
    "lookup.json: state as wkdctl show says"
is "$(jq_ "$T/alice.json" 'len(v["subkeys"]), v["subkeys"][0]["purposes"], v["algorithm"], v["bits"]')" \
    "1 ['encrypt'] EdDSA 255" "lookup.json: subkey, its purpose; algorithm"
is "$(jq_ "$T/alice.json" 'sorted(v.keys())')" \
    "['address', 'algorithm', 'bits', 'created', 'expired', 'expires', 'fingerprint', 'known', 'links', 'published', 'purposes', 'revoked', 'state', 'subkeys', 'uid']" \
    "lookup.json: those fields and no more"
is "$(jq_ "$T/alice.json" 'v["links"]["pgp"]')" \
    "/.well-known/openpgpkey/good.test/hu/$HA" \
    "lookup.json: the WKD URL of this origin"
likev "$(cat "$T/alice.addr")" "lookup facts: $FA, Alice <alice@good.test>$" \
    "wkdctl show: the facts the page shows"
setup "wkdctl republish good.test" ctl republish good.test
fetch openpgpkey.good.test '/lookup.json?addr=alice%40good.test'
is "$(jq_ "$T/body" 'v["fingerprint"], v["uid"]')" \
    "$FA Alice <alice@good.test>" "republished: the facts recorded again"
fetch openpgpkey.good.test "/.well-known/openpgpkey/good.test/hu/$HA"
cp "$T/body" "$T/alice.bin"
fetch good.test '/lookup.asc?addr=Alice@good.test'
is "$STATUS" 200 "lookup.asc: 200"
is "$(header Content-Type)" application/pgp-keys "lookup.asc: type"
likev "$(header Content-Disposition)" "attachment; filename=\"$HA.asc\"" \
    "lookup.asc: a download"
check "lookup.asc: the served key, armored (gpg --dearmor)" sh -c \
    "gpg --dearmor < '$T/body' | cmp -s - '$T/alice.bin'"

fetch good.test '/lookup.json?addr=bob@good.test'
cp "$T/body" "$T/bob.json"
is "$(jq_ "$T/bob.json" 'v["state"], v["revoked"], v["revocation"]["reason"], v["revocation"]["text"]')" \
    "revoked True retired Left the project" "lookup.json bob: revoked, why"
likev "$(ctl show "$FB")" "state: revoked \\(retired: Left the project\\)" \
    "wkdctl show says the same of bob's key"

fetch good.test '/lookup.json?addr=J%C3%BCrgen%40good.test'
is "$STATUS" 200 "lookup.json: a non-ASCII local part (UTF-8, any case)"
is "$(jq_ "$T/body" 'v["fingerprint"], v["uid"], v["address"]')" \
    "$FJ Jürgen <jürgen@good.test> jürgen@good.test" \
    "lookup.json: jürgen's key, UID and address"
fetch good.test '/lookup?addr=j%FCrgen%40good.test'
is "$STATUS" 400 "a Latin-1 local part: not an address (400)"
fetch good.test '/lookup.json?addr=carol@good.test'
is "$STATUS" 404 "lookup.json carol: 404"
is "$(jq_ "$T/body" 'v["published"], v["error"]')" "False no key published" \
    "lookup.json carol: no key published"
fetch good.test '/lookup?addr=carol@good.test'
is "$STATUS" 404 "lookup carol (page): 404"
check "lookup carol (page): says no key published" \
    grep -q 'No key published' "$T/body"
fetch good.test '/lookup.json?addr=x@broken.test'
is "$STATUS" 404 "another hosted domain's address on good.test: refused"
likev "$(jq_ "$T/body" 'v["error"]')" "own domain" "... and says why"
fetch other.good.test '/lookup.json?addr=x@other.good.test'
is "$STATUS" 404 "a name not hosted: no lookup"
fetch good.test '/lookup.json?addr=nonsense'
is "$STATUS" 400 "not an address: 400"
fetch good.test '/lookup.json'
is "$STATUS" 400 "no address: 400"
fetch good.test '/lookup?addr=%3Cscript%3Ealert(1)%3C/script%3E@good.test'
check "markup in an address comes back escaped" sh -c \
    "! grep -q '<script>alert' '$T/body' && grep -q '&lt;script&gt;alert' '$T/body'"
fetch good.test '/lookup.json?addr=%22%3C%5C@good.test'
check "lookup.json: an odd address is valid JSON" \
    python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$T/body"
fetch good.test '/lookup.json?addr=alice@good.test' -I
is "$STATUS" 200 "HEAD lookup.json: 200"

# The status pages, from the stored documents.
fetch openpgpkey.good.test /status
is "$STATUS" 200 "status of good.test"
if [ -s "$T/good.check" ]; then
	check "status good.test: working" grep -qE 'class="summary (ok|warn)"' \
	    "$T/body"
	check "status good.test: as the check said" grep -q \
	    "$(grep -m 1 '^ok: ' "$T/good.check" | sed 's/^ok: //; s/[][\\.*^$]/./g')" \
	    "$T/body"
	fetch openpgpkey.broken.test /status
	check "status broken.test: not working, with fixes" sh -c \
	    "grep -q 'class=\"summary fail\"' '$T/body' &&
	    grep -q 'class=\"fix\"' '$T/body'"
fi
fetch other.good.test /status
is "$STATUS" 404 "status of a name not hosted: 404"

# Nothing of the local parts in the logs.
check "access log: no local part, no hash" sh -c \
    "[ -s '$T/access.log' ] && ! grep -qE 'alice|bob|carol|$HA' '$T/access.log'"
check "wkdd's log: no local part" sh -c "! grep -qE 'alice|bob|carol' '$LOG'"

# --- Chromium -----------------------------------------------------------------

W=$TOP/tests/www
SHOTS=$O/tests/www-shots
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1 ||
    ! [ -x "${CHROMIUM:=/usr/bin/chromium}" ]; then
	skip "Chromium checks: node, npm or $CHROMIUM missing"
else
	if ! [ -d "$W/node_modules/playwright-core" ] ||
	    ! [ -d "$W/node_modules/axe-core" ]; then
		(cd "$W" && timeout 300 npm ci --no-audit --no-fund) >&2 ||
		    fail "npm ci in tests/www"
	fi
	rm -rf "$SHOTS"
	mkdir -p "$SHOTS"
	(cd "$W" && PORT=$PORT OUT=$SHOTS CHROMIUM=$CHROMIUM FA=$FA FB=$FB \
	    timeout 300 node browse.js) > "$T/browse.out" 2>&1
	brc=$?
	while IFS= read -r l; do
		case $l in
		"PASS "*) pass "chromium: ${l#PASS }" ;;
		"FAIL "*) fail "chromium: ${l#FAIL }" ;;
		*) echo "# $l" ;;
		esac
	done < "$T/browse.out"
	is "$brc" 0 "browse.js exits 0"
	n=$(find "$SHOTS" -name '*.png' | wc -l)
	check "screenshots in $SHOTS" [ "$n" -ge 8 ]
	if [ -n "${WWW_SHOTS:-}" ]; then
		mkdir -p "$WWW_SHOTS" && cp "$SHOTS"/*.png "$WWW_SHOTS"/
	fi
fi

# --- reload: the directory read again, or kept if it has no index.html -------

fetch good.test /style.css
old=$(header ETag)
printf '/* changed */\n' >> "$T/www/style.css"
reload_wkdd
fetch good.test /style.css
check "SIGHUP: the changed file is served" sh -c \
    "[ '$(header ETag)' != '$old' ] && tail -n 1 '$T/body' | grep -q changed"
mv "$T/www/index.html" "$T/index.html.away"
reload_wkdd
check "SIGHUP: a www without index.html is refused" \
    grep -q "not reloading" "$LOG"
fetch good.test /
is "$STATUS" 200 "... and the page kept"
mv "$T/index.html.away" "$T/www/index.html"

# --- the key lookups' limits ---------------------------------------------------

# A reload with a burst of 3: lookups and key requests share the buckets.
write_conf "www $T/www" "access-log $T/access.log" "limit-rate 1" \
    "limit-burst 3" "limit-net-burst 1000"
reload_wkdd
from() { fetch good.test "$2" --interface "$1"; }
codes=
for p in '/lookup.json?addr=alice@good.test' "/.well-known/openpgpkey/hu/$HA" \
    '/lookup?addr=alice@good.test' '/lookup.json?addr=alice@good.test'; do
	from 127.0.8.2 "$p"
	codes="$codes$STATUS "
done
is "$codes" "200 200 200 429 " "lookups and key requests share the limits: 429"
likev "$(header Retry-After)" '^[1-9][0-9]*$' "429 has Retry-After"
from 127.0.8.3 '/lookup.json?addr=carol@good.test'
from 127.0.8.3 '/lookup.json?addr=carol@good.test'
is "$STATUS" 429 "a missed lookup costs as a key miss does"
from 127.0.8.4 /style.css
from 127.0.8.4 /style.css
from 127.0.8.4 /style.css
from 127.0.8.4 /style.css
is "$STATUS" 200 "the page's files are not limited"

finish
