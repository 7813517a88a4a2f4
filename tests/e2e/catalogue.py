#!/usr/bin/env python3
"""The catalogue, proved under SysV on this host, under systemd in a
container and under runit in namespaces of its own: one generic harness.

Every recipe RECIPES/NAME.toml that has a test description
RECIPES/tests/NAME.toml is rendered for SysV into a fresh scratch root and
driven for real, as root, through its init script: start, the instances side
by side, reload, the config-test gate, restart, stop, kill -9 detection and
cleanup. With --target systemd the same steps run in a container booted with
systemd as PID 1 (tests/e2e/catalogue_systemd.sh boots it): each recipe is
installed there with `initkit install` and driven with `initkit` and
systemctl; what differs is in catalogue_systemd.py. With --target runit the
same in the rootfs with runsvdir as PID 1 (tests/e2e/catalogue_runit.sh):
catalogue_runit.py. Adding a service to what
this proves takes two data files and no code here.

Usage (as root, on a host where systemd is not running):
    tests/e2e/catalogue.py [--initkit PATH] [--recipes DIR] [--tests DIR]
                           [--port-base N] [--timeout S] [--scratch DIR] [-v]
                           [--jobs N] [NAME...]
    tests/e2e/catalogue.py --target systemd --container-leader PID
                           --container-root DIR [--jobs N] [...] [NAME...]
    tests/e2e/catalogue.py --list-packages [--recipes DIR] [NAME...]
Usually through tests/e2e/catalogue.sh [PATH-TO-INITKIT] [OPTIONS] [NAME...].
Prints one `  ok    NAME: STEP ...` or `  FAIL  NAME: STEP ...` line per step
(`  skip  ...` for a step that does not apply or was not run), then each
recipe's passed/failed/skipped figures and every skip, and ends with
`N passed, N failed`; exits 1 when any step failed. --jobs N runs N recipes
at a time, each in a harness of its own, each one's lines printed together.

The test description, RECIPES/tests/NAME.toml
=============================================
Top-level keys MUST come before the first [table]: TOML puts every key after
`[settings]` into the settings. Unknown keys are reported as a failure.

    packages = ["unbound", "bind9-dnsutils"]
        Debian packages the recipe and the probes need. The harness installs
        nothing (`--list-packages` prints the union for CI); it checks that the
        recipe's program (run.command[0]) and user exist, and fails clearly
        naming these packages when not.
    instances = ["a", "b"]
        The instances to run side by side. Required for a recipe with
        [instances], forbidden for one without.
    ports = 1
        Ports per instance (0 or more), exported as $PORT0, $PORT1 ... and
        usable as {port0}, {port1} ... in settings. Each recipe gets 10 ports
        from --port-base (the k-th description in the directory, in name order,
        gets BASE+10k .. BASE+10k+9; instance j's port p is BASE+10k+j*ports+p),
        so instances x ports must be at most 10. They must be free at the start
        and are checked closed (TCP listen, UDP bound) after a stop.
    check = true
        The recipe has a config test ([check]). true (the default): a broken
        config must make `restart INSTANCE` and `reload INSTANCE` exit 6 while
        the same PID keeps serving. false: the recipe has none (an error if it
        has one); restart is then not gated (reported as a skip), and
        break/repair only show that a start with the broken config fails and
        leaves the instance stopped, and that it starts once repaired.
        Older spellings: `has_check = BOOL`, `no_check = BOOL` (inverted).
    setup = '''sh'''
        Run as root (sh -c, in $DIR) before the first start of each instance:
        writes its config. The environment of every snippet (setup, probe,
        break, repair, reload.change, reload.probe, cleanup):
            $DIR       a fresh world-traversable directory for the instance,
                       $ROOT/srv/INSTANCE (or $ROOT/srv/NAME)
            $ROOT, $R  the scratch root (the --prefix of the render)
            $INSTANCE  the instance (NAME for a single-instance recipe)
            $PORT0 ..  the instance's ports
            $NAME      the recipe's name
            $SCRIPT    the rendered init script, $ROOT/etc/init.d/NAME
            $TESTS     the directory of the test description (helper scripts)
        With `namespace`, snippets run inside it too.
    probe = '''sh'''
        Exits 0 once the instance answers; polled (every 0.2 s) for up to
        `probe_timeout` seconds.
    break = '''sh'''
        Makes the first instance's config invalid.
    repair = '''sh'''
        Undoes break.
    cleanup = '''sh'''
        Optional: run once per instance after everything is stopped (e.g. to
        stop, by PID, a helper daemon the service spawned outside its process
        group); must tolerate running twice.
    probe_timeout = 20
        Seconds a probe may take to pass (default 20). `probe_tries = N` (old:
        N tries 0.5 s apart) is read as N/2 seconds.
    timeout = 180
        The recipe's time box in seconds (default: --timeout, 180); when it
        runs out the current step fails and the recipe is cleaned up.
    namespace = "net" | "run" | ["net", "run"]
        Run every init-script action and every snippet inside namespaces held
        open for the recipe: "net" a private network namespace with only the
        loopback up (a daemon that must not reach the network); "run" a
        private mount namespace with $ROOT/run bind-mounted on /run (a daemon
        that hard-wires a path under /run). Ports are then checked inside it.
        Older spelling: `run_namespace = "net" | "bind-run"`.
    wrap = '''sh'''
        Optional: sh code run around each init-script call, which is "$@"
        (e.g. `unshare --net sh -c '...; exec "$@"' wrap "$@"`).
    recipe = "PATH"
        Optional: a test copy of the recipe to render instead of
        RECIPES/NAME.toml (relative to the description's directory).
    scratch = "/var/lib/initkit-e2e"
        Optional: make the scratch root in this directory instead of --scratch
        (/tmp), for a daemon that refuses files under a world-writable
        directory (opendkim; sshd's StrictModes). Missing directories are
        created root-owned 0755 and removed again when empty.
    port_check = true
        Which ports must be free before the start and closed after a stop:
        true (all), false (none), or a list of indices ([0, 1]: $PORT0 and
        $PORT1 only; for a port a helper outside the service holds, such as
        RabbitMQ's epmd, which `cleanup` then stops).
    systemd_writable = "why"
        Under systemd only: the daemon writes into its test directory (a pid
        file, a log, its data there), which ProtectSystem=strict makes
        read-only; a drop-in gives the unit ReadWritePaths= for the recipe's
        test directory, and the install step prints it with the why.
    systemd_skip = "why"
        Under systemd only: the recipe is not run there, for a reason outside
        initkit; counted and listed as a skip, and the catalogue doc does not
        say systemd for it.
    runit_skip = "why"
        The same under runit (tests/e2e/catalogue_runit.sh, catalogue_runit.py).

    [settings]
        KEY = "VALUE" lines of each instance's settings file,
        $ROOT/etc/default/NAME.d/INSTANCE (or $ROOT/etc/default/NAME): KEY
        must be one of the recipe's [vars]. Values may use {dir} {root}
        {instance} {name} {tests} {port0} {port1} ...; `{{` and `}}` are
        literal braces. A value that is not plain is written single-quoted
        (double-quoted with escapes when it holds a single quote).
    [reload]
        Optional: change = '''sh''' (a change a reload applies; the main probe
        must still pass afterwards) and probe = '''sh''' (passes once the
        change is live). Without it, a recipe that has no reload must answer
        `reload` with exit 3; one that has a reload is reported as a skip.

The steps, one line each, for each recipe under its own scratch root R
=====================================================================
S is R/etc/init.d/NAME; FIRST the first instance (or the one service). The
settings files are written root-only (0600). Steps 4 to 6 first start again an
instance an earlier failed step left down (and say so), so that each step
tests its own thing; after a failed render or start, or when the time box
runs out, the remaining steps are reported as skipped.
 1 render     initkit render RECIPE --target sysv --prefix R --out /; the
              program and user exist; the settings files are written.
 2 start      setup per instance; the ports are free; `S start` exits 0; every
              instance answers its probe; `S status` exits 0.
 3 side by side (instances): distinct live PIDs, `S status INSTANCE` 0 each;
              `S stop FIRST` leaves the others serving with the same PIDs;
              `S start FIRST` brings it back.
 4 reload     change; `S reload` exits 0; the reload probe passes; every PID
              unchanged. (No reload in the recipe: `S reload` exits 3.)
 5 gate       break FIRST; `S configtest/restart/reload FIRST` exit 6 (and
              `S restart` of all, with instances); the same PID still serves;
              repair; configtest 0.
   broken config (check = false; the gate is reported as a skip): `S stop
              FIRST`; break; `S start FIRST` fails and leaves status 3 and
              the ports closed; repair; `S start FIRST` exits 0 and answers.
 6 restart    `S restart FIRST` exits 0 with a new PID that answers; the other
              instances keep theirs.
 7 stop       `S stop` exits 0 within the recipe's budget (stop.before and
              stop.timeout per instance, plus the leftover grace); the ports
              are closed; no process mentions R (pgrep -f) and nothing is left
              of the daemons' sessions; `S status` exits 3.
 8 kill -9    `S start FIRST`; kill -9 its PID; `S status FIRST` exits 1;
              `S stop` exits 0; `S status FIRST` exits 3; nothing is left.
 9 cleanup    stop everything; whatever still mentions R (in its command line,
              pgrep -f, or as the file its stdout/stderr goes to: the console
              log under R) is killed by PID and reported, unless a failed step
              reported it already; `cleanup` runs; R is removed. A process that
              does not mention R is never killed, only reported.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
MAIN = os.path.normpath(os.path.join(HERE, "..", ".."))

KNOWN_KEYS = {
    "packages", "instances", "ports", "check", "has_check", "no_check", "setup", "probe",
    "break", "repair", "cleanup", "probe_timeout", "probe_tries", "timeout", "namespace",
    "run_namespace", "wrap", "recipe", "port_check", "scratch", "settings", "reload",
    "systemd_skip", "systemd_writable", "runit_skip",
}
PORTS_PER_RECIPE = 10

PASSED = 0
FAILED = 0
FAILURES = []
SKIPS = []  # every skip line: counted and listed at the end, never silent
PER_RECIPE = {}  # name -> [passed, failed, skipped]
CURRENT = None  # the recipe the lines are about
VERBOSE = False  # -v: every command and its output
QUIET = False  # stdout is gone (a closed pipe)


def say(line=""):
    """Print; once the reader is gone (a closed pipe), go on silently: the
    daemons must still be stopped and the roots removed."""
    global QUIET
    if QUIET:
        return
    try:
        print(line, flush=True)
    except BrokenPipeError:
        QUIET = True
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass


def tally(kind):
    PER_RECIPE.setdefault(CURRENT or "(harness)", [0, 0, 0])[kind] += 1


def ok(msg):
    global PASSED
    PASSED += 1
    tally(0)
    say(f"  ok    {msg}")


def fail(msg, detail=""):
    global FAILED
    FAILED += 1
    FAILURES.append(msg)
    tally(1)
    say(f"  FAIL  {msg}")
    for line in detail.splitlines()[:14]:
        say(f"        {line[:300]}")


def skip(msg):
    SKIPS.append(msg)
    tally(2)
    say(f"  skip  {msg}")


class Fail(Exception):
    def __init__(self, msg, detail=""):
        super().__init__(msg)
        self.msg, self.detail = msg, detail


class Skip(Exception):
    pass


class TimeBox(Exception):
    pass


def duration_ms(text, default_ms):
    """initkit's durations: `500ms`, `30s`, `5m`, `2min`, `1h`, combined (`1m30s`)."""
    if text is None:
        return default_ms
    total, pos = 0, 0
    for m in re.finditer(r"(\d+)\s*(ms|min|s|m|h)", str(text)):
        if m.start() != pos:
            return default_ms
        n, unit = int(m.group(1)), m.group(2)
        total += n * {"ms": 1, "s": 1000, "m": 60000, "min": 60000, "h": 3600000}[unit]
        pos = m.end()
    return total if pos == len(str(text)) and pos else default_ms


