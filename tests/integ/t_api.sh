#!/bin/sh
# shellcheck disable=SC2317,SC2119 # functions called through io_step/check.
# t_api: the admin API (wkdctl serve) on a unix socket, driven with curl
# as a provider's platform and a customer would, and the real wkdd on
# 127.0.0.1:443 serving what it changed:
#   - a platform token creates an account and uploads the user's
#     secret-key export (gpg's); gpg, sq and OpenPGP.js then find the key
#     by WKD;
#   - it syncs 20,000 accounts in one request (account sync's format);
#   - it adds an alias, and the key is found there too; it revokes the
#     key (the stored certificate), and gpg finds it revoked;
#   - a customer token scoped to customer.example gets 404 for every
#     attempt on adv.test (reads and changes), the store unchanged, and
#     manages its own domain;
#   - no token or a bad one: 401 with no detail; a read-only token: 403
#     for a change; an oversized body: 413; an invalid key or malformed
#     JSON: an error, the store unchanged;
#   - each change is in the audit log under the token's name; GET
#     /v1/log pages through it (a cursor), filtered by token, action,
#     domain, subject and time, as "wkdctl log" has it; a customer sees
#     none of another tenant's entries;
#   - keys listed (per account, per domain, as "wkdctl list"), shown and
#     exported (binary and armored: "wkdctl export"'s bytes; gpg imports
#     them); republish of an address and an account ("wkdctl republish"'s
#     report);
#   - a domain's status and its DNS records ("wkdctl dns"'s, byte for
#     byte, with the TLSA of the certificate served);
#   - the same API over TLS on 127.0.0.1 (curl verifying the certificate;
#     plain HTTP and TLS 1.1 get nothing).
# In network and mount namespaces, as tests/integ/t_revoke_gpg.sh.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
O=${O:-$TOP/build}
export TOP O
. "$TOP/tests/interop/lib.sh"
io_need dirmngr curl sq node npm python3 gnutls-cli
# OpenPGP.js from the lock file, before the namespace (no network there).
io_js_ready || { echo "not ok 1 - npm ci in tests/interop/js"; echo 1..1
	exit 1; }
io_enter

T=$(mktemp -d /tmp/wkdd-api.XXXXXX) || exit 1
API_PID=
api_cleanup() {
	if [ -n "$API_PID" ]; then
		kill "$API_PID" 2>/dev/null
		wait "$API_PID" 2>/dev/null
	fi
	io_cleanup
}
trap api_cleanup EXIT
trap 'exit 1' HUP INT TERM
chmod 755 "$T"
mkdir -p "$T/home" "$T/gh" "$T/syscerts" "$T/keys"
cp -a /etc/ssl/certs/. "$T/syscerts/" 2>/dev/null
[ -f "$T/syscerts/ca-certificates.crt" ] ||
    : > "$T/syscerts/ca-certificates.crt"
io_step "namespace: loopback up, /etc/hosts and resolv.conf" \
    "$T/setup.log" io_netns
io_step "test CA and server certificate" "$T/ca.log" io_ca
io_step "trust store with the test CA" "$T/trust.log" io_trust with

CUST=customer.example
ALICE=alice@$IO_D_ADV
ALIAS=alice.alias@$IO_D_ADV
BOB=bob@$IO_D_ADV
G=$(io_newhome gen)
W() {
	"$O/wkdctl" -s "$T/store" "$@"
}

# The user's keypair, made in the "webmail": UIDs for the account and
# for the alias it will get.
mkkey() {
	io_gpg "$G" --status-fd 1 --quick-gen-key "$ALICE" future-default \
	    default never > "$T/keys/alice.status" || return 1
	FPR=$(awk '$2 == "KEY_CREATED" { print $4 }' "$T/keys/alice.status")
	[ -n "$FPR" ] || return 1
	echo "$FPR" > "$T/keys/alice.fpr"
	io_gpg "$G" --quick-add-uid "$FPR" "$ALIAS" &&
	io_gpg "$G" --export-secret-keys "$FPR" > "$T/keys/alice.sec" &&
	[ -s "$T/keys/alice.sec" ] || return 1
	# Bob's: public only, with gpg's own revocation certificate.
	io_gpg "$G" --status-fd 1 --quick-gen-key "$BOB" future-default \
	    default never > "$T/keys/bob.status" || return 1
	_f=$(awk '$2 == "KEY_CREATED" { print $4 }' "$T/keys/bob.status")
	echo "$_f" > "$T/keys/bob.fpr"
	io_gpg "$G" --export "$_f" > "$T/keys/bob.pub" &&
	sed 's/^:-----/-----/' "$G/openpgp-revocs.d/$_f.rev" > "$T/keys/bob.rev"
}

# The operator's part: the store, the domains, the tokens.
store() {
	W init && W domain add --no-cert "$IO_D_ADV" &&
	W domain add --no-cert "$CUST" &&
	W token add platform > "$T/tok.platform" &&
	W token add --domain "$CUST" customer > "$T/tok.customer" &&
	W token add --read-only viewer > "$T/tok.viewer"
}

