"""The model config of a :class:`~algolens.train.config.TrainConfig` and its task.

:func:`model_config_dict` adds the sizes that the task and the seeds fix to ``config.model_args``
(re-exported from :mod:`algolens.train.trainer`). A task's own object and training data come
from its package (e.g. :mod:`algolens.tasks.composition.training`).
"""

from __future__ import annotations

from typing import Any

from algolens.train.config import TrainConfig


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