SAFE_VALUE = re.compile(r"^[A-Za-z0-9_./:@%+,=-]+$")


def setting_value(key, value):
    """A description's setting as text: booleans as true/false; no control characters."""
    if isinstance(value, bool):
        value = "true" if value else "false"
    value = str(value)
    if any(ord(c) < 32 and c != "\t" for c in value):
        raise Fail(f"setting {key} holds a control character")
    return value


def setting_line(key, value):
    """KEY=VALUE as initkit's settings reader (systemd's EnvironmentFile=) reads it."""
    value = setting_value(key, value)
    if value == "" or SAFE_VALUE.match(value):
        return f"{key}={value}\n"
    if "'" not in value:
        return f"{key}='{value}'\n"
    esc = value.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`").replace("$", "\\$")
    return f'{key}="{esc}"\n'


def proc_stat(pid, proc="/proc"):
    """(state, ppid, pgrp, session) of a live pid, or None; PROC is the
    procfs to read (a container's, for its PIDs)."""
    try:
        with open(f"{proc}/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    except (OSError, IndexError, ValueError):
        return None


def alive(pid, proc="/proc"):
    st = proc_stat(pid, proc)
    return st is not None and st[0] not in ("Z", "X", "x")


def cmdline(pid, proc="/proc"):
    try:
        with open(f"{proc}/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def live_with(field, value, proc="/proc"):
    """The live PIDs in PROC whose proc_stat FIELD (1: ppid, 3: session) is VALUE."""
    out = []
    for d in os.listdir(proc):
        if d.isdigit():
            st = proc_stat(d, proc)
            if st and st[field] == value and st[0] not in ("Z", "X", "x"):
                out.append(int(d))
    return out


def session_members(sid, proc="/proc"):
    return live_with(3, sid, proc)


def own_lineage():
    pids, p = set(), os.getpid()
    while p > 1:
        pids.add(p)
        st = proc_stat(p)
        if not st:
            break
        p = st[1]
    return pids


def listening(port, net_dir="/proc/net"):
    """A TCP listener or a bound UDP socket on PORT (any address)."""
    hexport = f"{port:04X}"
    for name, states in (("tcp", {"0A"}), ("tcp6", {"0A"}), ("udp", None), ("udp6", None)):
        try:
            with open(os.path.join(net_dir, name)) as f:
                next(f)
                for line in f:
                    c = line.split()
                    if c[1].rsplit(":", 1)[1] == hexport and (states is None or c[3] in states):
                        return True
        except OSError:
            continue
    return False


class Recipe:
    """One recipe and its test description, driven under a scratch root
    through its rendered SysV script. Another target (catalogue_systemd.py)
    subclasses it and replaces the primitives (an action, a PID, what is
    left), so the steps stay one set for every init system."""

    target = "sysv"
    proc = "/proc"  # the procfs the PIDs belong to
    # Whether this target's restart does a recipe's restart.handover (SysV,
    # OpenRC and `initkit restart` under systemd do; a supervisor restarts plainly).
    hands_over = True

    def __init__(self, h, name, desc_path, index):
        self.h, self.name, self.desc_path, self.index = h, name, desc_path, index
        self.tests_dir = os.path.dirname(os.path.abspath(desc_path))
        self.root = None
        self.holder = None
        self.deadline = None
        self.seen_pids = set()  # every daemon PID read from a pidfile
        self.sessions = set()  # their sessions (setsid: the PID itself)
        self.reported = set()  # leftovers a failed step already reported

    def alive(self, pid):
        return alive(pid, self.proc)

    # ---- output -------------------------------------------------------

    def short(self, text):
        return text.replace(self.root, "$ROOT") if self.root else text

    def log(self, text):
        if VERBOSE:
            for line in self.short(text).splitlines():
                say(f"        | {line}")

    # ---- running things -------------------------------------------------

    def remaining(self):
        return self.deadline - time.monotonic()

    def run(self, argv, env=None, cwd=None, timeout=None, box=True, quiet=False):
        """(rc, output) of argv; output to a file, so that a daemon inheriting
        it cannot hold us up. The time box ends it (its process group, which
        holds only what it started: daemons leave it with setsid)."""
        limit = timeout if timeout is not None else 600
        if box:
            if self.remaining() <= 0:
                raise TimeBox()
            limit = min(limit, self.remaining())
        with tempfile.TemporaryFile() as out:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                 env=env, cwd=cwd, start_new_session=True)
            try:
                rc = p.wait(timeout=max(limit, 0.1))
                timed_out = False
            except BaseException as e:  # the time box, or the harness interrupted
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
                if not isinstance(e, subprocess.TimeoutExpired):
                    raise
                rc, timed_out = 124, True
            out.seek(0)
            text = out.read().decode(errors="replace").rstrip()
        if not quiet:
            self.log(f"$ {' '.join(argv)[:400]}  -> {rc}\n{text}")
        if timed_out:
            if box and self.remaining() <= 0:
                raise TimeBox()
            text += f"\n(timed out after {limit:.0f}s)"
        return rc, text

    def ns_prefix(self):
        if not self.holder:
            return []
        flags = ["--net" if k == "net" else "--mount" for k in self.ns_kinds]
        return ["nsenter", "-t", str(self.holder.pid), *flags, "--"]

    def sh(self, code, inst, timeout=None, box=True, quiet=False):
        return self.run(self.ns_prefix() + ["sh", "-c", code], env=self.envs[inst],
                        cwd=self.envs[inst]["DIR"], timeout=timeout, box=box, quiet=quiet)

    def S(self, action, inst=None, box=True, timeout=None):
        argv = [self.script, action] + ([inst] if inst else [])
        if self.t.get("wrap"):
            argv = ["sh", "-c", self.t["wrap"], "wrap"] + argv
        return self.run(self.ns_prefix() + argv, timeout=timeout, box=box)

    def expect(self, why, want, action, inst=None):
        """`S ACTION [INST]` must exit WANT; WHY says when (may be empty)."""
        rc, out = self.S(action, inst)
        if rc != want:
            cmd = f"S {action}" + (f" {inst}" if inst else "")
            raise Fail(f"`{cmd}`" + (f" {why}" if why else "") + f": exit {rc}, wanted {want}",
                       self.short(out))
        return rc, out

    def probe(self, inst, code=None, timeout=None):
        code = code or self.t["probe"]
        limit = time.monotonic() + (timeout if timeout is not None else self.probe_timeout)
        tries = 0
        while True:
            tries += 1
            rc, out = self.sh(code, inst, timeout=10, quiet=True)
            if rc == 0 or time.monotonic() >= limit:
                self.log(f"probe of {self.label(inst)}: exit {rc} after {tries} tries\n{out}")
                return rc == 0, out
            time.sleep(0.2)

    def must_answer(self, inst, what, code=None):
        good, out = self.probe(inst, code)
        if not good:
            raise Fail(f"{what}: the probe of {self.label(inst)} did not pass within {self.probe_timeout:g}s",
                       self.short(out) + self.log_tail(inst))

    def log_tail(self, inst):
        path = f"{self.root}/var/log/initkit/{self.name}/{self.inst_name(inst)}.log"
        try:
            with open(path, errors="replace") as f:
                lines = f.read().splitlines()[-6:]
            return "\nconsole log:\n" + "\n".join("  " + l for l in lines) if lines else ""
        except OSError:
            return ""

    # ---- the service's state -----------------------------------------------

    def inst_name(self, inst):
        return inst if self.multi else self.name

    def label(self, inst):
        return f"{self.name}@{inst}" if self.multi else self.name

    def arg(self, inst):
        """The instance argument of the script: none for a single-instance recipe."""
        return inst if self.multi else None

    def pid(self, inst):
        try:
            with open(f"{self.root}/run/initkit/{self.name}/{self.inst_name(inst)}.pid") as f:
                word = f.read().split()[0]
            p = int(word)
        except (OSError, IndexError, ValueError):
            return None
        self.seen_pids.add(p)
        if self.alive(p):
            self.sessions.add(p)
        return p

    def live_pid(self, inst, what):
        p = self.pid(inst)
        if p is None or not self.alive(p):
            raise Fail(f"{what}: no live PID for {self.label(inst)} (pidfile names {p})")
        return p

    def net_dir(self):
        return f"/proc/{self.holder.pid}/net" if self.holder and "net" in self.ns_kinds else "/proc/net"

    def open_ports(self, insts):
        which = self.t.get("port_check", True)
        if which is True:
            which = range(self.nports)
        elif which is False:
            which = []
        return [self.ports[i][k] for i in insts for k in which
                if k < self.nports and listening(self.ports[i][k], self.net_dir())]

    def ensure_running(self):
        """Bring back an instance an earlier failed step left down: the next
        step tests its own thing. Fails the step when that does not work."""
        back = []
        for i in self.insts:
            p = self.pid(i)
            if p is None or not self.alive(p):
                self.expect("(bringing back an instance an earlier step left down)", 0, "start", self.arg(i))
                self.must_answer(i, "after bringing it back")
                back.append(i)
        return f" (after starting {', '.join(back)} again)" if back else ""

    def wait_ports_closed(self, insts, seconds=2.0):
        limit = time.monotonic() + seconds
        while True:
            left = self.open_ports(insts)
            if not left or time.monotonic() >= limit:
                return left
            time.sleep(0.05)

    def mentioning_root(self):
        """PIDs that mention the scratch root, ours excluded: in their command
        line (pgrep -f), or as the file their stdout or stderr is written to
        (the console log the init script opened under the root: a daemon that
        rewrites its command line, zabbix_agentd's children, still names it)."""
        pattern = re.sub(r"([^A-Za-z0-9/_-])", r"[\1]", self.root) + "(/| |$)"
        try:
            out = subprocess.run(["pgrep", "-f", "--", pattern], capture_output=True, text=True).stdout
        except OSError:
            out = ""
        pids = {int(p) for p in out.split()}
        for d in os.listdir("/proc"):
            if d.isdigit():
                for fd in ("1", "2"):
                    try:
                        if os.readlink(f"/proc/{d}/fd/{fd}").startswith(self.root + "/"):
                            pids.add(int(d))
                            break
                    except OSError:
                        pass
        mine = own_lineage()
        if self.holder:
            mine.add(self.holder.pid)
        return sorted(p for p in pids if p not in mine and self.alive(p))

    def leftovers(self):
        """Live processes of the daemons' sessions, and any mentioning the root."""
        pids = set(self.mentioning_root())
        for s in self.sessions:
            pids.update(session_members(s))
        return sorted(p for p in pids if self.alive(p))

    def wait_nothing_left(self, seconds=2.0):
        """New leftovers (not those a failed step already reported)."""
        limit = time.monotonic() + seconds
        while True:
            left = [p for p in self.leftovers() if p not in self.reported]
            if not left or time.monotonic() >= limit:
                return left
            time.sleep(0.05)

    def describe(self, pids, report=False):
        if report:
            self.reported.update(pids)
        return "\n".join(f"pid {p}: {self.short(cmdline(p, self.proc))[:200]}" for p in pids)

    # ---- the steps -----------------------------------------------------------

    def step(self, title, fn):
        """One ok/FAIL line for the step; True on success, None when skipped."""
        try:
            note = fn()
        except Skip as e:
            skip(f"{self.name}: {title}: {e}")
            return None
        except Fail as e:
            fail(f"{self.name}: {title}: {e.msg}", e.detail)
            return False
        except TimeBox:
            fail(f"{self.name}: {title}: timed out (the recipe's time box of {self.box:g}s ran out)")
            raise
        ok(f"{self.name}: {title}" + (f": {note}" if note else ""))
        return True

    @staticmethod
    def scripts(t):
        """Every shell snippet of a description, with the key it is under."""
        for key in ("setup", "probe", "break", "repair"):
            if isinstance(t.get(key), str):
                yield key, t[key]
        rl = t.get("reload")
        if isinstance(rl, dict):
            for key in ("change", "probe"):
                if isinstance(rl.get(key), str):
                    yield f"reload.{key}", rl[key]

    def load(self):
        try:
            with open(self.desc_path, "rb") as f:
                self.t = tomllib.load(f)
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise Fail(f"cannot read {self.desc_path}", str(e))
        t = self.t
        unknown = sorted(set(t) - KNOWN_KEYS)
        if unknown:
            raise Fail(f"unknown key(s) in the test description: {', '.join(unknown)}",
                       "top-level keys go before the first [table]; known: " + ", ".join(sorted(KNOWN_KEYS)))
        for key in ("setup", "probe", "break", "repair"):
            if not isinstance(t.get(key), str):
                hint = " (it is under [settings]: top-level keys go before the first [table])" \
                    if key in t.get("settings", {}) else ""
                raise Fail(f"the test description has no `{key}`{hint}")
        for key, text in self.scripts(t):
            for m in re.finditer(r"(?<![\w$])/(?:work|home|root)/[^\s'\"]*", text):
                raise Fail(f"`{key}` names {m.group(0)}, outside the repository and the test box",
                           "a helper script goes beside the description and is named as \"$TESTS/...\"")
        rl = t.get("reload")
        if rl is not None and not (isinstance(rl, dict) and isinstance(rl.get("change"), str)
                                   and isinstance(rl.get("probe"), str)):
            raise Fail("[reload] needs `change` and `probe`")
        if "check" in t:
            self.check = bool(t["check"])
        elif "has_check" in t:
            self.check = bool(t["has_check"])
        else:
            self.check = not t.get("no_check", False)
        ns = t.get("namespace", t.get("run_namespace", []))
        ns = [ns] if isinstance(ns, str) else list(ns)
        self.ns_kinds = []
        for k in ns:
            k = {"bind-run": "run", "mount-run": "run"}.get(k, k)
            if k not in ("net", "run"):
                raise Fail(f"namespace {k!r}: expected \"net\" or \"run\"")
            self.ns_kinds.append(k)
        self.probe_timeout = float(t.get("probe_timeout", t.get("probe_tries", 40) * 0.5))
        self.box = float(t.get("timeout", self.h.args.timeout))
        recipe = t.get("recipe")
        self.recipe_file = (os.path.join(self.tests_dir, recipe) if recipe and not os.path.isabs(recipe)
                            else recipe or os.path.join(self.h.recipes, f"{self.name}.toml"))
        try:
            with open(self.recipe_file, "rb") as f:
                self.r = tomllib.load(f)
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise Fail(f"cannot read the recipe {self.recipe_file}", str(e))
        if self.r.get("name") != self.name:
            raise Fail(f"{self.recipe_file} names itself {self.r.get('name')!r}, not {self.name!r}")
        self.multi = "instances" in self.r
        insts = t.get("instances")
        if self.multi and not insts:
            raise Fail("the recipe has [instances]: the test description needs `instances = [...]`")
        if not self.multi and insts:
            raise Fail("the recipe has no [instances]: drop `instances` from the test description")
        self.insts = list(insts) if insts else [self.name]
        for i in self.insts:
            if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}", str(i)):
                raise Fail(f"instance name {i!r} is not one initkit accepts ([A-Za-z0-9_][A-Za-z0-9_.-]*)")
        if len(set(self.insts)) != len(self.insts):
            raise Fail("instances are listed twice")
        self.nports = int(t.get("ports", 1))
        if self.nports * len(self.insts) > PORTS_PER_RECIPE:
            raise Fail(f"{len(self.insts)} instances x {self.nports} ports: more than the "
                       f"{PORTS_PER_RECIPE} ports a recipe gets")
        pc = t.get("port_check", True)
        if not (isinstance(pc, bool) or (isinstance(pc, list) and all(
                isinstance(k, int) and 0 <= k < self.nports for k in pc))):
            raise Fail(f"port_check = {pc!r}: expected true, false or a list of port indices below {self.nports}")
        base = self.h.args.port_base + PORTS_PER_RECIPE * self.index
        self.ports = {i: [base + j * self.nports + p for p in range(self.nports)]
                      for j, i in enumerate(self.insts)}
        self.has_reload = bool(self.r.get("reload"))
        self.has_check = bool(self.r.get("check"))
        stop = self.r.get("stop", {})
        per = duration_ms(stop.get("timeout"), 30000)
        per += sum(duration_ms(b.get("timeout"), 30000) for b in stop.get("before", []))
        self.stop_per_instance_ms = per

    def make_env(self, inst, idx):
        e = dict(os.environ)
        e["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        e.update(DIR=f"{self.root}/srv/{inst}", ROOT=self.root, R=self.root, INSTANCE=inst,
                 NAME=self.name, SCRIPT=self.script, TESTS=self.tests_dir)
        for p, port in enumerate(self.ports[inst]):
            e[f"PORT{p}"] = str(port)
        return e

    def subst(self, key, value, inst):
        if not isinstance(value, str):
            return value
        e = self.envs[inst]
        table = {"dir": e["DIR"], "root": self.root, "instance": inst, "name": self.name,
                 "tests": self.tests_dir}
        table.update({f"port{p}": str(port) for p, port in enumerate(self.ports[inst])})

        def one(m):
            if m.group(0) == "{{":
                return "{"
            if m.group(0) == "}}":
                return "}"
            if m.group(1) in table:
                return table[m.group(1)]
            raise Fail(f"setting {key}: unknown placeholder {m.group(0)} "
                       f"(known: {', '.join('{' + k + '}' for k in table)})")
        return re.sub(r"\{\{|\}\}|\{([a-z0-9_]*)\}", one, value)

    # 1
    def step_render(self):
        prog = (self.r.get("run", {}).get("command") or [""])[0]
        pkgs = " ".join(self.t.get("packages", [])) or "(none listed)"
        if not (os.path.isfile(prog) and os.access(prog, os.X_OK)):
            raise Fail(f"{prog} is not installed; install the packages: {pkgs}")
        user = self.r.get("run", {}).get("user", "")
        if subprocess.run(["id", "-u", user], capture_output=True).returncode != 0:
            raise Fail(f"user {user!r} does not exist; install the packages: {pkgs}")
        if "net" in self.ns_kinds and not shutil.which("ip"):
            raise Fail("namespace \"net\" needs ip (iproute2)")
        rc, out = self.run([self.h.initkit, "render", self.recipe_file, "--target", "sysv",
                            "--prefix", self.root, "--out", "/"])
        if rc != 0:
            raise Fail(f"render exit {rc}", self.short(out))
        if not os.access(self.script, os.X_OK):
            raise Fail(f"render wrote no {self.short(self.script)}", self.short(out))
        settings = self.settings()
        for inst in self.insts:
            os.makedirs(self.envs[inst]["DIR"], mode=0o755)
            os.chmod(self.envs[inst]["DIR"], 0o755)
            text = "".join(setting_line(k, self.subst(k, v, inst)) for k, v in settings.items())
            path = (f"{self.root}/etc/default/{self.name}.d/{inst}" if self.multi
                    else f"{self.root}/etc/default/{self.name}")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(text)
            self.log(f"{path}:\n{text}")
        if self.ns_kinds:
            self.start_holder()
        return f"{self.short(self.script)}, {len(self.insts)} settings file(s)"

    def settings(self):
        """The description's [settings], each one of the recipe's [vars]."""
        known = set(self.r.get("vars", {}))
        settings = self.t.get("settings", {})
        bad = sorted(k for k in settings if k not in known)
        if bad:
            raise Fail(f"settings not among the recipe's [vars]: {', '.join(bad)}",
                       f"known: {', '.join(sorted(known)) or '(none)'}")
        return settings

    def start_holder(self):
        """A process that holds the recipe's namespaces open; killed by PID at cleanup."""
        ready = f"{self.root}/.ns-ready"
        os.makedirs(f"{self.root}/run", exist_ok=True)
        code = "set -e\n"
        if "net" in self.ns_kinds:
            code += "ip link set lo up\n"
        if "run" in self.ns_kinds:
            code += 'mount --bind "$1/run" /run\n'
        # The holder names the root: a harness that died leaves it findable by pgrep -f.
        code += ': >"$1/.ns-ready"\nexec python3 -c "import signal; signal.pause()" "$1"\n'
        flags = ["--net" if k == "net" else "--mount" for k in self.ns_kinds]
        with open(f"{self.root}/.ns.log", "wb") as log:
            self.holder = subprocess.Popen(["unshare", *flags, "--", "sh", "-c", code, "holder", self.root],
                                           stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                           start_new_session=True)
        limit = time.monotonic() + 5
        while not os.path.exists(ready):
            if self.holder.poll() is not None or time.monotonic() > limit:
                with open(f"{self.root}/.ns.log", errors="replace") as f:
                    raise Fail(f"could not set up the namespace(s) {self.ns_kinds}", f.read())
            time.sleep(0.02)

    # 2
    def step_start(self):
        for inst in self.insts:
            rc, out = self.sh(self.t["setup"], inst, timeout=120)
            if rc != 0:
                raise Fail(f"setup of {self.label(inst)}: exit {rc}", self.short(out))
        busy = self.open_ports(self.insts)
        if busy:
            raise Fail(f"ports already in use before the start: {busy}")
        self.expect("", 0, "start")
        pids = []
        for inst in self.insts:
            self.must_answer(inst, "after start")
            pids.append(f"{self.label(inst)} pid {self.live_pid(inst, 'after start')}")
        self.expect("", 0, "status")
        return "exit 0; " + ", ".join(pids) + " answer; status 0"

    # 3
    def step_side_by_side(self):
        if not self.multi:
            raise Skip("single-instance recipe")
        if len(self.insts) < 2:
            raise Skip("only one instance listed")
        pids = {i: self.live_pid(i, "side by side") for i in self.insts}
        if len(set(pids.values())) != len(pids):
            raise Fail(f"instances share a PID: {pids}")
        for i in self.insts:
            self.expect("", 0, "status", i)
            self.must_answer(i, "side by side")
        first, others = self.insts[0], self.insts[1:]
        self.expect("", 0, "stop", first)
        left = self.wait_ports_closed([first])
        if left:
            raise Fail(f"after stop {first}: its ports {left} are still open")
        self.expect("after its stop", 3, "status", first)
        for i in others:
            if self.pid(i) != pids[i] or not self.alive(pids[i]):
                raise Fail(f"stop {first} changed {self.label(i)}: pid {pids[i]} -> {self.pid(i)}")
            self.must_answer(i, f"after stop {first}")
        self.expect("again", 0, "start", first)
        self.must_answer(first, f"after start {first} again")
        return (", ".join(f"{i} pid {p}" for i, p in pids.items()) + f" answer; stop {first} left "
                + ", ".join(others) + f" serving; {first} back as pid {self.pid(first)}")

    # 4
    def step_reload(self):
        rl = self.t.get("reload")
        if not self.has_reload:
            if rl:
                raise Fail("the description has [reload] but the recipe has no reload")
            self.expect("(the recipe has no reload)", 3, "reload")
            return "the recipe has no reload: exit 3"
        if not rl:
            raise Skip("the recipe has a reload but the description no [reload]")
        again = self.ensure_running()
        first = self.insts[0]
        before = {i: self.live_pid(i, "before reload") for i in self.insts}
        rc, out = self.sh(rl["change"], first, timeout=60)
        if rc != 0:
            raise Fail(f"reload.change: exit {rc}", self.short(out))
        self.expect("", 0, "reload")
        self.must_answer(first, "the reload probe", rl["probe"])
        after = {i: self.pid(i) for i in self.insts}
        if after != before or not all(self.alive(p) for p in before.values()):
            raise Fail(f"reload changed PIDs: {before} -> {after}")
        self.must_answer(first, "after reload (main probe)")
        return f"exit 0, change seen, pid {before[first]} unchanged" + again

    # 5
    def step_gate(self):
        first = self.insts[0]
        arg = self.arg(first)
        if not self.check:
            if self.has_check:
                raise Fail("check = false, but the recipe has a [check]")
            return self.start_fails_when_broken(first) + self.ensure_running()
        if not self.has_check:
            raise Fail("the recipe has no [check]: write check = false in the description")
        again = self.ensure_running()
        pid0 = self.live_pid(first, "before break")
        others = {i: self.live_pid(i, "before break") for i in self.insts[1:]}
        rc, out = self.sh(self.t["break"], first, timeout=60)
        if rc != 0:
            raise Fail(f"break: exit {rc}", self.short(out))
        try:
            self.expect("with a broken config", 6, "configtest", arg)
            self.expect("with a broken config", 6, "restart", arg)
            done = ["configtest", "restart"]
            if self.has_reload:
                self.expect("with a broken config", 6, "reload", arg)
                done.append("reload")
            if self.multi and others:
                self.expect("with one instance broken", 6, "restart")
                done.append("restart (all)")
            native = self.gate_native(first, pid0)
            if self.pid(first) != pid0 or not self.alive(pid0):
                raise Fail(f"refused actions changed the PID: {pid0} -> {self.pid(first)}")
            for i, p in others.items():
                if self.pid(i) != p or not self.alive(p):
                    raise Fail(f"refused restart changed {self.label(i)}: {p} -> {self.pid(i)}")
            good, pout = self.probe(first)
            if not good:
                raise Fail(f"pid {pid0} no longer answers after the refused actions", self.short(pout))
        finally:
            rc, out = self.sh(self.t["repair"], first, timeout=60)
        if rc != 0:
            raise Fail(f"repair: exit {rc}", self.short(out))
        self.expect("after repair", 0, "configtest", arg)
        return (f"{', '.join(done)} exit 6" + "".join(f"; {n}" for n in native)
                + f"; pid {pid0} still serves; repaired, configtest 0" + again)

    def gate_native(self, first, pid0):
        """The init system's own reload with the config broken (a target
        whose native reload runs the config test checks that here)."""
        return []

    def start_fails_when_broken(self, first):
        skip(f"{self.name}: gate: the recipe has no config test (check = false): restart is not gated")
        arg = self.arg(first)
        self.expect("", 0, "stop", arg)
        rc, out = self.sh(self.t["break"], first, timeout=60)
        if rc != 0:
            raise Fail(f"break: exit {rc}", self.short(out))
        try:
            rc, sout = self.S("start", arg)
            if rc == 0:
                raise Fail("start with a broken config exited 0", self.short(sout))
            st, stout = self.S("status", arg)
            left = self.wait_ports_closed([first])
            if st != 3 or left:
                raise Fail(f"after the failed start: status {st} (wanted 3), open ports {left}",
                           self.short(sout + "\n" + stout))
        finally:
            rrc, rout = self.sh(self.t["repair"], first, timeout=60)
        if rrc != 0:
            raise Fail(f"repair: exit {rrc}", self.short(rout))
        self.expect("after repair", 0, "start", arg)
        self.must_answer(first, "after repair")
        return f"with the config broken, start exits {rc} and leaves it stopped; repaired, it starts"

    # 6
    def step_restart(self):
        again = self.ensure_running()
        first = self.insts[0]
        pid0 = self.live_pid(first, "before restart")
        others = {i: self.live_pid(i, "before restart") for i in self.insts[1:]}
        if self.handover_same():
            return self.restart_same_main(first, pid0, others) + again
        self.expect("", 0, "restart", self.arg(first))
        pid1 = self.live_pid(first, "after restart")
        if pid1 == pid0:
            raise Fail(f"restart kept pid {pid0}")
        if self.alive(pid0):
            raise Fail(f"the old pid {pid0} still runs after restart")
        self.must_answer(first, "after restart")
        for i, p in others.items():
            if self.pid(i) != p or not self.alive(p):
                raise Fail(f"restart {first} changed {self.label(i)}: {p} -> {self.pid(i)}")
        return f"exit 0, pid {pid0} -> {pid1}, answers" + (", others untouched" if others else "") + again

    def handover_same(self):
        """The recipe's restart hands over with the main process running itself
        again (restart.handover, main = "same"), and this target does that."""
        ho = self.r.get("restart", {}).get("handover")
        return self.hands_over and isinstance(ho, dict) and ho.get("main") == "same"

    def children(self, pid):
        return set(live_with(1, pid, self.proc))

    def restart_same_main(self, first, pid0, others):
        """A handover that keeps the main PID: it stays, and its children (the
        workers) are all new, the old ones gone, the service answering."""
        kids0 = self.children(pid0)
        if not kids0:
            raise Fail(f"before restart: main pid {pid0} has no children (workers) to hand over from")
        self.expect("", 0, "restart", self.arg(first))
        pid1 = self.live_pid(first, "after restart")
        if pid1 != pid0:
            raise Fail(f"the handover restart changed the main pid {pid0} -> {pid1} (it runs itself again)")
        limit = time.monotonic() + 15
        while True:
            kids1 = self.children(pid0)
            if kids1 and not kids1 & kids0:
                break
            if time.monotonic() >= limit:
                raise Fail(f"after the handover restart: workers {sorted(kids0)} -> {sorted(kids1)} "
                           "(wanted all new within 15 s)")
            time.sleep(0.2)
        self.must_answer(first, "after restart")
        for i, p in others.items():
            if self.pid(i) != p or not self.alive(p):
                raise Fail(f"restart {first} changed {self.label(i)}: {p} -> {self.pid(i)}")
        return (f"exit 0, handed over: pid {pid0} kept, workers {sorted(kids0)} -> {sorted(kids1)}, answers"
                + (", others untouched" if others else ""))

    # 7
    def step_stop(self):
        for i in self.insts:
            p = self.pid(i)
            if p and self.alive(p):
                self.sessions.add(p)
        budget = len(self.insts) * (self.stop_per_instance_ms + self.stop_grace_ms()) / 1000 + 5
        t0 = time.monotonic()
        self.expect("", 0, "stop")
        took = time.monotonic() - t0
        if took > budget:
            raise Fail(f"stop took {took:.1f}s, over the budget of {budget:.0f}s")
        ports = self.wait_ports_closed(self.insts)
        if ports:
            raise Fail(f"ports still open after stop: {ports}")
        left = self.wait_nothing_left()
        if left:
            raise Fail("processes left after stop", self.describe(left, report=True))
        self.expect("after stop", 3, "status")
        return f"exit 0 in {took:.2f}s (budget {budget:.0f}s), ports closed, nothing left, status 3"

    def stop_grace_ms(self):
        """What a stop may take after the budget, for what is left over."""
        try:
            with open(self.script) as f:
                m = re.search(r"^LEFTOVER_MS=(\d+)", f.read(), re.M)
                return int(m.group(1)) if m else 5000
        except OSError:
            return 5000

    # 8
    def step_kill9(self):
        first = self.insts[0]
        arg = self.arg(first)
        self.expect("", 0, "start", arg)
        pid = self.live_pid(first, "after start")
        members = session_members(pid)
        os.kill(pid, signal.SIGKILL)
        limit = time.monotonic() + 5
        while self.alive(pid) and time.monotonic() < limit:
            time.sleep(0.02)
        if self.alive(pid):
            raise Fail(f"pid {pid} survived kill -9")
        self.expect("after kill -9", 1, "status", arg)
        self.expect("after kill -9", 0, "stop")
        self.expect("after that stop", 3, "status", arg)
        ports = self.wait_ports_closed([first])
        left = self.wait_nothing_left()
        if ports or left:
            raise Fail(f"after kill -9 of the main process and stop: ports {ports} open; "
                       f"{len(left)} process(es) left (its session had {len(members)})",
                       self.describe(left, report=True))
        return f"pid {pid} killed: status 1; stop 0, status 3, nothing left"

    # 9
    def cleanup(self):
        notes, problems = [], []
        self.deadline = time.monotonic() + 120
        if os.access(self.script or "", os.X_OK):
            for i in self.insts:
                p = self.pid(i)
                if p and self.alive(p):
                    self.sessions.add(p)
            rc, out = self.S("stop", box=False, timeout=90)
            if rc != 0:
                problems.append(f"stop: exit {rc}: {self.short(out)[-300:]}")
        limit = time.monotonic() + 1.0
        while self.leftovers() and time.monotonic() < limit:
            time.sleep(0.05)
        left = self.leftovers()
        killed, what = [], []
        for p in self.mentioning_root():
            desc = self.describe([p])
            try:
                os.kill(p, signal.SIGKILL)
                killed.append(p)
                what.append(desc)
            except ProcessLookupError:
                pass
        if killed and not set(killed) <= self.reported:
            problems.append("killed by PID (mentioned the root):\n" + "\n".join(what))
        elif killed:
            notes.append(f"killed {len(killed)} leftover(s) reported above, by PID")
        limit = time.monotonic() + 5
        while any(self.alive(p) for p in killed) and time.monotonic() < limit:
            time.sleep(0.05)
        foreign = [p for p in left if p not in killed and self.alive(p)]
        if foreign:
            problems.append("left running, NOT killed (do not mention the root):\n" + self.describe(foreign))
        if self.t and self.t.get("cleanup") and self.envs:
            for i in self.insts:
                if os.path.isdir(self.envs[i]["DIR"]):
                    rc, out = self.sh(self.t["cleanup"], i, timeout=60, box=False)
                    if rc != 0:
                        problems.append(f"cleanup of {i}: exit {rc}: {self.short(out)[-300:]}")
            notes.append("cleanup ran")
        if self.holder:
            self.holder.kill()
            self.holder.wait()
            notes.append("namespace holder stopped")
        shutil.rmtree(self.root, ignore_errors=True)
        if os.path.exists(self.root):
            problems.append(f"could not remove {self.root}")
        for d in self.made_dirs:  # innermost first
            try:
                os.rmdir(d)
            except OSError:
                break
        if problems:
            fail(f"{self.name}: cleanup", "\n".join(problems))
        else:
            ok(f"{self.name}: cleanup: nothing left, root removed" + (f" ({', '.join(notes)})" if notes else ""))

    def make_root(self):
        """A fresh world-traversable scratch root under the scratch directory
        (created root-only-writable when missing, and removed again if empty)."""
        parent = os.path.abspath(str(self.t.get("scratch", self.h.args.scratch)))
        missing, d = [], parent
        while not os.path.isdir(d):
            missing.append(d)
            d = os.path.dirname(d)
        for d in reversed(missing):
            os.mkdir(d, 0o755)
            os.chmod(d, 0o755)
        self.made_dirs = missing
        self.root = tempfile.mkdtemp(prefix=f"initkit-cat-{self.name}.", dir=parent)
        os.chmod(self.root, 0o755)

    def steps(self):
        """(title, step, whether the later steps need it)."""
        return [
            ("render", self.step_render, True),
            ("start", self.step_start, True),
            ("side by side", self.step_side_by_side, False),
            ("reload", self.step_reload, False),
            ("gate" if self.check else "broken config", self.step_gate, False),
            ("restart", self.step_restart, False),
            ("stop", self.step_stop, False),
            ("kill -9", self.step_kill9, False),
        ]

    def main(self):
        global CURRENT
        CURRENT = self.name
        say(f"== {self.name}" + (f" (under {self.target})" if self.target != "sysv" else ""))
        self.t, self.envs, self.script, self.insts, self.made_dirs = {}, {}, None, [], []
        self.box = float(self.h.args.timeout)
        try:
            self.load()
        except Fail as e:
            fail(f"{self.name}: test description: {e.msg}", e.detail)
            return
        self.make_root()
        try:
            self.deadline = time.monotonic() + self.box
            self.script = f"{self.root}/etc/init.d/{self.name}"
            self.envs = {i: self.make_env(i, j) for j, i in enumerate(self.insts)}
            steps = self.steps()
            for n, (title, fn, needed) in enumerate(steps):
                try:
                    good = self.step(title, fn)
                except TimeBox:
                    why = "the time box ran out"
                else:
                    if good or not needed:
                        continue
                    why = f"{title} failed"
                for later, _, _ in steps[n + 1:]:
                    skip(f"{self.name}: {later}: not run ({why})")
                break
        finally:
            self.cleanup()


class Harness:
    def __init__(self, args):
        self.args = args
        self.initkit = os.path.abspath(args.initkit)
        self.recipes = os.path.abspath(args.recipes)
        self.tests = os.path.abspath(args.tests or os.path.join(self.recipes, "tests"))

    def descriptions(self):
        try:
            return sorted(f[:-5] for f in os.listdir(self.tests) if f.endswith(".toml"))
        except OSError:
            return []


def weight(h, name):
    """Longest first when recipes run in parallel: a description's time box."""
    try:
        with open(os.path.join(h.tests, f"{name}.toml"), "rb") as f:
            return -float(tomllib.load(f).get("timeout", h.args.timeout))
    except (OSError, tomllib.TOMLDecodeError, ValueError, TypeError):
        return 0.0


def run_parallel(h, names):
    """Each recipe in a harness of its own (`--jobs 1 NAME`), at most
    --jobs at a time; each one's lines printed whole when it ends, its
    ok/FAIL/skip lines counted here."""
    global PASSED, FAILED, CURRENT
    a = h.args
    base = [sys.executable, os.path.abspath(__file__), "--initkit", h.initkit, "--recipes", h.recipes,
            "--tests", h.tests, "--port-base", str(a.port_base), "--timeout", str(a.timeout),
            "--scratch", a.scratch, "--target", a.target, "--jobs", "1"]
    if a.container_leader:
        base += ["--container-leader", str(a.container_leader), "--container-root", a.container_root]
    if a.verbose:
        base.append("-v")
    queue = sorted(names, key=lambda n: (weight(h, n), n))
    running = []  # (name, Popen, output file)
    try:
        while queue or running:
            while queue and len(running) < a.jobs:
                n = queue.pop(0)
                out = tempfile.TemporaryFile()
                running.append((n, subprocess.Popen(base + ["--child", n], stdin=subprocess.DEVNULL,
                                                    stdout=out, stderr=subprocess.STDOUT), out))
            done = [r for r in running if r[1].poll() is not None]
            if not done:
                time.sleep(0.1)
                continue
            for n, p, out in done:
                running.remove((n, p, out))
                out.seek(0)
                CURRENT = n
                seen = False
                for line in out.read().decode(errors="replace").splitlines():
                    if line.startswith("  ok    "):
                        PASSED += 1
                        tally(0)
                    elif line.startswith("  FAIL  "):
                        FAILED += 1
                        FAILURES.append(line[8:])
                        tally(1)
                    elif line.startswith("  skip  "):
                        SKIPS.append(line[8:])
                        tally(2)
                    seen = seen or line.startswith("== ")
                    say(line)
                out.close()
                if p.returncode not in (0, 1) or not seen:
                    fail(f"{n}: its harness ended with exit {p.returncode}")
    finally:
        for n, p, out in running:  # interrupted: each child stops its daemons on SIGTERM
            p.terminate()
        for n, p, out in running:
            try:
                p.wait(timeout=150)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            out.close()


def main():
    global VERBOSE
    ap = argparse.ArgumentParser(description="Prove every catalogue recipe under SysV on this host, "
                                 "or under systemd in a booted container (--target systemd).")
    ap.add_argument("--initkit", default=os.path.join(MAIN, "target", "release", "initkit"))
    ap.add_argument("--recipes", default=os.path.join(MAIN, "recipes"))
    ap.add_argument("--tests", help="test descriptions (default: RECIPES/tests)")
    ap.add_argument("--port-base", type=int, default=24000)
    ap.add_argument("--timeout", type=float, default=180, help="time box per recipe, seconds")
    ap.add_argument("--scratch", default="/tmp", help="where the scratch roots are made (default /tmp)")
    ap.add_argument("--target", choices=("sysv", "systemd", "runit"), default="sysv",
                    help="sysv: the rendered scripts on this host; systemd: `initkit install` and systemctl "
                    "in the container whose PID 1 is --container-leader; runit: `initkit install --target "
                    "runit` and sv in the namespaces whose PID 1 is the runsvdir --container-leader")
    ap.add_argument("--container-leader", type=int, help="the container's PID 1, as this host sees it")
    ap.add_argument("--container-root", help="the container's root directory on this host")
    ap.add_argument("--jobs", type=int, default=1, help="recipes run at the same time (each on its own ports)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--list-packages", action="store_true", help="print the packages the descriptions need")
    ap.add_argument("-v", "--verbose", action="store_true", help="show every command and its output")
    ap.add_argument("names", nargs="*")
    args = ap.parse_args()
    VERBOSE = args.verbose
    h = Harness(args)
    all_names = h.descriptions()
    names = [args.child] if args.child else (args.names or all_names)

    if args.list_packages:
        pkgs = set()
        for n in names:
            try:
                with open(os.path.join(h.tests, f"{n}.toml"), "rb") as f:
                    pkgs.update(tomllib.load(f).get("packages", []))
            except (OSError, tomllib.TOMLDecodeError) as e:
                print(f"{n}: {e}", file=sys.stderr)
                return 1
        print(" ".join(sorted(pkgs)))
        return 0

    if os.geteuid() != 0:
        print("the catalogue suite needs root")
        return 1
    if args.target == "sysv":
        # lsb init-functions would hand the scripts to systemctl; systemd must not look alive.
        if os.path.isdir("/run/systemd/system"):
            print("/run/systemd/system exists: refusing to run SysV tests here")
            return 1
        kind = Recipe
    else:
        import catalogue_runit
        import catalogue_systemd
        module, kind = {"systemd": (catalogue_systemd, catalogue_systemd.SystemdRecipe),
                        "runit": (catalogue_runit, catalogue_runit.RunitRecipe)}[args.target]
        if not (args.container_leader and args.container_root):
            print(f"--target {args.target} needs --container-leader and --container-root "
                  f"(tests/e2e/catalogue_{args.target}.sh)")
            return 1
        problem = module.container_problem(args)
        if problem:
            print(problem)
            return 1
    if not os.access(h.initkit, os.X_OK):
        print(f"no initkit at {h.initkit}")
        return 1

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    t0 = time.monotonic()
    try:
        unknown = [n for n in names if n not in all_names]
        for n in unknown:
            say(f"== {n}")
            fail(f"{n}: no test description {os.path.join(h.tests, n + '.toml')}")
        names = [n for n in names if n in all_names]
        if args.jobs > 1 and len(names) > 1:
            run_parallel(h, names)
        else:
            for n in names:
                kind(h, n, os.path.join(h.tests, f"{n}.toml"), all_names.index(n)).main()
    except KeyboardInterrupt:
        fail("interrupted")
    if args.child:  # the parent counts and sums up
        return 1 if FAILED else 0
    say()
    say(f"per recipe ({args.target}), passed/failed/skipped, in {time.monotonic() - t0:.0f}s:")
    for n in sorted(PER_RECIPE):
        p, f, k = PER_RECIPE[n]
        say(f"  {n:<24} {p:3d} {f:3d} {k:3d}" + ("   FAILED" if f else ""))
    if SKIPS:
        say(f"{len(SKIPS)} skipped:")
        for k in SKIPS:
            say(f"  {k}")
    if FAILED:
        say("failed:")
        for f in FAILURES:
            say(f"  {f}")
    say(f"{PASSED} passed, {FAILED} failed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    # catalogue_systemd imports this module as `catalogue`: the same one, not a second copy.
    sys.modules.setdefault("catalogue", sys.modules[__name__])
    sys.exit(main())
