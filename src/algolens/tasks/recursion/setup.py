"""Recursion runs: the dataset drawn once at start (the function, a user's file included, runs
here and never again), stored in the run folder (``dataset.json``) and pinned by its SHA-256 in the
config (``dataset_sha256``); resuming, evaluating and analysing read the stored rows back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from algolens.tasks.registry import Prepare

DATASET_FILE = "dataset.json"
"""A recursion run's sampled inputs and answers (:mod:`algolens.tasks.recursion.dataset`)."""


def start_recursion(config: Any, group: Any = None) -> tuple[Any, Prepare]:
    """The trainer of a new recursion run and the step that stores its dataset; the returned
    trainer's config pins the dataset's SHA-256 (``group`` is unused)."""
    from algolens.tasks.recursion.dataset import build_dataset, dataset_sha256, save_dataset
    from algolens.tasks.recursion.training import training_data
    from algolens.tasks.recursion.user import resolve_function, source_sha256
    from algolens.train.config import validate_config
    from algolens.train.trainer import Trainer

    assert config.function is not None and config.recursion is not None
    f = resolve_function(config.function)
    path = config.function.rpartition(":")[0]
    sha = source_sha256(Path(path)) if path else None
    args = config.recursion
    ds = build_dataset(f, args.split_spec(), args.data_seed, source_sha256=sha)
    config = validate_config({**config.to_dict(), "dataset_sha256": dataset_sha256(ds)})
    trainer = Trainer(config, training_data(config, ds))
    return trainer, lambda folder: save_dataset(ds, folder / DATASET_FILE)


def load_recursion_dataset(config: Any, root: Path) -> Any:
    """The stored :class:`~algolens.tasks.recursion.dataset.RecursionDataset` of the run in
    folder ``root``, checked against the config's ``dataset_sha256``; nothing is executed.

    Raises:
        CheckpointError: a missing, malformed or changed dataset.
    """
    from algolens.tasks.recursion.dataset import dataset_sha256, load_dataset
    from algolens.tasks.stored_dataset import load_pinned_dataset

    return load_pinned_dataset(config, root, DATASET_FILE, load_dataset, dataset_sha256)


def resume_recursion(config: Any, root: Path) -> Any:
    """The :class:`~algolens.train.trainer.Trainer` of a stored run, on its stored dataset
    (:func:`~algolens.tasks.recursion.training.training_data`)."""
    from algolens.tasks.recursion.training import training_data
    from algolens.train.trainer import Trainer

    return Trainer(config, training_data(config, load_recursion_dataset(config, root)))


def shortfall_note(store: Any, run_id: str) -> str | None:
    """The warning for a new run whose held-out splits hold fewer distinct inputs than asked
    (``RecursionDataset.shortfall``), None when they hold enough."""
    from algolens.tasks.recursion.splits import shortfall_text
    from algolens.train.load import load_run_dataset

    return shortfall_text(load_run_dataset(store, run_id).shortfall())
