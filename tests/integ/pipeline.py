#!/usr/bin/env python3
# pipeline.py PORT CAFILE NAME TLSVERSION N PATH ETAG MISS MODE: one TLS
# connection (TLSVERSION 1.2 or 1.3) with a small receive buffer sends N
# requests (GET PATH, HEAD PATH, GET PATH with If-None-Match: ETAG, GET
# MISS, in turn): MODE burst, all at once (pipelined); paced, one every
# 2 ms (each arrives on its own, as keep-alive requests do).  It reads
# nothing for a second (the server's writes fill the socket and come back
# short or EAGAIN), then reads and parses every response by its framing
# (Content-Length; no body for HEAD and 304).  Prints "STATUS BODYLEN" per response, then
# "responses K" and "bodies B" (the distinct bodies of the 200s).
import hashlib, select, socket, ssl, sys, time

port, ca, name, ver, n, path, etag, miss, mode = sys.argv[1:10]
port, n = int(port), int(n)
ctx = ssl.create_default_context(cafile=ca)
v = ssl.TLSVersion.TLSv1_2 if ver == "1.2" else ssl.TLSVersion.TLSv1_3
ctx.minimum_version = ctx.maximum_version = v
raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
raw.settimeout(20)
raw.connect(("127.0.0.1", port))
s = ctx.wrap_socket(raw, server_hostname=name)
kinds = []
reqs = []
for i in range(n):
    k = i % 4
    if k == 0:
        r = "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (path, name)
    elif k == 1:
        r = "HEAD %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (path, name)
    elif k == 2:
        r = "GET %s HTTP/1.1\r\nHost: %s\r\nIf-None-Match: %s\r\n\r\n" % (
            path, name, etag)
    else:
        r = "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (miss, name)
    kinds.append(k)
    reqs.append(r.encode())
# One thread (an SSL object is not for two at once), non-blocking: send
# as MODE says (a chunk at a time, retried whole as OpenSSL wants), never
# read in the first second, then read as it comes.
s.setblocking(False)
if mode == "burst":
    allreq = b"".join(reqs)
    chunks = [allreq[i:i + 1024] for i in range(0, len(allreq), 1024)]
else:
    chunks = reqs
t0 = time.monotonic()
nxt = 0
cur = b""
buf = b""
def pump(want):
    """Send and read until buf holds want bytes (EOFError, timeout)."""
    global nxt, cur, buf
    last = time.monotonic()
    while len(buf) < want:
        now = time.monotonic()
        if not cur and nxt < len(chunks) and (mode == "burst" or
                now >= t0 + nxt * 0.002):
            cur = chunks[nxt]
            nxt += 1
        if cur:
            try:
                cur = cur[s.send(cur):]
                last = now
            except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
                pass
        if now >= t0 + 1:
            try:
                b = s.recv(65536)
                if not b:
                    raise EOFError
                buf += b
                last = now
                continue
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                pass
        if now - last > 20:
            raise socket.timeout
        select.select([s], [s] if cur else [], [], 0.002)
def need(m):
    pump(m)
bodies = set()
got = 0
try:
    for k in kinds:
        while b"\r\n\r\n" not in buf:
            need(len(buf) + 1)
        head, buf = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        clen = 0
        for l in lines[1:]:
            h, _, val = l.partition(":")
            if h.strip().lower() == "content-length":
                clen = int(val.strip())
        blen = 0 if k == 1 or status == 304 else clen
        need(blen)
        body, buf = buf[:blen], buf[blen:]
        if status == 200 and blen > 0:
            bodies.add(hashlib.sha256(body).hexdigest())
        print(k, status, blen)
        got += 1
except (EOFError, socket.timeout, ssl.SSLError) as e:
    print("error", type(e).__name__)
print("responses", got)
print("bodies", len(bodies))
print("extra", len(buf))
