#!/bin/sh
# t_access_log: the access log of a live wkdd.  One line per request, with
# time, client, method, Host, route, status, bytes and duration, and never
# the local part, its hash or the query; the client truncated (IPv4 /24,
# IPv6 /48) or left out on request; to a file that SIGHUP opens again after
# logrotate's rename, apart from the error messages; off writes nothing;
# under -d without a file the lines go to stderr.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"

need curl certtool gpg
need_wkdctl

make_certs a.test '*.a.test'
make_store a.test
FA=$(gen_key alice@a.test) || { fail "gpg: alice's key"; finish; }
setup "alice's account" ctl account add alice@a.test
setup "import alice's key" ctl import "$T/alice@a.test.pgp"
HA=$(hash_of alice@a.test)
HB=$(hash_of bob@a.test)
ALOG=$T/access.log
V6=
if ip -6 addr show dev lo 2>/dev/null | grep -q '::1'; then
	V6="listen [::1]:0"
fi
write_conf "access-log $ALOG" "access-log-address truncate" ${V6:+"$V6"}
start_wkdd || finish
PORT6=$(echo "$PORTS" | sed -n 2p)

# lines FILE: its number of lines (0 if it doesn't exist).
lines() {
	if [ -f "$1" ]; then wc -l < "$1" | tr -d ' '; else echo 0; fi
}
# wait_lines FILE N: until FILE has N lines (at most 10 s).
wait_lines() {
	_i=0
	while [ "$(lines "$1")" -lt "$2" ] && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
}

# Six requests of every kind, one of them with the local part in the query.
fetch a.test "/.well-known/openpgpkey/hu/$HA?l=alice"
is "$STATUS" 200 "key with ?l=alice"
size=$(body_size)
fetch openpgpkey.a.test "/.well-known/openpgpkey/a.test/hu/$HB?l=bob"
is "$STATUS" 404 "miss"
fetch a.test /.well-known/openpgpkey/policy -I
is "$STATUS" 200 "HEAD policy"
fetch a.test /.well-known/openpgpkey/policy -X OPTIONS
is "$STATUS" 204 "OPTIONS"
fetch a.test /.well-known/openpgpkey/policy -X POST
is "$STATUS" 405 "POST"
fetch a.test "/nothing/here/alice"
is "$STATUS" 404 "unrouted path"
wait_lines "$ALOG" 6
is "$(lines "$ALOG")" 6 "one line per request"
like "$ALOG" "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z 127\.0\.0\.0 GET a\.test key 200 $size [0-9]+us\$" \
    "key line: time, client /24, method, host, route, status, bytes, duration"
like "$ALOG" ' 127\.0\.0\.0 GET openpgpkey\.a\.test key 404 10 [0-9]+us$' \
    "miss line"
like "$ALOG" ' 127\.0\.0\.0 HEAD a\.test policy 200 0 ' "HEAD line"
like "$ALOG" ' 127\.0\.0\.0 OPTIONS a\.test options 204 0 ' "OPTIONS line"
like "$ALOG" ' 127\.0\.0\.0 POST a\.test method 405 ' "POST line"
like "$ALOG" ' 127\.0\.0\.0 GET a\.test - 404 ' "unrouted line: no path"
bad=0
while read -r _t _c _m _h _r _s _b _d _extra; do
	case $_t in [0-9][0-9][0-9][0-9]-*Z) ;; *) bad=1 ;; esac
	case $_s$_b in *[!0-9]*) bad=1 ;; esac
	case $_d in [0-9]*us) ;; *) bad=1 ;; esac
	[ -z "$_extra" ] || bad=1
done < "$ALOG"
is "$bad" 0 "every line has exactly the eight fields"
unlike "$ALOG" "alice|bob|l=|$HA|$HB|/\\.well-known|nothing" \
    "no local part, query, hash or path in the access log"
unlike "$LOG" "alice|bob|$HA|$HB" "nor in the error log"
unlike "$LOG" ' (GET|HEAD|OPTIONS|POST) a\.test ' \
    "access lines not among the error messages"

if [ -n "$V6" ]; then
	curl -s -o /dev/null --cacert "$T/ca.pem" --max-time 20 \
	    --resolve "a.test:$PORT6:::1" \
	    "https://a.test:$PORT6/.well-known/openpgpkey/policy"
	wait_lines "$ALOG" 7
	like "$ALOG" 'Z :: GET a\.test policy 200 ' "IPv6 ::1 truncated to /48 (::)"
fi

# logrotate: rename, SIGHUP, the next line goes to a new file.
n1=$(lines "$ALOG")
mv "$ALOG" "$ALOG.1"
reload_wkdd
fetch a.test /.well-known/openpgpkey/policy
wait_lines "$ALOG" 1
is "$(lines "$ALOG")" 1 "after rename and SIGHUP: a new file, one line"
is "$(lines "$ALOG.1")" "$n1" "the renamed file gets nothing more"
check "the new file is mode 640" \
    test "$(stat -c %a "$ALOG")" = 640

# The client in full, then left out.
sed -i "s|^access-log-address .*|access-log-address full|" "$CONF"
reload_wkdd
fetch a.test /.well-known/openpgpkey/policy
wait_lines "$ALOG" 2
like "$ALOG" 'Z 127\.0\.0\.1 GET a\.test policy 200 ' "access-log-address full"
sed -i "s|^access-log-address .*|access-log-address off|" "$CONF"
reload_wkdd
fetch a.test /.well-known/openpgpkey/policy
wait_lines "$ALOG" 3
like "$ALOG" 'Z - GET a\.test policy 200 ' "access-log-address off: -"

