#!/bin/sh
# t_tls_resume: wkdd gives session tickets, and a resumed session (openssl
# s_client -sess_out, then -sess_in) is served what its name's tenant
# has: the same key, its ETag, as a full handshake.  A resumed handshake
# skips the certificate callback, so tenant isolation is checked over
# resumption too: a ticket issued under one tenant's name doesn't give a
# resumed session under another's, nor that tenant's keys.  Tickets stay
# valid across SIGHUP; with tls-ticket-key, two servers that share the
# file accept each other's tickets, and a key file that is readable by
# others or too short is refused.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"

need openssl certtool gpg curl
need_wkdctl

LE=$T/le
LIVE=$LE/live
cert_in() {
	_d=$LIVE/$1
	shift
	mkdir -p "$_d" &&
	make_cert "$_d/fullchain.pem" "$_d/privkey.pem" "$@"
}
make_ca && make_cert "$T/cert.pem" "$T/key.pem" default.test &&
    cert_in a.test a.test openpgpkey.a.test &&
    cert_in b.test b.test openpgpkey.b.test || { fail "certtool"; finish; }
make_store a.test b.test
for addr in alice@a.test bob@b.test; do
	gen_key "$addr" > "$T/$addr.fpr" || { fail "gpg: key for $addr"; finish; }
	ctl account add "$addr" >/dev/null 2>&1 &&
	    ctl import "$T/$addr.pgp" >/dev/null 2>&1 ||
	    { fail "wkdctl: $addr"; finish; }
done
HA=$(hash_of alice@a.test)
HB=$(hash_of bob@b.test)
PA=/.well-known/openpgpkey/a.test/hu/$HA
PB=/.well-known/openpgpkey/b.test/hu/$HB

write_conf "tls-dir $LE"
start_wkdd || finish

# The ETags of a full handshake's answers (curl checks the certificates).
fetch openpgpkey.a.test "$PA"
is "$STATUS" 200 "alice's key over a full handshake"
EA=$(header ETag)
fetch openpgpkey.b.test "$PB"
is "$STATUS" 200 "bob's key over a full handshake"
EB=$(header ETag)
check "the two keys have ETags of their own" \
    [ -n "$EA" -a -n "$EB" -a "$EA" != "$EB" ]

# sclient OUT SNI HOST PATH [OPENSSL-ARGS...]: one GET over openssl
# s_client to port $SPORT (default $PORT), the certificate checked for
# SNI; its output (session report, response headers) in $T/OUT.
sclient() {
	_o=$1 _sni=$2 _host=$3 _path=$4
	shift 4
	printf 'GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' \
	    "$_path" "$_host" |
	    timeout 20 openssl s_client -connect "127.0.0.1:${SPORT:-$PORT}" \
	    -servername "$_sni" -verify_hostname "$_sni" \
	    -CAfile "$T/ca.pem" -verify_return_error -ign_eof "$@" \
	    > "$T/$_o" 2>&1
}
# reused OUT / full OUT: did that s_client resume its session, or make
# a new one?
reused() {
	grep -q '^Reused, TLS' "$T/$1"
}
full() {
	grep -q '^New, TLS' "$T/$1"
}
# status OUT / etag OUT: the response's status and ETag.
status() {
	tr -d '\r' < "$T/$1" | awk '/^HTTP\/1\.1 / { print $2; exit }'
}
etag() {
	tr -d '\r' < "$T/$1" | awk 'tolower($1) == "etag:" { print $2; exit }'
}