io_step "key (gpg)" "$T/key.log" mkkey
gpgconf --homedir "$G" --kill all 2>/dev/null
FPR=$(cat "$T/keys/alice.fpr")
BOBFPR=$(cat "$T/keys/bob.fpr")
io_step "store and tokens (wkdctl)" "$T/store.log" store
PLATFORM=$(cat "$T/tok.platform")
CUSTOMER=$(cat "$T/tok.customer")
VIEWER=$(cat "$T/tok.viewer")

SOCK=$T/api.sock
# serve's wkdd.conf: the service's name and certificate, as "dns" reads
# them; the TLS listener on a port the kernel picks.
cat > "$T/api.conf" <<EOF
store $T/store
service-name wkd.provider.test
tls-cert $T/srv.crt
tls-key $T/srv.key
EOF
WC() {
	"$O/wkdctl" -f "$T/api.conf" -s "$T/store" "$@"
}
serve() {
	"$O/wkdctl" -f "$T/api.conf" -s "$T/store" serve --socket "$SOCK" \
	    --max-body 2097152 --listen 127.0.0.1:0 \
	    --tls-cert "$T/srv.crt" --tls-key "$T/srv.key" \
	    --resolver 127.0.0.1@9 > "$T/serve.log" 2>&1 &
	API_PID=$!
	_i=0
	while [ ! -S "$SOCK" ] || ! grep -q '(TLS)$' "$T/serve.log"; do
		kill -0 "$API_PID" 2>/dev/null || return 1
		[ "$_i" -ge 100 ] && return 1
		_i=$((_i + 1))
		sleep 0.1
	done
	TLSPORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\) (TLS)$/\1/p' \
	    "$T/serve.log")
	[ -n "$TLSPORT" ] && [ "$TLSPORT" -gt 0 ]
}
io_step "wkdctl serve on a unix socket and TLS on 127.0.0.1" \
    "$T/serve.start" serve
io_step "wkdd listening on 127.0.0.1:443" "$T/start.log" io_server

check "the socket is mode 660" \
    [ "$(stat -c %a "$SOCK")" = 660 ]

# api TOKEN METHOD PATH [CURL-ARGS...]: one request; STATUS, body in
# $T/resp.
api() {
	_tok=$1 _m=$2 _p=$3
	shift 3
	STATUS=$(curl -sS --max-time 30 --unix-socket "$SOCK" -X "$_m" \
	    ${_tok:+-H "Authorization: Bearer $_tok"} -o "$T/resp" \
	    -w '%{http_code}' "$@" "http://localhost$_p" 2>"$T/curl.err") ||
	    STATUS=000
}

# json FILTER: a value of the last response (python3's json).
json() {
	python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v[int(k)] if isinstance(v, list) else v.get(k)
print(json.dumps(v) if not isinstance(v, str) else v)' "$T/resp" "$1"
}

# jsonpy EXPR: a python expression of the last response (as v).
jsonpy() {
	python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))
r = eval(sys.argv[2])
sys.stdout.write(r if isinstance(r, str) else json.dumps(r))' "$T/resp" "$1"
}

# expect STATUS NAME [CODE]: the last response's status (and error code).
expect() {
	if [ "$STATUS" = "$1" ] &&
	    { [ -z "${3:-}" ] || [ "$(json error.code)" = "$3" ]; }; then
		pass "$2"
	else
		fail "$2 (want $1${3:+ $3}, got $STATUS)"
		show "$T/resp" "$T/curl.err"
	fi
}

# The store as the CLI shows it, to prove a refused request changed
# nothing: published addresses, accounts, and the audit log.
snapshot() {
	{
		W list
		W account list --json
		W log
		W token list
	} > "$1" 2>&1
}

# --- authentication -----------------------------------------------------

api "" GET /v1/domains
expect 401 "no token: 401" unauthorized
api "wkd_0000" GET /v1/domains
expect 401 "a bad token: 401" unauthorized
check "401 says nothing more" \
    [ "$(json error.message)" = "authentication required" ]
api "${PLATFORM}x" GET /v1/domains
expect 401 "the platform token with one more character: 401"

# --- the platform publishes a user's key --------------------------------

api "$PLATFORM" GET /v1/domains
expect 200 "platform: GET /v1/domains"
check "platform sees both domains" \
    [ "$(json domains.0.name),$(json domains.1.name)" = \
    "$IO_D_ADV,$CUST" ]
api "$PLATFORM" POST /v1/accounts -H 'Content-Type: application/json' \
    -d "{\"primary\":\"$ALICE\"}"
expect 201 "platform: POST /v1/accounts creates $ALICE"
check "the account is in the store (wkdctl account show)" \
    sh -c "'$O/wkdctl' -s '$T/store' account show '$ALICE' >/dev/null"
api "$PLATFORM" POST "/v1/keys?account=$ALICE" \
    -H 'Content-Type: application/pgp-keys' \
    --data-binary "@$T/keys/alice.sec"
