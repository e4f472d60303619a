"""Run every benchmark with the arguments recorded in docs/benchmarks.md (`make bench`).

Each benchmark prints ours, its baseline and the ratio. Pass --quick for a shorter smoke run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent

FULL = [
    ["bench_subgroups.py", "--full"],
    ["bench_irreps.py", "--gap", "--sweep"],
    ["bench_transformer.py"],
    ["bench_transformer.py", "--mlp"],
    ["bench_sweep.py", "--seeds", "32", "--epochs", "10", "--plain-epochs", "3", "--threads", "2"],
    ["bench_grok.py", "--seeds", "0-4", "--threads", "1"],
    ["bench_grok.py", "--seeds", "0-3", "--together", "--threads", "1"],
    ["bench_analysis.py", "--rounds", "3", "--threads", "1"],
    [
        "bench_analysis.py",
        "--group",
        "S5",
        "--d-embed",
        "256",
        "--d-mlp",
        "128",
        "--frac",
        "0.4",
        "--baseline",
        "--rounds",
        "3",
        "--threads",
        "1",
    ],
    ["bench_cosets.py"],
    ["bench_sequence.py", "--k", "8", "--rounds", "3"],
    ["bench_sequence_speed.py"],
    ["bench_split_plan.py"],
]
QUICK = [
    ["bench_subgroups.py"],
    ["bench_irreps.py", "--quick"],
    ["bench_transformer.py", "--group", "S4", "--rounds", "2"],
    ["bench_sweep.py", "--seeds", "8", "--epochs", "3", "--plain-epochs", "1", "--threads", "1"],
    ["bench_grok.py", "--seeds", "0", "--threads", "1"],
    ["bench_analysis.py", "--group", "S5", "--d-embed", "256", "--d-mlp", "128", "--rounds", "1"],
    ["bench_cosets.py", "--groups", "S4", "S5"],
    ["bench_sequence.py", "--k", "2", "--rounds", "1"],
    ["bench_sequence_speed.py", "--shapes", "recursion", "--rounds", "1", "--steps", "2"],
    ["bench_split_plan.py", "--rounds", "1", "--steps", "1"],
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short smoke run of every benchmark")
    args = ap.parse_args()
    failed = []
    for cmd in QUICK if args.quick else FULL:
        print(f"\n=== {' '.join(cmd)}", flush=True)
        if cmd[0] == "bench_irreps.py" and "--gap" in cmd:
            import shutil

            if shutil.which("gap") is None:
                cmd = [c for c in cmd if c != "--gap"]
        rc = subprocess.call([sys.executable, str(HERE / cmd[0]), *cmd[1:]])
        if rc != 0:
            failed.append(" ".join(cmd))
    if failed:
        sys.exit(f"benchmarks failed: {failed}")


if __name__ == "__main__":
    main()
