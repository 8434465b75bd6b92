#!/bin/sh
# t_startup: what start-up checks, and wkdd -n with it: -V, a FIFO as the
# config, a missing store or pidfile directory, user (missing, root kept, one
# that can't open the store or reload the key), a store readable but for
# lock.mdb when started as a user (the systemd User= case), Debian's
# ssl-cert key convention, daemon mode's exit status (the parent waits for
# the child), a relative -f reloaded after daemon mode's chdir("/"), and
# the pidfile removed at exit after the privilege drop.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"

need curl certtool setpriv
need_wkdctl

make_ca && make_cert "$T/cert.pem" "$T/key.pem" a.test &&
    make_cert "$T/cert2.pem" "$T/key2.pem" a.test d.test ||
    { fail "certtool"; finish; }
make_store a.test
write_conf

# run_wkdd ARGS...: wkdd in the foreground; sets RC, output in $T/out.
run_wkdd() {
	timeout 30 "$WKDD" "$@" > "$T/out" 2>&1
	RC=$?
}

# refused NAME WANT: the last run_wkdd exited 1 and said WANT (fixed).
refused() {
	if [ "$RC" -eq 1 ] && grep -qF -- "$2" "$T/out"; then
		pass "$1"
	else
		fail "$1 (exit $RC)"
		diag "  want: $2"
		sed 's/^/#   got:  /' "$T/out"
	fi
}

# --- -V, and the version's one place ---------------------------------------
V=$(cat "$TOP/VERSION")
is "$("$WKDD" -V)" "wkdd $V" "wkdd -V: the VERSION file's"
is "$("$WKDD" --version)" "wkdd $V" "wkdd --version"
is "$("$WKDCTL" -V)" "wkdctl $V" "wkdctl -V"
is "$("$WKDCTL" --version)" "wkdctl $V" "wkdctl --version"

# --- -n ------------------------------------------------------------------
run_wkdd -n -f "$CONF"
is "$RC" 0 "-n: good configuration"

rm -f "$T/fifo.conf"
mkfifo "$T/fifo.conf"
run_wkdd -n -f "$T/fifo.conf"
refused "-n: a FIFO as the config is refused, not waited on" \
    "$T/fifo.conf: not a regular file"

write_conf
sed -i "s|^store .*|store $T/nostore|" "$CONF"
run_wkdd -n -f "$CONF"
refused "-n: a missing store" "store $T/nostore: No such file"
mkdir -p "$T/empty"
sed -i "s|^store .*|store $T/empty|" "$CONF"
run_wkdd -n -f "$CONF"
refused "-n: a directory without a store" \
    "store $T/empty: no store here (run \"wkdctl -s $T/empty init\")"

write_conf "pidfile $T/norun/wkdd.pid"
run_wkdd -n -f "$CONF"
refused "-n: the pidfile's directory missing" \
    "pidfile $T/norun/wkdd.pid: directory $T/norun: No such file"
write_conf "pidfile $T"
run_wkdd -n -f "$CONF"
refused "-n: a pidfile that is a directory" "pidfile $T: not a regular file"

write_conf "user wkdd-no-such-user"
run_wkdd -n -f "$CONF"
refused "-n: a user that doesn't exist" "user wkdd-no-such-user: no such user"
write_conf "user root"
run_wkdd -n -f "$CONF"
is "$RC" 0 "-n: user root (stay root) is accepted"

