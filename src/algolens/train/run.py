"""Running a training job inside the run store: checkpoints, metrics, resume, summary.

:func:`start_run` validates everything (config, task, model) before it creates a run folder,
and stores the resolved group in it (``group.json``, see :mod:`algolens.train.run_group`);
:func:`resume_run` continues a run from its last checkpoint. Both end in :func:`_fit`, the loop::

    for each epoch:  train_epoch -> (evaluate, append metrics) -> (checkpoint) -> (early stop)

A checkpoint after epoch e holds the complete state, so a run killed at any moment (even by
SIGKILL) and resumed from its last checkpoint finishes with the same bits as one never stopped.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from algolens.errors import CheckpointError, StoreError
from algolens.fileio import write_text_atomic
from algolens.groups import FiniteGroup
from algolens.store import RunPaths, RunStore
from algolens.tasks.registry import get_task
from algolens.train.checkpoint import (
    WEIGHTS_FORMAT,
    checkpoint_name,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    pick_checkpoint,
    save_checkpoint,
)
from algolens.train.config import TrainConfig
from algolens.train.describe import describe_run
from algolens.train.device import device_label, warn_device_change
from algolens.train.learned import outcome
from algolens.train.load import run_config
from algolens.train.trainer import EvalResult, Trainer

ProgressFn = Callable[[int, EvalResult | None], None]
"""Called after every epoch with the epoch count and, on evaluated epochs, the metrics."""


class CheckpointMarks:
    """The epochs (counts of completed epochs) that get a checkpoint, without listing them.

    ``0`` (the initialisation), ``n_log`` log-spaced epochs between 1 and ``epochs``, every
    multiple of ``every``, and ``epochs`` itself. Membership is a predicate, so ``epochs = 10**9``
    costs no memory; only the log-spaced marks (at most ``n_log``) are kept as a set.

    Examples:
        >>> marks = CheckpointMarks(1000, 4, 400)
        >>> [e for e in range(1001) if e in marks]
        [0, 1, 10, 100, 400, 800, 1000]
    """

    def __init__(self, epochs: int, n_log: int, every: int) -> None:
        self.epochs, self.every = epochs, every
        log: set[int] = set()
        if n_log >= 2:
            top = math.log10(epochs)
            log = {round(10 ** (top * i / (n_log - 1))) for i in range(n_log)}
        elif n_log == 1:
            log = {1}
        self.log_marks = frozenset(m for m in log if 0 <= m <= epochs)

    def __contains__(self, epoch: object) -> bool:
        if not isinstance(epoch, int) or not 0 <= epoch <= self.epochs:
            return False
        return epoch in (0, self.epochs) or epoch % self.every == 0 or epoch in self.log_marks


def start_run(
    config: TrainConfig, store: RunStore, *, progress: ProgressFn | None = None,
    on_start: Callable[[str], None] | None = None, group: FiniteGroup | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Train a new run in ``store``; returns its summary (see :func:`summarize`).

    The task's :class:`~algolens.tasks.registry.TaskSpec` builds the trainer (``start``): a
    sequence task draws its dataset here, once, and pins its hash in the config. A composition
    run's group is resolved once (``group``, if the caller already resolved ``config.group``, else
    now), pinned in the stored config (``group_sha256``) and written to ``<run>/group.json``
    before training starts; everything later reads it from there (:mod:`.run_group`). The trainer
    is built (which validates group, fraction and model config) before the run folder exists, so
    bad input leaves nothing behind.

    Raises:
        ConfigError: the config pins another group than ``config.group`` resolves to.
    """
    trainer, prepare = get_task(config.task).start(config, group)
    config = trainer.config  # the group or dataset pinned
    run_id = store.create("train", config.to_dict(), prepare=prepare)
    if on_start is not None:
        on_start(run_id)
    with store.lock(run_id):
        return _fit(trainer, store, run_id, progress=progress, resumed_from=None)


def resume_run(
    store: RunStore, run: str, *, progress: ProgressFn | None = None, checkpoint: str | None = None
) -> dict[str, Any]:
    """Continue run ``run`` (id or unique prefix) from its last checkpoint, or from the one
    ``checkpoint`` names (an epoch or one of the run's checkpoint files,
    :func:`algolens.train.checkpoint.pick_checkpoint`): then the run's later checkpoints are
    removed once it has loaded (training from it writes them again, bit for bit) — the way
    past a damaged last checkpoint.

    The task's data come from the run folder (``group.json``, a stored dataset; hash-checked by the
    task's ``resume``), never from the spec.

    Raises:
        StoreError: unknown run, or a run being trained right now.
        CheckpointError: no checkpoint, or a truncated/foreign/other-task one; no stored group
            (a run of an older algolens) or a changed one. Nothing is written.
    """
    record = store.get(run)
    if record.status == "completed":
        raise StoreError(f"run {record.id} is already completed; there is nothing to resume")
    paths = store.paths(record.id)
    config = run_config(store, record.id)
    with store.lock(record.id):
        latest = latest_checkpoint(paths.checkpoints)
        if latest is None:
            raise CheckpointError(f"run {record.id} has no checkpoint to resume from")
        if checkpoint is not None:
            latest = pick_checkpoint(paths.checkpoints, checkpoint)
        epoch, path = latest
        tensors, meta = load_checkpoint(path, fingerprint=config.fingerprint())
        if meta.get("epoch") != epoch:
            raise CheckpointError(f"{path}: its epoch {meta.get('epoch')} does not match its name")
        trainer = get_task(config.task).resume(config, paths.root)
        trainer.load_state_tensors(tensors, epoch)  # copied onto the trainer's device
        warn_device_change(record.id, meta.get("device"), device_label(trainer.device))
        for tmp in paths.checkpoints.glob(".*.tmp"):  # left by a kill during a write
            tmp.unlink()
        for later, stale in list_checkpoints(paths.checkpoints):
            if later > epoch:  # after a chosen earlier checkpoint: rewritten by training
                stale.unlink()
        _truncate_metrics(paths.metrics, epoch)
        return _fit(trainer, store, record.id, progress=progress, resumed_from=epoch)


