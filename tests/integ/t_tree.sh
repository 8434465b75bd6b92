#!/bin/sh
# wkdctl import-tree and export-tree: a WKD tree made by gpg-wks-client
# --install-key is imported (accounts created, a renamed file reported as a
# mismatch, the direct layout with --domain); wkdd then serves what
# "wkdctl export" says.  export-tree writes both layouts, atomically
# replaced; a real nginx ("root DIR/$host;") serves the tree, and for
# every published hash, on both layouts, nginx's answer equals wkdd's, byte
# for byte; gpg --locate-external-keys finds the keys through nginx.
#
# As root the test re-runs itself in new network and mount namespaces (as
# tests/interop/lib.sh does): nginx listens on the namespace's own
# 127.0.0.1:443, /etc/hosts names the test domains, and /etc/ssl/certs is
# a private copy that trusts the test CA, for dirmngr.  nginx runs in the
# foreground as our child, with its own config, pid and logs, and is
# killed by its PID.  Without root the nginx and gpg parts are skipped
# (a failure under CI=true, see tests/run).
if [ "${TREE_INNER:-}" != 1 ] && [ "$(id -u)" -eq 0 ] &&
    command -v unshare >/dev/null 2>&1 &&
    unshare --net --mount true 2>/dev/null; then
	TREE_INNER=1 exec unshare --net --mount --propagation private \
	    sh "$0" "$@"
fi
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"
need curl certtool gpg
need_wkdctl
if [ "${TREE_INNER:-}" = 1 ] && ! ip link set lo up; then
	fail "network namespace: loopback up"
	finish
fi
# shellcheck disable=SC2034 # keys.sh's wks_install uses $tmp.
tmp=$T
. "$TOP/tests/integ/keys.sh"
if [ ! -x "$WKS_CLIENT" ]; then
	skip "gpg-wks-client not installed"
	finish
fi

NGX_PID=
tree_cleanup() {
	if [ -n "$NGX_PID" ]; then
		kill -KILL "$NGX_PID" 2>/dev/null
		wait "$NGX_PID" 2>/dev/null
	fi
	lib_cleanup
}
trap tree_cleanup EXIT

# tree_finish: wkdctl's messages free of sanitizer reports, then finish.
tree_finish() {
	if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' \
	    "$T/out.err" 2>/dev/null; then
		fail "wkdctl: no sanitizer report"
		sed 's/^/#   /' "$T/out.err" | head -40
	else
		pass "wkdctl: no sanitizer report"
	fi
	finish
}


# w ARGS...: wkdctl on the store; stdout in $T/out, stderr in $T/err,
# exit status in $RC.
w() {
	ctl "$@" > "$T/out" 2> "$T/err"
	RC=$?
	cat "$T/err" >> "$T/out.err"
}

# hashes ADDR: the hashes an address may be served under ("hash" and
# "unicode-hash" of wkdctl hash).
hashes() {
	ctl hash "$1" | awk '$1 == "hash" || $1 == "unicode-hash" { print $2 }'
}

fpr_of() {
	gpg --batch --with-colons --show-keys "$1" 2>/dev/null |
	    awk -F: '$1 == "fpr" { print $10; exit }'
}

make_certs example.org openpgpkey.example.org example.net \
    openpgpkey.example.net
make_store example.org example.net

# --- Keys, and the tree gpg-wks-client makes of them.
A=$(gen_key alice@example.org)
B=$(gen_key Bob.Smith@example.org)
U=$(gen_key 'Äbc@example.net')
E=$(gen_key erin@example.net)
C=$(gen_key carol@example.org) &&
gpg -q --batch --passphrase '' --quick-add-uid "$C" 'Carol <carol@other.example>' \
    2>/dev/null &&
gpg -q --batch --export "$C" > "$T/carol@example.org.pgp"
check "gpg made five keys" test -n "$A" -a -n "$B" -a -n "$U" -a -n "$E" \
    -a -n "$C"
W=$T/wks
mkdir -p "$W/openpgpkey"
for a in alice@example.org Bob.Smith@example.org 'Äbc@example.net' \
    erin@example.net carol@example.org; do
	f=$(wks_install "$T/$a.pgp" "$a" "$W/openpgpkey")
	check "gpg-wks-client --install-key $a" test -s "$f"
done
is "$(find "$W" -type f -path '*/hu/*' | wc -l | tr -d ' ')" 5 \
    "the gpg-wks-client tree holds five keys"

