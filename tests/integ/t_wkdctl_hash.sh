#!/bin/sh
# wkdctl hash: the draft's vectors (shared/docs/wkd-clients.md §5), the URLs,
# the extra Unicode hash, and agreement with gpg-wks-client --print-wkd-hash.
. "$(dirname "$0")/lib_wkdctl.sh"

# address hash [unicode-hash]
while read -r addr hash uni; do
	run $WKDCTL hash "$addr"
	got=$(awk '$1 == "hash" { print $2 }' "$out")
	is "$rc:$got" "0:$hash" "hash $addr"
	gotu=$(awk '$1 == "unicode-hash" { print $2 }' "$out")
	is "$gotu" "${uni:-}" "unicode hash $addr ${uni:-(none)}"
done <<'VECTORS'
Joe.Doe@Example.ORG iy9q119eutrkn8s1mk4r39qejnbu3n5q
test1@example.com stnkabub89rpcphiz4ppbxixkwyt1pic
test-wkd@metacode.biz 4hg7tescnttreaouu4z1izeuuyibwww1
ESchwartz@archlinux.org ycx3iaqih9tzkfk7dp8jo9xrdepu5m8u
bernhard.reiter@intevation.de it5sewh54rxz33fwmr8u6dy4bbz8itz4
aheinecke@intevation.de g8td9rsyatrazsoiho37j9n3g5ypp34h
patrice.lumumba@example.net gzfxrwe6o9qrddujrwnjran6nh41hfex
alice@example.org kei1q4tipxxu1yj79k9kfukdhfy631xe
Alice@EXAMPLE.org kei1q4tipxxu1yj79k9kfukdhfy631xe
test+tag@example.org fxzxa3848sxqqo7675sif3snp9e1xohb
INFO@example.org mg6owx9w8c3ejg3tu31f4tha5n17d4rj
jürgen@example.org xotup5kjnwdgxj1qa4a6s1j1hx3q5196
ÄBC@example.org ud9bxcn7eq8b9bfbmjthn5bwe8ifr8y1 33jf9x7jns7fpobh6m5xtwxwp46959z6
alice@münchen.de kei1q4tipxxu1yj79k9kfukdhfy631xe
VECTORS

# Grüße.Jürgen: only the ASCII G and J are lowered; its non-ASCII letters are
# lowercase already, so Unicode lowering gives the same hash.
run $WKDCTL hash 'Grüße.Jürgen@example.org'
like "$out" '^hash izrmh5mqsi4zyh6njd4sxxh4g7xjrxq1$' "hash Grüße.Jürgen (only ASCII lowered)"
unlike "$out" '^unicode-hash' "Grüße.Jürgen: no extra Unicode hash (lowering changes nothing else)"

# İnfo: the draft hash; Unicode lowering of İ gives another one.
run $WKDCTL hash 'İnfo@example.org'
like "$out" '^hash gbgtqg5fm6ijxt3deujksdrwgj4bx8n9$' "hash İnfo"
like "$out" '^unicode-hash [ybndrfg8ejkmcpqxot1uwisza345h769]{32}$' "İnfo has a Unicode hash"

# URLs, from the draft's example.
run $WKDCTL hash Joe.Doe@Example.ORG
like "$out" '^advanced https://openpgpkey\.example\.org/\.well-known/openpgpkey/example\.org/hu/iy9q119eutrkn8s1mk4r39qejnbu3n5q\?l=Joe\.Doe$' "advanced URL"
like "$out" '^direct https://example\.org/\.well-known/openpgpkey/hu/iy9q119eutrkn8s1mk4r39qejnbu3n5q\?l=Joe\.Doe$' "direct URL"
run $WKDCTL hash 'alice@münchen.de'
like "$out" '^advanced https://openpgpkey\.xn--mnchen-3ya\.de/\.well-known/openpgpkey/xn--mnchen-3ya\.de/hu/' "IDN domain as A-label in the URL"
run $WKDCTL hash 'test+tag@example.org'
like "$out" '\?l=test%2Btag$' "l= is percent-escaped"
run $WKDCTL hash 'ÄBC@example.org'
like "$out" '\?l=%C3%84BC$' "l= keeps the local part unchanged (UTF-8 escaped)"

# Not addresses: exit 1 with a message.  No argument: usage, exit 2.
for bad in '@example.org' 'nobody' 'a@b@c' 'a b@example.org' 'x@exa mple.org'; do
	run $WKDCTL hash "$bad"
	is "$rc" 1 "hash '$bad' refused (exit 1)"
	like "$err" 'not a mail address' "hash '$bad': message"
done
run $WKDCTL hash
is "$rc" 2 "hash without argument: exit 2"
like "$err" '^usage: wkdctl hash address' "hash without argument: usage"
run $WKDCTL hash --help
is "$rc" 0 "hash --help: exit 0"
like "$out" '^usage: wkdctl hash address' "hash --help: usage on stdout"

# Agreement with gpg-wks-client on generated addresses.
WKS=/usr/lib/gnupg/gpg-wks-client
if [ -x "$WKS" ]; then
	i=0
	for l in a Z 0 a.b A.B.C x+y x-y x_y 'o'"'"'brien' Mixed.Case.Name \
	    UPPER lower.UPPER 12345 a.very.long.local.part.with.dots.in.it \
	    'jürgen' 'Jürgen' 'ÄÖÜ' 'müller' 'ÉCOLE' '日本' 'ﬁx' 'ǅemal' \
	    "$(printf 'r%04d' 42)" "$(date +%s)"; do
		for d in example.org Example.COM sub.example.net; do
			addr="$l@$d"
			want=$("$WKS" --print-wkd-hash "$addr" 2>/dev/null |
			    awk '{ print $1 }')
			got=$($WKDCTL hash "$addr" | awk '$1 == "hash" { print $2 }')
			if [ -n "$want" ] && [ "$got" = "$want" ]; then
				i=$((i + 1))
			else
				echo "# mismatch for $addr: wkdctl '$got', gpg-wks-client '$want'"
				i=-1000
			fi
		done
	done
	[ "$i" -gt 0 ]
	ok $? "wkdctl hash equals gpg-wks-client --print-wkd-hash ($i addresses)"
else
	skip "gpg-wks-client not installed"
fi

finish
