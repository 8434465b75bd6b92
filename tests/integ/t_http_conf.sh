#!/bin/sh
# t_http_conf: wkdd -n on good and broken configurations (file:line
# messages), startup errors, several listeners with -R, TLS versions,
# connection limits, idle timeout, and the user directive.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"

need curl certtool gnutls-cli
need_wkdctl

make_certs a.test '*.a.test'
make_store a.test

# run_wkdd ARGS...: wkdd in the foreground; sets RC, output in $T/out.
run_wkdd() {
	timeout 30 "$WKDD" "$@" > "$T/out" 2>&1
	RC=$?
}

# -n on a good configuration.
write_conf "timeout 10"
run_wkdd -n -f "$CONF"
is "$RC" 0 "-n: good configuration: exit 0"
is "$(tail -n 1 "$T/out")" "configuration OK" "-n: says configuration OK"
run_wkdd -nn -f "$CONF"
grep -qx 'timeout 10' "$T/out" && grep -qx 'listen 127.0.0.1:0' "$T/out" &&
    grep -qx 'max-connections 4096' "$T/out"
check "-nn: dumps every directive, defaults included" [ $? -eq 0 ]

# bad_conf NAME WANT LINE...: -n on a configuration of these lines must
# exit 1 and print WANT (a fixed string; @CONF@ stands for the file).
bad_conf() {
	_name=$1 _want=$2
	shift 2
	printf '%s\n' "$@" > "$T/bad.conf"
	run_wkdd -n -f "$T/bad.conf"
	_want=$(echo "$_want" | sed "s|@CONF@|$T/bad.conf|")
	if [ "$RC" -eq 1 ] && grep -qF -- "$_want" "$T/out"; then
		pass "-n refuses $_name"
	else
		fail "-n refuses $_name (exit $RC)"
		diag "  want: $_want"
		sed 's/^/#   got:  /' "$T/out"
	fi
}

bad_conf "an unknown directive" '@CONF@:3: unknown directive "lisen"' \
    "store $STORE" '# comment' 'lisen 127.0.0.1:0'
bad_conf "a bad address" '@CONF@:1: listen: bad IPv4 address "localhost"' \
    'listen localhost:8443'
bad_conf "a bad port" '@CONF@:2: listen: bad port "65536"' \
    '' 'listen 127.0.0.1:65536'
bad_conf "a missing value" '@CONF@:1: timeout: missing value' 'timeout'
bad_conf "a number out of range" \
    '@CONF@:1: max-connections: "0" is not a number from 1 to 100000' \
    'max-connections 0'
bad_conf "a repeated directive" '@CONF@:2: store: given twice' \
    "store $STORE" "store $STORE"
bad_conf "a relative path" \
    '@CONF@:1: tls-key: "key.pem" is not an absolute path' 'tls-key key.pem'
bad_conf "a missing certificate" "tls-cert $T/nope.pem: No such file" \
    "listen 127.0.0.1:0" "tls-cert $T/nope.pem" "tls-key $T/key.pem"
cp "$T/key.pem" "$T/key-open.pem"
chmod 640 "$T/key-open.pem"
bad_conf "a group-readable key" \
    "tls-key $T/key-open.pem: group or world accessible (mode 640)" \
    "tls-cert $T/cert.pem" "tls-key $T/key-open.pem"
make_cert "$T/other.pem" "$T/other.key" b.test
bad_conf "a key that doesn't match" "do not match" \
    "tls-cert $T/other.pem" "tls-key $T/key.pem"
bad_conf "a missing www directory" "www: $T/nowww: No such file" \
    "tls-cert $T/cert.pem" "tls-key $T/key.pem" "www $T/nowww"

# An expired certificate: a warning, not an error.
cat > "$T/old.tmpl" <<EOF
cn = "a.test"
dns_name = "a.test"
tls_www_server
signing_key
activation_date = "2020-01-01 00:00:00"
expiration_date = "2020-02-01 00:00:00"
EOF
certtool --generate-certificate --load-privkey "$T/key.pem" \
    --load-ca-certificate "$T/ca.pem" --load-ca-privkey "$T/ca.key" \
    --template "$T/old.tmpl" --outfile "$T/old.pem" >/dev/null 2>&1
sed "s|^tls-cert .*|tls-cert $T/old.pem|" "$CONF" > "$T/old.conf"
run_wkdd -n -f "$T/old.conf"
is "$RC" 0 "-n: expired certificate: exit 0"
grep -q "tls-cert $T/old.pem: EXPIRED on 2020-02-01" "$T/out"
check "-n: expired certificate: warned" [ $? -eq 0 ]
write_conf
start_wkdd || finish
grep -q "tls-cert $T/cert.pem: expires soon" "$LOG"
check "startup: a certificate about to expire is warned about" [ $? -eq 0 ]
stop_wkdd

run_wkdd -n -f "$T/none.conf"
is "$RC" 1 "-n: missing file: exit 1"
grep -qF "$T/none.conf: No such file or directory" "$T/out"
check "-n: missing file: message" [ $? -eq 0 ]
run_wkdd -x
is "$RC" 2 "bad option: exit 2"
grep -q '^usage: wkdd \[-dFnVv\] \[-f file\] \[-R fd\]$' "$T/out"
check "bad option: usage" [ $? -eq 0 ]
run_wkdd -R x -n -f "$CONF"
is "$RC" 2 "-R x: exit 2"
run_wkdd -d -f "$CONF" extra
is "$RC" 2 "extra argument: exit 2"

# Startup errors: missing store, port in use.
sed "s|^store .*|store $T/nostore|" "$CONF" > "$T/nostore.conf"
run_wkdd -d -f "$T/nostore.conf"
is "$RC" 1 "missing store: exit 1"
grep -q "store $T/nostore" "$T/out"
check "missing store: message" [ $? -eq 0 ]