def _fit(
    trainer: Trainer, store: RunStore, run_id: str, *, progress: ProgressFn | None,
    resumed_from: int | None,
) -> dict[str, Any]:  # fmt: skip
    cfg = trainer.config
    paths = store.paths(run_id)
    marks = CheckpointMarks(cfg.epochs, cfg.log_checkpoints, cfg.checkpoint_every)
    store.set_status(run_id, "running")
    t0 = time.perf_counter()
    last: EvalResult | None = None
    stopped_early = False
    try:
        with open(paths.metrics, "a") as metrics:
            if resumed_from is None:
                last = trainer.evaluate()
                _append(metrics, last, trainer)
                _save(trainer, paths)
            if resumed_from is not None and cfg.early_stop and trainer.done():
                stopped_early = trainer.epoch < cfg.epochs  # the run had stopped right here
            while trainer.epoch < cfg.epochs and not stopped_early:
                trainer.train_epoch()
                e = trainer.epoch
                result = None
                if e % cfg.eval_every == 0 or e in marks:
                    result = last = trainer.evaluate()
                    _append(metrics, result, trainer)
                stop = cfg.early_stop and result is not None and trainer.done()
                if not bool(trainer.alive.any()):  # every instance failed: nothing left to train
                    stop = True
                    if result is None:
                        result = last = trainer.evaluate()
                        _append(metrics, result, trainer)
                if e in marks or stop:
                    metrics.flush()
                    _save(trainer, paths)
                if progress is not None:
                    progress(e, result)
                if stop:
                    stopped_early = e < cfg.epochs
                    break
            if last is None:  # resumed at the last epoch: its metrics row is already written
                last = trainer.evaluate()
    except KeyboardInterrupt:  # the state may be mid-step: resume from the last checkpoint
        summary = summarize(trainer, run_id, None, time.perf_counter() - t0, resumed_from, False)
        store.set_summary(run_id, summary, status="interrupted")
        raise
    except BaseException:
        store.set_status(run_id, "failed")
        raise
    save_checkpoint(paths.final, trainer.weights(), _metadata(trainer), fmt=WEIGHTS_FORMAT)
    summary = summarize(
        trainer, run_id, last, time.perf_counter() - t0, resumed_from, stopped_early
    )
    store.set_summary(run_id, summary, status="completed")
    return summary


def summarize(
    trainer: Trainer, run_id: str, last: EvalResult | None, wall_s: float,
    resumed_from: int | None, stopped_early: bool,
) -> dict[str, Any]:  # fmt: skip
    """The run summary: per seed its grokking epoch (None if never) and final metrics, then the
    task's own fields (its spec's ``summary``: a sequence task's accuracy per split)."""
    cfg = trainer.config
    per_seed = []
    for k, seed in enumerate(cfg.seeds):
        g = int(trainer.grok_epoch[k])
        row: dict[str, Any] = {
            "seed": seed,
            "grok_epoch": g if g >= 0 else None,
            "failed": not bool(trainer.alive[k]),
        }
        if last is not None:
            for key in ("train_acc", "test_acc", "train_loss", "test_loss"):
                row[key] = float(getattr(last, key)[k])
        per_seed.append(row)
    grokked = [r["grok_epoch"] for r in per_seed if r["grok_epoch"] is not None]
    spec = get_task(cfg.task)
    extra = spec.summary(cfg, trainer) if spec.summary is not None else {}
    extra.update(outcome(trainer, extra.get("splits")))  # early stop, learned (train/learned.py)
    return {
        "run_id": run_id,
        "task": cfg.task,
        "group": cfg.group if "group" in spec.traits else None,
        "model": cfg.model,
        "recipe": cfg.recipe,
        "epochs": trainer.epoch,
        "max_epochs": cfg.epochs,
        "stopped_early": stopped_early,
        "resumed_from": resumed_from,
        "n_grokked": len(grokked),
        "n_failed": sum(r["failed"] for r in per_seed),
        "median_grok_epoch": sorted(grokked)[len(grokked) // 2] if grokked else None,
        "wall_s": round(wall_s, 3),
        "device": device_label(trainer.device),
        "seeds": per_seed,
        **extra,
    }


def _metadata(trainer: Trainer) -> dict[str, Any]:
    cfg = trainer.config
    return {
        "epoch": trainer.epoch,
        "fingerprint": cfg.fingerprint(),
        "task": describe_run(cfg),
        "model": cfg.model,
        "model_config": trainer.model_args,
        "seeds": list(cfg.seeds),
        "device": device_label(trainer.device),  # resuming elsewhere is said (train/device.py)
    }


def _save(trainer: Trainer, paths: RunPaths) -> None:
    path = paths.checkpoints / checkpoint_name(trainer.epoch)
    save_checkpoint(path, trainer.state_tensors(), _metadata(trainer))


def _append(fh: Any, result: EvalResult, trainer: Trainer) -> None:
    row = result.to_dict()
    row["alive"] = trainer.alive.tolist()
    fh.write(json.dumps(row) + "\n")


def _truncate_metrics(path: Path, epoch: int) -> None:
    """Keep only complete metric rows up to ``epoch`` (a killed run may have written beyond)."""
    if not path.exists():
        return
    kept = []
    for line in path.read_text().splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            break
        if row.get("epoch", math.inf) > epoch:
            break
        kept.append(line)
    write_text_atomic(path, "".join(x + "\n" for x in kept))
