"""`PathfindingTask`: a stored path-finding dataset as packed sequences for the engine.

Rows are :class:`~algolens.tasks.sequence.PackedSequences` with the root in the place of
``<sep>`` and no ``<eos>`` (see :mod:`.tokens`): ``prompt_len = 3N``, ``answer_len = L``, so the
loss mask covers the root position and the path positions but the last, and
:func:`~algolens.tasks.sequence.greedy_decode` writes exactly L tokens. Input and output
vocabularies are both the 2N+3 tokens of :class:`.tokens.Vocab`.

Examples:
    >>> from algolens.tasks.pathfinding.dataset import build_dataset
    >>> from algolens.tasks.pathfinding.settings import PathfindingArgs
    >>> task = PathfindingTask(build_dataset(PathfindingArgs(nodes=4, n_examples=10)))
    >>> task.n_vocab, task.seq_len, len(task.splits["train"]), len(task.splits["test"])
    (11, 14, 9, 1)
"""

from __future__ import annotations

import torch

from algolens.tasks.pathfinding.dataset import PathfindingDataset
from algolens.tasks.pathfinding.tokens import COMMA, Vocab
from algolens.tasks.sequence import PackedSequences


def pack_rows(tokens: torch.Tensor, vocab: Vocab) -> PackedSequences:
    """Padded rows ``[N, 4N-1]`` (prompt, path, ',' padding) as :class:`PackedSequences`."""
    n, width = tokens.shape
    prompt_len = torch.full((n,), vocab.prompt_len, dtype=torch.int64)  # [N]
    answer_len = (tokens[:, vocab.prompt_len :] != COMMA).sum(1)  # [N]
    pos = torch.arange(width - 1)  # [T-1]
    start = prompt_len - 1  # the root predicts the first path token
    mask = (pos >= start[:, None]) & (pos < (start + answer_len)[:, None])  # [N, T-1]
    return PackedSequences(tokens, prompt_len, answer_len, mask, COMMA, COMMA, COMMA)


class PathfindingTask:
    """The packed train and test splits of a :class:`PathfindingDataset`.

    Attributes:
        dataset, vocab: the data and its vocabulary.
        n_vocab_in, n_vocab: ``2N + 3``.
        seq_len: model input length ``4N - 2``.
        splits: ``{"train", "test"}`` -> :class:`PackedSequences`.
    """

    def __init__(self, dataset: PathfindingDataset) -> None:
        self.dataset = dataset
        self.vocab = dataset.vocab
        self.n_vocab_in = self.n_vocab = len(self.vocab)
        self.seq_len = self.vocab.width - 1
        tok, k = dataset.tokens, dataset.n_train
        self.splits = {
            "train": pack_rows(tok[:k], self.vocab),
            "test": pack_rows(tok[k:], self.vocab),
        }

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(v)}" for k, v in self.splits.items())
        return f"PathfindingTask(nodes={self.vocab.n_nodes}, {sizes})"


def accuracy_by_length(
    correct: torch.Tensor, path_len: torch.Tensor
) -> dict[int, dict[str, float]]:
    """``{L: {"n": count, "acc": [per-instance accuracy]}}`` for ``correct [inst, N]`` and
    ``path_len [N]``."""
    out: dict[int, dict] = {}
    for length in sorted(set(path_len.tolist())):
        sel = path_len == length
        out[int(length)] = {"n": int(sel.sum()), "acc": correct[:, sel].double().mean(1).tolist()}
    return out