# --- Without accounts nothing is imported; --dry-run changes nothing.
sum0=$(sha256sum "$STORE/data.mdb")
w import-tree "$W"
is "$RC" 1 "import-tree without accounts: exit 1"
like "$T/out" 'alice@example\.org is not an address of any account' \
    "the missing account is reported"
like "$T/out" '^import-tree: 5 files: 0 imported, 0 mismatched, 5 failed' \
    "summary: five failed"
w import-tree --create-accounts --dry-run "$W"
is "$RC" 0 "import-tree --create-accounts --dry-run: exit 0"
like "$T/out" 'dry run: nothing changed' "dry run says so"
is "$(sha256sum "$STORE/data.mdb")" "$sum0" "the store is unchanged"
w account list
is "$(wc -l < "$T/out" | tr -d ' ')" 0 "no account after the dry run"

# --- The real import.
w import-tree --create-accounts "$W"
is "$RC" 0 "import-tree --create-accounts: exit 0"
h=$(hash_of alice@example.org)
like "$T/out" "^openpgpkey/example\\.org/hu/$h: key $A: imported, published at alice@example\\.org \\(account created\\)\$" \
    "alice: file, fingerprint, published, account created"
like "$T/out" "key $B: imported, published at bob\\.smith@example\\.org \\(account created\\)" \
    "Bob.Smith: imported under the lowered address"
like "$T/out" "key $U: imported, published at Äbc@example\\.net \\(account created\\)" \
    "Äbc: imported"
like "$T/out" '^import-tree: 5 files: 5 imported, 0 mismatched, 0 failed; 5 accounts created$' \
    "summary: five imported, five accounts"
w account list
is "$(cut -f1 "$T/out" | sort | tr '\n' ' ')" \
    "alice@example.org bob.smith@example.org carol@example.org erin@example.net Äbc@example.net " \
    "the five accounts exist"
w list
is "$(awk '{ print $1 ":" $2 }' "$T/out" | sort | tr '\n' ' ')" \
    "$(printf '%s\n' "alice@example.org:$A" "bob.smith@example.org:$B" \
    "carol@example.org:$C" "erin@example.net:$E" "Äbc@example.net:$U" |
    sort | tr '\n' ' ')" "each address publishes its key"
w import-tree --create-accounts "$W"
is "$RC" 0 "importing the tree again: exit 0"
like "$T/out" "key $A: merged with the stored key, published at alice@example\\.org\$" \
    "...merges the key"
like "$T/out" '5 imported, 0 mismatched, 0 failed; 0 accounts created$' \
    "...and makes no account"

# --- A renamed file, a name that is no hash, a domain not hosted.
M=$T/bad
mkdir -p "$M/openpgpkey/example.org/hu" "$M/openpgpkey/foreign.example/hu"
mh=$(hash_of mallory@example.org)
cp "$T/alice@example.org.pgp" "$M/openpgpkey/example.org/hu/$mh"
cp "$T/alice@example.org.pgp" "$M/openpgpkey/example.org/hu/README"
cp "$T/alice@example.org.pgp" "$M/openpgpkey/foreign.example/hu/$h"
w import-tree --create-accounts "$M"
is "$RC" 1 "import-tree of a bad tree: exit 1"
like "$T/out" "^openpgpkey/example\\.org/hu/$mh: key $A: mismatch: no UID of example\\.org has this hash \\(alice@example\\.org has $h\\)\$" \
    "a renamed file: a mismatch, naming the key and its real hash"
like "$T/out" '^openpgpkey/example\.org/hu/README: mismatch: the name is not a WKD hash$' \
    "a name that is no hash: a mismatch"
like "$T/out" "^openpgpkey/foreign\\.example/hu/$h: not imported: domain foreign\\.example is not hosted" \
    "a domain not hosted: reported"
like "$T/out" '^import-tree: 3 files: 0 imported, 2 mismatched, 1 failed; 0 accounts created$' \
    "summary: two mismatched, one failed"
w account show mallory@example.org
is "$RC" 1 "no account for the renamed file's hash"

# --- The direct layout needs --domain.
D=$(gen_key dave@example.org)
mkdir -p "$T/direct/.well-known/openpgpkey/hu"
cp "$T/dave@example.org.pgp" \
    "$T/direct/.well-known/openpgpkey/hu/$(hash_of dave@example.org)"
w import-tree --create-accounts "$T/direct"
is "$RC" 1 "direct layout without --domain: exit 1"
like "$T/err" 'name its domain with --domain' "...and says why"
w import-tree --create-accounts --domain example.net "$T/direct"
is "$RC" 1 "direct layout under the wrong --domain: exit 1"
like "$T/out" "key $D: mismatch: no UID in example\\.net\$" \
    "...a mismatch"
