"""Shared helpers for trainer tests: tiny configs, one torch thread (the machine is shared)."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from algolens.train.config import TrainConfig, make_config

TINY_MODEL = {"d_embed": 16, "d_mlp": 16}


def tiny_config(**overrides: Any) -> TrainConfig:
    """A C5 MLP with a few seeds: trains in milliseconds per epoch."""
    base: dict[str, Any] = dict(
        group="C5", train_frac=0.6, model="mlp", model_args=dict(TINY_MODEL), seeds=[0, 1, 2],
        epochs=40, lr=1e-2, weight_decay=1.0, loss_dtype="float32", eval_every=10,
        checkpoint_every=20, log_checkpoints=4, early_stop=False,
    )  # fmt: skip
    base.update(overrides)
    return make_config(None, **base)


def assert_tensors_equal(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    """Same names, dtypes, shapes and bits."""
    assert sorted(a) == sorted(b)
    for name in a:
        assert a[name].dtype == b[name].dtype, name
        assert torch.equal(a[name], b[name]), name


@pytest.fixture(autouse=True)
def _one_thread():
    """Small tensors train far faster on one thread, and bitwise checks need a fixed count."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