# off: nothing anywhere.
sed -i "s|^access-log .*|access-log off|" "$CONF"
reload_wkdd
n1=$(lines "$ALOG") n0=$(lines "$LOG")
for i in 1 2 3; do
	fetch a.test /.well-known/openpgpkey/policy
done
sleep 0.3
is "$(lines "$ALOG")" "$n1" "access-log off: no line in the file"
is "$(lines "$LOG")" "$n0" "access-log off: no line on stderr either"

# A file that can't be opened is refused on reload; the old setting stays.
sed -i "s|^access-log .*|access-log $T/no/such/dir/access.log|" "$CONF"
reload_wkdd
like "$LOG" "access-log $T/no/such/dir/access.log: No such file or directory; access log unchanged" \
    "reload: an unopenable file is logged"
check_wkdd "reloads"
stop_wkdd

# At start it is an error.
run_n=$(timeout 30 "$WKDD" -d -f "$CONF" 2>&1 </dev/null)
rc=$?
is "$rc" 1 "start: an unopenable access-log file is fatal"
case $run_n in
*"access-log $T/no/such/dir/access.log: No such file"*) pass "start: the reason" ;;
*) fail "start: the reason"; diag "$run_n" ;;
esac

# Under -d with the default (syslog): the lines go to stderr.
write_conf
start_wkdd || finish
fetch a.test "/.well-known/openpgpkey/hu/$HA"
wait_log " 127\.0\.0\.1 GET a\.test key 200 $size "
check "-d, access-log syslog: the line on stderr" [ $? -eq 0 ]

# MHD's messages: a flood of failing handshakes logs at most 20 a minute
# (not across a minute's end: up to 10 s of waiting).
while [ "$(date +%S)" -gt 50 ]; do
	sleep 1
done
i=0
while [ $i -lt 30 ]; do
	curl -s --max-time 5 -o /dev/null "http://127.0.0.1:$PORT/"
	i=$((i + 1))
done
sleep 0.5
n=$(grep -c '^mhd: ' "$LOG")
check "30 broken connections: from 1 to 20 mhd: lines ($n)" \
    test "$n" -ge 1 -a "$n" -le 20
check_wkdd "flood"
stop_wkdd

# The default, syslog, as a daemon: access lines and messages both reach
# /dev/log, the access lines under an ident of their own.  In a private
# mount namespace whose /dev is a tmpfs with null, zero, random and
# urandom bound from the real one, and socat's socket as /dev/log.
if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null ||
    ! command -v socat >/dev/null; then
	skip "syslog: needs root, unshare and socat"
	finish
fi
write_conf "pidfile $T/wkdd.pid"
cat > "$T/ns.sh" <<EOF
set -e
mkdir -p "$T/olddev"
mount --bind /dev "$T/olddev"
mount -t tmpfs -o mode=755 tmpfs /dev
for n in null zero random urandom; do
	: > /dev/\$n
	mount --bind "$T/olddev/\$n" /dev/\$n
done
socat -u UNIX-RECV:/dev/log,mode=666 OPEN:"$T/syslog.raw",creat,append &
echo \$! > "$T/socat.pid"
i=0
while [ ! -S /dev/log ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done
exec "$WKDD" -R 3 -f "$CONF" 3> "$T/ready"
EOF
rm -f "$T/ready"
mkfifo "$T/ready"
unshare -m --propagation private sh "$T/ns.sh" >> "$LOG" 2>&1 &
PORT=$(timeout 30 cat "$T/ready" | head -n 1)
check "wkdd as a daemon in the namespace (port ${PORT:-none})" \
    test -n "$PORT" -a -s "$T/wkdd.pid"
DPID=$(cat "$T/wkdd.pid" 2>/dev/null)
fetch a.test "/.well-known/openpgpkey/hu/$HA?l=alice"
is "$STATUS" 200 "daemon: key"
printf 'bogus directive\n' >> "$CONF"
[ -n "$DPID" ] && kill -HUP "$DPID"
# syslog_lines: the datagrams received, one a line.
syslog_lines() {
	sed 's/<[0-9][0-9]*>/\n&/g' "$T/syslog.raw" 2>/dev/null | grep -v '^$'
}
_i=0
while ! syslog_lines | grep -q 'not reloading' && [ $_i -lt 100 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
syslog_lines > "$T/syslog"
like "$T/syslog" "^<30>[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} wkdd-access\\[$DPID\\]: 127\\.0\\.0\\.1 GET a\\.test key 200 $size [0-9]+us\$" \
    "syslog: the access line, ident wkdd-access, daemon.info, no second time"
like "$T/syslog" "^<30>.* wkdd\\[$DPID\\]: serving $STORE\$" \
    "syslog: messages under ident wkdd"
like "$T/syslog" "^<27>.* wkdd\\[$DPID\\]: .*unknown directive .*not reloading\$" \
    "syslog: an error under ident wkdd, daemon.err"
unlike "$T/syslog" "alice|$HA|l=" "syslog: no local part, hash or query"
if [ -n "$DPID" ]; then
	kill -TERM "$DPID"
	_i=0
	while kill -0 "$DPID" 2>/dev/null && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	check "daemon stopped by SIGTERM" test ! -e "/proc/$DPID"
fi
[ -s "$T/socat.pid" ] && kill "$(cat "$T/socat.pid")" 2>/dev/null
wait
PORT=
finish
