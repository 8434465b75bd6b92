#!/bin/sh
# t_mapgrow: a store made with a 3 MiB map (store-size 3M) is served by
# wkdd, which maps it at its own size; wkdctl with store-size 3M refuses
# what doesn't fit ("store full", nothing changed); wkdctl with store-size
# 64M then grows the store past wkdd's map by importing Debian's keyring.
# The same wkdd (no restart, no reload) follows: every address published
# after the growth is served, from the grown file, and its metrics say
# the new map size.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"
. "$TOP/tests/integ/debkeys.sh"

need curl certtool mdb_dump
need_wkdctl
debian_keys

make_certs debian.org openpgpkey.debian.org
printf 'store %s\nstore-size 3M\n' "$STORE" > "$T/small.conf"
printf 'store %s\nstore-size 64M\n' "$STORE" > "$T/big.conf"
# small, big: wkdctl with a 3 MiB or a 64 MiB map.
small() {
	"$WKDCTL" -f "$T/small.conf" "$@"
}
big() {
	"$WKDCTL" -f "$T/big.conf" "$@"
}
mkdir -p "$STORE"
setup "init (store-size 3M)" small init
setup "domain add" small domain add debian.org
setup "account sync" small account sync "$T/dk/users.tsv"
# The first 20 keys fit in 3 MiB.
head -n 20 "$T/dk/pub" | xargs cat > "$T/first.pgp"
small import "$T/first.pgp" > "$T/first.out" 2>&1
rc=$?
check "store-size 3M: 20 keys imported (exit $rc)" test $rc = 0 -o $rc = 3
sed -n 's/^  published at //p' "$T/first.out" > "$T/first"

# wkdd maps the store at its own size: store-size 0.
write_conf "limit-rate 0" "access-log off" "metrics-listen 127.0.0.1:0"
start_wkdd || finish
MPORT=$(echo "$PORTS" | sed -n 2p)
PID0=$WKDD_PID
map_bytes() {
	curl -sS --max-time 10 "http://127.0.0.1:$MPORT/metrics" |
	    awk '$1 == "wkdd_store_map_bytes" { print $2 }'
}
is "$(map_bytes)" $((3 * 1024 * 1024)) "wkdd maps the store at its 3 MiB"

# served ADDR: fetch ADDR's key (lib.sh's fetch checks it).
served() {
	fetch openpgpkey.debian.org \
	    "/.well-known/openpgpkey/debian.org/hu/$(hash_of "$1")?l=${1%@*}"
}
served "$(head -n 1 "$T/first")"
is "$STATUS" 200 "a key imported before the growth is served"

# --- 3 MiB can't hold the keyring: refused, nothing changed ----------------
before=$(mdb_dump -a "$STORE" | sha256sum)
small import "$DK_RING" > "$T/full.out" 2> "$T/full.err"
is "$?" 1 "store-size 3M: the whole keyring doesn't fit (exit 1)"
like "$T/full.err" "store full \(raise store-size" \
    "... store full (raise store-size)"
is "$(mdb_dump -a "$STORE" | sha256sum)" "$before" "... nothing changed"

# --- wkdctl grows the store to 64 MiB --------------------------------------
big import "$DK_RING" > "$T/grow.out" 2> "$T/grow.err"
rc=$?
check "store-size 64M: the keyring imported (exit $rc)" test $rc = 0 -o $rc = 3
size=$(wc -c < "$STORE/data.mdb" | tr -d ' ')
check "data.mdb grew past wkdd's 3 MiB map ($size bytes)" \
    test "$size" -gt $((3 * 1024 * 1024))
sed -n 's/^  published at //p' "$T/grow.out" | sort -u > "$T/grown"
n=$(wc -l < "$T/grown" | tr -d ' ')
check "the import published $n addresses" test "$n" -gt 800

# The running wkdd follows: a quarter of the addresses published after the
# growth (every fourth, and the last), fetched.
awk 'NR % 4 == 1' "$T/grown" > "$T/sample"
tail -n 1 "$T/grown" >> "$T/sample"
m=$(wc -l < "$T/sample" | tr -d ' ')
bad=0
while read -r a; do
	served "$a"
	if [ "$STATUS" != 200 ]; then
		bad=$((bad + 1))
		[ $bad -le 5 ] && diag "$a: $STATUS"
	fi
done < "$T/sample"
is "$bad" 0 "$m of them, fetched: all served"
is "$WKDD_PID" "$PID0" "by the same wkdd, never restarted"
is "$(map_bytes)" $((64 * 1024 * 1024)) "wkdd's map is the store's 64 MiB now"
unlike "$LOG" "reloaded|replaced" "no reload, no store replaced"
check_wkdd "after the growth"
finish
