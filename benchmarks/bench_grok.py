"""Time to grok S5 with the fast recipe: wall seconds and epochs to every seed >= 99.9% test.

Two modes, both through ``start_run`` exactly as ``algolens train --group S5 --recipe fast``:

* ``--together`` (what ``algolens train --seeds 0-3`` and ``algolens demo`` do): the seeds train
  as one batched model and the run stops at the first evaluation where every live seed has test
  accuracy >= the recipe's ``grok_threshold`` (0.999). Reported: stopping epoch, wall time, each
  seed's final test accuracy and loss.
* default (each seed alone, K=1): epochs and wall time per seed, and their median.

The wall time covers building the task and model, training, evaluation every ``eval_every``
epochs, checkpoints and the run store (not the Python and torch import). The process's CPU time
and the load average (1 min) before and after each run are printed: the machine is shared.

Usage: .venv/bin/python benchmarks/bench_grok.py [--seeds 0-3] [--together] [--threads 1]
       [--lr 2e-2 --weight-decay 3 --beta1 0.9]   (overrides of the recipe, for tuning)
       [--matmul-dtype bfloat16]                  (mixed precision, ``MLPConfig.matmul_dtype``)
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch

from algolens.store import RunStore
from algolens.train import make_config, parse_seeds, start_run


def cpu_model() -> str:
    """The CPU's model name (Linux), else the platform's processor string."""
    info = Path("/proc/cpuinfo")
    if info.exists():
        for line in info.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def timed_run(store: RunStore, seeds: list[int], args: argparse.Namespace) -> tuple[dict, float]:
    """One run of the recipe on S5 with ``seeds``; returns (summary, wall seconds). Prints the
    process's CPU seconds too (less sensitive than wall time to other processes' load)."""
    cfg = make_config(
        args.recipe, group="S5", seeds=seeds, grok_threshold=args.threshold,
        epochs=args.max_epochs, lr=args.lr, weight_decay=args.weight_decay, beta1=args.beta1,
        **({"model_args": {"matmul_dtype": args.matmul_dtype}} if args.matmul_dtype else {}),
    )  # fmt: skip
    load = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    summary = start_run(cfg, store)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"  ({wall:.1f} s wall, {cpu:.1f} s CPU; load average {load:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after)",
        flush=True,
    )
    return summary, wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0-4")
    ap.add_argument("--together", action="store_true", help="one batched run of all the seeds")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--recipe", default="fast")
    ap.add_argument("--threshold", type=float, default=None, help="default: the recipe's")
    ap.add_argument("--max-epochs", type=int, default=None)
    ap.add_argument("--lr", type=float, default=None, help="override the recipe's")
    ap.add_argument("--weight-decay", type=float, default=None, help="override the recipe's")
    ap.add_argument("--beta1", type=float, default=None, help="override the recipe's")
    ap.add_argument("--matmul-dtype", default=None, choices=["bfloat16"], help="mixed precision")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"{cpu_model()}, {os.cpu_count()} CPUs; torch {torch.__version__}, "
        f"{torch.get_num_threads()} thread(s); S5 MLP, recipe {args.recipe}"
        + "".join(
            f", {k} {v}"
            for k, v in (
                ("lr", args.lr),
                ("wd", args.weight_decay),
                ("beta1", args.beta1),
                ("matmul dtype", args.matmul_dtype),
            )  # fmt: skip
            if v is not None
        )
    )
    seeds = parse_seeds(args.seeds)
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(tmp)
        if args.together:
            s, wall = timed_run(store, seeds, args)
            for r in s["seeds"]:
                print(
                    f"seed {r['seed']}: first over the threshold at {r['grok_epoch']}, final test "
                    f"acc {r['test_acc']:.5f}, test loss {r['test_loss']:.3g}"
                )
            ok = all(r["grok_epoch"] is not None for r in s["seeds"]) and s["stopped_early"]
            print(
                f"{len(seeds)} seeds together: {'all grokked' if ok else 'NOT all grokked'}, "
                f"stopped at epoch {s['epochs']}, {wall:.1f} s wall"
            )
            return
        rows = []
        for seed in seeds:
            s, wall = timed_run(store, [seed], args)
            r = s["seeds"][0]
            rows.append((seed, r["grok_epoch"], wall))
            print(
                f"seed {seed}: test acc {r['test_acc']:.4f} (loss {r['test_loss']:.3g}) at epoch "
                f"{s['epochs']} (first over the threshold at {r['grok_epoch']}), {wall:.1f} s",
                flush=True,
            )
    ok = [r for r in rows if r[1] is not None]
    print(f"{len(ok)}/{len(rows)} seeds reached the threshold")
    if ok:
        print(
            f"median: {statistics.median(r[1] for r in ok):.0f} epochs, "
            f"{statistics.median(r[2] for r in ok):.1f} s wall (max {max(r[2] for r in ok):.1f} s)"
        )


if __name__ == "__main__":
    main()
