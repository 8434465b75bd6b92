# bench/scale.sh: sourced by bench/run.  For each N of BENCH_N:
#
#  1. bench/gen makes a fresh store of N addresses over max(1, N / 1000)
#     domains from the import's one-UID blobs (Debian's sizes), in
#     transactions of 50,000 puts: wall, rate, gen's peak RSS; data.mdb's
#     bytes on disk against the blob bytes written, and the wkd and blobs
#     tables' pages (mdb_stat).
#  2. The real wkdd on 127.0.0.1:0 with a TLS certificate (certtool, as
#     the tests make them): time to its -R report (listening) and to the
#     first 200 for a key (curl, polled), measured from the fork.
#  3. wrk (2 threads, BENCH_CONN connections, HTTPS, bench/wkd.lua):
#     BENCH_WRK s over the same-sized working set at every N (the first
#     1,000 addresses), then BENCH_RAND s over 100,000 (or N) addresses
#     drawn at random over the whole store; latency p50/p99 and
#     requests/s; then wkdd's VmRSS and RssFile against the blob bytes
#     that random run is expected to have touched.
#  4. wkdctl on the store, wkdd stopped (hyperfine -N, the median): show,
#     publish (after an unpublish), alias add, import of one Debian key
#     (new, then again), list and export-tree of one domain; from 10M on
#     one run each, under timeout 300 (a timed-out run is reported).
#
# A row whose store would not fit in BENCH_DIR's free space (~1.4 times
# its blob bytes, plus 1 GiB) is skipped, saying so.  Each store is
# deleted after its row unless BENCH_KEEP=1.

echo
echo "== scale: BENCH_N=\"$BENCH_N\" in $BENCH_DIR"
if [ ! -s "$SRC/data.mdb" ]; then
	new_store "$SRC" || exit 1
	"$WKDCTL" -s "$SRC" import $KEYRINGS > /dev/null 2>&1
fi
# The Debian key imported into each store: the first whose first
# debian.org address the import published.
KFILE= KADDR=
while read -r f a; do
	if "$WKDCTL" -s "$SRC" show "$a" 2>/dev/null | grep -q 'served:'; then
		KFILE=$f KADDR=$a
		break
	fi
done <<-EOF
$(awk -F '\t' 'NR <= 50 { for (i = 2; i <= NF; i++)
	if (match(tolower($i), /<[^<> ]+@debian\.org>/)) {
		print $1, substr(tolower($i), RSTART + 1, RLENGTH - 2); break
	} }' "$RUN/uids")
EOF
KFPR=$("$WKDCTL" -s "$SRC" show "$KADDR" | awk '$1 == "key:" { print $2 }')
echo "one-key import: $KFILE ($KADDR, key $KFPR, $(wc -c < "$KFILE")" \
    "bytes), a key gen leaves out (-x)"

# The blobs gen cycles through, and their sizes.
"$GEN" -S "$SRC" -n 1 -x "$KFPR" -B "$RUN/blobs" "$RUN/probe" \
    > /dev/null || exit 1
rm -rf "$RUN/probe"
for f in "$RUN/blobs"/*; do
	echo "${f##*/} $(wc -c < "$f")"
done > "$RUN/blobsizes"
nblobs=$(wc -l < "$RUN/blobsizes" | tr -d ' ')
avgblob=$(awk '{ s += $2 } END { printf("%d", s / NR) }' "$RUN/blobsizes")
echo "blobs: $nblobs one-UID blobs of Debian keys, $avgblob bytes on average"

# One certificate for the first domain's names (wrk sends no server name:
# wkdd then goes by Host).
T=$RUN
. "$TOP/tests/integ/certs.sh"
make_ca && make_cert "$RUN/cert.pem" "$RUN/key.pem" d0.example \
    openpgpkey.d0.example || { echo "bench: certtool failed" >&2; exit 1; }

# ms A B: milliseconds between two $EPOCHREALTIME readings.
ms() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf("%.1f", (b - a) * 1000) }'
}

