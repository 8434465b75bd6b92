#!/bin/sh
# t_hsts: Strict-Transport-Security on every HTTPS answer (a key, the
# policy, the page, a 404, a 405, a CORS preflight, a 304, a 400 of the
# framing rules), max-age=31536000 by default and nothing more (no
# includeSubDomains: a customer domain's subdomains are not ours);
# "hsts N" sets max-age, "hsts off" drops it; never on plain HTTP
# (listen-http: ACME challenges and redirects).
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"

need curl certtool gpg
need_wkdctl

make_certs a.test '*.a.test'
make_store a.test
gen_key alice@a.test > /dev/null && ctl account add alice@a.test > /dev/null &&
    ctl import "$T/alice@a.test.pgp" > /dev/null 2>&1 ||
    { fail "a key for alice@a.test"; finish; }
HA=$(hash_of alice@a.test)
KEY=/.well-known/openpgpkey/hu/$HA
mkdir -p "$T/www" "$T/webroot"
echo '<!doctype html><title>wkd</title>' > "$T/www/index.html"

# get PATH [CURL-ARGS...]: plain HTTP to the listen-http port.
get() {
	_path=$1
	shift
	rm -f "$T/headers"
	STATUS=$(curl -sS --max-time 20 -o /dev/null -D "$T/headers" \
	    -w '%{http_code}' --resolve "a.test:$HPORT:127.0.0.1" "$@" \
	    "http://a.test:$HPORT$_path" 2>"$T/curl.err") || STATUS=000
	touch "$T/headers"
}

# hsts_on WANT: every kind of HTTPS answer carries WANT ("" for none).
hsts_on() {
	fetch a.test "$KEY"
	is "$STATUS:$(header Strict-Transport-Security)" "200:$1" "key 200: '$1'"
	etag=$(header ETag)
	fetch a.test "$KEY" -H "If-None-Match: $etag"
	is "$STATUS:$(header Strict-Transport-Security)" "304:$1" "key 304: '$1'"
	fetch a.test /.well-known/openpgpkey/policy
	is "$STATUS:$(header Strict-Transport-Security)" "200:$1" "policy: '$1'"
	fetch a.test /
	is "$STATUS:$(header Strict-Transport-Security)" "200:$1" "the page: '$1'"
	fetch a.test /.well-known/openpgpkey/hu/nosuchhash
	is "$STATUS:$(header Strict-Transport-Security)" "404:$1" "404: '$1'"
	fetch a.test "$KEY" -X POST
	is "$STATUS:$(header Strict-Transport-Security)" "405:$1" "405: '$1'"
	fetch a.test "$KEY" -X OPTIONS -H "Origin: https://x.test" \
	    -H "Access-Control-Request-Method: GET"
	is "$STATUS:$(header Strict-Transport-Security)" "204:$1" \
	    "CORS preflight: '$1'"
	fetch a.test "$KEY" -H "Content-Length: 0" -H "Content-Length: 0"
	is "$STATUS:$(header Strict-Transport-Security)" "400:$1" \
	    "400 (framing): '$1'"
	get "$KEY"
	is "$STATUS:$(header Strict-Transport-Security)" "301:" \
	    "plain HTTP redirect: none"
	get /.well-known/acme-challenge/nosuchtoken
	is "$STATUS:$(header Strict-Transport-Security)" "404:" \
	    "plain HTTP 404: none"
}

run_with() {
	write_conf "www $T/www" "listen-http 127.0.0.1:0" \
	    "acme-webroot $T/webroot" "$@"
	start_wkdd || finish
	HPORT=$(echo "$PORTS" | sed -n 2p)
}

# --- the default --------------------------------------------------------------
run_with
hsts_on "max-age=31536000"
"$WKDD" -nn -f "$CONF" > "$T/out" 2>&1
like "$T/out" "^hsts 31536000$" "wkdd -nn: hsts 31536000 by default"
stop_wkdd

# --- hsts N ---------------------------------------------------------------------
run_with "hsts 600"
hsts_on "max-age=600"
# A change waits for a restart, and says so.
sed -i 's/^hsts .*/hsts 86400/' "$CONF"
check "SIGHUP" reload_wkdd
like "$LOG" "sandbox, cpu-affinity and hsts change on restart only" \
    "a changed hsts on SIGHUP: logged, kept"
fetch a.test /.well-known/openpgpkey/policy
is "$(header Strict-Transport-Security)" "max-age=600" "... still 600"
stop_wkdd

# --- hsts off -------------------------------------------------------------------
run_with "hsts off"
hsts_on ""
"$WKDD" -nn -f "$CONF" > "$T/out" 2>&1
like "$T/out" "^hsts off$" "wkdd -nn: hsts off"
stop_wkdd

# --- bad values -------------------------------------------------------------------
for v in 0 -1 yes 630720001; do
	write_conf "hsts $v"
	"$WKDD" -n -f "$CONF" > "$T/out" 2>&1
	is "$?" 1 "hsts $v: refused"
	like "$T/out" "hsts: \"$v\" is not \"off\" or a number from 1 to 630720000" \
	    "... saying what it takes"
done

finish
