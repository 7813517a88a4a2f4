"""The catalogue harness's systemd target: the same steps as under SysV
(tests/e2e/catalogue.py), driven in a container whose PID 1 is systemd
(booted by tests/e2e/catalogue_systemd.sh), through `initkit install`,
`initkit ACTION` and systemctl run inside it with nsenter.

What differs from SysV, and why:
- Each recipe is installed for real from its file (`initkit install
  FILE@A FILE@B --set A:KEY=VALUE ...`), so the settings go through
  initkit's own settings files; the units are the rendered ones.
- The scratch directories ($DIR) are BASE/NAME/INSTANCE in the container
  (/srv: visible under ProtectSystem=strict and PrivateTmp); $ROOT and $R
  are empty, since the units use the real paths, and $TESTS is a copy of
  the descriptions' directory in the container. A description whose test
  files must be written by the daemon says `systemd_writable = "why"`: a
  drop-in gives the unit ReadWritePaths=BASE/NAME, printed with the why.
- PIDs are systemd's MainPID, in the container's PID namespace; what is
  left after a stop is a live process in one of the recipe's units'
  cgroups or one naming BASE/NAME.
- kill -9: systemd restarts the service where the recipe's restart policy
  says so (a new MainPID that answers), then a stop leaves nothing.
- A last step, uninstall: `initkit uninstall` leaves none of the files
  install wrote, no unit of the recipe's in /etc, nothing running or
  listening.
- `systemd_skip = "why"` in a description skips the recipe here; the skip
  is counted and listed, and the catalogue doc does not claim systemd for it.
"""

import hashlib
import os
import re
import shutil
import time

import catalogue as cat
from catalogue import Fail

BASE = "/srv/initkit-cat"
TESTS = f"{BASE}/tests"  # the descriptions' directory, copied in once per run
RESTARTS_AFTER_KILL = ("on-failure", "always", "on-abnormal", "on-abort")


def container_problem(args):
    """Why the container cannot be used, or None."""
    leader, root = args.container_leader, args.container_root
    if not os.path.isdir(f"/proc/{leader}/root/proc/1"):
        return f"no container: /proc/{leader}/root/proc/1 does not exist"
    if not os.path.isdir(os.path.join(root, "etc/systemd/system")):
        return f"{root} is not the container's root (no etc/systemd/system)"
    return None


