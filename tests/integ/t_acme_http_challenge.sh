#!/bin/sh
# t_acme_http_challenge: the plain HTTP listener (listen-http) answers ACME
# HTTP-01 challenges from acme-webroot (certbot --webroot's layout) for
# hosted names only (D, openpgpkey.D, mta-sts.D), refuses anything that
# could leave the challenge directory, and redirects every other request
# for a hosted name to https://; the pidfile works for SIGHUP and is
# removed on exit.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"

need curl certtool
need_wkdctl

make_certs a.test '*.a.test'
make_store a.test b.test
WEB=$T/webroot
CH=$WEB/.well-known/acme-challenge
mkdir -p "$CH"
TOKEN=LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0
KEYAUTH="$TOKEN.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
printf '%s' "$KEYAUTH" > "$CH/$TOKEN"
echo "secret" > "$T/secret.txt"
echo "outside" > "$WEB/.well-known/outside.txt"
ln -s "$T/secret.txt" "$CH/link"
mkdir "$CH/dir"
write_conf "listen-http 127.0.0.1:0" "acme-webroot $WEB" \
    "pidfile $T/wkdd.pid"
start_wkdd || finish
HPORT=$(echo "$PORTS" | sed -n 2p)
check "-R reports the HTTPS then the HTTP port" [ -n "$HPORT" ]

# get HOST PATH [CURL-ARGS...]: one plain HTTP request, no redirect
# followed; sets STATUS, body in $T/body, headers in $T/headers.
get() {
	_host=$1 _path=$2
	shift 2
	rm -f "$T/body" "$T/headers"
	STATUS=$(curl -sS --path-as-is --max-time 20 -o "$T/body" \
	    -D "$T/headers" -w '%{http_code}' \
	    --resolve "$_host:$HPORT:127.0.0.1" "$@" \
	    "http://$_host:$HPORT$_path" 2>"$T/curl.err") || STATUS=000
	touch "$T/body" "$T/headers"
}

A=/.well-known/acme-challenge
for h in a.test openpgpkey.a.test mta-sts.a.test OPENPGPKEY.A.Test. \
    openpgpkey.b.test; do
	get "$h" "$A/$TOKEN"
	if [ "$STATUS" = 200 ] && [ "$(cat "$T/body")" = "$KEYAUTH" ]; then
		pass "challenge for $h served"
	else
		fail "challenge for $h served ($STATUS)"
	fi
done
get a.test "$A/$TOKEN"
is "$(header Content-Type)" "text/plain" "challenge: text/plain"
get a.test "$A/$TOKEN" -I
is "$STATUS" 200 "challenge: HEAD"

# Names not hosted: 404, no redirect either.
for h in z.test openpgpkey.z.test www.a.test mta-sts.openpgpkey.a.test; do
	get "$h" "$A/$TOKEN"
	is "$STATUS" 404 "challenge for $h (not hosted): 404"
	get "$h" /
	is "$STATUS" 404 "redirect for $h (not hosted): 404"
done
# HTTP/1.1 without Host: 400 (RFC 9112 3.2; frame.c).
get a.test "$A/$TOKEN" -H 'Host:'
is "$STATUS" 400 "no Host: 400"
get a.test "$A/$TOKEN" -H 'Host: 127.0.0.1'
is "$STATUS" 404 "Host 127.0.0.1: 404"

# Ways out of the challenge directory, and what isn't a token file.
for p in "$A/../outside.txt" "$A/%2e%2e/outside.txt" "$A/..%2foutside.txt" \
    "$A/.." "$A/link" "$A/dir" "$A/missing" "$A/" "$A" \
    "$A/$TOKEN/" "$A/$TOKEN.x" "$A/%2E%2E%2F%2E%2E%2Fsecret.txt" \
    "$A/..%5C..%5Csecret.txt" "/.well-known/acme-challenge%2f$TOKEN" \
    "$A/$TOKEN%00"; do
	get a.test "$p"
	if [ "$STATUS" = 404 ] && ! grep -q 'secret\|outside' "$T/body"; then
		pass "404: $p"
	else
		fail "404: $p (got $STATUS)"
	fi
done

# Everything else for a hosted name: 301 to https, same path.
get openpgpkey.a.test "/.well-known/openpgpkey/a.test/policy"
is "$STATUS" 301 "WKD path over http: 301"
is "$(header Location)" \
    "https://openpgpkey.a.test/.well-known/openpgpkey/a.test/policy" \
    "Location: https://, same host and path, no port"
get a.test "/"
is "$(header Location)" "https://a.test/" "redirect of /"
get A.TEST. "/x"
is "$(header Location)" "https://a.test/x" "redirect to the normalised name"
get a.test "/x?l=alice"
is "$STATUS" 301 "with a query: 301"
get a.test "/%0d%0aSet-Cookie:x"
is "$(header Location)" "https://a.test/%0d%0aSet-Cookie:x" \
    "escapes stay escaped in Location"
is "$(header Set-Cookie)" "" "no header injection"
get a.test "$A/$TOKEN" -X POST
is "$STATUS" 405 "POST: 405"
get a.test "/" -X DELETE
is "$STATUS" 405 "DELETE: 405"

# The HTTPS listener knows nothing of challenges.
fetch a.test "$A/$TOKEN"
is "$STATUS" 404 "challenge over https: 404"
fetch a.test /.well-known/openpgpkey/policy
is "$STATUS" 200 "https still serves"
check_wkdd "plain HTTP"

# The pidfile: wkdd's pid, usable for SIGHUP, gone after exit.
is "$(cat "$T/wkdd.pid" 2>/dev/null)" "$WKDD_PID" "pidfile holds the pid"
_n=$(grep -c 'reloaded' "$LOG")
kill -HUP "$(cat "$T/wkdd.pid")"
wait_log 'reloaded' $((_n + 1))
check "SIGHUP through the pidfile: reloaded" [ $? -eq 0 ]
get a.test "$A/$TOKEN"
is "$STATUS" 200 "challenge still served after reload"
check_wkdd "reload"
if stop_wkdd; then
	pass "wkdd exits 0 on SIGTERM"
else
	fail "wkdd exits 0 on SIGTERM"
fi
check "pidfile removed on exit" [ ! -e "$T/wkdd.pid" ]
check "log clean after exit" log_clean

# No acme-webroot: challenges are 404, redirects still work.
write_conf "listen-http 127.0.0.1:0"
start_wkdd || finish
HPORT=$(echo "$PORTS" | sed -n 2p)
get a.test "$A/$TOKEN"
is "$STATUS" 404 "no acme-webroot: challenge 404"
get a.test "/"
is "$STATUS" 301 "no acme-webroot: redirect"
stop_wkdd
write_conf "listen-http 127.0.0.1:0" "acme-webroot $T/nonexistent"
"$WKDD" -d -f "$CONF" > "$T/n.out" 2>&1 &
_pid=$!
wait $_pid
is "$?" 1 "missing acme-webroot: wkdd refuses to start"
grep -q "acme-webroot $T/nonexistent: No such file" "$T/n.out"
check "missing acme-webroot: reason given" [ $? -eq 0 ]
finish
