#!/bin/sh
# t_negative.sh: the negative control.  The mounted trust store is the
# machine's own, without the test CA: wkdd is up and answers (curl with
# --cacert shows it), yet gpg, sq and OpenPGP.js must each refuse wkdd's
# certificate and return no key.  This shows the other interop tests
# pass because of the trust store they mount, and nothing else.
. "$TOP/tests/interop/lib.sh"
io_need dirmngr curl
if [ "${IO_INNER:-}" != 1 ] && command -v node >/dev/null 2>&1 &&
    command -v npm >/dev/null 2>&1 && ! io_js_ready; then
	echo "not ok 1 - npm ci in tests/interop/js"
	echo "1..1"
	exit 1
fi
io_enter
io_setup without

a=$IO_A_ADV
url=https://openpgpkey.$IO_D_ADV/.well-known/openpgpkey/$IO_D_ADV/policy
check "curl --cacert test-CA: wkdd answers $url" \
    io_run curl -sSf -o /dev/null --cacert "$T/ca.crt" "$url"

gpg_refuses() {
	io_gpg_get gpg "$a"
	_rc=$?
	if [ "$_rc" -ne 0 ] && [ "$_rc" -ne 124 ] &&
	    ! grep -q '^pub' "$T/gpg.list" &&
	    grep -q 'TLS verification of peer failed' "$T/gpg.dirmngr"; then
		return 0
	fi
	echo "# gpg exit $_rc"
	show "$T/gpg.err" "$T/gpg.list"
	io_dirmngr_diag "$T/gpg.dirmngr"
	return 1
}
check "gpg refuses wkdd's certificate (no key)" gpg_refuses

sq_refuses() {
	io_sq_get sq "$a"
	_rc=$?
	if [ "$_rc" -ne 0 ] && [ "$_rc" -lt 124 ] && ! [ -s "$T/sq.out" ] &&
	    grep -q 'certificate verify failed' "$T/sq.err"; then
		return 0
	fi
	echo "# sq exit $_rc"
	show "$T/sq.err" "$T/sq.list"
	return 1
}
if command -v sq >/dev/null 2>&1; then
	check "sq refuses wkdd's certificate (no key)" sq_refuses
else
	skip "tool missing: sq"
fi

# Every request the client made must have failed on the certificate.
js_refuses() {
	io_js_get js "$a"
	_rc=$?
	if [ "$_rc" -eq 1 ] && ! grep -q '^key ' "$T/js.sum" &&
	    grep -q '^req ' "$T/js.sum" &&
	    ! grep '^req ' "$T/js.sum" |
	    grep -qvE '^req 0 .*(CERT|VERIFY|SIGNATURE|ISSUER)'; then
		return 0
	fi
	echo "# wkd-get.mjs exit $_rc"
	show "$T/js.sum" "$T/js.err"
	return 1
}
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
	check "openpgpjs refuses wkdd's certificate (no key)" js_refuses
else
	skip "tool missing: node/npm"
fi

io_done
