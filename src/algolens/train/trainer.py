"""`Trainer`: K seeds of one task and model trained as a single batched computation.

The trainer knows no task: a task hands it its :class:`~algolens.train.data.TrainingData` (rows,
per-instance train/test rows, a loss mask for sequence rows, a validation split, its summary
metrics), and every task trains through this one class, with the same schedules, checkpoints,
resume and early stopping (the grok threshold, the clean-up rule of
:mod:`algolens.train.cleanup_stop`, the exact-match stop of :mod:`algolens.train.early_stop`).

Reduction. The training loss is the SUM over instances of each instance's MEAN cross-entropy
over its own training rows (over the masked tokens of those rows, for sequence rows)::

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

from typing import Any

import torch
import torch.nn.functional as F

from algolens.errors import ConfigError
from algolens.models import BatchedModel, build_model
from algolens.models.hooks import model_has_hooks
from algolens.tasks.sequence import PackedSequences, masked_cross_entropy
from algolens.train.checkpoint import check_state_fits
from algolens.train.chunks import gather_chunk_grads, instance_chunks, run_chunks
from algolens.train.cleanup_stop import CleanupHistory, Reason, stop_reasons, sum_squares
from algolens.train.config import TrainConfig
from algolens.train.cpu_bf16 import warn_slow_bfloat16
from algolens.train.data import TrainingData
from algolens.train.device import current_device
from algolens.train.early_stop import ExactStopper
from algolens.train.evaluation import (
    EVAL_CHUNK_ELEMENTS,
    EvalResult,
    ValidatedEval,
    evaluate_answers,
    evaluate_sequences,
    exact_match,
)
from algolens.train.fused_step import FusedStep
from algolens.train.optim import BatchedAdamW
from algolens.train.row_split import split_plan, split_step_grads
from algolens.train.schedules import lr_factor
from algolens.train.task_setup import model_config_dict

__all__ = ["EVAL_CHUNK_ELEMENTS", "EvalResult", "Trainer", "TrainingData", "model_config_dict"]

LOSS_DTYPES = {"float32": torch.float32, "float64": torch.float64}
CHUNK_ELEMENTS = 1 << 19  # training: logits elements per instance chunk (cache-sized)


class Trainer:
    """The state of a batched training run and the operations on it, for any task.

    Args:
        config: a validated :class:`TrainConfig`.
        data: the task's :class:`TrainingData` (each task package builds its own, e.g.
            :func:`algolens.tasks.composition.training.training_data`); moved to ``device``.
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
        row_parts: fixed parts each instance chunk's batch is split into, one job per part on the
            workers. With neither ``instance_chunk`` nor ``row_parts`` given, both come from
            :func:`~algolens.train.row_split.split_plan`: the instance chunks alone when they load
            the workers evenly, else all instances in one chunk split into one part per worker
            when the batch is large enough to pay; with ``instance_chunk`` given, 1. Like the
            chunking, it changes the bits only by float rounding.

    Attributes:
        data: the :class:`TrainingData`; ``task`` is ``data.task``.
        epoch: epochs completed (0 after construction).
        inputs, targets, mask: the rows on ``device`` (``mask`` None for one answer per row).
        train_idx, test_idx: ``[inst, n_train]``, ``[inst, n_test]`` row indices of each seed.
        train_width: positions of a row a training step reads.
        alive: ``[inst]`` bool, False once an instance hit NaN/inf.
        grok_epoch: ``[inst]`` int64, first evaluated epoch with test accuracy at or above
            ``config.grok_threshold``, or -1.
        stopper: the :class:`~algolens.train.early_stop.ExactStopper` of ``config.exact_stop``
            (on ``data.validation``), or None.

    Raises:
        ConfigError: an invalid model config, or ``exact_stop`` on data without a validation
            split.
    """

    def __init__(
        self,
        config: TrainConfig,
        data: TrainingData,
        *,
        device: str | torch.device | None = None,
        instance_chunk: int | None = None,
        workers: int | None = None,
        row_parts: int | None = None,
    ) -> None:
        self.config = config
        self.device = current_device() if device is None else torch.device(device)
        self.data = data
        self.task = data.task
        self.model_args = model_config_dict(config, data.task)
        self.model = build_model(config.model, self.model_args)
        self.model.init_weights(config.seeds)
        self.model.to(self.device)
        warn_slow_bfloat16(self.model, self.device)
        k = config.n_inst
        self.train_idx = data.train_idx.to(self.device)  # [inst, n_train]
        self.test_idx = data.test_idx.to(self.device)  # [inst, n_test]
        self.inputs = data.inputs.to(self.device)  # [N, pos]
        self.targets = data.targets.to(self.device)  # [N] or [N, pos] (with a mask)
        self.mask = None if data.mask is None else data.mask.to(self.device)  # [N, pos]
        self.train_width = self.inputs.shape[1] if data.train_width is None else data.train_width
        self.stopper: ExactStopper | None = None
        if config.exact_stop is not None:
            if data.validation is None:
                raise ConfigError(f"task {config.task!r} has no validation split for exact_stop")
            self.stopper = ExactStopper(config.exact_stop, k, len(data.validation))
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
            per_inst = self.batch_size * data.row_elements  # logits elements per instance
            split = self.mask is not None or not self.model.has_fused_pass()
            instance_chunk, planned_parts = split_plan(
                k, (per_inst, CHUNK_ELEMENTS), self.workers, self.batch_size, self.train_width,
                splittable=split,
            )  # fmt: skip
            row_parts = planned_parts if row_parts is None else row_parts
        self.chunks = instance_chunks(self.model, config.model, self.model_args, instance_chunk)
        self._chunk_params = [dict(m.named_parameters()) for _, m in self.chunks]
        self.row_parts = max(1, 1 if row_parts is None else row_parts)
        self._fused = FusedStep(self.workers)  # the model's fused pass, if it declares one

    # -- training --------------------------------------------------------------------------

    def instance_losses(
        self, rows: torch.Tensor, model: BatchedModel | None = None
    ) -> torch.Tensor:
        """Mean cross-entropy of each instance over its own ``rows`` ``[inst, batch]``: ``[inst]``
        (over the masked tokens of the first :attr:`train_width` positions, for sequence rows).

        Logits are cast to ``config.loss_dtype`` before the log-softmax.
        """
        model = self.model if model is None else model
        if self.mask is not None:
            w = self.train_width
            logits = model(self.inputs[rows][..., :w])  # [inst, batch, w, d_vocab]
            targets, mask = self.targets[rows][..., :w], self.mask[rows][..., :w]
            return masked_cross_entropy(logits, targets, mask, self.loss_dtype)
        k, b = rows.shape
        tokens = self.inputs[rows]  # [inst, batch, pos]
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
        shapes). Rows with one answer each train by the model's own fused pass when it declares
        one and no hook is attached (:meth:`~algolens.models.hooks.BatchedModel.has_fused_pass`:
        the MLP's :mod:`algolens.models.mlp_fused`, gradients equal to autograd's to float
        rounding; :mod:`algolens.train.fused_step`). A model with ``matmul_dtype = "bfloat16"``
        computes its training forward under its
        :meth:`~algolens.models.hooks.BatchedModel.training_precision` (mixed precision;
        evaluation stays in the parameters' dtype).
        """
        lr = self.config.lr * lr_factor(self.config, progress)
        chunks = self._passes()
        if FusedStep.usable(self, chunks):
            return self._fused.step(self, rows, lr)
        self.optim.zero_grad()
        if self.row_parts > 1 and chunks is self.chunks:  # (no hook attached)
            losses = split_step_grads(self, rows, chunks, self.row_parts)
            self.alive &= self.optim.grads_finite(self.config.n_inst).cpu()
            self.optim.step(lr, self.alive.to(self.device))
            return losses

        def chunk_pass(i: int, _slot: int) -> torch.Tensor:
            sl, model = chunks[i]
            with torch.enable_grad(), model.training_precision():  # per thread: bf16 autocast
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
        """Loss and accuracy of every instance on its train and test rows (chunked; sequence rows:
        at most ``EVAL_TRAIN_ROWS`` train rows, every test row):
        cross-entropy and argmax accuracy for one answer per row; for sequence rows the mean
        over masked tokens and teacher-forced exact match
        (:mod:`algolens.train.evaluation`). With ``exact_stop``, also the validation check."""
        idx, size = (self.train_idx, self.test_idx), self.data.row_elements
        passes = self._passes()
        if self.mask is None:
            parts = evaluate_answers(
                passes, self.inputs, self.targets, idx, loss_dtype=self.loss_dtype,
                row_elements=size, workers=self.workers,
            )  # fmt: skip
        else:
            parts = evaluate_sequences(
                passes, self.inputs, self.targets, self.mask, idx, loss_dtype=self.loss_dtype,
                row_elements=size,
            )  # fmt: skip
        return self._record(self._check_validation(EvalResult(self.epoch, *parts)))

    def _check_validation(self, result: EvalResult) -> EvalResult:
        """With ``exact_stop``: on every ``eval_every``-th epoch not checked yet, the greedy
        exact match of every instance on the validation split, recorded by the stopper and
        returned with ``result`` (:class:`ValidatedEval`)."""
        st, val = self.stopper, self.data.validation
        if st is None or val is None or self.epoch % self.config.eval_every:
            return result
        if st.checked == self.epoch:
            return result
        exact = self.exact_match(val, 512)[1].double().mean(1)  # [inst] greedy
        st.update(self.epoch, exact, self.alive)
        return ValidatedEval(**vars(result), val_exact=exact)

    @torch.no_grad()
    def exact_match(self, data: PackedSequences, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Whether every instance writes each row of ``data`` (packed sequences of the task)
        exactly, by teacher forcing and by greedy decoding, ``batch`` rows at a time: two
        ``[K, n]`` bool tensors on the CPU (:func:`~algolens.train.evaluation.exact_match`)."""
        return exact_match(self.model, data, self.config.n_inst, batch, self.device)

    def split_metrics(self) -> dict[str, dict[str, Any]]:
        """The task's summary metrics per split (``data.split_metrics(self)``; ``{}`` when the
        task supplies none)."""
        metrics = self.data.split_metrics
        return {} if metrics is None else metrics(self)

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
        rule (:meth:`stop_reasons`); with ``config.exact_stop``, the exact-match stopper's
        decision (:mod:`algolens.train.early_stop`). Evaluates first if the current epoch was not
        evaluated (not with ``exact_stop``)."""
        if self.stopper is not None:
            return self.stopper.done
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
        if self.stopper is not None:
            out.update(self.stopper.state_tensors())
        return out

    @torch.no_grad()
    def load_state_tensors(self, tensors: dict[str, torch.Tensor], epoch: int) -> None:
        """Restore :meth:`state_tensors` output (shapes and names are checked).

        Raises:
            CheckpointError: a tensor is missing or has the wrong shape or dtype.
        """
        check_state_fits(self.state_tensors(), tensors)
        state = {n[len("model.") :]: t for n, t in tensors.items() if n.startswith("model.")}
        self.model.load_state_dict(state)
        self.optim.load_state_tensors(tensors)
        self.alive = tensors["state.alive"].bool().clone()
        self.grok_epoch = tensors["state.grok_epoch"].clone()
        self.last_eval = None
        if self.cleanup is not None:
            self.cleanup.load(tensors)
        if self.stopper is not None:
            self.stopper.load_state_tensors(tensors)
        if self.batch_gens is not None:
            for g, s in zip(self.batch_gens, tensors["state.rng"]):
                g.set_state(s.clone())
        self.epoch = epoch
