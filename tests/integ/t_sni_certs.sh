#!/bin/sh
# t_sni_certs: wkdd picks the certificate by the TLS server name from
# tls-dir's certbot layout (live/NAME/fullchain.pem + privkey.pem), falls
# back to tls-cert for other names, and on SIGHUP picks up a renewed
# certificate without dropping connections; a broken, mismatched or
# world-readable pair is refused with a log line naming it and the one
# loaded before stays in use.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"

need curl certtool gnutls-cli openssl
need_wkdctl

LE=$T/letsencrypt
LIVE=$LE/live

# cert_in NAME SAN...: a certbot-style live/NAME/ directory.
cert_in() {
	_d=$LIVE/$1
	shift
	mkdir -p "$_d" &&
	make_cert "$_d/fullchain.pem" "$_d/privkey.pem" "$@"
}

make_ca && make_cert "$T/cert.pem" "$T/key.pem" default.test &&
    cert_in a.test a.test openpgpkey.a.test mta-sts.a.test &&
    cert_in openpgpkey.b.test openpgpkey.b.test &&
    cert_in wild.c.test '*.c.test' || { fail "certtool"; finish; }
echo "This directory is certbot's." > "$LIVE/README"
mkdir -p "$LIVE/empty.test"
make_store a.test b.test c.test
write_conf "tls-dir $LE"
start_wkdd || finish

# served NAME: SHA-256 fingerprint of the certificate served for SNI NAME.
served() {
	openssl s_client -connect "127.0.0.1:$PORT" -servername "$1" \
	    </dev/null 2>/dev/null |
	    openssl x509 -noout -fingerprint -sha256 2>/dev/null
}

# fpr FILE: the SHA-256 fingerprint of the certificate in FILE.
fpr() {
	openssl x509 -noout -fingerprint -sha256 -in "$1"
}

P=/.well-known/openpgpkey/policy
is "$(served a.test)" "$(fpr "$LIVE/a.test/fullchain.pem")" \
    "a.test: its own certificate"
is "$(served A.Test)" "$(fpr "$LIVE/a.test/fullchain.pem")" \
    "A.Test: matched without case"
is "$(served openpgpkey.a.test)" "$(fpr "$LIVE/a.test/fullchain.pem")" \
    "openpgpkey.a.test: by the SAN of live/a.test"
is "$(served openpgpkey.b.test)" \
    "$(fpr "$LIVE/openpgpkey.b.test/fullchain.pem")" \
    "openpgpkey.b.test: its own certificate"
is "$(served openpgpkey.c.test)" "$(fpr "$LIVE/wild.c.test/fullchain.pem")" \
    "openpgpkey.c.test: by the wildcard *.c.test"
is "$(served x.openpgpkey.c.test)" "$(fpr "$T/cert.pem")" \
    "x.openpgpkey.c.test: a wildcard covers one label only: default"
is "$(served unknown.test)" "$(fpr "$T/cert.pem")" \
    "unknown name: the default certificate"
is "$(served b.test)" "$(fpr "$T/cert.pem")" \
    "b.test (no certificate of its own): the default"
grep -q 'tls-dir .*: 3 certificates for [0-9]* names' "$LOG"
check "startup log counts the certificates" [ $? -eq 0 ]
grep -q 'empty.test/fullchain.pem: No such file' "$LOG"
check "a live/ directory without files is logged" [ $? -eq 0 ]

fetch openpgpkey.a.test /.well-known/openpgpkey/a.test/policy
is "$STATUS" 200 "curl verifies openpgpkey.a.test's certificate"
fetch openpgpkey.b.test /.well-known/openpgpkey/b.test/policy
is "$STATUS" 200 "curl verifies openpgpkey.b.test's certificate"
fetch openpgpkey.c.test /.well-known/openpgpkey/c.test/policy
is "$STATUS" 200 "curl verifies openpgpkey.c.test (wildcard)"
fetch b.test $P
is "$STATUS" 000 "b.test: default certificate doesn't name it: TLS fails"
check_wkdd "SNI"

# Renewal of one name while a connection to it is held.
hold_open openpgpkey.b.test
# gnutls-cli may be slow to start on a loaded machine: a second chance.
held_get /.well-known/openpgpkey/b.test/policy ||
    held_get /.well-known/openpgpkey/b.test/policy
is "${HELD_STATUS:-none}" 200 "held connection to openpgpkey.b.test"
OLD_B=$(fpr "$LIVE/openpgpkey.b.test/fullchain.pem")
OLD_A=$(fpr "$LIVE/a.test/fullchain.pem")
# certbot's way: new files in archive/, the live/ links switched.
mkdir -p "$LE/archive/openpgpkey.b.test"
make_cert "$LE/archive/openpgpkey.b.test/fullchain2.pem" \
    "$LE/archive/openpgpkey.b.test/privkey2.pem" openpgpkey.b.test b.test
ln -sf "../../archive/openpgpkey.b.test/fullchain2.pem" \
    "$LIVE/openpgpkey.b.test/fullchain.pem"
