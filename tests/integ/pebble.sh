# tests/integ/pebble.sh: Let's Encrypt's test CA, pebble(1), in the server
# namespace of tests/integ/netns.sh, for tests of ACME HTTP-01 issuance.
# Source it after netns.sh and netns_up:
#
#	. "$TOP/tests/integ/netns.sh"
#	. "$TOP/tests/integ/pebble.sh"
#	pebble_require || skip "$pebble_why"
#	netns_up && nsd_start
#	pebble_start			# ACME directory: $PEBBLE_URL
#	REQUESTS_CA_BUNDLE=$PEBBLE_API_CA wkdctl domain cert ...
#	pebble_root "$dir/root.pem"	# the root it signs with (this run's)
#	trust_dir "$dir/certs" "$dir/root.pem"	# an /etc/ssl/certs with it
#	netns_cli_certs "$dir/certs" gpg --locate-external-keys ...
#
# pebble listens on 127.0.0.1 of the server namespace only: the ACME
# directory at $PEBBLE_URL (https://localhost:14000/dir), the management
# API at https://localhost:15000 (roots/0: the root of this run, new on
# every start).  Its own HTTPS certificate is signed by a CA made here,
# $PEBBLE_API_CA: ACME clients must trust that (certbot: environment
# REQUESTS_CA_BUNDLE).  Its validation authority resolves names with the
# test DNS server ($NETNS_DNS, -dnsserver) and fetches HTTP-01 tokens from
# port 80 of the address found: where wkdd's listen-http is.  No random
# sleeps, no rejected nonces, no reuse of authorisations: every request
# is validated, at once.
#
# Needs pebble and certbot (Debian: pebble, certbot), certtool and curl.

PEBBLE_URL=https://localhost:14000/dir
PEBBLE_API=https://localhost:15000
PEBBLE_API_CA=
# shellcheck disable=SC2034 # for the sourcing test
pebble_why=

pebble_require() {
	for _pb_t in pebble certbot certtool curl; do
		if ! command -v "$_pb_t" >/dev/null 2>&1; then
			pebble_why="$_pb_t not installed"
			return 1
		fi
	done
	return 0
}

# pebble_start: pebble in the server namespace; returns once its ACME
# directory answers.
pebble_start() {
	_pb=$NETNS_DIR/pebble.d
	mkdir -p "$_pb" || return 1
	printf 'cn = "pebble API test CA"\nca\ncert_signing_key\nexpiration_days = 2\n' \
	    > "$_pb/ca.tmpl"
	printf 'cn = "localhost"\ndns_name = "localhost"\nip_address = "127.0.0.1"\ntls_www_server\nexpiration_days = 2\n' \
	    > "$_pb/srv.tmpl"
	{
		certtool --generate-privkey --key-type=ecdsa \
		    --outfile "$_pb/ca.key" &&
		certtool --generate-self-signed --load-privkey "$_pb/ca.key" \
		    --template "$_pb/ca.tmpl" --outfile "$_pb/ca.pem" &&
		certtool --generate-privkey --key-type=ecdsa \
		    --outfile "$_pb/srv.key" &&
		certtool --generate-certificate --load-privkey "$_pb/srv.key" \
		    --load-ca-certificate "$_pb/ca.pem" \
		    --load-ca-privkey "$_pb/ca.key" \
		    --template "$_pb/srv.tmpl" --outfile "$_pb/srv.pem"
	} > "$_pb/certtool.log" 2>&1 || {
		cat "$_pb/certtool.log" >&2
		return 1
	}
	PEBBLE_API_CA=$_pb/ca.pem
	cat > "$_pb/pebble.json" <<-EOF
	{
	  "pebble": {
	    "listenAddress": "127.0.0.1:14000",
	    "managementListenAddress": "127.0.0.1:15000",
	    "certificate": "$_pb/srv.pem",
	    "privateKey": "$_pb/srv.key",
	    "httpPort": 80,
	    "tlsPort": 5001,
	    "ocspResponderURL": "",
	    "externalAccountBindingRequired": false
	  }
	}
	EOF
	netns_bg pebble env PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 \
	    PEBBLE_AUTHZREUSE=0 pebble -config "$_pb/pebble.json" \
	    -dnsserver "$NETNS_DNS:53" || return 1
	_pb_i=0
	while [ $_pb_i -lt 100 ]; do
		if netns_srv curl -sf -o /dev/null --cacert "$PEBBLE_API_CA" \
		    "$PEBBLE_URL" 2>/dev/null; then
			return 0
		fi
		kill -0 "$(cat "$NETNS_DIR/pebble.pid")" 2>/dev/null || break
		sleep 0.1
		_pb_i=$((_pb_i + 1))
	done
	echo "pebble did not start:" >&2
	cat "$NETNS_DIR/pebble.log" >&2
	return 1
}

# pebble_root FILE: the root certificate pebble issues under (this run's).
pebble_root() {
	netns_srv curl -sf --cacert "$PEBBLE_API_CA" -o "$1" \
	    "$PEBBLE_API/roots/0" && grep -q 'BEGIN CERTIFICATE' "$1"
}

# trust_dir DIR [CA.pem]: DIR becomes a copy of the machine's
# /etc/ssl/certs, plus CA.pem if given (in ca-certificates.crt, which
# GnuTLS and OpenSSL read, and as a hashed file for OpenSSL's directory
# lookup).
trust_dir() {
	rm -rf "$1" && mkdir -p "$1" || return 1
	cp -a /etc/ssl/certs/. "$1/" 2>/dev/null
	[ -f "$1/ca-certificates.crt" ] || : > "$1/ca-certificates.crt"
	[ -n "${2:-}" ] || return 0
	cat "$2" >> "$1/ca-certificates.crt" &&
	cp "$2" "$1/wkdd-test-root.pem" || return 1
	_pb_h=$(openssl x509 -hash -noout -in "$2") || return 1
	_pb_i=0
	while [ -e "$1/$_pb_h.$_pb_i" ]; do
		_pb_i=$((_pb_i + 1))
	done
	ln -s wkdd-test-root.pem "$1/$_pb_h.$_pb_i"
}

# netns_cli_certs DIR CMD...: netns_cli CMD, with DIR mounted on
# /etc/ssl/certs (in the private mount namespace netns_cli makes).
netns_cli_certs() {
	_pb_d=$1
	shift
	netns_cli sh -c 'mount --bind "$0" /etc/ssl/certs && exec "$@"' \
	    "$_pb_d" "$@"
}

# netns_srv_certs DIR CMD...: netns_srv CMD with DIR mounted on
# /etc/ssl/certs (for clients that trust only the system store, such as
# uacme through libcurl).
netns_srv_certs() {
	_pb_d=$1
	shift
	netns_srv sh -c 'mount --bind "$0" /etc/ssl/certs && exec "$@"' \
	    "$_pb_d" "$@"
}
