#!/usr/bin/env python3
# rawtls.py PORT CAFILE NAME: send stdin's bytes as is over TLS, print each
# response's status line and "closed" or "open" (a 3 s wait).
import socket, ssl, sys, time
port, ca, name = int(sys.argv[1]), sys.argv[2], sys.argv[3]
data = sys.stdin.buffer.read()
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), 10), server_hostname=name)
s.sendall(data)
s.settimeout(3)
buf = b""
state = "open"
try:
    while True:
        b = s.recv(65536)
        if not b:
            state = "closed"
            break
        buf += b
except socket.timeout:
    pass
except (ConnectionResetError, ssl.SSLError):
    state = "closed"
for line in buf.split(b"\r\n"):
    if line.startswith(b"HTTP/"):
        print(line.decode("latin-1"))
print(state)
