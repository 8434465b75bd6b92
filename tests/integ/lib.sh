# tests/integ/lib.sh: helpers for the integration tests, sourced by each
# tests/integ/t_*.sh (and by any other shell test that needs a live wkdd).
#
# A test looks like this:
#
#	. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"
#	need curl certtool gpg		# else one "# SKIP" line and exit 0
#	make_certs a.test '*.a.test'	# $T/ca.pem, $T/cert.pem, $T/key.pem
#	make_store a.test		# $T/store with wkdctl, domains added
#	write_conf			# $T/wkdd.conf: 127.0.0.1:0, store, certs
#	start_wkdd			# wkdd -d -R 3; sets WKDD_PID and PORT
#	fetch a.test /.well-known/openpgpkey/policy
#	is "$STATUS" 200 "policy"
#	check_wkdd "after policy"	# alive, log clean
#	finish				# stop wkdd, plan, exit status
#
# Environment: O (absolute build directory; default $TOP/build), TOP (the
# source tree), WKDD and WKDCTL (the programs; default $O/wkdd and
# $O/wkdctl), KEEP=1 (keep the temporary directory $T).
#
# Each test gets its own directory $T, its own GNUPGHOME, and wkdd on a
# port the kernel picks (listen 127.0.0.1:0), read back through -R: no
# sleeping.  wkdd's stderr goes to $LOG; a failing test dumps it at the
# end.  Only processes started here are ever signalled, by PID.

set -u

TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
O=${O:-$TOP/build}
case $O in /*) ;; *) O=$TOP/$O ;; esac
WKDD=${WKDD:-$O/wkdd}
WKDCTL=${WKDCTL:-$O/wkdctl}

T=$(mktemp -d "${TMPDIR:-/tmp}/wkdd-test.XXXXXX") || exit 1
LOG=$T/wkdd.log
CONF=$T/wkdd.conf
STORE=$T/store
GNUPGHOME=$T/gnupg
export GNUPGHOME
WKDD_PID=
PORT=
STATUS=
: > "$LOG"

lib_cleanup() {
	if [ -n "$WKDD_PID" ]; then
		kill -KILL "$WKDD_PID" 2>/dev/null
		wait "$WKDD_PID" 2>/dev/null
	fi
	if [ -d "$GNUPGHOME" ]; then
		gpgconf --kill all >/dev/null 2>&1
	fi
	if [ "${KEEP:-0}" = 1 ]; then
		echo "# kept $T" >&2
	else
		rm -rf "$T"
	fi
}
trap lib_cleanup EXIT
trap 'exit 1' INT TERM

# --- TAP: tests/tap.sh ---------------------------------------------------

. "$TOP/tests/tap.sh"
# A setup step that fails ends the test as finish does: wkdd stopped, its
# log shown.
TAP_BAIL=finish

# need TOOL...: skip the whole test when a tool is missing.  Call it first.
need() {
	for _t; do
		if ! command -v "$_t" >/dev/null 2>&1; then
			skip "$_t not installed"
			echo "1..$tap_n"
			exit 0
		fi
	done
	if [ ! -x "$WKDD" ]; then
		fail "$WKDD not built"
		echo "1..$tap_n"
		exit 1
	fi
}

# need_wkdctl: like need, for the admin tool (built from admin/).
need_wkdctl() {
	if [ ! -x "$WKDCTL" ]; then
		skip "$WKDCTL not built"
		echo "1..$tap_n"
		exit 0
	fi
}

# finish: stop wkdd (its exit status is checked), dump the log if anything
# failed, print the plan and exit 0 only if all passed.
finish() {
	if [ -n "$WKDD_PID" ]; then
		check_wkdd "wkdd alive and log clean at the end"
		if stop_wkdd; then
			pass "wkdd exits 0 on SIGTERM"
		else
			fail "wkdd exits 0 on SIGTERM"
		fi
		check "log clean after exit (no leak report)" log_clean
	fi
	if [ -s "$T/served.n" ]; then
		diag "$(wc -l < "$T/served.n" | tr -d ' ') served keys checked:" \
		    "no secret packet, one User ID each, <= 256 KiB"
	fi
	if [ "$tap_fail" -gt 0 ]; then
		dump_log
	fi
	tap_plan
	exit
}

# --- certificates ---------------------------------------------------------

. "$TOP/tests/integ/certs.sh"

# make_certs NAME...: make_ca, then $T/cert.pem and $T/key.pem for NAMEs.
make_certs() {
	make_ca && make_cert "$T/cert.pem" "$T/key.pem" "$@" || {
		fail "certtool: test certificates"
		finish
	}
}

# --- store and keys -------------------------------------------------------

# ctl ARGS...: wkdctl on the test store.
ctl() {
	"$WKDCTL" -s "$STORE" "$@"
}

# make_store DOMAIN...: a new store in $STORE with these domains.
make_store() {
	mkdir -p "$STORE" && ctl init >/dev/null || {
		fail "wkdctl init"
		finish
	}
	for _d; do
		ctl domain add "$_d" >/dev/null || {
			fail "wkdctl domain add $_d"
			finish
		}
	done
}

# hash_of ADDR: the WKD hash of ADDR, from `wkdctl hash` (its "hash HASH"
# line, or a bare hash).
hash_of() {
	ctl hash "$1" | awk '$1 == "hash" { print $2; exit }
	    NF == 1 { print $1; exit }'
}

# gen_key ADDR: a new ed25519 key with the one UID "Test <ADDR>" in
# $GNUPGHOME; its binary export goes to $T/ADDR.pgp, its fingerprint to
# stdout.
gen_key() {
	mkdir -p -m 700 "$GNUPGHOME"
	gpg -q --batch --pinentry-mode loopback --passphrase '' \
	    --quick-gen-key "Test <$1>" ed25519 default never >/dev/null 2>&1 ||
	    return 1
	gpg -q --batch --export "=Test <$1>" > "$T/$1.pgp" || return 1
	gpg --batch --with-colons --list-keys "=Test <$1>" 2>/dev/null |
	    awk -F: '$1 == "fpr" { print $10; exit }'
}

# --- the daemon -----------------------------------------------------------

# write_conf [LINE...]: $CONF for one listener on 127.0.0.1:0, the test
# store and certificate, plus the given lines.  As root, "user root"
# unless a line sets the user: the test's files are root's, and without
# a user wkdd would become _wkdd (or refuse to start).
write_conf() {
	{
		echo "listen 127.0.0.1:0"
		echo "store $STORE"
		echo "tls-cert $T/cert.pem"
		echo "tls-key $T/key.pem"
		_u=
		for _l; do
			echo "$_l"
			case $_l in user[[:space:]]*) _u=1 ;; esac
		done
		if [ -z "$_u" ] && [ "$(id -u)" = 0 ]; then
			echo "user root"
		fi
	} > "$CONF"
}

# start_wkdd [CONF]: start wkdd -d -R 3 in the background, wait (without
# sleeping) until it reports its ports, set WKDD_PID and PORT (the first
# listener's; PORTS has them all).  Fails if wkdd doesn't come up.
start_wkdd() {
	rm -f "$T/ready"
	mkfifo "$T/ready" || return 1
	echo "--- start $WKDD -d -R 3 -f ${1:-$CONF}" >> "$LOG"
	"$WKDD" -d -R 3 -f "${1:-$CONF}" 3>"$T/ready" >>"$LOG" 2>&1 &
	WKDD_PID=$!
	PORTS=$(timeout 30 cat "$T/ready")
	PORT=$(echo "$PORTS" | head -n 1)
	case $PORT in
	[1-9]*)
		return 0 ;;
	esac
	fail "wkdd did not start"
	wait "$WKDD_PID" 2>/dev/null
	WKDD_PID=
	return 1
}

# stop_wkdd: SIGTERM, wait at most 10 s (then SIGKILL); returns wkdd's
# exit status.
stop_wkdd() {
	[ -n "$WKDD_PID" ] || return 0
	kill -TERM "$WKDD_PID" 2>/dev/null
	_i=0
	while kill -0 "$WKDD_PID" 2>/dev/null && [ $_i -lt 100 ]; do
		# Not waiting for a server to come up: polling its exit.
		sleep 0.1
		_i=$((_i + 1))
	done
	if kill -0 "$WKDD_PID" 2>/dev/null; then
		diag "wkdd did not exit on SIGTERM: killing it"
		kill -KILL "$WKDD_PID"
	fi
	wait "$WKDD_PID"
	_rc=$?
	WKDD_PID=
	return $_rc
}

# alive: wkdd still running?
alive() {
	[ -n "$WKDD_PID" ] && kill -0 "$WKDD_PID" 2>/dev/null
}

# log_clean: no sanitizer report in the log.
log_clean() {
	! grep -qE 'runtime error|AddressSanitizer|LeakSanitizer|MemorySanitizer|ThreadSanitizer' "$LOG"
}

# check_wkdd NAME: one TAP line: wkdd alive and its log clean.
check_wkdd() {
	if alive && log_clean; then
		pass "$1: wkdd alive, log clean"
	else
		fail "$1: wkdd alive, log clean"
	fi
}

# wait_log PATTERN [N]: wait (at most 10 s) until N (default 1) lines of
# the log match the extended regular expression PATTERN.
wait_log() {
	_i=0
	while [ "$(grep -cE "$1" "$LOG")" -lt "${2:-1}" ]; do
		[ $_i -ge 100 ] && return 1
		sleep 0.1
		_i=$((_i + 1))
	done
	return 0
}

# reload_wkdd: SIGHUP, then wait until wkdd has logged the outcome (it
# reloaded, or refused to).
reload_wkdd() {
	_n=$(grep -cE 'reloaded|not reloading' "$LOG")
	kill -HUP "$WKDD_PID" || return 1
	wait_log 'reloaded|not reloading' $((_n + 1))
}

# hold_open HOST: one TLS connection to wkdd (SNI and check for HOST) held
# open by gnutls-cli, for as long as the test wants: send requests on it
# with held_get, end it with hold_close.  One at a time (file descriptor
# 7).  Responses are appended to $T/held.out.
hold_open() {
	HELD_HOST=$1
	rm -f "$T/held.in" "$T/held.out"
	mkfifo "$T/held.in" || return 1
	# Made here: gnutls-cli's shell opens it only once the FIFO has a
	# writer, maybe after held_get's first look at it.
	: > "$T/held.out"
	gnutls-cli --x509cafile "$T/ca.pem" --sni-hostname "$1" \
	    --verify-hostname "$1" -p "$PORT" 127.0.0.1 \
	    < "$T/held.in" > "$T/held.out" 2>&1 &
	HELD_PID=$!
	exec 7> "$T/held.in"
}

# held_get PATH: GET PATH on the held connection, wait (at most 10 s) for
# its response's status line; returns 1 if none came.
held_get() {
	_n=$(grep -c '^HTTP/1.1 ' "$T/held.out")
	printf 'GET %s HTTP/1.1\r\nHost: %s\r\n\r\n' "$1" "$HELD_HOST" >&7
	_i=0
	while [ "$(grep -c '^HTTP/1.1 ' "$T/held.out")" -le "$_n" ]; do
		[ $_i -ge 100 ] && return 1
		sleep 0.1
		_i=$((_i + 1))
	done
	HELD_STATUS=$(grep '^HTTP/1.1 ' "$T/held.out" | tail -n 1 |
	    cut -d ' ' -f 2)
}

# hold_close: end the held connection.
hold_close() {
	exec 7>&-
	wait "$HELD_PID" 2>/dev/null
}

# dump_log: wkdd's log as TAP comments.
dump_log() {
	diag "--- $LOG"
	sed 's/^/#   /' "$LOG"
}

# fetch HOST PATH [CURL-ARGS...]: one HTTPS request to wkdd, name HOST
# resolved to 127.0.0.1 and checked against the test CA.  The path is sent
# as is.  Sets STATUS ("000" if curl failed); body in $T/body, headers of
# the (last) response in $T/headers.  A key it gets is checked by
# check_served.
fetch() {
	_host=$1 _path=$2
	shift 2
	rm -f "$T/body" "$T/headers"
	STATUS=$(curl -sS --path-as-is --max-time 20 -o "$T/body" \
	    -D "$T/headers" -w '%{http_code}' --cacert "$T/ca.pem" \
	    --resolve "$_host:$PORT:127.0.0.1" "$@" \
	    "https://$_host:$PORT$_path" 2>"$T/curl.err") || STATUS=000
	touch "$T/body" "$T/headers"
	if [ "$STATUS" = 200 ] && is_key_path "$_path" && ! is_head "$@"; then
		check_served "$T/body" "https://$_host$_path"
	fi
}

# is_key_path PATH: PATH (its query aside) names a key under WKD's direct
# (/.well-known/openpgpkey/hu/H) or advanced (.../DOMAIN/hu/H) method, or
# the page's armored download (/lookup.asc).
is_key_path() {
	case ${1%%\?*} in
	/.well-known/openpgpkey/hu/?* | /.well-known/openpgpkey/*/hu/?* | \
	/lookup.asc)
		return 0 ;;
	esac
	return 1
}

