#!/bin/sh
# t_api_unit: dist/wkdctl-serve.service, the admin API's systemd unit, as
# make install ships it (into a DESTDIR: nothing on this system changes):
#   - make install puts the unit, its sysusers.d and tmpfiles.d files in
#     place; systemd-analyze verify is clean and systemd-analyze security
#     --offline=yes rates it 2.0 or less;
#   - systemd-sysusers --root makes _wkdctl, in the store's group _wkdd
#     (whatever order the files come in); systemd-tmpfiles --root makes
#     /run/wkdctl, _wkdctl's, mode 750;
#   - wkdctl serve run as the unit runs it (its own uid, the store's group
#     as a supplementary one, the unit's umask): with the store's files
#     group-writable (the unit's ExecStartPre=) it changes the store
#     through the API, which wkdd's user still owns; without that, it
#     refuses to start and says why.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
O=${O:-$TOP/build}
. "$TOP/tests/tap.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root (runs serve as another uid)"
for t in systemd-analyze systemd-sysusers systemd-tmpfiles setpriv curl \
    python3; do
	command -v $t >/dev/null 2>&1 || skip_all "$t not installed"
done
T=$(mktemp -d /tmp/wkdd-unit.XXXXXX) || exit 1
API_PID=
cleanup() {
	[ -n "$API_PID" ] && kill "$API_PID" 2>/dev/null && wait "$API_PID"
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
chmod 755 "$T"
R=$T/root
UNIT=$R/lib/systemd/system/wkdctl-serve.service

# -o all: the programs as built (with whatever flags), not made again.
check "make install DESTDIR=...: the unit, sysusers.d, tmpfiles.d" \
    sh -c "make -C '$TOP' -o all O='$O' PREFIX=/usr \
    UNITDIR=/lib/systemd/system DESTDIR='$R' install > '$T/install.out' \
    2>&1 && [ -f '$UNIT' ] &&
    [ -f '$R/usr/lib/sysusers.d/wkdctl-serve.conf' ] &&
    [ -f '$R/usr/lib/tmpfiles.d/wkdctl-serve.conf' ]" ||
    show "$T/install.out"

# verify and security read the unit as installed, but for ExecStart='s
# program, which is this build's (none is installed here).
sed "s|/usr/sbin/wkdctl|$O/wkdctl|" "$UNIT" > "$T/wkdctl-serve.service"
systemd-analyze verify --man=no "$T/wkdctl-serve.service" \
    > "$T/verify.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && [ ! -s "$T/verify.out" ]; then
	pass "systemd-analyze verify: clean"
else
	fail "systemd-analyze verify: clean (exit $rc)"
	show "$T/verify.out"
fi
systemd-analyze security --offline=yes "$T/wkdctl-serve.service" \
    > "$T/security.out" 2>&1
score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' \
    "$T/security.out")
check "systemd-analyze security: exposure $score, at most 2.0" \
    awk -v s="$score" 'BEGIN { exit !(s != "" && s + 0 <= 2.0) }'
like "$UNIT" '^User=_wkdctl$' "the unit runs as _wkdctl"
like "$UNIT" '^SupplementaryGroups=_wkdd$' "in the store's group"
like "$UNIT" '^ReadWritePaths=/var/lib/wkdd$' "writes only the store"
like "$UNIT" '^ExecStart=/usr/sbin/wkdctl -f /etc/wkdd/wkdd.conf serve ' \
    "ExecStart: wkdctl serve, with wkdd.conf"

# Both files in either order: _wkdctl ends up in _wkdd.
for order in "wkdctl-serve.conf wkdd.conf" "wkdd.conf wkdctl-serve.conf"; do
	rm -rf "$T/sys" && mkdir -p "$T/sys/etc"
	set -- $order
	systemd-sysusers --root="$T/sys" "$R/usr/lib/sysusers.d/$1" \
	    "$R/usr/lib/sysusers.d/$2" > "$T/sysusers.out" 2>&1
	check "sysusers ($order): _wkdctl, in group _wkdd" \
	    sh -c "grep -q '^_wkdctl:' '$T/sys/etc/passwd' &&
	    grep -q '^_wkdd:' '$T/sys/etc/passwd' &&
	    grep -Eq '^_wkdd:x:[0-9]+:(.*,)?_wkdctl(,|\$)' '$T/sys/etc/group'" ||
	    show "$T/sysusers.out" "$T/sys/etc/group"
done
systemd-tmpfiles --root="$T/sys" --create \
    "$R/usr/lib/tmpfiles.d/wkdctl-serve.conf" > "$T/tmpfiles.out" 2>&1
check "tmpfiles: /run/wkdctl, _wkdctl's, mode 750" \
    [ "$(stat -c '%a %u' "$T/sys/run/wkdctl" 2>/dev/null)" = \
    "750 $(awk -F: '$1 == "_wkdctl" { print $3 }' "$T/sys/etc/passwd")" ]

# --- serve as the unit runs it ----------------------------------------------

# Uids of no one on this system: wkdd's user owns the store, _wkdctl is
# in its group.
WU=64991 SU=64992
W() {
	"$O/wkdctl" -s "$T/store" "$@"
}
W init > "$T/init.out" 2>&1 && W domain add --no-cert unit.test \
    >> "$T/init.out" 2>&1 && W token add platform > "$T/tok" 2>>"$T/init.out"
ok $? "a store, a domain, a token (wkdctl as root)" || show "$T/init.out"
chown -R "$WU:$WU" "$T/store"
chmod 750 "$T/store"
mkdir -m 750 "$T/run" && chown "$SU:$SU" "$T/run"
# (exec: the background job's pid is serve's.)
asunit() {
	exec setpriv --reuid "$SU" --regid "$SU" --groups "$WU" --inh-caps=-all \
	    --bounding-set=-all --no-new-privs sh -c 'umask 0007; exec "$@"' \
	    sh "$@"
}
SOCK=$T/run/api.sock
asunit "$O/wkdctl" -s "$T/store" serve --socket "$SOCK" \
    > "$T/nogw.out" 2>&1 &
API_PID=$!
wait "$API_PID"
rc=$?
API_PID=
check "without the group's write bit, serve refuses to start (exit $rc)" \
    [ "$rc" -ne 0 ]
like "$T/nogw.out" "store|lock.mdb|Permission denied" \
    "... and says it is the store"

# ExecStartPre='s step, then serve as the unit's user.
chmod g+w "$T/store/data.mdb" "$T/store/lock.mdb"
asunit "$O/wkdctl" -s "$T/store" serve --socket "$SOCK" \
    > "$T/serve.out" 2>&1 &
API_PID=$!
_i=0
while [ ! -S "$SOCK" ] && kill -0 "$API_PID" 2>/dev/null && [ $_i -lt 100 ]
do
	sleep 0.1
	_i=$((_i + 1))
done
check "serve listens as the unit's user" [ -S "$SOCK" ] || show "$T/serve.out"
check "its socket: serve's, mode 660" \
    [ "$(stat -c '%u %a' "$SOCK")" = "$SU 660" ]
STATUS=$(curl -sS --unix-socket "$SOCK" -o "$T/resp" -w '%{http_code}' \
    -H "Authorization: Bearer $(cat "$T/tok")" -d '{"primary":"u@unit.test"}' \
    http://localhost/v1/accounts 2>"$T/curl.err") || STATUS=000
is "$STATUS" 201 "POST /v1/accounts as the unit's user: 201"
check "the account is in the store (wkdctl account show)" \
    sh -c "'$O/wkdctl' -s '$T/store' account show u@unit.test >/dev/null"
check "the store is still wkdd's user's" \
    [ "$(stat -c %u "$T/store/data.mdb")" = "$WU" ]
kill -TERM "$API_PID"
wait "$API_PID"
ok $? "serve exits 0 on SIGTERM"
API_PID=
tap_plan