# wrk_ms VALUE: wrk's "812.00us", "1.20ms" or "2.01s" in ms.
wrk_ms() {
	awk -v v="$1" 'BEGIN {
		n = v + 0
		if (v ~ /us$/) n /= 1000
		else if (v ~ /ms$/) n += 0
		else if (v ~ /m$/) n *= 60000
		else if (v ~ /s$/) n *= 1000
		printf("%.2f", n) }'
}

# wrk_run LIST SECONDS OUT: wrk on wkdd; sets P50 P99 RPS REQS NON2XX.
wrk_run() {
	wrk -t 2 -c "$BENCH_CONN" -d "${2}s" --timeout 10s --latency \
	    -s "$TOP/bench/wkd.lua" "https://127.0.0.1:$PORT/" -- "$1" \
	    > "$3" 2>&1
	P50=$(wrk_ms "$(awk '$1 == "50%" { print $2 }' "$3")")
	P99=$(wrk_ms "$(awk '$1 == "99%" { print $2 }' "$3")")
	RPS=$(awk '$1 == "Requests/sec:" { printf("%.0f", $2) }' "$3")
	REQS=$(awk '/requests in/ { print $1 }' "$3")
	NON2XX=$(awk '/Non-2xx/ { print $NF }' "$3")
	NON2XX=${NON2XX:-0}
}

# hf OUT HYPERFINE-ARGS...: hyperfine -N; prints the median in ms.
hf() {
	_o=$1
	shift
	hyperfine -N -i --style none --export-json "$_o.json" "$@" \
	    > "$_o.log" 2>&1
	hf_ms "$_o.json"
}

