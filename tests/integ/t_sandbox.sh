#!/bin/sh
# t_sandbox: what wkdd can't do once it serves, proven on the running
# daemon by wkdd-test (wkdd built with WKDD_TEST_HOOKS): on SIGUSR1 it
# tries a forbidden open, write, create, socket and fork and logs what
# each got; on SIGUSR2 it makes a system call outside the allow-list and
# is killed (SIGSYS).  /proc shows Seccomp 2 and NoNewPrivs 1; serving, a
# SIGHUP reload with a renewed certificate (a new file, renamed into
# place) and a store changed and grown by wkdctl all still work inside.
# Also: a kernel with an older Landlock ABI or none (wkdd-test pretends),
# "sandbox no", and the user rules: root becomes the package's user by
# default, refuses to start without one, stays root only with "user
# root" (and says so).
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"

need curl certtool gpg
need_wkdctl
WKDD_REAL=$WKDD
WKDD=${WKDD_TEST:-$O/wkdd-test}
if [ ! -x "$WKDD" ]; then
	fail "$WKDD not built (make test-bins)"
	finish
fi

make_ca && make_cert "$T/cert1.pem" "$T/key1.pem" a.test &&
    make_cert "$T/cert2.pem" "$T/key2.pem" a.test b.test ||
    { fail "certtool"; finish; }
cp -p "$T/cert1.pem" "$T/cert.pem"
cp -p "$T/key1.pem" "$T/key.pem"
make_store a.test
for addr in alice@a.test bob@a.test carol@a.test; do
	gen_key "$addr" > /dev/null || { fail "gpg: key for $addr"; finish; }
	ctl account add "$addr" > /dev/null 2>&1 ||
	    { fail "wkdctl account add $addr"; finish; }
done
ctl import "$T/alice@a.test.pgp" > /dev/null 2>&1 ||
    { fail "wkdctl import"; finish; }
HA=$(hash_of alice@a.test)
HB=$(hash_of bob@a.test)
KEY=/.well-known/openpgpkey/hu

# status PID FIELD: a field of /proc/PID/status.
status() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

# hook: SIGUSR1, then wait for the hook's last line.
hook() {
	_n=$(grep -c 'test-hook: fork' "$LOG")
	kill -USR1 "$WKDD_PID" && wait_log 'test-hook: fork' $((_n + 1))
}

# tried WHAT RESULT: the last hook said "test-hook: WHAT: RESULT".
tried() {
	_got=$(grep "test-hook: $1: " "$LOG" | tail -n 1 | sed 's/.*: //')
	is "$_got" "$2" "sandboxed: $1: $2"
}

# --- the real binary has no hook ---------------------------------------------
check "the real wkdd has no test hook" \
    sh -c "! grep -q 'test-hook' '$WKDD_REAL'"

# --- the sandbox on (the default) ------------------------------------------
mkdir -p "$T/run" "$T/log"
write_conf "pidfile $T/run/wkdd.pid" "access-log $T/log/access.log"
start_wkdd || finish
like "$LOG" "sandbox: Landlock ABI [0-9]+ \([0-9]+ rules\), seccomp \([0-9]+ system calls\)" \
    "log: Landlock and seccomp applied"
diag "$(grep -o 'sandbox: Landlock.*' "$LOG" | head -n 1)"
is "$(status "$WKDD_PID" Seccomp)" 2 "/proc: Seccomp 2 (filter)"
is "$(status "$WKDD_PID" NoNewPrivs)" 1 "/proc: NoNewPrivs 1"
like "$LOG" "user root: staying root \(uid 0\), as asked" \
    "user root: stays root, with a warning"
is "$(status "$WKDD_PID" Uid | cut -f 1)" 0 "... and is root"

fetch a.test "$KEY/$HA"
is "$STATUS" 200 "a key is served inside the sandbox"
fetch a.test /.well-known/openpgpkey/policy
is "$STATUS" 200 "the policy too"
check "the access log is written" grep -q " key 200 " "$T/log/access.log"

check "SIGUSR1: the hook ran" hook
tried "read data.mdb" ok
tried "write data.mdb" "Permission denied"
tried "create in store" "Permission denied"
tried "read tls-cert" ok
tried "write tls-cert" "Permission denied"
tried "read /etc/passwd" "Permission denied"
tried "create in /tmp" "Permission denied"
tried "socket AF_INET" "Operation not permitted"
tried "fork" "Operation not permitted"
check "nothing was created in /tmp" [ ! -e "/tmp/wkdd-hook.$WKDD_PID" ]
check "nothing was created in the store" [ ! -e "$STORE/new.mdb" ]
check_wkdd "after the forbidden attempts"

