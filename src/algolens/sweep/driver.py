"""The sweep driver: match the plan with the store, create missing runs, run the rest, record.

Only the driver writes the store's SQLite index. For each configuration of the plan it looks for
the run of this sweep whose stored config equals the configuration's (the sweep id tags runs in
the index, :mod:`algolens.store.index`), then:

=========================================  ===============================================
run state                                  action
=========================================  ===============================================
none                                       create the run folder and row; train (``trained``)
completed                                  nothing (``skipped``)
failed                                     reported (``failed``); ``retry_failed`` resumes it
created / running / interrupted            train from scratch, or resume from the last
                                           checkpoint (``trained`` / ``resumed``); a worker
                                           that dies leaves it interrupted (``lost``)
folder finished, index not (driver died)   the folder's summary goes to the index (``recorded``)
another process is training it             reported (``busy``), not touched
=========================================  ===============================================

so running a sweep again after any interruption (Ctrl-C, SIGKILL of the driver, a lost worker)
trains nothing twice beyond the epochs since each run's last checkpoint.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from algolens.errors import AlgolensError, ConfigError
from algolens.fileio import write_json_atomic, write_text_atomic
from algolens.store import RunRecord, RunStore
from algolens.store.reindex import is_locked
from algolens.sweep.executors import (
    EXECUTORS,
    Job,
    default_layout,
    ray_runtime,
    run_local,
    run_ray,
)
from algolens.sweep.spec import Configuration, SweepPlan
from algolens.sweep.summary import sweep_summary
from algolens.train.config import validate_config
from algolens.train.run_group import write_group_file

LogFn = Callable[[str], None]


@dataclass
class Outcome:
    """What happened to one configuration in this invocation."""

    configuration: Configuration
    run_id: str | None  # None: no run yet (sweep_status only)
    action: str  # trained | resumed | skipped | recorded | failed | lost | busy | none
    status: str  # the run's status in the index afterwards
    summary: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    cpu_s: float | None = None  # CPU time of the worker on this run in this invocation


@dataclass(frozen=True)
class ExecutorSettings:
    """How to run the jobs: ``local`` (``workers`` processes x ``threads``; None: one
    single-threaded worker per core) or ``ray`` (``cpus`` per task, ``max_retries``,
    ``address``); ``device``, the device name every worker resolves and trains on
    (:func:`algolens.train.device.resolve_device`; workers are processes, so it travels
    explicitly)."""

    kind: str = "local"
    workers: int | None = None
    threads: int | None = None
    cpus: int = 1
    max_retries: int = 3
    address: str | None = None
    device: str = "cpu"


def run_sweep(
    plan: SweepPlan, store: RunStore, settings: ExecutorSettings | None = None, *,
    retry_failed: bool = False, log: LogFn | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Run (or resume) the sweep ``plan`` in ``store``; returns the sweep summary
    (:func:`algolens.sweep.summary.sweep_summary`).

    Raises:
        ConfigError: an unknown executor.
        ExternalToolError: Ray is missing or unreachable (``ray``).
    """
    settings = settings or ExecutorSettings()
    if settings.kind not in EXECUTORS:
        raise ConfigError(f"unknown executor {settings.kind!r}; use one of {', '.join(EXECUTORS)}")
    runtime = ray_runtime(settings.address) if settings.kind == "ray" else nullcontext()
    with runtime:  # Ray is reached before any run is created
        return _run(plan, store, settings, retry_failed, log or (lambda _msg: None))


def _run(
    plan: SweepPlan, store: RunStore, settings: ExecutorSettings, retry_failed: bool, say: LogFn
) -> dict[str, Any]:
    t0 = time.perf_counter()
    existing = _tagged_runs(store, plan.sweep_id)
    outcomes: dict[int, Outcome] = {}
    jobs: list[Job] = []
    for conf in plan.configurations:
        outcome = _prepare(conf, existing.get(_key(conf.config.to_dict())), plan, store,
                           retry_failed)  # fmt: skip
        outcomes[conf.index] = outcome
        if outcome.action in ("trained", "resumed"):
            run_dir = store.paths(outcome.run_id).root.resolve()  # workers have another cwd
            jobs.append(Job(conf.index, outcome.run_id, str(run_dir)))
        else:
            say(_line(outcome, len(plan.configurations)))
    _save_sweep_file(plan, store)
    for job in jobs:
        store.set_status(job.run_id, "running")
    n = len(plan.configurations)

    def on_done(job: Job, result: dict[str, Any]) -> None:
        outcome = outcomes[job.index]
        outcome.cpu_s = result.get("cpu_s")
        if result.get("ok"):
            outcome.summary = result["summary"]
            outcome.status = "completed"
            store.set_summary(job.run_id, outcome.summary, status="completed")
        elif result.get("lost"):  # the worker died: the next sweep resumes the run
            outcome.error = str(result.get("error"))
            outcome.action, outcome.status = "lost", "interrupted"
            store.set_status(job.run_id, "interrupted")
        else:
            outcome.error = str(result.get("error"))
            outcome.action, outcome.status = "failed", "failed"
            store.set_summary(job.run_id, {"error": outcome.error}, status="failed")
        say(_line(outcome, n))

    try:
        _execute(jobs, on_done, settings)
    except BaseException:
        for job in jobs:  # what was not recorded stops here; the next sweep resumes it
            if outcomes[job.index].status not in ("completed", "failed"):
                outcomes[job.index].status = "interrupted"
                store.set_status(job.run_id, "interrupted")
        raise
    ordered = [outcomes[c.index] for c in plan.configurations]
    return sweep_summary(plan, store, ordered, settings, time.perf_counter() - t0)


