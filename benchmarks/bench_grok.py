"""Time to grok S5 with the fast recipe: wall seconds and epochs to 99.9% test accuracy.

Each seed is trained on its own (K=1), exactly as ``algolens train --group S5 --seeds S
--recipe fast`` would, but with ``grok_threshold = 0.999`` so that early stopping ends the run at
the first evaluated epoch with test accuracy >= 99.9%. The wall time covers building the task and
model, training, evaluation every ``eval_every`` epochs, checkpoints and the run store (it excludes
the Python and torch import). The median over seeds is reported.

Usage: .venv/bin/python benchmarks/bench_grok.py [--seeds 0-4] [--threads 1] [--recipe fast]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch

from algolens.store import RunStore
from algolens.train import make_config, parse_seeds, start_run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0-4")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--recipe", default="fast")
    ap.add_argument("--threshold", type=float, default=0.999)
    ap.add_argument("--max-epochs", type=int, default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); "
        f"S5 MLP, recipe {args.recipe}"
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(tmp)
        for seed in parse_seeds(args.seeds):
            cfg = make_config(
                args.recipe, group="S5", seeds=[seed], grok_threshold=args.threshold,
                epochs=args.max_epochs,
            )  # fmt: skip
            t0 = time.perf_counter()
            s = start_run(cfg, store)
            wall = time.perf_counter() - t0
            r = s["seeds"][0]
            rows.append((seed, r["grok_epoch"], wall, r["test_acc"]))
            print(
                f"seed {seed}: test acc {r['test_acc']:.4f} at epoch {s['epochs']} "
                f"(>= {args.threshold} first at {r['grok_epoch']}), {wall:.1f} s",
                flush=True,
            )
    ok = [r for r in rows if r[1] is not None]
    print(f"{len(ok)}/{len(rows)} seeds reached {args.threshold} test accuracy")
    if ok:
        print(
            f"median: {statistics.median(r[1] for r in ok):.0f} epochs, "
            f"{statistics.median(r[2] for r in ok):.1f} s wall (max {max(r[2] for r in ok):.1f} s)"
        )


if __name__ == "__main__":
    main()