w import-tree --create-accounts --domain EXAMPLE.org "$T/direct"
is "$RC" 0 "direct layout with --domain example.org: exit 0"
like "$T/out" "^\\.well-known/openpgpkey/hu/[a-z0-9]{32}: key $D: imported, published at dave@example\\.org \\(account created\\)\$" \
    "dave imported from the direct layout"

# --- wkdd serves what wkdctl export says, for the key gpg-wks-client put.
write_conf
start_wkdd || finish
for a in alice@example.org bob.smith@example.org carol@example.org \
    erin@example.net 'Äbc@example.net' dave@example.org; do
	d=${a#*@}
	ctl export "$a" -o "$T/export"
	fetch "openpgpkey.$d" "/.well-known/openpgpkey/$d/hu/$(hash_of "$a")"
	if [ "$STATUS" = 200 ] && cmp -s "$T/body" "$T/export"; then
		pass "$a: wkdd serves the bytes of wkdctl export"
	else
		fail "$a: wkdd serves the bytes of wkdctl export ($STATUS)"
	fi
done
hc=$(hash_of carol@example.org)
fetch openpgpkey.example.org "/.well-known/openpgpkey/example.org/hu/$hc"
f=$W/openpgpkey/example.org/hu/$hc
is "$(fpr_of "$T/body")" "$(fpr_of "$f")" \
    "carol: the key gpg-wks-client published (one UID of two served)"
is "$(gpg --batch --with-colons --show-keys "$T/body" 2>/dev/null |
    grep -c '^uid:')" 1 "carol: wkdd serves one UID"

# --- export-tree: both layouts, exactly what wkdd serves, atomically.
w export-tree "$T/www"
is "$RC" 0 "export-tree: exit 0"
like "$T/out" '^example\.net: 3 keys' \
    "example.net: erin, Äbc and Äbc's Unicode hash"
like "$T/out" '^example\.org: 4 keys \([0-9]+ bytes\), policy \(0 bytes\)$' \
    "example.org: four keys, empty policy"
like "$T/out" "^export-tree: $T/www -> \\.www\\.[A-Za-z0-9]{6}: 2 domains, 7 keys" \
    "summary: two domains, seven keys"
check "the tree is a symbolic link" test -L "$T/www"
old=$(readlink "$T/www")
w export-tree "$T/www" example.org
is "$RC" 0 "export-tree again, one domain: exit 0"
new=$(readlink "$T/www")
check "the link names the new tree" test "$new" != "$old" -a -d "$T/$new"
check "the old tree is gone" test ! -e "$T/$old"
check "only the named domain" test ! -e "$T/www/example.net" -a \
    -d "$T/www/openpgpkey.example.org"
w export-tree "$T/www" nowhere.example
is "$RC" 1 "export-tree of a domain not hosted: exit 1"
is "$(readlink "$T/www")" "$new" "...and the tree is unchanged"
is "$(find "$T" -maxdepth 1 -name '.www.*' | wc -l | tr -d ' ')" 1 \
    "...with no temporary tree left"
mkdir "$T/plain"
w export-tree "$T/plain"
is "$RC" 1 "export-tree onto a directory that is no link: refused"
w export-tree "$T/www"
is "$RC" 0 "export-tree of every domain"

