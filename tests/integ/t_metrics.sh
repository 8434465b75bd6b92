#!/bin/sh
# t_metrics: the metrics listener (metrics-listen) of a live wkdd.  Its
# /metrics is clean for promtool and moves as the requests made; Debian's
# real Prometheus scrapes it and has the series; /healthz says 200, and
# 503 with an expired certificate and with the store gone or replaced on
# disk; metrics-domains on adds per-domain series, off has none; no label
# ever holds an address or a hash.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"

need curl certtool gpg gnutls-cli promtool prometheus ss
need_wkdctl

make_certs a.test '*.a.test'
make_store a.test
FA=$(gen_key alice@a.test) || { fail "gpg: alice's key"; finish; }
T0=$(date +%s)
setup "alice's account and key" ctl account add alice@a.test
setup "import alice's key" ctl import "$T/alice@a.test.pgp"
T1=$(date +%s)
HA=$(hash_of alice@a.test)
HB=$(hash_of bob@a.test)
write_conf "metrics-listen 127.0.0.1:0"
start_wkdd || finish
MPORT=$(echo "$PORTS" | sed -n 2p)
is "$(echo "$PORTS" | wc -l | tr -d ' ')" 2 "-R: the metrics port after the others"

# scrape [FILE]: GET /metrics into FILE (default $T/scrape).
scrape() {
	curl -sS --max-time 10 -o "${1:-$T/scrape}" \
	    "http://127.0.0.1:$MPORT/metrics" 2>"$T/curl.err"
}
# metric SERIES [FILE]: the value of SERIES (name{labels} exactly as
# wkdd writes it) in the last scrape, 0 if absent.
metric() {
	awk -v s="$1" '$1 == s { v = $2 } END { print v == "" ? 0 : v }' \
	    "${2:-$T/scrape}"
}
# wait_metric SERIES VALUE: scrape until SERIES is VALUE (at most 10 s:
# a connection's close reaches wkdd after the client has exited).
wait_metric() {
	_i=0
	while scrape && [ "$(metric "$1")" != "$2" ]; do
		[ $_i -ge 100 ] && return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}
# delta SERIES: its value in $T/scrape minus that in $T/scrape0.
delta() {
	echo $(( $(metric "$1") - $(metric "$1" "$T/scrape0") ))
}

KEY200='wkdd_requests_total{route="key",status="200"}'
KEY404='wkdd_requests_total{route="key",status="404"}'
POL200='wkdd_requests_total{route="policy",status="200"}'
FULL='wkdd_tls_handshakes_total{result="full"}'
FAILED='wkdd_tls_handshakes_total{result="failed"}'
RESUMED='wkdd_tls_handshakes_total{result="resumed"}'
OPEN='wkdd_connections_open{listener="https"}'

setup "first scrape" scrape "$T/scrape0"
promtool check metrics < "$T/scrape0" > "$T/promtool.out" 2>&1
check "promtool check metrics: clean" [ $? -eq 0 ] || show "$T/promtool.out"
like "$T/scrape0" '^wkdd_build_info\{version="[^"]+",microhttpd="[0-9.]+",gnutls="[0-9.]+"\} 1$' \
    "build info with the version"

# Known requests: 3 key hits, 1 miss, 1 policy, and two connections that
# never finish a handshake (the client distrusts the certificate; plain
# HTTP on the TLS port).
bytes=0
for i in 1 2 3; do
	fetch a.test "/.well-known/openpgpkey/hu/$HA"
	is "$STATUS" 200 "key hit $i"
	bytes=$((bytes + $(body_size)))
done
fetch a.test "/.well-known/openpgpkey/hu/$HB"
is "$STATUS" 404 "key miss"
bytes=$((bytes + $(body_size)))
fetch a.test /.well-known/openpgpkey/policy
is "$STATUS" 200 "policy"
curl -s --max-time 10 -o /dev/null "https://127.0.0.1:$PORT/"
check "a client refusing the certificate fails" [ $? -ne 0 ]
curl -s --max-time 10 -o /dev/null "http://127.0.0.1:$PORT/"
wait_metric "$OPEN" 0
check "connections open back to 0 once all closed" [ $? -eq 0 ]
is "$(delta "$KEY200")" 3 "3 key hits: route key, status 200"
is "$(delta "$KEY404")" 1 "1 key miss: route key, status 404"
is "$(delta "$POL200")" 1 "1 policy: route policy, status 200"
is "$(delta 'wkdd_request_duration_seconds_count{route="key"}')" 4 \
    "duration histogram: 4 key requests"
