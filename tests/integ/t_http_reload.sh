#!/bin/sh
# t_http_reload: SIGHUP reloads the configuration and certificate without
# dropping connections; a bad configuration or certificate is refused and
# the old one kept; SIGTERM and SIGINT stop wkdd cleanly.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"

need curl certtool gnutls-cli
need_wkdctl

# Two certificates from one CA: the second also names d.test.
make_ca && make_cert "$T/cert1.pem" "$T/key1.pem" a.test '*.a.test' &&
    make_cert "$T/cert2.pem" "$T/key2.pem" a.test '*.a.test' d.test ||
    { fail "certtool"; finish; }
cp -p "$T/cert1.pem" "$T/cert.pem"
cp -p "$T/key1.pem" "$T/key.pem"
make_store a.test
write_conf
cp "$CONF" "$T/good.conf"
start_wkdd || finish

POLICY=/.well-known/openpgpkey/policy

fetch a.test $POLICY
is "$STATUS" 200 "a.test served with the first certificate"
fetch d.test $POLICY
is "$STATUS" 000 "d.test not in the first certificate: TLS fails"

hold_open a.test
held_get $POLICY
is "${HELD_STATUS:-none}" 200 "held connection: first request"

# A new certificate, same paths: SIGHUP.
cp "$T/cert2.pem" "$T/cert.pem"
cp "$T/key2.pem" "$T/key.pem"
check "SIGHUP: reloaded" reload_wkdd
tail -n 1 "$LOG" | grep -q 'reloaded'
check "log says reloaded" [ $? -eq 0 ]
fetch d.test $POLICY
is "$STATUS" 404 "new certificate served: d.test handshake works (not hosted: 404)"
fetch a.test $POLICY
is "$STATUS" 200 "a.test still served"
held_get $POLICY
is "${HELD_STATUS:-none}" 200 "held connection survives the reload"
check_wkdd "certificate reload"

# refused WHAT: the last reload was refused and the second certificate
# is still served.
refused() {
	tail -n 1 "$LOG" | grep -qE 'not reloading'
	check "$1: refused, logged" [ $? -eq 0 ]
	fetch d.test $POLICY
	is "$STATUS" 404 "$1: old certificate kept"
	fetch a.test $POLICY
	is "$STATUS" 200 "$1: still serving"
}

# A configuration with errors.
printf 'listen 127.0.0.1:0\nbogus directive\n' > "$CONF"
reload_wkdd
refused "bad config"
grep -q "$CONF:2: unknown directive \"bogus\"; has errors, not reloading" \
    "$LOG"
check "bad config: file:line in the log" [ $? -eq 0 ]

# A key others can read.
sed "s|$T/key.pem|$T/key-open.pem|" "$T/good.conf" > "$CONF"
cp "$T/key1.pem" "$T/key-open.pem"
chmod 644 "$T/key-open.pem"
sed -i "s|$T/cert.pem|$T/cert1.pem|" "$CONF"
reload_wkdd
refused "world-readable key"
grep -q 'group or world accessible' "$LOG"
check "world-readable key: reason logged" [ $? -eq 0 ]

# Key and certificate that don't belong together.
sed -e "s|$T/cert.pem|$T/cert1.pem|" -e "s|$T/key.pem|$T/key2.pem|" \
    "$T/good.conf" > "$CONF"
reload_wkdd
refused "mismatched key"

# Not a certificate.
echo garbage > "$T/garbage.pem"
sed "s|$T/cert.pem|$T/garbage.pem|" "$T/good.conf" > "$CONF"
reload_wkdd
refused "garbage certificate"

# Missing files.
sed "s|$T/cert.pem|$T/missing.pem|" "$T/good.conf" > "$CONF"
reload_wkdd
refused "missing certificate"

# Listen addresses can't change: said so, the rest applies, old port kept.
sed "s|^listen .*|listen 127.0.0.1:1|" "$T/good.conf" > "$CONF"
reload_wkdd
grep -q "listen addresses can't change on reload" "$LOG"
check "listen change: logged" [ $? -eq 0 ]
fetch a.test $POLICY
is "$STATUS" 200 "listen change: still serving on the old port"

# Back to the first certificate.
cp "$T/good.conf" "$CONF"
cp "$T/cert1.pem" "$T/cert.pem"
cp "$T/key1.pem" "$T/key.pem"
reload_wkdd
fetch d.test $POLICY
is "$STATUS" 000 "first certificate back: d.test fails again"
fetch a.test $POLICY
is "$STATUS" 200 "first certificate back: a.test works"

# Many reloads while serving.
ok=1
for i in 1 2 3 4 5 6 7 8 9 10; do
	reload_wkdd || ok=0
	fetch a.test $POLICY
	[ "$STATUS" = 200 ] || ok=0
done
check "ten reloads, each followed by a request" [ $ok -eq 1 ]

held_get $POLICY
is "${HELD_STATUS:-none}" 200 "held connection survives all reloads"
hold_close
check_wkdd "reloads"

# SIGINT stops as cleanly as SIGTERM (checked by finish).
PID1=$WKDD_PID PORT1=$PORT
start_wkdd
PID2=$WKDD_PID
kill -INT "$PID2"
wait "$PID2"
is "$?" 0 "SIGINT: exit status 0"
grep -q 'SIGINT: stopping' "$LOG"
check "SIGINT: logged" [ $? -eq 0 ]
WKDD_PID=$PID1 PORT=$PORT1
fetch a.test $POLICY
is "$STATUS" 200 "the first wkdd still serves"

finish
