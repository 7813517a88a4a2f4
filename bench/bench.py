#!/usr/bin/env python3
"""initkit's benchmark: ratios side by side in one run, not asserted timings.

Run as root on Debian with redis, memcached and nginx installed, and no
systemd running: bench/run.sh. Every daemon it starts listens on a port from
BENCH_PORT_BASE (default 19700) to base+99, Debian's own included (each of
Debian's scripts runs in a private mount namespace where its daemon's config
file is a copy with that port); nothing on the host is changed.

What it prints, in this order (times in ms; "Nx" a ratio within this run):

1. `render, per invocation`: median and max wall time of `initkit render`
   for 7 catalogue recipes x 2 targets (process start included).
2. Per daemon (redis, memcached, nginx):
   - `restart window`: the longest time the port refused connections during
     a restart, median of BENCH_RUNS, for the bare limit (signal, wait for
     exit on /proc, exec), initkit's SysV script and Debian's, each with its
     ratio to the limit and `probe every A ms, max B ms`: the median and
     largest interval between two connection probes inside the windows, the
     resolution of that figure (non-blocking connects, each given 1 ms to
     complete; BENCH_PROBE_MS, default 0.5, sets the pace);
   - `stop`: from the daemon's exit until the script's `stop` returns.
3. `scale` (bench/scale.py): one table, a row per command and size (N = 10,
   100, 1000 instances; 10, 50, 200 installed services for list): wall time,
   time per instance, growth (time per instance over that at the smallest N;
   above 1 grows faster than N), CPU time (user + system, the command and
   what it waited for) and peak RSS.
4. `TCP readiness probes` (bench/sockets.py): a row per number of listening
   sockets held (0, 20,000, 100,000): one probe for a free port and a held
   one; probes a second and CPU share of the SysV script's wait and the
   systemd unit's wait; `install --dry-run --start` of 1 and 10 instances.

5. `handover` (bench/handover.py): nginx and haproxy under an HTTP load during
   20 restarts by the SysV script, with the recipe's handover and without
   (a plain restart), side by side: requests, failed, refused.

BENCH_RUNS=N (default 5) sets the runs of 1 and 2; see scale.py, sockets.py
and handover.py for theirs. BENCH_PARTS (default "render,daemons,scale,sockets,handover")
runs only the parts it names. On a shared machine the numbers are noisy; compare
the ratios within one run.
"""
import errno, glob, os, re, select, shutil, signal, socket, struct, subprocess, sys, tempfile, threading, time

from common import INITKIT, PORT_BASE, RUNS, STARTED, median, ms, sh
import handover, scale, sockets

RECIPES = ["haproxy", "mariadb", "memcached", "nginx", "php-fpm", "postgresql", "redis"]
PROBE_PERIOD = float(os.environ.get("BENCH_PROBE_MS", "0.5")) / 1000
PROBE_WAIT_MS = 1  # a connect that has not completed by then counts as refused