is "$(delta 'wkdd_request_duration_seconds_bucket{route="key",le="+Inf"}')" 4 \
    "duration histogram: +Inf bucket = count"
is "$(delta 'wkdd_response_bytes_total{route="key"}')" "$bytes" \
    "bytes out: the key bodies curl received ($bytes)"
is "$(delta "$FULL")" 5 "5 full handshakes (one per fetch)"
is "$(delta "$FAILED")" 2 "2 failed handshakes"
is "$(delta 'wkdd_connections_total{listener="https"}')" 7 "7 connections"
promtool check metrics < "$T/scrape" > "$T/promtool.out" 2>&1
check "promtool check metrics after requests: clean" [ $? -eq 0 ] ||
    show "$T/promtool.out"

# Resumption, as far as the server offers it: what gnutls-cli reports is
# what wkdd counts.
scrape "$T/scrape0"
gnutls-cli --x509cafile "$T/ca.pem" --sni-hostname a.test \
    --verify-hostname a.test --resume \
    -p "$PORT" 127.0.0.1 < /dev/null > "$T/resume.out" 2>&1
resumed=$(grep -c 'This is a resumed session' "$T/resume.out")
wait_metric "$OPEN" 0
is "$(delta "$RESUMED")" "$resumed" "resumed handshakes: as gnutls-cli saw ($resumed)"
is "$(( $(delta "$FULL") + $(delta "$RESUMED") ))" 2 \
    "gnutls-cli --resume: two handshakes"

# The store's figures.
is "$(metric wkdd_store_up)" 1 "store up"
is "$(metric wkdd_domains)" 1 "hosted domains: 1"
is "$(metric wkdd_published_addresses)" 1 "published addresses: 1"
is "$(metric wkdd_certificates)" 1 "certificates: 1"
changed=$(metric wkdd_store_last_change_timestamp_seconds)
check "last store change: during the import ($T0..$T1, got $changed)" \
    test "$changed" -ge "$T0" -a "$changed" -le "$T1"
used=$(metric wkdd_store_used_bytes)
map=$(metric wkdd_store_map_bytes)
check "store used ($used) > 0 and within the map ($map)" \
    test "$used" -gt 0 -a "$used" -le "$map"
tx0=$(metric wkdd_store_transaction_id)
setup "bob's account" ctl account add bob@a.test
scrape
is "$(metric wkdd_addresses)" 2 "addresses: 2 after bob's account"
check "transaction id moves with a commit" \
    [ "$(metric wkdd_store_transaction_id)" -gt "$tx0" ]

# Certificate expiry: what certtool reads in the file.
notafter=$(certtool -i --infile "$T/cert.pem" |
    sed -n 's/^[[:space:]]*Not After: //p' | head -n 1)
want=$(date -u -d "$notafter" +%s)
is "$(metric 'wkdd_tls_certificate_expiry_timestamp_seconds{source="tls-cert",name="a.test"}')" \
    "$want" "certificate expiry: certtool's Not After"

# Nothing about who was looked up, and no per-domain series when off.
unlike "$T/scrape" "$HA|$HB|alice|bob" "no hash or address in the metrics"
unlike "$T/scrape" 'domain=' "metrics-domains off: no domain labels"

# Health.
HZ="http://127.0.0.1:$MPORT/healthz"
is "$(curl -s -o "$T/hz" -w '%{http_code}' "$HZ")" 200 "/healthz: 200"
is "$(cat "$T/hz")" ok "/healthz: ok"
is "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/x")" 404 \
    "metrics listener: 404 elsewhere"
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$HZ")" 405 \
    "metrics listener: 405 for POST"
fetch a.test /metrics
is "$STATUS" 404 "no /metrics on the public listener"

