"""Fixtures of the reproduction tests."""

from __future__ import annotations

import pytest

from algolens.cli import reproduce as reproduce_cli
from algolens.reproductions import chughtai2023 as c
from algolens.reproductions import chughtai2023_claims as cc
from algolens.reproductions.claims import Scale


@pytest.fixture
def tiny_chughtai(monkeypatch):
    """Shrink chughtai2023's protocols: S4 stands for S5, groups of order ≤ 12, 8-wide
    models, 4 epochs."""
    monkeypatch.setattr(c, "MAINLINE", "S4")
    monkeypatch.setattr(cc, "MAINLINE", "S4")
    monkeypatch.setitem(c.TRAIN_FRAC["mlp"], "S4", 0.5)
    monkeypatch.setitem(c.TRAIN_FRAC["transformer"], "S4", 0.5)
    monkeypatch.setitem(c.PAPER_EPOCHS["mlp"], "S4", 250_000)
    monkeypatch.setitem(c.PAPER_EPOCHS["transformer"], "S4", 50_000)
    monkeypatch.setitem(c.TRAIN_FRAC["mlp"], "A4", 0.5)
    monkeypatch.setattr(c, "QUICK_S5_SEEDS", (0, 1, 2))
    monkeypatch.setattr(c, "QUICK_SEEDS", (0, 1))
    monkeypatch.setattr(c, "QUICK_GROUPS", ("C5", "D4", "A4"))
    monkeypatch.setattr(c, "QUICK_PROGRESS", 2)
    monkeypatch.setattr(c, "FULL_GROUPS", ("C5", "S4"))
    monkeypatch.setattr(c, "FULL_SEEDS", (1, 2))
    monkeypatch.setattr(c, "FULL_S5_MLP_SEEDS", (1, 2, 3))
    monkeypatch.setattr(reproduce_cli, "Scale", lambda mode: Scale(mode, epochs_cap=4))
    monkeypatch.setattr(c, "MODEL_ARGS", {
        "mlp": {"d_embed": 8, "d_mlp": 8},
        "transformer": {"d_model": 8, "n_heads": 2, "d_head": 4, "d_mlp": 8},
    })  # fmt: skip
