# tests/integ/lib_wkdctl.sh: TAP helpers for the wkdctl tests.  Source it
# first; it sets $tmp (removed at exit unless KEEP=1), $W (wkdctl with -s
# on a store in $tmp/store) and $S (the store).
#
#	run CMD...		run, keeping stdout/stderr in $out/$err, rc in $rc
#	finish			sanitizer reports, plan, exit status
# and the TAP helpers of tests/tap.sh (ok, is, like, unlike, skip,
# setup, ...); a failure shows the last command's stderr.
set -u
: "${O:=$(pwd)/build}"
: "${TOP:=$(pwd)}"
WKDCTL=$O/wkdctl
tmp=$(mktemp -d "${TMPDIR:-/tmp}/wkdctl.XXXXXX")
S=$tmp/store
# shellcheck disable=SC2034 # W, rc, out, err: for the tests.
W="$WKDCTL -s $S"
out=$tmp/out
err=$tmp/err
. "$TOP/tests/tap.sh"
# After a failure, what the last command said on stderr.
wk_show_err() {
	if [ -s "$err" ]; then sed 's/^/#   stderr: /' "$err" | head -20; fi
}
TAP_ON_FAIL=wk_show_err

cleanup() {
	if command -v keys_fini >/dev/null 2>&1; then keys_fini; fi
	if [ "${KEEP:-0}" = 1 ]; then
		echo "# kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

run() {
	"$@" > "$out" 2> "$err"
	# shellcheck disable=SC2034
	rc=$?
	if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$err"; then
		cat "$err" >> "$tmp/sanitizer.log"
	fi
}

finish() {
	if [ -s "$tmp/sanitizer.log" ]; then
		ok 1 "sanitizer reports"
		head -40 "$tmp/sanitizer.log" | sed 's/^/#   /'
	fi
	tap_plan
	exit $?
}

# The store's bytes, to prove that a failed command changed nothing.
store_sum() {
	sha256sum "$S/data.mdb" | awk '{ print $1 }'
}

store_dump() {
	mdb_dump -a "$S"
}
