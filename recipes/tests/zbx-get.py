# a passive Zabbix agent check (the zabbix_get protocol): prints the value of one item key
import socket, struct, sys
host, port, key = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
s = socket.create_connection((host, port), timeout=5)
s.sendall(b"ZBXD\x01" + struct.pack("<II", len(key), 0) + key)
buf = b""
while True:
    c = s.recv(4096)
    if not c:
        break
    buf += c
if buf[:4] != b"ZBXD":
    sys.exit("not a Zabbix answer")
n = struct.unpack("<I", buf[5:9])[0]
print(buf[13:13 + n].decode(errors="replace"))
