"""What a sweep worker does with one run folder: train it from scratch or resume it.

Workers (local processes or Ray tasks) get the path of a run folder the driver created (with
``config.json``, ``group.json`` and ``sweep.json``) and return a JSON-able result; they never
open the store's SQLite index (:class:`RunFolderStore` stands in for the store). Only the
driver writes the index, from these results.

A worker that dies (SIGKILL, a lost node) leaves the folder with its last checkpoint; the next
attempt (Ray's retry, or the next ``algolens sweep``) resumes from it with the same bits as an
uninterrupted run (:mod:`algolens.train.run`). Each attempt is recorded in ``worker.json``
(attempt number, process id, host, threads, device) inside the run folder.
"""

from __future__ import annotations

import json
import os
import socket
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from algolens.errors import AlgolensError, CheckpointError, StoreError
from algolens.fileio import write_json_atomic
from algolens.store import RunRecord, RunStore
from algolens.store.index import now_iso
from algolens.store.reindex import record_from_folder

WORKER_FILE = "worker.json"


class RunFolderStore(RunStore):
    """The run store as a worker sees it: one pre-created run folder, never the index.

    ``create`` hands back the folder the driver made (after checking that the config to train is
    the one stored in it), ``get`` reads the run's state from its files, status changes are the
    driver's business, and ``set_summary`` writes only ``summary.json``.

    Args:
        run_dir: the run folder ``<store>/runs/<id>``.
    """

    def __init__(self, run_dir: str | Path) -> None:
        run_dir = Path(run_dir)
        super().__init__(run_dir.parent.parent)
        self.run_id = run_dir.name

    def create(
        self, kind: str, config: dict[str, Any], *, prepare: Callable[[Path], None] | None = None,
        sweep: str | None = None,
    ) -> str:  # fmt: skip
        paths = self.paths(self.run_id)
        stored = json.loads(paths.config.read_text())
        if stored != config:
            raise CheckpointError(
                f"run folder {paths.root} holds another config than the one to train; the sweep "
                "planned it differently: remove the run (`algolens runs rm`) and sweep again"
            )
        if prepare is not None:
            prepare(paths.root)
        return self.run_id

    def get(self, run_id: str) -> RunRecord:
        record = record_from_folder(self.paths(run_id))
        if run_id != self.run_id or record is None:
            raise StoreError(f"run folder {self.paths(run_id).root} has no readable config.json")
        return record

    def list(self, status: str | None = None, sweep: str | None = None) -> list[RunRecord]:
        raise StoreError("a sweep worker does not read the run index")

    def set_status(self, run_id: str, status: str) -> None:
        """Nothing: the driver records statuses in the index."""

    def set_summary(self, run_id: str, summary: dict[str, Any], status: str | None = None) -> None:
        """Write ``summary.json`` only (the driver copies it into the index)."""
        write_json_atomic(self.paths(run_id).summary, summary)


def train_folder(run_dir: str | Path, threads: int, device: str = "cpu") -> dict[str, Any]:
    """Train or resume the run in ``run_dir`` with ``threads`` torch threads on ``device`` (a
    name, resolved here: the driver's current device does not cross into this process); its
    summary.

    A folder that already holds ``final.safetensors`` and ``summary.json`` (finished by an
    earlier attempt whose result never reached the driver) returns the stored summary.

    Raises:
        StoreError: another process is training the run.
        CheckpointError, ConfigError: a damaged folder (as ``algolens train --resume``); a
            device this process cannot use.
    """
    import torch

    from algolens.tasks.traits import has_trait
    from algolens.train.checkpoint import latest_checkpoint
    from algolens.train.config import validate_config
    from algolens.train.device import device_label, resolve_device, using_device
    from algolens.train.run import resume_run, start_run
    from algolens.train.run_group import read_group_file

    torch.set_num_threads(threads)
    store = RunFolderStore(run_dir)
    paths = store.paths(store.run_id)
    if paths.final.is_file() and paths.summary.is_file():
        return json.loads(paths.summary.read_text())
    dev = resolve_device(device)
    _note_attempt(paths.root, threads, device_label(dev))
    with using_device(dev):
        if latest_checkpoint(paths.checkpoints) is not None:
            return resume_run(store, store.run_id)
        config = validate_config(json.loads(paths.config.read_text()))
        group = None
        if has_trait(config.task, "group"):
            group = read_group_file(paths.root, config.group_sha256)
        with store.lock(store.run_id):  # nobody else may be starting it; start_run locks again
            paths.metrics.unlink(missing_ok=True)  # rows of an attempt killed before a checkpoint
        return start_run(config, store, group=group)


def run_job(run_dir: str, threads: int, device: str = "cpu") -> dict[str, Any]:
    """:func:`train_folder` as a job result: ``{"ok": True, "summary": ..., "cpu_s": ...}`` or
    ``{"ok": False, "error": "one line", "cpu_s": ...}`` (plain JSON-able values, whatever the
    executor ships back); ``cpu_s`` is the CPU time of the worker process (all its threads)
    spent on this job."""
    cpu0 = time.process_time()
    try:
        result: dict[str, Any] = {"ok": True, "summary": train_folder(run_dir, threads, device)}
    except AlgolensError as exc:
        result = {"ok": False, "error": str(exc)}
    except Exception as exc:  # a bug or a numerical failure: keep the last frame for the report
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{Path(frame.filename).name}:{frame.lineno}"
        result = {"ok": False, "error": f"{type(exc).__name__} at {where}: {exc}"}
    result["cpu_s"] = round(time.process_time() - cpu0, 3)
    return result


def _note_attempt(folder: Path, threads: int, device: str) -> None:
    """Write ``worker.json``: which attempt this is, the process and host running it, its
    threads and device (:func:`algolens.train.device.device_label`)."""
    path = folder / WORKER_FILE
    try:
        attempt = int(json.loads(path.read_text()).get("attempt", 0)) + 1
    except (OSError, ValueError, AttributeError):
        attempt = 1
    info = {"attempt": attempt, "pid": os.getpid(), "host": socket.gethostname(),
            "threads": threads, "device": device, "started": now_iso()}  # fmt: skip
    write_json_atomic(path, info)


def attempts(folder: str | Path) -> int:
    """How many attempts have trained the run in ``folder`` (0: none yet)."""
    try:
        return int(json.loads((Path(folder) / WORKER_FILE).read_text()).get("attempt", 0))
    except (OSError, ValueError, AttributeError):
        return 0
