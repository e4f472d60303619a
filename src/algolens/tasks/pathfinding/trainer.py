"""`PathfindingTrainer`: the batched sequence trainer on a stored path-finding dataset.

Loss, optimiser, checkpoints, early stopping and teacher-forced evaluation are those of
:class:`~algolens.train.sequence_trainer.SequenceTrainer` (each instance's mean cross-entropy over
the root and path positions of its batch; see :mod:`algolens.tasks.pathfinding.task`). The
summary adds exact-path accuracy on the test split by teacher forcing and by greedy decoding,
overall and by path length (:meth:`split_metrics`).
"""

from __future__ import annotations

from typing import Any

import torch

from algolens.tasks.pathfinding.dataset import PathfindingDataset
from algolens.tasks.pathfinding.task import PathfindingTask, accuracy_by_length
from algolens.train.sequence_trainer import SequenceTrainer


class PathfindingTrainer(SequenceTrainer):
    """A :class:`SequenceTrainer` whose rows come from a :class:`PathfindingDataset`.

    Rows ``0..n_train-1`` of :attr:`inputs` are the train split, the rest the test split; every
    seed trains on the same rows (seeds differ in initial weights and minibatch order).
    """

    @staticmethod
    def make_task(dataset: PathfindingDataset) -> PathfindingTask:
        """The :class:`PathfindingTask` of ``dataset``."""
        return PathfindingTask(dataset)

    @staticmethod
    def train_width_of(task: PathfindingTask) -> int:
        """Every position but the last: all ``T-1``."""
        return task.splits["train"].tokens.shape[1] - 1

    @torch.no_grad()
    def split_metrics(self, batch: int = 1024) -> dict[str, dict[str, Any]]:
        """Exact-path accuracy of every instance on the test split: ``{"test": {"n",
        "tf_acc": [K], "greedy_acc": [K], "greedy_by_length": {L: {"n", "acc": [K]}}}}``."""
        data = self.task.splits["test"]
        tf, gr = self.exact_match(data, batch)
        by_len = accuracy_by_length(gr, data.answer_len)
        return {
            "test": {
                "n": len(data),
                "tf_acc": tf.double().mean(1).tolist(),
                "greedy_acc": gr.double().mean(1).tolist(),
                "greedy_by_length": {str(n): v for n, v in by_len.items()},
            }
        }
