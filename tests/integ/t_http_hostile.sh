#!/bin/sh
# t_http_hostile: raw requests a WKD client never sends, over real TLS
# (gnutls-cli), against a real wkdd: each gets a plain status, the daemon
# stays up with a clean log (under ASan too), no local part (from the
# query or an unrouted path) reaches the log, and a key of one tenant is
# never served under another's name.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"

need curl certtool gnutls-cli gpg
need_wkdctl

make_certs a.test '*.a.test' b.test '*.b.test'
make_store a.test b.test
gen_key alice@a.test > "$T/alice.fpr" || { fail "gpg: key"; finish; }
ctl account add alice@a.test >/dev/null 2>&1 &&
    ctl import "$T/alice@a.test.pgp" >/dev/null 2>&1 ||
    { fail "wkdctl: account and key"; finish; }
HA=$(hash_of alice@a.test)
write_conf
start_wkdd || finish

# raw SNI REQUEST NAME WANT: send REQUEST (printf format) on a new TLS
# connection with server name SNI; the response's status must be WANT
# ("-": the connection is just closed).
raw() {
	rm -f "$T/raw.in" "$T/raw.out"
	mkfifo "$T/raw.in" || return 1
	: > "$T/raw.out"
	gnutls-cli --x509cafile "$T/ca.pem" --sni-hostname "$1" \
	    --verify-hostname "$1" -p "$PORT" 127.0.0.1 \
	    < "$T/raw.in" > "$T/raw.out" 2>&1 &
	_pid=$!
	exec 8> "$T/raw.in"
	# shellcheck disable=SC2059 # The request is a format, for \r and \0.
	printf "$2" >&8
	_i=0
	while ! grep -aq '^HTTP/1.1 ' "$T/raw.out" && kill -0 "$_pid" \
	    2>/dev/null && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	exec 8>&-
	wait "$_pid" 2>/dev/null
	_st=$(grep -a '^HTTP/1.1 ' "$T/raw.out" | head -n 1 | cut -d ' ' -f 2)
	is "${_st:--}" "$4" "$3"
}

K=/.well-known/openpgpkey
C='Connection: close\r\n\r\n'
raw a.test "GET $K/hu/$HA HTTP/1.1\r\nHost: a.test\r\n$C" "key served" 200
raw a.test "GET $K/hu/$HA HTTP/1.0\r\n\r\n" "HTTP/1.0 without Host" 404
raw a.test "GET https://a.test$K/hu/$HA HTTP/1.1\r\nHost: a.test\r\n$C" \
    "absolute-form target" 404
raw a.test "CONNECT a.test:443 HTTP/1.1\r\nHost: a.test\r\n$C" CONNECT 405
raw a.test "TRACE / HTTP/1.1\r\nHost: a.test\r\n$C" TRACE 405
raw a.test "GET $K/hu/$HA HTTP/1.1\r\nHost: a.test\000b.test\r\n$C" \
    "NUL in the Host" 200
raw b.test "GET $K/hu/$HA HTTP/1.1\r\nHost: a.test\000b.test\r\n$C" \
    "NUL in the Host, other server name" 404
raw a.test "GET $K/hu/$HA HTTP/1.1\r\nHost: b.test\r\n$C" \
    "a.test's hash under b.test" 404
raw openpgpkey.b.test "GET $K/a.test%%00/hu/$HA HTTP/1.1\r\nHost: openpgpkey.b.test\r\n$C" \
    "encoded NUL after the path's domain" 404
raw openpgpkey.a.test "GET $K/%%2e%%2e/hu/$HA HTTP/1.1\r\nHost: openpgpkey.a.test\r\n$C" \
    "encoded dots as the path's domain" 404
raw openpgpkey.a.test "GET $K/a.test%%2fhu/$HA HTTP/1.1\r\nHost: openpgpkey.a.test\r\n$C" \
    "encoded slash" 404
raw a.test "GET /$K/hu/$HA HTTP/1.1\r\nHost: a.test\r\n$C" "double slash" 404
raw a.test "GET $K/hu/$HA/ HTTP/1.1\r\nHost: a.test\r\n$C" "trailing slash" 404
raw a.test "GET $K/hu/$HA%% HTTP/1.1\r\nHost: a.test\r\n$C" "lone percent sign" 404
long=$(printf '%4000s' | tr ' ' a)
raw a.test "GET / HTTP/1.1\r\nHost: $long.a.test\r\n$C" "4000-byte Host" 404
raw a.test "GET / HTTP/1.1\r\nHost: [::1]:443\r\n$C" "IP literal Host" 404
raw a.test "GET $K/hu/$HA HTTP/1.1\r\nHost: a.test\r\nContent-Length: 99999999999999999999\r\n$C" \
    "absurd Content-Length" 413
raw a.test "GET $K/alice/hu HTTP/1.1\r\nHost: a.test\r\n$C" \
    "a local part in an unrouted path" 404
raw a.test "GET $K/hu/$HA?l=alice HTTP/1.1\r\nHost: a.test\r\n$C" \
    "the l= query" 200
check_wkdd "after hostile requests"
if grep -q alice "$LOG"; then
	fail "no local part in the log"
	grep alice "$LOG" | sed 's/^/#   /'
else
	pass "no local part in the log"
fi
stop_wkdd
finish
