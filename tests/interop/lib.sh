# tests/interop/lib.sh: shared harness of the interop tests, sourced by
# tests/interop/t_*.sh.  Run a test as
#
#	O=/abs/build TOP=/abs/repo sh tests/interop/t_gpg.sh
#
# A test calls io_need (skips when a tool is missing or we are not root),
# io_enter (re-runs the test inside `unshare --net --mount`), io_setup
# (test CA, fixture keys, a wkdctl store, build/wkdd on 127.0.0.1:443),
# then io_* client helpers and TAP helpers, and io_done.
#
# Inside the namespace nothing of the machine changes: /etc/hosts,
# /etc/resolv.conf and /etc/ssl/certs are bind mounts private to it, and
# wkdd listens on the namespace's own loopback.  Clients run with a clean
# environment (env -i), so SSL_CERT_FILE, NODE_EXTRA_CA_CERTS and friends
# cannot decide the result: they trust the test CA only because the
# mounted system store holds it.  KEEP=1 keeps the temp dir.

set -u

: "${O:?O must name the build directory}"
: "${TOP:?TOP must name the repository top}"
IO_DIR=$TOP/tests/interop
IO_TIMEOUT=${IO_TIMEOUT:-30}
IO_SRV_PID=
T=

# Fixture addresses.  adv.test has openpgpkey.adv.test in /etc/hosts (the
# advanced method); direct.test has no openpgpkey. name (clients fall back
# to the direct method).  Every fixture key also carries two foreign UIDs,
# TAG.other@adv.test (hosted domain, no account) and TAG@other.test (not
# hosted), which wkdctl must drop: clients must see exactly the queried
# one.
IO_D_ADV=adv.test
IO_D_DIR=direct.test
IO_A_ADV=alice@adv.test
IO_A_DIR=bob@direct.test
IO_A_MIX=Mixed.Case@Adv.TEST
IO_A_REV=revoked@adv.test
IO_A_MISS=nobody@adv.test
IO_HOSTS="$IO_D_ADV openpgpkey.$IO_D_ADV $IO_D_DIR"

# TAP: tests/tap.sh.  io_step NAME LOG COMMAND...: a setup step, its
# output into LOG, counted nowhere; on failure, one "not ok" with LOG,
# and the test ends (what follows would only fail too).
. "$TOP/tests/tap.sh"
io_step() {
	_name=$1
	_log=$2
	shift 2
	if "$@" > "$_log" 2>&1; then
		return 0
	fi
	fail "setup: $_name"
	show "$_log"
	io_done
}

# io_done: stop wkdd (it must exit 0 on SIGTERM, with no sanitizer
# report in its log), print the plan, exit 0 if nothing failed.
io_done() {
	if [ -n "$IO_SRV_PID" ]; then
		if io_server_stop; then
			pass "wkdd stopped cleanly on SIGTERM"
		else
			fail "wkdd stopped cleanly on SIGTERM"
			show "$T/wkdd.log"
		fi
	fi
	tap_plan
	exit $?
}

# io_need TOOL...: skip the whole test unless every tool is there.
io_need() {
	[ "$(id -u)" -eq 0 ] || skip_all "needs root (unshare)"
	for _t in unshare ip mount timeout certtool openssl gpg gpgconf \
	    "$@"; do
		command -v "$_t" >/dev/null 2>&1 ||
		    skip_all "tool missing: $_t"
	done
}

# io_enter: re-run this test in new network and mount namespaces.
io_enter() {
	[ "${IO_INNER:-}" = 1 ] && return 0
	unshare --net --mount true 2>/dev/null ||
	    skip_all "cannot unshare --net --mount here"
	IO_INNER=1 exec unshare --net --mount --propagation private \
	    sh "$0" "$@"
}