def gone(pid):
    """Exited: no /proc entry, or a zombie (kill -0 would call it alive)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def port_open(port):
    """A non-blocking connect, given PROBE_WAIT_MS to complete (loopback
    answers at once; a full backlog hangs, and counts as refused). Closed
    with a reset, so thousands of probes leave no TIME_WAIT behind."""
    s = socket.socket()
    s.setblocking(False)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    try:
        err = s.connect_ex(("127.0.0.1", port))
        if err == errno.EINPROGRESS:
            p = select.poll()
            p.register(s, select.POLLOUT)
            if not p.poll(PROBE_WAIT_MS):
                return False
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        return err == 0
    finally:
        s.close()


def wait_for(cond, timeout=20.0):
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise TimeoutError("condition not met")
        time.sleep(0.002)


def restart_window(port, action):
    """The longest stretch the port refused connections while `action` ran,
    and the intervals between the probes inside that stretch."""
    samples, done = [], threading.Event()

    def monitor():
        due = time.monotonic()
        while not done.is_set():
            samples.append((time.monotonic(), port_open(port)))
            due += PROBE_PERIOD
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            else:
                due = time.monotonic()

    t = threading.Thread(target=monitor)
    t.start()
    action()
    wait_for(lambda: port_open(port))
    time.sleep(0.01)
    done.set()
    t.join()
    worst, last_ok, gaps = 0.0, None, []
    down_since = None
    for k, (at, ok) in enumerate(samples):
        if ok:
            if down_since is not None and last_ok is not None and at - last_ok >= worst:
                worst = at - last_ok
                inside = [t for t, _ in samples if last_ok <= t <= at]
                gaps = [b - a for a, b in zip(inside, inside[1:])]
            last_ok, down_since = at, None
        elif down_since is None:
            down_since = at
    return worst, gaps


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
            return int(f.read().split()[0])


class Debian:
    """Debian's init script for a daemon, run each time in a private mount
    namespace where the daemon's config file is `config` (a copy on our port)."""

    def __init__(self, script, original, config, pidfile, port):
        self.script, self.original, self.config, self.pidfile, self.port = script, original, config, pidfile, port

    def argv(self, action):
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                'mount --bind "$1" "$2" && exec "$3" "$4"', "bench", self.config, self.original, self.script, action]

    def run(self, action, check=True):
        return sh(*self.argv(action), check=check)

    def pid(self):
        """The PID in Debian's pidfile, which its script may return before the daemon writes."""
        deadline = time.monotonic() + 5
        while True:
            try:
                with open(self.pidfile) as f:
                    return int(f.read().split()[0])
            except (OSError, IndexError, ValueError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.001)


def debian_config(conf, original, edit):
    """A copy of a Debian config file, changed by `edit`, readable by the daemon's user."""
    with open(original) as f:
        text = edit(f.read())
    path = os.path.join(conf, "debian-" + os.path.basename(original))
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)
    return path


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


def windows(port, action):
    """RUNS restart windows, and the intervals between probes inside them."""
    runs = [restart_window(port, action) for _ in range(RUNS)]
    return [w for w, _ in runs], [g for _, gaps in runs for g in gaps]


def bench_daemon(label, ours, our_port, debian, bare_argv, bare_user, bare_port):
    rows = {}
    # initkit's script
    sh(ours.script, "start")
    wait_for(lambda: port_open(our_port))
    rows["initkit"] = windows(our_port, lambda: sh(ours.script, "restart"))
    stops_ours = []
    for _ in range(RUNS):
        pid = ours.pid()
        stops_ours.append(stop_latency(pid, [ours.script, "stop"]))
        sh(ours.script, "start")
    sh(ours.script, "stop")
    # Debian's script
    STARTED.append(("debian", debian))
    debian.run("start")
    wait_for(lambda: port_open(debian.port))
    rows["Debian"] = windows(debian.port, lambda: debian.run("restart"))
    stops_debian = []
    for _ in range(RUNS):
        wait_for(lambda: os.path.exists(debian.pidfile))
        stops_debian.append(stop_latency(debian.pid(), debian.argv("stop")))
        debian.run("start")
        wait_for(lambda: port_open(debian.port))
    debian.run("stop", check=False)
    # the bare limit
    pre = ["setpriv", f"--reuid={bare_user}", f"--regid={bare_user}", "--init-groups", "--"] if bare_user else []
    p = subprocess.Popen(pre + bare_argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    STARTED.append(("pid", p.pid))
    wait_for(lambda: port_open(bare_port))
    holder = {"pid": p.pid}
    rows["bare limit"] = windows(
        bare_port, lambda: holder.update(pid=bare_restart(holder["pid"], bare_argv, bare_port, bare_user)))
    pid = holder["pid"]
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: gone(pid))
    limit = median(rows["bare limit"][0])
    print(f"\n{label}: restart window (port refusing connections), median of {RUNS}")
    for who in ("bare limit", "initkit", "Debian"):
        m, gaps = median(rows[who][0]), rows[who][1]
        ratio = m / limit if limit > 0 else float("nan")
        print(f"  {who:11} {ms(m)}   {ratio:6.1f}x the limit   "
              f"(probe every {median(gaps) * 1000:.2f} ms, max {max(gaps, default=float('nan')) * 1000:.2f} ms)")
    so, sd = median(stops_ours), median(stops_debian)
    print(f"{label}: stop, from the daemon's exit until the script returns, median of {RUNS}")
    print(f"  initkit     {ms(so)}\n  Debian      {ms(sd)}   ({sd / so if so > 0 else float('nan'):.0f}x initkit's)")