class SystemdRecipe(cat.Recipe):
    """The steps in a container booted by another init system's suite; a
    subclass for another init system (catalogue_runit.py) replaces what
    names units, where install writes, and what the init system reports."""

    target = "systemd"
    skip_key = "systemd_skip"  # the description's key that skips a recipe here
    install_args = []  # what `initkit install` is told besides the recipes and settings
    # Where install writes the recipe's files: compared before install and after uninstall.
    install_dirs = ("/etc/systemd/system", "/etc/default", "/etc/initkit", "/var/lib/initkit/installed")

    def __init__(self, h, name, desc_path, index):
        super().__init__(h, name, desc_path, index)
        self.leader = h.args.container_leader
        self.ct_root = os.path.abspath(h.args.container_root)
        self.proc = f"/proc/{self.leader}/root/proc"
        self.ct_dir = f"{BASE}/{name}"
        self.installed = False
        self.dropin = None
        self.before = set()

    # ---- the container ------------------------------------------------------

    def host(self, path):
        """A container path as this host sees it."""
        return self.ct_root + path

    def ct(self, argv):
        """ARGV in the container: every namespace of its PID 1."""
        return ["nsenter", "-t", str(self.leader), "-a", "--"] + argv

    def ct_run(self, argv, **kw):
        return self.run(self.ct(argv), **kw)

    def short(self, text):
        text = text.replace(self.host(self.ct_dir), "$BASE").replace(self.ct_dir, "$BASE")
        return text.replace(self.ct_root, "$CT")

    def unit(self, inst):
        return f"{self.name}@{inst}.service" if self.multi else f"{self.name}.service"

    def unit_file(self):
        return f"/etc/systemd/system/{self.name}@.service" if self.multi else f"/etc/systemd/system/{self.name}.service"

    # ---- the primitives the steps use ---------------------------------------

    def make_root(self):
        self.made_dirs = []
        self.root = self.host(self.ct_dir)
        if os.path.exists(self.root):
            shutil.rmtree(self.root)
        os.makedirs(self.root, 0o755)
        for d in (self.host(BASE), self.root):
            os.chmod(d, 0o755)

    def make_env(self, inst, idx):
        e = super().make_env(inst, idx)
        e.update(DIR=f"{self.ct_dir}/{inst}", ROOT="", R="", TESTS=TESTS, UNIT=self.unit(inst))
        e.pop("SCRIPT", None)
        return e

    def subst(self, key, value, inst):
        saved, self.root = self.root, ""  # {root}: the real paths
        try:
            return super().subst(key, value, inst)
        finally:
            self.root = saved

    def sh(self, code, inst, timeout=None, box=True, quiet=False):
        code = 'cd "$DIR" || exit 97\n' + code
        return self.run(self.ct(["sh", "-c", code]), env=self.envs[inst], timeout=timeout, box=box, quiet=quiet)

    def S(self, action, inst=None, box=True, timeout=None):
        spec = f"{self.name}@{inst}" if inst else self.name
        return self.ct_run(["initkit", action, spec], timeout=timeout, box=box)

    def pid(self, inst):
        rc, out = self.ct_run(["systemctl", "show", "-p", "MainPID", "--value", self.unit(inst)], quiet=True)
        try:
            p = int(out.split()[0]) if rc == 0 else 0
        except (IndexError, ValueError):
            p = 0
        if not p:
            return None
        self.seen_pids.add(p)
        return p

    def net_dir(self):
        return f"/proc/{self.leader}/net"

    def log_tail(self, inst):
        rc, out = self.ct_run(["journalctl", "-u", self.unit(inst), "-n", "8", "--no-pager", "-o", "cat"],
                              box=False, timeout=20, quiet=True)
        return f"\njournal of {self.unit(inst)}:\n" + "\n".join("  " + l for l in out.splitlines()) if out else ""

    def in_our_units(self, pid):
        try:
            with open(f"{self.proc}/{pid}/cgroup") as f:
                text = f.read()
        except OSError:
            return False
        units = {self.unit(i) for i in self.insts}
        return any(part in units for line in text.splitlines() for part in line.split(":", 2)[-1].split("/"))

    def mentioning_root(self):
        """Live processes in the container that mention BASE/NAME in their
        command line, or run in one of the recipe's units' cgroups."""
        pattern = re.compile(re.escape(self.ct_dir) + r"(/| |$)")
        pids = []
        for d in os.listdir(self.proc):
            if not d.isdigit() or d == "1":
                continue
            p = int(d)
            if (pattern.search(cat.cmdline(p, self.proc)) or self.in_our_units(p)) and self.alive(p):
                pids.append(p)
        return sorted(pids)

    def leftovers(self):
        return self.mentioning_root()

    def stop_grace_ms(self):
        return 5000

    def kill(self, pids, sig="KILL"):
        if pids:
            self.ct_run(["kill", f"-{sig}"] + [str(p) for p in pids], box=False, timeout=20, quiet=True)

    # ---- steps ----------------------------------------------------------------

    def steps(self):
        steps = super().steps()
        steps[0] = ("install", self.step_install, True)
        return steps + [("uninstall", self.step_uninstall, False)]

    def main(self):
        why = None
        try:
            with open(self.desc_path, "rb") as f:
                why = cat.tomllib.load(f).get(self.skip_key)
        except (OSError, cat.tomllib.TOMLDecodeError):
            pass
        if why:
            cat.CURRENT = self.name
            cat.say(f"== {self.name} (under {self.target})")
            cat.skip(f"{self.name}: every step: not run under {self.target}: {why}")
            return
        super().main()

    def ours(self):
        """The recipe's own paths where install writes (units and drop-ins,
        settings, initkit's records), each with a digest of its content: a
        package's file that install replaced must come back as it was."""
        found = set()
        for d in self.install_dirs:
            for top, dirs, files in os.walk(self.host(d)):
                for n in dirs + files:
                    if n == self.name or n.startswith((f"{self.name}@", f"{self.name}.")):
                        path = os.path.join(top, n)
                        digest = "dir"
                        if os.path.isfile(path) and not os.path.islink(path):
                            with open(path, "rb") as f:
                                digest = hashlib.sha256(f.read()).hexdigest()[:16]
                        found.add((path[len(self.ct_root):], digest))
        return found

    def step_install(self):
        prog = (self.r.get("run", {}).get("command") or [""])[0]
        pkgs = " ".join(self.t.get("packages", [])) or "(none listed)"
        if not (os.path.isfile(self.host(prog)) and os.access(self.host(prog), os.X_OK)):
            raise Fail(f"{prog} is not in the container; add the packages to its rootfs: {pkgs}")
        user = self.r.get("run", {}).get("user", "")
        rc, _ = self.ct_run(["id", "-u", user], quiet=True)
        if rc != 0:
            raise Fail(f"user {user!r} does not exist in the container; packages: {pkgs}")
        notes = []
        if self.ns_kinds:
            notes.append(f"namespace {'+'.join(self.ns_kinds)}: the container's own")
        settings = self.settings()
        sets = []
        for inst in self.insts:
            d = self.host(self.envs[inst]["DIR"])
            os.makedirs(d, mode=0o755)
            os.chmod(d, 0o755)
            for k, v in settings.items():
                v = cat.setting_value(k, self.subst(k, v, inst))
                sets += ["--set", (f"{inst}:" if self.multi else "") + f"{k}={v}"]
        self.before = self.ours()
        recipe = f"{self.ct_dir}/{self.name}.toml"
        shutil.copyfile(self.recipe_file, self.host(recipe))
        os.chmod(self.host(recipe), 0o644)
        notes += self.test_dropin()
        specs = [f"{recipe}@{i}" for i in self.insts] if self.multi else [recipe]
        rc, out = self.ct_run(["initkit", "install", *specs, *sets, *self.install_args])
        taken = re.findall(r"error: (\S+) exists and initkit did not write it; use --force", out)
        if rc == 1 and taken:
            # A package's file where initkit keeps the settings (/etc/default/NAME of a
            # single-instance recipe): replaced with a backup, restored by uninstall.
            notes.append(f"--force: install replaces the package's {', '.join(taken)} (uninstall must restore it)")
            rc, out = self.ct_run(["initkit", "install", *specs, *sets, *self.install_args, "--force"])
        self.installed = True
        if rc != 0:
            raise Fail(f"install exit {rc}", self.short(out))
        said = self.check_installed(out)
        return f"{said}, {len(self.insts)} instance(s)" + (f"; {'; '.join(notes)}" if notes else "")

    def test_dropin(self):
        """`systemd_writable`: a drop-in that lets the unit write its test directory."""
        why = self.t.get("systemd_writable")
        if not why:
            return []
        self.dropin = self.host(self.unit_file() + ".d")
        os.makedirs(self.dropin, exist_ok=True)
        with open(f"{self.dropin}/initkit-e2e.conf", "w") as f:
            f.write(f"# the catalogue harness: {why}\n[Service]\nReadWritePaths={self.ct_dir}\n")
        return [f"test drop-in ReadWritePaths={self.short(self.ct_dir)} ({why})"]

    def check_installed(self, out):
        """That systemd loads the unit install wrote; what to say of it."""
        if not os.path.isfile(self.host(self.unit_file())):
            raise Fail(f"install wrote no {self.unit_file()}", self.short(out))
        rc, shown = self.ct_run(["systemctl", "show", "-p", "FragmentPath", "--value", self.unit(self.insts[0])])
        if shown.strip() != self.unit_file():
            raise Fail(f"systemd loads {self.unit(self.insts[0])} from {shown.strip()!r}, not {self.unit_file()}")
        return self.unit_file()

    def gate_native(self, first, pid0):
        """systemctl reload runs the config test in ExecReload (a trial start
        gates only in the front-end: docs/recipes.md)."""
        check = self.r.get("check", {})
        if not self.has_reload or not check.get("command"):
            return []
        unit = self.unit(first)
        rc, out = self.ct_run(["systemctl", "reload", unit])
        if rc == 0:
            raise Fail(f"`systemctl reload {unit}` with a broken config exited 0", self.short(out))
        _, state = self.ct_run(["systemctl", "is-active", unit], quiet=True)
        if state.strip() != "active" or self.pid(first) != pid0:
            raise Fail(f"after the refused systemctl reload: {state.strip()}, pid {pid0} -> {self.pid(first)}")
        return [f"systemctl reload refused by ExecReload's test (exit {rc})"]

    def expect(self, why, want, action, inst=None):
        """As under SysV; a failure shows the journal of the units concerned."""
        try:
            return super().expect(why, want, action, inst)
        except Fail as e:
            insts = [inst] if inst else self.insts
            raise Fail(e.msg, e.detail + "".join(self.log_tail(i) for i in insts)) from None

    def step_kill9(self):
        first = self.insts[0]
        arg = self.arg(first)
        unit = self.unit(first)
        self.expect("", 0, "start", arg)
        pid = self.live_pid(first, "after start")
        policy = str(self.r.get("restart", {}).get("policy", "on-failure"))
        self.check_policy(first, policy)
        self.kill([pid])
        limit = time.monotonic() + 5
        while self.alive(pid) and time.monotonic() < limit:
            time.sleep(0.02)
        if self.alive(pid):
            raise Fail(f"pid {pid} survived kill -9")
        if policy in RESTARTS_AFTER_KILL:
            limit = time.monotonic() + self.probe_timeout + 15
            new = None
            while time.monotonic() < limit:
                new = self.pid(first)
                if new and new != pid and self.alive(new):
                    break
                time.sleep(0.1)
            else:
                raise Fail(f"{self.target} did not restart {unit} after kill -9 (restart.policy {policy})",
                           self.log_tail(first))
            self.must_answer(first, f"after {self.target} restarted it")
            self.wait_active(first)
            self.expect(f"after the restart by {self.target}", 0, "status", arg)
            said = (f"pid {pid} killed: {self.target} restarted it as pid {new} (restart.policy {policy}), "
                    "answers, status 0")
        else:
            self.expect("after kill -9 (no restart)", 1, "status", arg)
            said = f"pid {pid} killed: not restarted (Restart={policy}), status 1 (failed)"
        self.expect("", 0, "stop")
        self.expect("after that stop", 3, "status", arg)
        ports = self.wait_ports_closed(self.insts)
        left = self.wait_nothing_left()
        if ports or left:
            raise Fail(f"after stop: ports {ports} open, {len(left)} process(es) left", self.describe(left, report=True))
        return said + "; stop 0, status 3, nothing left"

    def check_policy(self, inst, policy):
        """The unit's Restart= is the recipe's restart policy."""
        rc, native = self.ct_run(["systemctl", "show", "-p", "Restart", "--value", self.unit(inst)], quiet=True)
        if native.strip() != policy:
            raise Fail(f"the unit says Restart={native.strip()}, the recipe restart.policy = {policy!r}")

    def wait_active(self, inst):
        """systemd's start job ends after the readiness wait (ExecStartPost),
        which may come after the probe first passes."""
        limit = time.monotonic() + self.probe_timeout
        while True:
            _, state = self.ct_run(["systemctl", "is-active", self.unit(inst)], quiet=True)
            if state.strip() == "active" or time.monotonic() >= limit:
                return state.strip()
            time.sleep(0.1)

    def remove_dropin(self):
        if self.dropin:
            shutil.rmtree(self.dropin, ignore_errors=True)
            self.dropin = None

    def step_uninstall(self):
        self.remove_dropin()
        rc, out = self.ct_run(["initkit", "uninstall", self.name])
        if rc != 0:
            raise Fail(f"uninstall exit {rc}", self.short(out))
        self.installed = False
        problems = []
        after = self.ours()
        if after != self.before:
            added, gone = sorted(after - self.before), sorted(self.before - after)
            problems.append(f"left behind or changed: {added}" if added else "")
            problems.append(f"not as it was before install: {gone}" if gone else "")
        problems += self.still_known()
        ports = self.wait_ports_closed(self.insts)
        if ports:
            problems.append(f"ports open: {ports}")
        left = self.wait_nothing_left()
        if left:
            problems.append("processes left:\n" + self.describe(left, report=True))
        problems = [p for p in problems if p]
        if problems:
            raise Fail("after uninstall: " + problems[0], "\n".join(problems[1:]))
        return "exit 0; none of its files, units or processes left, ports closed"

    def still_known(self):
        """What systemd still knows of the recipe after uninstall."""
        problems = []
        rc, frag = self.ct_run(["systemctl", "show", "-p", "FragmentPath", "--value", self.unit(self.insts[0])],
                               quiet=True)
        if frag.strip() == self.unit_file():
            problems.append(f"systemd still loads {self.unit_file()}")
        for i in self.insts:
            rc, state = self.ct_run(["systemctl", "is-active", self.unit(i)], quiet=True)
            if state.strip() not in ("inactive", "unknown", "failed"):
                problems.append(f"{self.unit(i)} is {state.strip()}")
        return problems

    def cleanup(self):
        notes, problems = [], []
        self.deadline = time.monotonic() + 120
        self.remove_dropin()
        if self.installed:
            rc, out = self.ct_run(["initkit", "uninstall", self.name, "--force"], box=False, timeout=120)
            if rc != 0:
                problems.append(f"uninstall --force: exit {rc}: {self.short(out)[-300:]}")
            else:
                notes.append("uninstalled")
        limit = time.monotonic() + 1.0
        while self.leftovers() and time.monotonic() < limit:
            time.sleep(0.05)
        left = self.leftovers()
        if left:
            what = self.describe(left)
            self.kill(left)
            if not set(left) <= self.reported:
                problems.append("killed by PID (in its units, or naming $BASE):\n" + what)
            else:
                notes.append(f"killed {len(left)} leftover(s) reported above, by PID")
        if self.t and self.t.get("cleanup") and self.envs:
            for i in self.insts:
                if os.path.isdir(self.host(self.envs[i]["DIR"])):
                    rc, out = self.sh(self.t["cleanup"], i, timeout=60, box=False)
                    if rc != 0:
                        problems.append(f"cleanup of {i}: exit {rc}: {self.short(out)[-300:]}")
            notes.append("cleanup ran")
        shutil.rmtree(self.root, ignore_errors=True)
        if os.path.exists(self.root):
            problems.append(f"could not remove {self.root}")
        if problems:
            cat.fail(f"{self.name}: cleanup", "\n".join(problems))
        else:
            cat.ok(f"{self.name}: cleanup: nothing left, $BASE removed" + (f" ({', '.join(notes)})" if notes else ""))