# is_head CURL-ARGS...: the request is a HEAD (no body to check).
is_head() {
	_m=
	for _a; do
		case $_m$_a in
		-I | --head | -XHEAD | -X\ HEAD | --request\ HEAD)
			return 0 ;;
		esac
		_m=
		case $_a in -X | --request) _m="$_a " ;; esac
	done
	return 1
}

# check_served FILE WHAT: the secret-material check every key served in
# the tests passes (hooked into fetch, so each test gets it once): FILE
# parses as OpenPGP, holds no secret (sub)key packet, exactly one User ID
# per certificate, and 256 KiB at most (tests/integ/pgpkt.pl served).
# Silent when it passes (counted in $T/served.n, said at finish); a
# failed check of the test when it doesn't.
check_served() {
	if _why=$(perl "$TOP/tests/integ/pgpkt.pl" served "$1" 2>&1); then
		echo "$2" >> "$T/served.n"
		return 0
	fi
	fail "served blob $2: $_why"
	return 1
}

# header NAME: a header's value from the last fetch ("" if absent).
header() {
	tr -d '\r' < "$T/headers" | grep -i "^$1:" | tail -n 1 |
	    sed 's/^[^:]*:[[:space:]]*//'
}

# body_size: bytes of the last fetch's body.
body_size() {
	wc -c < "$T/body" | tr -d ' '
}
