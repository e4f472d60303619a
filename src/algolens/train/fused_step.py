"""The trainer's step by a model's own fused pass (no autograd graph).

A model declares the pass (:meth:`~algolens.models.hooks.BatchedModel.has_fused_pass`,
``fused_batch``, ``fused_loss_and_grads``; the MLP's is :mod:`algolens.models.mlp_fused`); the
:class:`~algolens.train.trainer.Trainer` uses it for rows with one answer each while every
instance chunk declares it. Per chunk: the chunk's losses and gradients (written straight into
``[inst, ...]`` buffers of the full parameters), its NaN/inf checks, then its AdamW update while
its data is in cache. Every operation is per instance, so this is one pass over all instances to
float rounding (the chunks' matmuls have other shapes; docs/training.md, "Where bits are
guaranteed").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from algolens.models.hooks import Workspace
from algolens.train.chunks import run_chunks

if TYPE_CHECKING:
    from algolens.train.trainer import Trainer


class FusedStep:
    """What the fused steps of one trainer keep between calls: scratch tensors per worker, the
    gradient buffers and the full batch as the chunk models read it.

    Args:
        workers: the trainer's worker threads (one scratch workspace each).
    """

    def __init__(self, workers: int) -> None:
        self._works = [Workspace() for _ in range(workers)]
        self._grads: dict[str, torch.Tensor] = {}
        self._full_batch: list[tuple[torch.Tensor, ...]] | None = None

    @staticmethod
    def usable(trainer: Trainer, passes: list) -> bool:
        """Whether ``trainer`` may step by the fused pass now: one answer per row, the instance
        chunks as the passes (no hook attached) and a fused pass declared by every chunk."""
        if passes is not trainer.chunks or trainer.mask is not None:
            return False
        return trainer.model.has_fused_pass() and all(m.has_fused_pass() for _, m in passes)

    def step(self, trainer: Trainer, rows: torch.Tensor, lr: float) -> torch.Tensor:
        """One AdamW step of ``trainer`` on ``rows`` ``[inst, batch]``: ``[inst]`` losses before
        it (see the module docstring)."""
        params, optim = trainer.params, trainer.optim
        if not self._grads:
            self._grads = {n: torch.empty_like(p) for n, p in params.items()}
        for n, p in params.items():
            p.grad = self._grads[n]
        optim.begin_step()
        batches = self._batches(trainer, rows)

        def chunk_step(i: int, slot: int) -> torch.Tensor:
            sl, model = trainer.chunks[i]
            grads = {n: g[sl] for n, g in self._grads.items()}
            alive = trainer.alive[sl]
            loss = model.fused_loss_and_grads(
                batches[i], alive, trainer.loss_dtype, grads=grads, work=self._works[slot]
            )
            kc = sl.stop - sl.start
            alive &= loss.isfinite().cpu() & optim.grads_finite(kc, sl)  # in trainer.alive
            optim.update(lr, alive.to(trainer.device), sl)
            return loss

        return torch.cat(run_chunks(chunk_step, len(trainer.chunks), trainer.workers))

    def _batches(self, trainer: Trainer, rows: torch.Tensor) -> list[tuple[torch.Tensor, ...]]:
        """Every chunk's ``rows`` as its model's fused pass reads them (``fused_batch``; the full
        batch's are computed once and kept)."""
        full = rows is trainer.train_idx
        if full and self._full_batch is not None:
            return self._full_batch
        inputs, targets = trainer.inputs, trainer.targets
        out = [m.fused_batch(inputs[rows[sl]], targets[rows[sl]]) for sl, m in trainer.chunks]
        if full:
            self._full_batch = out
        return out
