#!/bin/sh
# t_service_e2e: WKD-as-a-service, onboarding a customer domain end to end,
# as README.md tells an operator to:
#
#   1. wkdctl domain add cust.test: hosted at once; its certificate can't
#      be had yet (openpgpkey.cust.test is not in the DNS), which is said,
#      with how to retry, and the CA is not asked;
#   2. wkdctl dns cust.test: the records handed to the customer;
#   3. wkdctl domain check cust.test fails until the customer publishes
#      them (here: loaded into the test DNS server's zone);
#   4. wkdctl domain cert cust.test: pebble (Let's Encrypt's test CA)
#      issues openpgpkey.cust.test's certificate through the HTTP-01
#      challenge wkdd answers on port 80, and wkdd reloads (pidfile);
#   5. wkdctl dns again: now with the TLSA record of that certificate,
#      published too; wkdctl domain check is green;
#   6. gpg, sq and OpenPGP.js, trusting pebble's root, find the
#      customer's key through openpgpkey.cust.test.
#
# In network namespaces (tests/integ/netns.sh): nsd serves the customer's
# and the service's zones; wkdd and pebble run on the server side, the
# checks and the clients on the client side.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
O=${O:-$TOP/build}
case $O in /*) ;; *) O=$TOP/$O ;; esac
WKDD=${WKDD:-$O/wkdd}
WKDCTL=${WKDCTL:-$O/wkdctl}
JS=$TOP/tests/interop/js
. "$TOP/tests/integ/netns.sh"
. "$TOP/tests/integ/pebble.sh"

. "$TOP/tests/tap.sh"
. "$TOP/tests/integ/certs.sh"
finish() {
	if [ "$tap_fail" -gt 0 ] && [ -n "$NETNS_DIR" ]; then
		show "$NETNS_DIR"/*.log
	fi
	for _h in "$T"/gh-*; do
		[ -d "$_h" ] && gpgconf --homedir "$_h" --kill all 2>/dev/null
	done
	netns_down
	tap_plan
	exit
}

for t in certtool gpg gpgconf openssl timeout sq node npm; do
	command -v $t >/dev/null 2>&1 || skip_all "$t not installed"
done
netns_require || skip_all "$netns_why"
pebble_require || skip_all "$pebble_why"
[ -x "$WKDD" ] || skip_all "$WKDD not built"
[ -x "$WKDCTL" ] || skip_all "$WKDCTL not built"
# OpenPGP.js from the lock file, before the namespaces (no network there).
if ! [ -d "$JS/node_modules/@openpgp/wkd-client" ] ||
    ! [ -d "$JS/node_modules/openpgp" ]; then
	(cd "$JS" && timeout 300 npm ci --no-audit --no-fund) >&2 ||
	    { echo "not ok 1 - npm ci in tests/interop/js"; echo 1..1; exit 1; }
fi

T=
netns_up || { fail "network namespaces"; finish; }
T=$NETNS_DIR
S=$T/store
CONF=$T/wkdd.conf
D=cust.test
A=alice@$D
SVC=wkd.service.test

# The service's own zone; the customer's, with nothing for WKD yet.
netns_zone service.test <<EOF
wkd	A	$NETNS_SRV4
EOF
netns_zone $D <<EOF
www	A	192.0.2.50
EOF
# Signed, from a root of its own (netns_dnssec): the check validates.
if netns_dnssec && nsd_start && pebble_start; then
	pass "nsd and pebble running"
else
	fail "nsd and pebble running"
	finish
fi

# wkdd: port 443 (default certificate: the service's own name, from a CA
# of ours) and port 80 (HTTP-01, redirects).
mkdir -p "$S" "$T/tls/live" "$T/www" "$T/keys" && chmod 700 "$T/keys" ||
    finish
if make_ca && make_cert "$T/cert.pem" "$T/key.pem" "$SVC"; then
	pass "the service's default certificate"
else
	fail "the service's default certificate"
	finish
fi
cat > "$CONF" <<EOF
listen		$NETNS_SRV4:443
listen-http	$NETNS_SRV4:80
store		$S
tls-cert	$T/cert.pem
tls-key		$T/key.pem
tls-dir		$T/tls
acme-webroot	$T/www
acme-client	certbot
acme-server	$PEBBLE_URL
acme-ca		letsencrypt.org
pidfile		$T/wkdd.pid
service-name	$SVC
user		root
EOF
# wk ARGS...: wkdctl as the operator runs it on the server (certbot
# reaches pebble there, trusting its API's certificate); output in
# $T/wk.out and $T/wk.err, exit status in $rc.
wk() {
	netns_srv env REQUESTS_CA_BUNDLE="$PEBBLE_API_CA" "$WKDCTL" \
	    -f "$CONF" "$@" > "$T/wk.out" 2> "$T/wk.err"
	rc=$?
	cat "$T/wk.err" >> "$T/wk.all"
}
wk init
if [ "$rc" -eq 0 ] && netns_bg_ready wkdd "$WKDD" -d -f "$CONF" -R 3; then
	pass "store made, wkdd on $NETNS_SRV4 ports 443 and 80"
else
	fail "store made, wkdd on $NETNS_SRV4 ports 443 and 80"
	show "$T/wk.err"
	finish
fi

# 1. domain add: hosted; no certificate yet, and the CA is not asked.
wk domain add $D
if [ "$rc" -eq 0 ] && grep -q "^domain $D added" "$T/wk.out" &&
    grep -q "openpgpkey.$D: not in the DNS (yet)" "$T/wk.err" &&
    grep -q "run: wkdctl domain cert $D" "$T/wk.err" &&
    ! grep -q 'POST /order-plz' "$T/pebble.log"; then
	pass "domain add: hosted; no certificate before the DNS, retry said"
else
	fail "domain add: hosted; no certificate before the DNS, retry said"
	show "$T/wk.out" "$T/wk.err"
fi

# The customer's key (an ed25519 key made with gpg).
G=$T/keys
if gpg --homedir "$G" -q --batch --pinentry-mode loopback --passphrase '' \
    --quick-gen-key "Alice <$A>" ed25519 default never >/dev/null 2>&1 &&
    gpg --homedir "$G" -q --batch --export "=Alice <$A>" \
    > "$T/alice.pgp" 2>/dev/null && wk account add "$A" &&
    [ "$rc" -eq 0 ] && wk import "$T/alice.pgp" && [ "$rc" -eq 0 ]; then
	pass "account and key of $A"
else
	fail "account and key of $A"
	show "$T/wk.err"
	finish
fi
FPR=$(gpg --homedir "$G" --batch --with-colons --list-keys "=Alice <$A>" \
    2>/dev/null | awk -F: '$1 == "fpr" { print $10; exit }')
gpgconf --homedir "$G" --kill all 2>/dev/null

# 2. The records for the customer (service-name, acme-ca and tls-dir
# come from wkdd.conf).
dnsrec() {
	wk dns $D
	cp "$T/wk.out" "$T/$1.zone"
}
dnsrec first
if [ "$rc" -eq 0 ] && grep -q "^openpgpkey.$D.	3600	IN	CNAME	$SVC.\$" \
    "$T/first.zone"; then
	pass "wkdctl dns: openpgpkey.$D CNAME $SVC"
else
	fail "wkdctl dns: openpgpkey.$D CNAME $SVC"
	show "$T/first.zone" "$T/wk.err"
fi

# 3. domain check, from the client side, trusting pebble's root only.
if pebble_root "$T/root.pem"; then pass "pebble's root"; else
	fail "pebble's root"
	finish
fi
domain_check() {
	netns_cli "$WKDCTL" -f "$CONF" domain check --cafile "$T/root.pem" \
	    --trust-anchor "$NETNS_ANCHOR" $D > "$T/check-$1.out" 2>&1
	rc=$?
}
domain_check nodns
if [ "$rc" -eq 1 ] && grep -q "^FAIL: openpgpkey.$D does not exist" \
    "$T/check-nodns.out"; then
	pass "domain check before the records: FAIL, exit 1"
else
	fail "domain check before the records: FAIL, exit 1 (exit $rc)"
	show "$T/check-nodns.out"
fi

# The customer publishes them.
grep -v '^;' "$T/first.zone" | netns_zone $D
if nsd_reload; then pass "customer's zone with the records"; else
	fail "customer's zone with the records"
	finish
fi
domain_check nocert
if [ "$rc" -eq 1 ] && grep -q "^ok: openpgpkey.$D is a CNAME to $SVC" \
    "$T/check-nocert.out" && grep -q "^FAIL: .*clients refuse the certificate for openpgpkey.$D" \
    "$T/check-nocert.out"; then
	pass "domain check: CNAME ok, certificate not yet: exit 1"
else
	fail "domain check: CNAME ok, certificate not yet: exit 1 (exit $rc)"
	show "$T/check-nocert.out"
fi
if grep -q "^FAIL: .*clients refuse the certificate for openpgpkey.$D.* fix: wkdctl domain cert $D\$" \
    "$T/check-nocert.out"; then
	pass "domain check: the fix is wkdctl domain cert (acme-client set)"
else
	fail "domain check: the fix is wkdctl domain cert (acme-client set)"
	show "$T/check-nocert.out"
fi

# 4. The certificate, through wkdd's HTTP-01, and a reload.
nhup=$(grep -c 'reloaded' "$T/wkdd.log")
wk domain cert $D
if [ "$rc" -eq 0 ] &&
    grep -q "^openpgpkey.$D: certificate issued, valid until [0-9-]*, in $T/tls/live/openpgpkey.$D/" \
    "$T/wk.out" && grep -q '^wkdd reloaded' "$T/wk.out" &&
    grep -q " GET openpgpkey.$D acme 200 " \
    "$T/wkdd.log"; then
	pass "domain cert: pebble validated through wkdd, certificate issued"
else
	fail "domain cert: pebble validated through wkdd, certificate issued (exit $rc)"
	show "$T/wk.out" "$T/wk.err"
fi
i=0
while [ "$(grep -c 'reloaded' "$T/wkdd.log")" -le "$nhup" ] && [ $i -lt 100 ]
do
	sleep 0.1
	i=$((i + 1))
done
if [ $i -lt 100 ]; then pass "wkdd reloaded"; else fail "wkdd reloaded"; fi

# 5. The records again, now with TLSA; published; check is green.
dnsrec second
if [ "$rc" -eq 0 ] && grep -q "^_443._tcp.openpgpkey.$D.	3600	IN	TLSA	3 1 1 [0-9A-F]\{64\}\$" \
    "$T/second.zone"; then
	pass "wkdctl dns: TLSA of the issued certificate"
else
	fail "wkdctl dns: TLSA of the issued certificate"
	show "$T/second.zone" "$T/wk.err"
fi
grep -v '^;' "$T/second.zone" | netns_zone $D
nsd_reload || { fail "setup: nsd_reload"; finish; }
domain_check green
if [ "$rc" -eq 0 ] && grep -q "^$D: 0 failed" "$T/check-green.out" &&
    grep -q "^ok: $NETNS_SRV4 port 443: valid certificate for openpgpkey.$D" \
    "$T/check-green.out" && grep -q "^ok: TLSA 3 1 1 of openpgpkey.$D matches" \
    "$T/check-green.out" && grep -q "^ok: $NETNS_SRV4 port 443: a published key served" \
    "$T/check-green.out"; then
	pass "domain check: green (DNS, certificate, TLSA, policy, key)"
else
	fail "domain check: green (exit $rc)"
	show "$T/check-green.out"
fi

# 6. Real clients, from the client side: a clean environment, the
# machine's trust store plus pebble's root mounted on /etc/ssl/certs.
trust_dir "$T/certs" "$T/root.pem" || { fail "setup: trust_dir T/certs T/root.pem"; finish; }
client() {
	_tag=$1
	shift
	netns_cli_certs "$T/certs" timeout -k 5 60 env -i PATH="$PATH" \
	    HOME="$T" LANG=C.UTF-8 "$@" > "$T/$_tag.out" 2> "$T/$_tag.err"
	rc=$?
}
# listed FILE: the fingerprints and UIDs gpg sees in the keys of FILE.
listed() {
	_h=$T/gh-show
	mkdir -p "$_h" && chmod 700 "$_h"
	gpg --homedir "$_h" --batch --with-colons --show-keys "$1" 2>/dev/null |
	    awk -F: '$1 == "fpr" || $1 == "uid" { print $1 ":" $10 }'
}
want="fpr:$FPR
uid:Alice <$A>"

H=$T/gh-gpg
mkdir -m 700 "$H"
client gpg gpg --homedir "$H" --batch --no-tty \
    --auto-key-locate clear,nodefault,wkd --locate-external-keys "$A"
gpg --homedir "$H" --batch --export "$A" > "$T/gpg.pgp" 2>/dev/null
if [ "$rc" -eq 0 ] && [ "$(listed "$T/gpg.pgp" | head -n 2)" = "$want" ]
then
	pass "gpg --locate-external-keys finds $A's key"
else
	fail "gpg --locate-external-keys finds $A's key (exit $rc)"
	show "$T/gpg.err"
fi

client sq sq wkd get "$A"
if [ "$rc" -eq 0 ] && [ "$(listed "$T/sq.out" | head -n 2)" = "$want" ]; then
	pass "sq wkd get finds $A's key"
else
	fail "sq wkd get finds $A's key (exit $rc)"
	show "$T/sq.err"
fi

client js node --use-openssl-ca "$JS/wkd-get.mjs" "$A"
if [ "$rc" -eq 0 ] && grep -qi "\"fingerprint\":\"$FPR\"" "$T/js.out" &&
    grep -q "\"uids\":\[\"Alice <$A>\"\]" "$T/js.out" &&
    grep -q "\"url\":\"https://openpgpkey.$D/.well-known/openpgpkey/$D/hu/[a-z0-9]\{32\}?l=alice\",\"status\":200" \
    "$T/js.out"; then
	pass "OpenPGP.js finds $A's key through openpgpkey.$D"
else
	fail "OpenPGP.js finds $A's key through openpgpkey.$D (exit $rc)"
	show "$T/js.out" "$T/js.err"
fi

if kill -0 "$(cat "$T/wkdd.pid")" 2>/dev/null &&
    ! grep -qE 'runtime error|AddressSanitizer|LeakSanitizer' \
    "$T/wkdd.log" "$T"/check-*.out "$T/wk.all"; then
	pass "wkdd alive, logs of wkdd and wkdctl clean"
else
	fail "wkdd alive, logs of wkdd and wkdctl clean"
fi
finish
