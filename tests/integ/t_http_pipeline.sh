#!/bin/sh
# t_http_pipeline: responses stay whole when the client reads slowly.
# wkdd writes a response's head and body in one sendmsg(2) (http.c's
# http_push(): the head's TLS record waits for the body's); here a client
# with a 4 KiB receive buffer pipelines hundreds of requests (GET, HEAD,
# GET with the key's ETag: 304, a miss: 404) on one connection and reads
# nothing for a second, so wkdd's writes come back short or EAGAIN and
# resume (in a network namespace of its own with 8 KiB send buffers),
# then it reads every response by its framing.  For TLS 1.2 and
# 1.3, a small key and one larger than a TLS record (16 KiB): every
# response is there, in order, with the right status and length, every
# 200 carries the same bytes as a fetch with Connection: close, and
# nothing is left over.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integ/lib.sh"

need certtool python3 gpg unshare ip sysctl
need_wkdctl
if [ "$(id -u)" -ne 0 ]; then
	skip "needs root (a network namespace)"
	finish
fi
if [ -z "${WKDD_NETNS:-}" ]; then
	# Again, in a new network namespace; $T is made anew there.
	rm -rf "$T"
	WKDD_NETNS=1 exec unshare --net -- sh "$0" "$@"
fi
# Small socket buffers, the namespace's own: wkdd's writes come back short.
ip link set lo up && sysctl -qw net.ipv4.tcp_wmem="4096 8192 8192" &&
    sysctl -qw net.ipv4.tcp_rmem="4096 4096 4096" ||
    { fail "lo up, small TCP buffers in the namespace"; finish; }

make_certs a.test '*.a.test'
make_store a.test
gen_key small@a.test > /dev/null || { fail "gpg: small@a.test"; finish; }
fpr=$(gen_key big@a.test) || { fail "gpg: big@a.test"; finish; }
# 60 signing subkeys: about 18 KB, more than one TLS record.
i=0
while [ $i -lt 60 ]; do
	gpg -q --batch --pinentry-mode loopback --passphrase '' \
	    --quick-add-key "$fpr" ed25519 sign never 2>/dev/null
	i=$((i + 1))
done
gpg -q --batch --export "=Test <big@a.test>" > "$T/big@a.test.pgp"
for a in small@a.test big@a.test; do
	ctl account add "$a" > /dev/null 2>&1 && ctl import "$T/$a.pgp" \
	    > /dev/null 2>&1 || { fail "wkdctl import $a"; finish; }
done
write_conf "limit-rate 0"
start_wkdd || finish

MISS=/.well-known/openpgpkey/hu/$(hash_of nobody@a.test)
N=400
for a in small@a.test big@a.test; do
	P=/.well-known/openpgpkey/hu/$(hash_of "$a")
	fetch a.test "$P"
	cp "$T/body" "$T/want"
	etag=$(header ETag)
	size=$(body_size)
	case $a in big*)
		check "$a: the key is larger than a TLS record ($size bytes)" \
		    [ "$size" -gt 16384 ] ;;
	esac
	for v in 1.2/burst 1.3/burst 1.2/paced 1.3/paced; do
		python3 "$TOP/tests/integ/pipeline.py" "$PORT" "$T/ca.pem" \
		    a.test "${v%/*}" "$N" "$P" "$etag" "$MISS" "${v#*/}" \
		    > "$T/pipe" 2> "$T/pipe.err"
		is "$(awk '$1 == "responses" { print $2 }' "$T/pipe")" "$N" \
		    "$a, TLS $v: all $N responses read"
		is "$(awk -v size="$size" 'NF == 3 && $1 ~ /^[0-3]$/ {
			if ($1 == 0) want = "200 " size
			else if ($1 == 1) want = "200 0"
			else if ($1 == 2) want = "304 0"
			else want = "404"
			got = $1 == 3 ? $2 : $2 " " $3
			if (got != want) bad++
		    }
		    END { print bad + 0 }' "$T/pipe")" 0 \
		    "$a, TLS $v: each in order, with its status and length"
		is "$(awk '$1 == "bodies" { print $2 }' "$T/pipe")" 1 \
		    "$a, TLS $v: every 200 the same bytes"
		is "$(awk '$1 == "extra" { print $2 }' "$T/pipe")" 0 \
		    "$a, TLS $v: nothing after the last response"
	done
	# The bytes themselves, against a fetch on a new connection.
	python3 - "$PORT" "$T/ca.pem" "$P" "$T/want" <<'PY' > "$T/one" 2>&1
import socket, ssl, sys
port, ca, path, want = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), 10),
    server_hostname="a.test")
s.sendall(("GET %s HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n"
    % path).encode())
buf = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    buf += b
body = buf.split(b"\r\n\r\n", 1)[1]
print("same" if body == open(want, "rb").read() else "differs")
PY
	is "$(cat "$T/one")" same "$a: Connection: close gets the same bytes"
done
check_wkdd "at the end"
finish
