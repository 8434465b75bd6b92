#!/bin/sh
# t_slowclient: slow and idle clients can't take wkdd from real ones.  In
# a network namespace of its own (unshare -n: it ends with the test),
# thousands of connections are held at once: TLS clients sending a
# request head one byte a second, from 50 loopback sources; idle TCP
# from 125 others (20 each, 16 held); idle TCP from 1000 addresses of one IPv6 /64.  Meanwhile
# curl, from a source of its own, fetches a key and the policy every
# 0.3 s: each is answered 200 within 1 s.  The per-source limit holds
# each source to max-connections-per-ip, the /64 as one source; the
# deadline (request-timeout) closes the slow clients although they never
# stop sending, long before the idle timeout.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"

need curl certtool gpg python3 unshare ip
need_wkdctl
if [ "$(id -u)" -ne 0 ]; then
	skip "needs root (a network namespace)"
	finish
fi
if [ -z "${WKDD_NETNS:-}" ]; then
	# Again, in a new network namespace; $T is made anew there.
	rm -rf "$T"
	WKDD_NETNS=1 exec unshare --net -- sh "$0" "$@"
fi
ip link set lo up || { fail "lo up in the namespace"; finish; }
V6NET=2001:db8:5::
ip -6 route add local "$V6NET/64" dev lo &&
    sysctl -qw net.ipv6.ip_nonlocal_bind=1 ||
    { fail "the /64 routed locally"; finish; }
ulimit -n 20000

make_certs a.test '*.a.test'
make_store a.test
FA=$(gen_key alice@a.test) || { fail "gpg: alice's key"; finish; }
setup "alice's account and key" ctl account add alice@a.test
setup "import alice's key" ctl import "$T/alice@a.test.pgp"
HA=$(hash_of alice@a.test)
REQ_TIMEOUT=7
write_conf "listen [${V6NET}1]:0" "request-timeout $REQ_TIMEOUT" \
    "max-connections-per-ip 16" "timeout 60" "access-log off" \
    "metrics-listen 127.0.0.1:0"
start_wkdd || finish
PORT6=$(echo "$PORTS" | sed -n 2p)
MPORT=$(echo "$PORTS" | sed -n 3p)
HOLD=14

attack() {
	python3 "$TOP/tests/integ/slowclients.py" --hold "$HOLD" "$@"
}
attack --dst 127.0.0.1 --port "$PORT" --src v4:20:50 --per 16 --mode slow \
    --ca "$T/ca.pem" --name a.test > "$T/slow.out" 2>&1 &
P1=$!
attack --dst 127.0.0.1 --port "$PORT" --src v4:30:125 --per 20 \
    --mode idle > "$T/idle.out" 2>&1 &
P2=$!
attack --dst "${V6NET}1" --port "$PORT6" --src "v6:$V6NET/64:1000" \
    --per 1 --mode idle > "$T/v6.out" 2>&1 &
P3=$!

# The real client, until the attackers are done.
: > "$T/real"
while kill -0 "$P1" 2>/dev/null || kill -0 "$P2" 2>/dev/null ||
    kill -0 "$P3" 2>/dev/null; do
	for _p in "/.well-known/openpgpkey/hu/$HA" \
	    /.well-known/openpgpkey/policy; do
		curl -sS -o /dev/null --max-time 5 --interface 127.0.0.1 \
		    -w '%{http_code} %{time_total}\n' --cacert "$T/ca.pem" \
		    --resolve "a.test:$PORT:127.0.0.1" \
		    "https://a.test:$PORT$_p" >> "$T/real" 2>&1 ||
		    echo "000 curl-failed" >> "$T/real"
	done
	# Not waiting for a server: pacing the real client.
	sleep 0.3
done
wait "$P1" "$P2" "$P3"

# field FILE NAME: NAME=VALUE's value in the attacker's line.
field() {
	tr ' ' '\n' < "$1" | sed -n "s/^$2=//p"
}
diag "slow TLS: $(cat "$T/slow.out")"
diag "idle v4: $(cat "$T/idle.out")"
diag "idle v6 /64: $(cat "$T/v6.out")"
n=$(wc -l < "$T/real")
bad=$(awk '$1 != 200 || $2 >= 1.0' "$T/real" | wc -l)
worst=$(awk '$2 > m { m = $2 } END { print m }' "$T/real")
diag "real client: $n requests, slowest ${worst}s"
check "real client: at least 20 requests during the attack" \
    [ "$n" -ge 20 ]
is "$bad" 0 "real client: every request 200 within 1 s"
am=$(field "$T/idle.out" alive_max)
check "idle v4: thousands held at once (${am:-?})" [ "${am:-0}" -ge 1500 ]
at=$(field "$T/idle.out" alive_at)
check "idle v4: 16 per source held, the rest refused (${at:-?} of 2500, 3 s in)" \
    [ "${at:-9999}" -le 2000 ] && [ "${at:-0}" -ge 1500 ]
sm=$(field "$T/slow.out" alive_max)
check "slow TLS: hundreds held at once (${sm:-?})" [ "${sm:-0}" -ge 400 ]
is "$(field "$T/slow.out" alive_end)" 0 \
    "slow TLS: all closed by the ${REQ_TIMEOUT} s deadline, still sending"
is "$(field "$T/idle.out" alive_end)" 0 \
    "idle v4: all closed by the deadline (timeout is 60 s)"
v6at=$(field "$T/v6.out" alive_at)
check "one /64 is one source: 16 of 1000 held, 3 s in (${v6at:-?})" \
    [ "${v6at:-9999}" -le 16 ] && [ "${v6at:-0}" -ge 1 ]
reaped=$(curl -sS --max-time 10 "http://127.0.0.1:$MPORT/metrics" |
    awk '$1 == "wkdd_slow_closed_total" { print $2 }')
check "metrics: the slow and idle v4 clients closed at the deadline (${reaped:-?} >= 2800)" \
    [ "${reaped:-0}" -ge 2800 ]
fetch a.test "/.well-known/openpgpkey/hu/$HA"
is "$STATUS" 200 "served after the attack"
check_wkdd "after the attack"
finish
