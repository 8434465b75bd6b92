# bench/serve.sh: sourced by bench/run.  wkdd against nginx serving the
# same keys, in the same run, on loopback, with the same certificate:
#
#  - the data: Debian's keyrings imported by wkdctl into a store hosting
#    debian.org with its accounts (as bench/import.sh), and the static tree
#    of the same blobs from `wkdctl export-tree`, which nginx serves;
#  - one ECDSA P-256 certificate (certtool) for debian.org;
#  - nginx (Debian's nginx package) with 2 workers, Mozilla's
#    intermediate TLS settings, ssl_session_cache, open_file_cache,
#    access_log off; wkdd as shipped: its default configuration (listen,
#    store, tls-cert, tls-key, pidfile) and default logging (syslog),
#    but for max-connections-per-ip: wrk's 64 connections all come from
#    127.0.0.1, and the default limit of 32 would refuse half of them
#    (nginx has no such limit; the same check runs whatever the limit);
#  - wrk (2 threads, 64 connections, bench/serve.lua: random hashes of
#    the tree plus 10 % misses, Host: debian.org, direct method) in three
#    modes: keep-alive; a new connection per request (Connection: close)
#    with resumption made impossible by bench/noresume.so (an LD_PRELOAD
#    shim dropping wrk's session before each handshake): full handshakes;
#    and the same with resumption allowed (wrk offers its last session);
#  - curl, one process (one new connection, full handshake) per request,
#    unloaded: time to first byte;
#  - server CPU from /proc/PID/stat (utime + stime) of the server's
#    processes (nginx: master and workers), before and after each wrk
#    run; RSS (VmRSS, summed) after the keep-alive run;
#  - system calls per keep-alive request, counted apart from the rounds:
#    strace -c on every thread of the server's processes (nginx: its
#    workers) while wrk -t 1 -c 8 runs BENCH_SYSSECS seconds (default 5;
#    0: skip): a count the machine's load doesn't change.
#
# BENCH_ROUNDS rounds (default 3), each running every mode on both
# servers, which go first in turn; the median of the rounds is reported,
# and the ratio wkdd / nginx of the medians.  BENCH_SECS: seconds per wrk
# run (default 20).  BENCH_TTFB: curl requests per server and round
# (default 100).  BENCH_MODES: the wrk modes to run (default "keepalive
# full resume").

BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_SECS=${BENCH_SECS:-20}
BENCH_TTFB=${BENCH_TTFB:-100}
BENCH_SYSSECS=${BENCH_SYSSECS:-5}
BENCH_MODES=${BENCH_MODES:-keepalive full resume}
clamp BENCH_ROUNDS "$BENCH_ROUNDS" 1 9
clamp BENCH_SECS "$BENCH_SECS" 5 60
clamp BENCH_TTFB "$BENCH_TTFB" 20 1000
NORESUME=$O/bench/noresume.so
[ -r "$NORESUME" ] || { echo "bench: $NORESUME not built" >&2; exit 1; }
command -v nginx > /dev/null || { echo "bench: nginx missing" >&2; exit 1; }
HZ=$(getconf CLK_TCK)
# wrk_ms VALUE: wrk's "812.00us", "1.20ms" or "2.01s" in ms (as scale.sh).
command -v wrk_ms > /dev/null || wrk_ms() {
	awk -v v="$1" 'BEGIN {
		n = v + 0
		if (v ~ /us$/) n /= 1000
		else if (v ~ /ms$/) n += 0
		else if (v ~ /m$/) n *= 60000
		else if (v ~ /s$/) n *= 1000
		printf("%.2f", n) }'
}

echo
echo "== serve: wkdd against nginx (static tree), same keys, same certificate"
SV=$RUN/serve
mkdir -p "$SV"
new_store "$SV/store" || exit 1
"$WKDCTL" -s "$SV/store" import $KEYRINGS > "$SV/import.log" 2>&1
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
	tail -n 5 "$SV/import.log" >&2
	echo "bench: wkdctl import failed ($rc)" >&2
	exit 1
fi
"$WKDCTL" -s "$SV/store" export-tree "$SV/tree" debian.org \
    > "$SV/export.log" 2>&1 || { cat "$SV/export.log" >&2; exit 1; }
