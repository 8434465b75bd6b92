#!/bin/sh
# t_acme_pebble: wkdctl domain add gets the certificate of openpgpkey.D
# from a real ACME CA, Let's Encrypt's pebble, through the HTTP-01
# challenge that wkdd answers on port 80 (listen-http, acme-webroot), with
# certbot; wkdctl then SIGHUPs wkdd (pidfile), which serves it by SNI; gpg
# then finds a key through openpgpkey.D trusting pebble's root (and not
# without it, nor before the certificate existed).  A name not in the DNS
# is not sent to the CA; --no-cert asks nothing; a failure keeps the
# domain.  All of it in network namespaces (tests/integ/netns.sh) whose
# DNS server (nsd) knows the test names.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
O=${O:-$TOP/build}
case $O in /*) ;; *) O=$TOP/$O ;; esac
WKDD=${WKDD:-$O/wkdd}
WKDCTL=${WKDCTL:-$O/wkdctl}
. "$TOP/tests/integ/netns.sh"
. "$TOP/tests/integ/pebble.sh"

. "$TOP/tests/tap.sh"
. "$TOP/tests/integ/certs.sh"
finish() {
	if [ "$tap_fail" -gt 0 ] && [ -n "$NETNS_DIR" ]; then
		show "$NETNS_DIR"/*.log
	fi
	[ -n "$NETNS_DIR" ] && [ -d "$T/gnupg" ] &&
	    gpgconf --homedir "$T/gnupg" --kill all 2>/dev/null
	netns_down
	tap_plan
	exit
}

for t in certtool gpg gpgconf openssl timeout; do
	command -v $t >/dev/null 2>&1 || skip_all "$t not installed"
done
netns_require || skip_all "$netns_why"
pebble_require || skip_all "$pebble_why"
[ -x "$WKDD" ] || skip_all "$WKDD not built"
[ -x "$WKDCTL" ] || skip_all "$WKDCTL not built"

netns_up || { fail "network namespaces"; finish; }
T=$NETNS_DIR
S=$T/store
CONF=$T/wkdd.conf
GNUPGHOME=$T/gnupg
export GNUPGHOME
D=acme.test
A=alice@$D

# DNS: openpgpkey.acme.test is the server; nodns.test has no such name.
netns_zone $D <<EOF
openpgpkey	A	$NETNS_SRV4
mta-sts		A	$NETNS_SRV4
EOF
netns_zone own.test <<EOF
openpgpkey	A	$NETNS_SRV4
EOF
netns_zone stale.test <<EOF
openpgpkey	A	$NETNS_SRV4
EOF
netns_zone nodns.test <<EOF
www	A	$NETNS_SRV4
EOF
if nsd_start && pebble_start; then
	pass "nsd and pebble running"
else
	fail "nsd and pebble running"
	finish
fi

# A default certificate (tls-cert) from a CA of our own, for a name that
# is not openpgpkey.acme.test: what wkdd serves before pebble's exists.
if make_ca && make_cert "$T/cert.pem" "$T/key.pem" wkd.service.test; then
	pass "default certificate"
else
	fail "default certificate"
	finish
fi

# The store, with alice's key; wkdd on 192.0.2.1 port 443 and 80.
mkdir -p "$S" "$T/tls/live" "$T/www" && mkdir -m 700 "$GNUPGHOME" || { fail "setup: mkdir -p S T/tls/live T/www && mkdir -m 700 GNUPGHOME"; finish; }
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
pidfile		$T/wkdd.pid
user		root
EOF
ctl() { "$WKDCTL" -f "$CONF" "$@"; }
# sctl ARGS...: wkdctl in the server namespace (where certbot reaches
# pebble), trusting pebble's API certificate; output in $T/ctl.out and
# $T/ctl.err, exit status in $rc.
sctl() {
	netns_srv env REQUESTS_CA_BUNDLE="$PEBBLE_API_CA" "$WKDCTL" \
	    -f "$CONF" "$@" > "$T/ctl.out" 2> "$T/ctl.err"
	rc=$?
	cat "$T/ctl.err" >> "$T/ctl.all"
}
if ctl init >/dev/null && ctl domain add --no-cert example.test \
    > "$T/nocert.out" 2>&1 &&
    gpg -q --batch --pinentry-mode loopback --passphrase '' \
    --quick-gen-key "Alice <$A>" ed25519 default never >/dev/null 2>&1 &&
    gpg -q --batch --export "=Alice <$A>" > "$T/alice.pgp"; then
	pass "store and key"
else
	fail "store and key"
	show "$T/nocert.out"
	finish
fi
FPR=$(gpg --batch --with-colons --list-keys "=Alice <$A>" 2>/dev/null |
    awk -F: '$1 == "fpr" { print $10; exit }')
gpg -q --batch --yes --delete-secret-and-public-keys "$FPR" 2>/dev/null
if grep -q 'requesting' "$T/nocert.out"; then
	fail "domain add --no-cert: no certificate requested"
	show "$T/nocert.out"
else
	pass "domain add --no-cert: no certificate requested"
fi

if netns_bg_ready wkdd "$WKDD" -d -f "$CONF" -R 3 &&
    [ -s "$T/wkdd.pid" ]; then
	pass "wkdd on $NETNS_SRV4 ports 443 and 80, pidfile written"
else
	fail "wkdd on $NETNS_SRV4 ports 443 and 80, pidfile written"
	finish
fi

# Trust stores for the client: with pebble's root, and the machine's.
if pebble_root "$T/root.pem" && trust_dir "$T/certs" "$T/root.pem" &&
    trust_dir "$T/certs-sys"; then
	pass "pebble's root, trust stores"
else
	fail "pebble's root, trust stores"
	finish
fi

# gpg_get TAG CERTS: gpg --locate-external-keys $A from the client
# namespace, a fresh GNUPGHOME, /etc/ssl/certs from CERTS.  Status in
# $rc, output in $T/TAG.*.
gpg_get() {
	_h=$T/gh-$1
	rm -rf "$_h"
	mkdir -m 700 "$_h"
	printf 'log-file %s\ndebug-level guru\n' "$T/$1.dirmngr" \
	    > "$_h/dirmngr.conf"
	netns_cli_certs "$2" timeout 60 gpg --homedir "$_h" --batch \
	    --no-tty --auto-key-locate clear,nodefault,wkd \
	    --locate-external-keys "$A" > "$T/$1.out" 2> "$T/$1.err"
	rc=$?
	gpg --homedir "$_h" --batch --with-colons --list-keys \
	    > "$T/$1.list" 2>/dev/null
	gpgconf --homedir "$_h" --kill all 2>/dev/null
}

# Before: domain hosted, key published, no certificate for its name.
ctl domain add --no-cert $D >/dev/null && ctl account add "$A" >/dev/null &&
    ctl import "$T/alice.pgp" >/dev/null || { fail "key published"; finish; }
gpg_get before "$T/certs"
if [ "$rc" -ne 0 ] && ! grep -q "$FPR" "$T/before.list" &&
    grep -q 'TLS verification of peer failed: hostname does not match' \
    "$T/before.dirmngr"; then
	pass "gpg before the certificate exists: fails (name mismatch)"
else
	fail "gpg before the certificate exists: fails (name mismatch)"
	show "$T/before.out" "$T/before.err"
fi
ctl domain remove $D >/dev/null || { fail "setup: ctl domain remove D >/dev/null"; finish; }

# domain add: certbot, pebble, HTTP-01 on wkdd's port 80, SIGHUP.
nhup=$(grep -c 'reloaded' "$T/wkdd.log")
sctl domain add $D
if [ "$rc" -eq 0 ] && grep -q "^domain $D added" "$T/ctl.out" &&
    grep -q "^openpgpkey.$D: certificate issued, valid until [0-9-]*, in $T/tls/live/openpgpkey.$D/" \
    "$T/ctl.out" && grep -q '^wkdd reloaded (SIGHUP to pid' "$T/ctl.out"
then
	pass "domain add: certificate issued by pebble, wkdd signalled"
else
	fail "domain add: certificate issued by pebble, wkdd signalled (exit $rc)"
	show "$T/ctl.out" "$T/ctl.err"
fi
# (domain remove unpublished alice's key: publish it again.)
ctl import "$T/alice.pgp" >/dev/null || fail "key published again"
if grep -qE ' GET [^ ]+ acme 200 ' "$T/wkdd.log"; then
	pass "wkdd answered pebble's HTTP-01 request on port 80"
else
	fail "wkdd answered pebble's HTTP-01 request on port 80"
fi
if openssl x509 -noout -issuer \
    -in "$T/tls/live/openpgpkey.$D/fullchain.pem" 2>/dev/null |
    grep -q Pebble && openssl verify -CAfile "$T/root.pem" -untrusted \
    "$T/tls/live/openpgpkey.$D/chain.pem" \
    "$T/tls/live/openpgpkey.$D/cert.pem" >/dev/null 2>&1; then
	pass "live/openpgpkey.$D/: chains to pebble's root"
else
	fail "live/openpgpkey.$D/: chains to pebble's root"
fi
i=0
while [ "$(grep -c 'reloaded' "$T/wkdd.log")" -le "$nhup" ] && [ $i -lt 100 ]
do
	sleep 0.1
	i=$((i + 1))
done
check "wkdd reloaded" [ $i -lt 100 ]

# The certificate served for openpgpkey.D is pebble's.
served=$(netns_cli openssl s_client -connect "$NETNS_SRV4:443" \
    -servername "openpgpkey.$D" </dev/null 2>/dev/null |
    openssl x509 -noout -fingerprint -sha256 2>/dev/null)
want=$(openssl x509 -noout -fingerprint -sha256 \
    -in "$T/tls/live/openpgpkey.$D/cert.pem")
if [ -n "$served" ] && [ "$served" = "$want" ]; then
	pass "wkdd serves pebble's certificate for openpgpkey.$D"
else
	fail "wkdd serves pebble's certificate for openpgpkey.$D"
	echo "#   served '$served', want '$want'"
fi

gpg_get after "$T/certs"
if [ "$rc" -eq 0 ] && grep -q "^fpr:::::::::$FPR:" "$T/after.list"; then
	pass "gpg finds $A through openpgpkey.$D, trusting pebble's root"
else
	fail "gpg finds $A through openpgpkey.$D, trusting pebble's root"
	show "$T/after.out" "$T/after.err"
	grep -E 'TLS|certificate|error|failed' "$T/after.dirmngr" |
	    sed 's/^/#     /' | tail -20
fi
gpg_get noroot "$T/certs-sys"
if [ "$rc" -ne 0 ] && ! grep -q "$FPR" "$T/noroot.list" &&
    grep -q 'The certificate issuer is unknown' "$T/noroot.dirmngr" &&
    ! grep -q 'hostname does not match' "$T/noroot.dirmngr"; then
	pass "gpg without pebble's root: fails (issuer unknown)"
else
	fail "gpg without pebble's root: fails (issuer unknown)"
fi

# Again: nothing due, the same key (a TLSA 3 1 1 record stays valid).
spki() {
	openssl pkey -in "$T/tls/live/openpgpkey.$D/privkey.pem" -pubout \
	    2>/dev/null | openssl sha256
}
k1=$(spki)
nhup=$(grep -c 'reloaded' "$T/wkdd.log")
sctl domain cert $D
if [ "$rc" -eq 0 ] && [ "$(spki)" = "$k1" ] &&
    grep -q "^openpgpkey.$D: certificate valid until [0-9-]*, not due for renewal" \
    "$T/ctl.out" && ! grep -q 'reloaded' "$T/ctl.out"; then
	pass "domain cert again: not due, same key, no reload, exit 0"
else
	fail "domain cert again: not due, same key, no reload, exit 0 (exit $rc)"
	show "$T/ctl.out" "$T/ctl.err"
fi
ctl log $D > "$T/log.out" 2>&1
if [ "$(grep -c "certificate for openpgpkey.$D issued, valid until" \
    "$T/log.out")" -eq 1 ]; then
	pass "audit log: the certificate issued, once"
else
	fail "audit log: the certificate issued, once"
	show "$T/log.out"
fi

# With an MTA-STS policy, domain cert gets mta-sts.D's certificate too.
if ctl mta-sts set $D --mode testing --mx mail.$D --max-age 86400 \
    >/dev/null; then
	pass "MTA-STS policy set"
else
	fail "MTA-STS policy set"
fi
sctl domain cert $D
if [ "$rc" -eq 0 ] && grep -q "^openpgpkey.$D: .*not due for renewal" \
    "$T/ctl.out" && grep -q '^wkdd reloaded' "$T/ctl.out" &&
    grep -q "^mta-sts.$D: certificate issued, valid until [0-9-]*, in $T/tls/live/mta-sts.$D/" \
    "$T/ctl.out" && [ "$(spki)" = "$k1" ]; then
	pass "domain cert: mta-sts.$D issued as well, openpgpkey.$D kept"
else
	fail "domain cert: mta-sts.$D issued as well, openpgpkey.$D kept (exit $rc)"
	show "$T/ctl.out" "$T/ctl.err"
fi
i=0
until netns_cli curl -sf --cacert "$T/root.pem" -o "$T/mta-sts.txt" \
    "https://mta-sts.$D/.well-known/mta-sts.txt" 2>/dev/null || [ $i -ge 50 ]
do
	sleep 0.1	# Until wkdd has reloaded.
	i=$((i + 1))
done
if grep -q '^mode: testing' "$T/mta-sts.txt" 2>/dev/null; then
	pass "mta-sts.$D served with pebble's certificate"
else
	fail "mta-sts.$D served with pebble's certificate"
fi

# With user set (wkdd reads tls-dir as that user on SIGHUP), the files
# are handed to that user; without a pidfile, the operator is told to
# reload.
grep -v '^pidfile\|^user' "$CONF" > "$T/user.conf"
echo "user nobody" >> "$T/user.conf"
netns_srv env REQUESTS_CA_BUNDLE="$PEBBLE_API_CA" "$WKDCTL" -f "$T/user.conf" \
    domain add own.test > "$T/ctl.out" 2> "$T/ctl.err"
rc=$?
cat "$T/ctl.err" >> "$T/ctl.all"
L=$T/tls/live/openpgpkey.own.test
if [ "$rc" -eq 0 ] && grep -q '^reload wkdd (SIGHUP) to serve it' \
    "$T/ctl.out" && [ "$(stat -c %U "$L")" = nobody ] &&
    [ "$(stat -c %U "$T/tls/live")" = nobody ] &&
    [ "$(stat -L -c %U.%a "$L/privkey.pem")" = nobody.600 ] &&
    [ "$(stat -L -c %U "$L/fullchain.pem")" = nobody ]; then
	pass "user nobody: its files handed to nobody, key 600; reload said"
else
	fail "user nobody: its files handed to nobody, key 600; reload said"
	show "$T/ctl.out" "$T/ctl.err"
	ls -lR "$T/tls/live" "$T/tls/archive" | sed 's/^/#     /'
fi

# A stale pidfile naming another program: that one is not signalled.
sleep 600 &
other=$!
sed "s|^pidfile.*|pidfile $T/stale.pid|" "$CONF" > "$T/stale.conf"
echo "$other" > "$T/stale.pid"
netns_srv env REQUESTS_CA_BUNDLE="$PEBBLE_API_CA" "$WKDCTL" -f "$T/stale.conf" \
    domain add stale.test > "$T/ctl.out" 2> "$T/ctl.err"
rc=$?
cat "$T/ctl.err" >> "$T/ctl.all"
if [ "$rc" -eq 0 ] && grep -q "process $other is not wkdd: not signalled" \
    "$T/ctl.err" && kill -0 "$other" 2>/dev/null; then
	pass "stale pidfile: another program is not signalled"
else
	fail "stale pidfile: another program is not signalled"
	show "$T/ctl.out" "$T/ctl.err"
fi
kill "$other" 2>/dev/null
wait "$other" 2>/dev/null

# A name not in the DNS is not sent to the CA; the domain stays added.
npost=$(grep -c 'POST /order-plz' "$T/pebble.log")
sctl domain add nodns.test
if [ "$rc" -eq 0 ] && grep -q '^domain nodns.test added' "$T/ctl.out" &&
    grep -q "openpgpkey.nodns.test: not in the DNS (yet): no certificate requested" \
    "$T/ctl.err" && grep -q 'run: wkdctl domain cert nodns.test' \
    "$T/ctl.err" && [ ! -e "$T/tls/live/openpgpkey.nodns.test" ] &&
    [ "$(grep -c 'POST /order-plz' "$T/pebble.log")" -eq "$npost" ]; then
	pass "domain add, name not in the DNS: added, CA not asked, retry said"
else
	fail "domain add, name not in the DNS: added, CA not asked, retry said"
	show "$T/ctl.out" "$T/ctl.err"
fi
ctl domain list > "$T/list"
check "nodns.test is hosted" grep -qx nodns.test "$T/list"
sctl domain cert nodns.test
check "domain cert, name not in the DNS: exit 1" [ "$rc" -eq 1 ]

# The CA can't reach the name: certbot's report is shown, exit 1.
echo "openpgpkey	A	192.0.2.77" | netns_zone unreach.test
nsd_reload || { fail "setup: nsd_reload"; finish; }
ctl domain add --no-cert unreach.test >/dev/null
sctl domain cert unreach.test
if [ "$rc" -eq 1 ] && grep -q '^wkdctl: openpgpkey.unreach.test: certbot failed (exit 1):' \
    "$T/ctl.err" && grep -q '^  certbot: .*192.0.2.77' "$T/ctl.err"; then
	pass "CA can't validate: exit 1, certbot's report shown"
else
	fail "CA can't validate: exit 1, certbot's report shown (exit $rc)"
	show "$T/ctl.out" "$T/ctl.err"
fi
sctl domain cert not-hosted.test
check "domain cert, domain not hosted: exit 1" [ "$rc" -eq 1 ]
check "  ... said so" grep -q 'not-hosted.test: domain not hosted' "$T/ctl.err"
sctl domain cert
check "domain cert without a domain: exit 2" [ "$rc" -eq 2 ]

# Still serving, logs clean.
if kill -0 "$(cat "$T/wkdd.pid")" 2>/dev/null &&
    ! grep -qE 'runtime error|AddressSanitizer|LeakSanitizer' \
    "$T/wkdd.log" "$T/ctl.all"; then
	pass "wkdd alive, logs of wkdd and wkdctl clean"
else
	fail "wkdd alive, logs of wkdd and wkdctl clean"
fi
finish
