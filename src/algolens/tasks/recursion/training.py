"""A recursion run's training data for the one :class:`~algolens.train.trainer.Trainer`, and
its summary metrics.

Every seed trains on the same stored dataset (drawn with the config's ``data_seed``); seeds
differ in initial weights and minibatch order. The rows are the packed ``train`` and ``test``
splits of :class:`~algolens.tasks.recursion.task.RecursionTask` with their loss mask (the answer
and ``<eos>`` tokens); a training step reads only the train rows' own width. Accuracy is exact
match of the whole answer: by teacher forcing in the trainer's ``evaluate`` (``test_acc`` is the
in-distribution test split) and also by greedy decoding, for every named split, in
:func:`split_metrics`, with greedy accuracy by structural feature
(:mod:`algolens.tasks.recursion.features`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from algolens.tasks.recursion.dataset import RecursionDataset
from algolens.tasks.recursion.features import accuracy_by_feature, input_features
from algolens.tasks.recursion.task import RecursionTask
from algolens.tasks.recursion.tokens import parse
from algolens.train.config import TrainConfig
from algolens.train.data import TrainingData, own_width, sequence_data

if TYPE_CHECKING:
    from algolens.train.trainer import Trainer


def training_data(config: TrainConfig, dataset: RecursionDataset) -> TrainingData:
    """The :class:`TrainingData` of a recursion run on its stored ``dataset``: rows ``[N, T-1]``
    (train then test, a validation split carved from train with ``exact_stop``), the loss mask,
    the train split's own width and :func:`split_metrics`."""
    task = RecursionTask(dataset)
    assert config.recursion is not None
    return sequence_data(
        config,
        task,
        data_seed=config.recursion.data_seed,
        train_width=own_width(task.splits["train"]),  # the whole train split, before carving
        split_metrics=split_metrics,
    )


@torch.no_grad()
def split_metrics(trainer: Trainer, batch: int = 512) -> dict[str, dict[str, Any]]:
    """Exact-match accuracy of every instance on every named split, by teacher forcing and
    by greedy decoding, and greedy accuracy by structural feature: ``{split: {"n": N,
    "tf_acc": [K floats], "greedy_acc": [...], "greedy_by_feature": {feature: {value: {"n",
    "acc"}}}}}``, over the split's distinct inputs (``N`` counts them; the train split repeats
    draws)."""
    task: RecursionTask = trainer.task
    out: dict[str, dict[str, Any]] = {}
    for name, data in task.splits.items():
        inputs = task.dataset.splits[name].inputs
        first = distinct_rows(inputs)  # train repeats draws (oversampling): score each once
        if len(first) < len(inputs):
            data = data.subset(torch.tensor(first))
            inputs = [inputs[i] for i in first]
        tf, gr = trainer.exact_match(data, batch)
        kinds = task.dataset.arg_kinds
        features = [input_features(parse(x, kinds)) for x in inputs]
        out[name] = {
            "n": len(data),
            "tf_acc": tf.double().mean(1).tolist(),
            "greedy_acc": gr.double().mean(1).tolist(),
            "greedy_by_feature": accuracy_by_feature(gr.tolist(), features),
        }
    return out


def distinct_rows(inputs: list[list[str]]) -> list[int]:
    """Indices of the first occurrence of each distinct input, in order.

    Examples:
        >>> distinct_rows([["B1", "Z"], ["Z"], ["B1", "Z"]])
        [0, 1]
    """
    seen: dict[tuple[str, ...], int] = {}
    for i, x in enumerate(inputs):
        seen.setdefault(tuple(x), i)
    return list(seen.values())
