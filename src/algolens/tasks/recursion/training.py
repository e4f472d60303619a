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

MAX_TRAIN_SCORED = 2000
"""Most distinct training inputs the run summary decodes greedily: a larger train split is scored
on a fixed uniform sample of this many (its size in ``n``, the split's in ``n_distinct``). Greedy
decoding of all 14,680 distinct inputs of a ``recursion-trees`` run took 79 s of a 10-minute run
on a 2-core AMD EPYC; 2000 give the train accuracy to about ±1 point (binomial standard error at
90 %) for a seventh of that."""
SAMPLE_SEED = 0x5A3E


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
    "acc"}}}, "n_distinct": D}}``, over the split's distinct inputs (``D`` counts them; the train
    split repeats draws), each scored once; a split of more than :data:`MAX_TRAIN_SCORED` distinct
    training inputs is scored on a fixed sample of that many (``N`` < ``D``)."""
    task: RecursionTask = trainer.task
    out: dict[str, dict[str, Any]] = {}
    for name, data in task.splits.items():
        inputs = task.dataset.splits[name].inputs
        first = distinct_rows(inputs)  # train repeats draws (oversampling): score each once
        n_distinct = len(first)
        if name == "train":
            first = sample_rows(first, MAX_TRAIN_SCORED)
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
            "n_distinct": n_distinct,
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


def sample_rows(rows: list[int], most: int) -> list[int]:
    """``rows`` when there are at most ``most``, else a uniform sample of ``most`` of them, in
    order, the same on every call (drawn with :data:`SAMPLE_SEED`).

    Examples:
        >>> sample_rows([4, 7, 9], 5)
        [4, 7, 9]
        >>> picked = sample_rows(list(range(100)), 10)
        >>> len(picked), picked == sorted(set(picked)), picked == sample_rows(list(range(100)), 10)
        (10, True, True)
    """
    if len(rows) <= most:
        return rows
    gen = torch.Generator().manual_seed(SAMPLE_SEED)
    keep = torch.randperm(len(rows), generator=gen)[:most].sort().values
    return [rows[i] for i in keep.tolist()]
