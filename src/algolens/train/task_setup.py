"""The task and the model config of a :class:`~algolens.train.config.TrainConfig`.

:func:`build_task` turns a composition config (and, for a stored run, its resolved group) into
its :class:`~algolens.tasks.composition.task.CompositionTask`; :func:`model_config_dict` adds the
sizes that the task and the seeds fix to ``config.model_args``. Both are re-exported from
:mod:`algolens.train.trainer`.
"""

from __future__ import annotations

from typing import Any

from algolens.errors import ConfigError
from algolens.groups import FiniteGroup
from algolens.tasks.composition.task import CompositionTask
from algolens.tasks.traits import has_trait
from algolens.train.config import TrainConfig
from algolens.train.run_group import group_sha256


def build_task(config: TrainConfig, group: FiniteGroup | None = None) -> CompositionTask:
    """The task of a config (the task format follows the model kind).

    Args:
        group: the already resolved group (a stored run's, see :mod:`algolens.train.run_group`);
            default: resolve ``config.group``.

    Raises:
        ConfigError: the config pins a group (``group_sha256``) and this group differs, or is a
            recursion config (its task comes from its stored dataset; see
            :class:`~algolens.train.sequence_trainer.SequenceTrainer`).
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


def model_config_dict(config: TrainConfig, task: Any) -> dict[str, Any]:
    """The model config: ``config.model_args`` plus the sizes fixed by the task and the seeds
    (``task``: a :class:`CompositionTask` or a sequence task with ``n_vocab_in``, ``n_vocab`` and
    ``seq_len``)."""
    args = dict(config.model_args)
    if config.model == "mlp":
        args.update(d_vocab=task.n_vocab, n_inst=config.n_inst)
    else:
        args.update(
            d_vocab=task.n_vocab_in,
            d_vocab_out=task.n_vocab,
            n_ctx=task.seq_len,
            n_inst=config.n_inst,
        )
    return args
