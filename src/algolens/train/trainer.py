"""`Trainer`: K seeds of one task and model trained as a single batched computation.

Reduction. The training loss is the SUM over instances of each instance's MEAN cross-entropy
over its own training rows::

    loss = sum_k mean_{i in train_k} CE(logits[k, i], target[i])

Instance k's parameters enter only the k-th term, so d loss / d theta_k = d mean_k / d theta_k:
an instance's gradient does not depend on any other instance, and :class:`BatchedAdamW` updates
element by element. K seeds trained together follow the trajectories of K runs of one seed each
(checked in tests/train/test_trainer.py, which also states how exactly).

Failure isolation. An instance whose loss or gradient holds NaN or inf is marked dead: its term
leaves the loss, and its weights and optimiser state stay frozen at their last finite values; the
other instances train on unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from algolens.errors import CheckpointError
from algolens.groups import FiniteGroup
from algolens.models import BatchedModel, build_model
from algolens.models.hooks import model_has_hooks
from algolens.models.mlp_fused import Workspace, flat_ids, fused_ok, loss_and_grads
from algolens.train.chunks import chunk_size, gather_chunk_grads, instance_chunks, run_chunks
from algolens.train.cleanup_stop import CleanupHistory, Reason, stop_reasons, sum_squares
from algolens.train.config import TrainConfig
from algolens.train.device import current_device
from algolens.train.optim import BatchedAdamW
from algolens.train.schedules import lr_factor
from algolens.train.task_setup import build_task, model_config_dict

__all__ = ["EvalResult", "Trainer", "build_task", "model_config_dict"]

LOSS_DTYPES = {"float32": torch.float32, "float64": torch.float64}
EVAL_CHUNK_ELEMENTS = 1 << 24  # logits elements per evaluation chunk
CHUNK_ELEMENTS = 1 << 19  # training: logits elements per instance chunk (cache-sized)


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


class Trainer:
    """The state of a batched training run and the operations on it.

    Args:
        config: a validated :class:`TrainConfig`.
        group: the resolved group (default: resolve ``config.group``); see :func:`build_task`.
        device: torch device (default: :func:`~algolens.train.device.current_device`, CPU).
        instance_chunk: instances per forward/backward pass (default: as many as keep about
            ``CHUNK_ELEMENTS`` logits in cache); any value gives the same training to float rounding
            (matmul kernels may differ by shape; see docs/training.md, "Where bits are guaranteed").
            While a hook is attached to any module of ``model``, training and evaluation run
            through ``model`` itself as one chunk, so hooks fire with ``[inst, ...]`` shapes.
        workers: threads that run instance chunks side by side, each with one torch thread
            (default: ``torch.get_num_threads()`` at construction; see
            :mod:`algolens.train.chunks`). With more than one, the default chunking gives every
            worker a chunk. The bits depend on the chunking, not on the number of workers:
            ``workers=2`` with the chunks of ``workers=1`` gives the same bits.

    Attributes:
        epoch: epochs completed (0 after construction).
        train_idx, test_idx: ``[inst, n_train]``, ``[inst, n_test]`` row indices of each seed.
        alive: ``[inst]`` bool, False once an instance hit NaN/inf.
        grok_epoch: ``[inst]`` int64, first evaluated epoch with test accuracy at or above
            ``config.grok_threshold``, or -1.

    Raises:
        ConfigError, SpecError: an invalid group, train fraction or model config.
    """

    def __init__(
        self,
        config: TrainConfig,
        *,
        group: FiniteGroup | None = None,
        device: str | torch.device | None = None,
        instance_chunk: int | None = None,
        workers: int | None = None,
    ) -> None:
        self.config = config
        self.device = current_device() if device is None else torch.device(device)
        self.task = build_task(config, group)
        self.model_args = model_config_dict(config, self.task)
        train_idx, test_idx = self.task.splits(config.seeds)
        self._setup(
            train_idx,
            test_idx,
            self.task.inputs,
            self.task.targets,
            row_elements=self.task.n_vocab,
            instance_chunk=instance_chunk,
            workers=workers,
        )

    def _setup(
        self,
        train_idx: torch.Tensor,
        test_idx: torch.Tensor,
        inputs: torch.Tensor,
        targets: torch.Tensor,
        *,
        row_elements: int,
        instance_chunk: int | None,
        workers: int | None = None,
    ) -> None:
        """Model, data on the device, optimiser, flags and instance chunks, once ``config``,
        ``device``, ``task`` and ``model_args`` are set (shared with
        :class:`~algolens.train.sequence_trainer.SequenceTrainer`).

        Args:
            train_idx, test_idx: ``[inst, n_train]``, ``[inst, n_test]`` rows of ``inputs``.
            inputs, targets: every row's model input and target(s).
            row_elements: logits elements of one row (sizes the instance chunks).
            instance_chunk, workers: as for :class:`Trainer`.
        """
        config = self.config
        self.model = build_model(config.model, self.model_args)
        self.model.init_weights(config.seeds)
        self.model.to(self.device)
        k = config.n_inst
        self.train_idx = train_idx.to(self.device)  # [inst, n_train]
        self.test_idx = test_idx.to(self.device)  # [inst, n_test]
        self.inputs = inputs.to(self.device)  # [N, pos]
        self.targets = targets.to(self.device)  # [N] (composition) or [N, pos] (sequences)
        self.params = {n: p for n, p in self.model.named_parameters() if p.requires_grad}
        self.optim = BatchedAdamW(
            self.params,
            betas=(config.beta1, config.beta2),
            eps=config.eps,
            weight_decay=config.weight_decay,
            grokfast_alpha=config.grokfast_alpha,
            grokfast_lamb=config.grokfast_lamb,
        )
        self.loss_dtype = LOSS_DTYPES[config.loss_dtype]
        self.epoch = 0
        self.alive = torch.ones(k, dtype=torch.bool)
        self.grok_epoch = torch.full((k,), -1, dtype=torch.int64)
        self.last_eval: EvalResult | None = None  # the latest evaluate()
        rule = config.cleanup_stop
        self.cleanup = None if rule is None else CleanupHistory(rule.window, k)
        self.batch_gens: list[torch.Generator] | None = None
        if config.batch_size is not None:
            # Minibatch order of instance k: its own generator, derived from its seed.
            self.batch_gens = [torch.Generator().manual_seed(s + 0x5EED) for s in config.seeds]
        full = self.train_idx.shape[1]
        self.batch_size = full if config.batch_size is None else min(config.batch_size, full)
        self.workers = max(1, torch.get_num_threads() if workers is None else workers)
        if instance_chunk is None:
            per_inst = self.batch_size * row_elements  # logits elements per instance
            instance_chunk = chunk_size(k, per_inst, CHUNK_ELEMENTS, self.workers)
        self.chunks = instance_chunks(self.model, config.model, self.model_args, instance_chunk)
        self._chunk_params = [dict(m.named_parameters()) for _, m in self.chunks]
        # The fused MLP pass (used while no hook is attached): cached ids, scratch per worker,
        # gradients.
        self._full_batch_ids: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] | None = None
        self._works = [Workspace() for _ in range(self.workers)]
        mm = getattr(self.model.cfg, "matmul_dtype", None)
        self._matmul_dtype = None if mm is None else getattr(torch, mm)
        self._grads: dict[str, torch.Tensor] = {}

    # -- training --------------------------------------------------------------------------

    def instance_losses(
        self, rows: torch.Tensor, model: BatchedModel | None = None
    ) -> torch.Tensor:
        """Mean cross-entropy of each instance over its own ``rows`` ``[inst, batch]``: ``[inst]``.

        Logits are cast to ``config.loss_dtype`` before the log-softmax.
        """
        k, b = rows.shape
        tokens = self.inputs[rows]  # [inst, batch, pos]
        model = self.model if model is None else model
        logits = model.answer_logits(tokens)  # [inst, batch, d_vocab]
        targets = self.targets[rows]  # [inst, batch]
        ce = F.cross_entropy(
            logits.to(self.loss_dtype).reshape(k * b, -1), targets.reshape(-1), reduction="none"
        )  # [inst·batch]
        return ce.view(k, b).mean(1)  # [inst]

    def train_step(self, rows: torch.Tensor, progress: float) -> torch.Tensor:
        """One AdamW step on ``rows`` ``[inst, batch]``; returns the ``[inst]`` losses before it.

        Forward and backward run one instance chunk at a time (see
        :func:`algolens.train.chunks.instance_chunks`); the result equals one pass over all
        instances to float rounding (bitwise only where the BLAS picks the same kernels for both
        shapes). An MLP with no hook attached trains by the fused pass of
        :mod:`algolens.models.mlp_fused` (its gradients equal autograd's to float rounding).
        """
        lr = self.config.lr * lr_factor(self.config, progress)
        chunks = self._passes()
        if chunks is self.chunks and fused_ok(self.model) and all(fused_ok(m) for _, m in chunks):
            return self._fused_step(rows, lr)
        self.optim.zero_grad()

        def chunk_pass(i: int, _slot: int) -> torch.Tensor:
            sl, model = chunks[i]
            with torch.enable_grad():
                loss = self.instance_losses(rows[sl], model)  # [chunk]
                self.alive[sl] &= loss.detach().isfinite().cpu()
                alive = self.alive[sl].to(loss.device, copy=True)  # others write self.alive
                torch.where(alive, loss, torch.zeros_like(loss)).sum().backward()  # sum of means
            return loss.detach()

        losses = run_chunks(chunk_pass, len(chunks), self.workers)
        if len(chunks) > 1:
            gather_chunk_grads(self.params, self.chunks)
        self.alive &= self.optim.grads_finite(self.config.n_inst).cpu()
        self.optim.step(lr, self.alive.to(self.device))
        return torch.cat(losses)

    def _passes(self) -> list[tuple[slice, BatchedModel]]:
        """The ``(instances, model)`` passes of a step or an evaluation: the instance chunks, or
        ``self.model`` as the only pass while a hook is attached to it (the chunk models are
        separate modules, so a hook on ``self.model`` would never fire in them)."""
        if model_has_hooks(self.model):
            return [(slice(0, self.config.n_inst), self.model)]
        return self.chunks

    def _fused_step(self, rows: torch.Tensor, lr: float) -> torch.Tensor:
        """:meth:`train_step` by the fused MLP pass (no autograd graph), chunk by chunk: the
        chunk's losses and gradients (written straight into ``[inst, ...]`` buffers of the full
        parameters), its NaN/inf checks, then its AdamW update while its data is in cache. Every
        operation is per instance, so this is one pass over all instances to float rounding (the
        chunks' matmuls have other shapes; docs/training.md, "Where bits are guaranteed")."""
        if not self._grads:
            self._grads = {n: torch.empty_like(p) for n, p in self.params.items()}
        for n, p in self.params.items():
            p.grad = self._grads[n]
        self.optim.begin_step()
        ids = self._fused_ids(rows)

        def chunk_step(i: int, slot: int) -> torch.Tensor:
            sl, model = self.chunks[i]
            a, b, targets = ids[i]
            grads = {n: g[sl] for n, g in self._grads.items()}
            alive = self.alive[sl]
            loss = loss_and_grads(
                model, a, b, targets, alive, self.loss_dtype, grads=grads, work=self._works[slot],
                matmul_dtype=self._matmul_dtype,
            )  # fmt: skip
            kc = sl.stop - sl.start
            alive &= loss.isfinite().cpu() & self.optim.grads_finite(kc, sl)  # in self.alive
            self.optim.update(lr, alive.to(self.device), sl)
            return loss

        return torch.cat(run_chunks(chunk_step, len(self.chunks), self.workers))

    def _fused_ids(
        self, rows: torch.Tensor
    ) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """Flattened operand ids and targets of every chunk for the fused pass (the full batch's
        are computed once and kept)."""
        full = rows is self.train_idx
        if full and self._full_batch_ids is not None:
            return self._full_batch_ids
        out = []
        for sl, _ in self.chunks:
            tokens = self.inputs[rows[sl]]  # [chunk, batch, 2]
            n = self.task.n_vocab
            out.append(
                (flat_ids(tokens[..., 0], n), flat_ids(tokens[..., 1], n), self.targets[rows[sl]])
            )
        if full:
            self._full_batch_ids = out
        return out

    def train_epoch(self) -> torch.Tensor:
        """One epoch (full batch, or minibatches in each instance's own order).

        Returns:
            ``[inst]`` mean training loss over the epoch's steps (before each step).
        """
        if self.batch_gens is None:
            losses = self.train_step(self.train_idx, float(self.epoch))
        else:
            n_train, bs = self.train_idx.shape[1], self.batch_size
            order = torch.stack([torch.randperm(n_train, generator=g) for g in self.batch_gens])
            order = order.to(self.device)  # [inst, n_train]
            n_steps = -(-n_train // bs)
            losses = torch.zeros(self.config.n_inst, dtype=self.loss_dtype, device=self.device)
            for s in range(n_steps):
                cols = order[:, s * bs : (s + 1) * bs]  # [inst, batch]
                rows = self.train_idx.gather(1, cols)  # [inst, batch]
                losses += self.train_step(rows, self.epoch + s / n_steps) / n_steps
        self.epoch += 1
        return losses

    # -- evaluation ------------------------------------------------------------------------

    @torch.no_grad()
    def evaluate(self) -> EvalResult:
        """Loss and accuracy of every instance on its train and test rows (all pairs, chunked)."""
        k, n = self.config.n_inst, self.inputs.shape[0]
        ce = torch.empty(k, n, dtype=self.loss_dtype, device=self.device)
        correct = torch.empty(k, n, dtype=torch.bool, device=self.device)
        passes = self._passes()

        @torch.no_grad()  # grad mode is per thread
        def eval_pass(i: int, _slot: int) -> None:
            sl, model = passes[i]
            kc = sl.stop - sl.start
            rows = max(1, EVAL_CHUNK_ELEMENTS // (kc * self.task.n_vocab))
            for start in range(0, n, rows):
                tokens = self.inputs[start : start + rows].expand(kc, -1, -1)  # [inst, batch, pos]
                logits = model.answer_logits(tokens)  # [inst, batch, d_vocab]
                tgt = self.targets[start : start + rows]  # [batch]
                b = tgt.shape[0]
                ce[sl, start : start + b] = F.cross_entropy(
                    logits.to(self.loss_dtype).reshape(kc * b, -1), tgt.repeat(kc), reduction="none"
                ).view(kc, b)
                correct[sl, start : start + b] = logits.argmax(-1) == tgt

        run_chunks(eval_pass, len(passes), self.workers)
        acc = correct.to(self.loss_dtype)

        def part(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
            return x.gather(1, idx).mean(1).cpu()  # [inst]

        result = EvalResult(
            self.epoch,
            part(ce, self.train_idx), part(acc, self.train_idx),
            part(ce, self.test_idx), part(acc, self.test_idx),
        )  # fmt: skip
        return self._record(result)

    def _record(self, result: EvalResult) -> EvalResult:
        """Note the instances that reached ``grok_threshold`` and keep ``result`` as the latest
        evaluation."""
        grokked = (result.test_acc >= self.config.grok_threshold) & (self.grok_epoch < 0)
        self.grok_epoch[grokked & self.alive] = self.epoch
        if self.cleanup is not None:
            sum_sq = sum_squares(self.params, self.config.n_inst)
            self.cleanup.add(result.epoch, result.train_loss, sum_sq)
        self.last_eval = result
        return result

    def done(self) -> bool:
        """True when at least one instance is alive and every live one has, at the current epoch,
        test accuracy at least ``grok_threshold`` (a seed that grokked and fell back below it
        keeps the run going) — or, with ``config.cleanup_stop``, a reason to stop by the clean-up
        rule (:meth:`stop_reasons`). Evaluates first if the current epoch was not evaluated."""
        if self.cleanup is not None:
            reasons = self.stop_reasons()
            live = [r for r, a in zip(reasons, self.alive.tolist()) if a]
            return bool(live) and all(r is not None for r in live)
        last = self._current_eval()
        now = last.test_acc >= self.config.grok_threshold
        return bool(self.alive.any()) and bool(now[self.alive].all())

    def stop_reasons(self) -> list[Reason | None]:
        """Per instance, why the clean-up rule (:mod:`algolens.train.cleanup_stop`) would stop it
        at the current epoch: ``"cleaned"``, ``"plateau"`` or None (all None without the rule).
        Evaluates first if the current epoch was not evaluated."""
        rule = self.config.cleanup_stop
        if rule is None or self.cleanup is None:
            return [None] * self.config.n_inst
        last = self._current_eval()
        return stop_reasons(
            rule, self.cleanup, train_loss=last.train_loss, test_loss=last.test_loss,
            test_acc=last.test_acc, grok_threshold=self.config.grok_threshold,
        )  # fmt: skip

    def _current_eval(self) -> EvalResult:
        last = self.last_eval
        if last is None or last.epoch != self.epoch:
            last = self.evaluate()
        return last

    # -- state -----------------------------------------------------------------------------

    def weights(self) -> dict[str, torch.Tensor]:
        """The model's state dict, ``model.``-prefixed, on the CPU."""
        return {f"model.{n}": t.detach().cpu() for n, t in self.model.state_dict().items()}

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Everything needed to continue bit-identically: weights, optimiser, flags, RNG."""
        out = self.weights()
        out.update({n: t.detach().cpu() for n, t in self.optim.state_tensors().items()})
        out["state.alive"] = self.alive.to(torch.uint8)
        out["state.grok_epoch"] = self.grok_epoch.clone()
        if self.batch_gens is not None:
            out["state.rng"] = torch.stack([g.get_state() for g in self.batch_gens])
        if self.cleanup is not None:
            out.update(self.cleanup.tensors())
        return out

    @torch.no_grad()
    def load_state_tensors(self, tensors: dict[str, torch.Tensor], epoch: int) -> None:
        """Restore :meth:`state_tensors` output (shapes and names are checked).

        Raises:
            CheckpointError: a tensor is missing or has the wrong shape or dtype.
        """
        expected = self.state_tensors()
        missing = sorted(set(expected) - set(tensors))
        wrong = [
            f"{n} {tuple(tensors[n].shape)} (expected {tuple(t.shape)})"
            for n, t in expected.items()
            if n in tensors and (tensors[n].shape != t.shape or tensors[n].dtype != t.dtype)
        ]
        if missing or wrong:
            what = (f"missing {', '.join(missing[:4])}" if missing else "") + "; ".join(wrong[:4])
            raise CheckpointError(f"checkpoint does not fit this run's model/optimizer: {what}")
        state = {n[len("model.") :]: t for n, t in tensors.items() if n.startswith("model.")}
        self.model.load_state_dict(state)
        self.optim.load_state_tensors(tensors)
        self.alive = tensors["state.alive"].bool().clone()
        self.grok_epoch = tensors["state.grok_epoch"].clone()
        self.last_eval = None
        if self.cleanup is not None:
            self.cleanup.load(tensors)
        if self.batch_gens is not None:
            for g, s in zip(self.batch_gens, tensors["state.rng"]):
                g.set_state(s.clone())
        self.epoch = epoch
