"""Evaluation of a batched model on a task's rows: the two row layouts of
:class:`~algolens.train.data.TrainingData` and exact match of sequence rows.

* :func:`evaluate_answers` (one answer per row): each row's cross-entropy and argmax hit.
* :func:`evaluate_sequences` (masked sequence rows): each row's summed cross-entropy over its
  masked tokens and whether every masked token's argmax is right (teacher-forced exact match);
  a split's loss is the token mean.
* :func:`exact_match`: teacher-forced and greedy exact match of packed sequences.

Every function evaluates the model pass by pass (``passes``: ``(instances, model)`` pairs, the
trainer's instance chunks) and a bounded number of logits at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from algolens.models import BatchedModel
from algolens.models.transformer_decode import cached_greedy_decode, can_cache
from algolens.tasks.sequence import (
    PackedSequences,
    greedy_correct,
    greedy_decode,
    teacher_forced_correct,
)
from algolens.train.chunks import run_chunks

EVAL_CHUNK_ELEMENTS = 1 << 24  # logits elements per evaluation chunk
EVAL_CHUNK_TOKENS = 8192
"""Sequence rows: at most this many (instance, position) pairs per evaluation chunk, as well as
:data:`EVAL_CHUNK_ELEMENTS` logits. A transformer's activations grow with the tokens, not the
logits: a chunk of 8192 tokens keeps the MLP's hidden layer (d_mlp 512) at 16 MB, where one chunk
of every row (96k tokens of a three-seed recursion run) ran at about a third of the matmul peak.
Measured (docs/benchmarks.md, "Row parts for uneven chunks, and evaluation chunks"): evaluation
1.5-2x faster at the recursion and path-finding shapes."""
EVAL_TRAIN_ROWS = 8192
"""Sequence rows: the train metrics of an evaluation are taken on at most this many train rows
(the first ones, a random sample since rows are stored in draw order); the test rows are always
all evaluated. The paper's path-finding data has 135k train rows: scoring them all at every
evaluation cost about half as much as the epoch's training (docs/benchmarks.md)."""
Passes = Sequence[tuple[slice, BatchedModel]]
Parts = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]
"""``[inst]`` train loss, train accuracy, test loss, test accuracy (on the CPU)."""


@dataclass(frozen=True)
class EvalResult:
    """Per-instance metrics after some epoch; every tensor is ``[inst]``."""

    epoch: int
    train_loss: torch.Tensor
    train_acc: torch.Tensor
    test_loss: torch.Tensor
    test_acc: torch.Tensor

    def to_dict(self) -> dict[str, Any]:
        return {
            "epoch": self.epoch,
            "train_loss": self.train_loss.tolist(),
            "train_acc": self.train_acc.tolist(),
            "test_loss": self.test_loss.tolist(),
            "test_acc": self.test_acc.tolist(),
        }


@dataclass(frozen=True)
class ValidatedEval(EvalResult):
    """An :class:`EvalResult` with the check of the validation split: ``val_exact`` ``[inst]``,
    greedy exact match (a ``metrics.jsonl`` row gets it as ``val_exact``)."""

    val_exact: torch.Tensor | None = None

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self.val_exact is not None:
            out["val_exact"] = self.val_exact.tolist()
        return out


