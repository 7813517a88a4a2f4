# minimal milter client: sends one message to opendkim, prints header edits (e.g. DKIM-Signature)
import socket, struct, sys
host, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection((host, port), timeout=5)
def send(cmd, data=b""):
    s.sendall(struct.pack("!I", len(data) + 1) + cmd + data)
def recv():
    hdr = b""
    while len(hdr) < 4:
        c = s.recv(4 - len(hdr))
        if not c: raise EOFError
        hdr += c
    n = struct.unpack("!I", hdr)[0]; buf = b""
    while len(buf) < n:
        buf += s.recv(n - len(buf))
    return buf[:1], buf[1:]
z = lambda x: x.encode() + b"\0"
send(b"O", struct.pack("!III", 6, 0x1FF, 0)); recv()
def step(cmd, data):
    send(cmd, data)
    while True:
        c, d = recv()
        if c in (b"h", b"i"):
            print(d.replace(b"\0", b" ").decode(errors="replace"))
            continue
        return c
step(b"C", z("localhost") + b"4" + struct.pack("!H", 25) + z("127.0.0.1"))
step(b"H", z("localhost"))
step(b"M", z("<a@test.example>"))
step(b"R", z("<b@example.org>"))
for k, v in (("From", "a@test.example"), ("To", "b@example.org"), ("Subject", "t"), ("Date", "Mon, 1 Jan 2024 00:00:00 +0000"), ("Message-ID", "<1@test.example>")):
    step(b"L", z(k) + z(v))
step(b"N", b"")
step(b"B", b"hello\r\n")
step(b"E", b"")
send(b"Q")