: > "$RUN/rows"
K=100000
for N in $BENCH_N; do
	echo
	echo "-- N=$N"
	ndom=$((N / 1000))
	[ $ndom -ge 1 ] || ndom=1
	need=$(awk -v n="$N" -v a="$avgblob" 'BEGIN {
		printf("%.0f", n * a * 1.4 + 2^30) }')
	avail=$(df -B1 --output=avail "$BENCH_DIR" | tail -n 1 | tr -d ' ')
	if [ "$need" -gt "$avail" ]; then
		why=$(awk -v n="$need" -v a="$avail" 'BEGIN {
			printf("needs ~%.1f GB, %s has %.1f GB free",
			    n / 1e9, dir, a / 1e9) }' dir="$BENCH_DIR")
		echo "N=$N: skipped: $why"
		echo "$N skipped $why" >> "$RUN/rows"
		continue
	fi
	S=$RUN/store.$N
	K=$N
	[ "$K" -le 100000 ] || K=100000

	# 1. Build.
	timed "$RUN/gen.t" "$GEN" -S "$SRC" -n "$N" -x "$KFPR" -w "$RUN/ws" \
	    -r "$RUN/rand" -k "$K" "$S" || {
		cat "$RUN/gen.t.log" >&2
		echo "bench: gen -n $N failed" >&2
		exit 1
	}
	read -r g_wall g_user g_sys g_rss < "$RUN/gen.t"
	# gen's own clock: /usr/bin/time has 10 ms steps.
	g_wall=$(awk '/^gen:/ { print $(NF - 1) }' "$RUN/gen.t.log")
	blobbytes=$(awk '/^gen:/ { print $8 }' "$RUN/gen.t.log")
	disk=$(du -B1 "$S/data.mdb" | cut -f 1)
	ratio=$(awk -v a="$disk" -v b="$blobbytes" 'BEGIN {
		printf("%.2f", a / b) }')
	rate=$(awk -v n="$N" -v t="$g_wall" 'BEGIN {
		printf("%.0f", t > 0 ? n / t : 0) }')
	# The published keys alone: the wkd table (ETag, where) and the
	# blobs table (their bytes: overflow pages, packed leaf pages).
	ovf=$(mdb_stat -s blobs "$S" 2>/dev/null |
	    awk '/Overflow pages/ { print $3 }')
	leaf=$(mdb_stat -s blobs "$S" 2>/dev/null |
	    awk '/Leaf pages/ { print $3 }')
	wkdratio=$( (mdb_stat -e -s wkd "$S"; mdb_stat -s blobs "$S") \
	    2>/dev/null | awk -v b="$blobbytes" '
		/Page size/ { ps = $3 }
		/(Branch|Leaf|Overflow) pages/ { p += $3 }
		END { printf("%.2f", p * ps / b) }')
	echo "build: ${g_wall} s (user ${g_user}, sys ${g_sys}), $rate" \
	    "addresses/s, gen peak RSS ${g_rss} KB"
	echo "size: data.mdb $disk bytes on disk, blobs $blobbytes bytes:" \
	    "${ratio}x; the wkd and blobs tables' pages alone ${wkdratio}x" \
	    "(blobs: $leaf leaf, $ovf overflow)"

	# 2. wkdd's start-up.
	read -r _a _d H0 _b < "$RUN/ws"
	{
		echo "listen 127.0.0.1:0"
		echo "store $S"
		echo "tls-cert $RUN/cert.pem"
		echo "tls-key $RUN/key.pem"
		[ "$(id -u)" != 0 ] || echo "user root"
	} > "$RUN/wkdd.conf"
	rm -f "$RUN/ready"
	mkfifo "$RUN/ready"
	: > "$RUN/wkdd.log"
	url="https://openpgpkey.d0.example:PORT/.well-known/openpgpkey/d0.example/hu/$H0"
	t0=$EPOCHREALTIME
	"$WKDD" -d -R 3 -f "$RUN/wkdd.conf" 3> "$RUN/ready" \
	    >> "$RUN/wkdd.log" 2>&1 &
	WKDD_PID=$!
	PORT=
	read -r -t 30 PORT < "$RUN/ready"
	t1=$EPOCHREALTIME
	case $PORT in
	[1-9]*) ;;
	*)	cat "$RUN/wkdd.log" >&2
		echo "bench: wkdd did not start" >&2
		exit 1 ;;
	esac
	u=${url/PORT/$PORT}
	tries=0
	until [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert \
	    "$RUN/ca.pem" --resolve "openpgpkey.d0.example:$PORT:127.0.0.1" \
	    "$u")" = 200 ]; do
		tries=$((tries + 1))
		[ $tries -lt 200 ] || { echo "bench: no 200 from wkdd" >&2;
		    exit 1; }
	done
	t2=$EPOCHREALTIME
	curl -s -o /dev/null --cacert "$RUN/ca.pem" \
	    --resolve "openpgpkey.d0.example:$PORT:127.0.0.1" "$u"
	t3=$EPOCHREALTIME
	listen_ms=$(ms "$t0" "$t1")
	first_ms=$(ms "$t0" "$t2")
	curl_ms=$(ms "$t2" "$t3")
	echo "start-up: listening after $listen_ms ms, first 200 after" \
	    "$first_ms ms ($((tries + 1)) curl; one curl alone: $curl_ms ms)"

	# 3. Lookups.
	wrk_run "$RUN/ws" "$BENCH_WRK" "$RUN/wrk.ws"
	ws="$P50 $P99 $RPS $NON2XX"
	echo "working set (1,000 addresses, ${BENCH_WRK} s): p50 $P50 ms," \
	    "p99 $P99 ms, $RPS req/s, non-2xx $NON2XX"
	wrk_run "$RUN/rand" "$BENCH_RAND" "$RUN/wrk.rand"
	rnd="$P50 $P99 $RPS $NON2XX"
	rss=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$WKDD_PID/status")
	rssfile=$(awk '$1 == "RssFile:" { print $2 }' \
	    "/proc/$WKDD_PID/status")
	rssanon=$(awk '$1 == "RssAnon:" { print $2 }' \
	    "/proc/$WKDD_PID/status")
	# The blob bytes the random run touched, expected: an address drawn
	# c times of K is hit with probability 1 - exp(-REQS * c / K).
	touched=$(awk -v r="$REQS" -v k="$K" '
		NR == FNR { size[$1] = $2; next }
		{ c[$1]++; b[$1] = $4 }
		END {
			for (a in c)
				t += size[b[a]] * (1 - exp(-r * c[a] / k))
			printf("%.0f", t)
		}' "$RUN/blobsizes" "$RUN/rand")
	ndist=$(cut -d ' ' -f 1 "$RUN/rand" | sort -u | wc -l | tr -d ' ')
	echo "random ($K draws, $ndist addresses, ${BENCH_RAND} s): p50 $P50" \
	    "ms, p99 $P99 ms, $RPS req/s ($REQS requests), non-2xx $NON2XX"
	echo "wkdd after it: VmRSS $rss KB, RssFile $rssfile KB, RssAnon" \
	    "$rssanon KB; blob bytes touched ~$touched"
	kill -TERM "$WKDD_PID"
	wait "$WKDD_PID"
	wrc=$?
	WKDD_PID=
	[ $wrc -eq 0 ] || echo "bench: wkdd exited $wrc"
	grep -v ' 200 ' "$RUN/wkdd.log" | grep -vE 'GET .* 404 ' |
	    head -n 5 > "$RUN/wkdd.odd"

	# 4. wkdctl.
	W="$WKDCTL -s $S"
	A0=u0@d0.example
	$W domain add debian.org > /dev/null 2>&1
	$W account add "$KADDR" > /dev/null 2>&1
	# At 10M a command walking the store reads it from the disk (minutes
	# for import): one run each, at most 300 s.
	r5=5 r3=3 r10=10 TO=
	if [ "$N" -ge 10000000 ]; then
		r5=1 r3=1 r10=3 TO="timeout 300 "
	fi
	c_show=$(hf "$RUN/hf.show" --runs $r10 "$TO$W show $A0")
	echo "  show: $c_show ms"
	c_imp1=$(hf "$RUN/hf.imp1" --runs 1 "$TO$W import $KFILE")
	echo "  import one key: $c_imp1 ms"
	c_imp2=$(hf "$RUN/hf.imp2" --runs $r5 "$TO$W import $KFILE")
	echo "  import again: $c_imp2 ms"
	c_pub=$(hf "$RUN/hf.pub" --runs $r5 --prepare \
	    "$TO$W unpublish $KADDR" "$TO$W publish $KADDR")
	echo "  publish: $c_pub ms"
	# Not A0's account: alias add serves the account anew, and no
	# generated blob has a UID for the generated addresses.
	c_alias=$(hf "$RUN/hf.alias" --runs 1 --parameter-scan i 1 $r5 \
	    "$TO$W alias add u$ndom@d0.example alias{i}@d0.example")
	echo "  alias add: $c_alias ms"
	c_list=$(hf "$RUN/hf.list" --runs $r3 "$TO$W list d0.example")
	echo "  list d0.example: $c_list ms"
	c_tree=$(hf "$RUN/hf.tree" --runs $r3 \
	    "$TO$W export-tree $RUN/tree d0.example")
	echo "  export-tree d0.example: $c_tree ms"
	$W show "$KADDR" | grep -q 'served:' ||
	    echo "bench: $KADDR not served after import and publish"
	# hyperfine -i goes on after a failing command: say so.
	for f in "$RUN"/hf.*.json; do
		tr -d ' \n' < "$f" | grep -q '"exit_codes":\[[^]]*[1-9]' &&
		    echo "bench: ${f##*/}: a run exited non-zero"
	done
	nlist=$($W list d0.example | grep -c '@d0\.example' | tr -d ' ')
	echo "wkdctl (ms, median): show $c_show, publish $c_pub, alias add" \
	    "$c_alias, import one key $c_imp1 (again: $c_imp2)," \
	    "list d0.example ($nlist addresses) $c_list, export-tree" \
	    "d0.example $c_tree"
	rm -rf "$RUN/tree" "$RUN"/.tree.*

	echo "$N ok $g_wall $rate $g_rss $blobbytes $disk $ratio $ovf" \
	    "$listen_ms $first_ms $curl_ms $ws $rnd $rss $rssfile $touched" \
	    "$c_show $c_pub $c_alias $c_imp1 $c_imp2 $c_list $c_tree" \
	    "$ndom $nlist $wkdratio" >> "$RUN/rows"
	if [ "$BENCH_KEEP" = 1 ]; then
		echo "kept $S"
	else
		rm -rf "$S"
	fi
done

# The tables: stdout, then markdown.
table() {	# table md|txt [1|2|3]
	awk -v fmt="$1" -v only="${2:-0}" '
	function row(s) {
		if (fmt == "md") { gsub(/\t/, " | ", s); print "| " s " |" }
		else print s
	}
	function mb(kb) { return sprintf("%.0f", kb / 1024) }
	function gb(b) { return sprintf("%.2f", b / 1e9) }
	BEGIN {
		h1 = "N\tdomains\tbuild s\taddr/s\tgen RSS MB\tblobs GB\tstore GB\tstore/blobs\twkd+blobs tables/blobs\tblobs overflow pages"
		h2 = "N\tlistening ms\tfirst 200 ms\tone curl ms\tws p50 ms\tws p99 ms\tws req/s\trandom p50 ms\trandom p99 ms\trandom req/s\tnon-2xx\tVmRSS MB\tRssFile MB\ttouched MB"
		h3 = "N\tshow\tpublish\talias add\timport 1 key\timport again\tlist domain\texport-tree domain"
	}
	{ r[NR] = $0 }
	END {
		for (t = 1; t <= 3; t++) {
			if (only && t != only)
				continue
			print ""
			h = t == 1 ? h1 : t == 2 ? h2 : h3
			row(h)
			if (fmt == "md") {
				s = h; gsub(/[^\t]+/, "---", s); row(s)
			}
			for (i = 1; i <= NR; i++) {
				split(r[i], f, " ")
				if (f[2] == "skipped") {
					s = r[i]; sub(/^[0-9]+ skipped /, "", s)
					row(f[1] "\tskipped: " s)
					continue
				}
				if (t == 1)
					row(f[1] "\t" f[31] "\t" f[3] "\t" f[4] "\t" mb(f[5]) "\t" gb(f[6]) "\t" gb(f[7]) "\t" f[8] "x\t" f[33] "x\t" f[9])
				else if (t == 2)
					row(f[1] "\t" f[10] "\t" f[11] "\t" f[12] "\t" f[13] "\t" f[14] "\t" f[15] "\t" f[17] "\t" f[18] "\t" f[19] "\t" f[16] + f[20] "\t" mb(f[21]) "\t" mb(f[22]) "\t" sprintf("%.0f", f[23] / 1048576))
				else
					row(f[1] "\t" f[24] "\t" f[25] "\t" f[26] "\t" f[27] "\t" f[28] "\t" f[29] " (" f[32] " addr)\t" f[30])
			}
		}
	}' "$RUN/rows"
}
echo
echo "== scale: the table (times of wkdctl commands: ms, hyperfine median)"
for t in 1 2 3; do
	table txt $t | column -t -s "$(printf '\t')"
done
md "" "### Scale" "" \
    "Stores made by bench/gen ($nblobs Debian one-UID blobs, $avgblob bytes on average, cycled;" \
    "N / 1000 domains); wrk -t 2 -c $BENCH_CONN over HTTPS, ${BENCH_WRK} s on the first 1,000 addresses," \
    "${BENCH_RAND} s on min(N, 100,000) random draws over the whole store; wkdctl commands: hyperfine -N median, ms."
table md >> "$RESULTS"
