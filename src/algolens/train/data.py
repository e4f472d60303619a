"""`TrainingData`: what a task hands the one :class:`~algolens.train.trainer.Trainer`.

The trainer knows no task. Each task package builds its training data (its ``TaskSpec``'s
``start`` and ``resume`` call ``Trainer(config, data)``): the rows, what each instance trains
and is tested on, the loss mask of sequence rows, the validation split of the exact-match stop
and the hook that computes its summary metrics. Two row layouts exist:

* one answer per row (``mask`` None): ``inputs`` ``[N, pos]``, ``targets`` ``[N]``; the loss is
  the cross-entropy of the model's answer logits (``model.answer_logits``), accuracy its argmax;
* sequence rows (``mask`` given): ``inputs``, ``targets`` and ``mask`` ``[N, T-1]`` (the packed
  ``prompt <sep> answer <eos>`` rows of :mod:`algolens.tasks.sequence` shifted by one); the loss
  is each instance's mean cross-entropy over the masked tokens, accuracy exact match of every
  masked token by teacher forcing.

:func:`sequence_data` builds the second kind from a task's packed ``train`` and ``test`` splits
(carving the validation split when the config asks for ``exact_stop``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from algolens.tasks.sequence import PackedSequences
from algolens.train.config import TrainConfig
from algolens.train.early_stop import carve_validation

if TYPE_CHECKING:
    from algolens.train.trainer import Trainer

SplitMetrics = Callable[["Trainer"], dict[str, dict[str, Any]]]
"""The trainer -> the task's summary metrics per split (``{"test": {"n", "tf_acc", ...}}``)."""


@dataclass(frozen=True, eq=False)
class TrainingData:
    """A task's training data, as the trainer reads it.

    Attributes:
        task: the task object, the trainer's ``task``; sizes the model (``n_vocab``; a
            transformer also reads ``n_vocab_in`` and ``seq_len``; see
            :func:`~algolens.train.task_setup.model_config_dict`).
        inputs: ``[N, pos]`` int64, every row the model reads.
        targets: ``[N]`` int64 (one answer per row) or ``[N, pos]`` (next tokens; with ``mask``).
        train_idx, test_idx: ``[inst, n_train]``, ``[inst, n_test]`` int64 rows of ``inputs``
            each instance trains and is tested on (the same rows for every instance when the
            data is shared; composition draws them per seed).
        row_elements: logits elements of one row (``n_vocab``, or ``seq_len · n_vocab``); sizes
            the instance chunks and the evaluation chunks.
        mask: ``[N, pos]`` bool, the scored positions of sequence rows; None: one answer per row.
        train_width: positions of a row a training step reads (sequence rows whose later columns
            are padding in every train row); None: all ``pos``.
        validation: the held-back split that ``exact_stop`` decodes greedily (sequence tasks
            with ``config.exact_stop``); None: none.
        split_metrics: the task's summary metrics, ``metrics(trainer)`` (None: the task has
            none); :meth:`Trainer.split_metrics` calls it.
    """

    task: Any
    inputs: torch.Tensor
    targets: torch.Tensor
    train_idx: torch.Tensor
    test_idx: torch.Tensor
    row_elements: int
    mask: torch.Tensor | None = None
    train_width: int | None = None
    validation: PackedSequences | None = None
    split_metrics: SplitMetrics | None = None


def shared_rows(n_inst: int, start: int, n: int) -> torch.Tensor:
    """``[n_inst, n]`` rows ``start .. start+n-1`` for every instance (data shared by the seeds).

    Examples:
        >>> shared_rows(2, 3, 2).tolist()
        [[3, 4], [3, 4]]
    """
    return (start + torch.arange(n)).expand(n_inst, n).contiguous()


def own_width(split: PackedSequences) -> int:
    """Positions the rows of ``split`` need: its longest ``prompt + answer`` minus one (later
    columns are padding there, which causal attention never lets reach a scored position).

    Examples:
        >>> from algolens.tasks.sequence import pack
        >>> own_width(pack([[3], [4, 4]], [[5], [6]], sep=1, eos=2, pad=0, width=9))  # 4 + 5 tokens
        4
    """
    return int((split.prompt_len + split.answer_len).max()) - 1


def sequence_data(
    config: TrainConfig,
    task: Any,
    *,
    data_seed: int,
    train_width: int | None = None,
    split_metrics: SplitMetrics | None = None,
) -> TrainingData:
    """The training data of a sequence task with packed ``train`` and ``test`` splits.

    Rows ``0..n_train-1`` are the train split, the next ``n_test`` rows the test split; every
    seed trains on the same rows (seeds differ in initial weights and minibatch order). With
    ``config.exact_stop``, a validation split is carved from the train rows first
    (:func:`~algolens.train.early_stop.carve_validation`, drawn with ``data_seed``).

    Args:
        task: has ``splits["train"]``, ``splits["test"]`` (:class:`PackedSequences` of one width
            T), ``seq_len`` (T - 1) and ``n_vocab``.
        train_width, split_metrics: as in :class:`TrainingData`.
    """
    train, test = task.splits["train"], task.splits["test"]
    validation = None
    if config.exact_stop is not None:
        rows, val_rows = carve_validation(train.tokens, config.exact_stop, data_seed)
        validation, train = train.subset(val_rows), train.subset(rows)
    k, n_tr, n_te = config.n_inst, len(train), len(test)
    tokens = torch.cat([train.tokens, test.tokens])  # [n_train + n_test, T]
    return TrainingData(
        task=task,
        inputs=tokens[:, :-1],
        targets=tokens[:, 1:],
        train_idx=shared_rows(k, 0, n_tr),
        test_idx=shared_rows(k, n_tr, n_te),
        row_elements=task.seq_len * task.n_vocab,
        mask=torch.cat([train.mask, test.mask]),  # [N, T-1]
        train_width=train_width,
        validation=validation,
        split_metrics=split_metrics,
    )
