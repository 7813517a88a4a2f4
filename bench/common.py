"""What every part of the benchmark shares: the binary, the run count, running
a command with its time and peak memory, and the format of a figure."""
import os, statistics, subprocess, sys, tempfile, time
from collections import namedtuple

INITKIT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/release/initkit")
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
# Every daemon the benchmark starts listens on a port from here on (base+1 .. base+23);
# the many-sockets helper keeps base .. base+99 inside a network namespace of its own.
PORT_BASE = int(os.environ.get("BENCH_PORT_BASE", "19700"))
STARTED = []  # (kind, value) to stop at the end, whatever happens

# wall and CPU seconds, peak RSS in KiB (the largest of the process and its children), exit code
Run = namedtuple("Run", "wall user sys rss code")


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def measure(cmd, stdin=None):
    """Runs `cmd` and returns its Run: wall time here, CPU from wait4's
    rusage (the command and everything it waited for), peak RSS from
    /usr/bin/time, whose small image is what a fork from it starts with
    (a child forked from this Python would count Python's pages as its peak)."""
    with tempfile.NamedTemporaryFile("r") as rss:
        t0 = time.monotonic()
        p = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", rss.name, *cmd], stdin=stdin,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        kib = int(rss.read().split()[-1])
    return Run(wall, ru.ru_utime, ru.ru_stime, kib, p.returncode)


def ms(x):
    return f"{x * 1000:8.1f} ms"


def median(xs):
    return statistics.median(xs) if xs else float("nan")
