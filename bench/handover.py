"""The handover figure: failed and refused requests of an HTTP load while
nginx and haproxy are restarted BENCH_HANDOVER_RESTARTS times (default 20) by
their SysV scripts, with the catalogue recipe's `[restart.handover]` and with
a copy of the recipe without it (a plain restart: stop, then start), side by
side. The load (tests/e2e/http_load.py) opens a new connection per request,
from 2 threads, so any moment with no listener is a refused connection.
Ports BENCH_PORT_BASE+40 and +41; scratch under /tmp/h-handover-bench.*."""
import os, re, shutil, subprocess, tempfile, time

from common import INITKIT, PORT_BASE, STARTED

HERE = os.path.dirname(os.path.abspath(__file__))
LOAD = os.path.join(HERE, "..", "tests", "e2e", "http_load.py")
RECIPES = os.path.join(HERE, "..", "recipes")
RESTARTS = int(os.environ.get("BENCH_HANDOVER_RESTARTS", "20"))


class Service:
    """One SysV script rendered into a scratch root, with its settings."""

    def __init__(self, recipe_file, name, settings):
        self.root = tempfile.mkdtemp(prefix="h-handover-bench.", dir="/tmp")
        os.chmod(self.root, 0o755)
        subprocess.run([INITKIT, "render", recipe_file, "--target", "sysv", "--prefix", self.root, "--out", "/"],
                       check=True, stdout=subprocess.DEVNULL)
        os.makedirs(f"{self.root}/etc/default", exist_ok=True)
        open(f"{self.root}/etc/default/{name}", "w").write(settings)
        self.script = f"{self.root}/etc/init.d/{name}"
        self.root_dir = self.root
        STARTED.append(("ours", self))

    def run(self, action):
        return subprocess.run([self.script, action], capture_output=True, text=True)


def configs(d, port):
    os.makedirs(f"{d}/tmp", exist_ok=True)
    open(f"{d}/nginx.conf", "w").write(
        f"worker_processes 1; pid {d}/nginx.pid; error_log {d}/error.log;\n"
        "events { worker_connections 256; }\n"
        f"http {{ access_log off; client_body_temp_path {d}/tmp; "
        f"server {{ listen 127.0.0.1:{port}; return 200 \"hello\\n\"; }} }}\n")
    open(f"{d}/haproxy.cfg", "w").write(
        "global\n    maxconn 512\ndefaults\n    mode http\n    timeout connect 2s\n"
        "    timeout client 5s\n    timeout server 5s\n"
        f"frontend web\n    bind 127.0.0.1:{port + 1}\n"
        "    http-request return status 200 content-type text/plain string \"hello\"\n")


def plain_copy(name, d):
    """The catalogue recipe without its [restart.handover] table."""
    text = open(f"{RECIPES}/{name}.toml").read()
    text = re.sub(r"(?ms)^\[restart\.handover\]\n.*?(?=^\[)", "", text)
    path = f"{d}/{name}.toml"
    open(path, "w").write(text)
    return path


def under_load(service, port):
    """Start, RESTARTS restarts under the load, stop: (requests, failed, refused, restarts that said handover)."""
    if service.run("start").returncode != 0:
        raise SystemExit(f"bench: {service.script} start failed")
    stop = f"{service.root_dir}/load.stop"
    load = subprocess.Popen(["python3", LOAD, str(port), stop, "2"], stdout=subprocess.PIPE, text=True)
    STARTED.append(("pid", load.pid))
    time.sleep(0.3)
    handed = 0
    for _ in range(RESTARTS):
        out = service.run("restart")
        handed += "restarted with a handover" in out.stdout
    open(stop, "w").close()
    line = load.communicate()[0].splitlines()[0]
    service.run("stop")
    counts = dict(kv.split("=") for kv in line.split())
    return int(counts["requests"]), int(counts["failed"]), int(counts["refused"]), handed


def main():
    d = tempfile.mkdtemp(prefix="h-handover-bench-conf.", dir="/tmp")
    os.chmod(d, 0o755)
    STARTED.append(("dir", d))
    port = PORT_BASE + 40
    configs(d, port)
    print(f"\nhandover: an HTTP load (a new connection a request, 2 at a time) during {RESTARTS} restarts by the SysV script")
    print(f"  {'':8} {'restart':9} {'requests':>9} {'failed':>7} {'refused':>8}  handovers")
    for name, settings, p in [("nginx", f"config={d}/nginx.conf\nport={port}\n", port),
                              ("haproxy", f"config={d}/haproxy.cfg\n", port + 1)]:
        for kind, recipe in [("handover", name), ("plain", plain_copy(name, d))]:
            requests, failed, refused, handed = under_load(Service(recipe, name, settings), p)
            print(f"  {name:8} {kind:9} {requests:9d} {failed:7d} {refused:8d}  {handed}/{RESTARTS}")