for v in 1.3 1.2; do
	V=-tls${v%.*}_${v#*.}
	SA=$T/a$v.sess
	sclient full$v openpgpkey.a.test openpgpkey.a.test "$PA" $V \
	    -sess_out "$SA"
	is "$(status full$v)" 200 "TLS $v: full handshake: alice's key"
	check "TLS $v: the first handshake is a full one" full full$v
	check "TLS $v: a session ticket was given" \
	    grep -q 'TLS session ticket' "$T/full$v"

	sclient res$v openpgpkey.a.test openpgpkey.a.test "$PA" $V \
	    -sess_in "$SA"
	check "TLS $v: the session is resumed" reused res$v
	is "$(status res$v)" 200 "TLS $v: resumed: alice's key"
	is "$(etag res$v)" "$EA" "TLS $v: resumed: the very key (ETag)"

	# On a resumed session of a.test's name, b.test's keys are never
	# served: a Host that its server name doesn't name is 404.
	sclient cross$v openpgpkey.a.test openpgpkey.b.test "$PB" $V \
	    -sess_in "$SA"
	check "TLS $v: resumed under a.test's name" reused cross$v
	is "$(status cross$v)" 404 "TLS $v: resumed a.test session: b.test's key 404"

	# a.test's ticket offered under b.test's name: b.test's certificate is
	# checked in a full handshake, never a resumption of a.test's.
	sclient other$v openpgpkey.b.test openpgpkey.b.test "$PB" $V \
	    -sess_in "$SA"
	check "TLS $v: a.test's ticket under b.test's name: not resumed" \
	    full other$v
	is "$(status other$v)" 200 "TLS $v: b.test's certificate verified, bob's key"
	is "$(etag other$v)" "$EB" "TLS $v: bob's key (ETag), not alice's"
done

# SIGHUP keeps the ticket key: the sessions made before resume after.
reload_wkdd
check "reloaded" grep -q reloaded "$LOG"
for v in 1.3 1.2; do
	sclient hup$v openpgpkey.a.test openpgpkey.a.test "$PA" \
	    -tls${v%.*}_${v#*.} -sess_in "$T/a$v.sess"
	check "TLS $v: a session from before SIGHUP resumes after it" \
	    reused hup$v
	is "$(etag hup$v)" "$EA" "TLS $v: after SIGHUP: alice's key"
done
check_wkdd "resumption"
stop_wkdd
is "$?" 0 "clean exit"

# A restart makes a new key (without tls-ticket-key): old tickets fail,
# and the handshake is a full one.
start_wkdd || finish
sclient restart openpgpkey.a.test openpgpkey.a.test "$PA" -sess_in "$T/a1.3.sess"
check "after a restart, an old ticket gives a full handshake" full restart
is "$(status restart)" 200 "after a restart: served over the full handshake"
stop_wkdd

# tls-ticket-key shared by two servers: one's tickets resume on the other.
(umask 077 && head -c 64 /dev/urandom > "$T/ticket.key")
write_conf "tls-dir $LE" "tls-ticket-key $T/ticket.key"
cp "$CONF" "$T/one.conf"
start_wkdd "$T/one.conf" || finish
P1=$PORT W1=$WKDD_PID
start_wkdd "$T/one.conf" || finish
P2=$PORT
SPORT=$P1 sclient k1 openpgpkey.a.test openpgpkey.a.test "$PA" \
    -sess_out "$T/k.sess"
check "tls-ticket-key: a full handshake with the first server" full k1
SPORT=$P2 sclient k2 openpgpkey.a.test openpgpkey.a.test "$PA" \
    -sess_in "$T/k.sess"
check "tls-ticket-key: its ticket resumes on the second" reused k2
is "$(etag k2)" "$EA" "tls-ticket-key: the second serves alice's key"
check_wkdd "second server"
stop_wkdd
WKDD_PID=$W1 PORT=$P1
check_wkdd "first server"
stop_wkdd

# Bad key files are refused at start, naming the file.
run_bad() {
	write_conf "tls-ticket-key $1"
	"$WKDD" -d -f "$CONF" > "$T/bad.out" 2>&1 < /dev/null &
	_p=$!
	_i=0
	while kill -0 $_p 2>/dev/null && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	if kill -0 $_p 2>/dev/null; then
		kill -TERM $_p
		wait $_p
		return 0
	fi
	wait $_p
}
chmod 644 "$T/ticket.key"
run_bad "$T/ticket.key"
is "$?" 1 "a world-readable tls-ticket-key: exit 1"
check "message names it" grep -q "tls-ticket-key $T/ticket.key: group or world accessible" "$T/bad.out"
(umask 077 && head -c 16 /dev/urandom > "$T/short.key")
run_bad "$T/short.key"
is "$?" 1 "a 16-byte tls-ticket-key: exit 1"
check "message says the size" grep -q "tls-ticket-key $T/short.key: 16 bytes, want 32" "$T/bad.out"

finish
