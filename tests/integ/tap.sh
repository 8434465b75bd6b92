# tests/integ/tap.sh: the TAP helpers of tests that don't use lib.sh.
# Source it; then
#
#	pass NAME	"ok N - NAME"
#	fail NAME	"not ok N - NAME" (counted in $failed)
#	skip_all WHY	one "ok 1 # SKIP WHY", the plan, exit 0 (a missing
#			tool: tests/run counts it as a failure under CI=true)
#	show FILE...	each file as TAP comments
#
# The test prints the plan ("1..$n") and exits non-zero if $failed > 0.

n=0
failed=0
pass() { n=$((n + 1)); echo "ok $n - $*"; }
fail() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
skip_all() { echo "ok 1 # SKIP $*"; echo "1..1"; exit 0; }
show() {
	for _f; do
		[ -f "$_f" ] || continue
		echo "#   --- ${_f##*/}"
		sed 's/^/#     /' "$_f"
	done
}