@torch.no_grad()
def evaluate_answers(
    passes: Passes, inputs: torch.Tensor, targets: torch.Tensor, idx: tuple[torch.Tensor, ...],
    *, loss_dtype: torch.dtype, row_elements: int, workers: int,
) -> Parts:  # fmt: skip
    """Mean cross-entropy and accuracy of every instance on its train and test rows.

    Args:
        passes: the model's ``(instances, model)`` passes, run side by side on ``workers``
            threads (:func:`~algolens.train.chunks.run_chunks`).
        inputs, targets: ``[N, pos]``, ``[N]``; every row is evaluated once per instance.
        idx: ``(train_idx, test_idx)``, ``[inst, n]`` rows each.
        loss_dtype: the logits are cast to it before the log-softmax.
        row_elements: logits elements of one row (sizes the evaluation chunks).
    """
    k, n = passes[-1][0].stop, inputs.shape[0]  # the passes cover instances 0..k-1
    ce = torch.empty(k, n, dtype=loss_dtype, device=inputs.device)
    correct = torch.empty(k, n, dtype=torch.bool, device=inputs.device)

    @torch.no_grad()  # grad mode is per thread
    def eval_pass(i: int, _slot: int) -> None:
        sl, model = passes[i]
        kc = sl.stop - sl.start
        rows = max(1, EVAL_CHUNK_ELEMENTS // (kc * row_elements))
        for start in range(0, n, rows):
            tokens = inputs[start : start + rows].expand(kc, -1, -1)  # [inst, batch, pos]
            logits = model.answer_logits(tokens)  # [inst, batch, d_vocab]
            tgt = targets[start : start + rows]  # [batch]
            b = tgt.shape[0]
            ce[sl, start : start + b] = F.cross_entropy(
                logits.to(loss_dtype).reshape(kc * b, -1), tgt.repeat(kc), reduction="none"
            ).view(kc, b)
            correct[sl, start : start + b] = logits.argmax(-1) == tgt

    run_chunks(eval_pass, len(passes), workers)
    acc = correct.to(loss_dtype)

    def part(x: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        return x.gather(1, rows).mean(1).cpu()  # [inst]

    tr, te = idx
    return part(ce, tr), part(acc, tr), part(ce, te), part(acc, te)


@torch.no_grad()
def evaluate_sequences(
    passes: Passes, inputs: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor,
    idx: tuple[torch.Tensor, ...], *, loss_dtype: torch.dtype, row_elements: int,
    max_train_rows: int | None = EVAL_TRAIN_ROWS,
) -> Parts:  # fmt: skip
    """Loss (mean over the masked tokens) and teacher-forced exact-match accuracy of every
    instance on its train and test rows; the passes run one after another.

    Args:
        inputs, targets, mask: ``[N, T-1]`` sequence rows (:class:`~.data.TrainingData`).
        idx, loss_dtype, row_elements: as for :func:`evaluate_answers`; the rows of ``idx``
            are the same for every instance (the loss divides by the first instance's tokens).
        max_train_rows: the train metrics use only the first this many train rows (None: all);
            with no more train rows than that every row is evaluated, as before.
    """
    tr, te = idx
    if max_train_rows is not None and tr.shape[1] > max_train_rows:
        rows = torch.cat([tr[0, :max_train_rows], te[0]])  # the rows scored, shared by all
        local = torch.arange(len(rows), device=tr.device).expand(tr.shape[0], -1)
        inputs, targets, mask = inputs[rows], targets[rows], mask[rows]
        idx = (local[:, :max_train_rows].contiguous(), local[:, max_train_rows:].contiguous())
    k, (n, width) = passes[-1][0].stop, inputs.shape  # the passes cover instances 0..k-1
    ce_sum = torch.zeros(k, n, dtype=loss_dtype, device=inputs.device)
    correct = torch.zeros(k, n, dtype=torch.bool, device=inputs.device)
    for sl, model in passes:
        kc = sl.stop - sl.start
        step = max(
            1, min(EVAL_CHUNK_ELEMENTS // (kc * row_elements), EVAL_CHUNK_TOKENS // (kc * width))
        )
        for start in range(0, n, step):
            x = inputs[start : start + step].expand(kc, -1, -1)  # [inst, batch, T-1]
            logits = model(x).to(loss_dtype)  # [inst, batch, T-1, d_vocab]
            b = x.shape[1]
            tgt, m = targets[start : start + b], mask[start : start + b]
            ce = F.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), tgt.expand(kc, -1, -1).reshape(-1),
                reduction="none",
            ).view(kc, b, -1)  # fmt: skip
            ce_sum[sl, start : start + b] = (ce * m).sum(-1)
            hit = (logits.argmax(-1) == tgt) | ~m  # [inst, batch, T-1]
            correct[sl, start : start + b] = hit.all(-1)
    n_tokens = mask.sum(-1).to(loss_dtype)  # [N]

    def part(rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        loss = ce_sum.gather(1, rows).sum(1) / n_tokens[rows[0]].sum()
        return loss.cpu(), correct.gather(1, rows).to(loss_dtype).mean(1).cpu()

    (tr_loss, tr_acc), (te_loss, te_acc) = part(idx[0]), part(idx[1])
    return tr_loss, tr_acc, te_loss, te_acc


@torch.no_grad()
def exact_match(
    model: BatchedModel, data: PackedSequences, n_inst: int, batch: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Whether every instance of ``model`` writes each row of ``data`` exactly, by teacher
    forcing and by greedy decoding, ``batch`` rows at a time: two ``[n_inst, n]`` bool tensors
    (on the CPU, in ``data``'s row order).

    The rows go in order of length (``prompt + answer``), each batch cut to its own longest row,
    so short rows are not decoded at the width of the longest (greedy decoding runs the model
    once per answer token; on 1-8 node trees this about halves the work). A hook-free
    transformer decodes with a key/value cache
    (:func:`~algolens.models.transformer_decode.cached_greedy_decode`: one new position a row at
    each step; the same tokens up to float rounding of the logits).
    """
    tf = torch.zeros(n_inst, len(data), dtype=torch.bool)
    gr = torch.zeros(n_inst, len(data), dtype=torch.bool)
    order = torch.argsort(data.prompt_len + data.answer_len, stable=True)  # [N]
    for start in range(0, len(data), batch):
        rows = order[start : start + batch]
        part = data.subset(rows).trimmed()
        x = part.inputs.to(device).expand(n_inst, -1, -1)  # [inst, batch, width-1]
        tf[:, rows] = teacher_forced_correct(model(x).cpu(), part)
        if can_cache(model):  # a key/value cache: one position a step, not the whole buffer
            written = cached_greedy_decode(model, part, n_inst)
        else:
            written = greedy_decode(lambda t: model(t.to(device)).cpu(), part, n_inst)
        gr[:, rows] = greedy_correct(written, part)
    return tf, gr