io_cleanup() {
	set +e
	if [ -n "$IO_SRV_PID" ]; then
		kill "$IO_SRV_PID" 2>/dev/null
		wait "$IO_SRV_PID" 2>/dev/null
	fi
	[ -n "$T" ] || return
	for _h in "$T"/gh/*; do
		[ -d "$_h" ] && gpgconf --homedir "$_h" --kill all 2>/dev/null
	done
	if [ "${KEEP:-}" = 1 ]; then
		echo "# KEEP=1: kept $T"
	else
		rm -rf "$T"
	fi
}

# io_run [VAR=VALUE...] COMMAND...: run a client, bounded in time, in a
# clean environment: none of the caller's variables but PATH.
io_run() {
	timeout -k 5 "$IO_TIMEOUT" env -i PATH="$PATH" HOME="$T/home" \
	    LANG=C.UTF-8 "$@"
}

# io_gpg HOMEDIR ARGS...: gpg for the harness's own bookkeeping.
io_gpg() {
	_h=$1
	shift
	io_run gpg --homedir "$_h" --batch --no-tty --pinentry-mode loopback \
	    --passphrase '' "$@"
}

io_newhome() {
	mkdir -p "$T/gh/$1"
	chmod 700 "$T/gh/$1"
	echo "$T/gh/$1"
}

io_ca() {
	cat > "$T/ca.tmpl" <<-EOF
	cn = "wkdd interop test CA"
	ca
	cert_signing_key
	expiration_days = 2
	EOF
	{
		echo 'cn = "adv.test"'
		for _h in $IO_HOSTS "openpgpkey.$IO_D_DIR"; do
			echo "dns_name = \"$_h\""
		done
		echo 'tls_www_server'
		echo 'signing_key'
		echo 'expiration_days = 2'
	} > "$T/srv.tmpl"
	certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 \
	    --outfile "$T/ca.key" &&
	certtool --generate-self-signed --load-privkey "$T/ca.key" \
	    --template "$T/ca.tmpl" --outfile "$T/ca.crt" &&
	certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 \
	    --outfile "$T/srv.key" &&
	certtool --generate-certificate --load-privkey "$T/srv.key" \
	    --load-ca-certificate "$T/ca.crt" --load-ca-privkey "$T/ca.key" \
	    --template "$T/srv.tmpl" --outfile "$T/srv.crt" &&
	chmod 600 "$T/srv.key" "$T/ca.key"
}

# io_trust with|without: mount a copy of /etc/ssl/certs, with or without
# the test CA (in ca-certificates.crt, which GnuTLS and OpenSSL read, and
# as a hashed file, which OpenSSL's directory lookup reads).
io_trust() {
	_d=$T/certs-$1
	rm -rf "$_d"
	mkdir "$_d"
	cp -a "$T/syscerts/." "$_d/" || return 1
	if [ "$1" = with ]; then
		cp "$T/ca.crt" "$_d/wkdd-interop-ca.pem"
		_hash=$(openssl x509 -hash -noout -in "$T/ca.crt") || return 1
		_i=0
		while [ -e "$_d/$_hash.$_i" ] || [ -L "$_d/$_hash.$_i" ]; do
			_i=$((_i + 1))
		done
		ln -s wkdd-interop-ca.pem "$_d/$_hash.$_i"
		rm -f "$_d/ca-certificates.crt"
		cat "$T/syscerts/ca-certificates.crt" "$T/ca.crt" \
		    > "$_d/ca-certificates.crt"
	fi
	mount --bind "$_d" /etc/ssl/certs
}

# io_genkey TAG ADDR [revoked]: a fixture key in $T/gen, exported binary
# to $T/keys/TAG.pgp, its fingerprint in $T/keys/TAG.fpr.
io_genkey() {
	_g=$T/gen
	io_gpg "$_g" --status-fd 1 --quick-gen-key "$2" future-default \
	    default never > "$T/keys/$1.status" || return 1
	_fpr=$(awk '$2 == "KEY_CREATED" { print $4 }' "$T/keys/$1.status")
	[ -n "$_fpr" ] || return 1
	echo "$_fpr" > "$T/keys/$1.fpr"
	io_gpg "$_g" --quick-add-uid "$_fpr" "$1.other@$IO_D_ADV" || return 1
	io_gpg "$_g" --quick-add-uid "$_fpr" "$1@other.test" || return 1
	if [ "${3:-}" = revoked ]; then
		sed 's/^:-----BEGIN/-----BEGIN/' \
		    "$_g/openpgp-revocs.d/$_fpr.rev" > "$T/keys/$1.rev" &&
		io_gpg "$_g" --import "$T/keys/$1.rev" || return 1
	fi
	io_gpg "$_g" --export "$_fpr" > "$T/keys/$1.pgp"
	[ -s "$T/keys/$1.pgp" ]
}

io_fixtures() {
	mkdir -p "$T/keys" "$T/gen" && chmod 700 "$T/gen" &&
	io_genkey adv "$IO_A_ADV" &&
	io_genkey dir "$IO_A_DIR" &&
	io_genkey mix "$IO_A_MIX" &&
	io_genkey rev "$IO_A_REV" revoked
	_rc=$?
	gpgconf --homedir "$T/gen" --kill all 2>/dev/null
	return $_rc
}

# io_store: the store, built with the real wkdctl.
io_store() {
	_w="$O/wkdctl -s $T/store"
	[ -x "$O/wkdctl" ] || { echo "no $O/wkdctl: run make"; return 1; }
	{
		$_w init &&
		$_w domain add "$IO_D_ADV" &&
		$_w domain add "$IO_D_DIR" &&
		for _a in "$IO_A_ADV" "$IO_A_DIR" "$IO_A_MIX" "$IO_A_REV"; do
			$_w account add "$_a" || return 1
		done &&
		for _k in adv dir mix rev; do
			$_w import "$T/keys/$_k.pgp" || return 1
		done
	}
}

# io_server: build/wkdd on 127.0.0.1:443, ready once it reported its port.
io_server() {
	cat > "$T/wkdd.conf" <<-EOF
	listen 127.0.0.1:443
	store $T/store
	tls-cert $T/srv.crt
	tls-key $T/srv.key
	$([ "$(id -u)" != 0 ] || echo "user root")
	EOF
	[ -x "$O/wkdd" ] || { echo "no $O/wkdd: run make"; return 1; }
	"$O/wkdd" -d -f "$T/wkdd.conf" -R 3 3>"$T/ready" \
	    >"$T/wkdd.log" 2>&1 &
	IO_SRV_PID=$!
	_i=0
	while [ ! -s "$T/ready" ]; do
		if ! kill -0 "$IO_SRV_PID" 2>/dev/null || [ "$_i" -ge 100 ]
		then
			cat "$T/wkdd.log"
			return 1
		fi
		_i=$((_i + 1))
		sleep 0.1
	done
	[ "$(cat "$T/ready")" = 443 ]
}

io_server_stop() {
	kill -TERM "$IO_SRV_PID" 2>/dev/null
	_i=0
	while kill -0 "$IO_SRV_PID" 2>/dev/null && [ "$_i" -lt 100 ]; do
		_i=$((_i + 1))
		sleep 0.1
	done
	if [ "$_i" -ge 100 ]; then
		echo "# wkdd still running 10 s after SIGTERM: SIGKILL"
		kill -KILL "$IO_SRV_PID" 2>/dev/null
	fi
	wait "$IO_SRV_PID"
	_rc=$?
	IO_SRV_PID=
	[ "$_rc" -eq 0 ] || echo "# wkdd exit $_rc"
	! grep -qE 'Sanitizer|runtime error:' "$T/wkdd.log" && [ "$_rc" -eq 0 ]
}

io_netns() {
	ip link set lo up &&
	printf '127.0.0.1\tlocalhost\n127.0.0.1\t%s\n' "$IO_HOSTS" \
	    > "$T/hosts" &&
	mount --bind "$T/hosts" /etc/hosts &&
	# Nothing answers DNS: lookups fail at once, not by timeout.
	echo 'nameserver 127.0.0.1' > "$T/resolv.conf" &&
	mount --bind "$T/resolv.conf" /etc/resolv.conf
}

# io_setup [with|without]: everything a test needs; with (the default)
# mounts a trust store holding the test CA, without the system one only.
io_setup() {
	T=$(mktemp -d /tmp/wkdd-io.XXXXXX) || exit 1
	trap io_cleanup EXIT
	trap 'exit 1' HUP INT TERM
	chmod 755 "$T"
	mkdir -p "$T/home" "$T/gh" "$T/syscerts"
	# The machine's trust store, before anything is mounted over it.
	cp -a /etc/ssl/certs/. "$T/syscerts/" 2>/dev/null
	[ -f "$T/syscerts/ca-certificates.crt" ] ||
	    : > "$T/syscerts/ca-certificates.crt"

	io_step "namespace: loopback up, /etc/hosts and resolv.conf" \
	    "$T/setup.log" io_netns
	io_step "test CA and server certificate (certtool)" "$T/ca.log" io_ca
	io_step "trust store mounted ${1:-with} the test CA" "$T/trust.log" \
	    io_trust "${1:-with}"
	io_step "fixture keys (gpg)" "$T/gen.log" io_fixtures
	io_step "store built with wkdctl" "$T/wkdctl.log" io_store
	io_step "wkdd listening on 127.0.0.1:443" "$T/start.log" io_server
	# What the setup made, checked: every fixture address is published
	# with the key made for it, and nothing else is.
	"$O/wkdctl" -s "$T/store" list > "$T/list" 2>&1
	check "store: the four fixture addresses published, nothing else" \
	    [ "$(wc -l < "$T/list")" -eq 4 ]
	check "store: $IO_A_ADV serves its fixture key" \
	    grep -q "^$IO_A_ADV	$(io_fpr adv)	" "$T/list"
}

# io_colons_check FILE ADDR FPR [revoked]: FILE is gpg --with-colons
# output holding exactly one key, FPR, with exactly one UID, ADDR, revoked
# or not as asked.  Says why on failure.
io_colons_check() {
	awk -F: -v addr="$2" -v fpr="$3" -v rev="${4:-}" '
		$1 == "pub" { npub++; val = $2; wantfpr = 1 }
		$1 == "fpr" && wantfpr { gotfpr = $10; wantfpr = 0 }
		$1 == "sub" { wantfpr = 0 }
		$1 == "uid" { nuid++; uid[nuid] = $10 }
		END {
			e = ""
			if (npub != 1) e = e " keys=" npub + 0
			if (gotfpr != fpr) e = e " fpr=" gotfpr
			if (nuid != 1) e = e " uids=" nuid + 0
			for (i = 1; i <= nuid; i++)
				if (uid[i] != addr) e = e " uid=" uid[i]
			if (rev == "revoked" && val != "r")
				e = e " not-revoked(" val ")"
			if (rev != "revoked" && val == "r") e = e " revoked"
			if (e != "") { print "# mismatch:" e; exit 1 }
		}' "$1"
}

# io_dirmngr_diag LOG: dirmngr's requests, answers and errors.
io_dirmngr_diag() {
	grep -E '>> (GET|Host|HTTP)|TLS|failed|error' "$1" |
	    grep -v 'error loading certificate' | sed 's/^/#   /'
}

# io_srvlog_mark: remember where wkdd's log ends.
io_srvlog_mark() {
	IO_SRVLOG_AT=$(wc -l < "$T/wkdd.log")
}

# io_srvlog_wait REGEX: wkdd logged a matching access line since the mark
# ("TIME CLIENT METHOD HOST ROUTE STATUS BYTES DURATION", never the path or
# query); waits up to 2 s, as the line may come just after the response.
io_srvlog_wait() {
	_i=0
	while [ "$_i" -lt 20 ]; do
		tail -n "+$((IO_SRVLOG_AT + 1))" "$T/wkdd.log" |
		    grep -qE "$1" && return 0
		_i=$((_i + 1))
		sleep 0.1
	done
	echo "# wkdd logged no request matching: $1"
	tail -n "+$((IO_SRVLOG_AT + 1))" "$T/wkdd.log" | sed 's/^/#   /'
	return 1
}

# io_show FILE: gpg --with-colons listing of the keys in FILE (no import).
io_show() {
	_h=$(mktemp -d "$T/gh/show.XXXXXX") || return 1
	io_gpg "$_h" --quiet --with-colons --show-keys "$1"
}

# Clients.  Each io_*_get TAG ADDR runs one lookup in a fresh state, keeps
# what the client said under $T/TAG.*, puts the result's gpg colon
# listing (if any) in $T/TAG.list and returns the client's exit status.

# io_gpg_get TAG ADDR: gpg --locate-external-keys with a fresh GNUPGHOME
# (dirmngr caches "no WKD" per domain), dirmngr's log in $T/TAG.dirmngr.
io_gpg_get() {
	_h=$(io_newhome "$1")
	printf 'log-file %s\ndebug-level guru\n' "$T/$1.dirmngr" \
	    > "$_h/dirmngr.conf"
	io_run gpg --homedir "$_h" --batch --no-tty \
	    --auto-key-locate clear,nodefault,wkd \
	    --locate-external-keys "$2" > "$T/$1.out" 2> "$T/$1.err"
	_rc=$?
	io_run gpg --homedir "$_h" --batch --no-tty --with-colons \
	    --list-keys > "$T/$1.list" 2>> "$T/$1.err"
	gpgconf --homedir "$_h" --kill all 2>/dev/null
	return $_rc
}

# io_sq_get TAG ADDR: sq wkd get; the certificate it printed is listed
# (not imported) by gpg.
io_sq_get() {
	io_srvlog_mark
	io_run sq wkd get "$2" > "$T/$1.out" 2> "$T/$1.err"
	_rc=$?
	: > "$T/$1.list"
	[ -s "$T/$1.out" ] && io_show "$T/$1.out" > "$T/$1.list" \
	    2>> "$T/$1.err"
	return $_rc
}

# io_js_get TAG ADDR: js/wkd-get.mjs under node --use-openssl-ca, which
# makes node trust OpenSSL's store (/etc/ssl/certs here) instead of its
# built-in list.  $T/TAG.sum has lines "key FPR revoked|valid", "uid U"
# and "req STATUS URL [ERROR]".
io_js_get() {
	io_run node --use-openssl-ca "$IO_DIR/js/wkd-get.mjs" "$2" \
	    > "$T/$1.out" 2> "$T/$1.err"
	_rc=$?
	io_run node -e '
		const r = JSON.parse(require("fs").readFileSync(
		    process.argv[1], "utf8"));
		for (const k of r.keys || []) {
			console.log("key", k.fingerprint,
			    k.revoked ? "revoked" : "valid");
			for (const u of k.uids)
				console.log("uid", u);
		}
		for (const q of r.requests)
			console.log("req", q.status, q.url, q.error || "");
	    ' "$T/$1.out" > "$T/$1.sum" 2>> "$T/$1.err"
	return $_rc
}

# io_js_ready: node_modules for js/ (npm ci from the lock file when
# missing); called before io_enter, as the namespace has no network.
io_js_ready() {
	[ -d "$IO_DIR/js/node_modules/@openpgp/wkd-client" ] &&
	    [ -d "$IO_DIR/js/node_modules/openpgp" ] && return 0
	(cd "$IO_DIR/js" && timeout 300 npm ci --no-audit --no-fund) >&2
}

# io_fpr TAG: the fixture key's fingerprint.
io_fpr() {
	cat "$T/keys/$1.fpr"
}