ln -sf "../../archive/openpgpkey.b.test/privkey2.pem" \
    "$LIVE/openpgpkey.b.test/privkey.pem"
NEW_B=$(fpr "$LIVE/openpgpkey.b.test/fullchain.pem")
check "a new certificate" [ "$NEW_B" != "$OLD_B" ]
check "SIGHUP after renewal: reloaded" reload_wkdd
is "$(served openpgpkey.b.test)" "$NEW_B" "renewed certificate served"
is "$(served b.test)" "$NEW_B" "and its new SAN b.test"
is "$(served a.test)" "$OLD_A" "a.test unchanged"
held_get /.well-known/openpgpkey/b.test/policy
is "${HELD_STATUS:-none}" 200 "held connection survives the reload"
hold_close
check_wkdd "renewal"

# refused WHAT PATTERN: the last reload logged PATTERN, the name still gets
# the certificate it had.
refused() {
	grep -qE "$2" "$LOG"
	check "$1: refused with a log line naming it" [ $? -eq 0 ]
	is "$(served openpgpkey.b.test)" "$NEW_B" "$1: previous one kept"
	is "$(served a.test)" "$OLD_A" "$1: other names unaffected"
}

# A broken pair: garbage instead of a chain.
cp "$LE/archive/openpgpkey.b.test/fullchain2.pem" "$T/good-chain.pem"
rm "$LIVE/openpgpkey.b.test/fullchain.pem"
echo "not a certificate" > "$LIVE/openpgpkey.b.test/fullchain.pem"
reload_wkdd
refused "garbage chain" \
    "live/openpgpkey.b.test/fullchain.pem.*keeping the certificate loaded before"

# A mismatched pair: the chain of another name's key.
cp "$LIVE/a.test/fullchain.pem" "$LIVE/openpgpkey.b.test/fullchain.pem"
reload_wkdd
refused "mismatched key" \
    "live/openpgpkey.b.test/fullchain.pem, tls-dir .*privkey.pem: .*; keeping"

# A world-readable key (the right chain back).
cp "$T/good-chain.pem" "$LIVE/openpgpkey.b.test/fullchain.pem"
cp "$LE/archive/openpgpkey.b.test/privkey2.pem" "$T/open.key"
rm "$LIVE/openpgpkey.b.test/privkey.pem"
cp "$T/open.key" "$LIVE/openpgpkey.b.test/privkey.pem"
chmod 644 "$LIVE/openpgpkey.b.test/privkey.pem"
reload_wkdd
refused "mode 644 key" \
    "live/openpgpkey.b.test/privkey.pem: group or world accessible \(mode 644\)"

# Fixed: served again (a new name appears at the same time).
chmod 600 "$LIVE/openpgpkey.b.test/privkey.pem"
mkdir -p "$LIVE/openpgpkey.d.test"
make_cert "$LIVE/openpgpkey.d.test/fullchain.pem" \
    "$LIVE/openpgpkey.d.test/privkey.pem" openpgpkey.d.test
reload_wkdd
is "$(served openpgpkey.b.test)" "$NEW_B" "mode fixed: pair loads again"
is "$(served openpgpkey.d.test)" \
    "$(fpr "$LIVE/openpgpkey.d.test/fullchain.pem")" \
    "a new name is picked up on SIGHUP"

# A new name whose pair is broken is not served with it: default.
mkdir -p "$LIVE/openpgpkey.e.test"
cp "$LIVE/a.test/fullchain.pem" "$LIVE/openpgpkey.e.test/fullchain.pem"
cp "$LIVE/openpgpkey.d.test/privkey.pem" "$LIVE/openpgpkey.e.test/"
reload_wkdd
grep -q 'openpgpkey.e.test/privkey.pem: .*; not serving this name' "$LOG"
check "new broken pair: logged, not served" [ $? -eq 0 ]
is "$(served openpgpkey.e.test)" "$(fpr "$T/cert.pem")" \
    "new broken pair: default certificate"
check_wkdd "refused pairs"

# Without tls-dir (or with an unreadable one) at startup.
stop_wkdd
write_conf "tls-dir $T/nonexistent"
"$WKDD" -n -f "$CONF" > "$T/n.out" 2>&1
is "$?" 1 "missing tls-dir: wkdd -n fails"
grep -q "tls-dir $T/nonexistent/live: No such file" "$T/n.out"
check "missing tls-dir: reason given" [ $? -eq 0 ]
# A fresh install has tls-dir but no live/ yet: a warning, not an error.
mkdir -p "$T/fresh"
write_conf "tls-dir $T/fresh"
"$WKDD" -n -f "$CONF" > "$T/n.out" 2>&1
is "$?" 0 "tls-dir without live/: wkdd -n passes"
grep -q "tls-dir $T/fresh/live: no such directory yet" "$T/n.out"
check "tls-dir without live/: warned" [ $? -eq 0 ]
finish
