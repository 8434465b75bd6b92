# tests/integ/certs.sh: test certificates with certtool, in $T.  Sourced
# by lib.sh and by the network-namespace tests.

# make_ca: a test CA in $T/ca.pem (key $T/ca.key).
make_ca() {
	cat > "$T/ca.tmpl" <<-EOF
	cn = "wkdd test CA"
	ca
	cert_signing_key
	expiration_days = ${CERT_DAYS:-2}
	EOF
	certtool --generate-privkey --key-type=ecdsa --outfile "$T/ca.key" \
	    >/dev/null 2>&1 &&
	certtool --generate-self-signed --load-privkey "$T/ca.key" \
	    --template "$T/ca.tmpl" --outfile "$T/ca.pem" >/dev/null 2>&1
}

# make_cert CERT KEY NAME...: a server certificate for the DNS names
# (wildcards allowed), signed by the test CA; KEY is mode 600.  Its key is
# ECDSA, or CERT_KEY_TYPE's (certtool --key-type: rsa); it expires in 2
# days, or CERT_DAYS.
make_cert() {
	_cert=$1 _key=$2
	shift 2
	{
		echo "cn = \"$1\""
		for _n; do
			echo "dns_name = \"$_n\""
		done
		echo "tls_www_server"
		echo "signing_key"
		echo "expiration_days = ${CERT_DAYS:-2}"
	} > "$T/srv.tmpl"
	(umask 077 && certtool --generate-privkey \
	    --key-type="${CERT_KEY_TYPE:-ecdsa}" \
	    --outfile "$_key" >/dev/null 2>&1) &&
	certtool --generate-certificate --load-privkey "$_key" \
	    --load-ca-certificate "$T/ca.pem" --load-ca-privkey "$T/ca.key" \
	    --template "$T/srv.tmpl" --outfile "$_cert" >/dev/null 2>&1
}
