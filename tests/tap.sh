# tests/tap.sh: the one TAP helper of every shell test, integration and
# interop (tests/tap.h is the C tests').  Source it first; then
#
#	pass NAME		"ok N - NAME"
#	fail NAME		"not ok N - NAME", counted in $tap_fail
#	ok STATUS NAME		pass if STATUS is 0, else fail
#	is GOT WANT NAME	string equality; shows both when not
#	like FILE REGEX NAME	grep -E REGEX in FILE; shows FILE when not
#	unlike FILE REGEX NAME	the opposite; shows the matching lines
#	check NAME CMD...	pass if CMD succeeds; returns its status
#	setup NAME CMD...	a step that only prepares the test: counted
#				nowhere when it works; when it fails, one
#				"not ok" with its output, then tap_bail
#	skip WHY		"ok N # SKIP WHY" (a missing tool: tests/run
#				counts it as a failure under CI=true)
#	skip_all WHY		one skip, the plan, exit 0
#	diag TEXT		a comment line
#	show FILE...		each file as comment lines
#	tap_plan		"1..N"; status 0 if nothing failed
#
# A test sets TAP_ON_FAIL to a function to run after each failure (to
# show a log), and TAP_BAIL to the function that ends it when a setup
# step fails (default: print the plan and exit 1).

tap_n=0
tap_fail=0
TAP_ON_FAIL=${TAP_ON_FAIL:-}
TAP_BAIL=${TAP_BAIL:-}

pass() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $*"
}

fail() {
	tap_n=$((tap_n + 1))
	tap_fail=$((tap_fail + 1))
	echo "not ok $tap_n - $*"
	if [ -n "$TAP_ON_FAIL" ]; then "$TAP_ON_FAIL"; fi
}

ok() {
	if [ "$1" -eq 0 ]; then pass "$2"; else fail "$2"; fi
}

diag() {
	echo "# $*"
}

show() {
	for _f; do
		[ -s "$_f" ] || continue
		echo "#   --- ${_f##*/}"
		sed -n '1,60s/^/#     /p' "$_f"
	done
}

is() {
	if [ "$1" = "$2" ]; then
		pass "$3"
	else
		fail "$3"
		diag "  got:  '$1'"
		diag "  want: '$2'"
	fi
}

like() {
	if grep -Eq -- "$2" "$1"; then
		pass "$3"
	else
		fail "$3"
		diag "  no match for /$2/ in:"
		sed 's/^/#     /' "$1" | head -20
	fi
}

unlike() {
	if grep -Eq -- "$2" "$1"; then
		fail "$3"
		grep -E -- "$2" "$1" | sed 's/^/#     /' | head -5
	else
		pass "$3"
	fi
}

check() {
	_tap_name=$1
	shift
	if "$@"; then
		pass "$_tap_name"
		return 0
	fi
	fail "$_tap_name"
	diag "  failed: $*"
	return 1
}

setup() {
	_tap_name=$1
	shift
	_tap_log=$(mktemp "${TMPDIR:-/tmp}/tap-setup.XXXXXX")
	if "$@" > "$_tap_log" 2>&1; then
		rm -f "$_tap_log"
		return 0
	fi
	fail "setup: $_tap_name"
	diag "  failed: $*"
	show "$_tap_log"
	rm -f "$_tap_log"
	tap_bail
}

tap_bail() {
	if [ -n "$TAP_BAIL" ]; then "$TAP_BAIL"; fi
	tap_plan
	exit 1
}

skip() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n # SKIP $*"
}

skip_all() {
	echo "ok 1 # SKIP $*"
	echo "1..1"
	exit 0
}

tap_plan() {
	echo "1..$tap_n"
	[ "$tap_fail" -eq 0 ]
}
