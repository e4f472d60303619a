"""Path-finding training cost per step and per epoch, for the two recipes (docs/pathfinding.md).

For each recipe (``brinkmann``: the paper's 16-node configuration; ``brinkmann-cpu``) a trainer is
built on a small sample of the recipe's data (same node count, model, batch size), one warm-up
``train_step`` runs, then ``--steps`` steps on one batch are timed by process CPU time, and one
teacher-forced forward pass over 512 rows. The per-epoch figures scale these by the recipe's
steps per epoch and rows per evaluation.

On the CPU the steps are timed by process CPU time; with ``--device cuda`` (a GPU machine) by wall
time between ``torch.cuda.synchronize()`` calls, since the work then runs on the GPU. The
paper's ``brinkmann`` recipe is its ``--full`` configuration (docs/pathfinding.md), so its line
is the per-epoch time the issue asks to record on a GPU.

Usage: OMP_NUM_THREADS=1 taskset -c 0 .venv/bin/python benchmarks/bench_pathfinding.py [--steps 10]
       .venv/bin/python benchmarks/bench_pathfinding.py --device cuda --steps 50
"""

from __future__ import annotations

import argparse
import platform
import time

import torch

from algolens.errors import ConfigError
from algolens.tasks.pathfinding.setup import start_pathfinding
from algolens.train.config import make_config
from algolens.train.device import resolve_device, using_device

SAMPLE_ROWS = 3000


def clock(device: torch.device) -> float:
    """Seconds on the clock that measures work on ``device``: process CPU time on the CPU, wall
    time after the queued GPU work has finished on a GPU."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        return time.perf_counter()
    return time.process_time()


def measure(recipe: str, steps: int, device: torch.device) -> str:
    base = make_config(recipe, seeds=[0])
    assert base.pathfinding is not None and base.batch_size is not None
    data = {**base.pathfinding.model_dump(), "n_examples": SAMPLE_ROWS}
    with using_device(device):
        trainer, _ = start_pathfinding(make_config(recipe, seeds=[0], pathfinding=data))
    rows = trainer.train_idx[:, : base.batch_size]
    trainer.train_step(rows, 0.0)  # warm-up
    t = clock(device)
    for _ in range(steps):
        trainer.train_step(rows, 0.0)
    step = (clock(device) - t) / steps
    t = clock(device)
    with torch.no_grad():
        trainer.model(trainer.inputs[:512][None])
    per_row = (clock(device) - t) / 512
    n = base.pathfinding.n_examples
    n_steps = -(-base.pathfinding.n_train // base.batch_size)
    return (
        f"| {recipe} | {1000 * step:.0f} ms (batch {base.batch_size}) | {n_steps} | "
        f"{step * n_steps:.0f} s | {per_row * n:.0f} s ({n} rows) |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto (default cpu)")
    args = parser.parse_args()
    try:
        device = resolve_device(args.device)
    except ConfigError as err:
        parser.error(str(err))
    what = "CPU" if device.type == "cpu" else f"{device} wall"
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
    print(f"device: {device} ({name or platform.machine()}); torch {torch.__version__}")
    print(f"| recipe | {what} per step | steps per epoch | train per epoch | one full evaluation |")
    print("| --- | --- | --- | --- | --- |")
    for recipe in ("brinkmann", "brinkmann-cpu"):
        print(measure(recipe, args.steps, device))


if __name__ == "__main__":
    main()
