#!/bin/sh
# t_proxy: the direct method when D's web server is nginx elsewhere, as
# README's recipe writes it: Debian's nginx serves https://a.test and
# proxies /.well-known/openpgpkey/ to wkdd over TLS (Host passed on, no
# SNI, wkdd's own certificate verified under its own name).  A client
# fetches a key through it (curl, then gpg reads it); what isn't under
# /.well-known/openpgpkey/ stays nginx's.  Then the per-IP limit: every
# request reaches wkdd from the proxy's address, so max-connections-per-ip
# caps the proxy as a whole (502 from nginx), and the documented setting
# (the limit as high as max-connections) lifts it.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"

need curl certtool gpg gnutls-cli
need_wkdctl
NGINX=$(command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; })
if [ -z "$NGINX" ]; then
	skip "nginx not installed"
	finish
fi
if [ "$(id -u)" -ne 0 ]; then
	skip "nginx as a child: needs root here (its user directive)"
	finish
fi

# wkdd's certificate names only wkdd's own host; nginx's names a.test.
make_ca && make_cert "$T/cert.pem" "$T/key.pem" wkd.internal &&
    make_cert "$T/web.pem" "$T/web.key" a.test ||
    { fail "certtool"; finish; }
make_store a.test
ctl account add alice@a.test > /dev/null &&
    gen_key alice@a.test > /dev/null &&
    ctl import "$T/alice@a.test.pgp" > /dev/null ||
    { fail "setup: alice's key"; finish; }
H=$(hash_of alice@a.test)
KEY=/.well-known/openpgpkey/hu/$H
write_conf
start_wkdd || finish
WPORT=$PORT
ctl export alice@a.test -o "$T/alice.served" > /dev/null

NGX_PID=
proxy_cleanup() {
	if [ -n "$NGX_PID" ]; then
		kill -KILL "$NGX_PID" 2>/dev/null
		wait "$NGX_PID" 2>/dev/null
	fi
	lib_cleanup
}
trap proxy_cleanup EXIT

N=$T/nginx
mkdir -p "$N" "$T/www"
echo "D's own page" > "$T/www/index.html"
# nginx_conf PORT: nginx.conf listening on 127.0.0.1:PORT with the recipe.
nginx_conf() {
	cat > "$N/nginx.conf" <<EOF
user $(id -un) $(id -gn);
worker_processes 1;
pid $N/nginx.pid;
error_log $N/error.log;
events {
	worker_connections 64;
}
http {
	access_log $N/access.log;
	client_body_temp_path $N/body;
	proxy_temp_path $N/proxy;
	fastcgi_temp_path $N/fastcgi;
	uwsgi_temp_path $N/uwsgi;
	scgi_temp_path $N/scgi;
	upstream wkdd {
		server 127.0.0.1:$WPORT;
		keepalive 8;
	}
	server {
		listen 127.0.0.1:$1 ssl;
		server_name a.test;
		ssl_certificate $T/web.pem;
		ssl_certificate_key $T/web.key;
		root $T/www;

		# README's recipe, as is.
		location /.well-known/openpgpkey/ {
			proxy_pass https://wkdd;
			proxy_set_header Host \$host;
			proxy_ssl_server_name off;
			proxy_ssl_name wkd.internal;
			proxy_ssl_verify on;
			proxy_ssl_trusted_certificate $T/ca.pem;
			proxy_ssl_protocols TLSv1.2 TLSv1.3;
			proxy_ssl_session_reuse on;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
		}
	}
}
EOF
}

