#!/usr/bin/env python3
"""crash.py: kill -9 of wkdctl import at random points, and what is left.

The driver of tests/integ/t_crash.sh and bench/crash.sh.  wkdd serves the
store throughout (started by the caller); each trial restores the store
to BASE (its accounts, no key: "wkdctl restore"), starts "wkdctl import
RING" in batches of --batch keys and kills it (SIGKILL) after a random
delay.  Then:

  - the store opens: "wkdctl list" works;
  - every address the killed import reported as published (its standard
    output, which says only what is committed) is among those the store
    publishes;
  - nothing partial: every address the store publishes is served, and the
    key served is the one the store names (its v4 fingerprint), one User
    ID with that address, no secret packet, at most 256 KiB;
  - "wkdctl backup" makes a copy that checks.

Meanwhile a client thread fetches random addresses (at most --rate a
second) over one keep-alive TLS connection after another, and parses
every 200 answer the same way:
none may be torn or invalid.  After the trials, one import runs to its
end and every address it publishes is served.

The figures go to stdout as "name value" lines (trials, killed, requests,
bad, ...); a line "fail TEXT" for each problem.  Exit 0 if there was none.
"""

import argparse
import hashlib
import http.client
import os
import random
import re
import socket
import ssl
import subprocess
import sys
import threading
import time

ZB32 = "ybndrfg8ejkmcpqxot1uwisza345h769"
BLOB_MAX = 256 * 1024


def wkd_hash(local):
    """The WKD hash of an ASCII local part (z-base-32 of its SHA-1)."""
    h = int.from_bytes(hashlib.sha1(local.lower().encode()).digest(), "big")
    return "".join(ZB32[(h >> (155 - 5 * i)) & 31] for i in range(32))


def packets(d):
    """[(tag, body)] of the packets in d; ValueError if they don't parse."""
    out, i = [], 0
    while i < len(d):
        h = d[i]
        i += 1
        if not h & 0x80:
            raise ValueError("not a packet header at %d" % (i - 1))
        if h & 0x40:
            tag = h & 0x3F
            if i >= len(d):
                raise ValueError("truncated header")
            o = d[i]
            i += 1
            if o < 192:
                n = o
            elif o < 224:
                if i >= len(d):
                    raise ValueError("truncated header")
                n = ((o - 192) << 8) + d[i] + 192
                i += 1
            elif o == 255:
                n = int.from_bytes(d[i:i + 4], "big")
                i += 4
            else:
                raise ValueError("partial length")
        else:
            tag = (h >> 2) & 0x0F
            lt = h & 3
            if lt == 3:
                raise ValueError("indeterminate length")
            w = (1, 2, 4)[lt]
            n = int.from_bytes(d[i:i + w], "big")
            i += w
        if i + n > len(d):
            raise ValueError("truncated packet")
        out.append((tag, d[i:i + n]))
        i += n
    return out


def blob_problem(d, addr, fpr=None):
    """None if d is a key WKD may serve for addr (and, given fpr, that
    key first); else what is wrong with it."""
    if not d:
        return "empty"
    if len(d) > BLOB_MAX:
        return "%d bytes" % len(d)
    try:
        p = packets(d)
    except ValueError as e:
        return "torn: %s" % e
    certs = []
    for tag, body in p:
        if tag in (5, 7):
            return "secret key packet (tag %d)" % tag
        if tag == 6:
            certs.append([body, []])
        elif tag == 13:
            if not certs:
                return "User ID before a key"
            certs[-1][1].append(body)
    if not certs:
        return "no key"
    for body, uids in certs:
        if len(uids) != 1:
            return "%d User IDs in a certificate" % len(uids)
    if ("<%s>" % addr).encode() not in certs[0][1][0].lower() and \
            addr.encode() != certs[0][1][0].lower():
        return "User ID %r is not %s's" % (certs[0][1][0][:80], addr)
    if fpr is not None and certs[0][0][:1] == b"\x04":
        body = certs[0][0]
        got = hashlib.sha1(b"\x99" + len(body).to_bytes(2, "big") +
                           body).hexdigest().upper()
        if got != fpr:
            return "key %s served, the store names %s" % (got, fpr)
    return None


