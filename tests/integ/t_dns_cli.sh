#!/bin/sh
# t_dns_cli: wkdctl dns on a real store: the records printed, the
# certificate lookup (tls-dir's live/NAME/fullchain.pem before tls-cert),
# the TLSA hash against openssl's, and bad usage (exit 2) or bad input
# (exit 1) changing nothing.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
O=${O:-$TOP/build}
case $O in /*) ;; *) O=$TOP/$O ;; esac
WKDCTL=${WKDCTL:-$O/wkdctl}

. "$TOP/tests/tap.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/wkdd-dns.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
finish() { tap_plan; exit; }
for t in certtool openssl; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "ok 1 # SKIP $t not installed"; echo 1..1; exit 0
	fi
done
if [ ! -x "$WKDCTL" ]; then
	echo "ok 1 # SKIP $WKDCTL not built"; echo 1..1; exit 0
fi

S=$T/store
ctl() { "$WKDCTL" -s "$S" "$@"; }
# run RC NAME CMD...: CMD's exit status must be RC; output in $T/out, $T/err.
run() {
	_want=$1 _name=$2
	shift 2
	"$@" > "$T/out" 2> "$T/err"
	_rc=$?
	if [ "$_rc" -eq "$_want" ] &&
	    ! grep -qE 'runtime error|AddressSanitizer' "$T/err"; then
		pass "$_name"
	else
		fail "$_name (exit $_rc, want $_want)"
		sed 's/^/#   /' "$T/out" "$T/err"
	fi
}
# has REGEX NAME: a line of $T/out matches.
has() {
	if grep -Eq -- "$1" "$T/out"; then pass "$2"; else
		fail "$2"
		sed 's/^/#   /' "$T/out"
	fi
}

if ! { mkdir -p "$S" && ctl init >/dev/null &&
    ctl domain add example.test >/dev/null; }; then
	fail "store"
	finish
fi
printf 'cn = "%s"\ndns_name = "%s"\ntls_www_server\nexpiration_days = 30\n' \
    openpgpkey.example.test openpgpkey.example.test > "$T/tmpl"
if ! { (umask 077 && certtool --generate-privkey --key-type=ecdsa \
    --outfile "$T/key.pem" >/dev/null 2>&1) &&
    certtool --generate-self-signed --load-privkey "$T/key.pem" \
    --template "$T/tmpl" --outfile "$T/cert.pem" >/dev/null 2>&1; }; then
	fail "certificate"
	finish
fi
want=$(openssl x509 -in "$T/cert.pem" -pubkey -noout |
    openssl pkey -pubin -outform DER | openssl dgst -sha256 -hex |
    sed 's/.*= *//' | tr a-f A-F)

run 0 "dns --target" ctl dns --target WKD.Service.Test --caa letsencrypt.org \
    --cert "$T/cert.pem" Example.Test.
has '^openpgpkey\.example\.test\.	3600	IN	CNAME	wkd\.service\.test\.$' \
    "CNAME to the normalised service name"
has '^example\.test\.	3600	IN	CAA	0 issue "letsencrypt\.org"$' \
    "--caa: the CAA record"
has '^; Alone, it would let no other CA issue for all of example\.test\.$' \
    "CAA: said what it does alone"
has '^; TLSA needs DNSSEC: it means something only in a signed zone\.$' \
    "TLSA: says it needs DNSSEC"
has "^_443\._tcp\.openpgpkey\.example\.test\.	3600	IN	TLSA	3 1 1 $want\$" \
    "TLSA 3 1 1 equals openssl's SHA-256 of the SubjectPublicKeyInfo"
if grep -q mta-sts "$T/out"; then fail "no MTA-STS lines without a policy"
else pass "no MTA-STS lines without a policy"; fi
if grep -vqE '^(;|[a-z0-9_.-]+\.	3600	IN	[A-Z]+	)' "$T/out"; then
	fail "every line a comment or a record"
else
	pass "every line a comment or a record"
fi

run 0 "dns --address" ctl dns --address 192.0.2.1 --address 2001:DB8::1 \
    example.test
has '^openpgpkey\.example\.test\.	3600	IN	A	192\.0\.2\.1$' "A"
has '^openpgpkey\.example\.test\.	3600	IN	AAAA	2001:db8::1$' "AAAA"
has '^; \(no TLSA record: no certificate for openpgpkey\.example\.test' \
    "no certificate: no TLSA line, and why"

# A fallback certificate (naming only the service): no TLSA for it, and why.
printf 'cn = "wkd.service.test"\ndns_name = "wkd.service.test"\ntls_www_server\nexpiration_days = 30\n' \
    > "$T/tmpl.fb"
certtool --generate-self-signed --load-privkey "$T/key.pem" \
    --template "$T/tmpl.fb" --outfile "$T/fallback.pem" >/dev/null 2>&1
run 0 "dns with a fallback certificate" ctl dns --target wkd.service.test \
    --cert "$T/fallback.pem" example.test
has "^; \(no TLSA record: $T/fallback.pem does not name openpgpkey\.example\.test" \
    "fallback certificate: no TLSA line, and why"
if ! grep -q 'TLSA	3 1 1' "$T/out" &&
    grep -q 'does not name openpgpkey.example.test: clients will refuse it' \
    "$T/err"; then
	pass "fallback certificate: no TLSA record, a warning"
else
	fail "fallback certificate: no TLSA record, a warning"
	sed 's/^/#   /' "$T/out" "$T/err"
fi

# tls-dir: live/openpgpkey.DOMAIN/fullchain.pem wins over tls-cert.
mkdir -p "$T/tls/live/openpgpkey.example.test"
(umask 077 && certtool --generate-privkey --key-type=ecdsa \
    --outfile "$T/key2.pem" >/dev/null 2>&1) &&
