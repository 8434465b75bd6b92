#!/bin/sh
# t_openpgpjs.sh: OpenPGP.js fetches keys from wkdd by WKD: the npm
# packages @openpgp/wkd-client (lookup) and openpgp (readKeys), driven by
# js/wkd-get.mjs under node --use-openssl-ca.  The parsed key must be the
# fixture key with exactly the queried UID, fetched from the advanced or
# the direct URL as expected; a missing address must end in HTTP 404s.
# node_modules comes from `npm ci` (js/package-lock.json) when missing.
. "$TOP/tests/interop/lib.sh"
io_need node npm
if [ "${IO_INNER:-}" != 1 ] && ! io_js_ready; then
	echo "not ok 1 - npm ci in tests/interop/js"
	echo "1..1"
	exit 1
fi
io_enter
io_setup

# found TAG ADDR KEY URL-PREFIX [revoked]: the last request went to
# URL-PREFIX and got 200.
found() {
	io_js_get "$1" "$2"
	_rc=$?
	_want="key $(io_fpr "$3") valid"
	[ "${5:-}" = revoked ] && _want="key $(io_fpr "$3") revoked"
	if [ "$_rc" -ne 0 ]; then
		echo "# wkd-get.mjs exit $_rc"
	elif [ "$(grep -c '^key ' "$T/$1.sum")" -ne 1 ] ||
	    ! grep -qxF "$_want" "$T/$1.sum"; then
		echo "# want one key: $_want"
	elif [ "$(grep -c '^uid ' "$T/$1.sum")" -ne 1 ] ||
	    ! grep -qxF "uid $2" "$T/$1.sum"; then
		echo "# want exactly one UID: $2"
	elif ! grep '^req ' "$T/$1.sum" | tail -n 1 |
	    grep -qF "req 200 $4"; then
		echo "# want the key from $4"
	else
		return 0
	fi
	show "$T/$1.sum" "$T/$1.err"
	return 1
}

adv=https://openpgpkey.$IO_D_ADV/.well-known/openpgpkey/$IO_D_ADV/hu/
check "openpgpjs: $IO_A_ADV parsed with exactly that UID (advanced)" \
    found adv "$IO_A_ADV" adv "$adv"
check "openpgpjs: $IO_A_DIR parsed with exactly that UID (direct)" \
    found dir "$IO_A_DIR" dir "https://$IO_D_DIR/.well-known/openpgpkey/hu/"
# The client keeps the domain's case in the URL's path.
dom=${IO_A_MIX#*@}
check "openpgpjs: $IO_A_MIX (mixed case) parsed with exactly that UID" \
    found mix "$IO_A_MIX" mix \
    "https://openpgpkey.$dom/.well-known/openpgpkey/$dom/hu/"
check "openpgpjs: $IO_A_REV parsed, revoked, with exactly that UID" \
    found rev "$IO_A_REV" rev "$adv" revoked

# Exit 2: every request was answered, none with 200.
missing() {
	io_js_get miss "$IO_A_MISS"
	_rc=$?
	if [ "$_rc" -eq 2 ] && grep -q '^req ' "$T/miss.sum" &&
	    ! grep '^req ' "$T/miss.sum" | grep -qv '^req 404 '; then
		return 0
	fi
	echo "# wkd-get.mjs exit $_rc"
	show "$T/miss.sum" "$T/miss.err"
	return 1
}
check "openpgpjs: $IO_A_MISS not found (HTTP 404 on both methods)" \
    missing

io_done
