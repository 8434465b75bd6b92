#!/bin/sh
# t_framing: strict request framing.  Each malformed request (a GET or
# HEAD with a body header, a repeated Content-Length or Host, whitespace
# in a header name, an unknown HTTP version), sent over raw TLS
# (rawtls.py: the bytes as written, nothing normalised), gets one 400 and
# the connection closed: nothing after it is read as a second request.
# A good request on the same kind of connection is answered 200 and the
# connection kept.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"

need certtool python3
need_wkdctl

make_certs a.test '*.a.test'
make_store a.test
write_conf
start_wkdd || finish

P=/.well-known/openpgpkey/policy
CR=$(printf '\r')
# raw NAME TEXT: TEXT's lines ended with CRLF, sent in one TLS connection;
# the status lines answered and "closed" or "open" in $T/raw.
raw() {
	printf '%s\n' "$2" | sed "s/\$/$CR/" |
	    python3 "$TOP/tests/integ/rawtls.py" "$PORT" "$T/ca.pem" a.test \
	    > "$T/raw" 2>"$T/raw.err"
}
# bad NAME TEXT: one 400, then the connection closed.
bad() {
	raw "$1" "$2"
	is "$(tr '\n' ' ' < "$T/raw")" "HTTP/1.1 400 Bad Request closed " "$1"
}

raw "good: two requests on one connection" "GET $P HTTP/1.1
Host: a.test

GET $P HTTP/1.1
Host: a.test
"
is "$(tr '\n' ' ' < "$T/raw")" "HTTP/1.1 200 OK HTTP/1.1 200 OK open " \
    "good: two requests answered, the connection kept"

bad "GET with Content-Length: 0 and a second Content-Length" "GET $P HTTP/1.1
Host: a.test
Content-Length: 0
Content-Length: 39

GET $P HTTP/1.1
Host: a.test
"
bad "GET with 'Content-Length : N' (space before the colon)" "GET $P HTTP/1.1
Host: a.test
Content-Length : 39

GET $P HTTP/1.1
Host: a.test
"
bad "GET with Content-Length: 0" "GET $P HTTP/1.1
Host: a.test
Content-Length: 0
"
bad "GET with Transfer-Encoding: chunked" "GET $P HTTP/1.1
Host: a.test
Transfer-Encoding: chunked

0
"
bad "HEAD with Content-Length: 0" "HEAD $P HTTP/1.1
Host: a.test
Content-Length: 0
"
bad "two Host headers" "GET $P HTTP/1.1
Host: a.test
Host: b.test
"
bad "a tab in a header name" "GET $P HTTP/1.1
Host: a.test
X-Foo	: bar
"
bad "HTTP/1.9" "GET $P HTTP/1.9
Host: a.test
"
bad "HTTP/1.1 without Host" "GET $P HTTP/1.1
"
bad "a space in the request target" "GET $P x HTTP/1.1
Host: a.test
"
check_wkdd "after the malformed requests"
finish