expect 200 "platform: POST /v1/keys, the user's secret-key export"
check "the report is import's: committed, the key published" \
    [ "$(json committed),$(json keys.0.fingerprint),$(json summary.published)" = \
    "true,$FPR,1" ]

# lookup TAG ADDR STATE: gpg --locate-external-keys finds FPR at ADDR
# with that one UID, valid or revoked.
lookup() {
	io_gpg_get "$1" "$2"
	_rc=$?
	if [ "$_rc" -eq 0 ] && io_colons_check "$T/$1.list" "$2" "$FPR" \
	    "$3"; then
		return 0
	fi
	echo "# gpg exit $_rc"
	show "$T/$1.err" "$T/$1.list"
	io_dirmngr_diag "$T/$1.dirmngr"
	return 1
}
sq_lookup() {
	io_sq_get "$1" "$2" && io_colons_check "$T/$1.list" "$2" "$FPR" \
	    "$3" && return 0
	show "$T/$1.err" "$T/$1.list"
	return 1
}
check "gpg finds the key at $ALICE by WKD" lookup alice "$ALICE" valid
check "sq finds the key at $ALICE by WKD" sq_lookup alice.sq "$ALICE" valid
js_lookup() {
	io_js_get "$1" "$2" && grep -q "^key $FPR $3\$" "$T/$1.sum" &&
	    [ "$(grep -c '^uid ' "$T/$1.sum")" -eq 1 ] &&
	    grep -q "^uid .*$2" "$T/$1.sum" && return 0
	show "$T/$1.err" "$T/$1.sum"
	return 1
}
check "OpenPGP.js finds the key at $ALICE by WKD" \
    js_lookup alice.js "$ALICE" valid

api "$PLATFORM" POST "/v1/accounts/$ALICE/aliases" \
    -d "{\"alias\":\"$ALIAS\"}"
expect 201 "platform: POST .../aliases adds $ALIAS"
check "the alias is published from the stored key at once" \
    [ "$(json published)" = "$FPR" ]
check "gpg finds the key at the alias" lookup alias "$ALIAS" valid

api "$PLATFORM" GET "/v1/keys/$FPR"
expect 200 "platform: GET /v1/keys/FPR"
check "it serves both addresses" \
    [ "$(json served)" = "[\"$ALIAS\", \"$ALICE\"]" ]
api "$PLATFORM" GET "/v1/accounts/$ALICE"
expect 200 "platform: GET /v1/accounts/ADDR"

# --- bulk: account sync's file, 20,000 accounts ------------------------

awk -v d="$IO_D_ADV" 'BEGIN {
	for (i = 0; i < 20000; i++)
		printf "user%05d@%s\tu%05d.alias@%s\n", i, d, i, d }' \
    > "$T/sync.txt"
api "$PLATFORM" POST "/v1/accounts/sync?dry_run=1" \
    -H 'Content-Type: text/tab-separated-values' --data-binary "@$T/sync.txt"
expect 200 "platform: a dry run of 20,000 accounts"
check "the dry run wrote nothing" \
    [ "$(json written),$(json summary.accounts_added)" = "false,20000" ]
api "$PLATFORM" POST /v1/accounts/sync \
    -H 'Content-Type: text/tab-separated-values' --data-binary "@$T/sync.txt"
expect 200 "platform: sync 20,000 accounts, each with an alias"
check "the report: 20,000 accounts and aliases added, written" \
    [ "$(json written),$(json summary.accounts_added),$(json summary.aliases_added)" = \
    "true,20000,20000" ]