# Prometheus itself: scrape every second, then ask its API for the series.
PDIR=$T/prom
mkdir -p "$PDIR"
cat > "$PDIR/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: wkdd
    static_configs:
      - targets: ['127.0.0.1:$MPORT']
EOF
promtool check config "$PDIR/prometheus.yml" > "$T/promtool.out" 2>&1
check "promtool check config" [ $? -eq 0 ] || show "$T/promtool.out"
prometheus --config.file="$PDIR/prometheus.yml" \
    --storage.tsdb.path="$PDIR/data" --web.listen-address=127.0.0.1:0 \
    > "$PDIR/log" 2>&1 &
PROM_PID=$!
# Its port: the one its process listens on (the kernel picked it).
PPORT=
_i=0
while [ -z "$PPORT" ] && [ $_i -lt 300 ] && kill -0 "$PROM_PID" 2>/dev/null; do
	PPORT=$(ss -Hltnp 2>/dev/null | grep "pid=$PROM_PID," |
	    awk '{ n = split($4, a, ":"); print a[n]; exit }')
	[ -n "$PPORT" ] || sleep 0.1
	_i=$((_i + 1))
done
check "prometheus listens (port ${PPORT:-none})" [ -n "$PPORT" ] ||
    show "$PDIR/log"
# promq QUERY: the first value of an instant query, "" if none yet.
promq() {
	curl -s --max-time 10 -G --data-urlencode "query=$1" \
	    "http://127.0.0.1:$PPORT/api/v1/query" |
	    sed -n 's/.*"value":\[[0-9.]*,"\([^"]*\)"\].*/\1/p'
}
want=$(metric "$KEY200")
got=
_i=0
while [ -n "$PPORT" ] && [ $_i -lt 300 ]; do
	got=$(promq 'wkdd_requests_total{route="key",status="200"}')
	[ "$got" = "$want" ] && break
	sleep 0.1
	_i=$((_i + 1))
done
is "$got" "$want" "Prometheus has wkdd_requests_total{route=\"key\"}"
is "$(promq 'up{job="wkdd"}')" 1 "Prometheus: target up"
is "$(promq 'wkdd_domains')" 1 "Prometheus: wkdd_domains"
kill -TERM "$PROM_PID" 2>/dev/null
wait "$PROM_PID" 2>/dev/null

