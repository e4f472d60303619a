"""Sweep test helpers: tiny sweep files, stored metrics, and reference runs trained alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from algolens.store import RunStore
from algolens.train.config import TrainConfig

TWO_BY_TWO = """
# 2 configurations x 2 seeds, small enough for a few seconds
[base]
recipe = "fast"
seeds = "0-1"
epochs = {epochs}
eval_every = 10
checkpoint_every = {checkpoint_every}
log_checkpoints = 0
early_stop = false

[grid]
group = ["C5", "S3"]
"""


def sweep_text(epochs: int = 60, checkpoint_every: int = 20) -> str:
    return TWO_BY_TWO.format(epochs=epochs, checkpoint_every=checkpoint_every)


def write(tmp_path: Path, text: str, name: str = "sweep.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def metric_rows(store: RunStore, run_id: str) -> list[dict[str, Any]]:
    """Every row of a run's metrics.jsonl."""
    text = store.paths(run_id).metrics.read_text()
    return [json.loads(line) for line in text.splitlines()]


def assert_same_metrics(rows: list[dict], expected: list[dict], rtol: float = 1e-6) -> None:
    """Same evaluated epochs, same per-seed accuracies, losses within ``rtol`` (float rounding:
    the two sides may run in processes with different BLAS threading)."""
    assert [r["epoch"] for r in rows] == [r["epoch"] for r in expected]
    for got, want in zip(rows, expected, strict=True):
        assert got["train_acc"] == want["train_acc"] and got["test_acc"] == want["test_acc"]
        for key in ("train_loss", "test_loss"):
            assert got[key] == pytest.approx(want[key], rel=rtol, abs=1e-9), (got["epoch"], key)


@pytest.fixture(scope="session")
def reference_rows(tmp_path_factory):
    """``rows(config)``: the metrics rows of ``config`` trained alone, in this process, on one
    torch thread, with ``algolens.train.run.start_run`` (no sweep code involved); cached."""
    from algolens.train.run import start_run

    cache: dict[str, list[dict]] = {}

    def rows(config: TrainConfig) -> list[dict]:
        key = json.dumps(config.to_dict(), sort_keys=True)
        if key not in cache:
            store = RunStore(tmp_path_factory.mktemp("reference"))
            before = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                summary = start_run(config, store)
            finally:
                torch.set_num_threads(before)
            cache[key] = metric_rows(store, summary["run_id"])
        return cache[key]

    return rows
