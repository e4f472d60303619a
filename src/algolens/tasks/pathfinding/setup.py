"""Path-finding runs: the paper's model and optimiser defaults, the two recipes, the stored data.

A path-finding run samples its dataset once, when it starts, stores it in the run folder
(``pathfinding.safetensors``) and pins its SHA-256 in the config (``dataset_sha256``); resuming,
evaluating and analysing read the stored rows back, so a run is a pure function of its folder even
if the generator changes later.

Recipes (``algolens train --task pathfinding --recipe NAME``):
    ``brinkmann``      Brinkmann et al. (2024): 16 nodes, 150k examples (10 % test), 6 layers,
                       1 head, d_model = d_head = 128, d_mlp 512, GELU, LayerNorm, learned
                       positions; AdamW 3e-4, betas (0.9, 0.99), weight decay 0.01, batch 64,
                       cosine to 2e-6.
    ``brinkmann-cpu``  the same 6-layer, 1-head architecture at d_model 64 / d_mlp 256 on 6-node
                       trees, batch 256 and lr 1e-3 (see docs/pathfinding.md for what it reaches).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

PAPER_MODEL: dict[str, Any] = {
    "n_layers": 6,
    "n_heads": 1,
    "d_model": 128,
    "d_head": 128,
    "d_mlp": 512,
    "act": "gelu",
    "layernorm": True,
    "bias": "trainable",
}
"""Brinkmann et al.'s architecture; a config's ``model_args`` override single fields."""

CPU_MODEL: dict[str, Any] = {**PAPER_MODEL, "d_model": 64, "d_head": 64, "d_mlp": 256}

BRINKMANN_RECIPE: dict[str, Any] = {
    "task": "pathfinding",
    "pathfinding": {"nodes": 16, "n_examples": 150_000, "test_frac": 0.1},
    "model_args": PAPER_MODEL,
    "lr": 3e-4,
    "weight_decay": 0.01,
    "beta1": 0.9,
    "beta2": 0.99,
    "batch_size": 64,
    "loss_dtype": "float32",
    "schedule": "cosine",
    "min_lr_frac": 2e-6 / 3e-4,  # cosine down to 2e-6
    "epochs": 100,
    "eval_every": 1,
    "checkpoint_every": 1,
    "log_checkpoints": 0,
    "grok_threshold": 0.99,
    "early_stop": False,  # the cosine schedule runs to its end
}

BRINKMANN_CPU_RECIPE: dict[str, Any] = {
    **BRINKMANN_RECIPE,
    "pathfinding": {"nodes": 6, "n_examples": 50_000, "test_frac": 0.1},
    "model_args": CPU_MODEL,
    "lr": 1e-3,
    "min_lr_frac": 0.01,
    "batch_size": 256,
    "epochs": 30,
    "early_stop": True,  # stops once every seed has 99 % exact-path test accuracy
}

PATHFINDING_RECIPES = {"brinkmann": BRINKMANN_RECIPE, "brinkmann-cpu": BRINKMANN_CPU_RECIPE}


def with_pathfinding_defaults(data: dict[str, Any]) -> dict[str, Any]:
    """A raw pathfinding config dict with the transformer, default data settings and the paper's
    architecture filled in under whatever the dict gives."""
    out = {"model": "transformer", **data}
    if out.get("pathfinding") is None:
        out["pathfinding"] = {}
    out["model_args"] = {**PAPER_MODEL, **(out.get("model_args") or {})}
    return out


def start_pathfinding(config: Any, group: Any = None) -> tuple[Any, Callable[[Path], None]]:
    """The trainer of a new pathfinding run and the step that stores its dataset (drawn here,
    once); the returned trainer's config pins the dataset's SHA-256 (``group`` is unused)."""
    from algolens.tasks.pathfinding.dataset import (
        DATASET_FILE,
        build_dataset,
        dataset_sha256,
        save_dataset,
    )
    from algolens.tasks.pathfinding.training import training_data
    from algolens.train.config import validate_config
    from algolens.train.trainer import Trainer

    assert config.pathfinding is not None
    ds = build_dataset(config.pathfinding)
    config = validate_config({**config.to_dict(), "dataset_sha256": dataset_sha256(ds)})
    trainer = Trainer(config, training_data(config, ds))
    return trainer, lambda folder: save_dataset(ds, folder / DATASET_FILE)


def load_pathfinding_dataset(config: Any, root: Path) -> Any:
    """The stored dataset of the run in folder ``root``, checked against ``config``.

    Raises:
        CheckpointError: a missing, malformed or changed dataset.
    """
    from algolens.tasks.pathfinding.dataset import DATASET_FILE, dataset_sha256, load_dataset
    from algolens.tasks.stored_dataset import load_pinned_dataset

    return load_pinned_dataset(config, root, DATASET_FILE, load_dataset, dataset_sha256)


def resume_pathfinding(config: Any, root: Path) -> Any:
    """The :class:`~algolens.train.trainer.Trainer` of a stored run, on its stored dataset
    (:func:`~algolens.tasks.pathfinding.training.training_data`)."""
    from algolens.tasks.pathfinding.training import training_data
    from algolens.train.trainer import Trainer

    return Trainer(config, training_data(config, load_pathfinding_dataset(config, root)))
