"""The group composition task of a config and its training data for the one
:class:`~algolens.train.trainer.Trainer`.

:func:`build_task` turns a composition config (and, for a stored run, its resolved group) into
its :class:`~algolens.tasks.composition.task.CompositionTask`; :func:`training_data` hands the
trainer every ``|G|²`` pair with one answer each and every seed's own train/test split.
"""

from __future__ import annotations

from algolens.errors import ConfigError
from algolens.groups import FiniteGroup
from algolens.tasks.composition.task import CompositionTask
from algolens.tasks.traits import has_trait
from algolens.train.config import TrainConfig
from algolens.train.data import TrainingData
from algolens.train.run_group import group_sha256


def build_task(config: TrainConfig, group: FiniteGroup | None = None) -> CompositionTask:
    """The task of a config (the task format follows the model kind).

    Args:
        group: the already resolved group (a stored run's, see :mod:`algolens.train.run_group`);
            default: resolve ``config.group``.

    Raises:
        ConfigError: the config pins a group (``group_sha256``) and this group differs, or is a
            config of a task without a group (its data comes from its stored dataset).
    """
    if not has_trait(config.task, "group"):
        raise ConfigError(f"a {config.task} task is built from its dataset, not from a group")
    spec = config.group if group is None else group
    task = CompositionTask(spec, config.train_frac, fmt=config.model)
    if config.group_sha256 is not None and group_sha256(task.group) != config.group_sha256:
        raise ConfigError(
            f"group {config.group!r} resolves to another table than the one this config pins "
            f"(group_sha256 {config.group_sha256[:12]}...); load the run's stored group instead"
        )
    return task


def training_data(config: TrainConfig, group: FiniteGroup | None = None) -> TrainingData:
    """The :class:`TrainingData` of a composition config: ``inputs`` ``[|G|², 2 or 3]``,
    ``targets`` ``[|G|²]`` (one answer per row, no mask), each seed's own split drawn from the
    seed (``train_idx`` ``[inst, n_train]``), ``row_elements`` ``|G|``.

    Args:
        group: as for :func:`build_task`.

    Raises:
        ConfigError, SpecError: an invalid group, train fraction or group pin.
    """
    task = build_task(config, group)
    train_idx, test_idx = task.splits(config.seeds)
    return TrainingData(
        task=task,
        inputs=task.inputs,
        targets=task.targets,
        train_idx=train_idx,
        test_idx=test_idx,
        row_elements=task.n_vocab,
    )