# --- the store as the user wkdd runs as ---------------------------------------
if [ "$(id -u)" -eq 0 ] && id nobody > /dev/null 2>&1; then
	chmod 755 "$T"
	# Group-readable store, as a root-owned install leaves it.
	chmod 755 "$STORE"
	chmod 644 "$STORE/data.mdb" "$STORE/lock.mdb"
	write_conf "user nobody"
	run_wkdd -n -f "$CONF"
	refused "-n as root, user nobody: lock.mdb not writable by nobody" \
	    "lock.mdb must be writable by user nobody"
	# Started as that user (systemd's User=): the same message.
	chown nobody "$T/key.pem"
	timeout 30 setpriv --reuid=nobody --regid="$(id -g nobody)" \
	    --clear-groups "$WKDD" -d -f "$CONF" > "$T/out" 2>&1
	RC=$?
	refused "started as nobody: says lock.mdb must be writable" \
	    "$STORE/lock.mdb: Permission denied: lock.mdb must be writable"
	chown root "$T/key.pem"
	chmod 600 "$STORE/data.mdb"
	run_wkdd -n -f "$CONF"
	refused "-n: data.mdb not readable by the user" \
	    "$STORE/data.mdb: Permission denied"

	# The store right, the key root's: -n passes but warns that SIGHUP
	# would fail (the case of a reload refused after the drop).
	chmod 666 "$STORE/data.mdb" "$STORE/lock.mdb"
	run_wkdd -n -f "$CONF"
	is "$RC" 0 "-n, user nobody, store usable: exit 0"
	like "$T/out" "tls-key $T/key.pem: Permission denied as user nobody.*SIGHUP can't reload it" \
	    "-n warns that the key can't be reloaded as nobody"
	is "$(tail -n 1 "$T/out")" "configuration OK" "... and says OK"
	chown nobody "$T/key.pem"
	run_wkdd -n -f "$CONF"
	unlike "$T/out" "SIGHUP can't reload" "-n: a key nobody owns: no warning"
	chown root "$T/key.pem"

	# Debian's ssl-cert convention: root:ssl-cert, mode 640.
	if getent group ssl-cert > /dev/null; then
		cp "$T/key.pem" "$T/sslkey.pem"
		chown root:ssl-cert "$T/sslkey.pem"
		chmod 640 "$T/sslkey.pem"
		write_conf
		sed -i "s|^tls-key .*|tls-key $T/sslkey.pem|" "$CONF"
		run_wkdd -n -f "$CONF"
		is "$RC" 0 "a key root:ssl-cert mode 640 is accepted"
		start_wkdd || finish
		fetch a.test /.well-known/openpgpkey/policy
		is "$STATUS" 200 "... and served with"
		stop_wkdd
		sed -i 's/^user .*/user nobody/' "$CONF"
		run_wkdd -n -f "$CONF"
		like "$T/out" "tls-key $T/sslkey.pem: Permission denied as user nobody.*group ssl-cert" \
		    "-n: user nobody isn't in ssl-cert: warned, with the fix"
		chmod 660 "$T/sslkey.pem"
		run_wkdd -n -f "$CONF"
		refused "a key group-writable by ssl-cert is refused" \
		    "group or world accessible (mode 660)"
		chown root:root "$T/sslkey.pem"
		chmod 640 "$T/sslkey.pem"
		run_wkdd -n -f "$CONF"
		refused "mode 640 with another group is refused" \
		    "group or world accessible (mode 640)"
	else
		skip "no group ssl-cert (package ssl-cert)"
	fi

	# The pidfile in a directory only root may write (as /run): removed
	# at exit all the same, by the process kept as root for it.
	mkdir -p "$T/run"
	chmod 755 "$T/run"
	write_conf "user nobody" "pidfile $T/run/wkdd.pid"
	chown nobody "$T/key.pem"
	start_wkdd || finish
	is "$(cat "$T/run/wkdd.pid" 2>/dev/null)" "$WKDD_PID" \
	    "pidfile written with the daemon's pid"
	uid=$(awk '/^Uid:/ { print $3 }' "/proc/$WKDD_PID/status")
	is "$uid" "$(id -u nobody)" "the daemon runs as nobody"
	keeper=$(pgrep -P "$WKDD_PID" -x wkdd-pidfile)
	check "one process kept as root for the pidfile" [ -n "$keeper" ]
	if [ -n "$keeper" ]; then
		is "$(awk '/^Uid:/ { print $3 }' "/proc/$keeper/status")" 0 \
		    "... it is root"
		n=$(ls "/proc/$keeper/fd" | wc -l)
		is "$n" 4 "... and holds stdin, stdout, stderr, its pipe only"
	fi
	stop_wkdd
	is "$?" 0 "user nobody: exit 0"
	i=0
	while [ -e "$T/run/wkdd.pid" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	check "pidfile removed at exit after the privilege drop" \
	    [ ! -e "$T/run/wkdd.pid" ]
	i=0
	while [ -n "$keeper" ] && kill -0 "$keeper" 2>/dev/null &&
	    [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	check "the keeper is gone" [ $i -lt 50 ]
	# The same in daemon mode, its output read through a pipe: the
	# command returns once serving (the keeper holds no caller's pipe).
	out=$(timeout 30 "$WKDD" -f "$CONF" 2>&1)
	is "$?" 0 "daemon mode, user nobody: returns 0, output piped"
	DPID=$(cat "$T/run/wkdd.pid" 2>/dev/null)
	check "... running" kill -0 "${DPID:-0}"
	kill -TERM "${DPID:-0}"
	i=0
	while [ -e "$T/run/wkdd.pid" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	check "... pidfile removed at exit" [ ! -e "$T/run/wkdd.pid" ]
	chown root "$T/key.pem"
	chmod 640 "$STORE/data.mdb" "$STORE/lock.mdb"
else
	skip "not root: can't test the user directive"
fi

# --- daemon mode ----------------------------------------------------------
# A pidfile that passes the check (/proc is writable for root) but can't
# be made: the failure comes after the fork; the parent must not exit 0.
if [ "$(id -u)" -eq 0 ]; then
	write_conf "pidfile /proc/wkdd-test.pid"
	run_wkdd -f "$CONF"
	refused "daemon mode: a failure after the fork: exit 1, the reason" \
	    "pidfile /proc/wkdd-test.pid: No such file"
	like "$T/out" "wkdd: did not start" "... and says it did not start"
fi
write_conf "pidfile $T/norun/wkdd.pid"
run_wkdd -f "$CONF"
refused "daemon mode: missing pidfile directory: exit 1, with the reason" \
    "pidfile $T/norun/wkdd.pid: directory $T/norun: No such file"

# A relative -f, daemon mode (which changes to /): SIGHUP still finds it.
cp "$T/cert.pem" "$T/cert-served.pem"
cp -p "$T/key.pem" "$T/key-served.pem"
mkdir -p "$T/run"
write_conf "pidfile $T/run/d.pid"
sed -i -e "s|^tls-cert .*|tls-cert $T/cert-served.pem|" \
    -e "s|^tls-key .*|tls-key $T/key-served.pem|" "$CONF"
cp "$CONF" "$T/rel.conf"
rm -f "$T/ready"
mkfifo "$T/ready"
timeout 30 cat "$T/ready" > "$T/ports" &
CAT=$!
(cd "$T" && exec timeout 30 "$WKDD" -f rel.conf -R 3 3>"$T/ready" \
    > "$T/out" 2>&1)
RC=$?
wait "$CAT"
PORT=$(head -n 1 "$T/ports")
is "$RC" 0 "daemon mode: exit 0 once serving"
DPID=$(cat "$T/run/d.pid" 2>/dev/null)
check "daemon mode: running, pid in the pidfile" kill -0 "${DPID:-0}"
fetch a.test /.well-known/openpgpkey/policy
is "$STATUS" 200 "daemon mode: serving"
fetch d.test /.well-known/openpgpkey/policy
is "$STATUS" 000 "d.test not in the first certificate"
cp "$T/cert2.pem" "$T/cert-served.pem"
cp -p "$T/key2.pem" "$T/key-served.pem"
kill -HUP "$DPID"
i=0
while [ $i -lt 100 ]; do
	fetch d.test /.well-known/openpgpkey/policy
	[ "$STATUS" = 404 ] && break
	sleep 0.1
	i=$((i + 1))
done
is "$STATUS" 404 "relative -f: SIGHUP after chdir(\"/\") reloaded it"
kill -TERM "$DPID"
i=0
while kill -0 "$DPID" 2>/dev/null && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "daemon mode: SIGTERM stops it" [ $i -lt 100 ]
check "daemon mode: pidfile removed" [ ! -e "$T/run/d.pid" ]

finish