# Every hash of every published address, and the policy, both layouts:
# what the tree holds must be what wkdd serves, 404s included.
: > "$T/urls"
ctl list | while IFS="$(printf '\t')" read -r a _; do
	d=${a#*@}
	for h in $(hashes "$a"); do
		echo "openpgpkey.$d /.well-known/openpgpkey/$d/hu/$h"
		echo "$d /.well-known/openpgpkey/hu/$h"
	done
done | sort -u > "$T/urls"
for d in example.org example.net; do
	echo "openpgpkey.$d /.well-known/openpgpkey/$d/policy"
	echo "$d /.well-known/openpgpkey/policy"
	echo "openpgpkey.$d /.well-known/openpgpkey/$d/hu/$(hash_of "nobody@$d")"
done >> "$T/urls"
is "$(wc -l < "$T/urls" | tr -d ' ')" 20 "20 URLs to compare"
n200=0 bad=0
while read -r host path; do
	fetch "$host" "$path"
	t=$T/www/$host$path
	if [ "$STATUS" = 200 ]; then
		n200=$((n200 + 1))
		cmp -s "$T/body" "$t" || { bad=$((bad + 1)); diag "$host$path differs"; }
	elif [ "$STATUS" != 404 ] || [ -e "$t" ]; then
		bad=$((bad + 1))
		diag "$host$path: wkdd $STATUS, tree $(test -e "$t" && echo has it)"
	fi
done < "$T/urls"
is "$bad" 0 "the tree file equals wkdd's answer at every URL"
is "$n200" 18 "wkdd serves 18 of them (7 keys and a policy, both layouts)"
is "$(find -L "$T/www" -type f | wc -l | tr -d ' ')" 18 \
    "the tree holds exactly those 18 files"

# --- Round trip: a domain that keeps revoked keys serves a key and its
# revoked predecessor in one file; export-tree, import-tree into a new
# store, export-tree again: the same tree.
R=$T/rot
mkdir -p "$R/store" "$R/store2"
# wr STORE ARGS...: wkdctl on $R/STORE, quietly.
wr() {
	_s=$1
	shift
	"$WKDCTL" -s "$R/$_s" "$@" > /dev/null 2>> "$T/out.err"
}
R1=$(gen_key frank@example.org) &&
gpg -q --batch --export-secret-keys "$R1" > "$R/old.sec" &&
gpg -q --batch --yes --delete-secret-and-public-keys "$R1" 2>/dev/null &&
R2=$(gen_key frank@example.org) &&
wr store init && wr store domain add example.org &&
wr store domain set example.org keep-revoked on &&
wr store account add frank@example.org && wr store import "$R/old.sec" &&
wr store import "$T/frank@example.org.pgp" &&
wr store revoke --reason superseded "$R1"
check "store with frank's key and its revoked predecessor" test $? -eq 0
"$WKDCTL" -s "$R/store" export-tree "$R/t1" > /dev/null 2>> "$T/out.err"
f=$R/t1/openpgpkey.example.org/.well-known/openpgpkey/example.org/hu/$(hash_of frank@example.org)
is "$(gpg --batch --with-colons --show-keys "$f" 2>/dev/null |
    awk -F: '$1 == "pub" { print $5 ":" $2 }' | cut -c9- | tr '\n' ' ')" \
    "$(echo "$R2" | cut -c33-):u $(echo "$R1" | cut -c33-):r " \
    "the tree serves the key, then its revoked predecessor"
wr store2 init && wr store2 domain add example.org &&
wr store2 domain set example.org keep-revoked on
"$WKDCTL" -s "$R/store2" import-tree --create-accounts \
    "$R/t1/openpgpkey.example.org" > "$T/out" 2>> "$T/out.err"
is "$?" 0 "import-tree of export-tree's openpgpkey.example.org: exit 0"
like "$T/out" "key $R2: imported, published at frank@example\\.org \\(account created\\)\$" \
    "the key, first in the file"
like "$T/out" "key $R1: imported, published at frank@example\\.org\$" \
    "its predecessor, after it"
"$WKDCTL" -s "$R/store2" export-tree "$R/t2" > /dev/null 2>> "$T/out.err"
check "export-tree of the new store: the same tree" diff -r "$R/t1/" "$R/t2/"

# --- nginx serves the tree by Host.
if [ "${TREE_INNER:-}" != 1 ]; then
	skip "nginx and gpg: need root for a network namespace"
	tree_finish
fi
NGINX=$(command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; })
if [ -z "$NGINX" ]; then
	skip "nginx not installed"
	tree_finish
fi
N=$T/nginx
mkdir -p "$N"
cat > "$N/nginx.conf" <<EOF
user $(id -un) $(id -gn);
worker_processes 1;
pid $N/nginx.pid;
error_log $N/error.log;
events {
	worker_connections 64;
}
http {
	log_format wkd '\$host \$request_uri \$status \$body_bytes_sent';
	access_log $N/access.log wkd;
	client_body_temp_path $N/body;
	proxy_temp_path $N/proxy;
	fastcgi_temp_path $N/fastcgi;
	uwsgi_temp_path $N/uwsgi;
	scgi_temp_path $N/scgi;
	types {
	}
	default_type application/octet-stream;
	server {
		listen 127.0.0.1:443 ssl;
		server_name _;
		ssl_certificate $T/cert.pem;
		ssl_certificate_key $T/key.pem;
		root $T/www/\$host;
		add_header Access-Control-Allow-Origin "*" always;
	}
}
EOF
"$NGINX" -p "$N/" -e "$N/error.log" -c "$N/nginx.conf" -g 'daemon off;' \
    > "$N/stdout" 2>&1 &
