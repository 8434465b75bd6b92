#!/bin/sh
# t_gpg.sh: GnuPG (gpg + dirmngr) fetches keys from wkdd by WKD:
#	gpg --auto-key-locate clear,nodefault,wkd --locate-external-keys ADDR
# Each found key must be imported with exactly the queried UID; dirmngr's
# log shows which method (advanced or direct) it used.
. "$TOP/tests/interop/lib.sh"
io_need dirmngr
io_enter
io_setup

# found TAG ADDR KEY HOST PATH [revoked]
found() {
	io_gpg_get "$1" "$2"
	_rc=$?
	if [ "$_rc" -ne 0 ]; then
		echo "# gpg exit $_rc"
	elif io_colons_check "$T/$1.list" "$2" "$(io_fpr "$3")" "${6:-}" &&
	    grep -qF ">> Host: $4" "$T/$1.dirmngr" &&
	    grep -qF ">> GET $5" "$T/$1.dirmngr"; then
		return 0
	else
		echo "# not from https://$4$5"
	fi
	show "$T/$1.err" "$T/$1.list"
	io_dirmngr_diag "$T/$1.dirmngr"
	return 1
}

adv=/.well-known/openpgpkey/$IO_D_ADV/hu/
check "gpg: $IO_A_ADV imported with exactly that UID (advanced)" \
    found adv "$IO_A_ADV" adv "openpgpkey.$IO_D_ADV" "$adv"
check "gpg: $IO_A_DIR imported with exactly that UID (direct)" \
    found dir "$IO_A_DIR" dir "$IO_D_DIR" /.well-known/openpgpkey/hu/
check "gpg: $IO_A_MIX (mixed case) imported with exactly that UID" \
    found mix "$IO_A_MIX" mix "openpgpkey.$IO_D_ADV" "$adv"
check "gpg: $IO_A_REV imported, revoked, with exactly that UID" \
    found rev "$IO_A_REV" rev "openpgpkey.$IO_D_ADV" "$adv" revoked

# A missing address: wkdd answers 404, gpg says "No data", imports none.
missing() {
	io_gpg_get miss "$IO_A_MISS"
	_rc=$?
	if [ "$_rc" -ne 0 ] && [ "$_rc" -ne 124 ] &&
	    grep -q 'No data' "$T/miss.err" &&
	    ! grep -q '^pub' "$T/miss.list" &&
	    grep -qE '>> HTTP/1\.[01] 404' "$T/miss.dirmngr"; then
		return 0
	fi
	echo "# gpg exit $_rc"
	show "$T/miss.err" "$T/miss.list"
	io_dirmngr_diag "$T/miss.dirmngr"
	return 1
}
check "gpg: $IO_A_MISS is a clean \"No data\" (HTTP 404)" missing

io_done