# Two listeners, IPv4 and IPv6, reported in order by -R.
if ip -6 addr show dev lo 2>/dev/null | grep -q '::1'; then
	write_conf "listen [::1]:0"
	start_wkdd || finish
	P6=$(echo "$PORTS" | sed -n 2p)
	is "$(echo "$PORTS" | wc -l | tr -d ' ')" 2 "-R: one port per listener"
	fetch a.test /.well-known/openpgpkey/policy
	is "$STATUS" 200 "IPv4 listener serves"
	STATUS=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$T/ca.pem" \
	    --resolve "a.test:$P6:[::1]" \
	    "https://a.test:$P6/.well-known/openpgpkey/policy") || STATUS=000
	is "$STATUS" 200 "IPv6 listener serves"
	# The same port again: refused at startup.
	printf 'listen 127.0.0.1:%s\nstore %s\ntls-cert %s\ntls-key %s\n' \
	    "$PORT" "$STORE" "$T/cert.pem" "$T/key.pem" > "$T/busy.conf"
	run_wkdd -d -f "$T/busy.conf"
	is "$RC" 1 "port in use: exit 1"
	grep -q "listen 127.0.0.1:$PORT: Address already in use" "$T/out"
	check "port in use: message" [ $? -eq 0 ]
	check_wkdd "two listeners"
	stop_wkdd
	is "$?" 0 "two listeners: clean exit"
else
	skip "no IPv6 loopback"
fi

# TLS 1.2 and 1.3 only.
# The idle timeout must outlast the limit checks under the sanitizers.
write_conf "max-connections-per-ip 2" "timeout 10"
start_wkdd || finish
tls() {
	timeout 20 gnutls-cli --x509cafile "$T/ca.pem" --priority "$1" \
	    -p "$PORT" 127.0.0.1 --sni-hostname a.test \
	    --verify-hostname a.test < /dev/null > "$T/tls.out" 2>&1
	grep -q 'Handshake was completed' "$T/tls.out"
}
for v in 1.2 1.3; do
	tls "NORMAL:-VERS-ALL:+VERS-TLS$v"
	check "TLS $v accepted" [ $? -eq 0 ]
done
for v in 1.0 1.1; do
	tls "NORMAL:-VERS-ALL:+VERS-TLS$v"
	if [ $? -ne 0 ] && grep -q 'Fatal error' "$T/tls.out"; then
		pass "TLS $v refused by the server"
	else
		fail "TLS $v refused by the server"
		sed 's/^/#   /' "$T/tls.out"
	fi
done
fetch a.test /.well-known/openpgpkey/policy --tlsv1.2 --tls-max 1.2
is "$STATUS" 200 "curl over TLS 1.2"
fetch a.test /.well-known/openpgpkey/policy --tlsv1.3
is "$STATUS" 200 "curl over TLS 1.3"

# Per-IP connection limit 2: two held connections, the third is refused.
hold_open a.test
held_get /.well-known/openpgpkey/policy
is "${HELD_STATUS:-none}" 200 "limit: first connection"
fetch a.test /.well-known/openpgpkey/policy
is "$STATUS" 200 "limit: second connection"
mv "$T/held.out" "$T/held1.out"
H1=$HELD_PID
exec 8>&7
hold_open a.test
held_get /.well-known/openpgpkey/policy
fetch a.test /.well-known/openpgpkey/policy
is "$STATUS" 000 "limit: a third connection from the same IP is refused"
hold_close
exec 7>&8 8>&-
HELD_PID=$H1
hold_close
fetch a.test /.well-known/openpgpkey/policy
is "$STATUS" 200 "limit: served again once the others closed"

# Idle timeout (10 s): a held connection is closed by the server.
hold_open a.test
held_get /.well-known/openpgpkey/policy
i=0
while kill -0 "$HELD_PID" 2>/dev/null && [ $i -lt 250 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "idle connection closed after the timeout" [ $i -lt 250 ]
hold_close
check_wkdd "limits"
stop_wkdd
is "$?" 0 "limits: clean exit"

# user: as root, wkdd becomes that user once set up.
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	chmod 755 "$T"
	chmod -R a+rwX "$STORE"
	write_conf "user nobody"
	start_wkdd || finish
	uid=$(awk '/^Uid:/ { print $2 $3 $4 $5 }' "/proc/$WKDD_PID/status")
	n=$(id -u nobody)
	is "$uid" "$n$n$n$n" "user nobody: real, effective, saved uid"
	fetch a.test /.well-known/openpgpkey/policy
	is "$STATUS" 200 "user nobody: serving"
	grep -q 'running as nobody' "$LOG"
	check "user nobody: logged" [ $? -eq 0 ]
	# A root-owned key can't be read again once wkdd is nobody; a key
	# owned by nobody can, at startup as root and on reload alike.
	reload_wkdd
	grep -E 'reloaded|not reloading' "$LOG" | tail -n 1 |
	    grep -q 'not reloading'
	check "user nobody: a root-owned key can't be reloaded" [ $? -eq 0 ]
	chown nobody "$T/key.pem"
	reload_wkdd
	grep -E 'reloaded|not reloading' "$LOG" | tail -n 1 |
	    grep -qv 'not reloading'
	check "user nobody: a key owned by nobody is reloaded" [ $? -eq 0 ]
	stop_wkdd
	start_wkdd || finish
	fetch a.test /.well-known/openpgpkey/policy
	is "$STATUS" 200 "user nobody: starts as root with nobody's key"
	chown root "$T/key.pem"
else
	skip "not root: can't test the user directive"
fi

finish