# 503: the store's data.mdb gone (directory renamed) or replaced.
mv "$STORE" "$STORE.away"
is "$(curl -s -o "$T/hz" -w '%{http_code}' "$HZ")" 503 "store gone: 503"
like "$T/hz" '^store data.mdb gone on disk' "store gone: the reason"
scrape
is "$(metric wkdd_store_replaced)" 1 "store gone: wkdd_store_replaced 1"
mv "$STORE.away" "$STORE"
is "$(curl -s -o /dev/null -w '%{http_code}' "$HZ")" 200 "store back: 200"
mkdir "$T/copy"
setup "mdb_copy of the store" mdb_copy "$STORE" "$T/copy"
mv "$STORE/data.mdb" "$T/data.mdb.old" && mv "$T/copy/data.mdb" "$STORE/"
# wkdd opens a replaced store within a second (main.c store_check()).
_i=0
while [ "$(curl -s -o /dev/null -w '%{http_code}' "$HZ")" != 200 ] &&
    [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
is "$(curl -s -o /dev/null -w '%{http_code}' "$HZ")" 200 \
    "store replaced by a good copy: 200 once wkdd serves it"
head -c 8192 /dev/urandom > "$T/junk.mdb"
mv "$T/junk.mdb" "$STORE/data.mdb"
sleep 1.5
is "$(curl -s -o "$T/hz" -w '%{http_code}' "$HZ")" 503 \
    "store replaced by junk: 503"
like "$T/hz" '^store data.mdb replaced on disk' "store replaced: the reason"
check_wkdd "health"
stop_wkdd
rm -rf "$STORE/data.mdb" && mv "$T/data.mdb.old" "$STORE/data.mdb"

# 503: an expired certificate.
cat > "$T/old.tmpl" <<EOF
cn = "a.test"
dns_name = "a.test"
tls_www_server
signing_key
activation_date = "2020-01-01 00:00:00"
expiration_date = "2020-02-01 00:00:00"
EOF
certtool --generate-certificate --load-privkey "$T/key.pem" \
    --load-ca-certificate "$T/ca.pem" --load-ca-privkey "$T/ca.key" \
    --template "$T/old.tmpl" --outfile "$T/old.pem" >/dev/null 2>&1
mkdir -p "$T/tls/live/openpgpkey.a.test"
make_cert "$T/tls/live/openpgpkey.a.test/fullchain.pem" \
    "$T/tls/live/openpgpkey.a.test/privkey.pem" openpgpkey.a.test ||
    fail "certtool: a tls-dir certificate"
write_conf "listen 127.0.0.2:0" "metrics-listen 127.0.0.1:0" \
    "metrics-domains on" "tls-dir $T/tls"
sed "s|^tls-cert .*|tls-cert $T/old.pem|" "$CONF" > "$T/old.conf"
start_wkdd "$T/old.conf" || finish
PORT2=$(echo "$PORTS" | sed -n 2p)
MPORT=$(echo "$PORTS" | sed -n 3p)
HZ="http://127.0.0.1:$MPORT/healthz"
is "$(curl -s -o "$T/hz" -w '%{http_code}' "$HZ")" 503 "expired certificate: 503"
like "$T/hz" '^certificate expired [0-9]+ seconds ago$' \
    "expired certificate: the reason"
# A reload with a good one: healthy again.
cp "$CONF" "$T/old.conf"
reload_wkdd
is "$(curl -s -o /dev/null -w '%{http_code}' "$HZ")" 200 \
    "renewed certificate after SIGHUP: 200"

# A tls-dir name's expiry: certtool's Not After of its file.
scrape
notafter=$(certtool -i --infile "$T/tls/live/openpgpkey.a.test/fullchain.pem" |
    sed -n 's/^[[:space:]]*Not After: //p' | head -n 1)
is "$(metric 'wkdd_tls_certificate_expiry_timestamp_seconds{source="tls-dir",name="openpgpkey.a.test"}')" \
    "$(date -u -d "$notafter" +%s)" "tls-dir certificate expiry"

# metrics-domains on: found responses counted by domain, misses not.
for i in 1 2; do
	fetch openpgpkey.a.test "/.well-known/openpgpkey/a.test/hu/$HA"
done
fetch a.test "/.well-known/openpgpkey/hu/$HB"
fetch a.test /.well-known/openpgpkey/policy
scrape
is "$(metric 'wkdd_domain_responses_total{domain="a.test",route="key"}')" 2 \
    "metrics-domains: 2 keys found for a.test"
is "$(metric 'wkdd_domain_responses_total{domain="a.test",route="policy"}')" 1 \
    "metrics-domains: 1 policy for a.test"
is "$(metric wkdd_domain_overflow_total)" 0 "metrics-domains: no overflow"

# 200 key requests at once, 8 clients, on two listeners (two MHD daemons,
# two threads): every one counted, once.
scrape "$T/scrape0"
i=0
while [ $i -lt 100 ]; do
	echo "127.0.0.1 $PORT"
	echo "127.0.0.2 $PORT2"
	i=$((i + 1))
done | xargs -P 8 -n 2 sh -c 'curl -s -o /dev/null --max-time 20 \
    --cacert "$0" --resolve "openpgpkey.a.test:$3:$2" \
    "https://openpgpkey.a.test:$3$1"' "$T/ca.pem" \
    "/.well-known/openpgpkey/a.test/hu/$HA" 2>/dev/null
wait_metric 'wkdd_connections_open{listener="https"}' 0
is "$(delta "$KEY200")" 200 "200 parallel key requests on two listeners: 200"
is "$(delta 'wkdd_domain_responses_total{domain="a.test",route="key"}')" 200 \
    "and 200 for a.test"
is "$(delta "$FULL")" 200 "200 handshakes"
promtool check metrics < "$T/scrape" > "$T/promtool.out" 2>&1
check "promtool check metrics with domains: clean" [ $? -eq 0 ] ||
    show "$T/promtool.out"

finish
