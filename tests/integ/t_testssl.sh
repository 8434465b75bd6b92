#!/bin/sh
# t_testssl: testssl.sh and sslscan (Debian packages) against wkdd with an
# ECDSA certificate (tls-cert) and an RSA one (tls-dir, by SNI), the two
# scans at once: no "NOT ok", "VULNERABLE" or "potentially VULNERABLE"
# but the test certificate's revocation URIs (it has no CRL or OCSP URI)
# and chain of trust; TLS 1.2 and 1.3 only, AEAD ECDHE suites only,
# forward secrecy, HSTS.  Bounded: protocols, standard cipher lists,
# forward secrecy, server defaults and preference, the HTTP header, the
# vulnerabilities and every cipher (-e); no client simulations.
# Renegotiation is sslscan's (one deterministic handshake) rather than
# testssl's -R, whose client-initiated count is timing-dependent.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"

need testssl sslscan certtool curl
need_wkdctl

# A year: testssl grades a certificate expiring within 60 days.
CERT_DAYS=365
make_ca && make_cert "$T/cert.pem" "$T/key.pem" a.test &&
    mkdir -p "$T/tls/live/r.test" &&
    CERT_KEY_TYPE=rsa make_cert "$T/tls/live/r.test/fullchain.pem" \
    "$T/tls/live/r.test/privkey.pem" r.test ||
    { fail "certtool: ECDSA and RSA certificates"; finish; }
make_store a.test r.test
write_conf "tls-dir $T/tls"
start_wkdd || finish
fetch r.test /.well-known/openpgpkey/policy
is "$STATUS" 200 "r.test served with its RSA certificate (SNI)"

# scan NAME: testssl.sh against NAME (its SNI) into $T/NAME.out.
scan() {
	timeout 300 testssl --quiet --color 0 --warnings off \
	    --openssl-timeout 10 --add-ca "$T/ca.pem" --ip 127.0.0.1 \
	    -p -s -f -P -S -h -e \
	    -H -I -T -BB -C -B -O -Z -W -F -D -J -A -L -4 \
	    "$1:$PORT" > "$T/$1.out" 2>&1
	echo $? > "$T/$1.rc"
}
start=$(date +%s)
scan a.test &
p1=$!
scan r.test &
p2=$!
wait $p1 $p2
diag "testssl: $(($(date +%s) - start)) s for both"

for name in a.test r.test; do
	out=$T/$name.out
	kind=ECDSA
	[ "$name" = r.test ] && kind=RSA
	# testssl exits with the count of its findings of severity HIGH and
	# up; the revocation line is one.  The findings are read instead.
	check "$kind: testssl ran to the end" grep -q "Done " "$out"
	grep -E 'NOT ok|VULNERABLE' "$out" |
	    grep -vE 'neither CRL nor OCSP URI provided|Chain of trust' \
	    > "$T/$name.bad"
	if [ -s "$T/$name.bad" ]; then
		fail "$kind: no NOT ok or VULNERABLE but the test certificate's"
		sed 's/^/#   /' "$T/$name.bad"
	else
		pass "$kind: no NOT ok or VULNERABLE but the test certificate's"
	fi
	diag "$kind: $(grep -cE 'NOT ok|VULNERABLE' "$out") finding(s) excepted: $(grep -E 'NOT ok|VULNERABLE' "$out" | sed 's/^ *//' | tr '\n' ' ')"
	like "$out" "TLS 1.3 +offered \(OK\)" "$kind: TLS 1.3 offered"
	like "$out" "TLS 1.2 +offered \(OK\)" "$kind: TLS 1.2 offered"
	like "$out" "TLS 1.1 +not offered" "$kind: no TLS 1.1"
	like "$out" "TLS 1 +not offered" "$kind: no TLS 1.0"
	like "$out" "SSLv3 +not offered" "$kind: no SSLv3"
	like "$out" "Obsolete CBC ciphers.*not offered" "$kind: no CBC"
	like "$out" "Triple DES Ciphers / IDEA +not offered" "$kind: no 3DES"
	like "$out" "(PFS|FS) is offered \(OK\)" "$kind: forward secrecy"
	like "$out" "Strict Transport Security +365 days=31536000 s, just this domain" \
	    "$kind: HSTS, a year, this domain only"
	like "$out" "Chain of trust +Ok" "$kind: chain of trust (the test CA added)"
	# -e: every suite offered, by hexcode.
	grep -E '^ x[0-9a-f]+ ' "$out" > "$T/$name.suites"
	n=$(wc -l < "$T/$name.suites" | tr -d ' ')
	is "$n" 6 "$kind: 6 suites (3 of TLS 1.3, 3 ECDHE of TLS 1.2)"
	check "$kind: each AEAD, each ECDH(E)" sh -c \
	    "! grep -vE 'ECDH [0-9]+ +(AESGCM|ChaCha20) ' '$T/$name.suites'"
done
like "$T/r.test.out" "ROBOT +Server does not support any cipher suites that use RSA key transport" \
    "RSA: no RSA key transport (ROBOT)"
like "$T/r.test.out" "ECDHE-RSA-AES128-GCM-SHA256" "RSA: ECDHE-RSA suites"

# sslscan: protocols, renegotiation, the groups, each cipher.
for name in a.test r.test; do
	kind=ECDSA
	[ "$name" = r.test ] && kind=RSA
	timeout 60 sslscan --no-colour --sni-name="$name" "127.0.0.1:$PORT" \
	    > "$T/$name.sslscan" 2>&1
	out=$T/$name.sslscan
	like "$out" "^TLSv1.0 +disabled" "sslscan $kind: TLS 1.0 disabled"
	like "$out" "^TLSv1.1 +disabled" "sslscan $kind: TLS 1.1 disabled"
	like "$out" "^TLSv1.2 +enabled" "sslscan $kind: TLS 1.2 enabled"
	like "$out" "^TLSv1.3 +enabled" "sslscan $kind: TLS 1.3 enabled"
	like "$out" "Session renegotiation not supported" \
	    "sslscan $kind: no renegotiation"
	unlike "$out" "^TLSv1.[23] vulnerable to heartbleed" \
	    "sslscan $kind: no heartbleed"
	grep -E '^(Preferred|Accepted) ' "$out" > "$T/$name.ciphers"
	is "$(wc -l < "$T/$name.ciphers" | tr -d ' ')" 6 \
	    "sslscan $kind: 6 suites"
	check "sslscan $kind: AEAD only, X25519 preferred" sh -c \
	    "! grep -vE '(GCM|CHACHA20).* Curve 25519 DHE' '$T/$name.ciphers'"
done

finish
