"""Rebuild a store's ``index.sqlite`` from its run folders (``algolens runs reindex``).

The run folders hold everything the index does: ``config.json``, ``summary.json`` and the
checkpoints. A row of the old index is kept when the old index can still be read and the run's
folder exists (so a ``failed`` status survives); every other folder gets a row inferred from its
files:

* status: ``running`` if a process holds the run's lock, ``completed`` if ``summary.json`` and
  ``final.safetensors`` exist, ``interrupted`` if it has a checkpoint, else ``created``;
* created: the time in the run id (``YYYYMMDD-HHMMSS-xxxxxx``), else the folder's mtime;
* updated: the newest mtime among the run's files;
* sweep: the ``sweep`` of ``sweep.json`` (a sweep's run), else none.

Rows without a folder are dropped; hidden folders (``runs/.*``: a run being built or removed),
symlinks, folders whose name is not a run id and folders without a readable ``config.json`` are
not runs (the last two are reported as skipped), and a ``sweep.json`` whose ``sweep`` is not a
sweep id tags nothing. The new index replaces the old one
atomically (:meth:`RunIndex.replace_all`).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from algolens.errors import StoreError
from algolens.store.ids import is_run_id, is_sweep_id
from algolens.store.index import RunRecord, iso
from algolens.store.runs import RunPaths, RunStore

_ID_TIME = re.compile(r"^(\d{8}-\d{6})-")


@dataclass
class ReindexResult:
    """What :func:`reindex` did: run ids per outcome."""

    kept: list[str] = field(default_factory=list)  # rows of the old index, folder present
    recovered: list[str] = field(default_factory=list)  # folders without a (readable) row
    dropped: list[str] = field(default_factory=list)  # old rows whose folder is gone
    skipped: list[str] = field(default_factory=list)  # folders that are not runs

    def to_dict(self) -> dict[str, list[str]]:
        """Plain dict for ``--json`` output."""
        return dict(self.__dict__)


def reindex(store: RunStore) -> ReindexResult:
    """Replace ``store``'s index by one rebuilt from its run folders (see the module docstring).

    Raises:
        StoreError: the store has no ``runs/`` folder, or it is a symlink, or the store is
            read-only.
    """
    runs = store.folder("runs")
    if not runs.is_dir():
        raise StoreError(f"{store.root} has no runs/ folder; there is nothing to reindex")
    try:
        old = {r.id: r for r in store.index.list()}
    except StoreError:  # a corrupt or unreadable index: everything comes from the folders
        old = {}
    result = ReindexResult()
    records = []
    for folder in sorted(runs.iterdir()):
        if folder.name.startswith(".") or folder.is_symlink() or not folder.is_dir():
            continue
        if not is_run_id(folder.name):
            result.skipped.append(folder.name)
            continue
        if folder.name in old:
            records.append(old[folder.name])
            result.kept.append(folder.name)
            continue
        record = record_from_folder(RunPaths(folder))
        if record is None:
            result.skipped.append(folder.name)
        else:
            records.append(record)
            result.recovered.append(folder.name)
    result.dropped = sorted(set(old) - {r.id for r in records})
    with store.writing():
        store.index.replace_all(records)
    return result


def record_from_folder(paths: RunPaths) -> RunRecord | None:
    """The index row a run folder implies, or None if it has no readable ``config.json``."""
    config = _read_json(paths.config)
    if config is None:
        return None
    summary = _read_json(paths.summary)
    if is_locked(paths.lock):
        status = "running"
    elif summary is not None and paths.final.is_file():
        status = "completed"
    elif paths.checkpoints.is_dir() and any(paths.checkpoints.glob("epoch_*.safetensors")):
        status = "interrupted"
    else:
        status = "created"
    files = [p for d in (paths.root, paths.checkpoints) if d.is_dir() for p in d.iterdir()]
    updated = max((p.stat().st_mtime for p in files), default=paths.root.stat().st_mtime)
    return RunRecord(
        id=paths.root.name,
        status=status,
        kind="train",
        config=config,
        created=_created(paths.root),
        updated=iso(datetime.fromtimestamp(updated, UTC)),
        summary=summary or {},
        sweep=_sweep_id(paths.sweep),
    )


def _sweep_id(path: Path) -> str | None:
    tag = _read_json(path)
    sweep = tag.get("sweep") if tag is not None else None
    return sweep if is_sweep_id(sweep) else None


def _created(folder: Path) -> str:
    match = _ID_TIME.match(folder.name)
    if match:
        try:
            return iso(datetime.strptime(match[1], "%Y%m%d-%H%M%S").replace(tzinfo=UTC))
        except ValueError:
            pass
    return iso(datetime.fromtimestamp(folder.stat().st_mtime, UTC))


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        obj = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return obj if isinstance(obj, dict) else None


def is_locked(lock: Path) -> bool:
    """Whether another process holds the run's lock (it is training the run)."""
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
