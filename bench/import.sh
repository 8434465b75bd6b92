# bench/import.sh: sourced by bench/run.  wkdctl import of Debian's three
# keyrings into a fresh store (debian.org hosted, its accounts made by one
# account sync), three times, the median run reported; gpg-wks-client
# --install-key on BENCH_WKS of the same keys, one process each, as a
# provider would run it; t_pgpfast -n 1, the fast path against RNP on
# every key.

echo
echo "== import: Debian's keyrings ($(cat $KEYRINGS | wc -c) bytes)"
runs=
for r in 1 2 3; do
	new_store "$SRC" || { echo "bench: store setup failed" >&2; exit 1; }
	timed "$RUN/import.t" "$WKDCTL" -s "$SRC" import $KEYRINGS
	rc=$?
	# 3: some keys skipped (those without a debian.org UID).
	if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
		tail -n 5 "$RUN/import.t.log" >&2
		echo "bench: wkdctl import failed ($rc)" >&2
		exit 1
	fi
	echo "$(cat "$RUN/import.t") $(du -B1 "$SRC/data.mdb" | cut -f 1)" \
	    >> "$RUN/import.runs"
	runs="$runs $(cut -d ' ' -f 1 < "$RUN/import.t")s"
done
# The median run by wall time: wall user sys maxrss store_bytes.
set -- $(sort -g "$RUN/import.runs" | sed -n 2p)
imp_wall=$1 imp_user=$2 imp_sys=$3 imp_rss=$4 imp_store=$5
summary=$(tail -n 1 "$RUN/import.t.log")
nkeys=$(echo "$summary" | awk '{ print $1 }')
read -r sync_wall sync_user sync_sys sync_rss < "$RUN/sync.t"
nusers=$(wc -l < "$RUN/users.tsv" | tr -d ' ')
imp_rate=$(awk -v n="$nkeys" -v t="$imp_wall" 'BEGIN {
	printf("%.0f", t > 0 ? n / t : 0) }')
echo "account sync: $nusers accounts, ${sync_wall} s, ${sync_rss} KB"
echo "wkdctl import: $summary"
echo "wkdctl import: wall ${imp_wall} s (runs:$runs), user ${imp_user} s," \
    "sys ${imp_sys} s, peak RSS ${imp_rss} KB, $imp_rate keys/s," \
    "store $imp_store bytes"

# gpg-wks-client: the first BENCH_WKS keys (in keyring order) that have a
# debian.org UID, each with its first such address.
WKS=/usr/lib/gnupg/gpg-wks-client
wks_line="gpg-wks-client: not installed"
wks_rate=
if [ -x "$WKS" ] && [ "$BENCH_WKS" -gt 0 ]; then
	awk -F '\t' -v n="$BENCH_WKS" '{
		for (i = 2; i <= NF; i++)
			if (match(tolower($i), /<[^<> ]+@debian\.org>/)) {
				print $1, substr(tolower($i), RSTART + 1,
				    RLENGTH - 2)
				if (++k == n)
					exit
				break
			}
	}' "$RUN/uids" > "$RUN/wks.keys"
	nwks=$(wc -l < "$RUN/wks.keys" | tr -d ' ')
	mkdir -p -m 700 "$RUN/wks-gnupg"
	# gpg-wks-client's gpg wants a trustdb there already.
	gpg --homedir "$RUN/wks-gnupg" --batch --list-keys > /dev/null 2>&1
	rm -rf "$RUN/wks"
	mkdir -p "$RUN/wks"
	cat > "$RUN/wks.sh" <<-'EOF'
	while read -r f a; do
		"$WKS" -C "$RUN/wks" --install-key "$f" "$a" || exit 1
	done < "$RUN/wks.keys"
	EOF
	t0=$EPOCHREALTIME
	GNUPGHOME=$RUN/wks-gnupg WKS=$WKS RUN=$RUN \
	    timed "$RUN/wks.t" sh "$RUN/wks.sh"
	wrc=$?
	t1=$EPOCHREALTIME
	GNUPGHOME=$RUN/wks-gnupg gpgconf --kill all > /dev/null 2>&1
	read -r wks_wall wks_user wks_sys wks_rss < "$RUN/wks.t"
	wks_wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf("%.3f", b - a) }')
	nfiles=$(find "$RUN/wks" -type f -path '*/hu/*' | wc -l | tr -d ' ')
	wks_bytes=$(find "$RUN/wks" -type f -path '*/hu/*' -exec cat {} + |
	    wc -c | tr -d ' ')
	wks_rate=$(awk -v n="$nwks" -v t="$wks_wall" 'BEGIN {
		printf("%.1f", t > 0 ? n / t : 0) }')
	ratio=$(awk -v a="$imp_rate" -v b="$wks_rate" 'BEGIN {
		printf("%.1f", b > 0 ? a / b : 0) }')
	wks_line="gpg-wks-client --install-key: $nwks keys in ${wks_wall} s"
	wks_line="$wks_line (user ${wks_user} s, sys ${wks_sys} s, children"
	wks_line="$wks_line included), $wks_rate keys/s, $nfiles files,"
	wks_line="$wks_line $wks_bytes bytes; exit $wrc"
	echo "$wks_line"
	echo "ratio: wkdctl $imp_rate keys/s / gpg-wks-client $wks_rate" \
	    "keys/s = ${ratio}x"
fi

pf_line="t_pgpfast: not built"
if [ -x "$O/tests/t_pgpfast" ]; then
	echo "t_pgpfast -n 1: every key by both paths (about a minute)"
	t0=$EPOCHREALTIME
	"$O/tests/t_pgpfast" -n 1 > "$RUN/pgpfast.out" 2>&1
	t1=$EPOCHREALTIME
	pf_line="t_pgpfast -n 1: $(grep -c '^ok' "$RUN/pgpfast.out") ok,"
	pf_line="$pf_line $(grep -c '^not ok' "$RUN/pgpfast.out") not ok;"
	pf_line="$pf_line $(sed -n 's/^ok [0-9]* - \(the fast path read.*\)/\1/p' \
	    "$RUN/pgpfast.out" | tail -n 1);"
	pf_line="$pf_line $(awk -v a="$t0" -v b="$t1" 'BEGIN {
		printf("%.1f", b - a) }') s"
	echo "$pf_line"
fi

md "" "### Import: Debian's keyrings (debian-keyring, debian-nonupload, debian-role-keys)" "" \
    "| what | figure |" "| --- | --- |" \
    "| wkdctl account sync ($nusers @debian.org accounts, one process) | ${sync_wall} s, peak RSS ${sync_rss} KB |" \
    "| \`wkdctl import\` result | $summary |" \
    "| \`wkdctl import\` wall (median of 3:$runs) | ${imp_wall} s |" \
    "| user + sys CPU | ${imp_user} s + ${imp_sys} s |" \
    "| peak RSS | ${imp_rss} KB |" \
    "| rate | $imp_rate keys/s |" \
    "| store after import | $imp_store bytes |"
if [ -n "$wks_rate" ]; then
	md "| gpg-wks-client --install-key, $nwks keys, one process each | ${wks_wall} s, $wks_rate keys/s ($nfiles files, $wks_bytes bytes) |" \
	    "| ratio wkdctl / gpg-wks-client (keys/s) | ${ratio}x |"
fi
md '| `t_pgpfast -n 1` (fast path vs RNP, every key) | '"${pf_line#t_pgpfast -n 1: } |"
