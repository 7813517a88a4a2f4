"""How initkit's commands grow with the number of instances (and, for
`list --installed`, of installed services): a small custom recipe, rendered,
installed under a scratch root, its status read and the services listed,
at sizes a step of 10x apart. The cost per instance shows what grows faster
than the count."""
import os, shutil, subprocess, tempfile

from common import INITKIT, PORT_BASE, measure, median

SIZES = [int(n) for n in os.environ.get("BENCH_SIZES", "10,100,1000").split(",")]
SERVICES = [int(n) for n in os.environ.get("BENCH_SERVICES", "10,50,200").split(",")]
# Repeats at a size, the median kept; sizes over 100 run once (they take seconds).
REPEATS = int(os.environ.get("BENCH_SCALE_RUNS", "3"))

RECIPE = """name = "{name}"
summary = "initkit's benchmark service"

[vars]
port = "{port}"
{instances}
[run]
command = ["/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1", "{{port}}"]
user = "nobody"

[ready]
tcp = "127.0.0.1:{{port}}"
timeout = "10s"
"""


def recipe_file(directory, name, instances=True):
    path = os.path.join(directory, f"{name}.toml")
    with open(path, "w") as f:
        f.write(RECIPE.format(name=name, port=PORT_BASE + 90, instances="\n[instances]\n" if instances else ""))
    return path


def install_args(recipe, n, root, target):
    specs = [f"{recipe}@i{k}" for k in range(n)]
    sets = [f"--set=i{k}:port={PORT_BASE + k % 100}" for k in range(n)]
    return [INITKIT, "install", *specs, *sets, "--root", root, "--target", target]


def status_in(root):
    """`initkit status ikbench` as if `root` were the host: status has no
    --root, so a private mount namespace shows the root's settings, scripts,
    units and manifests at their host paths (nothing on the host changes)."""
    binds = []
    for sub in ("etc/default", "etc/init.d", "etc/systemd/system", "var/lib"):
        if os.path.isdir(os.path.join(root, sub)) and os.path.isdir(f"/{sub}"):
            binds.append(f'mount --bind "{root}/{sub}" "/{sub}" &&')
    script = " ".join(binds) + f' exec "{INITKIT}" status ikbench'
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script]


def repeat(n, once):
    """The run of median wall time among the repeats at size `n`."""
    runs = [once() for _ in range(REPEATS if n <= 100 else 1)]
    return sorted(runs, key=lambda r: r.wall)[len(runs) // 2]


def render_n(path, n, target):
    """N invocations of `render RECIPE@iK`, one per instance (render takes one instance)."""
    total = [0.0, 0.0, 0.0, 0]
    for k in range(n):
        r = measure([INITKIT, "render", f"{path}@i{k}", "--target", target])
        total = [total[0] + r.wall, total[1] + r.user, total[2] + r.sys, max(total[3], r.rss)]
    return type(r)(*total, 0)


def report(rows):
    print("\nscale: one command over N instances (N services for list --installed); "
          f"the median of {REPEATS} runs up to N=100, one run above")
    print("  growth is the cost per instance at this N over the cost per instance at the smallest N")
    print(f"  {'command':48} {'N':>5} {'time':>11} {'per each':>10} {'growth':>7} {'CPU':>11} {'peak RSS':>9}")
    for label, runs in rows:
        base = None
        for n, r in runs:
            per = r.wall / n
            base = base or per
            print(f"  {label:48} {n:>5} {r.wall * 1000:>8.1f} ms {per * 1000:>7.2f} ms {per / base:>6.2f}x"
                  f" {(r.user + r.sys) * 1000:>8.1f} ms {r.rss / 1024:>6.1f} MB")
            label = ""


def main():
    scratch = tempfile.mkdtemp(prefix="initkit-bench-scale.")
    try:
        path = recipe_file(scratch, "ikbench")
        rows = []
        for target in ("sysv", "systemd"):
            rows.append((f"render --target {target} (N invocations)",
                         [(n, repeat(n, lambda: render_n(path, n, target))) for n in SIZES]))
        for target in ("sysv", "systemd"):
            fresh, again, status = [], [], []
            for n in SIZES:
                roots = []

                def install_fresh():
                    root = tempfile.mkdtemp(dir=scratch)
                    roots.append(root)
                    return measure(install_args(path, n, root, target))

                fresh.append((n, repeat(n, install_fresh)))
                root = roots[-1]
                again.append((n, repeat(n, lambda: measure(install_args(path, n, root, target)))))
                status.append((n, repeat(n, lambda: measure(status_in(root)))))
                for r in roots:
                    shutil.rmtree(r, ignore_errors=True)
            rows.append((f"install --root --target {target}", fresh))
            rows.append((f"install again (nothing to do), {target}", again))
            rows.append((f"status, {target} (a mount namespace for --root)", status))
        listed, listed_json = [], []
        for s in SERVICES:
            root = tempfile.mkdtemp(dir=scratch)
            for k in range(s):
                subprocess.run([INITKIT, "install", recipe_file(scratch, f"ikbench-{k}", instances=False),
                                "--root", root, "--target", "sysv", "--enable"],
                               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            listed.append((s, repeat(s, lambda: measure([INITKIT, "list", "--installed", "--root", root]))))
            listed_json.append((s, repeat(s, lambda: measure([INITKIT, "list", "--installed", "--json", "--root", root]))))
            shutil.rmtree(root, ignore_errors=True)
        rows.append(("list --installed --root (N services)", listed))
        rows.append(("list --installed --json --root (N services)", listed_json))
        report(rows)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