class Client:
    """HTTPS keep-alive requests to wkdd on 127.0.0.1 for one name."""

    def __init__(self, port, ca, host, domain):
        self.port, self.host, self.domain = port, host, domain
        self.ctx = ssl.create_default_context(cafile=ca)
        self.conn = None

    def _connect(self):
        c = http.client.HTTPSConnection(self.host, self.port,
                                        context=self.ctx, timeout=20)
        port = self.port
        c._create_connection = lambda a, t, s: socket.create_connection(
            ("127.0.0.1", port), t)
        self.conn = c

    def get(self, addr):
        """(status, body) of addr's key; status 0 if the request failed
        twice."""
        local = addr.split("@")[0]
        path = "/.well-known/openpgpkey/%s/hu/%s?l=%s" % (
            self.domain, wkd_hash(local), local)
        for _ in range(2):
            try:
                if self.conn is None:
                    self._connect()
                self.conn.request("GET", path)
                r = self.conn.getresponse()
                body = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r.status, body
            except (OSError, http.client.HTTPException):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
        return 0, b""


class Loop(threading.Thread):
    """Fetches random addresses until stopped; checks every answer."""

    def __init__(self, args, addrs, stats):
        super().__init__(daemon=True)
        self.c = Client(args.port, args.ca, args.host, args.domain)
        self.addrs, self.stats = addrs, stats
        self.rate = args.rate
        self.stop = threading.Event()

    def run(self):
        st = self.stats
        gap = 1.0 / self.rate
        next_t = time.monotonic()
        while not self.stop.is_set():
            # At most rate requests a second: the client must not starve
            # the import it watches (2 CPUs, wkdd under ASan).
            next_t += gap
            wait = next_t - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            else:
                next_t = time.monotonic()
            a = random.choice(self.addrs)
            status, body = self.c.get(a)
            st["requests"] += 1
            if status == 200:
                st["ok200"] += 1
                why = blob_problem(body, a)
                if why is not None:
                    st["bad"] += 1
                    if st["bad"] <= 5:
                        st["fails"].append("client: %s: %s" % (a, why))
            elif status == 404:
                st["ok404"] += 1
            else:
                st["other"] += 1
                if st["other"] <= 5:
                    st["fails"].append("client: %s: status %d" %
                                       (a, status))


def ctl(args, *argv, **kw):
    return subprocess.run([args.wkdctl, "-s", args.store] + list(argv),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          **kw)


def published(out):
    """Addresses a report says were published (complete lines only)."""
    text = out.decode("utf-8", "replace")
    if not text.endswith("\n"):
        text = text[:text.rfind("\n") + 1]
    return set(m.group(1).lower() for m in
               re.finditer(r"^  published at (\S+)$", text, re.M))


def import_run(args, delay):
    """wkdctl import of the ring, killed after delay seconds (None: let it
    finish).  Returns (killed, seconds, stdout)."""
    env = dict(os.environ, WKDCTL_IMPORT_BATCH=str(args.batch))
    t0 = time.monotonic()
    p = subprocess.Popen([args.wkdctl, "-s", args.store, "import",
                          args.ring], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=env)
    buf = []
    rd = threading.Thread(target=lambda: buf.append(p.stdout.read()))
    rd.start()
    killed = False
    try:
        p.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        p.kill()
        killed = True
        p.wait()
    rd.join()
    return killed, time.monotonic() - t0, b"".join(buf), p.returncode


def store_state(args, fails, what):
    """{address: fingerprint} that "wkdctl list" says is published; None
    if the store didn't open."""
    r = ctl(args, "list")
    if r.returncode != 0:
        fails.append("%s: wkdctl list: exit %d: %s" % (
            what, r.returncode, r.stderr.decode()[:200]))
        return None
    st = {}
    for line in r.stdout.decode().splitlines():
        f = line.split("\t")
        if len(f) >= 2:
            st[f[0].lower()] = f[1].upper()
    return st