# A renewed certificate: a new file renamed over the old (certbot, the
# deploy hook), then SIGHUP.  The directory's rule covers the new file.
cp -p "$T/cert2.pem" "$T/cert.new" && mv "$T/cert.new" "$T/cert.pem"
cp -p "$T/key2.pem" "$T/key.new" && mv "$T/key.new" "$T/key.pem"
check "SIGHUP: reloaded inside the sandbox" reload_wkdd
tail -n 1 "$LOG" > "$T/last"
like "$T/last" "reloaded" "... the log says reloaded"
fetch b.test /.well-known/openpgpkey/policy
is "$STATUS" 404 "the renewed certificate is served (b.test in it; not hosted)"
# The access log renamed away (logrotate) and reopened on SIGHUP: a new
# file in its directory.
mv "$T/log/access.log" "$T/log/access.log.1"
check "SIGHUP after logrotate" reload_wkdd
fetch a.test "$KEY/$HA"
check "a new access log is created inside the sandbox" \
    grep -q " key 200 " "$T/log/access.log"

# The store changed by wkdctl: a key more, served at once.
fetch a.test "$KEY/$HB"
is "$STATUS" 404 "bob not published yet"
ctl import "$T/bob@a.test.pgp" > /dev/null 2>&1
fetch a.test "$KEY/$HB"
is "$STATUS" 200 "a key wkdctl added is served at once"
# ... and grown past wkdd's map (wkdctl with a larger store-size).
{ cat "$CONF"; echo "store-size 2G"; } > "$T/big.conf"
before=$(stat -c %s "$STORE/data.mdb")
"$WKDCTL" -f "$T/big.conf" import "$T/carol@a.test.pgp" > /dev/null 2>&1
diag "data.mdb: $before bytes, then $(stat -c %s "$STORE/data.mdb")"
fetch a.test "$KEY/$(hash_of carol@a.test)"
is "$STATUS" 200 "a store grown past wkdd's map is followed"
check_wkdd "after reload and store changes"

# A store directory moved over the old one isn't reachable: the old one
# is still served, and the log says why and what to do.
"$WKDCTL" -s "$T/copy" init > /dev/null 2>&1 &&
    "$WKDCTL" -s "$T/copy" domain add a.test > /dev/null 2>&1 &&
    mv "$STORE" "$T/store.old" && mv "$T/copy" "$STORE"
check "a store directory moved over: logged" \
    wait_log "was replaced, but the sandbox allows the directory wkdd started with only"
fetch a.test "$KEY/$HA"
is "$STATUS" 200 "... and the old one still served"
rm -rf "$STORE" && mv "$T/store.old" "$STORE"

# The last act: a system call outside the allow-list kills it.
kill -USR2 "$WKDD_PID"
wait "$WKDD_PID"
RC=$?
is "$RC" $((128 + 31)) "a forbidden system call (execve): killed by SIGSYS"
like "$LOG" "test-hook: execve /bin/true" "... the hook's last line"
unlike "$LOG" "execve /bin/true returned" "... and it never returned"
WKDD_PID=
check "log clean (no sanitizer report)" log_clean

# --- an older Landlock, and none ---------------------------------------------
: > "$LOG"
write_conf
export WKDD_TEST_LANDLOCK_ABI=3
start_wkdd || finish
like "$LOG" "sandbox: Landlock ABI 3, older than [0-9]+: TCP bind and connect, signals and abstract sockets not restricted" \
    "Landlock ABI 3: one line says what isn't restricted"
check "SIGUSR1" hook
tried "read /etc/passwd" "Permission denied"
tried "write data.mdb" "Permission denied"
stop_wkdd
is "$?" 0 "ABI 3: exit 0"

: > "$LOG"
export WKDD_TEST_LANDLOCK_ABI=0
start_wkdd || finish
unset WKDD_TEST_LANDLOCK_ABI
like "$LOG" "sandbox: Landlock not available \(kernel without it, or not enabled in lsm=\): files not restricted" \
    "no Landlock: one line says so"
like "$LOG" "sandbox: seccomp \([0-9]+ system calls\)" "... seccomp still applied"
is "$(status "$WKDD_PID" Seccomp)" 2 "... /proc: Seccomp 2"
check "SIGUSR1" hook
tried "read /etc/passwd" ok
tried "fork" "Operation not permitted"
fetch a.test "$KEY/$HA"
is "$STATUS" 200 "no Landlock: serving"
stop_wkdd
is "$?" 0 "no Landlock: exit 0"

# --- sandbox no -----------------------------------------------------------------
: > "$LOG"
write_conf "sandbox no"
start_wkdd || finish
like "$LOG" "sandbox no: neither Landlock nor seccomp applied" \
    "sandbox no: logged"
