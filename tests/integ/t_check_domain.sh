#!/bin/sh
# t_check_domain: wkdctl domain check against a real DNS server (nsd) and a
# real wkdd, in network namespaces of their own (tests/integ/netns.sh).
# One correct zone, made of wkdctl dns's own output, must pass; broken ones
# (no openpgpkey record, a wildcard capturing it, a wrong TLSA record, an
# expired certificate, a CAA record for another CA) must each be reported
# with a fix, and exit 1.  A certificate expiring within 14 days, or a
# wildcard that happens to point at the service, is a warning (exit 0).
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
O=${O:-$TOP/build}
case $O in /*) ;; *) O=$TOP/$O ;; esac
WKDD=${WKDD:-$O/wkdd}
WKDCTL=${WKDCTL:-$O/wkdctl}
. "$TOP/tests/integ/netns.sh"

. "$TOP/tests/tap.sh"
finish() {
	if [ "$tap_fail" -gt 0 ] && [ -n "$NETNS_DIR" ]; then
		for f in "$NETNS_DIR"/*.log; do
			[ -f "$f" ] || continue
			echo "# --- $f"
			sed 's/^/#   /' "$f"
		done
	fi
	[ -d "${GNUPGHOME:-}" ] && gpgconf --kill gpg-agent >/dev/null 2>&1
	netns_down
	tap_plan
	exit
}

for t in certtool gpg timeout mdb_load; do
	command -v $t >/dev/null 2>&1 || skip_all "$t not installed"
done
netns_require || skip_all "$netns_why"
[ -x "$WKDD" ] || skip_all "$WKDD not built"
[ -x "$WKDCTL" ] || skip_all "$WKDCTL not built"

netns_up || { fail "network namespaces"; finish; }
T=$NETNS_DIR
S=$T/store
GNUPGHOME=$T/gnupg
export GNUPGHOME
ctl() { "$WKDCTL" -s "$S" "$@"; }

# Certificates: a test CA; one certificate for every openpgpkey name served
# by wkdd at 192.0.2.1, one that expired in 2020 for the wkdd at 192.0.2.3,
# one expiring in 5 days for the wkdd at 192.0.2.4.
DOMS="good.test nocname.test wild.test badtlsa.test caa.test expired.test
    soon.test wildok.test unsigned.test bogus.test multi.test"
mkcert() {	# OUT KEY TEMPLATE-LINES
	(umask 077 && certtool --generate-privkey --key-type=ecdsa \
	    --outfile "$2" >/dev/null 2>&1) &&
	printf '%s\n' "$3" > "$T/tmpl" &&
	certtool --generate-certificate --load-privkey "$2" \
	    --load-ca-certificate "$T/ca.pem" --load-ca-privkey "$T/ca.key" \
	    --template "$T/tmpl" --outfile "$1" >/dev/null 2>&1
}
printf 'cn = "wkdd test CA"\nca\ncert_signing_key\nexpiration_days = 60\n' \
    > "$T/ca.tmpl"
if certtool --generate-privkey --key-type=ecdsa --outfile "$T/ca.key" \
    >/dev/null 2>&1 &&
    certtool --generate-self-signed --load-privkey "$T/ca.key" \
    --template "$T/ca.tmpl" --outfile "$T/ca.pem" >/dev/null 2>&1 &&
    mkcert "$T/cert.pem" "$T/key.pem" "cn = \"openpgpkey.good.test\"
$(for d in $DOMS; do echo "dns_name = \"openpgpkey.$d\""; done)
dns_name = "nocname.test"
tls_www_server
expiration_days = 30" &&
    mkcert "$T/soon.pem" "$T/soon.key" 'cn = "openpgpkey.soon.test"
dns_name = "openpgpkey.soon.test"
tls_www_server
expiration_days = 5' &&
    mkcert "$T/old.pem" "$T/old.key" 'cn = "openpgpkey.expired.test"
dns_name = "openpgpkey.expired.test"
tls_www_server
activation_date = "2020-01-01 00:00:00"
expiration_date = "2020-02-01 00:00:00"'; then
	pass "certificates"
else
	fail "certificates"
	finish
fi

# The store: every domain hosted, alice's key published in good.test,
# expired.test and soon.test.
mkdir -p "$S" || { fail "setup: mkdir -p S"; finish; }
mkdir -m 700 "$GNUPGHOME" || { fail "setup: mkdir -m 700 GNUPGHOME"; finish; }
ok=1
ctl init >/dev/null || ok=0
for d in $DOMS; do
	ctl domain add "$d" >/dev/null || ok=0
done
for a in alice@good.test alice@expired.test alice@soon.test \
    alice@nocname.test; do
	gpg -q --batch --pinentry-mode loopback --passphrase '' \
	    --quick-gen-key "Alice <$a>" ed25519 default never >/dev/null 2>&1 &&
	gpg -q --batch --export "=Alice <$a>" > "$T/$a.pgp" &&
	ctl account add "$a" >/dev/null &&
	ctl import "$T/$a.pgp" >/dev/null || ok=0
done
if [ $ok = 1 ]; then pass "store made with wkdctl"; else
	fail "store made with wkdctl"
	finish
fi
# multi.test: keep-revoked on, alice's key replaced and the old one
# revoked: the key served holds two keys (OpenKeychain takes one).
ok=1
for n in Old New; do
	gpg -q --batch --pinentry-mode loopback --passphrase '' \
	    --quick-gen-key "$n <alice@multi.test>" ed25519 default never \
	    >/dev/null 2>&1 || ok=0
done
fold=$(gpg --with-colons --list-keys '=Old <alice@multi.test>' 2>/dev/null |
    awk -F: '$1 == "fpr" { print $10; exit }')
gpg -q --batch --pinentry-mode loopback --passphrase '' \
    --export-secret-keys "=Old <alice@multi.test>" > "$T/multi.old" &&
gpg -q --batch --export "=New <alice@multi.test>" > "$T/multi.new" &&
ctl account add alice@multi.test >/dev/null &&
ctl import "$T/multi.old" >/dev/null 2>&1 &&
ctl import "$T/multi.new" >/dev/null 2>&1 &&
ctl revoke --reason superseded "$fold" >/dev/null 2>&1 &&
ctl domain set multi.test keep-revoked on >/dev/null 2>&1 || ok=0
if [ $ok = 1 ]; then pass "multi.test: a replaced, revoked key served too"; else
	fail "multi.test: a replaced, revoked key served too"
fi

# wkdd: the service (wkd.service.test, 192.0.2.1 and 2001:db8::1), an old instance whose
# certificate expired (old.service.test, 192.0.2.3), one whose certificate
# is about to (soon.service.test, 192.0.2.4).
netns_addr 192.0.2.3 || { fail "setup: netns_addr 192.0.2.3"; finish; }
netns_addr 192.0.2.4 || { fail "setup: netns_addr 192.0.2.4"; finish; }
printf 'listen %s:443\nlisten [%s]:443\nstore %s\ntls-cert %s\ntls-key %s\nuser root\n' \
    "$NETNS_SRV4" "$NETNS_SRV6" "$S" "$T/cert.pem" "$T/key.pem" \
    > "$T/new.conf"
printf 'listen %s:443\nstore %s\ntls-cert %s\ntls-key %s\nuser root\n' \
    192.0.2.3 "$S" "$T/old.pem" "$T/old.key" > "$T/old.conf"
printf 'listen %s:443\nstore %s\ntls-cert %s\ntls-key %s\nuser root\n' \
    192.0.2.4 "$S" "$T/soon.pem" "$T/soon.key" > "$T/soon.conf"
if netns_bg_ready wkdd "$WKDD" -d -f "$T/new.conf" -R 3 &&
    netns_bg_ready wkdd-old "$WKDD" -d -f "$T/old.conf" -R 3 &&
    netns_bg_ready wkdd-soon "$WKDD" -d -f "$T/soon.conf" -R 3; then
	pass "wkdd on 192.0.2.1, .3 and .4, port 443"
else
	fail "wkdd on 192.0.2.1, .3 and .4, port 443"
	finish
fi

# DNS, DNSSEC-signed: a root zone (its DS the trust anchor) and test.
# delegate to each zone; all signed but unsigned.test and bogus.test.
# good.test's zone is what wkdctl dns prints (comments dropped).
netns_dnssec || { fail "netns_dnssec (ldnsutils)"; finish; }
if ctl dns --target wkd.service.test --caa testca.test \
    --cert "$T/cert.pem" good.test > "$T/good.dns" 2> "$T/dns.err" &&
    grep -q '^openpgpkey.good.test.	3600	IN	CNAME	wkd.service.test.$' \
    "$T/good.dns" && grep -q '	TLSA	3 1 1 [0-9A-F]\{64\}$' "$T/good.dns"; then
	pass "wkdctl dns: CNAME and TLSA lines"
else
	fail "wkdctl dns: CNAME and TLSA lines"
	sed 's/^/#   /' "$T/good.dns" "$T/dns.err"
fi
grep -v '^;' "$T/good.dns" | netns_zone good.test
netns_zone service.test <<EOF
wkd	A	$NETNS_SRV4
wkd	AAAA	$NETNS_SRV6
old	A	192.0.2.3
soon	A	192.0.2.4
EOF
# No openpgpkey record; the apex is wkdd (the direct method works).
netns_zone nocname.test <<EOF
@	A	$NETNS_SRV4
www	A	192.0.2.50
EOF
# The wildcard captures openpgpkey.wild.test: a host without HTTPS.
netns_addr 192.0.2.50 || { fail "setup: netns_addr 192.0.2.50"; finish; }
netns_zone wild.test <<EOF
*	A	192.0.2.50
EOF
netns_zone unsigned.test unsigned <<EOF
openpgpkey	CNAME	wkd.service.test.
EOF
netns_zone bogus.test bogus <<EOF
openpgpkey	CNAME	wkd.service.test.
EOF
netns_zone multi.test <<EOF
openpgpkey	CNAME	wkd.service.test.
EOF
netns_zone wildok.test <<EOF
*	CNAME	wkd.service.test.
EOF
netns_zone badtlsa.test <<EOF
openpgpkey	CNAME	wkd.service.test.
_443._tcp.openpgpkey	TLSA	3 1 1 $(printf '%064d' 0)
EOF
netns_zone caa.test <<EOF
@	CAA	0 issue "otherca.test"
openpgpkey	CNAME	wkd.service.test.
EOF
netns_zone expired.test <<EOF
openpgpkey	CNAME	old.service.test.
EOF
netns_zone soon.test <<EOF
openpgpkey	CNAME	soon.service.test.
EOF
if nsd_start; then pass "nsd serves the test zones"; else
	fail "nsd serves the test zones"
	finish
fi

# domain_check DOMAIN TARGET: wkdctl domain check from the client namespace; output
# in $T/DOMAIN.out, exit status in $rc.
domain_check() {
	netns_cli "$WKDCTL" -s "$S" domain check --target "$2" \
	    --caa testca.test --cafile "$T/ca.pem" \
	    --trust-anchor "$NETNS_ANCHOR" "$1" > "$T/$1.out" 2>&1
	rc=$?
}
# expect DOMAIN RC REGEX NAME: exit status and a line matching REGEX.
expect() {
	if [ "$rc" -eq "$2" ] && grep -Eq -- "$3" "$T/$1.out"; then
		pass "$1: $4"
	else
		fail "$1: $4"
		echo "#   exit $rc (want $2), no line /$3/ in:"
		sed 's/^/#     /' "$T/$1.out"
	fi
}

domain_check good.test wkd.service.test
expect good.test 0 '^good.test: 0 failed' "correct zone passes (exit 0)"
expect good.test 0 '^ok: openpgpkey.good.test is a CNAME to wkd.service.test \(192.0.2.1 2001:db8::1\)' \
    "CNAME found"
expect good.test 0 '^ok: 192.0.2.1 port 443: valid certificate for openpgpkey.good.test' \
    "certificate valid"
expect good.test 0 '^ok: 192.0.2.1 port 443: policy file served' \
    "policy fetched"
expect good.test 0 '^ok: 192.0.2.1 port 443: a published key served .*as stored' \
    "key fetched, the stored bytes"
expect good.test 0 '^ok: \[2001:db8::1\] port 443: a published key served .*as stored' \
    "key fetched over IPv6 too"
expect good.test 0 '^ok: TLSA 3 1 1 of openpgpkey.good.test matches the certificate served' \
    "TLSA matches the certificate served"
expect good.test 0 '^ok: CAA at good.test lets testca.test issue' "CAA"
if grep -q 'alice' "$T/good.test.out"; then
	fail "good.test: output names no local part"
else
	pass "good.test: output names no local part"
fi

domain_check nocname.test wkd.service.test
expect nocname.test 1 '^FAIL: openpgpkey.nocname.test does not exist.* — fix: publish "openpgpkey.nocname.test. CNAME wkd.service.test."' \
    "missing CNAME reported"

domain_check wild.test wkd.service.test
expect wild.test 1 '^FAIL: the wildcard \*.wild.test captures openpgpkey.wild.test .* — fix: publish "openpgpkey.wild.test. CNAME wkd.service.test."' \
    "wildcard reported"

domain_check wildok.test wkd.service.test
expect wildok.test 0 '^warn: openpgpkey.wildok.test answers as the wildcard \*.wildok.test does' \
    "wildcard pointing at the service: a warning, exit 0"

domain_check badtlsa.test wkd.service.test
expect badtlsa.test 1 '^FAIL: TLSA records of openpgpkey.badtlsa.test do not match the certificate served.* — fix: publish "_443._tcp.openpgpkey.badtlsa.test. TLSA 3 1 1 [0-9A-F]{64}"' \
    "wrong TLSA reported"
expect badtlsa.test 1 '^ok: 192.0.2.1 port 443: policy file served' \
    "the rest still checked"

domain_check caa.test wkd.service.test
expect caa.test 1 '^FAIL: CAA records at caa.test do not let testca.test issue' \
    "CAA for another CA reported"

domain_check expired.test old.service.test
expect expired.test 1 '^FAIL: 192.0.2.3 port 443: clients refuse the certificate for openpgpkey.expired.test \(expires 2020-02-01.* — fix: renew the certificate' \
    "expired certificate reported"

domain_check soon.test soon.service.test
expect soon.test 0 '^warn: 192.0.2.4 port 443: the certificate for openpgpkey.soon.test expires within 14 days' \
    "certificate expiring in 5 days: a warning, exit 0"
expect soon.test 0 '^ok: 192.0.2.4 port 443: a published key served' \
    "and the rest passes"

# DNSSEC: each DNS verdict says whether it was validated.
expect good.test 0 '^ok: good.test is signed: DNSSEC validates' \
    "signed zone: secure"
domain_check unsigned.test wkd.service.test
expect unsigned.test 0 '^ok: unsigned.test is unsigned \(no DNSSEC\)' \
    "unsigned zone reported as unsigned, exit 0"
expect unsigned.test 0 '^ok: no TLSA record for openpgpkey.unsigned.test; its zone is unsigned, and TLSA \(DANE\) needs DNSSEC' \
    "unsigned zone: no TLSA advice, DANE needs DNSSEC"
domain_check bogus.test wkd.service.test
expect bogus.test 1 '^FAIL: bogus.test: DNSSEC validation fails \(bogus: .*signature.* — fix: fix the zone.s DNSSEC signatures' \
    "bad signatures: bogus, with the fix"
expect bogus.test 1 '^FAIL: openpgpkey.bogus.test: DNSSEC validation fails \(bogus\)' \
    "bogus: openpgpkey record unusable"

# No resolver: said so, the zone not blamed, nothing stored.
netns_cli "$WKDCTL" -s "$S" domain check --target wkd.service.test \
    --cafile "$T/ca.pem" --trust-anchor "$NETNS_ANCHOR" \
    --resolver 192.0.2.1@5353 unsigned.test > "$T/nores.out" 2>&1
rc=$?
expect nores 1 '^FAIL: no working resolver at 192.0.2.1@5353: nothing checked in DNS' \
    "no resolver: said so, exit 1"
if ! grep -Eq 'openpgpkey.unsigned.test|^GnuPG' "$T/nores.out" &&
    grep -q 'not stored' "$T/nores.out"; then
	pass "no resolver: nothing said of the zone, nothing stored"
else
	fail "no resolver: nothing said of the zone, nothing stored"
	sed 's/^/#   /' "$T/nores.out"
fi

# Per-client verdicts, as in the stored document (version 2).
jq_() { python3 -c "import json,sys; v=json.load(open(sys.argv[1])); print($2)" "$1"; }
# verdicts DOMAIN NAME WANT: "client method status" of each client.
verdicts() {
	ctl domain check --last --json "$1" > "$T/$1.v" 2>&1
	got=$(jq_ "$T/$1.v" '"; ".join("%s %s %s" % (c["client"], c["method"], c["status"]) for c in v["clients"])')
	if [ "$got" = "$3" ]; then
		pass "$1: clients: $2"
	else
		fail "$1: clients: $2"
		echo "#   got:  $got"
		echo "#   want: $3"
		grep -E '^[A-Z].*method' "$T/$1.out" | sed 's/^/#   /'
	fi
}
verdicts good.test "all find keys by the advanced method" \
    "GnuPG advanced ok; Sequoia advanced ok; Thunderbird advanced ok; OpenPGP.js/Mailvelope advanced ok; OpenKeychain advanced ok"
verdicts nocname.test "no openpgpkey record: all use the direct method, which works" \
    "GnuPG direct ok; Sequoia direct ok; Thunderbird direct ok; OpenPGP.js/Mailvelope direct ok; OpenKeychain direct ok"
domain_check multi.test wkd.service.test
verdicts multi.test "two keys served (keep-revoked): OpenKeychain fails" \
    "GnuPG advanced ok; Sequoia advanced ok; Thunderbird advanced ok; OpenPGP.js/Mailvelope advanced ok; OpenKeychain advanced fail"
if jq_ "$T/multi.test.v" '[c["fix"] for c in v["clients"] if c["client"] == "OpenKeychain"][0]' |
    grep -q '^wkdctl domain set multi.test keep-revoked off'; then
	pass "multi.test: OpenKeychain's fix is keep-revoked off"
else
	fail "multi.test: OpenKeychain's fix is keep-revoked off"
fi
verdicts wild.test "wildcard captures openpgpkey: gpg, Mailvelope, OpenKeychain stuck on it" \
    "GnuPG advanced fail; Sequoia direct fail; Thunderbird direct fail; OpenPGP.js/Mailvelope advanced fail; OpenKeychain advanced fail"
verdicts expired.test "expired certificate: no fall-back for gpg and OpenKeychain" \
    "GnuPG advanced fail; Sequoia direct fail; Thunderbird direct fail; OpenPGP.js/Mailvelope advanced fail; OpenKeychain advanced fail"
if [ "$(jq_ "$T/wild.test.v" '[c["fix"] for c in v["clients"] if c["client"] == "GnuPG"][0]')" = \
    'publish "openpgpkey.wild.test. CNAME wkd.service.test."' ] &&
    jq_ "$T/wild.test.v" '[c["detail"] for c in v["clients"] if c["client"] == "GnuPG"][0]' |
    grep -q 'does not fall back: the wildcard' &&
    [ "$(jq_ "$T/expired.test.v" '[c["fix"] for c in v["clients"] if c["client"] == "OpenKeychain"][0]')" = \
    'renew the certificate' ]; then
	pass "client verdicts carry the cause and the fix"
else
	fail "client verdicts carry the cause and the fix"
	sed 's/^/#   /' "$T/wild.test.v"
fi
if [ "$(jq_ "$T/good.test.v" 'v["dnssec"], v["resolver"], v["methods"]["advanced"]["status"], v["methods"]["advanced"]["host"], v["methods"]["direct"]["resolves"]')" = \
    "secure $NETNS_DNS ok openpgpkey.good.test False" ] &&
    [ "$(jq_ "$T/nocname.test.v" 'v["methods"]["advanced"]["resolves"], v["methods"]["direct"]["status"], v["methods"]["direct"]["key"]')" = \
    "False ok True" ] &&
    [ "$(ctl domain check --last --json unsigned.test | python3 -c 'import json,sys; v=json.load(sys.stdin); print(v["dnssec"], sorted(set(r.get("dnssec", "-") for r in v["results"] if r["area"] in ("dns", "tlsa"))))')" = \
    "insecure ['insecure']" ] &&
    [ "$(ctl domain check --last --json bogus.test | python3 -c 'import json,sys; print(json.load(sys.stdin)["dnssec"])')" = bogus ]; then
	pass "stored v2 document: resolver, dnssec, methods"
else
	fail "stored v2 document: resolver, dnssec, methods"
	sed 's/^/#   /' "$T/good.test.v"
fi
if grep -qi -e alice "$T"/*.v; then
	fail "verdicts name no local part"
else
	pass "verdicts name no local part"
fi

# The stored result: each check above was kept as its domain's last check
# (ks_check_put), the document --json prints; the admin API's last_check.
if ctl domain check --last --json good.test > "$T/good.last" 2>&1 &&
    [ "$(jq_ "$T/good.last" 'v["version"], v["domain"], v["host"], v["failed"]')" = \
    "2 good.test openpgpkey.good.test 0" ] &&
    [ "$(jq_ "$T/good.last" 'len(v["results"]) > 5 and all(r["status"] in ("ok","warn","fail") for r in v["results"])')" = True ] &&
    jq_ "$T/good.last" 'v["checked"]' | grep -Eq '^20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-9:]{8}Z$'; then
	pass "good.test: the check was stored (--last --json)"
else
	fail "good.test: the check was stored (--last --json)"
	sed 's/^/#   /' "$T/good.last"
fi
# Its results are the lines printed, in order, area by area.
grep -E '^(ok|warn|FAIL): ' "$T/good.test.out" > "$T/good.lines"
ctl domain check --last good.test 2>&1 | grep -E '^(ok|warn|FAIL): ' \
    > "$T/good.lastlines"
if [ -s "$T/good.lines" ] && cmp -s "$T/good.lines" "$T/good.lastlines" &&
    [ "$(jq_ "$T/good.last" '" ".join(sorted(set(r["area"] for r in v["results"])))')" = \
    "caa dns dnssec https store tlsa" ]; then
	pass "good.test: --last prints the lines the check printed"
else
	fail "good.test: --last prints the lines the check printed"
	diff "$T/good.lines" "$T/good.lastlines" | sed 's/^/#   /'
fi
HASH=$(ctl hash alice@good.test 2>/dev/null | awk '{ print $NF }' | grep -Eo '[a-z0-9]{32}' | head -1)
if [ -n "$HASH" ] && ! grep -qi -e alice -e "$HASH" "$T/good.last"; then
	pass "stored result names neither the local part nor its hash"
else
	fail "stored result names neither the local part nor its hash ($HASH)"
fi
if ctl domain check --last --json nocname.test > "$T/nocname.last" &&
    [ "$(jq_ "$T/nocname.last" '[r["fix"] for r in v["results"] if r["status"] == "fail"][0]')" = \
    'publish "openpgpkey.nocname.test. CNAME wkd.service.test."' ]; then
	pass "nocname.test: the failure and its fix stored"
else
	fail "nocname.test: the failure and its fix stored"
	sed 's/^/#   /' "$T/nocname.last"
fi
if ctl log good.test 2>&1 | grep -q 'domain checked: 0 failed'; then
	pass "the audit log records the check"
else
	fail "the audit log records the check"
fi

ctl domain add unchecked.test > /dev/null
ctl domain check --last unchecked.test > "$T/never.out" 2>&1
rc=$?
expect never 1 'unchecked.test: never checked' "a domain never checked: said so, exit 1"
netns_cli "$WKDCTL" -s "$S" domain check --no-store --json --target \
    wkd.service.test --cafile "$T/ca.pem" --trust-anchor "$NETNS_ANCHOR" \
    unchecked.test > "$T/nostore.json" 2>&1
ctl domain check --last unchecked.test > "$T/never.out" 2>&1
rc=$?
if [ "$(jq_ "$T/nostore.json" 'v["domain"], v["failed"] > 0')" = "unchecked.test True" ]; then
	expect never 1 'unchecked.test: never checked' "--no-store --json: printed, not stored"
else
	fail "--no-store --json: printed, not stored"
	sed 's/^/#   /' "$T/nostore.json"
fi
netns_cli "$WKDCTL" -s "$S" domain check --json --target wkd.service.test \
    --cafile "$T/ca.pem" --trust-anchor "$NETNS_ANCHOR" notthere.test \
    > "$T/unhosted.json" 2>&1
ctl domain add notthere.test > /dev/null
ctl domain check --last notthere.test > "$T/never.out" 2>&1
rc=$?
expect never 1 'never checked' "a domain not hosted when checked: nothing stored"

# The admin API: GET /v1/domains/D's last_check is the stored document;
# POST /v1/domains/D/check runs the check (serve in the client namespace,
# with the test's trust anchor), stores it and answers it.
SOCK=$T/api.sock
ctl token add viewer-t > "$T/tok" 2>/dev/null
ctl token add --read-only ro-t > "$T/tok.ro" 2>/dev/null
ctl token add --domain wild.test wild-t > "$T/tok.wild" 2>/dev/null
{ cat "$T/new.conf"; printf 'service-name wkd.service.test\nacme-ca testca.test\n'; } \
    > "$T/svc.conf"
netns_cli_bg "$WKDCTL" -s "$S" -f "$T/svc.conf" serve --socket "$SOCK" \
    --trust-anchor "$NETNS_ANCHOR" --cafile "$T/ca.pem" > "$T/serve.log" 2>&1
API_PID=$!
_i=0
while [ ! -S "$SOCK" ] && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
apiget() {
	curl -sS --max-time 10 --unix-socket "$SOCK" \
	    -H "Authorization: Bearer $(cat "$T/tok")" -o "$2" \
	    "http://localhost/v1/domains/$1"
}
# apipost DOMAIN OUT [TOKENFILE]: the HTTP status in $code.
apipost() {
	code=$(curl -sS --max-time 60 --unix-socket "$SOCK" -X POST \
	    -H "Authorization: Bearer $(cat "${3:-$T/tok}")" -o "$2" \
	    -w '%{http_code}' "http://localhost/v1/domains/$1/check")
}
if apiget good.test "$T/api.good" &&
    [ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["last_check"] == json.load(open(sys.argv[2])))' \
    "$T/api.good" "$T/good.last")" = True ] &&
    apiget unchecked.test "$T/api.never" &&
    [ "$(jq_ "$T/api.never" 'v["last_check"]')" = None ]; then
	pass "admin API: last_check is the stored check, null if none"
else
	fail "admin API: last_check is the stored check, null if none"
	sed 's/^/#   /' "$T/api.good" "$T/api.never" "$T/serve.log" 2>/dev/null
fi
before=$(jq_ "$T/good.last" 'v["checked"]')
sleep 1
apipost good.test "$T/post.good"
if [ "$code" = 200 ] &&
    [ "$(jq_ "$T/post.good" 'v["version"], v["domain"], v["failed"], v["dnssec"], [c["status"] for c in v["clients"]] == ["ok"] * 5')" = \
    "2 good.test 0 secure True" ] &&
    apiget good.test "$T/api.good2" &&
    [ "$(python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); print(a["last_check"] == json.load(open(sys.argv[2])), a["last_check"]["checked"] != sys.argv[3])' \
    "$T/api.good2" "$T/post.good" "$before")" = "True True" ]; then
	pass "admin API: POST check runs it, stores it, answers the document"
else
	fail "admin API: POST check runs it, stores it, answers the document ($code)"
	sed 's/^/#   /' "$T/post.good" "$T/serve.log"
fi
apipost wild.test "$T/post.wild" "$T/tok.wild"
c1=$code
apipost good.test "$T/post.scope" "$T/tok.wild"
c2=$code
apipost good.test "$T/post.ro" "$T/tok.ro"
c3=$code
apipost nosuch.test "$T/post.none"
c4=$code
if [ "$c1 $c2 $c3 $c4" = "200 404 403 404" ] &&
    [ "$(jq_ "$T/post.wild" 'v["domain"], v["failed"] > 0')" = "wild.test True" ]; then
	pass "admin API: POST check: the token's domains only, not read-only"
else
	fail "admin API: POST check: the token's domains only, not read-only ($c1 $c2 $c3 $c4)"
	sed 's/^/#   /' "$T/post.wild" "$T/post.scope" "$T/post.ro"
fi
kill "$API_PID" 2>/dev/null
wait "$API_PID" 2>/dev/null

# --all: every hosted domain, one stored result each; exit 1 (some fail).
netns_cli "$WKDCTL" -s "$S" domain check --all --json --target \
    wkd.service.test --caa testca.test --cafile "$T/ca.pem" \
    --trust-anchor "$NETNS_ANCHOR" > "$T/all.json" 2> "$T/all.err"
rc=$?
ctl domain list > "$T/domains" 2>&1
want=$(grep -Eo '^[a-z0-9.-]+\.test' "$T/domains" | sort | tr '\n' ' ')
got=$(jq_ "$T/all.json" '" ".join(sorted(d["domain"] for d in v)) + " "')
same=1
for d in $want; do
	[ "$(ctl domain check --last --json "$d" | python3 -c 'import json,sys; print(json.load(sys.stdin)["checked"])')" = \
	    "$(jq_ "$T/all.json" "[d['checked'] for d in v if d['domain'] == '$d'][0]")" ] || same=0
done
if [ "$rc" -eq 1 ] && [ -n "$want" ] && [ "$got" = "$want" ] && [ $same = 1 ]; then
	pass "--all: every hosted domain checked and stored, exit 1 as some fail"
else
	fail "--all: every hosted domain checked and stored (exit $rc, same $same)"
	echo "#   want: $want"
	echo "#   got:  $got"
	sed 's/^/#   /' "$T/all.err"
fi

# --last reads a version 1 document (as stored before version 2).
V1='{"version":1,"domain":"unchecked.test","host":"openpgpkey.unchecked.test","checked":"2026-01-02T03:04:05Z","failed":1,"warnings":0,"results":[{"area":"dns","status":"fail","detail":"openpgpkey.unchecked.test does not exist","fix":"publish it"}]}'
if printf 'VERSION=3\nformat=print\ntype=btree\nHEADER=END\n unchecked.test\n \\01\\12%s%s\nDATA=END\n' \
    "$(printf '%018d' 0)" "$V1" | mdb_load -s checks "$S" 2> "$T/load.err" &&
    ctl domain check --last unchecked.test > "$T/v1.out" 2>&1 &&
    grep -q '^checked 2026-01-02T03:04:05Z$' "$T/v1.out" &&
    grep -q '^FAIL: openpgpkey.unchecked.test does not exist — fix: publish it$' "$T/v1.out" &&
    grep -q '^unchecked.test: 1 failed, 0 warnings$' "$T/v1.out" &&
    ! grep -q 'method' "$T/v1.out" &&
    ctl domain check --last --json unchecked.test > "$T/v1.json" &&
    [ "$(jq_ "$T/v1.json" 'v["version"]')" = 1 ]; then
	pass "--last of a version 1 document"
else
	fail "--last of a version 1 document"
	sed 's/^/#   /' "$T/load.err" "$T/v1.out"
fi

# A backup carries the checks; removing a domain removes its check.
mkdir -p "$T/restored"
if ctl backup "$T/bk" > /dev/null 2>&1 &&
    "$WKDCTL" -s "$T/restored" init > /dev/null 2>&1 &&
    "$WKDCTL" -s "$T/restored" restore "$T/bk" > /dev/null 2>&1 &&
    "$WKDCTL" -s "$T/restored" domain check --last --json good.test \
    > "$T/restored.last" 2>&1 &&
    ctl domain check --last --json good.test > "$T/good.now" 2>&1 &&
    cmp -s "$T/good.now" "$T/restored.last"; then
	pass "backup and restore carry the stored check"
else
	fail "backup and restore carry the stored check"
	sed 's/^/#   /' "$T/restored.last"
fi
if ctl domain remove wildok.test > /dev/null 2>&1 &&
    ctl domain add --no-cert wildok.test > /dev/null 2>&1; then
	ctl domain check --last wildok.test > "$T/never.out" 2>&1
	rc=$?
	expect never 1 'wildok.test: never checked' "a removed domain's check goes with it"
else
	fail "a removed domain's check goes with it (remove/add)"
fi

# Still serving, logs clean.
for p in wkdd wkdd-old wkdd-soon; do
	if kill -0 "$(cat "$T/$p.pid")" 2>/dev/null &&
	    ! grep -qE 'runtime error|AddressSanitizer|LeakSanitizer' \
	    "$T/$p.log" "$T"/*.out; then
		pass "$p alive, logs clean"
	else
		fail "$p alive, logs clean"
	fi
done
finish
