import socket, sys, json
s = socket.socket(socket.AF_UNIX); s.settimeout(3); s.connect(sys.argv[1])
s.sendall(json.dumps({"command": sys.argv[2]}).encode()); data=b""
while True:
    b = s.recv(65536)
    if not b: break
    data += b
print(data.decode())
