"""The trainer's split plan and evaluation chunks against what they replaced, in one process.

Two measurements on the recursion preset's model (2 layers, d_model 128, 4 heads, d_mlp 512;
binary successor up to 8 bits, batch 64), K seeds on 2 worker threads:

* ``step``: one training step under the default plan (:func:`algolens.train.row_split.split_plan`:
  three seeds in one chunk and two row parts) against the plan it replaced (cache-sized instance
  chunks of ``ceil(K / workers)`` seeds, no row parts: chunks of 2 and 1), and against one thread.
* ``eval``: one :func:`algolens.train.evaluation.evaluate_sequences` of the run's train and test
  rows in chunks of at most ``EVAL_CHUNK_TOKENS`` tokens against one chunk of every row (the
  logits cap alone, as before).

Rounds interleave the variants; medians are printed with the ratio, and the 1024³ fp32 matmul
peak at 1 and 2 threads from the same process::

    PYTHONPATH=src .venv/bin/python benchmarks/bench_split_plan.py [--seeds 3] [--rounds 5]
        [--max-size 8] [--n-train 1000] [--d-model D]   # zhang2023 standard: 20, 10000, 64
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import torch

from algolens.tasks.recursion.preset import PRESET
from algolens.tasks.registry import get_task
from algolens.train import evaluation
from algolens.train.config import make_config
from algolens.train.trainer import Trainer

sys.path.insert(0, str(Path(__file__).parent))
from bench_sequence_speed import matmul_peak, model_flops_per_token  # noqa: E402  (a sibling)


def peak(threads: int) -> float:
    """The fp32 matmul peak of ``bench_sequence_speed`` on ``threads`` torch threads."""
    torch.set_num_threads(threads)
    return matmul_peak(torch.float32)


def _timed(fn: Callable[[], object], reps: int = 1) -> float:
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t) / reps


def model_args(d_model: int | None) -> dict:
    """The preset's model, or one of its shape (2 layers, 4 heads) at width ``d_model``
    (``d_head = d_model / 4``, ``d_mlp = 4 d_model``; 64 is zhang2023's protocols' model)."""
    if d_model is None:
        return dict(PRESET["model_args"])
    return {"n_layers": 2, "d_model": d_model, "n_heads": 4, "d_head": d_model // 4,
            "d_mlp": 4 * d_model}  # fmt: skip


def trainers(
    seeds: int, batch: int, max_size: int, n_train: int, d_model: int | None = None
) -> dict[str, Trainer]:
    """The default plan and the old one on 2 workers, and one worker, on the same data."""
    preset = {k: v for k, v in PRESET.items() if k not in ("exact_stop", "early_stop")}
    preset["model_args"] = model_args(d_model)
    config = make_config(None, seeds=list(range(seeds)), task="recursion", function="successor",
                         recursion={"max_size": max_size, "n_train": n_train,
                                    "ood_max_size": max_size + 4},
                         **{**preset, "batch_size": batch})  # fmt: skip
    base = get_task(config.task).start(config, None)[0]
    old_chunk = -(-seeds // 2)
    return {
        "plan (2 workers)": Trainer(base.config, base.data, workers=2),
        "chunks alone (2 workers)": Trainer(
            base.config, base.data, workers=2, instance_chunk=old_chunk, row_parts=1
        ),
        "one worker": Trainer(base.config, base.data, workers=1),
    }


def measure(seeds: int, rounds: int, steps: int, batch: int = 64, max_size: int = 8,
            n_train: int = 1000, d_model: int | None = None) -> dict[str, list[float]]:  # fmt: skip
    """Seconds per step of each trainer and per evaluation, chunked and whole, one a round."""
    return measure_trainers(trainers(seeds, batch, max_size, n_train, d_model), rounds, steps)


def measure_trainers(ts: dict[str, Trainer], rounds: int, steps: int) -> dict[str, list[float]]:
    """:func:`measure` on the trainers of :func:`trainers`."""
    before = torch.get_num_threads()
    base = ts["plan (2 workers)"]
    seeds, batch = base.config.n_inst, base.batch_size
    g = torch.Generator().manual_seed(0)
    n = base.train_idx.shape[1]
    cols = torch.stack([torch.randperm(n, generator=g)[:batch] for _ in range(seeds)])
    rows = base.train_idx.gather(1, cols)  # [inst, batch]
    out: dict[str, list[float]] = {k: [] for k in ts}
    out |= {"eval, 8192-token chunks": [], "eval, one chunk": []}
    try:
        for _ in range(rounds):
            for name, t in ts.items():
                torch.set_num_threads(t.workers)
                t.train_step(rows, 0.0)  # warm
                out[name].append(_timed(lambda t=t: t.train_step(rows, 0.0), steps))
            torch.set_num_threads(2)
            out["eval, 8192-token chunks"].append(_timed(base.evaluate))
            with mock.patch.object(evaluation, "EVAL_CHUNK_TOKENS", 1 << 40):
                out["eval, one chunk"].append(_timed(base.evaluate))
    finally:
        torch.set_num_threads(before)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=8, help="steps per timing")
    ap.add_argument("--max-size", type=int, default=8, help="bits of the successor's numbers")
    ap.add_argument("--n-train", type=int, default=1000, help="training draws")
    ap.add_argument("--d-model", type=int, default=None, help="width (default: the preset's)")
    args = ap.parse_args()
    size = {"max_size": args.max_size, "n_train": args.n_train, "d_model": args.d_model}
    before = torch.get_num_threads()
    peaks = peak(1), peak(2)
    torch.set_num_threads(before)
    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}; "
          f"fp32 peak {peaks[0]:.0f} / {peaks[1]:.0f} GFLOP/s at 1 / 2 threads")  # fmt: skip
    ts = trainers(args.seeds, 64, **size)
    t = ts["plan (2 workers)"]
    step_flops = model_flops_per_token(t.model.cfg, t.train_width) * args.seeds * 64 * t.train_width
    timings = measure_trainers(ts, args.rounds, args.steps)
    med = {k: statistics.median(v) * 1000 for k, v in timings.items()}
    for k, v in med.items():
        if k.startswith("eval"):
            print(f"{k:28s} {v:8.1f} ms")
            continue
        gflops = step_flops / v / 1e6
        share = gflops / peaks[0 if k == "one worker" else 1]
        print(f"{k:28s} {v:8.1f} ms  {gflops:6.1f} GFLOP/s  {share:4.0%} of the same-thread peak")
    plan, old = med["plan (2 workers)"], med["chunks alone (2 workers)"]
    evals = med["eval, one chunk"] / med["eval, 8192-token chunks"]
    one = med["one worker"] / plan
    print(f"plan vs chunks alone: {old / plan:.2f}x; 2 workers vs 1: {one:.2f}x; "
          f"evaluation chunked vs whole: {evals:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