def main():
    if os.geteuid() != 0:
        sys.exit("bench: run as root")
    if os.path.isdir("/run/systemd/system"):
        sys.exit("bench: systemd is running; Debian's scripts would hand over to it")
    parts = os.environ.get("BENCH_PARTS", "render,daemons,scale,sockets,handover").split(",")
    if "render" in parts:
        bench_render()
    if "daemons" in parts:
        bench_daemons()
    if "scale" in parts:
        scale.main()
    if "sockets" in parts:
        sockets.main()
    if "handover" in parts:
        handover.main()


def bench_daemons():
    """Restart windows and stop latency of redis, memcached and nginx: the limit, ours, Debian's."""
    conf = tempfile.mkdtemp(prefix="initkit-bench-conf.")
    os.chmod(conf, 0o777)
    STARTED.append(("dir", conf))
    base = PORT_BASE
    redis = Ours("redis", f"port={base + 1}\n")
    debian_redis = Debian("/etc/init.d/redis-server", "/etc/redis/redis.conf",
                          debian_config(conf, "/etc/redis/redis.conf",
                                        lambda t: re.sub(r"(?m)^port \d+$", f"port {base + 3}", t)),
                          "/run/redis/redis-server.pid", base + 3)
    bench_daemon("redis", redis, base + 1, debian_redis,
                 ["/usr/bin/redis-server", "/etc/redis/redis.conf", "--port", str(base + 2), "--daemonize", "no",
                  "--logfile", "", "--pidfile", "", "--dir", conf], "redis", base + 2)
    mem = Ours("memcached", f"port={base + 11}\n")
    debian_mem = Debian("/etc/init.d/memcached", "/etc/memcached.conf",
                        debian_config(conf, "/etc/memcached.conf",
                                      lambda t: re.sub(r"(?m)^-p \d+$", f"-p {base + 13}", t)),
                        "/run/memcached/memcached.pid", base + 13)
    bench_daemon("memcached", mem, base + 11, debian_mem,
                 ["/usr/bin/memcached", "-p", str(base + 12), "-U", "0", "-l", "127.0.0.1"], "memcache", base + 12)
    nginx_conf = f"{conf}/nginx.conf"
    text = (f"worker_processes 1; pid {conf}/nginx.pid; error_log {conf}/error.log;\n"
            "events { worker_connections 64; }\n"
            f"http {{ access_log off; client_body_temp_path {conf}/tmp; server {{ listen 127.0.0.1:PORT; return 200; }} }}\n")
    ours_conf, bare_conf = f"{conf}/ours.conf", f"{conf}/bare.conf"
    open(ours_conf, "w").write(text.replace("PORT", str(base + 21)))
    open(bare_conf, "w").write(text.replace("PORT", str(base + 22)).replace("nginx.pid", "bare.pid"))
    # Debian's script reads the pidfile's path from /etc/nginx/nginx.conf, which is this one in its namespace.
    open(nginx_conf, "w").write(text.replace("PORT", str(base + 23)).replace(f"{conf}/nginx.pid", "/run/nginx.pid"))
    os.chmod(nginx_conf, 0o644)
    nginx = Ours("nginx", f"config={ours_conf}\nport={base + 21}\n")
    debian_nginx = Debian("/etc/init.d/nginx", "/etc/nginx/nginx.conf", nginx_conf, "/run/nginx.pid", base + 23)
    bench_daemon("nginx", nginx, base + 21, debian_nginx,
                 ["/usr/sbin/nginx", "-c", bare_conf, "-g", "daemon off;"], None, base + 22)


def cleanup():
    """Stop everything this run started, by script or by PID, and remove scratch roots."""
    for kind, what in reversed(STARTED):
        if kind == "ours":
            sh(what.script, "stop", check=False)
            shutil.rmtree(what.root, ignore_errors=True)
        elif kind == "debian":
            what.run("stop", check=False)
        elif kind == "dir":
            shutil.rmtree(what, ignore_errors=True)
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
