#!/usr/bin/env python3
"""slowclients.py: hold many slow or idle connections to a server.

    slowclients.py --dst ADDR --port P --src v4:BASE:N|v6:PREFIX:N --per K
        --mode idle|slow --hold S [--ca FILE --name NAME]

From each of N source addresses (v4: 127.BASE.x.y; v6: PREFIX::x, which
needs net.ipv6.ip_nonlocal_bind and a local route for the prefix), K
connections.  idle: TCP only, nothing sent.  slow: a TLS handshake, then
a request head one byte a second, never finished.  Holds them S seconds,
then prints one line: opened (connects that succeeded), alive_max (held
at once, at most), alive_at (held --sample seconds after the start, once
the server has taken or refused every connection from its backlog),
alive_end (still open at the end: not closed by the server).
"""
import argparse, concurrent.futures, ipaddress, select, socket, ssl, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--dst"); ap.add_argument("--port", type=int)
ap.add_argument("--src"); ap.add_argument("--per", type=int)
ap.add_argument("--mode"); ap.add_argument("--hold", type=float)
ap.add_argument("--ca"); ap.add_argument("--name")
ap.add_argument("--sample", type=float, default=3)
a = ap.parse_args()

fam, base, n = a.src.split(":", 2) if a.src.startswith("v4") else (
    "v6", a.src[3:a.src.rindex(":")], a.src[a.src.rindex(":") + 1:])
n = int(n)
if fam == "v4":
    srcs = ["127.%s.%d.%d" % (base, i // 250, i % 250 + 1) for i in range(n)]
    af = socket.AF_INET
else:
    net = ipaddress.IPv6Network(base)
    srcs = [str(net[i + 16]) for i in range(n)]
    af = socket.AF_INET6
ctx = None
if a.mode == "slow":
    ctx = ssl.create_default_context(cafile=a.ca)
HEAD = b"GET /.well-known/openpgpkey/policy HTTP/1.1\r\nHost: a.test\r\nX-Slow: "


def one(src):
    s = socket.socket(af, socket.SOCK_STREAM)
    try:
        s.settimeout(10)
        s.bind((src, 0))
        s.connect((a.dst, a.port))
        if ctx is not None:
            s = ctx.wrap_socket(s, server_hostname=a.name)
            s.send(HEAD[:1])
        s.setblocking(False)
        return s
    except (OSError, ssl.SSLError):
        s.close()
        return None


t0 = time.monotonic()
jobs = [src for src in srcs for _ in range(a.per)]
conns = []
with concurrent.futures.ThreadPoolExecutor(16) as ex:
    for s in ex.map(one, jobs):
        if s is not None:
            conns.append([s, 1])
opened = len(conns)
alive_max = 0
alive_at = -1


def reap():
    """Drop the connections the server closed (EOF or reset)."""
    global conns
    p = select.poll()
    for c in conns:
        p.register(c[0].fileno(), select.POLLIN | select.POLLHUP | select.POLLERR)
    gone = set()
    for fd, ev in p.poll(0):
        gone.add(fd)
    keep = []
    for c in conns:
        if c[0].fileno() in gone:
            try:
                if c[0].recv(1) != b"":
                    keep.append(c)
                    continue
            except (BlockingIOError, ssl.SSLWantReadError):
                keep.append(c)
                continue
            except (OSError, ssl.SSLError):
                pass
            c[0].close()
        else:
            keep.append(c)
    conns = keep


while True:
    reap()
    alive_max = max(alive_max, len(conns))
    if alive_at == -1 and time.monotonic() - t0 >= a.sample:
        alive_at = len(conns)
    if time.monotonic() - t0 >= a.hold:
        break
    if a.mode == "slow":
        for c in conns:
            if c[1] < len(HEAD):
                try:
                    c[0].send(HEAD[c[1]:c[1] + 1])
                    c[1] += 1
                except (BlockingIOError, ssl.SSLWantWriteError):
                    pass
                except (OSError, ssl.SSLError):
                    pass
            else:
                try:
                    c[0].send(b"x")
                except (OSError, ssl.SSLError):
                    pass
    time.sleep(1)
print("opened=%d alive_max=%d alive_at=%d alive_end=%d" % (
    opened, alive_max, alive_at, len(conns)))
