"""Shared helpers for trainer tests: tiny configs, equality of states, one torch thread."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from algolens.tasks.composition.training import training_data
from algolens.train.config import TrainConfig, make_config
from algolens.train.trainer import Trainer

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


def composition_trainer(config: TrainConfig, group: Any = None, **kwargs: Any) -> Trainer:
    """The one :class:`Trainer` on a composition config's training data (its group resolved from
    the config unless given); ``kwargs`` go to the trainer (``instance_chunk``, ``workers``)."""
    return Trainer(config, training_data(config, group), **kwargs)


def assert_tensors_equal(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    """Same names, dtypes, shapes and bits.

    Only for runs whose every kernel call has the same shapes in both (same K, same chunks, same
    thread count): the bits may then not differ on any CPU. Runs of different shapes go through
    :func:`assert_tensors_close`.
    """
    assert sorted(a) == sorted(b)
    for name in a:
        assert a[name].dtype == b[name].dtype, name
        assert torch.equal(a[name], b[name]), name


# Float64 runs whose matmuls have different shapes (K instances in one bmm against 1; chunks of
# different sizes) may run different BLAS kernels, which sum in different orders: each product
# then differs by a few ulps (unit roundoff 1.1e-16; contraction length <= 32 in the tiny
# models, so <= ~1e-14 relative to its summands). AdamW's update is insensitive to such changes
# (m / (sqrt(v) + eps) moves by at most ~lr·|dg|/eps = 1e-2·1e-18/1e-8 = 1e-12 where |g| ~ eps,
# and relatively by ~|dg|/|g| elsewhere), so 30 steps stay far below 1e-10. Measured on an AMD
# EPYC Zen 4 (MKL): at most 2.2e-16 (MLP) and 1.7e-15 (transformer) after 30 epochs. A real
# coupling bug is far above the bound: a gradient scaled by 1/3 (a mean over three instances
# instead of the sum) moves the weights by 1.4e-5 (MLP) and 1.9e-2 (transformer) in 30 epochs.
# So: five orders above the rounding, five below the smallest bug.
KERNEL_TOL = dict(rtol=1e-9, atol=1e-10)


def assert_tensors_close(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    """Same names, dtypes and shapes; values equal to float64 rounding (:data:`KERNEL_TOL`)."""
    assert sorted(a) == sorted(b)
    for name in a:
        assert a[name].dtype == b[name].dtype == torch.float64 or not a[name].is_floating_point()
        torch.testing.assert_close(a[name], b[name], **KERNEL_TOL, msg=name)


@pytest.fixture(autouse=True)
def _one_thread():
    """Small tensors train far faster on one thread, and bitwise checks need a fixed count."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
