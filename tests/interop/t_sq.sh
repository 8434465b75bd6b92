#!/bin/sh
# t_sq.sh: Sequoia (Debian's sq 0.27) fetches keys from wkdd by WKD:
#	sq wkd get ADDR
# The certificate sq prints must be the fixture key with exactly the
# queried UID.  sq 0.27 matches the UID's address case-sensitively, so
# the mixed-case address is queried as its UID spells it; it does not
# look at the HTTP status, so for a missing address it must fail cleanly
# (an error exit, no panic, no output).  wkdd's access log shows which
# method sq used: the Host openpgpkey.D (advanced) or D (direct).
. "$TOP/tests/interop/lib.sh"
io_need sq
io_enter
io_setup

# found TAG ADDR KEY HOST [revoked]
found() {
	io_sq_get "$1" "$2"
	_rc=$?
	if [ "$_rc" -ne 0 ]; then
		echo "# sq exit $_rc"
	elif io_colons_check "$T/$1.list" "$2" "$(io_fpr "$3")" "${5:-}" &&
	    io_srvlog_wait " GET $4 key 200 "; then
		return 0
	fi
	show "$T/$1.err" "$T/$1.list"
	return 1
}

ah=openpgpkey.$IO_D_ADV
check "sq: $IO_A_ADV fetched with exactly that UID (advanced)" \
    found adv "$IO_A_ADV" adv "$ah"
check "sq: $IO_A_DIR fetched with exactly that UID (direct)" \
    found dir "$IO_A_DIR" dir "$IO_D_DIR"
check "sq: $IO_A_MIX (mixed case) fetched with exactly that UID" \
    found mix "$IO_A_MIX" mix "$ah"
check "sq: $IO_A_REV fetched, revoked, with exactly that UID" \
    found rev "$IO_A_REV" rev "$ah" revoked

# 101 is Rust's exit status after a panic, 124 timeout's.
missing() {
	io_sq_get miss "$IO_A_MISS"
	_rc=$?
	if [ "$_rc" -ne 0 ] && [ "$_rc" -ne 101 ] && [ "$_rc" -lt 124 ] &&
	    ! [ -s "$T/miss.out" ] && ! grep -q panicked "$T/miss.err" &&
	    io_srvlog_wait " GET $ah key 404 "; then
		return 0
	fi
	echo "# sq exit $_rc"
	show "$T/miss.err" "$T/miss.out"
	return 1
}
check "sq: $IO_A_MISS fails cleanly (wkdd said 404)" missing

io_done
