"""`Task`: what every dataset offers the trainer.

A task is a finite, fully enumerated dataset: every input row and its answer are held as tensors,
and a train/test split is a pure function of an integer seed. Group composition
(:mod:`algolens.tasks.composition.task`) implements it.

Sequence tasks, whose answers are several tokens and whose data are sampled rather than
enumerated, use :mod:`algolens.tasks.sequence` instead (packed ``prompt <sep> answer <eos>``
rows, a loss mask, exact match by teacher forcing and greedy decoding); the recursion tasks
(:class:`algolens.tasks.recursion.task.RecursionTask`) are the first; each task hands the one
:class:`algolens.train.trainer.Trainer` its :class:`~algolens.train.data.TrainingData`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol, runtime_checkable

import torch

TaskFormat = Literal["mlp", "transformer"]
"""How a row is written: ``"mlp"`` = the operands only, ``"transformer"`` = a token sequence."""


@runtime_checkable
class Task(Protocol):
    """A supervised task over a finite vocabulary.

    Attributes:
        n_vocab_in: input vocabulary size (token ids are ``0..n_vocab_in-1``).
        n_vocab: output vocabulary size (the model's output dimension, ``d_vocab_out``).
        seq_len: tokens per input row.
        inputs: ``[N, seq_len]`` int64, every example of the task.
        targets: ``[N]`` int64, the answer token of each row.
        n_train: train-set size, the same for every seed.
    """

    n_vocab_in: int
    n_vocab: int
    seq_len: int
    inputs: torch.Tensor
    targets: torch.Tensor
    n_train: int

    def split(self, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(train_idx, test_idx)``: disjoint, sorted int64 indices covering ``0..N-1``,
        of sizes ``n_train`` and ``N - n_train`` for every seed."""
        ...

    def splits(self, seeds: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Splits for K seeds stacked: ``([K, n_train], [K, N - n_train])``.

        A default implementation, inherited by tasks that subclass :class:`Task` explicitly.
        """
        pairs = [self.split(s) for s in seeds]
        return torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs])


def random_split(n: int, n_train: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Split ``0..n-1`` at random into ``n_train`` train and ``n - n_train`` test indices.

    The permutation is drawn from ``torch.Generator().manual_seed(seed)`` (CPU, so the same on
    every machine); both halves are returned sorted.

    Examples:
        >>> tr, te = random_split(10, 3, seed=0)
        >>> len(tr), len(te), sorted(tr.tolist() + te.tolist()) == list(range(10))
        (3, 7, True)
    """
    assert 0 <= n_train <= n, (n, n_train)
    gen = torch.Generator().manual_seed(seed)
    perm = torch.randperm(n, generator=gen)
    return perm[:n_train].sort().values, perm[n_train:].sort().values