# nginx on a free port: a few tries at random ones.
NPORT=
for try in 1 2 3 4 5; do
	p=$(( $(od -An -N2 -tu2 /dev/urandom) % 30000 + 20000 ))
	nginx_conf "$p"
	rm -f "$N/nginx.pid"
	"$NGINX" -p "$N/" -e "$N/error.log" -c "$N/nginx.conf" \
	    -g 'daemon off;' > "$N/stdout" 2>&1 &
	NGX_PID=$!
	i=0
	while [ ! -s "$N/nginx.pid" ] && kill -0 "$NGX_PID" 2>/dev/null &&
	    [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if [ -s "$N/nginx.pid" ]; then
		NPORT=$p
		break
	fi
	wait "$NGX_PID" 2>/dev/null
	NGX_PID=
done
if [ -z "$NPORT" ]; then
	fail "nginx listening"
	show "$N/stdout" "$N/error.log"
	finish
fi
pass "nginx listening on 127.0.0.1:$NPORT"

# nfetch PATH: GET https://a.test PATH from nginx; $NSTATUS, $T/nbody.
nfetch() {
	NSTATUS=$(curl -sS --max-time 20 -o "$T/nbody" -w '%{http_code}' \
	    --cacert "$T/ca.pem" --resolve "a.test:$NPORT:127.0.0.1" \
	    "https://a.test:$NPORT$1" 2>"$T/curl.err") || NSTATUS=000
	if [ "$NSTATUS" = 200 ] && is_key_path "$1"; then
		check_served "$T/nbody" "nginx: https://a.test$1"
	fi
}

nfetch "$KEY"
is "$NSTATUS" 200 "the key through nginx (direct method)"
cmp -s "$T/nbody" "$T/alice.served"
check "... the bytes wkdd serves" [ $? -eq 0 ]
GNUPGHOME=$T/client
mkdir -p -m 700 "$GNUPGHOME"
GNUPGHOME=$GNUPGHOME gpg --batch --show-keys --with-colons "$T/nbody" \
    2>/dev/null | grep -q '^uid:.*<alice@a.test>'
check "gpg reads alice's key from it" [ $? -eq 0 ]
GNUPGHOME=$T/gnupg
nfetch /.well-known/openpgpkey/policy
is "$NSTATUS" 200 "the policy file through nginx"
nfetch /.well-known/openpgpkey/hu/ybndrfg8ejkmcpqxot1uwisza345h769
is "$NSTATUS" 404 "an unknown hash: wkdd's 404, passed on"
nfetch /
is "$NSTATUS" 200 "the rest stays nginx's"
like "$T/nbody" "D's own page" "... its own page"
like "$LOG" "GET a.test key 200" "wkdd saw Host a.test"

# The proxy's address is every client's: with max-connections-per-ip 2,
# two connections from 127.0.0.1 held elsewhere leave nginx none.  (wkdd
# restarted on its port: nginx's kept-alive connections end with it.)
stop_wkdd
write_conf "max-connections-per-ip 2" "timeout 10"
sed -i "s|^listen .*|listen 127.0.0.1:$WPORT|" "$CONF"
start_wkdd || finish
hold_open wkd.internal
held_get /.well-known/openpgpkey/policy
mv "$T/held.out" "$T/held1.out"
H1=$HELD_PID
exec 8>&7
hold_open wkd.internal
held_get /.well-known/openpgpkey/policy
nfetch "$KEY"
is "$NSTATUS" 502 "per-IP limit reached from the proxy's address: 502 from nginx"
hold_close
exec 7>&8 8>&-
HELD_PID=$H1
hold_close
check_wkdd "per-IP limit behind the proxy"
stop_wkdd

# The setting README gives behind a proxy: the per-IP limit as high as
# max-connections (the proxy limits per client).  Same wkdd port, so that
# nginx's upstream stays right.
write_conf "max-connections 64" "max-connections-per-ip 64" "timeout 10"
sed -i "s|^listen .*|listen 127.0.0.1:$WPORT|" "$CONF"
start_wkdd || finish
hold_open wkd.internal
held_get /.well-known/openpgpkey/policy
mv "$T/held.out" "$T/held1.out"
H1=$HELD_PID
exec 8>&7
hold_open wkd.internal
held_get /.well-known/openpgpkey/policy
nfetch "$KEY"
is "$NSTATUS" 200 "max-connections-per-ip = max-connections: served through the proxy"
hold_close
exec 7>&8 8>&-
HELD_PID=$H1
hold_close

kill -TERM "$NGX_PID"
wait "$NGX_PID"
is "$?" 0 "nginx exits 0 on SIGTERM"
NGX_PID=
finish
