"""Two streamed passes over all ``|G|²`` pairs, one block of left operands at a time.

No ``|G|³`` array is ever held: a block of ``B`` left operands holds ``B·|G|`` feature rows
(``[B, |G|, d_feat]``) and, in the second pass, ``B·|G|²`` logits; ``B`` is chosen so a block
holds about :data:`BLOCK_ELEMENTS` logits (32 MiB in float32, the losses' default precision),
whatever the group.

* :func:`pair_sums` (pass 1) accumulates the sums of the features ``h[a, b]`` over the pairs
  with the same product, the same left operand and the same right operand, and their Gram
  matrix ``Σ hᵀh`` (``d_feat²`` per pair, cheaper than the ``d_feat·|G|`` of the logits).
  Everything in :mod:`~algolens.analysis.composition.irreps` and
  :mod:`~algolens.analysis.composition.neurons` is a function of these sums.
* :func:`logit_sums` (pass 2) computes the logits block by block and accumulates cross-entropy
  (natural log, summed; callers divide), accuracy, and the loss of logits with a
  product-dependent component removed (the *excluded* loss).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from algolens.analysis.composition.readout import Readout

BLOCK_ELEMENTS = 2**23
"""Target number of logits per block in pass 2 (pass 1 uses the same blocks)."""

ONE_THREAD_ORDER = 128
"""Groups up to this order are analysed with one torch thread: their blocks are small, and on a
busy 2-core machine two threads spin waiting for each other (measured on S5, load average 6:
0.42 s with one thread, 1.22 s with two; S3 over checkpoints: 27 ms against 855 ms)."""


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch threads (None: unchanged); restores the count on exit."""
    before = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclass(frozen=True)
class PairSums:
    """Pass-1 sums of the features ``h[a, b]`` ``[d_feat]`` over all pairs (float64).

    Attributes:
        by_product: ``[|G|, d_feat]``, ``P[g] = Σ_{a·b = g} h[a, b]`` (|G| pairs per g).
        by_left: ``[|G|, d_feat]``, ``A[a] = Σ_b h[a, b]``.
        by_right: ``[|G|, d_feat]``, ``B[b] = Σ_a h[a, b]``.
        gram: ``[d_feat, d_feat]``, ``Σ_{a,b} h[a, b]ᵀ h[a, b]``.
    """

    by_product: torch.Tensor
    by_left: torch.Tensor
    by_right: torch.Tensor
    gram: torch.Tensor

    @property
    def sum_sq(self) -> torch.Tensor:
        """``[d_feat]``, ``Σ_{a,b} h[a, b]²``."""
        return torch.diagonal(self.gram)

    @property
    def mean(self) -> torch.Tensor:
        """``[d_feat]`` mean of each feature over the |G|² pairs."""
        n = self.by_left.shape[0]
        return self.by_left.sum(0) / (n * n)


@dataclass(frozen=True)
class LogitSums:
    """Pass-2 totals over all pairs (float64; losses are natural-log cross-entropy sums).

    Attributes:
        loss_sum, correct: summed cross-entropy and number of correct argmaxes, per split.
        count: number of pairs per split.
        excluded_loss_sum: summed cross-entropy of ``L[a,b] − R[a·b]``, on ``"train"`` when a
            split was given, else on ``"all"`` (the only key).

    Splits are ``"all"``, ``"train"`` and ``"test"`` (train/test only when a split was given).
    """

    loss_sum: dict[str, float]
    correct: dict[str, int]
    count: dict[str, int]
    excluded_loss_sum: dict[str, float]

    def mean_loss(self, split: str) -> float:
        return self.loss_sum[split] / self.count[split]

    def accuracy(self, split: str) -> float:
        return self.correct[split] / self.count[split]

    def mean_excluded_loss(self, split: str) -> float:
        return self.excluded_loss_sum[split] / self.count[split]


