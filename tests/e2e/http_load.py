#!/usr/bin/env python3
"""An HTTP load that counts failed requests, for the handover suites and the
benchmark: one new connection per request (so a moment with no listener is a
refused connection), from THREADS threads, until STOPFILE exists.

Usage: http_load.py PORT STOPFILE [THREADS]
Prints one line at the end: `requests=N failed=M refused=R` (refused counts
the connects the kernel refused; failed counts every request that did not get
an HTTP 200: refused, reset, timed out or another status), then the first
few errors, one a line, prefixed with `error: `.
"""
import os, socket, sys, threading, time

PORT = int(sys.argv[1])
STOPFILE = sys.argv[2]
THREADS = int(sys.argv[3]) if len(sys.argv) > 3 else 2
REQUEST = b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"

lock = threading.Lock()
totals = {"requests": 0, "failed": 0, "refused": 0}
errors = []


def one():
    """One request on a fresh connection: None when it got a 200, else why."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        try:
            s.connect(("127.0.0.1", PORT))
        except ConnectionRefusedError:
            return "refused"
        s.sendall(REQUEST)
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        status = data.split(b"\r\n", 1)[0]
        if b" 200 " not in status + b" ":
            return f"status {status[:60]!r}"
        return None
    except OSError as e:
        return f"{type(e).__name__}: {e}"
    finally:
        s.close()


def worker():
    while not os.path.exists(STOPFILE):
        why = one()
        with lock:
            totals["requests"] += 1
            if why is not None:
                totals["failed"] += 1
                if why == "refused":
                    totals["refused"] += 1
                if len(errors) < 5:
                    errors.append(f"{time.monotonic():.3f} {why}")


threads = [threading.Thread(target=worker) for _ in range(THREADS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"requests={totals['requests']} failed={totals['failed']} refused={totals['refused']}")
for e in errors:
    print(f"error: {e}")