is "$(status "$WKDD_PID" Seccomp)" 0 "sandbox no: /proc: Seccomp 0"
is "$(status "$WKDD_PID" NoNewPrivs)" 1 "sandbox no: NoNewPrivs 1 all the same"
check "SIGUSR1" hook
tried "read /etc/passwd" ok
fetch a.test "$KEY/$HA"
is "$STATUS" 200 "sandbox no: serving"
stop_wkdd
is "$?" 0 "sandbox no: exit 0"
write_conf "sandbox maybe"
"$WKDD" -n -f "$CONF" > "$T/out" 2>&1
is "$?" 1 "sandbox maybe: refused"
like "$T/out" "sandbox" "... naming the directive"

# --- the user: default, none, root --------------------------------------------
if [ "$(id -u)" -eq 0 ] && id nobody > /dev/null 2>&1; then
	# No user directive: root becomes the package's user (wkdd-test
	# takes WKDD_TEST_USER for _wkdd).
	write_conf "user nobody"
	sed -i '/^user /d' "$CONF"
	chmod 755 "$T"
	chmod 755 "$STORE"
	chmod 644 "$STORE/data.mdb"
	chmod 666 "$STORE/lock.mdb"
	chown nobody "$T/key.pem"
	WKDD_TEST_USER=nobody "$WKDD" -nn -f "$CONF" > "$T/out" 2>&1
	like "$T/out" "^user nobody$" \
	    "no user directive, as root: the package's user (wkdd -nn)"
	chown root "$T/key.pem"
	WKDD_TEST_USER=wkdd-no-such-user "$WKDD" -n -f "$CONF" > "$T/out" 2>&1
	is "$?" 1 "no user directive and no package user: refused"
	like "$T/out" "started as root without a user directive, and there is no user wkdd-no-such-user to become: add \"user NAME\"" \
	    "... saying what to add"
	"$WKDD_REAL" -nn -f "$CONF" > "$T/out" 2>&1
	chown nobody "$T/key.pem"
	if id _wkdd > /dev/null 2>&1; then
		like "$T/out" "^user _wkdd$" "the real wkdd: _wkdd by default"
	else
		like "$T/out" "there is no user _wkdd to become" \
		    "the real wkdd: no _wkdd here, refused"
	fi
	# Started as root, dropped to the default user, sandboxed.
	: > "$LOG"
	export WKDD_TEST_USER=nobody
	start_wkdd || finish
	unset WKDD_TEST_USER
	is "$(status "$WKDD_PID" Uid | cut -f 1)" "$(id -u nobody)" \
	    "started as root, no user: runs as the default user"
	is "$(status "$WKDD_PID" Seccomp)" 2 "... sandboxed"
	fetch a.test "$KEY/$HA"
	is "$STATUS" 200 "... serving"
	check "SIGHUP as the default user: no \"user changes\" warning" \
	    reload_wkdd
	unlike "$LOG" "user changes on restart only" "... none logged"
	stop_wkdd
	is "$?" 0 "default user: exit 0"
	chown root "$T/key.pem"
	chmod 640 "$STORE/data.mdb" "$STORE/lock.mdb"
else
	skip "not root: can't test the default user"
fi


# --- as shipped: detached, logging to syslog ---------------------------------
# Not -d: messages go to syslog (without a daemon, log.c looks for
# /dev/log once a second, with access(2)); the sandbox must allow it.
write_conf "pidfile $T/shipped.pid"
rm -f "$T/shipped.ready"
mkfifo "$T/shipped.ready"
"$WKDD_REAL" -R 3 -f "$CONF" 3> "$T/shipped.ready" 2>> "$LOG" &
SHIPPED_PORT=$(timeout 30 cat "$T/shipped.ready" | head -n 1)
wait $!
SHIPPED=$(cat "$T/shipped.pid" 2>/dev/null)
ok=1
for _n in 1 2 3; do	# Across the once-a-second look for /dev/log.
	_code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$T/ca.pem" \
	    --resolve "a.test:$SHIPPED_PORT:127.0.0.1" \
	    "https://a.test:$SHIPPED_PORT$KEY/$HA" 2>/dev/null)
	[ "$_code" = 200 ] || ok=0
	curl -s -o /dev/null --cacert "$T/ca.pem" \
	    --resolve "a.test:$SHIPPED_PORT:127.0.0.1" \
	    "https://a.test:$SHIPPED_PORT$KEY/nosuchhashnosuchhashnosuchhash1" \
	    2>/dev/null
	sleep 1.1	# Not a timing check: to pass log.c's second.
done
is "$ok" 1 "as shipped (detached, syslog): keys served"
if [ -n "$SHIPPED" ] && kill -0 "$SHIPPED" 2>/dev/null; then
	pass "as shipped: still running after its log lines (not killed)"
	is "$(status "$SHIPPED" Seccomp)" 2 "as shipped: sandboxed"
	kill "$SHIPPED"
	_i=0
	while kill -0 "$SHIPPED" 2>/dev/null && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
else
	fail "as shipped: still running after its log lines (not killed)"
fi

finish
