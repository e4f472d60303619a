"""`RecursionTask`: a stored recursion dataset as packed token sequences for the engine.

Every split is packed (:func:`algolens.tasks.sequence.pack`) to one common width, the longest
example of any split, so one model context (``n_ctx = width - 1``) serves training and every
evaluation set. Input and output vocabularies are both ``tokens.VOCAB``.

Examples:
    >>> from algolens.tasks.recursion.dataset import build_dataset
    >>> from algolens.tasks.recursion.functions import FUNCTIONS
    >>> from algolens.tasks.recursion.sampling import Sampling
    >>> from algolens.tasks.recursion.splits import SplitSpec
    >>> spec = SplitSpec(Sampling(1, 3), n_train=8, n_test=4, n_ood=4, ood_max_size=5)
    >>> task = RecursionTask(build_dataset(FUNCTIONS["successor"], spec, seed=0))
    >>> task.n_vocab, task.seq_len, len(task.splits["train"])
    (18, 13, 8)
    >>> task.show(task.splits["train"].tokens[0])
    'B1 B0 B0 Z <sep> B0 B1 B0 Z <eos>'
"""

from __future__ import annotations

import torch

from algolens.tasks.recursion.dataset import RecursionDataset
from algolens.tasks.recursion.tokens import EOS_ID, PAD, PAD_ID, SEP_ID, VOCAB, ids
from algolens.tasks.sequence import PackedSequences, pack


class RecursionTask:
    """The packed splits of a :class:`RecursionDataset`.

    Attributes:
        dataset: the dataset.
        n_vocab_in, n_vocab: ``len(VOCAB)`` (input and output vocabularies coincide).
        seq_len: model input length ``T - 1`` (the longest packed row minus one).
        splits: split name -> :class:`PackedSequences` (every split has width ``T``; empty
            splits are left out).
    """

    def __init__(self, dataset: RecursionDataset) -> None:
        self.dataset = dataset
        self.n_vocab_in = self.n_vocab = len(VOCAB)
        width = max(
            len(x) + len(a) + 2
            for s in dataset.splits.values()
            for x, a in zip(s.inputs, s.answers)
        )
        self.splits: dict[str, PackedSequences] = {
            name: pack(
                [ids(x) for x in s.inputs],
                [ids(a) for a in s.answers],
                sep=SEP_ID,
                eos=EOS_ID,
                pad=PAD_ID,
                width=width,
            )
            for name, s in dataset.splits.items()
            if s.inputs
        }
        self.seq_len = width - 1

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(v)}" for k, v in self.splits.items())
        return f"RecursionTask({self.dataset.function!r}, seq_len={self.seq_len}, {sizes})"

    @staticmethod
    def show(row: torch.Tensor) -> str:
        """One packed row (or written answer) as text, without padding."""
        return " ".join(VOCAB[int(i)] for i in row if VOCAB[int(i)] != PAD)