HU=$SV/tree/debian.org/.well-known/openpgpkey/hu
ls "$HU" > "$SV/hashes"
nkeys=$(wc -l < "$SV/hashes" | tr -d ' ')
kbytes=$(cat "$HU"/* | wc -c | tr -d ' ')
kmedian=$(for f in "$HU"/*; do wc -c < "$f"; done | median)
echo "data: $nkeys keys under debian.org's hashes, $kbytes bytes" \
    "(median $kmedian), store and tree"

T=$SV
. "$TOP/tests/integ/certs.sh"
make_ca && make_cert "$SV/cert.pem" "$SV/key.pem" debian.org \
    openpgpkey.debian.org || { echo "bench: certtool failed" >&2; exit 1; }

# A free port for nginx (it has no port 0 to report back).
free_port() {
	_p=$((20000 + $$ % 20000))
	while ss -Htln "sport = :$_p" | grep -q .; do
		_p=$((_p + 1))
	done
	echo "$_p"
}
NPORT=$(free_port)
mkdir -p "$SV/nginx"
# Mozilla's intermediate configuration (ssl-config.mozilla.org, nginx
# 1.22, OpenSSL 3.0), but for HSTS and OCSP stapling (no effect here).
cat > "$SV/nginx/nginx.conf" <<EOF
user root;
worker_processes 2;
pid $SV/nginx/nginx.pid;
error_log $SV/nginx/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 100000;
	open_file_cache max=10000 inactive=60s;
	open_file_cache_valid 60s;
	open_file_cache_errors on;
	types { }
	default_type application/octet-stream;
	server {
		listen 127.0.0.1:$NPORT ssl reuseport;
		server_name debian.org openpgpkey.debian.org;
		ssl_certificate $SV/cert.pem;
		ssl_certificate_key $SV/key.pem;
		ssl_session_timeout 1d;
		ssl_session_cache shared:MozSSL:10m;
		ssl_session_tickets off;
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_ecdh_curve X25519:prime256v1:secp384r1;
		ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305;
		ssl_prefer_server_ciphers off;
		root $SV/tree/\$host;
		location / {
			add_header Access-Control-Allow-Origin * always;
		}
	}
}
EOF
cat > "$SV/wkdd.conf" <<EOF
listen 127.0.0.1:0
store $SV/store
tls-cert $SV/cert.pem
tls-key $SV/key.pem
pidfile $SV/wkdd.pid
max-connections-per-ip 1024
$([ "$(id -u)" != 0 ] || echo "user root")
EOF

NGINX_PID= WPORT=
start_servers() {
	nginx -c "$SV/nginx/nginx.conf" -p "$SV/nginx" -e "$SV/nginx/error.log" ||
	    { echo "bench: nginx did not start" >&2; exit 1; }
	_i=0
	while [ ! -s "$SV/nginx/nginx.pid" ] && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	NGINX_PID=$(cat "$SV/nginx/nginx.pid")
	rm -f "$SV/ready"
	mkfifo "$SV/ready"
	# As shipped: not -d, so it detaches and logs to syslog.
	"$WKDD" -R 3 -f "$SV/wkdd.conf" 3> "$SV/ready" &
	WPORT=$(timeout 30 cat "$SV/ready")
	wait $!
	WKDD_PID=$(cat "$SV/wkdd.pid")
	[ -n "$WPORT" ] && [ -n "$WKDD_PID" ] ||
	    { echo "bench: wkdd did not start" >&2; exit 1; }
}
stop_servers() {
	[ -n "$NGINX_PID" ] && kill -TERM "$NGINX_PID" 2>/dev/null
	if [ -n "$WKDD_PID" ]; then
		kill -TERM "$WKDD_PID" 2>/dev/null
		_i=0
		while kill -0 "$WKDD_PID" 2>/dev/null && [ $_i -lt 100 ]; do
			sleep 0.1
			_i=$((_i + 1))
		done
	fi
	NGINX_PID= WKDD_PID=
}
trap 'stop_servers; cleanup' EXIT

# pids SERVER: the server's processes (nginx: master and workers).
pids() {
	if [ "$1" = nginx ]; then
		echo "$NGINX_PID" $(pgrep -P "$NGINX_PID")
	else
		echo "$WKDD_PID"
	fi
}
port() {
	[ "$1" = nginx ] && echo "$NPORT" || echo "$WPORT"
}
# ticks SERVER: utime + stime of its processes, in clock ticks.
ticks() {
	for _p in $(pids "$1"); do
		# Fields after the command's ")": state is 3, utime 14, stime 15.
		sed 's/^.*) //' "/proc/$_p/stat" | awk '{ print $12 + $13 }'
	done | awk '{ s += $1 } END { print s + 0 }'
}
# rss SERVER: VmRSS of its processes, summed, in KB.
rss() {
	for _p in $(pids "$1"); do
		awk '$1 == "VmRSS:" { print $2 }' "/proc/$_p/status"
	done | awk '{ s += $1 } END { print s + 0 }'
}
# loadavg: the 1-minute load average.
loadavg() {
	cut -d ' ' -f 1 /proc/loadavg
}

# wrk_one SERVER MODE ROUND: one wrk run; appends "SERVER MODE rps
# us_per_req p50 p99 errors ROUND" to $SV/runs.
wrk_one() {
	_s=$1 _m=$2 _out=$SV/wrk.$1.$2.$3
	case $_m in
	keepalive) _pre= _arg= ;;
	full) _pre=$NORESUME _arg=close ;;
	resume) _pre= _arg=close ;;
	esac
	_t0=$(ticks "$_s")
	/usr/bin/time -o "$_out.t" -f '%U %S' env LD_PRELOAD=$_pre \
	    wrk -t 2 -c 64 -d "${BENCH_SECS}s" --timeout 10s \
	    --latency -s "$TOP/bench/serve.lua" "https://127.0.0.1:$(port "$_s")/" \
	    -- "$SV/hashes" 10 $_arg > "$_out" 2>&1
	_t1=$(ticks "$_s")
	_reqs=$(awk '/requests in/ { print $1 }' "$_out")
	_rps=$(awk '$1 == "Requests/sec:" { printf("%.0f", $2) }' "$_out")
	_p50=$(wrk_ms "$(awk '$1 == "50%" { print $2 }' "$_out")")
	_p99=$(wrk_ms "$(awk '$1 == "99%" { print $2 }' "$_out")")
	_err=$(awk '/Socket errors/ { e = 0; for (i = 1; i <= NF; i++)
		if ($i ~ /^[0-9]+,?$/) e += $i; print e }' "$_out")
	_us=$(awk -v a="$_t0" -v b="$_t1" -v n="${_reqs:-0}" -v hz="$HZ" \
	    'BEGIN { printf("%.1f", n > 0 ? (b - a) * 1e6 / hz / n : 0) }')
	_cus=$(tail -n 1 "$_out.t" | awk -v n="${_reqs:-0}" '{
		printf("%.1f", n > 0 ? ($1 + $2) * 1e6 / n : 0) }')
	echo "$_s $_m ${_rps:-0} $_us $_p50 $_p99 ${_err:-0} $3 $_cus" \
	    >> "$SV/runs"
	echo "  $_s $_m: ${_rps:-0} req/s, $_us us CPU/req, p50 $_p50 ms," \
	    "p99 $_p99 ms, ${_err:-0} socket errors; wrk $_cus us CPU/req" \
	    "(load $(loadavg))"
	if [ "$_m" = keepalive ]; then
		echo "$_s rss $(rss "$_s") - - - - $3 -" >> "$SV/runs"
	fi
}

# ttfb_one SERVER: BENCH_TTFB curls, one after the other, each a new
# process and connection; their times to first byte (ms) to $SV/ttfb.S.
ttfb_one() {
	_p=$(port "$1")
	_i=0
	while [ $_i -lt "$BENCH_TTFB" ]; do
		_h=$(sed -n "$((_i % nkeys + 1))p" "$SV/hashes")
		curl -s -o /dev/null --cacert "$SV/ca.pem" \
		    --resolve "debian.org:$_p:127.0.0.1" \
		    -w '%{time_starttransfer}\n' \
		    "https://debian.org:$_p/.well-known/openpgpkey/hu/$_h"
		_i=$((_i + 1))
	done | awk '{ printf("%.3f\n", $1 * 1000) }' >> "$SV/ttfb.$1"
}

start_servers
echo "nginx $(nginx -v 2>&1 | sed 's/.*\///') on port $NPORT (pids $(pids nginx))," \
    "wkdd on port $WPORT (pid $WKDD_PID, $(ls /proc/$WKDD_PID/task | wc -l) threads)"
# Both serve the same bytes.
h=$(head -n 1 "$SV/hashes")
for s in nginx wkdd; do
	curl -s --cacert "$SV/ca.pem" --resolve "debian.org:$(port $s):127.0.0.1" \
	    -o "$SV/check.$s" -D "$SV/check.$s.h" \
	    "https://debian.org:$(port $s)/.well-known/openpgpkey/hu/$h"
done
cmp -s "$SV/check.nginx" "$SV/check.wkdd" && cmp -s "$SV/check.wkdd" "$HU/$h" ||
    { echo "bench: nginx and wkdd serve different bytes for $h" >&2; exit 1; }
echo "load average before: $(cat /proc/loadavg)"
: > "$SV/runs"
: > "$SV/ttfb.nginx"
: > "$SV/ttfb.wkdd"
# Warm up both (open_file_cache, page cache, TLS).
for s in nginx wkdd; do
	wrk -t 2 -c 64 -d 3s -s "$TOP/bench/serve.lua" \
	    "https://127.0.0.1:$(port $s)/" -- "$SV/hashes" > /dev/null 2>&1
done
# sys_one SERVER: system calls per keep-alive request under strace -c
# (every thread of every worker), wrk -t 1 -c 8; one line to $SV/sys.
sys_one() {
	_tids=
	for _p in $(pids "$1"); do
		[ "$1" = nginx ] && [ "$_p" = "$NGINX_PID" ] && continue
		_tids="$_tids $(ls /proc/$_p/task)"
	done
	# shellcheck disable=SC2086
	strace -c -U calls,name -o "$SV/strace.$1" \
	    $(printf ' -p %s' $_tids) 2> /dev/null &
	_st=$!
	sleep 1
	wrk -t 1 -c 8 -d "${BENCH_SYSSECS}s" -s "$TOP/bench/serve.lua" \
	    "https://127.0.0.1:$(port "$1")/" -- "$SV/hashes" 10 \
	    > "$SV/wrk.sys.$1" 2>&1
	kill -INT "$_st"
	wait "$_st"
	_n=$(awk '/requests in/ { print $1 }' "$SV/wrk.sys.$1")
	awk -v s="$1" -v n="${_n:-0}" '
	    NF == 2 && $1 ~ /^[0-9]+$/ {
		if ($2 == "total") t = $1
		else v[$2] = $1
	    }
	    END {
		if (n == 0) { print s, "-"; exit }
		printf("%s %.2f", s, t / n)
		for (k in v) if (v[k] / n >= 0.05)
			printf(" %s=%.2f", k, v[k] / n)
		printf(" (%d requests)\n", n)
	    }' "$SV/strace.$1" >> "$SV/sys"
}
: > "$SV/sys"
if [ "$BENCH_SYSSECS" -gt 0 ] && command -v strace > /dev/null; then
	for s in nginx wkdd; do
		sys_one "$s"
	done
	echo "system calls per keep-alive request (strace -c, wrk -t 1 -c 8):"
	sed 's/^/  /' "$SV/sys"
fi
r=1
while [ $r -le "$BENCH_ROUNDS" ]; do
	if [ $((r % 2)) -eq 1 ]; then order="nginx wkdd"; else order="wkdd nginx"; fi
	echo "round $r ($order first), load $(loadavg):"
	for m in $BENCH_MODES; do
		for s in $order; do
			wrk_one "$s" "$m" "$r"
		done
	done
	for s in $order; do
		ttfb_one "$s"
	done
	r=$((r + 1))
done
echo "load average after: $(cat /proc/loadavg)"

# med SERVER MODE FIELD: the median over the rounds (fields: 3 rps, 4 us,
# 5 p50, 6 p99, 9 wrk's us).
med() {
	awk -v s="$1" -v m="$2" -v f="$3" '$1 == s && $2 == m { print $f }' \
	    "$SV/runs" | median
}
# pct SERVER P: percentile P of the curl times (nearest rank).
pct() {
	sort -g "$SV/ttfb.$1" | awk -v p="$2" '{ v[NR] = $1 } END {
		i = int(NR * p / 100 + 0.999); if (i < 1) i = 1
		printf("%.2f", v[i]) }'
}
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "-" || b == "-" || b + 0 == 0) print "-"
		else printf("%.2f", a / b) }'
}
# rratio MODE FIELD: the median over the rounds of each round's wkdd /
# nginx (the two ran one after the other: a pair shares the load).
rratio() {
	awk -v m="$1" -v f="$2" '$2 == m { v[$1, $8] = $f; r[$8] = 1 }
	    END { for (i in r) if (v["nginx", i] > 0)
		printf("%.4f\n", v["wkdd", i] / v["nginx", i]) }' "$SV/runs" |
	    median | awk '$1 == "-" { print; exit } { printf("%.2f", $1) }'
}
row() {	# row FIGURE UNIT NGINX WKDD GOAL [RATIO]
	printf '| %s | %s %s | %s %s | **%s** | %s |\n' "$1" "$3" "$2" "$4" "$2" \
	    "${6:-$(ratio "$4" "$3")}" "$5"
}
n_ka=$(med nginx keepalive 3) w_ka=$(med wkdd keepalive 3)
n_kus=$(med nginx keepalive 4) w_kus=$(med wkdd keepalive 4)
n_k99=$(med nginx keepalive 6) w_k99=$(med wkdd keepalive 6)
n_fus=$(med nginx full 4) w_fus=$(med wkdd full 4)
n_frps=$(med nginx full 3) w_frps=$(med wkdd full 3)
n_rrps=$(med nginx resume 3) w_rrps=$(med wkdd resume 3)
n_rus=$(med nginx resume 4) w_rus=$(med wkdd resume 4)
n_rss=$(awk '$1 == "nginx" && $2 == "rss" { print $3 }' "$SV/runs" | median)
w_rss=$(awk '$1 == "wkdd" && $2 == "rss" { print $3 }' "$SV/runs" | median)
w_anon=$(awk '$1 == "RssAnon:" { print $2 }' "/proc/$WKDD_PID/status")
w_file=$(awk '$1 == "RssFile:" { print $2 }' "/proc/$WKDD_PID/status")
n_rss=$(awk -v k="$n_rss" 'BEGIN { printf("%.1f", k / 1024) }')
w_rss=$(awk -v k="$w_rss" 'BEGIN { printf("%.1f", k / 1024) }')
# wkdd's resumed handshakes: wrk reports no such thing; the server CPU
# per request tells (a full handshake costs 10 times a resumed one).
{
	echo
	echo "### Serving: wkdd against nginx, same keys, same certificate"
	echo
	echo "$nkeys keys of Debian's keyrings under debian.org ($kbytes bytes," \
	    "median $kmedian), medians of $BENCH_ROUNDS interleaved rounds of" \
	    "${BENCH_SECS} s; wrk -t 2 -c 64, bench/serve.lua (10 % misses)," \
	    "curl ${BENCH_TTFB} requests a round; load average" \
	    "$(cat /proc/loadavg | cut -d ' ' -f 1-3) at the end.  A wrk" \
	    "ratio is the median of the rounds' ratios (each round runs the" \
	    "two servers one after the other); TTFB percentiles are over all" \
	    "rounds' requests; RSS sums nginx's three processes."
	echo
	echo "| figure | nginx | wkdd | wkdd / nginx | goal |"
	echo "| --- | --- | --- | --- | --- |"
	row "keep-alive requests/s" "" "$n_ka" "$w_ka" "≥ 1.2" \
	    "$(rratio keepalive 3)"
	row "keep-alive server CPU per request" µs "$n_kus" "$w_kus" "≤ 0.8" \
	    "$(rratio keepalive 4)"
	row "keep-alive p99 latency" ms "$n_k99" "$w_k99" "≤ 1" \
	    "$(rratio keepalive 6)"
	row "keep-alive client (wrk) CPU per request" µs \
	    "$(med nginx keepalive 9)" "$(med wkdd keepalive 9)" "" \
	    "$(rratio keepalive 9)"
	row "new connection, full handshake (noresume.so): server CPU per request" µs \
	    "$n_fus" "$w_fus" "≤ 0.8" "$(rratio full 4)"
	row "new connection, full handshake: requests/s (client-bound)" "" \
	    "$n_frps" "$w_frps" "" "$(rratio full 3)"
	row "new connection, resumption allowed: requests/s" "" "$n_rrps" \
	    "$w_rrps" "≥ 1.2" "$(rratio resume 3)"
	row "new connection, resumption allowed: server CPU per request" µs \
	    "$n_rus" "$w_rus" "" "$(rratio resume 4)"
	row "unloaded new connection (curl): TTFB p50" ms "$(pct nginx 50)" \
	    "$(pct wkdd 50)" "≤ 1"
	row "unloaded new connection (curl): TTFB p90" ms "$(pct nginx 90)" \
	    "$(pct wkdd 90)" ""
	row "unloaded new connection (curl): TTFB p99" ms "$(pct nginx 99)" \
	    "$(pct wkdd 99)" "≤ 1.2"
	row "server RSS after keep-alive load" MB "$n_rss" "$w_rss" "≤ 0.5"
	echo
	echo "wkdd's RSS at the end: ${w_anon} KB anonymous, ${w_file} KB" \
	    "file-backed (libraries and the store's pages, mmap)."
	if [ -s "$SV/sys" ]; then
		echo
		echo "System calls per keep-alive request (strace -c on the" \
		    "servers' threads, wrk -t 1 -c 8, ${BENCH_SYSSECS} s;" \
		    "calls of 0.05 a request or more):"
		echo
		sed 's/^/    /' "$SV/sys"
	fi
} > "$SV/table"
cat "$SV/table"
cat "$SV/table" >> "$RESULTS"
md "" "Every run (server mode req/s µs/req p50 p99 socket-errors round wrk-µs/req):" "" \
    '```' "$(cat "$SV/runs")" '```'
stop_servers
