"""Tiny stored runs for tests: a group from a JSON table file, trained for a few epochs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from algolens.store import RunStore
from algolens.train.run import start_run
from tests.train.conftest import tiny_config

# Two groups of order 4 written by hand (independent of the catalog): C4 = Z/4 and the Klein
# four-group C2xC2 = (Z/2)^2 with elements 0, a, b, ab encoded as 0..3 (xor).
C4_TABLE = [[(a + b) % 4 for b in range(4)] for a in range(4)]
KLEIN_TABLE = [[a ^ b for b in range(4)] for a in range(4)]


def write_table(path: Path, table: list[list[int]], labels: list[str] | None = None) -> Path:
    """A ``{"table": ..., "labels": ...}`` group file."""
    data: dict[str, Any] = {"table": table}
    if labels is not None:
        data["labels"] = labels
    path.write_text(json.dumps(data))
    return path


class Stop(Exception):
    """Raised by a progress callback to stop a run part-way (it is then resumable)."""


def train_tiny(store: RunStore, spec: str, *, stop_at: int | None = None, **overrides: Any) -> str:
    """Train a tiny MLP run of group ``spec`` (40 epochs, 2 seeds); returns its id.

    With ``stop_at``, the run is stopped after that epoch (status ``failed``, resumable).
    """
    cfg = tiny_config(group=spec, seeds=[0, 1], **overrides)
    started: list[str] = []

    def progress(epoch: int, _result: Any) -> None:
        if stop_at is not None and epoch >= stop_at:
            raise Stop

    try:
        start_run(cfg, store, progress=progress, on_start=started.append)
    except Stop:
        pass
    return started[0]
