#!/bin/sh
# t_api_spec: admin/api.yaml, the admin API's OpenAPI 3 document, passes a
# real OpenAPI linter (Redocly's, from tests/apilint's lock file; its
# recommended rules, see tests/apilint/redocly.yaml), and names every
# route wkdctl serve has (admin/api.c's table).
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/tap.sh"
L=$TOP/tests/apilint
command -v node >/dev/null 2>&1 || skip_all "node not installed"
command -v npm >/dev/null 2>&1 || skip_all "npm not installed"
if ! [ -x "$L/node_modules/.bin/redocly" ]; then
	(cd "$L" && timeout 300 npm ci --no-audit --no-fund) >&2 ||
	    { echo "not ok 1 - npm ci in tests/apilint"; echo 1..1; exit 1; }
fi
OUT=$(mktemp) || exit 1
trap 'rm -f "$OUT"' EXIT
if (cd "$L" && timeout 120 ./node_modules/.bin/redocly lint \
    --config redocly.yaml "$TOP/admin/api.yaml") > "$OUT" 2>&1; then
	pass "redocly lint admin/api.yaml: valid"
else
	fail "redocly lint admin/api.yaml"
	show "$OUT"
fi
check "no lint warnings either" sh -c "! grep -qE 'You have [0-9]+ warning' '$OUT'"

# Each route of api.c's table, as "METHOD /v1/a/*/b", is in the document.
sed -n 's/^	{ "\([A-Z]*\)", [0-9], { "v1"\(.*\) }, api_.*/\1 \2/p;
    s/^	{ "\([A-Z]*\)", [0-9], { "v1"\(.*\) },$/\1 \2/p' \
    "$TOP/admin/api.c" | sed 's/, "/\//g; s/"//g' > "$OUT.routes"
check "the route table was read" [ "$(wc -l < "$OUT.routes")" -ge 9 ]
while read -r m p; do
	# api.yaml names path parameters {x} where api.c has *.
	re=$(echo "/v1$p" | sed 's/\*/{[a-z]*}/g')
	m=$(echo "$m" | tr 'A-Z' 'a-z')
	check "api.yaml documents $m /v1$p" awk -v re="^  $re:\$" -v m="    $m:" '
		$0 ~ re { inp = 1; next }
		/^  \// { inp = 0 }
		inp && $0 == m { found = 1 }
		END { exit !found }' "$TOP/admin/api.yaml"
done < "$OUT.routes"
rm -f "$OUT.routes"
tap_plan
