"""Path-finding training cost per step and per epoch, for the two recipes (docs/pathfinding.md).

For each recipe (``brinkmann``: the paper's 16-node configuration; ``brinkmann-cpu``) a trainer is
built on a small sample of the recipe's data (same node count, model, batch size), one warm-up
``train_step`` runs, then ``--steps`` steps on one batch are timed by process CPU time, and one
teacher-forced forward pass over 512 rows. The per-epoch figures scale these by the recipe's
steps per epoch and rows per evaluation.

Usage: OMP_NUM_THREADS=1 taskset -c 0 .venv/bin/python benchmarks/bench_pathfinding.py [--steps 10]
"""

from __future__ import annotations

import argparse
import time

import torch

from algolens.tasks.pathfinding.setup import start_pathfinding
from algolens.train.config import make_config

SAMPLE_ROWS = 3000


def measure(recipe: str, steps: int) -> str:
    base = make_config(recipe, seeds=[0])
    assert base.pathfinding is not None and base.batch_size is not None
    data = {**base.pathfinding.model_dump(), "n_examples": SAMPLE_ROWS}
    trainer, _ = start_pathfinding(make_config(recipe, seeds=[0], pathfinding=data))
    rows = trainer.train_idx[:, : base.batch_size]
    trainer.train_step(rows, 0.0)  # warm-up
    t = time.process_time()
    for _ in range(steps):
        trainer.train_step(rows, 0.0)
    step = (time.process_time() - t) / steps
    t = time.process_time()
    with torch.no_grad():
        trainer.model(trainer.inputs[:512][None])
    per_row = (time.process_time() - t) / 512
    n = base.pathfinding.n_examples
    n_steps = -(-base.pathfinding.n_train // base.batch_size)
    return (
        f"| {recipe} | {1000 * step:.0f} ms (batch {base.batch_size}) | {n_steps} | "
        f"{step * n_steps:.0f} s | {per_row * n:.0f} s ({n} rows) |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    print("| recipe | CPU per step | steps per epoch | train per epoch | one full evaluation |")
    print("| --- | --- | --- | --- | --- |")
    for recipe in ("brinkmann", "brinkmann-cpu"):
        print(measure(recipe, args.steps))


if __name__ == "__main__":
    main()
