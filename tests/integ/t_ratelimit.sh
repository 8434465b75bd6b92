#!/bin/sh
# t_ratelimit: the enumeration limits (limit.c) of a live wkdd.  Key
# lookups from one address get 429 with Retry-After once its burst is
# spent; a second address of the same /24 shares that /24's bucket; a
# miss costs limit-miss-cost tokens; the policy and submission-address
# are never limited; the metrics count lookups allowed and limited; a
# reload with limit-rate 0 lifts the limits.  The clients are curl from
# distinct loopback sources (--interface 127.x.y.z).  The rates are one
# token a minute, so that refills don't move the counts while it runs.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"

need curl certtool gpg
need_wkdctl

make_certs a.test '*.a.test'
make_store a.test
FA=$(gen_key alice@a.test) || { fail "gpg: alice's key"; finish; }
setup "alice's account and key" ctl account add alice@a.test
setup "import alice's key" ctl import "$T/alice@a.test.pgp"
HA=$(hash_of alice@a.test)
HB=$(hash_of bob@a.test)
KEY=/.well-known/openpgpkey/hu/$HA
MISS=/.well-known/openpgpkey/hu/$HB
LIMITS="limit-rate 1
limit-burst 5
limit-net-rate 1
limit-net-burst 8
limit-miss-cost 4"
# shellcheck disable=SC2086
write_conf "metrics-listen 127.0.0.1:0" "access-log $T/access.log" \
    "$(echo "$LIMITS" | sed -n 1p)" "$(echo "$LIMITS" | sed -n 2p)" \
    "$(echo "$LIMITS" | sed -n 3p)" "$(echo "$LIMITS" | sed -n 4p)" \
    "$(echo "$LIMITS" | sed -n 5p)"
start_wkdd || finish
MPORT=$(echo "$PORTS" | sed -n 2p)

# from SRC PATH: fetch a.test PATH from source address SRC.
from() {
	fetch a.test "$2" --interface "$1"
}
# metric SERIES: its value in a scrape now, 0 if absent.
metric() {
	curl -sS --max-time 10 "http://127.0.0.1:$MPORT/metrics" |
	    awk -v s="$1" '$1 == s { v = $2 } END { print v == "" ? 0 : v }'
}

# One address: its burst of 5, then 429 with Retry-After.
codes=
for _i in 1 2 3 4 5; do
	from 127.0.0.2 "$KEY"
	codes="$codes$STATUS "
done
is "$codes" "200 200 200 200 200 " "127.0.0.2: its burst of 5 lookups served"
from 127.0.0.2 "$KEY"
is "$STATUS" 429 "127.0.0.2: the 6th lookup is limited"
ra=$(header Retry-After)
case $ra in
[1-9]*) pass "429 has Retry-After: $ra s" ;;
*) fail "429 has Retry-After (got '$ra')" ;;
esac
# One token a minute: the next comes within 60 s.
check "Retry-After at most 60 s" test "${ra:-0}" -le 60
from 127.0.0.2 "/.well-known/openpgpkey/hu/$HA?l=alice"
is "$STATUS" 429 "127.0.0.2: still limited, with a query"
# The advanced method: its Host is openpgpkey.a.test.
fetch openpgpkey.a.test "/.well-known/openpgpkey/a.test/hu/$HA" \
    --interface 127.0.0.2
is "$STATUS" 429 "127.0.0.2: the advanced method limited too"

# Never the policy nor the submission address.
codes=
for _i in 1 2 3 4 5 6 7 8 9 10; do
	from 127.0.0.2 /.well-known/openpgpkey/policy
	codes="$codes$STATUS"
done
is "$codes" "200200200200200200200200200200" \
    "127.0.0.2: policy never limited (10 after the limit)"
from 127.0.0.2 /.well-known/openpgpkey/submission-address
# wkdd serves none (a 404), but never a 429.
is "$STATUS" 404 "127.0.0.2: submission-address never limited"
fetch openpgpkey.a.test /.well-known/openpgpkey/a.test/policy \
    --interface 127.0.0.2
is "$STATUS" 200 "127.0.0.2: the advanced policy never limited"

# Same /24: its bucket of 8 has 3 left, whatever 127.0.0.3's own 5.
codes=
for _i in 1 2 3 4; do
	from 127.0.0.3 "$KEY"
	codes="$codes$STATUS "
done
is "$codes" "200 200 200 429 " \
    "127.0.0.3: the /24's 3 tokens left, then 429"

# Another /24: a miss costs 4 of its 5, so one hit more, then 429.
from 127.0.1.2 "$MISS"
is "$STATUS" 404 "127.0.1.2: a miss answered"
from 127.0.1.2 "$KEY"
is "$STATUS" 200 "127.0.1.2: one token left after a miss"
from 127.0.1.2 "$KEY"
is "$STATUS" 429 "127.0.1.2: a miss cost 4"
from 127.0.2.2 "$KEY"
is "$STATUS" 200 "127.0.2.2: an untouched /24 served"

# allowed: 5 + 3 + 2 + 1; limited: 1 + 1 + 1 + 1 + 1.
is "$(metric 'wkdd_lookup_limit_total{result="allowed"}')" 11 \
    "metrics: 11 lookups allowed"
is "$(metric 'wkdd_lookup_limit_total{result="limited"}')" 5 \
    "metrics: 5 lookups limited"
is "$(metric 'wkdd_requests_total{route="key",status="429"}')" 5 \
    "metrics: 5 key requests answered 429"
is "$(grep -c ' key 429 ' "$T/access.log")" 5 \
    "access log: the 429s (under the cap of 10 a second)"

# Off on reload.
write_conf "metrics-listen 127.0.0.1:0" "access-log $T/access.log" \
    "limit-rate 0"
check "reload" reload_wkdd
from 127.0.0.2 "$KEY"
is "$STATUS" 200 "limit-rate 0: 127.0.0.2 served again"
check_wkdd "after the limits"
finish
