"""Training: K seeds as one batched computation, schedules, checkpoints and resume.

Public API (imported lazily, so ``algolens.train.config`` loads without torch models):
    :class:`TrainConfig`, :func:`make_config`, :func:`load_toml_config`, ``RECIPES``
    :class:`Trainer` (the batched state and its operations, one for every task),
    :class:`TrainingData` (what a task hands it), :class:`EvalResult`
    :func:`start_run`, :func:`resume_run` (training inside the run store)
    :func:`load_run_model`, :func:`load_run_group`, :func:`run_config`,
    :func:`checkpoint_epochs_of` (for analyses)
    :func:`load_checkpoint`, :func:`save_checkpoint` (safetensors, no pickle)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "MAX_SEEDS": "config",
    "RECIPES": "config",
    "TrainConfig": "config",
    "load_toml_config": "config",
    "make_config": "config",
    "parse_seeds": "config",
    "validate_config": "config",
    "BatchedAdamW": "optim",
    "EvalResult": "trainer",
    "Trainer": "trainer",
    "TrainingData": "data",
    "start_run": "run",
    "resume_run": "run",
    "load_run_model": "load",
    "load_run_group": "load",
    "run_config": "load",
    "checkpoint_epochs_of": "load",
    "load_checkpoint": "checkpoint",
    "save_checkpoint": "checkpoint",
}

__all__ = [
    "MAX_SEEDS",
    "RECIPES",
    "BatchedAdamW",
    "EvalResult",
    "TrainConfig",
    "Trainer",
    "TrainingData",
    "checkpoint_epochs_of",
    "load_checkpoint",
    "load_run_group",
    "load_run_model",
    "load_toml_config",
    "make_config",
    "parse_seeds",
    "resume_run",
    "run_config",
    "save_checkpoint",
    "start_run",
    "validate_config",
]
assert sorted(__all__) == sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'algolens.train' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"algolens.train.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from algolens.train.checkpoint import load_checkpoint, save_checkpoint
    from algolens.train.config import (
        MAX_SEEDS,
        RECIPES,
        TrainConfig,
        load_toml_config,
        make_config,
        parse_seeds,
        validate_config,
    )
    from algolens.train.data import TrainingData
    from algolens.train.load import (
        checkpoint_epochs_of,
        load_run_group,
        load_run_model,
        run_config,
    )
    from algolens.train.optim import BatchedAdamW
    from algolens.train.run import resume_run, start_run
    from algolens.train.trainer import EvalResult, Trainer
