#!/bin/sh
# t_demo: the README's quick start, "make run", as a new user runs it in a
# terminal: it serves a demo key that can encrypt (an encryption subkey:
# what a mail client wants of a WKD key), and Ctrl-C (SIGINT to the
# terminal's whole process group: make, scripts/demo, wkdd) stops wkdd
# cleanly and ends make without "make: *** ... Interrupt" or an error.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
O=${O:-$TOP/build}
case $O in /*) ;; *) O=$TOP/$O ;; esac
. "$TOP/tests/tap.sh"

for t in make gpg certtool curl python3; do
	command -v $t >/dev/null 2>&1 || skip_all "$t not installed"
done
[ -x "$O/wkdd" ] && [ -x "$O/wkdctl" ] || skip_all "$O/wkdd not built"

T=$(mktemp -d "${TMPDIR:-/tmp}/wkdd-demo.XXXXXX") || exit 1
PID=
cleanup() {
	if [ -n "$PID" ]; then
		kill -KILL "-$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	[ -d "$T/gh" ] && gpgconf --homedir "$T/gh" --kill all 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# make run in a session of its own (so that its process group can get a
# terminal's SIGINT), SIGINT at its default even if this shell ignores it
# (as a background job's is).
DEMO_PORT=0 DEMO_DIR=$T/demo python3 -c '
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setsid()
os.execvp(sys.argv[1], sys.argv[1:])' \
    make --no-print-directory -C "$TOP" O="$O" run > "$T/run.out" 2>&1 &
PID=$!
i=0
while ! grep -q '^wkdd is serving' "$T/run.out" && [ $i -lt 600 ] &&
    kill -0 "$PID" 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
port=$(sed -n 's/^wkdd is serving demo\.test on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' \
    "$T/run.out")
if [ -n "$port" ]; then
	pass "make run: wkdd serving the demo on port $port"
else
	fail "make run: wkdd serving the demo"
	show "$T/run.out"
	tap_plan
	exit 1
fi

# The demo key, as the printed curl command gets it.
h=$(sed -n 's|.*/hu/\([a-z0-9]*\)?l=alice.*|\1|p' "$T/run.out" | head -n 1)
st=$(curl -sS --max-time 20 --cacert "$T/demo/cert.pem" \
    --resolve "openpgpkey.demo.test:$port:127.0.0.1" -o "$T/key.pgp" \
    -w '%{http_code}' \
    "https://openpgpkey.demo.test:$port/.well-known/openpgpkey/demo.test/hu/$h?l=alice")
is "$st" 200 "the demo key by the advanced method"
mkdir -m 700 "$T/gh"
gpg --homedir "$T/gh" --batch --with-colons --show-keys "$T/key.pgp" \
    > "$T/key.list" 2>/dev/null
like "$T/key.list" '^uid:.*<alice@demo\.test>' "the key is alice@demo.test's"
like "$T/key.list" '^sub:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:e' \
    "the demo key can encrypt (an encryption subkey)"

# Ctrl-C.
kill -INT "-$PID"
wait "$PID"
rc=$?
# make passes the SIGINT on to itself once its recipe ended: 130 is a
# clean interrupted make, 2 a failed one.
case $rc in
0 | 130) pass "Ctrl-C: make interrupted, not failed (exit $rc)" ;;
*) fail "Ctrl-C: make interrupted, not failed (exit $rc)" ;;
esac
unlike "$T/run.out" '^make(\[[0-9]+\])?: \*\*\*' "Ctrl-C: no \"make: ***\" line"
like "$T/run.out" '^SIGINT: stopping$' "Ctrl-C: wkdd stopping on SIGINT"
like "$T/run.out" '^stopped$' "Ctrl-C: wkdd stopped"
i=0
while kill -0 "-$PID" 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
if kill -0 "-$PID" 2>/dev/null; then
	fail "Ctrl-C: nothing of make run left running"
else
	pass "Ctrl-C: nothing of make run left running"
	PID=
fi
tap_plan