def block_rows(n: int, budget: int = BLOCK_ELEMENTS) -> int:
    """Left operands per block: about ``budget`` logits (``rows·n²``), at least one."""
    return max(1, min(n, budget // (n * n)))


def pair_sums(ro: Readout, table: np.ndarray, *, budget: int = BLOCK_ELEMENTS) -> PairSums:
    """Pass 1: the sums of :class:`PairSums` for a read-out and its group's Cayley table."""
    n, d = ro.n, ro.d_feat
    tab = torch.tensor(np.asarray(table), dtype=torch.int64)  # [n, n] a·b
    by_product = torch.zeros(n, d, dtype=torch.float64)
    by_left = torch.empty(n, d, dtype=torch.float64)
    by_right = torch.zeros(n, d, dtype=torch.float64)
    gram = torch.zeros(d, d, dtype=torch.float64)
    step = block_rows(n, budget)
    for start in range(0, n, step):
        a = torch.arange(start, min(n, start + step))
        h = ro.features(a)  # [B, n, d_feat]
        by_product.index_add_(0, tab[a].reshape(-1), h.reshape(-1, d))
        by_left[a] = h.sum(1)
        by_right += h.sum(0)
        flat = h.reshape(-1, d)  # [B·n, d_feat]
        gram.addmm_(flat.T, flat)
    return PairSums(by_product, by_left, by_right, gram)


def logit_sums(
    ro: Readout,
    table: np.ndarray,
    removed: torch.Tensor,
    train_mask: np.ndarray | None = None,
    *,
    dtype: torch.dtype = torch.float32,
    budget: int = BLOCK_ELEMENTS,
) -> LogitSums:
    """Pass 2: losses and accuracy on every split, and the excluded loss on the training pairs.

    Args:
        ro: the network.
        table: ``[|G|, |G|]`` Cayley table (the target of (a, b) is ``table[a, b]``).
        removed: ``[|G|, |G|]`` (g, c): the component ``R[a·b]`` subtracted from ``L[a, b]``
            for the excluded loss.
        train_mask: ``[|G|, |G|]`` bool, True on training pairs (None: no split; the excluded
            loss is then taken on all pairs).
        dtype: precision of the logits. float32 (the default, about twice as fast) keeps the
            cross-entropy's *relative* error near 1e-5 even for losses of 1e-9, because it is
            evaluated as ``softplus(log Σ_{c≠t} exp(L_c) − L_t)`` (see :func:`cross_entropy_`).
        budget: logits per block.
    """
    n = ro.n
    tab = torch.tensor(np.asarray(table), dtype=torch.int64)
    mask = None if train_mask is None else torch.tensor(np.asarray(train_mask), dtype=torch.bool)
    splits = ["all"] if mask is None else ["all", "train", "test"]
    excl_split = "all" if mask is None else "train"
    loss = dict.fromkeys(splits, 0.0)
    correct = dict.fromkeys(splits, 0)
    count = dict.fromkeys(splits, 0)
    excl = {excl_split: 0.0}
    removed = removed.to(dtype)
    step = block_rows(n, budget)
    for start in range(0, n, step):
        a = torch.arange(start, min(n, start + step))
        logits = ro.logits(a, dtype)  # [B, n, n]
        target = tab[a]  # [B, n]
        sel = mask[a] if mask is not None else slice(None)
        kept = target[sel]  # [m]
        ce_excl, _ = cross_entropy_(logits[sel] - removed[kept], kept)  # [m]
        excl[excl_split] += float(ce_excl.sum())
        ce, hit = cross_entropy_(logits, target)  # [B, n] ×2; logits overwritten
        parts = {"all": torch.ones_like(hit)}
        if mask is not None:
            parts["train"] = mask[a]
            parts["test"] = ~mask[a]
        for name, sel in parts.items():
            loss[name] += float(ce[sel].sum())
            correct[name] += int(hit[sel].sum())
            count[name] += int(sel.sum())
    return LogitSums(loss, correct, count, excl)


def cross_entropy_(logits: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-row cross-entropy (float64) and correctness: ``logits [..., n]``, ``target [...]``.
    Overwrites ``logits`` (the target entries become −inf).

    ``CE = softplus(log Σ_{c≠t} exp(L_c) − L_t)``: no ``logsumexp(L) − L_t`` cancellation, so
    small losses keep their relative precision in float32 (the argument of softplus is near
    ``log CE`` and has an absolute error of a few float32 ulps of the logits). Correct means
    ``L_t > L_c`` for every c ≠ t.
    """
    idx = target[..., None]
    picked = logits.gather(-1, idx)[..., 0]  # [...]
    logits.scatter_(-1, idx, float("-inf"))
    hit = logits.amax(-1) < picked  # [...]
    rest = torch.logsumexp(logits, -1)  # [...] log Σ_{c≠t} exp(L_c)
    return F.softplus(rest.double() - picked.double()), hit