W account list --json > "$T/accounts.json" 2>&1
check "wkdctl account list shows them all" \
    [ "$(python3 -c 'import json, sys
print(len(json.load(open(sys.argv[1]))))' "$T/accounts.json")" -eq 20001 ]
api "$PLATFORM" POST /v1/accounts/sync \
    -H 'Content-Type: text/tab-separated-values' --data-binary "@$T/sync.txt"
expect 200 "the same sync again: nothing to do"
check "all 20,000 unchanged" \
    [ "$(json written),$(json summary.unchanged)" = "false,20000" ]

# --- the customer: only its own domain ----------------------------------

snapshot "$T/before"
api "$CUSTOMER" GET /v1/domains
expect 200 "customer: GET /v1/domains"
check "customer sees only $CUST" \
    [ "$(json domains)" = "[{\"name\": \"$CUST\", \"keep_revoked\": false}]" ]
api "$CUSTOMER" GET "/v1/domains/$IO_D_ADV"
expect 404 "customer: GET /v1/domains/$IO_D_ADV is 404" not_found
api "$CUSTOMER" GET "/v1/domains/nowhere.test"
expect 404 "customer: a domain that doesn't exist is the same 404" not_found
api "$CUSTOMER" GET "/v1/accounts/$ALICE"
expect 404 "customer: GET another tenant's account: 404" not_found
api "$CUSTOMER" GET "/v1/keys/$FPR"
expect 404 "customer: GET another tenant's key: 404" not_found
api "$CUSTOMER" POST /v1/accounts -d "{\"primary\":\"bob@$IO_D_ADV\"}"
expect 404 "customer: create an account in $IO_D_ADV: 404" not_found
api "$CUSTOMER" POST /v1/accounts \
    -d "{\"primary\":\"bob@$CUST\",\"aliases\":[\"bob@$IO_D_ADV\"]}"
expect 404 "customer: an alias in $IO_D_ADV for its own account: 404"
api "$CUSTOMER" POST "/v1/accounts/$ALICE/aliases" \
    -d "{\"alias\":\"x@$IO_D_ADV\"}"
expect 404 "customer: add an alias to another tenant's account: 404"
api "$CUSTOMER" DELETE "/v1/accounts/$ALICE/aliases/$ALIAS"
expect 404 "customer: retire another tenant's alias: 404"
api "$CUSTOMER" POST "/v1/keys/$FPR/revoke"
expect 404 "customer: revoke another tenant's key: 404"
api "$CUSTOMER" DELETE "/v1/keys/$FPR"
expect 404 "customer: remove another tenant's key: 404"
api "$CUSTOMER" DELETE "/v1/accounts/$ALICE"
expect 404 "customer: remove another tenant's account: 404"
api "$CUSTOMER" POST "/v1/addresses/$ALIAS/unpublish"
expect 404 "customer: unpublish another tenant's address: 404"
api "$CUSTOMER" POST "/v1/keys?account=$ALICE" \
    --data-binary "@$T/keys/alice.sec"
expect 404 "customer: upload a key for another tenant's account: 404"
api "$CUSTOMER" POST /v1/keys --data-binary "@$T/keys/alice.sec"
expect 404 "customer: upload another tenant's stored key: 404" not_found
printf 'eve@%s\tx@%s\n' "$CUST" "$IO_D_ADV" > "$T/xsync.txt"
api "$CUSTOMER" POST /v1/accounts/sync --data-binary "@$T/xsync.txt"
expect 404 "customer: a sync naming an $IO_D_ADV address: 404, nothing done"
api "$CUSTOMER" GET "/v1/accounts/user00001@$IO_D_ADV"
expect 404 "customer: a synced account of $IO_D_ADV: 404"
snapshot "$T/after"
check "the store is unchanged by all of these" cmp "$T/before" "$T/after"

api "$CUSTOMER" POST /v1/accounts -d "{\"primary\":\"carol@$CUST\"}"
expect 201 "customer: creates carol@$CUST in its own domain"
api "$CUSTOMER" GET "/v1/accounts/carol@$CUST"
expect 200 "customer: reads its own account"

# --- read-only, limits, bad input ---------------------------------------

snapshot "$T/before"
api "$VIEWER" GET "/v1/accounts/$ALICE"
expect 200 "read-only token: reads"
api "$VIEWER" POST /v1/accounts -d "{\"primary\":\"dave@$IO_D_ADV\"}"
expect 403 "read-only token: no change (403)" read_only
head -c 2100000 /dev/zero > "$T/big"
api "$PLATFORM" POST "/v1/keys?account=$ALICE" --data-binary "@$T/big"
expect 413 "a body over --max-body: 413" too_large
printf 'not a key at all\n' > "$T/bad.key"
api "$PLATFORM" POST "/v1/keys?account=$ALICE" --data-binary "@$T/bad.key"
expect 422 "an invalid key: 422" bad_key
head -c 300 "$T/keys/alice.sec" > "$T/cut.key"
api "$PLATFORM" POST "/v1/keys?account=$ALICE" --data-binary "@$T/cut.key"
check "a truncated key: refused (4xx)" [ "${STATUS%??}" = 4 ]
api "$PLATFORM" POST /v1/accounts -d '{"primary":'
expect 400 "malformed JSON: 400" bad_request
api "$PLATFORM" POST /v1/accounts -d '{"primary":"x@adv.test","extra":1}'
expect 400 "an unknown member: 400" bad_request
api "$PLATFORM" POST /v1/accounts -d "{\"primary\":\"$ALICE\"}"
expect 409 "an account that exists: 409" rejected
api "$PLATFORM" GET /v1/nothing
expect 404 "an unknown route: 404" not_found
api "$PLATFORM" DELETE /v1/domains
expect 405 "a known route, another method: 405" method_not_allowed
snapshot "$T/after"
check "the store is unchanged by all of these" cmp "$T/before" "$T/after"

# --- unpublish, publish; revoke by an uploaded certificate; remove -------

api "$PLATFORM" POST "/v1/addresses/$ALIAS/unpublish"
expect 200 "platform: unpublish the alias"
check "wkdctl list: the alias is not served" \
    sh -c "! '$O/wkdctl' -s '$T/store' list | grep -q '^$ALIAS	'"
api "$PLATFORM" POST "/v1/addresses/$ALIAS/publish"
expect 200 "platform: publish it again"
check "it serves the key again" \
    [ "$(json published),$(json fpr)" = "true,$FPR" ]

api "$PLATFORM" POST /v1/accounts -d "{\"primary\":\"$BOB\"}"
expect 201 "platform: creates $BOB"
api "$PLATFORM" POST /v1/keys -H 'Content-Type: application/pgp-keys' \
    --data-binary "@$T/keys/bob.pub"
expect 200 "platform: uploads bob's public key"
FPR_SAVE=$FPR
FPR=$BOBFPR
check "gpg finds bob's key" lookup bob "$BOB" valid
printf 'garbage\n' > "$T/bad.rev"
api "$PLATFORM" POST "/v1/keys/$BOBFPR/revoke" \
    -H 'Content-Type: application/pgp-signature' --data-binary "@$T/bad.rev"
check "a revocation certificate that isn't one: refused (4xx)" \
    [ "${STATUS%??}" = 4 ]
api "$PLATFORM" POST "/v1/keys/$BOBFPR/revoke" \
    -H 'Content-Type: application/pgp-signature' \
    --data-binary "@$T/keys/bob.rev"
expect 200 "platform: revoke bob's key with gpg's revocation certificate"
check "gpg finds bob's key revoked" lookup bob.rev "$BOB" revoked
api "$PLATFORM" DELETE "/v1/keys/$BOBFPR"
expect 200 "platform: remove bob's key"
check "it unpublished bob" [ "$(json unpublished)" = "[\"$BOB\"]" ]
api "$PLATFORM" GET "/v1/keys/$BOBFPR"
expect 404 "the removed key: 404"
api "$PLATFORM" DELETE "/v1/accounts/$BOB"
expect 200 "platform: remove bob's account"
api "$PLATFORM" POST /v1/accounts -d "{\"primary\":\"$BOB\"}"
expect 409 "a removed account's address can't be bound again" rejected
FPR=$FPR_SAVE

# --- keys: list, show, export; republish -------------------------------

api "$PLATFORM" GET "/v1/keys?account=$ALICE"
expect 200 "platform: GET /v1/keys?account=ADDR"
check "it lists alice's key at both addresses" \
    [ "$(jsonpy '[k["fpr"] + ":" + ",".join(sorted(a["address"] for a in k["addresses"])) for k in v["keys"]]')" = \
    "[\"$FPR:$ALIAS,$ALICE\"]" ]
W list --json "$IO_D_ADV" > "$T/list.json" 2>&1
api "$PLATFORM" GET "/v1/keys?domain=$IO_D_ADV"
expect 200 "platform: GET /v1/keys?domain=D"
check "the same addresses and states as wkdctl list --json D" \
    [ "$(jsonpy 'sorted((a["address"], k["fpr"], k["state"]) for k in v["keys"] for a in k["addresses"])')" = \
    "$(python3 -c 'import json, sys
sys.stdout.write(json.dumps(sorted((e["address"], e["fpr"], e["state"]) for e in json.load(open(sys.argv[1])))))' "$T/list.json")" ]
api "$CUSTOMER" GET /v1/keys
expect 200 "customer: GET /v1/keys"
check "customer's list names no $IO_D_ADV address" \
    sh -c "! grep -q '@$IO_D_ADV' '$T/resp'"
api "$CUSTOMER" GET "/v1/keys?domain=$IO_D_ADV"
expect 404 "customer: GET /v1/keys?domain=$IO_D_ADV: 404" not_found
api "$CUSTOMER" GET "/v1/keys?account=$ALICE"
expect 404 "customer: GET /v1/keys?account=(another tenant's): 404"

api "$PLATFORM" GET "/v1/keys/$FPR"
expect 200 "platform: GET /v1/keys/FPR"
check "show: valid, created, the UIDs, a revocation certificate stored" \
    [ "$(jsonpy '",".join([v["state"], str(bool(v["created"])), str(v["revocation_certificate"]["stored"])] + sorted(u["uid"] for u in v["uids"]))')" = \
    "valid,True,True,$ALIAS,$ALICE" ]

api "$PLATFORM" GET "/v1/keys/$FPR/export"
expect 200 "platform: GET /v1/keys/FPR/export (binary)"
cp "$T/resp" "$T/api.key"
check "the same bytes as wkdctl export --key" \
    sh -c "'$O/wkdctl' -s '$T/store' export --key '$FPR' -o '$T/cli.key' &&
    cmp '$T/api.key' '$T/cli.key'"
api "$PLATFORM" GET "/v1/keys/$FPR/export?armor=1"
expect 200 "platform: GET /v1/keys/FPR/export?armor=1"
cp "$T/resp" "$T/api.asc"
check "armored: the same as wkdctl export --armor --key" \
    sh -c "'$O/wkdctl' -s '$T/store' export --armor --key '$FPR' \
    -o '$T/cli.asc' && cmp '$T/api.asc' '$T/cli.asc' &&
    head -n 1 '$T/api.asc' | grep -q '^-----BEGIN PGP PUBLIC KEY BLOCK-----'"
GI=$(io_newhome imp)
check "gpg imports the armored export: alice's key, no secret" \
    sh -c "gpg --batch --homedir '$GI' --import '$T/api.asc' 2>/dev/null &&
    gpg --batch --homedir '$GI' --with-colons --list-keys '$FPR' |
    grep -q '^fpr:::::::::$FPR:' &&
    ! gpg --batch --homedir '$GI' --list-secret-keys '$FPR' 2>/dev/null"
gpgconf --homedir "$GI" --kill all 2>/dev/null
api "$PLATFORM" GET "/v1/addresses/$ALICE/export"
expect 200 "platform: GET /v1/addresses/ADDR/export"
cp "$T/resp" "$T/api.served"
check "the bytes served, as wkdctl export ADDR" \
    sh -c "'$O/wkdctl' -s '$T/store' export '$ALICE' -o '$T/cli.served' &&
    cmp '$T/api.served' '$T/cli.served'"
api "$PLATFORM" GET "/v1/keys/$FPR/export?armor=maybe"
expect 400 "export?armor=maybe: 400" bad_request
api "$CUSTOMER" GET "/v1/keys/$FPR/export"
expect 404 "customer: export another tenant's key: 404"
api "$CUSTOMER" GET "/v1/addresses/$ALICE/export"
expect 404 "customer: export another tenant's address: 404"

# POST /v1/domains/D/check (DNS checks in t_check_domain): here no
# resolver answers (serve --resolver 127.0.0.1@9): said so, not stored.
api "$VIEWER" POST "/v1/domains/$CUST/check"
expect 403 "read-only token: POST check refused (403)" read_only
api "$CUSTOMER" POST "/v1/domains/$IO_D_ADV/check"
expect 404 "customer: POST check of another tenant's domain: 404"
api "$PLATFORM" GET "/v1/domains/$CUST/check"
expect 405 "GET /v1/domains/D/check: 405" method_not_allowed
api "$CUSTOMER" POST "/v1/domains/$CUST/check"
expect 200 "customer: POST check of its domain: the document"
check "the check says no resolver works, and names it" \
    [ "$(json version),$(json domain),$(json results.1.status)" = \
    "2,$CUST,fail" ] &&
    json results.1.detail | grep -q '^no working resolver at 127.0.0.1@9'
api "$CUSTOMER" GET "/v1/domains/$CUST"
check "a check without a resolver is not stored (last_check null)" \
    [ "$STATUS,$(json last_check)" = "200,null" ]

api "$PLATFORM" POST "/v1/addresses/$ALIAS/unpublish"
expect 200 "platform: unpublish the alias again"
snapshot "$T/before"
api "$CUSTOMER" POST "/v1/addresses/$ALIAS/republish"
expect 404 "customer: republish another tenant's address: 404"
api "$CUSTOMER" POST "/v1/domains/$IO_D_ADV/republish"
expect 404 "customer: republish another tenant's domain: 404"
api "$CUSTOMER" POST "/v1/accounts/$ALICE/republish"
expect 404 "customer: republish another tenant's account: 404"
api "$VIEWER" POST "/v1/addresses/$ALIAS/republish"
expect 403 "read-only token: republish refused (403)" read_only
snapshot "$T/after"
check "the store is unchanged by these" cmp "$T/before" "$T/after"
api "$PLATFORM" POST "/v1/addresses/$ALIAS/republish"
expect 200 "platform: POST /v1/addresses/ALIAS/republish"
check "the report: published, alice's key" \
    [ "$(json republished.0.result),$(json republished.0.fpr)" = \
    "published,$FPR" ]
check "wkdctl list: the alias is served again" \
    sh -c "'$O/wkdctl' -s '$T/store' list | grep -q '^$ALIAS	$FPR	'"
api "$PLATFORM" POST "/v1/accounts/$ALICE/republish"
expect 200 "platform: POST /v1/accounts/ADDR/republish"
check "both addresses unchanged" \
    [ "$(jsonpy '",".join(sorted(e["address"] + "=" + e["result"] for e in v["republished"]))')" = \
    "$ALIAS=unchanged,$ALICE=unchanged" ]
check "wkdctl republish says the same" \
    [ "$(W republish --account "$ALICE" | sort | tr '\n' ';')" = \
    "$ALIAS: unchanged (key $FPR);$ALICE: unchanged (key $FPR);" ]

# --- domains: status, the DNS records to publish -------------------------

api "$PLATFORM" GET "/v1/domains/$IO_D_ADV"
expect 200 "platform: GET /v1/domains/D"
check "status: published as wkdctl list says, the certificate" \
    [ "$(json published),$(json certificate.names_host),$(json certificate.expired),$(json last_check)" = \
    "$(W list "$IO_D_ADV" | wc -l),true,false,null" ]
api "$PLATFORM" GET "/v1/domains/$IO_D_ADV/dns"
expect 200 "platform: GET /v1/domains/D/dns"
jsonpy 'v["zone"]' > "$T/api.zone"
WC dns "$IO_D_ADV" > "$T/cli.zone" 2>"$T/cli.zone.err"
check "the zone is wkdctl dns D's, byte for byte" \
    cmp "$T/api.zone" "$T/cli.zone"
check "its records: the CNAME to the service, the TLSA of srv.crt" \
    [ "$(jsonpy '",".join(r["type"] + " " + r["data"] for r in v["records"] if r["type"] in ("CNAME", "TLSA"))')" = \
    "CNAME wkd.provider.test.,TLSA $(awk '$4 == "TLSA" { print $5, $6, $7, $8 }' "$T/cli.zone")" ]
api "$CUSTOMER" GET "/v1/domains/$IO_D_ADV/dns"
expect 404 "customer: another tenant's DNS records: 404" not_found
api "$CUSTOMER" GET "/v1/domains/$CUST/dns"
expect 200 "customer: its own domain's DNS records"

# --- TLS: the same API on 127.0.0.1, curl verifying the certificate ------

tapi() {
	_tok=$1 _p=$2
	shift 2
	STATUS=$(curl -sS --max-time 30 --cacert "$T/ca.crt" \
	    --resolve "openpgpkey.$IO_D_ADV:$TLSPORT:127.0.0.1" \
	    ${_tok:+-H "Authorization: Bearer $_tok"} -o "$T/resp" \
	    -w '%{http_code}' "$@" "https://openpgpkey.$IO_D_ADV:$TLSPORT$_p" \
	    2>"$T/curl.err") || STATUS=000
}
tapi "$PLATFORM" /v1/domains
expect 200 "TLS: GET /v1/domains, the certificate verified by curl"
check "TLS: the same answer as on the socket" \
    [ "$(json domains.0.name),$(json domains.1.name)" = "$IO_D_ADV,$CUST" ]
tapi "" /v1/domains
expect 401 "TLS: no token: 401" unauthorized
tapi "$CUSTOMER" "/v1/keys/$FPR"
expect 404 "TLS: customer, another tenant's key: 404" not_found
tapi "$PLATFORM" "/v1/keys/$FPR/export?armor=1"
check "TLS: the armored export, as on the socket" cmp "$T/resp" "$T/api.asc"
STATUS=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' \
    --cacert "$T/ca.crt" --resolve "elsewhere.test:$TLSPORT:127.0.0.1" \
    -H "Authorization: Bearer $PLATFORM" \
    "https://elsewhere.test:$TLSPORT/v1/domains" 2>/dev/null) ||
    STATUS=000
check "TLS: curl refuses the certificate for a name it doesn't name" \
    [ "$STATUS" = 000 ]
STATUS=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' \
    -H "Authorization: Bearer $PLATFORM" \
    "http://127.0.0.1:$TLSPORT/v1/domains" 2>/dev/null) || STATUS=000
check "TLS: plain HTTP on the TLS port gets no answer" \
    [ "$STATUS" = 000 ]
check "TLS: TLS 1.1 is refused (gnutls-cli)" \
    sh -c "! gnutls-cli --priority 'NORMAL:-VERS-ALL:+VERS-TLS1.1' \
    --x509cafile '$T/ca.crt' -p '$TLSPORT' 127.0.0.1 </dev/null \
    >/dev/null 2>&1"

# --- revoke -------------------------------------------------------------

api "$PLATFORM" POST "/v1/keys/$FPR/revoke" -d '{"reason":"compromised"}'
expect 200 "platform: revoke with the stored certificate"
check "gpg finds the key revoked at $ALICE" lookup alice.rev "$ALICE" revoked
check "sq finds it revoked" sq_lookup alice.sqrev "$ALICE" revoked
check "OpenPGP.js finds it revoked" js_lookup alice.jsrev "$ALICE" revoked

W log > "$T/log" 2>&1
check "the audit log names the platform token" \
    grep -q "token:platform" "$T/log"
check "the audit log names the customer token" \
    grep -q "token:customer" "$T/log"
W log -v > "$T/logv" 2>&1
check "the audit log has the request as the command" \
    grep -q "api POST /v1/keys" "$T/logv"

# --- GET /v1/log: filtered, paged, scoped --------------------------------

W log --json > "$T/log.json" 2>&1
# count FILTER: entries of wkdctl log --json where FILTER (python, e).
count() {
	python3 -c 'import json, sys
print(sum(1 for e in json.load(open(sys.argv[1])) if eval(sys.argv[2])))' \
	    "$T/log.json" "$1"
}
api "$PLATFORM" GET "/v1/log?token=platform&limit=7"
expect 200 "platform: GET /v1/log?token=platform&limit=7"
check "a page of 7, all the platform's, and a cursor" \
    [ "$(jsonpy 'str(len(v["entries"])) + "," + str(all(e["user"] == "token:platform" for e in v["entries"])) + "," + str(v["next"] == v["entries"][-1]["seq"])')" = \
    "7,True,True" ]
# pages TOKEN QUERY: how many entries all pages hold, following "next".
pages() {
	_tok=$1 _q=$2 _after=0 _n=0 _pages=0
	while :; do
		api "$_tok" GET "/v1/log?$_q&limit=1000&after=$_after"
		[ "$STATUS" = 200 ] || return 1
		_n=$((_n + $(jsonpy 'len(v["entries"])')))
		_pages=$((_pages + 1))
		_after=$(json next)
		[ "$_after" = null ] && break
		[ "$_pages" -gt 1000 ] && return 1
	done
	echo "$_n"
}
check "all pages of token=platform: as many as wkdctl log has" \
    [ "$(pages "$PLATFORM" token=platform)" = \
    "$(count 'e["user"] == "token:platform"')" ]
check "action=revoked&domain=D: as wkdctl log has them" \
    [ "$(pages "$PLATFORM" "action=revoked&domain=$IO_D_ADV")" = \
    "$(count '"revoked" in e["detail"] and (e["subject"] == "'"$IO_D_ADV"'" or e["subject"].endswith("@'"$IO_D_ADV"'"))')" ]
api "$PLATFORM" GET "/v1/log?subject=$ALICE&since=2000-01-01&limit=1000"
expect 200 "platform: GET /v1/log?subject=ADDR&since=..."
check "subject=ADDR: entries about it, as wkdctl log ADDR" \
    [ "$(jsonpy 'len(v["entries"])')" = \
    "$(W log --json "$ALICE" | python3 -c 'import json, sys
print(len(json.load(sys.stdin)))')" ]
api "$PLATFORM" GET "/v1/log?until=@1"
check "until=@1: nothing that old" [ "$(json entries)" = "[]" ]
api "$PLATFORM" GET "/v1/log?after=18446744073709551615"
check "after the last possible cursor: nothing" [ "$(json entries)" = "[]" ]
api "$CUSTOMER" GET "/v1/log?limit=1000"
expect 200 "customer: GET /v1/log"
check "customer sees its own entries and none of $IO_D_ADV's" \
    [ "$(jsonpy 'str(len(v["entries"]) > 0) + "," + str(any("'"$IO_D_ADV"'" in json.dumps(e) for e in v["entries"]))')" = \
    "True,False" ]
api "$CUSTOMER" GET "/v1/log?domain=$IO_D_ADV"
expect 404 "customer: GET /v1/log?domain=$IO_D_ADV: 404" not_found
api "$CUSTOMER" GET "/v1/log?subject=$ALICE"
expect 404 "customer: GET /v1/log?subject=(another tenant's): 404"
for _q in limit=0 limit=1001 after=-1 since=yesterday subject=nobody%40 \
    nosuch=1; do
	api "$PLATFORM" GET "/v1/log?$_q"
	expect 400 "GET /v1/log?$_q: 400" bad_request
done

# --- tokens: revoked at once; backup and restore keep them ---------------

quiet() {
	"$@" > "$T/cmd.out" 2>&1 && return 0
	show "$T/cmd.out"
	return 1
}
check "wkdctl backup with tokens" quiet W backup "$T/backup.mdb"
W token revoke viewer > "$T/revoke.out" 2>&1
api "$VIEWER" GET /v1/domains
expect 401 "a revoked token: 401 at once"
check "wkdctl restore of that backup" quiet W restore "$T/backup.mdb"
api "$VIEWER" GET /v1/domains
expect 200 "restored: the token is back"

# --- a per-token request rate ------------------------------------------

"$O/wkdctl" -s "$T/store" serve --socket "$T/rate.sock" --rate 1 \
    > "$T/rate.log" 2>&1 &
RATE_PID=$!
_i=0
while [ ! -S "$T/rate.sock" ] && [ $_i -lt 100 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
: > "$T/rate.codes"
for _n in 1 2 3 4 5; do
	curl -sS --unix-socket "$T/rate.sock" -o "$T/resp" -w '%{http_code}\n' \
	    -H "Authorization: Bearer $PLATFORM" http://localhost/v1/domains \
	    >> "$T/rate.codes" 2>>"$T/curl.err"
done
check "--rate 1: five requests at once, some refused with 429" \
    grep -q '^429$' "$T/rate.codes"
check "the first one served" [ "$(head -n 1 "$T/rate.codes")" = 200 ]
check "429's code is rate_limited" [ "$(json error.code)" = rate_limited ]
kill -TERM "$RATE_PID"
wait "$RATE_PID"

kill -TERM "$API_PID"
wait "$API_PID"
check "wkdctl serve exits 0 on SIGTERM" [ $? -eq 0 ]
API_PID=
check "the socket is removed" [ ! -e "$SOCK" ]
check "serve's log has no local part of any address" \
    sh -c "! grep -qiE 'alice|carol|bob|dave' '$T/serve.log'"
check "no sanitizer report from serve" \
    sh -c "! grep -qE 'runtime error|Sanitizer' '$T/serve.log'"
io_done
