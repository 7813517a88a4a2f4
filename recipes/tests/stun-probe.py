# STUN Binding Request (RFC 5389) over UDP: exits 0 when a Binding Success Response comes back
import os, socket, struct, sys
host, port = sys.argv[1], int(sys.argv[2])
tid = os.urandom(12)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(struct.pack("!HHI", 0x0001, 0, 0x2112A442) + tid, (host, port))
try:
    data, _ = s.recvfrom(2048)
except OSError as e:
    sys.exit("no STUN answer: %s" % e)
kind, _, cookie = struct.unpack("!HHI", data[:8])
sys.exit(0 if kind == 0x0101 and cookie == 0x2112A442 and data[8:20] == tid else "not a Binding Success Response")
