"""One store of tiny trained runs of every task kind, built once per test session and shared by
the report tests and the browser tests (tests/browser).

The composition run's group comes from a table file whose name and one element label are HTML
(:data:`EVIL_NAME`, :data:`EVIL_LABEL`): every page must show them as text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from algolens.store import RunStore

EVIL_LABEL = "<script>alert(1)</script>"
EVIL_NAME = "<b>bold</b>V4"
KLEIN_TABLE = [[a ^ b for b in range(4)] for a in range(4)]
"""The Klein four-group, elements 0, a, b, ab as 0..3 (xor), written by hand."""


@dataclass(frozen=True)
class TinyStore:
    """The shared store and the id of one run per kind."""

    store: RunStore
    composition: str
    recursion: str
    pathfinding: str
    unfinished: str
    sweep: str
    sweep_runs: list[str]


_BUILT: dict[Path, TinyStore] = {}


def tiny_store(tmp_path_factory) -> TinyStore:
    """The session's :class:`TinyStore` (built on first use, a few seconds on one core)."""
    base = tmp_path_factory.getbasetemp()
    if base not in _BUILT:
        _BUILT[base] = _build(tmp_path_factory.mktemp("report_store"))
    return _BUILT[base]


def _build(root: Path) -> TinyStore:
    from algolens.analysis.pathfinding.mechanism_run import run_mechanism
    from algolens.analysis.recursion.failures_run import run_failures
    from algolens.analysis.recursion.shortcuts import run_shortcuts
    from algolens.logic.verify_run import run_logic
    from algolens.train import make_config, start_run
    from tests.tasks.test_recursion_training import tiny
    from tests.train.test_pathfinding_training import tiny as tiny_pathfinding

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        store = RunStore(root / "store")
        table = root / "evil.json"
        labels = ["e", EVIL_LABEL, "b", "ab"]
        table.write_text(json.dumps({"name": EVIL_NAME, "table": KLEIN_TABLE, "labels": labels}))
        comp = make_config(
            "fast", group=str(table), seeds=[0, 1], epochs=60, train_frac=0.6, early_stop=False,
            eval_every=10, log_checkpoints=3, checkpoint_every=30,
            model_args={"d_embed": 8, "d_mlp": 8},
        )  # fmt: skip
        composition = start_run(comp, store)["run_id"]
        run_logic(store, composition)  # the logic section's stored analysis
        recursion = start_run(tiny(epochs=4), store)["run_id"]
        run_failures(store, recursion, n=200)  # the recursion section's stored analyses
        run_shortcuts(store, recursion, n=100, n_attn=50)
        pathfinding = start_run(tiny_pathfinding(), store)["run_id"]
        run_mechanism(store, pathfinding)  # its section's stored analysis (circuitsvis view)
        unfinished = store.create("train", {"task": "composition", "group": "S3", "seeds": [5]})
        sweep, sweep_runs = _sweep(store, root)
    finally:
        torch.set_num_threads(threads)
    return TinyStore(store, composition, recursion, pathfinding, unfinished, sweep, sweep_runs)


SWEEP = """
[base]
recipe = "fast"
group = "S3"
seeds = [0, 1, 2]
epochs = 40
eval_every = 10
log_checkpoints = 0
early_stop = false
model_args = {d_embed = 8, d_mlp = 8}

[grid]
train_frac = [0.5, 0.7]
"""


def _sweep(store: RunStore, root: Path) -> tuple[str, list[str]]:
    """A 2-configuration x 3-seed sweep run by the sweep driver (one local worker process)."""
    from algolens.sweep.driver import ExecutorSettings, run_sweep
    from algolens.sweep.spec import load_sweep

    path = root / "sweep.toml"
    path.write_text(SWEEP)
    plan = load_sweep(path)
    summary = run_sweep(plan, store, ExecutorSettings(workers=1, threads=1))
    return plan.sweep_id, [c["run_id"] for c in summary["configurations"]]
