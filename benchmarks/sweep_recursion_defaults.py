"""The sweep that chose the recursion task's default training preset (docs/recursion.md).

Every cell trains one seed of one function under one optimiser setting at the task's default
sizes (1..8 bits or nodes, 2000 training inputs, the default transformer unless the setting names
another) and, after every epoch, decodes the in-distribution test split greedily. A cell stops at
the first epoch with at least ``--target`` greedy exact match (default 0.99) or at the setting's
epoch cap; it records the best and last exact match, the epochs and the wall minutes (training and
the per-epoch checks together).

Functions: the built-ins ``successor``, ``predecessor``, ``preorder``, ``mirror`` and the user
functions of tests/tasks/functions/learn_functions.py (``succ2`` = successor twice, ``double``,
``plus3`` = adding the constant 3, and our own ``gray`` and ``complement``), loaded as a user's
``FILE.py:NAME``.

Usage (one job at a time on a shared machine)::

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/sweep_recursion_defaults.py \
        --functions successor,succ2 --settings preset,lr1e-3 --out /tmp/sweep.jsonl

Each finished cell is appended to ``--out`` as one JSON line (cells already there are skipped,
so an interrupted sweep continues); the markdown table of every cell in the file is printed at
the end.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

import torch

from algolens.tasks.recursion.dataset import build_dataset
from algolens.tasks.recursion.preset import PRESET
from algolens.tasks.recursion.settings import RecursionArgs
from algolens.tasks.recursion.training import training_data
from algolens.tasks.recursion.user import resolve_function
from algolens.train.config import make_config
from algolens.train.trainer import Trainer

USER_FILE = Path(__file__).resolve().parents[1] / "tests/tasks/functions/learn_functions.py"
USER = ("succ2", "double", "plus3", "gray", "complement")
FUNCTIONS = ("successor", "predecessor", *USER, "preorder", "mirror")
OPTIMISER = ("lr", "weight_decay", "beta1", "beta2", "batch_size", "schedule", "warmup_epochs",
             "min_lr_frac", "loss_dtype", "epochs", "model_args")  # fmt: skip
BASE = {k: v for k, v in PRESET.items() if k in OPTIMISER}
SETTINGS: dict[str, dict[str, Any]] = {
    "preset": BASE,
    "lr1e-3": {**BASE, "lr": 1e-3, "epochs": 60},
    "lr1e-2": {**BASE, "lr": 1e-2, "epochs": 60},
    "batch32": {**BASE, "batch_size": 32, "epochs": 60},
    "constant": {**BASE, "schedule": "constant"},
    "cap60": {**BASE, "epochs": 60},  # the preset as the sweep first ran it
    "cap120": {**BASE, "epochs": 120},
    "2layer64": {
        **BASE,
        "model_args": {"n_layers": 2, "d_model": 64, "n_heads": 4, "d_head": 16, "d_mlp": 256},
    },
    "2layer128": {
        **BASE,
        "model_args": {"n_layers": 2, "d_model": 128, "n_heads": 4, "d_head": 32, "d_mlp": 512},
    },
    "2layer128bf16": {
        **BASE,
        "model_args": {
            "n_layers": 2,
            "d_model": 128,
            "n_heads": 4,
            "d_head": 32,
            "d_mlp": 512,
            "matmul_dtype": "bfloat16",
        },
    },
    "3layer128": {
        **BASE,
        "model_args": {"n_layers": 3, "d_model": 128, "n_heads": 4, "d_head": 32, "d_mlp": 512},
    },
    "fast": {},  # the old default: the group recipe "fast" (given with recipe="fast")
}


def function_name(name: str) -> str:
    return f"{USER_FILE}:{name}" if name in USER else name


def run_cell(
    function: str,
    setting: str,
    target: float,
    seed: int,
    n_train: int | None = None,
    minutes: float | None = None,
    epochs: int | None = None,
) -> dict[str, Any]:
    """Train one cell (``n_train``: training draws, None: the task's default; ``minutes``: stop
    after the first epoch that ends past this wall time, None: no limit; ``epochs``: the epoch
    cap, which is also the cosine schedule's length, None: the setting's); its record."""
    fn = function_name(function)
    data = RecursionArgs() if n_train is None else RecursionArgs(n_train=n_train)
    ds = build_dataset(resolve_function(fn), data.split_spec(), 0)
    recipe = "fast" if setting == "fast" else None
    overrides = dict(SETTINGS[setting])
    if epochs is not None:
        overrides["epochs"] = epochs
    cap = overrides.get("epochs", 60) if setting != "fast" else 60
    if n_train is not None:
        overrides["recursion"] = {"n_train": n_train}
    cfg = make_config(recipe, task="recursion", function=fn, seeds=[seed], **overrides)
    trainer = Trainer(cfg, training_data(cfg, ds))
    test = trainer.task.splits["test"]
    t0 = time.perf_counter()
    best, acc, reached = 0.0, 0.0, None
    for _ in range(cap):
        trainer.train_epoch()
        acc = float(trainer.exact_match(test, 512)[1].double().mean())
        best = max(best, acc)
        if acc >= target:
            reached = trainer.epoch
            break
        if minutes is not None and time.perf_counter() - t0 > 60 * minutes:
            break
    return {
        "function": function, "setting": cell_label(setting, n_train, epochs), "seed": seed,
        "target": target,
        "exact": round(acc, 4), "best": round(best, 4), "epochs": trainer.epoch,
        "reached": reached, "cap": cap, "minutes": round((time.perf_counter() - t0) / 60, 2),
        "n_test": len(test),
    }  # fmt: skip


def cell_label(setting: str, n_train: int | None, epochs: int | None) -> str:
    """A cell's setting as recorded: the setting's name and any override of it."""
    extra = [f"n_train {n_train}"] * (n_train is not None) + [f"{epochs} epochs"] * (
        epochs is not None
    )
    return ", ".join([setting, *extra])


def table(rows: list[dict[str, Any]]) -> str:
    """The markdown table of ``rows``."""
    out = ["| function | setting | greedy exact (test) | best | epochs | reached target | min |",
           "| --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for r in rows:
        reached = "-" if r["reached"] is None else f"epoch {r['reached']}"
        out.append(
            f"| {r['function']} | {r['setting']} | {100 * r['exact']:.1f} % (of {r['n_test']}) "
            f"| {100 * r['best']:.1f} % | {r['epochs']} / {r['cap']} | {reached} "
            f"| {r['minutes']:.1f} |"
        )
    return "\n".join(out)


def cpu_name() -> str:
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return platform.processor()
    return next((ln.split(":", 1)[1].strip() for ln in text.splitlines() if "Model name" in ln), "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--functions", default=",".join(FUNCTIONS))
    ap.add_argument("--settings", default="preset")
    ap.add_argument("--target", type=float, default=0.99)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-train", type=int, default=None, help="training draws (default: task's)")
    ap.add_argument("--minutes", type=float, default=None, help="wall limit per cell")
    ap.add_argument("--epochs", type=int, default=None, help="epoch cap and schedule length")
    ap.add_argument("--out", type=Path, default=Path("sweep_recursion_defaults.jsonl"))
    a = ap.parse_args()
    torch.set_num_threads(1)
    done = []
    if a.out.exists():
        done = [json.loads(x) for x in a.out.read_text().splitlines() if x.strip()]
    have = {(r["function"], r["setting"], r["seed"]) for r in done}
    print(f"CPU: {cpu_name()}", flush=True)
    for setting in a.settings.split(","):
        for function in a.functions.split(","):
            if (function, cell_label(setting, a.n_train, a.epochs), a.seed) in have:
                continue
            row = run_cell(function, setting, a.target, a.seed, a.n_train, a.minutes, a.epochs)
            print(json.dumps(row), flush=True)
            with open(a.out, "a") as fh:
                fh.write(json.dumps(row) + "\n")
            done.append(row)
    print(table(done))


if __name__ == "__main__":
    main()
