#!/bin/sh
# t_acme_uacme: acme-client uacme.  wkdctl domain add gets openpgpkey.D's
# certificate from pebble with uacme (Debian's hook writing the HTTP-01
# token into acme-webroot, served by wkdd on port 80), links it into
# tls-dir's live/NAME/, and wkdd serves it after the SIGHUP; run again,
# the certificate (and its key) are kept and wkdd is left alone.  In the
# network namespaces of tests/integ/netns.sh, as t_acme_pebble.
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
	netns_down
	tap_plan
	exit
}

for t in certtool openssl timeout uacme; do
	command -v $t >/dev/null 2>&1 || skip_all "$t not installed"
done
[ -x /usr/share/uacme/uacme.sh ] || skip_all "uacme's hook not installed"
netns_require || skip_all "$netns_why"
pebble_require || skip_all "$pebble_why"
[ -x "$WKDD" ] || skip_all "$WKDD not built"
[ -x "$WKDCTL" ] || skip_all "$WKDCTL not built"

netns_up || { fail "network namespaces"; finish; }
T=$NETNS_DIR
S=$T/store
CONF=$T/wkdd.conf
D=uacme.test
L=$T/tls/live/openpgpkey.$D

netns_zone $D <<ZONE
openpgpkey	A	$NETNS_SRV4
ZONE
if nsd_start && pebble_start; then
	pass "nsd and pebble running"
else
	fail "nsd and pebble running"
	finish
fi

# A default certificate for another name, from a CA of our own.
mkdir -p "$S" "$T/tls/live" "$T/www" || { fail "setup: mkdir -p S T/tls/live T/www"; finish; }
if make_ca && make_cert "$T/cert.pem" "$T/key.pem" wkd.service.test &&
    trust_dir "$T/api-certs" "$PEBBLE_API_CA"; then
	pass "default certificate; a trust store with pebble's API CA"
else
	fail "default certificate; a trust store with pebble's API CA"
	finish
fi
cat > "$CONF" <<CONF
listen		$NETNS_SRV4:443
listen-http	$NETNS_SRV4:80
store		$S
tls-cert	$T/cert.pem
tls-key		$T/key.pem
tls-dir		$T/tls
acme-webroot	$T/www
acme-client	uacme
acme-server	$PEBBLE_URL
acme-email	hostmaster@service.test
pidfile		$T/wkdd.pid
user		root
CONF
# sctl ARGS...: wkdctl in the server namespace, uacme (libcurl) trusting
# pebble's API through the mounted store; output in $T/ctl.out and
# $T/ctl.err (all of it in $T/ctl.all), exit status in $rc.
sctl() {
	netns_srv_certs "$T/api-certs" "$WKDCTL" -f "$CONF" "$@" \
	    > "$T/ctl.out" 2> "$T/ctl.err"
	rc=$?
	cat "$T/ctl.err" >> "$T/ctl.all"
}
"$WKDCTL" -f "$CONF" init >/dev/null || { fail "wkdctl init"; finish; }
if netns_bg_ready wkdd "$WKDD" -d -f "$CONF" -R 3; then
	pass "wkdd on $NETNS_SRV4 ports 443 and 80"
else
	fail "wkdd on $NETNS_SRV4 ports 443 and 80"
	finish
fi

nhup=$(grep -c 'reloaded' "$T/wkdd.log")
sctl domain add $D
if [ "$rc" -eq 0 ] && grep -q "^domain $D added" "$T/ctl.out" &&
    grep -q "^openpgpkey.$D: certificate issued, valid until [0-9-]*, in $L/" \
    "$T/ctl.out" && grep -q '^wkdd reloaded' "$T/ctl.out" &&
    grep -q " GET openpgpkey.$D acme 200 " \
    "$T/wkdd.log"; then
	pass "domain add: uacme got the certificate through wkdd's HTTP-01"
else
	fail "domain add: uacme got the certificate through wkdd's HTTP-01 (exit $rc)"
	show "$T/ctl.out" "$T/ctl.err"
fi
if [ "$(readlink "$L/fullchain.pem")" = "../../uacme/openpgpkey.$D/cert.pem" ] &&
    [ "$(readlink "$L/privkey.pem")" = "../../uacme/private/openpgpkey.$D/key.pem" ] &&
    case $(stat -L -c %a "$L/privkey.pem") in 400|600) true ;; *) false ;;
    esac; then
	pass "live/openpgpkey.$D/ links to uacme's files, key 400 or 600"
else
	fail "live/openpgpkey.$D/ links to uacme's files, key 400 or 600"
	ls -lR "$T/tls" | sed 's/^/#     /'
fi
i=0
while [ "$(grep -c 'reloaded' "$T/wkdd.log")" -le "$nhup" ] && [ $i -lt 100 ]
do
	sleep 0.1
	i=$((i + 1))
done
if pebble_root "$T/root.pem" &&
    netns_cli openssl s_client -connect "$NETNS_SRV4:443" \
    -servername "openpgpkey.$D" -verify_hostname "openpgpkey.$D" \
    -CAfile "$T/root.pem" -verify_return_error </dev/null \
    > "$T/s_client.out" 2>&1; then
	pass "wkdd serves it; it verifies against pebble's root"
else
	fail "wkdd serves it; it verifies against pebble's root"
	show "$T/s_client.out"
fi

# Again: uacme says it is still current; kept, same key, no reload.
key1=$(openssl pkey -in "$L/privkey.pem" -pubout 2>/dev/null | openssl sha256)
sctl domain cert $D
if [ "$rc" -eq 0 ] &&
    grep -q "^openpgpkey.$D: certificate valid until [0-9-]*, not due for renewal" \
    "$T/ctl.out" && ! grep -q 'reloaded' "$T/ctl.out" &&
    [ "$(openssl pkey -in "$L/privkey.pem" -pubout 2>/dev/null |
    openssl sha256)" = "$key1" ]; then
	pass "domain cert again: not due, same key, no reload"
else
	fail "domain cert again: not due, same key, no reload (exit $rc)"
	show "$T/ctl.out" "$T/ctl.err"
fi

# The CA can't reach the name: uacme's report is shown, exit 1.
printf 'openpgpkey\tA\t192.0.2.77\n' | netns_zone bad.test
nsd_reload || { fail "setup: nsd_reload"; finish; }
"$WKDCTL" -f "$CONF" domain add --no-cert bad.test >/dev/null
sctl domain cert bad.test
if [ "$rc" -eq 1 ] && grep -q '^wkdctl: openpgpkey.bad.test: uacme failed (exit 2):' \
    "$T/ctl.err" && grep -q '^  uacme: ' "$T/ctl.err"; then
	pass "CA can't validate: exit 1, uacme's report shown"
else
	fail "CA can't validate: exit 1, uacme's report shown (exit $rc)"
	show "$T/ctl.out" "$T/ctl.err"
fi

if kill -0 "$(cat "$T/wkdd.pid")" 2>/dev/null &&
    ! grep -qE 'runtime error|AddressSanitizer|LeakSanitizer' \
    "$T/wkdd.log" "$T/ctl.all"; then
	pass "wkdd alive, logs of wkdd and wkdctl clean"
else
	fail "wkdd alive, logs of wkdd and wkdctl clean"
fi
finish