def verify(args, client, fails, what, reported):
    """After a trial: returns (addresses checked, problems)."""
    bad = 0
    st = store_state(args, fails, what)
    if st is None:
        return 0, 1
    lost = sorted(reported - set(st))
    if lost:
        fails.append("%s: %d addresses reported published, not in the "
                     "store: %s" % (what, len(lost), " ".join(lost[:5])))
        bad += len(lost)
    for a, fpr in st.items():
        status, body = client.get(a)
        why = ("status %d" % status if status != 200 else
               blob_problem(body, a, fpr))
        if why is not None:
            bad += 1
            if bad <= 3:
                fails.append("%s: %s: %s" % (what, a, why))
    r = ctl(args, "backup", args.copy)
    if r.returncode != 0:
        fails.append("%s: wkdctl backup: %s" % (what,
                                                r.stderr.decode()[:200]))
        bad += 1
    try:
        os.unlink(args.copy)
    except OSError:
        pass
    return len(st), bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wkdctl", required=True)
    ap.add_argument("--store", required=True)
    ap.add_argument("--base", required=True, help="backup to restore")
    ap.add_argument("--ring", required=True)
    ap.add_argument("--users", required=True, help="addresses, one a line")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--domain", default="debian.org")
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--budget", type=float, default=75,
                    help="seconds: no trial starts after them")
    ap.add_argument("--batch", type=int, default=25)
    ap.add_argument("--rate", type=float, default=500,
                    help="the client's requests per second, at most")
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    args.host = "openpgpkey." + args.domain
    args.copy = args.store.rstrip("/") + ".check.mdb"
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    random.seed(seed)
    print("seed", seed)

    with open(args.users) as f:
        addrs = [l.strip().lower() for l in f if "@" in l]
    stats = {"requests": 0, "ok200": 0, "ok404": 0, "other": 0, "bad": 0,
             "fails": []}
    fails = stats["fails"]
    client = Client(args.port, args.ca, args.host, args.domain)
    loop = Loop(args, addrs, stats)
    loop.start()
    t0 = time.monotonic()

    # A whole import first: how long one takes, where to kill the next.
    killed, full, out, rc = import_run(args, None)
    if rc not in (0, 3):
        fails.append("the first, whole import: exit %d" % rc)
    n, bad = verify(args, client, fails, "whole import", published(out))
    print("import_seconds %.3f" % full)
    print("import_published %d" % n)

    trials = nkilled = checked = problems = nreported = 0
    while trials < args.trials and time.monotonic() - t0 < args.budget:
        trials += 1
        what = "trial %d" % trials
        r = ctl(args, "restore", args.base)
        if r.returncode != 0:
            fails.append("%s: restore: %s" % (what, r.stderr.decode()))
            problems += 1
            break
        # Within the first 80 %: a loaded machine's imports vary.
        killed, secs, out, rc = import_run(args,
                                           random.uniform(0.01, 0.8 * full))
        nkilled += killed
        rep = published(out)
        nreported += len(rep)
        n, bad = verify(args, client, fails, what, rep)
        checked += n
        problems += bad

    # Recovery: a last import to its end serves everything.
    r = ctl(args, "restore", args.base)
    if r.returncode != 0:
        fails.append("last restore: %s" % r.stderr.decode())
    killed, secs, out, rc = import_run(args, None)
    if rc not in (0, 3):
        fails.append("the last, whole import: exit %d" % rc)
    n, bad = verify(args, client, fails, "last import", published(out))
    if n != len(published(out)) and not bad:
        fails.append("last import: %d published, %d in the store" %
                     (len(published(out)), n))
    problems += bad
    loop.stop.set()
    loop.join()
    print("trials", trials)
    print("killed", nkilled)
    print("reported", nreported)
    print("checked", checked)
    print("problems", problems)
    print("last_published", n)
    print("seconds %.1f" % (time.monotonic() - t0))
    for k in ("requests", "ok200", "ok404", "other", "bad"):
        print(k, stats[k])
    for f in fails:
        print("fail", f)
    return 1 if fails or problems else 0


if __name__ == "__main__":
    sys.exit(main())
