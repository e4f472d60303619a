"""The group composition task's :class:`~algolens.tasks.registry.TaskSpec`.

Its settings are config fields of their own (``group``, pinned by ``group_sha256``, and
``train_frac``); a run stores its resolved group (``group.json``, :mod:`algolens.train.run_group`)
and the seeded split is drawn from each seed, so there is no dataset file. Trained by
:class:`~algolens.train.trainer.Trainer` on :func:`.training.training_data`; reported by
:mod:`algolens.report.composition` (the ``group`` trait).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from algolens.tasks.registry import Prepare, TaskSpec
from algolens.train.recipes import SHARED_RECIPES

COMPOSITION_FIELDS: tuple[str, ...] = ("group", "group_sha256", "train_frac")
"""The `TrainConfig` fields that belong to task ``composition`` (its args live in the config)."""


def start(config: Any, group: Any) -> tuple[Any, Prepare]:
    """The trainer of a new run on ``group`` (resolved from ``config.group`` when None), its
    config pinning the group's table, and the step writing ``group.json``."""
    from algolens.groups import parse_group
    from algolens.tasks.composition.training import training_data
    from algolens.train.run_group import pin_group, write_group_file
    from algolens.train.trainer import Trainer

    if group is None:
        group = parse_group(config.group)
    config = pin_group(config, group)
    trainer = Trainer(config, training_data(config, group))
    return trainer, lambda folder: write_group_file(folder, group, config.group)


def resume(config: Any, root: Path) -> Any:
    """The trainer of the stored run in ``root``, on its stored (hash-checked) group."""
    from algolens.tasks.composition.training import training_data
    from algolens.train.run_group import read_group_file
    from algolens.train.trainer import Trainer

    return Trainer(config, training_data(config, read_group_file(root, config.group_sha256)))


def load_task(store: Any, run_id: str, config: Any) -> Any:
    """The :class:`~algolens.tasks.composition.task.CompositionTask` of a stored run."""
    from algolens.tasks.composition.training import build_task
    from algolens.train.load import load_run_group

    return build_task(config, load_run_group(store, run_id))


def describe(config: Mapping[str, Any]) -> str:
    """``composition S5``."""
    return f"composition {config.get('group') or '?'}"


def predict(store: Any, run: str, text: str, instance: int, epoch: int | None) -> dict[str, Any]:
    """:func:`~algolens.tasks.composition.predict.predict_composition`."""
    from algolens.tasks.composition.predict import predict_composition

    return predict_composition(store, run, text, instance, epoch=epoch)


SPEC = TaskSpec(
    name="composition",
    traits=frozenset({"group"}),
    fields=COMPOSITION_FIELDS,
    flags={"--group": "group", "--train-frac": "train_frac"},
    recipes=SHARED_RECIPES,
    default_recipe="fast",
    start=start,
    resume=resume,
    load_task=load_task,
    describe=describe,
    predict=predict,
)
