"""A path-finding run's training data for the one :class:`~algolens.train.trainer.Trainer`, and
its summary metrics.

Loss, optimiser, checkpoints, early stopping and teacher-forced evaluation are the trainer's on
sequence rows: each instance's mean cross-entropy over the root and path positions of its batch
(the mask of :mod:`algolens.tasks.pathfinding.task`), every position of a row read. Rows
``0..n_train-1`` are the train split, the rest the test split; every seed trains on the same rows
(seeds differ in initial weights and minibatch order). The summary adds exact-path accuracy on
the test split by teacher forcing and by greedy decoding, overall and by path length
(:func:`split_metrics`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from algolens.tasks.pathfinding.dataset import PathfindingDataset
from algolens.tasks.pathfinding.task import PathfindingTask, accuracy_by_length
from algolens.train.config import TrainConfig
from algolens.train.data import TrainingData, sequence_data

if TYPE_CHECKING:
    from algolens.train.trainer import Trainer


def training_data(config: TrainConfig, dataset: PathfindingDataset) -> TrainingData:
    """The :class:`TrainingData` of a path-finding run on its stored ``dataset``: rows
    ``[N, 4N-2]`` (train then test, a validation split carved from train with ``exact_stop``),
    the loss mask, every position read, and :func:`split_metrics`."""
    assert config.pathfinding is not None
    return sequence_data(
        config,
        PathfindingTask(dataset),
        data_seed=config.pathfinding.data_seed,
        split_metrics=split_metrics,
    )


@torch.no_grad()
def split_metrics(trainer: Trainer, batch: int = 1024) -> dict[str, dict[str, Any]]:
    """Exact-path accuracy of every instance on the test split: ``{"test": {"n",
    "tf_acc": [K], "greedy_acc": [K], "greedy_by_length": {L: {"n", "acc": [K]}}}}``."""
    data = trainer.task.splits["test"]
    tf, gr = trainer.exact_match(data, batch)
    by_len = accuracy_by_length(gr, data.answer_len)
    return {
        "test": {
            "n": len(data),
            "tf_acc": tf.double().mean(1).tolist(),
            "greedy_acc": gr.double().mean(1).tolist(),
            "greedy_by_length": {str(n): v for n, v in by_len.items()},
        }
    }
