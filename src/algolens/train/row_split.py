"""The trainer's step with each instance chunk's batch split into fixed parts of rows.

Why: a run with fewer instance chunks than worker threads (one seed, a d_model-128 transformer)
would leave the extra threads to torch's intra-op parallelism, which splits every small matmul
and elementwise operation and then waits at the end of each. Splitting the batch instead gives
each worker a whole forward and backward of its own rows with one torch thread. Measured in
``benchmarks/bench_sequence_speed.py`` (docs/benchmarks.md).

The loss of an instance is the mean over its batch (sequence rows: over the masked tokens of the
whole batch), so part ``j`` contributes ``sum_j / count`` with ``count`` taken over the whole
batch, and the gradient of the mean is the sum of the parts' gradients. Each part's gradients are
computed with :func:`torch.autograd.grad` (nothing accumulates into ``.grad`` from two threads)
and summed in part order, so the bits depend on the number of parts, never on which thread ran
which part or how many threads there were. The result equals the unsplit step to float rounding.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from algolens.models import BatchedModel
from algolens.tasks.sequence import masked_cross_entropy_sum
from algolens.train.chunks import chunk_size, fitting_instances, gather_chunk_grads, run_chunks

if TYPE_CHECKING:
    from algolens.train.trainer import Trainer

MIN_PART_TOKENS = 1024
"""Fewest (instance, position) pairs a part may carry: the instances of its chunk times its rows
times the positions a row trains on. Two worker threads run Python's side of their passes one at
a time (the GIL); with small parts that serialises them. Measured on a 2-core AMD EPYC Zen 3
(``benchmarks/bench_split_plan.py`` and docs/benchmarks.md, "Row parts for uneven chunks"):
one seed of the 2-layer recursion preset (19 positions) steps 1.1x *slower* in two parts of 608
than whole on two intra-op threads, but 1.2x faster in parts of 1216 (batch 128) and 1.3x in
parts of 2432 (batch 256); three seeds in one chunk, two parts of 1824, faster than
instance chunks of 2 and 1 (1.2-1.3x over several runs)."""


def split_plan(
    n_inst: int, cache: tuple[int, int], workers: int, batch: int, row_tokens: int = 1, *,
    splittable: bool = True,
) -> tuple[int, int]:  # fmt: skip
    """``(instances per chunk, row parts)`` of a training step of ``n_inst`` instances on
    ``workers`` threads, where ``cache`` is ``(elements per instance, elements a chunk keeps in
    cache)`` (``fits`` instances to a chunk: :func:`~algolens.train.chunks.fitting_instances`) and
    a batch has ``batch`` rows of ``row_tokens`` positions.

    * The chunks of :func:`~algolens.train.chunks.chunk_size` alone when they are all the same
      size and their number is a multiple of ``workers`` (every worker the same work).
    * Otherwise (fewer chunks than workers, or chunks that load the workers unevenly, e.g. three
      seeds on two workers as chunks of 2 and 1): all instances in one chunk, its batch split
      into ``workers`` parts of rows, one per worker, when a part's share of the instances' rows
      fits as a chunk would (``n_inst <= fits * workers``) and each part keeps
      :data:`MIN_PART_TOKENS` instance positions.
    * Else the chunks alone, uneven as they are.

    ``splittable=False`` (a model whose own fused pass takes the step, which row parts do not
    apply to) always keeps the chunks alone.

    >>> sixteen, one = (1, 16), (16, 16)  # 16 instances fit a chunk; 1 does
    >>> split_plan(1, sixteen, 2, 256, 62), split_plan(1, sixteen, 2, 64, 19)
    ((1, 2), (1, 1))
    >>> split_plan(3, sixteen, 2, 64, 19), split_plan(2, sixteen, 2, 64, 19)
    ((3, 2), (1, 1))
    >>> split_plan(32, one, 2, 14400), split_plan(3, one, 2, 64, 19)
    ((1, 1), (1, 1))
    >>> split_plan(3, sixteen, 2, 64, 19, splittable=False), split_plan(5, sixteen, 1, 64, 19)
    ((2, 1), (5, 1))
    """
    fits = fitting_instances(*cache)
    chunk = chunk_size(n_inst, *cache, workers)
    even = n_inst % chunk == 0 and (n_inst // chunk) % workers == 0
    if even or not splittable or n_inst > fits * workers:
        return chunk, 1
    if n_inst * batch * row_tokens // workers < MIN_PART_TOKENS:
        return chunk, 1
    return n_inst, workers


def part_bounds(batch: int, parts: int) -> list[slice]:
    """``parts`` contiguous column slices of a batch of ``batch`` rows, sizes differing by at most
    one (the first ones larger).

    >>> part_bounds(10, 3)
    [slice(0, 4, None), slice(4, 7, None), slice(7, 10, None)]
    """
    base, extra = divmod(batch, parts)
    out, start = [], 0
    for j in range(parts):
        stop = start + base + (1 if j < extra else 0)
        out.append(slice(start, stop))
        start = stop
    return out


def loss_sums(trainer: Trainer, rows: torch.Tensor, model: BatchedModel) -> torch.Tensor:
    """Summed cross-entropy of each instance over ``rows`` ``[inst, part]``: ``[inst]``
    (sequence rows: over the masked tokens of the first ``train_width`` positions; logits cast to
    the trainer's loss dtype first)."""
    if trainer.mask is not None:
        w = trainer.train_width
        logits = model(trainer.inputs[rows][..., :w])  # [inst, part, w, d_vocab]
        targets, mask = trainer.targets[rows][..., :w], trainer.mask[rows][..., :w]
        return masked_cross_entropy_sum(logits, targets, mask, trainer.loss_dtype)
    k, b = rows.shape
    logits = model.answer_logits(trainer.inputs[rows])  # [inst, part, d_vocab]
    ce = F.cross_entropy(
        logits.to(trainer.loss_dtype).reshape(k * b, -1), trainer.targets[rows].reshape(-1),
        reduction="none",
    )  # fmt: skip
    return ce.view(k, b).sum(1)


def batch_terms(trainer: Trainer, rows: torch.Tensor) -> torch.Tensor | float:
    """The number of loss terms of each instance in the whole batch ``rows`` ``[inst, batch]``:
    ``[inst]`` masked tokens (sequence rows), or the batch size (one answer per row)."""
    if trainer.mask is None:
        return float(rows.shape[1])
    return trainer.mask[rows][..., : trainer.train_width].sum((1, 2))  # [inst]


def split_step_grads(
    trainer: Trainer, rows: torch.Tensor, chunks: list[tuple[slice, BatchedModel]], parts: int
) -> torch.Tensor:
    """Gradients of the mean losses of ``rows`` ``[inst, batch]`` into ``trainer.params``'
    ``.grad`` (instances hit by NaN/inf contribute none and are marked dead in
    ``trainer.alive``); returns the ``[inst]`` losses. Every (chunk, part) pair is one job on
    the trainer's workers."""
    parts = min(parts, rows.shape[1])  # a short last minibatch
    bounds = part_bounds(rows.shape[1], parts)
    terms = [batch_terms(trainer, rows[sl]) for sl, _ in chunks]  # per chunk, whole batch
    chunk_params = [dict(m.named_parameters()) for _, m in chunks]  # once per step, not per job
    names = [[n for n, p in ps.items() if p.requires_grad] for ps in chunk_params]

    def job(i: int, _slot: int) -> tuple[torch.Tensor, tuple[torch.Tensor | None, ...]]:
        c, j = divmod(i, parts)
        sl, model = chunks[c]
        params = chunk_params[c]
        with torch.enable_grad(), model.training_precision():  # per thread: bf16 autocast
            sums = loss_sums(trainer, rows[sl][:, bounds[j]], model)  # [chunk]
            part_loss = sums / terms[c]  # this part's share of the batch mean
            alive = trainer.alive[sl].to(sums.device, copy=True)
            objective = torch.where(alive, part_loss, torch.zeros_like(part_loss)).sum()
            grads = torch.autograd.grad(
                objective, [params[name] for name in names[c]], allow_unused=True
            )
        return part_loss.detach(), grads

    results = run_chunks(job, len(chunks) * parts, trainer.workers)
    losses = []
    for c, (sl, _) in enumerate(chunks):
        mine = results[c * parts : (c + 1) * parts]
        loss = mine[0][0]
        for part_loss, _ in mine[1:]:
            loss = loss + part_loss  # part order: the bits do not depend on the threads
        trainer.alive[sl] &= loss.isfinite().cpu()
        params = chunk_params[c]
        for k, name in enumerate(names[c]):
            grad = None
            for _, grads in mine:
                g = grads[k]
                if g is not None:
                    grad = g if grad is None else grad + g
            params[name].grad = grad  # (any layout: the optimiser reads it in the param's)
        losses.append(loss)
    if len(chunks) > 1:
        gather_chunk_grads(trainer.params, chunks)
    return torch.cat(losses)
