"""The TCP readiness probes on a host holding many sockets. Every probe reads
/proc/net/tcp{,6}, which the kernel writes out whole, one line a socket: on
a busy host one probe costs what the table costs. A helper holds N listening
sockets in a network namespace of its own (several processes, the per-process
descriptor limit being what it is), and each probe runs in that namespace:

- one probe, the rendered script's own `ik_listening` (the unit's loop runs
  the same grep): for a port nobody listens on (the whole table is read) and
  for one that is held (grep stops at the line);
- the SysV script's wait (`ik_wait_ready`, taken from the rendered script)
  and the systemd unit's ExecStartPost loop, each left to wait for a port
  that never opens: how many probes a second, and the CPU they burn;
- the front-end's check that a port is free before `install --start`
  (`install --dry-run --start` of N instances, each on its own port).
"""
import os, re, shutil, subprocess, sys, tempfile, time

from common import INITKIT, PORT_BASE, measure
from scale import recipe_file

COUNTS = [int(n) for n in os.environ.get("BENCH_SOCKETS", "0,20000,100000").split(",")]
WAIT_S = 1.0  # how long each wait loop is left to poll
PROBES = 10  # probes timed back to back

# Holds argv[1] listening sockets (ports BASE .. BASE+89, on as many loopback
# addresses as that takes) until its stdin closes; says "ready" when all are open.
HOLDER = r"""
import os, resource, socket, sys
n, base = int(sys.argv[1]), int(sys.argv[2])
os.system("ip link set lo up")
_, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
try:
    resource.setrlimit(resource.RLIMIT_NOFILE, (1 << 20, 1 << 20))
    hard = 1 << 20
except (ValueError, OSError):
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
per = max(1, min(hard - 64, 200000))
made, kids = 0, []
while made < n:
    count = min(per, n - made)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        held = []
        for idx in range(made, made + count):
            a = idx // 90
            s = socket.socket()
            s.bind((f"127.{1 + a // 250}.{a % 250}.1", base + idx % 90))
            s.listen(1)
            held.append(s)
        os.write(w, b"x")
        sys.stdin.read()
        os._exit(0)
    os.close(w)
    if os.read(r, 1) != b"x":
        sys.exit("holder: a child could not open its sockets")
    os.close(r)
    kids.append(pid)
    made += count
print("ready", len(kids), flush=True)
sys.stdin.read()
for pid in kids:
    os.waitpid(pid, 0)
"""


def section(text, path):
    """One artifact of `render`'s output to stdout."""
    return text.split(f"# ==> {path} <==\n", 1)[1].split("\n# ==> ", 1)[0]


def rendered(scratch):
    path = recipe_file(scratch, "ikbench")
    render = lambda t: subprocess.run([INITKIT, "render", f"{path}@i0", "--target", t],
                                      check=True, capture_output=True, text=True).stdout
    script = section(render("sysv"), "/etc/init.d/ikbench")
    # Every function, none of the command line; ik_listening counts its calls on fd 3.
    library = script[:script.rindex('ik_main "$@"')]
    library = library.replace("ik_listening() {\n", "ik_listening() {\n    printf . >&3\n", 1)
    unit = section(render("systemd"), "/etc/systemd/system/ikbench@.service")
    line = re.search(r'^ExecStartPost=/usr/bin/timeout \S+ /bin/sh -c "(.*)" initkit-ready', unit, re.M).group(1)
    loop = line.replace('\\"', '"').replace("$$", "$").replace("%%", "%").replace("\\\\", "\\")
    loop = loop.replace("until grep", "until printf . >&3; grep", 1)
    return library, loop


def in_net(holder, *cmd):
    return ["nsenter", f"--net=/proc/{holder.pid}/ns/net", "--", *cmd]


def polls(holder, counter, script, *args):
    """Runs a wait loop in the holder's namespace; (probes a second, CPU share, probes)."""
    open(counter, "w").close()
    r = measure(in_net(holder, "sh", "-c", f'exec 3>>"{counter}"; {script}', "initkit-bench", *args))
    n = os.path.getsize(counter)
    return n / r.wall, (r.user + r.sys) / r.wall, n


def one_probe(holder, library, counter, port):
    """Seconds one `ik_listening` takes (PROBES of them, less a shell that runs none)."""
    loop = 'i=0; while [ "$i" -lt "$1" ]; do ik_listening 127.0.0.1:"$2"; i=$((i + 1)); done'
    cost = []
    for count in (0, PROBES):
        cost.append(min(measure(in_net(holder, "sh", "-c", f'exec 3>"{counter}"; {library}\n{loop}',
                                       "initkit-bench", str(count), str(port))).wall for _ in range(3)))
    return (cost[1] - cost[0]) / PROBES


def main():
    scratch = tempfile.mkdtemp(prefix="initkit-bench-sockets.")
    counter = os.path.join(scratch, "probes")
    library, loop = rendered(scratch)
    recipe = os.path.join(scratch, "ikbench.toml")
    absent, held = PORT_BASE + 95, PORT_BASE + 45
    sleeper = subprocess.Popen(["sleep", "600"])
    rows = []
    try:
        for n in COUNTS:
            holder = subprocess.Popen(["unshare", "--net", sys.executable, "-c", HOLDER, str(n), str(PORT_BASE)],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            try:
                if not holder.stdout.readline().startswith("ready"):
                    raise RuntimeError(f"the helper could not hold {n} sockets")
                probe_absent = one_probe(holder, library, counter, absent)
                probe_held = one_probe(holder, library, counter, held) if n else float("nan")
                wait = (f'{library}\nsleep 600 & p=$!; ik_stat "$p"; READY_TIMEOUT_MS={int(WAIT_S * 1000)}; '
                        f'v_port={absent}; ik_wait_ready "$p" "$ik_start"; kill "$p"')
                sysv = polls(holder, counter, wait)
                unit = polls(holder, counter, f"timeout {WAIT_S} sh -c '{loop}' initkit-ready {sleeper.pid} "
                             f"127.0.0.1:{absent}")
                front = []
                for k in (1, 10):
                    specs = [f"{recipe}@i{j}" for j in range(k)]
                    sets = [f"--set=i{j}:port={PORT_BASE + 90 + j}" for j in range(k)]
                    front.append(measure(in_net(holder, INITKIT, "install", *specs, *sets, "--target", "sysv",
                                                "--start", "--dry-run")).wall)
                rows.append((n, probe_absent, probe_held, sysv, unit, front))
            finally:
                holder.stdin.close()
                holder.wait()
    finally:
        sleeper.kill()
        sleeper.wait()
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"\nTCP readiness probes with N listening sockets on the host (a network namespace of the benchmark's)")
    print(f"  {'N':>7} {'one probe: port free':>21} {'held':>9}   {'SysV wait: probes/s':>19} {'CPU':>5}"
          f"   {'unit wait: probes/s':>19} {'CPU':>5}   {'install --start check, 1 / 10 instances':>41}")
    for n, pa, ph, (s_rate, s_cpu, _), (u_rate, u_cpu, _), (f1, f10) in rows:
        print(f"  {n:>7} {pa * 1000:>18.2f} ms {ph * 1000:>6.2f} ms   {s_rate:>19.0f} {s_cpu:>4.0%}"
              f"   {u_rate:>19.1f} {u_cpu:>4.0%}   {f1 * 1000:>25.1f} ms / {f10 * 1000:>7.1f} ms")


if __name__ == "__main__":
    main()
