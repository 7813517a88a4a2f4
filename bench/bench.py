#!/usr/bin/env python3
"""initkit's benchmark: ratios side by side in one run, not asserted timings.

1. render: wall time per invocation of `initkit render` for every catalogue
   recipe x target (process start included);
2. stop latency: time from the daemon's exit until `/etc/init.d/... stop`
   returns, for initkit's script and Debian's;
3. restart window: how long the port refuses connections during a restart,
   for initkit's script, Debian's script, and the bare limit (signal, wait for
   exit on /proc, exec).

Run as root on Debian with the daemons installed: bench/run.sh.
"""
import glob, os, shutil, signal, socket, statistics, subprocess, sys, tempfile, threading, time

INITKIT = sys.argv[1] if len(sys.argv) > 1 else "target/release/initkit"
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
STARTED = []  # (kind, value) to stop at the end, whatever happens
RECIPES = ["haproxy", "mariadb", "memcached", "nginx", "php-fpm", "postgresql", "redis"]


def gone(pid):
    """Exited: no /proc entry, or a zombie (kill -0 would call it alive)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def port_open(port):
    s = socket.socket()
    s.settimeout(0.005)  # loopback answers at once; a hang counts as refused, in 5 ms steps
    try:
        s.connect(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def wait_for(cond, timeout=20.0):
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise TimeoutError("condition not met")
        time.sleep(0.002)


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def restart_window(port, action):
    """The longest stretch the port refused connections while `action` ran."""
    samples, done = [], threading.Event()

    def monitor():
        while not done.is_set():
            samples.append((time.monotonic(), port_open(port)))

    t = threading.Thread(target=monitor)
    t.start()
    action()
    wait_for(lambda: port_open(port))
    time.sleep(0.01)
    done.set()
    t.join()
    worst, last_ok = 0.0, None
    down_since = None
    for at, ok in samples:
        if ok:
            if down_since is not None and last_ok is not None:
                worst = max(worst, at - last_ok)
            last_ok, down_since = at, None
        elif down_since is None:
            down_since = at
    return worst


def stop_latency(pid, cmd):
    """Time from the daemon's exit until the stop command returns."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    exited = None
    while proc.poll() is None:
        if exited is None and gone(pid):
            exited = time.monotonic()
        time.sleep(0.0005)
    returned = time.monotonic()
    if exited is None:
        exited = returned
    return returned - exited


def ms(x):
    return f"{x * 1000:8.1f} ms"


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def bench_render():
    times = []
    for name in RECIPES:
        for target in ("systemd", "sysv"):
            for _ in range(RUNS):
                t0 = time.monotonic()
                sh(INITKIT, "render", name, "--target", target)
                times.append(time.monotonic() - t0)
    print(f"render, per invocation (7 recipes x 2 targets x {RUNS}): median {ms(median(times))}, max {ms(max(times))}")
    print("  (for reference, DESIGN.md measured foreman export at 140 ms and pm2 startup at 290 ms)")


class Ours:
    """A rendered SysV script inside a scratch root, for one daemon."""

    def __init__(self, name, settings):
        self.root = tempfile.mkdtemp(prefix="initkit-bench.")
        os.chmod(self.root, 0o755)
        sh(INITKIT, "render", name, "--target", "sysv", "--prefix", self.root, "--out", "/")
        self.script = f"{self.root}/etc/init.d/{name}"
        self.name = name
        STARTED.append(("ours", self))
        os.makedirs(f"{self.root}/etc/default", exist_ok=True)
        with open(f"{self.root}/etc/default/{name}", "w") as f:
            f.write(settings)

    def pid(self):
        (pidfile,) = glob.glob(f"{self.root}/run/initkit/{self.name}/*.pid")
        with open(pidfile) as f:
            return int(f.read())


def debian_pid(pidfile):
    with open(pidfile) as f:
        return int(f.read().split()[0])


