#!/bin/sh
# t_locate: wkdctl locate and wkdctl refresh against real servers in network
# namespaces with their own DNS (tests/integ/netns.sh: nsd): another wkdd
# serving "external" domains by the advanced method (adv.test, with
# openpgpkey.adv.test) and the direct one (dir.test, without), nginx serving
# a key server's files in the VKS layout (keys.test: by-email,
# by-fingerprint) and a misbehaving WKD (bad.test: oversized, wrong UID,
# secret key, redirects), and one with a certificate of another CA
# (tls.test).  Each bad answer is refused with its reason; a 404 falls back
# to the VKS.  refresh: the VKS serves an updated key (new subkey, then
# revoked), refresh merges it into our store and our running wkdd serves it.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
O=${O:-$TOP/build}
case $O in /*) ;; *) O=$TOP/$O ;; esac
WKDD=${WKDD:-$O/wkdd}
WKDCTL=${WKDCTL:-$O/wkdctl}
. "$TOP/tests/integ/netns.sh"

. "$TOP/tests/tap.sh"
finish() {
	if [ "$tap_fail" -gt 0 ] && [ -n "$NETNS_DIR" ]; then
		for f in "$NETNS_DIR"/*.log "$NETNS_DIR"/nginx/error.log; do
			[ -f "$f" ] || continue
			echo "# --- $f"
			sed 's/^/#   /' "$f"
		done
	fi
	[ -d "${GNUPGHOME:-}" ] && gpgconf --kill all >/dev/null 2>&1
	netns_down
	tap_plan
	exit
}
TAP_BAIL=finish

NGINX=$(command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; })
for t in certtool gpg timeout curl python3 perl; do
	command -v $t >/dev/null 2>&1 || skip_all "$t not installed"
done
[ -n "$NGINX" ] || skip_all "nginx not installed"
netns_require || skip_all "$netns_why"
[ -x "$WKDD" ] || skip_all "$WKDD not built"
[ -x "$WKDCTL" ] || skip_all "$WKDCTL not built"

netns_up || { fail "network namespaces"; finish; }
T=$NETNS_DIR
GNUPGHOME=$T/gnupg
export GNUPGHOME
mkdir -m 700 "$GNUPGHOME"
EXT=$T/ext		# the other provider's store
OUR=$T/our		# ours
W=$T/www		# nginx's files, by host

# Addresses: .1 the other provider's wkdd, .5 nginx (keys.test and
# bad.test), .7 nginx with a certificate of another CA, .8 our wkdd.
for a in 192.0.2.5 192.0.2.7 192.0.2.8; do
	setup "address $a" netns_addr $a
done

# --- Certificates: the test CA's for every name, and a stranger's.
mkcert() {	# OUT KEY CA CAKEY TEMPLATE-LINES
	(umask 077 && certtool --generate-privkey --key-type=ecdsa \
	    --outfile "$2" >/dev/null 2>&1) &&
	printf '%s\n' "$5" > "$T/tmpl" &&
	certtool --generate-certificate --load-privkey "$2" \
	    --load-ca-certificate "$3" --load-ca-privkey "$4" \
	    --template "$T/tmpl" --outfile "$1" >/dev/null 2>&1
}
mkca() {	# NAME
	printf 'cn = "%s"\nca\ncert_signing_key\nexpiration_days = 30\n' \
	    "$1" > "$T/$1.tmpl" &&
	certtool --generate-privkey --key-type=ecdsa \
	    --outfile "$T/$1.key" >/dev/null 2>&1 &&
	certtool --generate-self-signed --load-privkey "$T/$1.key" \
	    --template "$T/$1.tmpl" --outfile "$T/$1.pem" >/dev/null 2>&1
}
NAMES="openpgpkey.adv.test dir.test openpgpkey.miss.test
    openpgpkey.our.test keys.test openpgpkey.bad.test openpgpkey.nowk.test"
if mkca ca && mkca stranger &&
    mkcert "$T/cert.pem" "$T/key.pem" "$T/ca.pem" "$T/ca.key" \
    "cn = \"openpgpkey.adv.test\"
$(for n in $NAMES; do echo "dns_name = \"$n\""; done)
tls_www_server
expiration_days = 20" &&
    mkcert "$T/bad.pem" "$T/bad.key" "$T/stranger.pem" "$T/stranger.key" \
    'cn = "openpgpkey.tls.test"
dns_name = "openpgpkey.tls.test"
tls_www_server
expiration_days = 20'; then
	:
else
	fail "certificates"
	finish
fi

# --- Keys, made with gpg.
genkey() {	# UID...: the first is the primary UID
	gpg -q --batch --pinentry-mode loopback --passphrase '' \
	    --quick-gen-key "$1" ed25519 default never >/dev/null 2>&1 || return 1
	_k=$1
	shift
	for _u; do
		gpg -q --batch --pinentry-mode loopback --passphrase '' \
		    --quick-add-uid "=$_k" "$_u" >/dev/null 2>&1 || return 1
	done
}
fpr() {		# UID
	gpg --batch --with-colons --list-keys "=$1" 2>/dev/null |
	    awk -F: '$1 == "fpr" { print $10; exit }'
}
for k in "Alice <alice@adv.test>" "Bob <bob@dir.test>" \
    "Mallory <mallory@evil.test>" "Sam <secret@bad.test>" \
    "Hop <hop@bad.test>" "Dave <dave@our.test>" "Forge <forge@bad.test>"; do
	genkey "$k" || { fail "gpg: key $k"; finish; }
done
gpg -q --batch --pinentry-mode loopback --passphrase '' --quick-add-uid \
    "=Bob <bob@dir.test>" "Bob <bob@elsewhere.test>" >/dev/null 2>&1
genkey "Carol <carol@miss.test>" "Carol <carol@elsewhere.test>" ||
    { fail "gpg: key carol"; finish; }
if ! genkey "Rev <rev2@bad.test>" "Rev <rev@bad.test>" ||
    ! gpg -q --batch --pinentry-mode loopback --passphrase '' \
    --quick-revoke-uid "=Rev <rev2@bad.test>" "Rev <rev@bad.test>" \
    >/dev/null 2>&1; then
	fail "gpg: key rev, a UID revoked"
	finish
fi
FA=$(fpr "Alice <alice@adv.test>")
FB=$(fpr "Bob <bob@dir.test>")
FC=$(fpr "Carol <carol@miss.test>")
FD=$(fpr "Dave <dave@our.test>")
FH=$(fpr "Hop <hop@bad.test>")

# --- The other provider: wkdd for adv.test (advanced), dir.test (direct)
# and miss.test (WKD, but no key for carol).
ectl() { "$WKDCTL" -s "$EXT" "$@"; }
ok=1
mkdir -p "$EXT" && ectl init >/dev/null || ok=0
for d in adv.test dir.test miss.test; do
	ectl domain add "$d" >/dev/null || ok=0
done
ectl account add alice@adv.test >/dev/null &&
    ectl account add bob@dir.test >/dev/null || ok=0
gpg -q --batch --export "$FA" > "$T/alice.pgp" &&
    gpg -q --batch --export "$FB" > "$T/bob.pgp" &&
    ectl import "$T/alice.pgp" "$T/bob.pgp" >/dev/null || ok=0
ok $((1 - ok)) "the other provider's store: adv.test, dir.test, miss.test"

# --- Our provider: dave@our.test, served by our wkdd.
octl() { "$WKDCTL" -s "$OUR" "$@"; }
ok=1
mkdir -p "$OUR" && octl init >/dev/null &&
    octl domain add our.test >/dev/null &&
    octl account add dave@our.test >/dev/null &&
    gpg -q --batch --export "$FD" > "$T/dave.pgp" &&
    octl import "$T/dave.pgp" >/dev/null || ok=0
ok $((1 - ok)) "our store: dave@our.test"

printf 'listen %s:443\nstore %s\ntls-cert %s\ntls-key %s\nuser root\n' \
    192.0.2.1 "$EXT" "$T/cert.pem" "$T/key.pem" > "$T/ext.conf"
printf 'listen %s:443\nstore %s\ntls-cert %s\ntls-key %s\nuser root\n' \
    192.0.2.8 "$OUR" "$T/cert.pem" "$T/key.pem" > "$T/our.conf"
if netns_bg_ready wkdd-ext "$WKDD" -d -f "$T/ext.conf" -R 3 &&
    netns_bg_ready wkdd-our "$WKDD" -d -f "$T/our.conf" -R 3; then
	pass "wkdd: the other provider on 192.0.2.1, ours on 192.0.2.8"
else
	fail "wkdd: the other provider on 192.0.2.1, ours on 192.0.2.8"
	finish
fi

# --- nginx: the VKS (keys.test) and a misbehaving WKD (bad.test).
hash() { "$WKDCTL" hash "$1" | awk '$1 == "hash" { print $2 }'; }
V=$W/keys.test/vks/v1
B=$W/openpgpkey.bad.test/.well-known/openpgpkey/bad.test
mkdir -p "$V/by-email" "$V/by-fingerprint" "$B/hu" "$W/openpgpkey.bad.test/hop" \
    "$W/openpgpkey.nowk.test" "$W/openpgpkey.tls.test/.well-known/openpgpkey/tls.test/hu"
: > "$B/policy"
gpg -q --batch --armor --export "$FC" > "$V/by-email/carol@miss.test"
gpg -q --batch --armor --export "$FD" > "$V/by-fingerprint/$FD"
head -c 300000 /dev/urandom > "$B/hu/$(hash big@bad.test)"
gpg -q --batch --export "=Mallory <mallory@evil.test>" > "$B/hu/$(hash wrong@bad.test)"
gpg -q --batch --pinentry-mode loopback --passphrase '' \
    --export-secret-keys "=Sam <secret@bad.test>" > "$B/hu/$(hash secret@bad.test)"
gpg -q --batch --export "$FH" > "$W/openpgpkey.bad.test/hop/key.pgp"
gpg -q --batch --pinentry-mode loopback --passphrase '' --armor \
    --export-secret-keys "=Sam <secret@bad.test>" > "$B/hu/$(hash asecret@bad.test)"
gpg -q --batch --export "=Rev <rev2@bad.test>" > "$B/hu/$(hash rev@bad.test)"
# forge@bad.test: its only self-signature broken (the last byte flipped).
gpg -q --batch --export "=Forge <forge@bad.test>" > "$T/forge.pgp"
perl "$TOP/tests/integ/pgpkt.pl" corrupt "$T/forge.pgp" \
    "$B/hu/$(hash forge@bad.test)" 2
printf 'garbage, not a key\n' > "$B/hu/$(hash junk@bad.test)"
cp "$T/alice.pgp" "$W/openpgpkey.tls.test/.well-known/openpgpkey/tls.test/hu/$(hash alice@tls.test)"
N=$T/nginx
mkdir -p "$N"
cat > "$N/nginx.conf" <<EOF
user root root;
worker_processes 1;
pid $N/nginx.pid;
error_log $N/error.log;
events {
	worker_connections 64;
}
http {
	access_log $N/access.log;
	client_body_temp_path $N/body;
	proxy_temp_path $N/proxy;
	fastcgi_temp_path $N/fastcgi;
	uwsgi_temp_path $N/uwsgi;
	scgi_temp_path $N/scgi;
	types {
	}
	default_type application/octet-stream;
	server {
		listen 192.0.2.5:443 ssl;
		server_name _;
		ssl_certificate $T/cert.pem;
		ssl_certificate_key $T/key.pem;
		root $W/\$host;
		location = /.well-known/openpgpkey/bad.test/hu/$(hash redir@bad.test) {
			return 302 http://openpgpkey.bad.test/hop/key.pgp;
		}
		location = /.well-known/openpgpkey/bad.test/hu/$(hash hop@bad.test) {
			return 302 https://openpgpkey.bad.test/hop/key.pgp;
		}
	}
	server {
		listen 192.0.2.7:443 ssl;
		server_name _;
		ssl_certificate $T/bad.pem;
		ssl_certificate_key $T/bad.key;
		root $W/\$host;
	}
}
EOF
netns_bg nginx "$NGINX" -p "$N/" -e "$N/error.log" -c "$N/nginx.conf" \
    -g 'daemon off;'
i=0
while [ ! -s "$N/nginx.pid" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ -s "$N/nginx.pid" ]; then pass "nginx on 192.0.2.5 and .7"; else
	fail "nginx on 192.0.2.5 and .7"
	finish
fi

# --- DNS: openpgpkey.adv.test, but none for dir.test (direct).
netns_zone adv.test <<EOF
openpgpkey	A	192.0.2.1
EOF
netns_zone dir.test <<EOF
@	A	192.0.2.1
EOF
netns_zone miss.test <<EOF
openpgpkey	A	192.0.2.1
EOF
netns_zone our.test <<EOF
openpgpkey	A	192.0.2.8
EOF
netns_zone keys.test <<EOF
@	A	192.0.2.5
EOF
netns_zone bad.test <<EOF
openpgpkey	A	192.0.2.5
EOF
netns_zone nowk.test <<EOF
openpgpkey	A	192.0.2.5
EOF
netns_zone tls.test <<EOF
openpgpkey	A	192.0.2.7
EOF
if nsd_start; then pass "nsd serves the test zones"; else
	fail "nsd serves the test zones"
	finish
fi

# loc NAME ARGS...: wkdctl locate from the client namespace; stdout in
# $T/NAME.out, stderr in $T/NAME.err, exit status in $rc.
loc() {
	_n=$1
	shift
	netns_cli "$WKDCTL" -s "$OUR" locate --ca "$T/ca.pem" \
	    --vks https://keys.test \
	    "$@" > "$T/$_n.out" 2> "$T/$_n.err"
	rc=$?
}
# uids FILE: the User IDs of the key(s) in FILE, one a line.
uids() {
	gpg --batch --with-colons --show-keys "$1" 2>/dev/null |
	    awk -F: '$1 == "uid" { print $10 }'
}
keyfpr() {
	gpg --batch --with-colons --show-keys "$1" 2>/dev/null |
	    awk -F: '$1 == "fpr" { print $10; exit }'
}
refused() {	# NAME REGEX WHAT
	if [ "$rc" -eq 1 ] && [ ! -s "$T/$1.out" ] &&
	    grep -Eq -- "$2" "$T/$1.err"; then
		pass "$3"
	else
		fail "$3"
		diag "exit $rc (want 1), no stderr line /$2/ (or a key printed)"
		show "$T/$1.out" "$T/$1.err"
	fi
}

# --- Found.  (The API's token first: locate and serve then store nothing.)
"$WKDCTL" -s "$OUR" token add --read-only viewer > "$T/tok" 2>/dev/null
TOK=$(cat "$T/tok")
sum0=$(cksum < "$OUR/data.mdb")
loc alice alice@adv.test
if [ "$rc" -eq 0 ] && grep -q '^-----BEGIN PGP PUBLIC KEY BLOCK-----' \
    "$T/alice.out" && [ "$(keyfpr "$T/alice.out")" = "$FA" ] &&
    grep -q "key $FA from wkd-advanced https://openpgpkey.adv.test/.well-known/openpgpkey/adv.test/hu/$(hash alice@adv.test)\$" \
    "$T/alice.err"; then
	pass "advanced method: alice's key, armored, and where from"
else
	fail "advanced method: alice's key, armored, and where from"
	show "$T/alice.out" "$T/alice.err"
fi
loc bob bob@dir.test -o "$T/bob.got"
if [ "$rc" -eq 0 ] && [ "$(keyfpr "$T/bob.got")" = "$FB" ] &&
    [ "$(uids "$T/bob.got")" = "Bob <bob@dir.test>" ] &&
    grep -q "from wkd-direct https://dir.test/.well-known/openpgpkey/hu/" \
    "$T/bob.err"; then
	pass "direct method (no openpgpkey.dir.test): bob's key, to a file"
else
	fail "direct method (no openpgpkey.dir.test): bob's key, to a file"
	show "$T/bob.err"
	uids "$T/bob.got" | sed 's/^/#   /'
fi
loc carol carol@miss.test
if [ "$rc" -eq 0 ] && [ "$(keyfpr "$T/carol.out")" = "$FC" ] &&
    grep -q 'wkd-advanced .*no key (status 404)' "$T/carol.err" &&
    grep -q "from vks https://keys.test/vks/v1/by-email/carol%40miss.test" \
    "$T/carol.err"; then
	pass "404 by WKD, then the VKS by-email"
else
	fail "404 by WKD, then the VKS by-email"
	show "$T/carol.out" "$T/carol.err"
fi
is "$(uids "$T/carol.out")" "Carol <carol@miss.test>" \
    "the VKS's key stripped to the one UID asked for"
loc hop hop@bad.test
if [ "$rc" -eq 0 ] && [ "$(keyfpr "$T/hop.out")" = "$FH" ] &&
    grep -q "from wkd-advanced https://openpgpkey.bad.test/hop/key.pgp" \
    "$T/hop.err"; then
	pass "a redirect to https is followed, and named"
else
	fail "a redirect to https is followed, and named"
	show "$T/hop.err"
fi
loc json alice@adv.test --json
if [ "$rc" -eq 0 ] && python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["found"] is True and j["method"] == "wkd-advanced", j
assert j["fingerprint"] == sys.argv[2], j
assert j["key"].startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----"), j
assert j["tried"][0]["error"] is None, j
' "$T/json.out" "$FA"; then
	pass "--json: method, fingerprint, key"
else
	fail "--json: method, fingerprint, key"
	show "$T/json.out" "$T/json.err"
fi

# --- The admin API's GET /v1/locate: wkdctl serve in the client's
# namespace, with the same key server and CA; any token may ask.
ASOCK=$T/api.sock
netns_cli_bg "$WKDCTL" -s "$OUR" serve --socket "$ASOCK" \
    --vks https://keys.test --cafile "$T/ca.pem" > "$T/serve.log" 2>&1
SERVE_PID=$!
_i=0
while [ ! -S "$ASOCK" ] && [ $_i -lt 100 ] && kill -0 $SERVE_PID 2>/dev/null
do
	sleep 0.1	# Polling for the socket, not timing the server.
	_i=$((_i + 1))
done
check "wkdctl serve --vks --ca: its socket" [ -S "$ASOCK" ]
# aloc QUERY: GET /v1/locate?QUERY; STATUS, body in $T/aloc.json.
aloc() {
	STATUS=$(curl -sS --max-time 60 --unix-socket "$ASOCK" \
	    -H "Authorization: Bearer $TOK" -o "$T/aloc.json" \
	    -w '%{http_code}' "http://localhost/v1/locate?$1" \
	    2>"$T/curl.err") || STATUS=000
}
aloc addr=alice%40adv.test
if [ "$STATUS" = 200 ] && python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["found"] is True and j["method"] == "wkd-advanced", j
assert j["fingerprint"] == sys.argv[2], j
assert j["address"] == "alice@adv.test", j
assert j["key"].startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----"), j
' "$T/aloc.json" "$FA"; then
	pass "GET /v1/locate: alice's key by the advanced method"
else
	fail "GET /v1/locate: alice's key by the advanced method ($STATUS)"
	show "$T/aloc.json" "$T/serve.log"
fi
aloc addr=Carol%40MISS.test
if [ "$STATUS" = 200 ] && python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["found"] is True and j["method"] == "vks", j
assert j["fingerprint"] == sys.argv[2], j
assert "status 404" in j["tried"][0]["error"], j
' "$T/aloc.json" "$FC"; then
	pass "GET /v1/locate: a WKD miss, then the VKS (address normalised)"
else
	fail "GET /v1/locate: a WKD miss, then the VKS ($STATUS)"
	show "$T/aloc.json"
fi
aloc addr=secret%40bad.test
if [ "$STATUS" = 200 ] && python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["found"] is False and "key" not in j, j
assert "secret key material" in j["tried"][0]["error"], j
' "$T/aloc.json"; then
	pass "GET /v1/locate: a secret key refused, found false, why"
else
	fail "GET /v1/locate: a secret key refused ($STATUS)"
	show "$T/aloc.json"
fi
aloc addr=not-an-address
is "$STATUS" 400 "GET /v1/locate?addr=not-an-address: 400"
aloc x=1
is "$STATUS" 400 "GET /v1/locate without addr: 400"
STATUS=$(curl -sS --max-time 20 --unix-socket "$ASOCK" -o /dev/null \
    -w '%{http_code}' "http://localhost/v1/locate?addr=a%40adv.test")
is "$STATUS" 401 "GET /v1/locate without a token: 401"
kill -TERM $SERVE_PID 2>/dev/null
wait $SERVE_PID 2>/dev/null

# --- Refused, each with its reason (and the VKS has none of them).
loc tls alice@tls.test
refused tls 'wkd-advanced https://openpgpkey.tls.test/.*: TLS: certificate refused' \
    "TLS: a certificate of another CA refused"
loc big big@bad.test
refused big 'wkd-advanced .*: response over 262144 bytes' "over 256 KiB refused"
loc wrong wrong@bad.test
refused wrong 'no valid self-signed User ID for wrong@bad.test \(it has: mallory@evil.test\)' \
    "a key without the address's UID refused"
loc secret secret@bad.test
refused secret 'wkd-advanced .*: secret key material: refused' \
    "a secret key refused"
loc asecret asecret@bad.test
refused asecret 'wkd-advanced .*: secret key material: refused' \
    "an armored secret key refused"
loc forge forge@bad.test
refused forge 'no valid self-signed User ID for forge@bad.test \(it has: forge@bad.test \(not validly self-signed\)\)' \
    "a UID whose self-signature fails refused"
loc rev rev@bad.test
refused rev 'no valid self-signed User ID for rev@bad.test \(it has: .*rev@bad.test \(revoked\)' \
    "a key whose UID for the address is revoked refused"
loc redir redir@bad.test
refused redir 'redirect to http://openpgpkey.bad.test/hop/key.pgp refused: not https' \
    "a redirect off https refused"
loc junk junk@bad.test
refused junk 'wkd-advanced .*: not OpenPGP' "garbage refused"
loc nowk x@nowk.test
refused nowk 'no key \(status 404\); no policy file either: nowk.test does not support WKD' \
    "no key and no policy file: said so"
if grep -q 'vks https://keys.test/vks/v1/by-email/secret%40bad.test: no key (status 404)' \
    "$T/secret.err" && grep -q 'no acceptable key found' "$T/secret.err"; then
	pass "refused by WKD, then asked of the VKS"
else
	fail "refused by WKD, then asked of the VKS"
	show "$T/secret.err"
fi
loc novks carol@miss.test --no-vks
refused novks 'no acceptable key found' "--no-vks: WKD only"
is "$(cksum < "$OUR/data.mdb")" "$sum0" \
    "locate stores nothing (wkdctl -s our store: data.mdb unchanged)"

# --- refresh: the VKS has dave's key with a new subkey, then revoked.
# ofetch: our wkdd's answer for dave, as a client fetches it.
DH=$(hash dave@our.test)
ofetch() {
	netns_cli curl -sS --max-time 20 --cacert "$T/ca.pem" -o "$T/served" \
	    "https://openpgpkey.our.test/.well-known/openpgpkey/our.test/hu/$DH"
}
nsub() {
	gpg --batch --with-colons --show-keys "$1" 2>/dev/null | grep -c '^sub'
}
rctl() {
	netns_cli "$WKDCTL" -s "$OUR" refresh --ca "$T/ca.pem" \
	    --vks https://keys.test "$@" > "$T/r.out" 2> "$T/r.err"
	rc=$?
}
ofetch
n0=$(nsub "$T/served")
rctl "$FD"
if [ "$rc" -eq 0 ] && grep -q "^$FD: unchanged" "$T/r.out"; then
	pass "refresh: the VKS's copy is ours: unchanged"
else
	fail "refresh: the VKS's copy is ours: unchanged"
	show "$T/r.out" "$T/r.err"
fi
# As a VKS serves a key whose owner verified no address: without UIDs.
gpg -q --batch --pinentry-mode loopback --passphrase '' \
    --quick-add-key "$FD" cv25519 encr never >/dev/null 2>&1
gpg -q --batch --armor --export --export-filter keep-uid='uid =~ nobody' \
    "$FD" > "$V/by-fingerprint/$FD"
[ "$(uids "$V/by-fingerprint/$FD")" = "" ] || diag "the VKS copy has UIDs"
rctl "$FD"
ofetch
if [ "$rc" -eq 0 ] && grep -q "^$FD: updated: 1 new subkey" "$T/r.out" &&
    [ "$(nsub "$T/served")" -eq $((n0 + 1)) ]; then
	pass "refresh: a new subkey (VKS copy without UIDs) merged, served"
else
	fail "refresh: a new subkey (VKS copy without UIDs) merged, served"
	show "$T/r.out" "$T/r.err"
fi
sed 's/^:-----/-----/' "$GNUPGHOME/openpgp-revocs.d/$FD.rev" > "$T/dave.rev"
gpg -q --batch --import "$T/dave.rev" >/dev/null 2>&1
gpg -q --batch --armor --export "$FD" > "$V/by-fingerprint/$FD"
printf '# ours\n%s\n\n' "$FD" > "$T/list"
netns_cli "$WKDCTL" -s "$OUR" refresh --json --ca "$T/ca.pem" \
    --vks https://keys.test - < "$T/list" > "$T/rj.out" 2> "$T/rj.err"
rc=$?
ofetch
if [ "$rc" -eq 0 ] && python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
k = j["keys"][0]
assert k["fingerprint"] == sys.argv[2] and k["status"] == "updated", j
assert k["detail"].startswith("revoked"), j
assert j["updated"] == 1 and j["errors"] == 0, j
' "$T/rj.out" "$FD" && gpg --batch --with-colons --show-keys "$T/served" \
    2>/dev/null | grep -q '^pub:r:'; then
	pass "refresh (stdin, --json): revoked, and our wkdd serves it revoked"
else
	fail "refresh (stdin, --json): revoked, and our wkdd serves it revoked"
	show "$T/rj.out" "$T/rj.err"
fi
if octl log -v "$FD" 2>/dev/null | grep -q "refresh.*$FD"; then
	pass "refresh is in the audit log"
else
	fail "refresh is in the audit log"
	octl log "$FD" 2>&1 | sed 's/^/#   /'
fi
rctl "$FA" "$FD"
if [ "$rc" -eq 3 ] && grep -q "refresh $FA: not in the store" "$T/r.err" &&
    grep -q "^$FD: unchanged" "$T/r.out" &&
    grep -q '^2 keys: 0 updated, 1 unchanged, 1 failed' "$T/r.out"; then
	pass "refresh: a key not stored is reported, the others done (exit 3)"
else
	fail "refresh: a key not stored is reported, the others done (exit 3)"
	show "$T/r.out" "$T/r.err"
fi
rm -f "$V/by-fingerprint/$FD"
rctl "$FD"
if [ "$rc" -eq 1 ] && grep -q "status 404: not on the key server" "$T/r.err"; then
	pass "refresh: not on the key server (404), exit 1"
else
	fail "refresh: not on the key server (404), exit 1"
	show "$T/r.out" "$T/r.err"
fi
netns_cli "$WKDCTL" -s "$OUR" refresh --vks http://keys.test "$FD" \
    > "$T/r.out" 2> "$T/r.err"
rc=$?
if [ "$rc" -eq 2 ] && grep -q 'not an https URL' "$T/r.err"; then
	pass "refresh: --vks must be https"
else
	fail "refresh: --vks must be https"
	show "$T/r.err"
fi

for s in wkdd-ext wkdd-our nginx; do
	if [ -f "$T/$s.pid" ] && kill -0 "$(cat "$T/$s.pid")" 2>/dev/null; then
		pass "$s alive"
	else
		fail "$s alive"
	fi
done
finish
