"""The catalogue harness's runit target: the same steps as under systemd
(catalogue_systemd.py), in the catalogue's rootfs with runsvdir as PID 1 of
its own PID, mount and network namespaces (booted by
tests/e2e/catalogue_runit.sh), through `initkit install --target runit`,
`initkit ACTION` and sv run inside it with nsenter.

What differs from systemd, and why:
- A recipe's instances are service directories /etc/sv/NAME@INSTANCE (or
  /etc/sv/NAME), supervised once linked into /etc/service.
- PIDs are what `initkit status --json` reports (the PID runsv watches), in
  the namespace's PID namespace; what is left after a stop is a live process
  below one of the recipe's runsv processes (its svlogd aside, which runs as
  long as the service directory is supervised), or one naming BASE/NAME, or
  one in the session of a PID the harness saw.
- There is no native reload with a gate: `sv hup` signals without the
  config test, so the gate is the front-end's (initkit reload/restart).
- kill -9: runsv runs the service again (the recipes' restart policy), then
  a stop leaves nothing.
- `runit_skip = "why"` in a description skips the recipe here; the skip is
  counted and listed, and the catalogue doc does not claim runit for it.
"""

import json
import os
import time

import catalogue as cat
from catalogue import Fail
from catalogue_systemd import RESTARTS_AFTER_KILL, SystemdRecipe

SV, SERVICE = "/etc/sv", "/etc/service"


def container_problem(args):
    """Why the namespaces cannot be used, or None."""
    leader, root = args.container_leader, args.container_root
    try:
        with open(f"/proc/{leader}/comm") as f:
            comm = f.read().strip()
    except OSError:
        return f"no process {leader}"
    if comm != "runsvdir":
        return f"process {leader} is {comm}, not runsvdir"
    if not os.path.isdir(os.path.join(root, "etc/service")):
        return f"{root} is not the namespaces' root (no etc/service)"
    return None


class RunitRecipe(SystemdRecipe):
    target = "runit"
    hands_over = False  # runsv restarts its one child plainly
    skip_key = "runit_skip"
    install_args = ["--target", "runit"]
    install_dirs = (SV, SERVICE, "/etc/default", "/etc/initkit", "/var/lib/initkit/installed")

    def ct(self, argv):
        """ARGV inside: runsvdir's PID, mount and network namespaces, its root and directory."""
        return ["nsenter", "-t", str(self.leader), "-p", "-m", "-n", "-r", "-w", "--"] + argv

    def service(self, inst):
        return f"{self.name}@{inst}" if self.multi else self.name

    def unit(self, inst):
        return self.service(inst)

    def test_dropin(self):
        return []

    def check_installed(self, out):
        for i in self.insts:
            run = f"{SV}/{self.service(i)}/run"
            if not os.access(self.host(run), os.X_OK):
                raise Fail(f"install wrote no {run}", self.short(out))
        return f"{SV}/{self.service(self.insts[0])}"

    def pid(self, inst):
        rc, out = self.ct_run(["initkit", "status", f"{self.name}@{inst}" if self.multi else self.name,
                               "--json"], quiet=True)
        try:
            found = json.loads(out)
        except ValueError:
            return None
        rows = found if isinstance(found, list) else found.get("instances", [found])
        p = next((r.get("pid") for r in rows if isinstance(r, dict) and r.get("pid")), None)
        if not p:
            return None
        self.seen_pids.add(p)
        self.sessions.add(p)
        return p

    def log_tail(self, inst):
        for d in (f"/var/log/initkit/{self.name}/{inst}", f"/var/log/initkit/{self.name}"):
            try:
                with open(self.host(f"{d}/current"), errors="replace") as f:
                    lines = f.read().splitlines()[-8:]
            except OSError:
                continue
            return f"\n{d}/current:\n" + "\n".join("  " + l for l in lines) if lines else ""
        return ""

    def runsv_pids(self):
        """The runsv processes of the recipe's service directories."""
        wanted = {f"runsv {self.service(i)}" for i in self.insts}
        return {int(d) for d in os.listdir(self.proc)
                if d.isdigit() and cat.cmdline(int(d), self.proc) in wanted}

    def comm(self, pid):
        try:
            with open(f"{self.proc}/{pid}/comm") as f:
                return f.read().strip()
        except OSError:
            return ""

    def in_our_units(self, pid):
        """Below one of the recipe's runsv processes, svlogd and runsv aside."""
        if self.comm(pid) in ("runsv", "svlogd"):
            return False
        ours = self.runsv_pids()
        p = pid
        for _ in range(64):
            st = cat.proc_stat(p, self.proc)
            if not st or st[1] <= 1:
                return False
            if st[1] in ours:
                return True
            p = st[1]
        return False

    def leftovers(self):
        pids = set(self.mentioning_root())
        # runsvdir -P: each runsv leads a session, which its daemon's orphans keep.
        for s in self.sessions | self.runsv_pids():
            pids.update(p for p in self.session_members(s) if self.comm(p) not in ("runsv", "svlogd"))
        return sorted(p for p in pids if self.alive(p))

    def session_members(self, sid):
        return [p for p in cat.session_members(sid, self.proc) if p != 1]

    def gate_native(self, first, pid0):
        return []

    def check_policy(self, inst, policy):
        """runsv runs a service again whenever it ends; a policy that says
        otherwise is the finish script's (`sv once`), not tested here."""
        if policy not in RESTARTS_AFTER_KILL:
            raise cat.Skip(f"restart.policy {policy}: the harness tests only a service runsv runs again")

    def wait_active(self, inst):
        limit = time.monotonic() + self.probe_timeout
        while True:
            rc, _ = self.S("status", self.arg(inst))
            if rc == 0 or time.monotonic() >= limit:
                return rc
            time.sleep(0.1)

    def still_known(self):
        """A service directory or scan link left, or a runsv still running."""
        problems = []
        for i in self.insts:
            for d in (f"{SV}/{self.service(i)}", f"{SERVICE}/{self.service(i)}"):
                if os.path.lexists(self.host(d)):
                    problems.append(f"{d} is still there")
        limit = time.monotonic() + 10
        while self.runsv_pids() and time.monotonic() < limit:
            time.sleep(0.1)
        left = self.runsv_pids()
        if left:
            problems.append("runsv still supervises it:\n" + self.describe(sorted(left)))
        return problems