def bare_restart(pid, argv, port, user=None):
    """The physical limit: signal, wait for exit on /proc, exec the daemon again."""
    os.kill(pid, signal.SIGTERM)
    while not gone(pid):
        time.sleep(0.0002)
    pre = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--"] if user else []
    p = subprocess.Popen(pre + argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    STARTED.append(("pid", p.pid))
    wait_for(lambda: port_open(port))
    return p.pid


def bench_daemon(label, ours, our_port, debian_script, debian_pidfile, debian_port, bare_argv, bare_user, bare_port):
    rows = {}
    # initkit's script
    sh(ours.script, "start")
    wait_for(lambda: port_open(our_port))
    rows["initkit"] = [restart_window(our_port, lambda: sh(ours.script, "restart")) for _ in range(RUNS)]
    stops_ours = []
    for _ in range(RUNS):
        pid = ours.pid()
        stops_ours.append(stop_latency(pid, [ours.script, "stop"]))
        sh(ours.script, "start")
    sh(ours.script, "stop")
    # Debian's script
    STARTED.append(("debian", debian_script))
    sh(debian_script, "start")
    wait_for(lambda: port_open(debian_port))
    rows["Debian"] = [restart_window(debian_port, lambda: sh(debian_script, "restart")) for _ in range(RUNS)]
    stops_debian = []
    for _ in range(RUNS):
        wait_for(lambda: os.path.exists(debian_pidfile))
        pid = debian_pid(debian_pidfile)
        stops_debian.append(stop_latency(pid, [debian_script, "stop"]))
        sh(debian_script, "start")
        wait_for(lambda: port_open(debian_port))
    sh(debian_script, "stop", check=False)
    # the bare limit
    pre = ["setpriv", f"--reuid={bare_user}", f"--regid={bare_user}", "--init-groups", "--"] if bare_user else []
    p = subprocess.Popen(pre + bare_argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    STARTED.append(("pid", p.pid))
    wait_for(lambda: port_open(bare_port))
    pid, windows = p.pid, []
    for _ in range(RUNS):
        holder = {}
        windows.append(restart_window(bare_port, lambda: holder.update(pid=bare_restart(pid, bare_argv, bare_port, bare_user))))
        pid = holder["pid"]
    rows["bare limit"] = windows
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: gone(pid))
    limit = median(rows["bare limit"])
    print(f"\n{label}: restart window (port refusing connections), median of {RUNS}")
    for who in ("bare limit", "initkit", "Debian"):
        m = median(rows[who])
        print(f"  {who:11} {ms(m)}   {m / limit if limit > 0 else float('nan'):6.1f}x the limit")
    so, sd = median(stops_ours), median(stops_debian)
    print(f"{label}: stop, from the daemon's exit until the script returns, median of {RUNS}")
    print(f"  initkit     {ms(so)}\n  Debian      {ms(sd)}   ({sd / so if so > 0 else float('nan'):.0f}x initkit's)")


def main():
    if os.geteuid() != 0:
        sys.exit("bench: run as root")
    if os.path.isdir("/run/systemd/system"):
        sys.exit("bench: systemd is running; Debian's scripts would hand over to it")
    bench_render()
    conf = tempfile.mkdtemp(prefix="initkit-bench-conf.")
    os.chmod(conf, 0o777)
    redis = Ours("redis", "port=17201\n")
    bench_daemon("redis", redis, 17201, "/etc/init.d/redis-server", "/run/redis/redis-server.pid", 6379,
                 ["/usr/bin/redis-server", "/etc/redis/redis.conf", "--port", "17202", "--daemonize", "no", "--logfile", "",
                  "--pidfile", "", "--dir", conf], "redis", 17202)
    mem = Ours("memcached", "port=17211\n")
    bench_daemon("memcached", mem, 17211, "/etc/init.d/memcached", "/run/memcached/memcached.pid", 11211,
                 ["/usr/bin/memcached", "-p", "17212", "-U", "0", "-l", "127.0.0.1"], "memcache", 17212)
    nginx_conf = f"{conf}/nginx.conf"
    with open(nginx_conf, "w") as f:
        f.write(f"worker_processes 1; pid {conf}/nginx.pid; error_log {conf}/error.log;\n"
                "events { worker_connections 64; }\n"
                f"http {{ access_log off; client_body_temp_path {conf}/tmp; server {{ listen 127.0.0.1:PORT; return 200; }} }}\n")
    text = open(nginx_conf).read()
    ours_conf, bare_conf = f"{conf}/ours.conf", f"{conf}/bare.conf"
    open(ours_conf, "w").write(text.replace("PORT", "17221"))
    open(bare_conf, "w").write(text.replace("PORT", "17222").replace("nginx.pid", "bare.pid"))
    nginx = Ours("nginx", f"config={ours_conf}\nport=17221\n")
    bench_daemon("nginx", nginx, 17221, "/etc/init.d/nginx", "/run/nginx.pid", 80,
                 ["/usr/sbin/nginx", "-c", bare_conf, "-g", "daemon off;"], None, 17222)


def cleanup():
    """Stop everything this run started, by script or by PID, and remove scratch roots."""
    for kind, what in reversed(STARTED):
        if kind == "ours":
            sh(what.script, "stop", check=False)
            shutil.rmtree(what.root, ignore_errors=True)
        elif kind == "debian":
            sh(what, "stop", check=False)
        elif not gone(what):
            try:
                os.kill(what, signal.SIGKILL)
            except ProcessLookupError:
                pass


if __name__ == "__main__":
    try:
        main()
    finally:
        cleanup()