certtool --generate-self-signed --load-privkey "$T/key2.pem" \
    --template "$T/tmpl" \
    --outfile "$T/tls/live/openpgpkey.example.test/fullchain.pem" \
    >/dev/null 2>&1
run 0 "dns --tls-dir" ctl dns --target wkd.service.test --cert "$T/cert.pem" \
    --tls-dir "$T/tls" example.test
if grep -q "TLSA	3 1 1 [0-9A-F]\{64\}$" "$T/out" &&
    ! grep -q "$want" "$T/out"; then
	pass "tls-dir's certificate used, not tls-cert"
else
	fail "tls-dir's certificate used, not tls-cert"
fi

run 0 "a domain not hosted: records, and a warning" ctl dns --target \
    wkd.service.test other.test
if grep -q 'not hosted' "$T/err"; then pass "warning names it"; else
	fail "warning names it"; fi
run 2 "no --target or --address: usage" ctl dns example.test
run 2 "--target with --address: usage" ctl dns --target a.test \
    --address 192.0.2.1 example.test
run 2 "bad --address" ctl dns --address 192.0.2.256 example.test
run 2 "bad --tlsrpt" ctl dns --target a.test --tlsrpt 'mailto:a";b' \
    example.test
run 2 "--port is domain check's" ctl dns --target a.test --port 80 \
    example.test
run 2 "two domains" ctl dns --target a.test example.test b.test
run 1 "not a domain name" ctl dns --target a.test 'exa mple.test'

# The values wkdd.conf holds stand in for the options left out.
cat > "$T/wkdd.conf" <<EOF
store $S
tls-cert $T/cert.pem
service-name wkd.service.test
acme-ca letsencrypt.org
tlsrpt-rua mailto:tlsrpt@example.test
EOF
run 0 "dns, values from wkdd.conf" "$WKDCTL" -f "$T/wkdd.conf" dns \
    example.test
has '^openpgpkey\.example\.test\.	3600	IN	CNAME	wkd\.service\.test\.$' \
    "conf: CNAME to service-name"
has '^; example\.test\.	3600	IN	CAA	0 issue "letsencrypt\.org"$' \
    "conf: CAA from acme-ca, as a comment (not asked for with --caa)"
has "^_443\._tcp\.openpgpkey\.example\.test\.	3600	IN	TLSA	3 1 1 $want\$" \
    "conf: TLSA of tls-cert"
run 0 "dns, an option wins over wkdd.conf" "$WKDCTL" -f "$T/wkdd.conf" dns \
    --address 192.0.2.9 example.test
has '^openpgpkey\.example\.test\.	3600	IN	A	192\.0\.2\.9$' \
    "conf: --address replaces service-name"
sed -i 's/^service-name.*/service-address 192.0.2.10/' "$T/wkdd.conf"
run 0 "dns, service-address from wkdd.conf" "$WKDCTL" -f "$T/wkdd.conf" dns \
    example.test
has '^openpgpkey\.example\.test\.	3600	IN	A	192\.0\.2\.10$' \
    "conf: A from service-address"

# The options that stand in for directives refuse exactly what wkdd.conf
# refuses (conf.c's validators): --tlsrpt as tlsrpt-rua, --target as
# service-name, --caa as acme-ca.  Accepted means exit 0 both ways;
# refused means exit 1 for the file, 2 for the option, with one message.
# same OPTION DIRECTIVE VALUE
same() {
	printf 'store %s\n%s %s\n' "$S" "$2" "$3" > "$T/same.conf"
	"$WKDCTL" -f "$T/same.conf" dns --target a.test example.test \
	    > /dev/null 2> "$T/err.conf"
	frc=$?
	if [ "$1" = --target ]; then
		ctl dns "$1" "$3" example.test > /dev/null 2> "$T/err.opt"
	else
		ctl dns --target a.test "$1" "$3" example.test > /dev/null \
		    2> "$T/err.opt"
	fi
	orc=$?
	what="$1 '$(printf %.32s "$3")' ($(printf %s "$3" | wc -c) bytes) as $2"
	fmsg=$(sed -n "s/^wkdctl: .*: $2: //p" "$T/err.conf")
	omsg=$(sed -n "s/^wkdctl: $1: //p" "$T/err.opt" |
	    sed 's/ (want a .*//')
	if { [ $frc -eq 0 ] && [ $orc -eq 0 ]; } ||
	    { [ $frc -eq 1 ] && [ $orc -eq 2 ] && [ -n "$fmsg" ] &&
	    [ "$fmsg" = "$omsg" ]; }; then
		pass "$what: exit $frc/$orc"
	else
		fail "$what: file exit $frc, option exit $orc"
		sed 's/^/#   /' "$T/err.conf" "$T/err.opt"
	fi
}
for v in mailto:t@example.test https://r.example/x https://r \
    'mailto:a@b,https://r.example/x' mailto:@ \
    mailto: mailto:nobody https:// http://r.example/ t@example.test \
    MAILTO:a@b 'mailto:a@b,' ',mailto:a@b' 'mailto:a@b,,https://r' \
    'mailto:a@b,https://' 'mailto:a@b;v=x' 'mailto:a"@b' 'mailto:a\@b' \
    "https://$(printf '%0247d' 0)" "https://$(printf '%0248d' 0)" \
    "mailto:a@b$(printf '\303\274')"; do
	same --tlsrpt tlsrpt-rua "$v"
done
for v in wkd.service.test WKD.Service.Test. "b$(printf '\303\274')cher.test" \
    a..b -a.test a-.test a_b.test '*.test' a:80 .; do
	same --target service-name "$v"
	same --caa acme-ca "$v"
done
finish