def sweep_status(plan: SweepPlan, store: RunStore) -> dict[str, Any]:
    """The summary of ``plan`` from what the store holds now; creates, trains and writes nothing
    (action ``none``; a configuration without a run has status ``pending``)."""
    existing = _tagged_runs(store, plan.sweep_id)
    outcomes = []
    for conf in plan.configurations:
        record = existing.get(_key(conf.config.to_dict()))
        if record is None:
            outcomes.append(Outcome(conf, None, "none", "pending"))
            continue
        error = record.summary.get("error") if record.status == "failed" else None
        outcomes.append(Outcome(conf, record.id, "none", record.status, record.summary, error))
    return sweep_summary(plan, store, outcomes, ExecutorSettings("none"), 0.0)


def _execute(jobs: list[Job], on_done: Callable[[Job, dict], None], s: ExecutorSettings) -> None:
    if s.kind == "ray":
        run_ray(jobs, on_done, cpus=s.cpus, max_retries=s.max_retries, device=s.device)
        return
    workers = s.workers or default_layout(len(jobs))[0]
    threads = s.threads or max(1, (os.cpu_count() or 1) // workers)  # the cores shared out
    run_local(jobs, on_done, workers=workers, threads=threads, device=s.device)


def _tagged_runs(store: RunStore, sweep_id: str) -> dict[str, RunRecord]:
    """This sweep's runs by canonical config (the most advanced one if a config has several)."""
    rank = {"completed": 0, "running": 1, "interrupted": 2, "failed": 3, "created": 4}
    found: dict[str, RunRecord] = {}
    for record in store.list(sweep=sweep_id):
        try:
            key = _key(validate_config(record.config).to_dict())
        except AlgolensError:  # a config an older algolens wrote: not one of this plan's
            continue
        if key not in found or rank[record.status] < rank[found[key].status]:
            found[key] = record
    return found


def _key(config: dict[str, Any]) -> str:
    return json.dumps(config, sort_keys=True)


def _prepare(
    conf: Configuration, record: RunRecord | None, plan: SweepPlan, store: RunStore,
    retry_failed: bool,
) -> Outcome:  # fmt: skip
    """The outcome so far of one configuration: a new run, or what its stored run needs."""
    if record is None:
        run_id = _create(conf, plan, store)
        return Outcome(conf, run_id, "trained", "created")
    paths = store.paths(record.id)
    if record.status == "completed":
        return Outcome(conf, record.id, "skipped", "completed", record.summary)
    if is_locked(paths.lock):
        return Outcome(conf, record.id, "busy", record.status,
                       error=f"run {record.id} is being trained by another process")  # fmt: skip
    if paths.final.is_file() and paths.summary.is_file():
        summary = json.loads(paths.summary.read_text())
        store.set_summary(record.id, summary, status="completed")
        return Outcome(conf, record.id, "recorded", "completed", summary)
    if record.status == "failed" and not retry_failed:
        error = record.summary.get("error", "failed")
        return Outcome(conf, record.id, "failed", "failed", error=str(error))
    has_checkpoint = any(paths.checkpoints.glob("epoch_*.safetensors"))
    return Outcome(conf, record.id, "resumed" if has_checkpoint else "trained", record.status)


def _create(conf: Configuration, plan: SweepPlan, store: RunStore) -> str:
    """A new run of the sweep: folder with config, group and sweep tag, and an index row."""
    tag = {"sweep": plan.sweep_id, "index": conf.index, "point": conf.point,
           "file": str(plan.path)}  # fmt: skip

    def prepare(folder: Path) -> None:
        if conf.group is not None:
            write_group_file(folder, conf.group, conf.config.group)
        write_json_atomic(folder / "sweep.json", tag)

    return store.create("train", conf.config.to_dict(), prepare=prepare, sweep=plan.sweep_id)


def _save_sweep_file(plan: SweepPlan, store: RunStore) -> None:
    """Keep the sweep's content as ``<store>/sweeps/<id>.json`` (written once)."""
    path = store.folder("sweeps") / f"{plan.sweep_id}.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, json.dumps(plan.content, indent=2, sort_keys=True) + "\n")


def _line(outcome: Outcome, n: int) -> str:
    conf = outcome.configuration
    head = f"[{conf.index + 1}/{n}] {conf.label()}: {outcome.action} (run {outcome.run_id})"
    if outcome.error is not None:
        return f"{head}: {outcome.error}"
    s = outcome.summary
    if "seeds" in s:
        return f"{head}: {s['n_grokked']}/{len(s['seeds'])} seeds grokked in {s['epochs']} epochs"
    return head
