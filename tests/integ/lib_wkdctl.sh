# tests/integ/lib_wkdctl.sh: TAP helpers for the wkdctl tests.  Source it
# first; it sets $tmp (removed at exit unless KEEP=1), $W (wkdctl with -s
# on a store in $tmp/store) and $S (the store).
#
#	ok COND-STATUS NAME	ok/not ok from the last status
#	run CMD...		run, keeping stdout/stderr in $out/$err, rc in $rc
#	is GOT WANT NAME	string equality
#	like FILE REGEX NAME	grep -E on a file
#	unlike FILE REGEX NAME
#	skip REASON
#	finish			plan, exit status
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
n=0
failed=0

cleanup() {
	if command -v keys_fini >/dev/null 2>&1; then keys_fini; fi
	if [ "${KEEP:-0}" = 1 ]; then
		echo "# kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
		if [ -s "$err" ]; then sed 's/^/#   stderr: /' "$err" | head -20; fi
	fi
}

run() {
	"$@" > "$out" 2> "$err"
	# shellcheck disable=SC2034
	rc=$?
	if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$err"; then
		cat "$err" >> "$tmp/sanitizer.log"
	fi
}

is() {
	if [ "$1" = "$2" ]; then ok 0 "$3"; else
		ok 1 "$3"
		echo "#   got:  $1"
		echo "#   want: $2"
	fi
}

like() {
	if grep -Eq -- "$2" "$1"; then ok 0 "$3"; else
		ok 1 "$3"
		echo "#   no match for /$2/ in:"
		sed 's/^/#     /' "$1" | head -20
	fi
}

unlike() {
	if grep -Eq -- "$2" "$1"; then
		ok 1 "$3"
		grep -E -- "$2" "$1" | sed 's/^/#     /' | head -5
	else ok 0 "$3"; fi
}

skip() {
	n=$((n + 1))
	echo "ok $n # SKIP $1"
}

finish() {
	if [ -s "$tmp/sanitizer.log" ]; then
		ok 1 "sanitizer reports"
		head -40 "$tmp/sanitizer.log" | sed 's/^/#   /'
	fi
	echo "1..$n"
	[ "$failed" -eq 0 ]
	exit $?
}

# The store's bytes, to prove that a failed command changed nothing.
store_sum() {
	sha256sum "$S/data.mdb" | awk '{ print $1 }'
}

store_dump() {
	mdb_dump -a "$S"
}
