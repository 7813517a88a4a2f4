#!/usr/bin/env python3
"""initkit import over every unit and init script this host has.

Usage: tests/e2e/import_corpus.py [PATH-TO-INITKIT]

Each file either imports into recipes that `initkit check` accepts and that
render to every target (or are refused there with a clear error), or is
refused with its file and line; it never crashes. The figures after the
checks say how much of the corpus imports, and what is dropped most.
"""

import collections
import glob
import json
import os
import subprocess
import sys
import tempfile

INITKIT = sys.argv[1] if len(sys.argv) > 1 else "target/release/initkit"
TARGETS = ["systemd", "sysv", "openrc", "upstart", "runit", "s6", "daemontools", "supervisord", "launchd"]
CORPORA = [
    ("systemd units", sorted(glob.glob("/lib/systemd/system/*.service"))),
    ("init scripts", sorted(p for p in glob.glob("/etc/init.d/*") if os.path.isfile(p))),
]

passed = failed = 0


def ok(name):
    global passed
    passed += 1
    print(f"  ok    {name}")


def fail(name, detail=""):
    global failed
    failed += 1
    print(f"  FAIL  {name}")
    if detail:
        print("        " + detail.strip().replace("\n", "\n        ")[:2000])


def run(*args):
    return subprocess.run([INITKIT, *args], capture_output=True, text=True, timeout=60)


def crashed(p):
    """A panic exits 101; a signal is negative. A refusal is 1 or 2."""
    return p.returncode not in (0, 1, 2) or "panicked" in p.stderr


def import_one(path, scratch, stats):
    p = run("import", "--json", path)
    if crashed(p):
        return fail(f"{path}: import crashed (exit {p.returncode})", p.stderr)
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        return fail(f"{path}: import --json printed no JSON (exit {p.returncode})", p.stdout + p.stderr)
    if not doc["imports"]:
        bad = [q for q in doc["problems"] if q["file"] != path or q["line"] < 1 or not q["message"]]
        if p.returncode == 0 or not doc["problems"] or bad:
            return fail(f"{path}: refused without a located reason", json.dumps(doc["problems"]))
        stats["refused"] += 1
        stats["reasons"][doc["problems"][0]["message"]] += 1
        return ok(f"{path}: refused: {doc['problems'][0]['message']}")
    problems = []
    for imp in doc["imports"]:
        stats["imported"] += 1
        stats["clean"] += imp["dropped"] == 0
        for e in imp["report"]:
            if e["outcome"] == "dropped":
                stats["dropped"][e["setting"]] += 1
        recipe = os.path.join(scratch, imp["name"] + ".toml")
        with open(recipe, "w") as f:
            f.write(imp["recipe"])
        c = run("check", recipe)
        if c.returncode != 0:
            problems.append(f"initkit check {imp['name']}: exit {c.returncode}\n{c.stdout}{c.stderr}")
        for target in TARGETS:
            r = run("render", recipe, "--target", target)
            if crashed(r) or (r.returncode != 0 and "error" not in r.stderr):
                problems.append(f"render --target {target}: exit {r.returncode}\n{r.stderr}")
            elif r.returncode != 0:
                stats["refused_by"][target] += 1
            else:
                stats["rendered_by"][target] += 1
    if problems:
        return fail(f"{path}: imported, but", "\n".join(problems))
    names = ", ".join(i["name"] for i in doc["imports"])
    ok(f"{path}: {names}, checked, rendered or refused cleanly on each target")


def main():
    with tempfile.TemporaryDirectory(prefix="initkit-import-corpus.") as scratch:
        all_stats = {}
        for title, files in CORPORA:
            print(f"== {title}: {len(files)} files")
            if not files:
                fail(f"no {title} on this host: the corpus is empty")
                continue
            stats = {
                "imported": 0,
                "refused": 0,
                "clean": 0,
                "dropped": collections.Counter(),
                "reasons": collections.Counter(),
                "refused_by": collections.Counter(),
                "rendered_by": collections.Counter(),
            }
            for path in files:
                import_one(path, scratch, stats)
            all_stats[title] = (len(files), stats)
        print()
        for title, (n, s) in all_stats.items():
            print(f"{title}: {n} files, {s['imported']} recipes, {s['refused']} files refused, "
                  f"{s['clean']} recipes with nothing dropped")
            print("  dropped most: " + ", ".join(f"{k} ({v})" for k, v in s["dropped"].most_common(6)))
            print("  refused for: " + "; ".join(f"{k} ({v})" for k, v in s["reasons"].most_common(4)))
            print("  rendered on: " + ", ".join(f"{t} {s['rendered_by'][t]}/{s['imported']}" for t in TARGETS))
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