NGX_PID=$!
# nginx writes its pid file once it listens: wait for that (at most 10 s).
i=0
while [ ! -s "$N/nginx.pid" ] && kill -0 "$NGX_PID" 2>/dev/null &&
    [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ -s "$N/nginx.pid" ]; then
	pass "nginx listening on 127.0.0.1:443"
else
	fail "nginx listening on 127.0.0.1:443"
	sed 's/^/#   /' "$N/stdout" "$N/error.log"
	finish
fi

# nfetch HOST PATH: as fetch, from nginx: $NSTATUS, body in $T/nbody.
nfetch() {
	NSTATUS=$(curl -sS --path-as-is --max-time 20 -o "$T/nbody" \
	    -w '%{http_code}' --cacert "$T/ca.pem" \
	    --resolve "$1:443:127.0.0.1" "https://$1$2" 2>>"$T/curl.err") ||
	    NSTATUS=000
}

bad=0
while read -r host path; do
	fetch "$host" "$path"
	nfetch "$host" "$path"
	if [ "$STATUS" != "$NSTATUS" ] ||
	    { [ "$STATUS" = 200 ] && ! cmp -s "$T/body" "$T/nbody"; }; then
		bad=$((bad + 1))
		diag "$host$path: wkdd $STATUS, nginx $NSTATUS"
	fi
done < "$T/urls"
is "$bad" 0 "nginx and wkdd: same status and bytes at all 20 URLs"

# --- gpg finds the keys through nginx: openpgpkey.example.org resolves
# (advanced method), openpgpkey.example.net does not (direct method).
printf '127.0.0.1\tlocalhost example.org openpgpkey.example.org example.net\n' \
    > "$T/hosts"
echo 'nameserver 127.0.0.1' > "$T/resolv.conf"
mkdir "$T/certs"
cp -a /etc/ssl/certs/. "$T/certs/" 2>/dev/null
cat "$T/ca.pem" >> "$T/certs/ca-certificates.crt"
if mount --bind "$T/hosts" /etc/hosts &&
    mount --bind "$T/resolv.conf" /etc/resolv.conf &&
    mount --bind "$T/certs" /etc/ssl/certs; then
	pass "namespace: /etc/hosts, resolv.conf and a trust store with the test CA"
else
	fail "namespace: /etc/hosts, resolv.conf and a trust store with the test CA"
	finish
fi

# located ADDR FPR HOST: gpg, in a fresh home, imports FPR with only the
# UID of ADDR, fetched from nginx at HOST.
located() {
	_h=$(mktemp -d "$T/gh.XXXXXX")
	chmod 700 "$_h"
	_n=$(wc -l < "$N/access.log")
	timeout -k 5 30 gpg --homedir "$_h" --batch --no-tty \
	    --auto-key-locate clear,nodefault,wkd \
	    --locate-external-keys "$1" > "$_h/out" 2>&1
	_rc=$?
	gpg --homedir "$_h" --batch --with-colons --list-keys \
	    > "$_h/list" 2>/dev/null
	gpgconf --homedir "$_h" --kill all >/dev/null 2>&1
	_f=$(awk -F: '$1 == "fpr" { print $10; exit }' "$_h/list")
	_u=$(awk -F: '$1 == "uid" { print $10 }' "$_h/list")
	if [ "$_rc" -eq 0 ] && [ "$_f" = "$2" ] && [ "$_u" = "Test <$1>" ] &&
	    tail -n "+$((_n + 1))" "$N/access.log" |
	    grep -q "^$3 /.well-known/openpgpkey/.*hu/.* 200 "; then
		return 0
	fi
	diag "gpg exit $_rc, fpr '$_f', uids '$_u'"
	sed 's/^/#   /' "$_h/out" | head -10
	tail -n "+$((_n + 1))" "$N/access.log" | sed 's/^/#   nginx: /'
	return 1
}
check "gpg locates alice@example.org through nginx (advanced)" \
    located alice@example.org "$A" openpgpkey.example.org
check "gpg locates Bob.Smith@example.org through nginx (advanced)" \
    located Bob.Smith@example.org "$B" openpgpkey.example.org
check "gpg locates erin@example.net through nginx (direct)" \
    located erin@example.net "$E" example.net

kill -TERM "$NGX_PID"
wait "$NGX_PID"
is "$?" 0 "nginx exits 0 on SIGTERM"
NGX_PID=
tree_finish
