"""The run store: an SQLite index plus one folder per run.

Layout of a store rooted at ``root``::

    root/index.sqlite                 the index (see :mod:`algolens.store.index`)
    root/runs/<id>/config.json        the run's full config
    root/runs/<id>/metrics.jsonl      one JSON object per evaluated epoch
    root/runs/<id>/checkpoints/       epoch_<8 digits>.safetensors (weights, optimizer, RNG, epoch)
    root/runs/<id>/final.safetensors  the final weights only
    root/runs/<id>/summary.json       the run summary, also stored in the index
    root/runs/<id>/sweep.json         a sweep's run only: {"sweep": <sweep id>, ...} (the index's
                                      ``sweep`` column, kept in the folder for ``runs reindex``)
    root/runs/<id>/analyses/          stored analyses (see :mod:`algolens.analysis.store`)

Run ids and sweep ids follow the patterns of :mod:`algolens.store.ids`; an id that does not (a
crafted index row such as ``../../x``) never becomes a path, and ``runs/``, a run folder and its
sub-folders are never written through a symlink (:meth:`RunStore.paths`).

Nothing is created until the first run: reading a missing store finds no runs. Every file is
written atomically, and creation and removal are ordered so that a crash at any moment loses
nothing the index knows about: :meth:`RunStore.create` builds the folder under a hidden temporary
name, renames it into place, then adds the index row (a crash in between leaves a complete folder
without a row, which ``algolens runs reindex`` recovers); :meth:`RunStore.remove` deletes the row,
then the folder. Hidden names (``runs/.*``) are never runs.
"""

from __future__ import annotations

import errno
import fcntl
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from algolens.errors import StoreError
from algolens.fileio import write_json_atomic
from algolens.store.ids import check_run_id, resolve_prefix
from algolens.store.index import RunIndex, RunRecord

STORE_ENV = "ALGOLENS_STORE"
DEFAULT_STORE = "runs"
RUNS_DIR = "runs"


def default_store_root() -> Path:
    """``$ALGOLENS_STORE`` if set, else ``./runs``.

    Raises:
        StoreError: ``$ALGOLENS_STORE`` is set but empty (it would make the current folder the
            store).
    """
    root = os.environ.get(STORE_ENV, DEFAULT_STORE)
    if not root:
        raise StoreError(
            f"${STORE_ENV} is set but empty; set it to a store folder or unset it (./runs)"
        )
    return Path(root)


READ_ONLY_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})
"""What the file system answers a write it refuses: read-only mount, permissions."""


def read_only_error(root: Path, exc: BaseException) -> StoreError | None:
    """The one-line error for ``exc`` if it is the file system refusing a write under the
    store ``root`` (read-only, or not writable by this user); None for any other error."""
    if not isinstance(exc, OSError) or exc.errno not in READ_ONLY_ERRNOS:
        return None
    name = exc.filename
    if not isinstance(name, str | os.PathLike):
        return None
    top = os.path.abspath(root)
    if os.path.commonpath([top, os.path.abspath(name)]) != top:
        return None
    return StoreError(
        f"cannot write {os.fspath(name)} ({exc.strerror or exc}): the run store {root} is "
        "read-only or not writable by you; choose a writable one with --store"
    )


def _check_entries(folder: Path) -> None:
    """Refuse a run folder holding a link, FIFO, socket or device where its files belong: reading
    one would leave the store or block forever (a FIFO as ``config.json``). One ``scandir``, no
    ``stat`` per entry; sub-folders are allowed (``checkpoints/``, ``analyses/``).

    Raises:
        StoreError: naming the first such entry.
    """
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as exc:
        raise StoreError(f"cannot read {folder}: {exc.strerror or exc}") from None
    for entry in entries:
        if entry.is_symlink() or not (
            entry.is_file(follow_symlinks=False) or entry.is_dir(follow_symlinks=False)
        ):
            kind = "a symlink" if entry.is_symlink() else "not a regular file"
            raise StoreError(
                f"{entry.path} is {kind}; a run folder holds only regular files and folders "
                "written by algolens: remove it (or restore the file it replaced)"
            )


@dataclass(frozen=True)
class RunPaths:
    """Paths inside one run folder."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.jsonl"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def final(self) -> Path:
        return self.root / "final.safetensors"

    @property
    def summary(self) -> Path:
        return self.root / "summary.json"

    @property
    def sweep(self) -> Path:
        return self.root / "sweep.json"

    @property
    def analyses(self) -> Path:
        return self.root / "analyses"

    @property
    def lock(self) -> Path:
        return self.root / ".lock"


class RunStore:
    """A folder of runs with its index.

    Args:
        root: the store folder (created by the first :meth:`create`; reading never creates it);
            None: :func:`default_store_root`. An empty string is refused (:class:`StoreError`).

    Examples:
        >>> import tempfile
        >>> store = RunStore(tempfile.mkdtemp())
        >>> run_id = store.create("train", {"lr": 0.001})
        >>> store.get(run_id).status, store.paths(run_id).config.is_file()
        ('created', True)
    """

    def __init__(self, root: str | Path | None = None) -> None:
        if root is not None and not os.fspath(root):
            raise StoreError(
                "--store is empty; give a store folder, or leave --store out for "
                f"${STORE_ENV}, else ./runs"
            )
        self.root = Path(root) if root is not None else default_store_root()
        if self.root.exists() and not self.root.is_dir():
            what = "a file" if self.root.is_file() else "not a folder (a FIFO, socket or device)"
            raise StoreError(f"run store {self.root} is {what}; give a folder with --store")
        self.index = RunIndex(self.root / "index.sqlite")

    def paths(self, run_id: str) -> RunPaths:
        """Paths of the run folder (exact id).

        Raises:
            StoreError: ``run_id`` is not a well-formed run id (e.g. ``../x`` from a crafted
                index row), or ``runs/``, the run folder, or its ``checkpoints/`` or
                ``analyses/`` is a symlink: files are written only into real folders of the
                store, never through a link to somewhere else.
        """
        check_run_id(run_id, f"the run store {self.root}")
        runs = self.root / RUNS_DIR
        paths = RunPaths(runs / run_id)
        for folder in (runs, paths.root, paths.checkpoints, paths.analyses):
            if folder.is_symlink():
                raise StoreError(
                    f"{folder} is a symlink; algolens writes only into real folders of the run "
                    "store, never through a link: replace it by the folder it points to"
                )
        for folder in (paths.root, paths.checkpoints, paths.analyses):
            _check_entries(folder)
        return paths

    def create(
        self, kind: str, config: dict[str, Any], *, prepare: Callable[[Path], None] | None = None,
        sweep: str | None = None,
    ) -> str:  # fmt: skip
        """Make a new run: folder, ``config.json`` and index row. Returns the run id.

        ``prepare(folder)``, if given, writes further files into the folder while it is still
        being built (e.g. the run's ``group.json``), so they exist before the run has a name.
        ``sweep`` tags the index row with a sweep id (the caller writes ``sweep.json`` in
        ``prepare``, see :mod:`algolens.sweep`).

        Ids look like ``20261122-042712-3fa9c1``: UTC time then 6 random hex digits, so they sort by
        creation time and never collide between processes. The folder is complete before it gets
        its name, and removed again if the index row cannot be added.
        """
        runs = self.root / RUNS_DIR
        self.index.check_file()  # before any folder is made for a run the index cannot hold
        for _ in range(5):
            run_id = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)
            paths = self.paths(run_id)
            if paths.root.exists():
                continue
            building = RunPaths(runs / f".{run_id}.creating")
            try:
                building.root.mkdir(parents=True)
                write_json_atomic(building.config, config)
                building.checkpoints.mkdir()
                if prepare is not None:
                    prepare(building.root)
                os.rename(building.root, paths.root)  # the complete folder appears at once
            except BaseException as exc:
                shutil.rmtree(building.root, ignore_errors=True)
                if isinstance(exc, OSError):
                    raise StoreError(
                        f"cannot create a run folder in {runs}: {exc.strerror or exc}; "
                        "choose a writable --store"
                    ) from None
                raise
            try:
                self.index.insert(run_id, kind, config, sweep=sweep)
            except BaseException:
                shutil.rmtree(paths.root, ignore_errors=True)
                raise
            return run_id
        raise StoreError(f"could not allocate a fresh run id in {self.root}")

    def get(self, run_id: str) -> RunRecord:
        """The index row of a run (id or unique prefix)."""
        return self.index.get(run_id)

    def list(self, status: str | None = None, sweep: str | None = None) -> list[RunRecord]:
        """Every run, oldest first (optionally only those with ``status`` and/or of ``sweep``)."""
        return self.index.list(status, sweep)

    def folder(self, name: str) -> Path:
        """``<root>/<name>``, a folder of the store outside ``runs/`` (``sweeps``).

        Raises:
            StoreError: it is a symlink (nothing is written through one).
        """
        folder = self.root / name
        if folder.is_symlink():
            raise StoreError(
                f"{folder} is a symlink; algolens writes only into real folders of the run "
                "store, never through a link: replace it by the folder it points to"
            )
        return folder

    def resolve_sweep(self, sweep: str) -> str:
        """The sweep id of the store's tagged runs equal to or starting with ``sweep``.

        Raises:
            StoreError: empty id, no sweep matches, or the prefix is ambiguous.
        """
        found = resolve_prefix(sweep, self.index.sweeps(), "sweep")
        if found is None:
            raise StoreError(
                f"no sweep {sweep!r} in {self.root}; sweep ids are shown by `algolens sweep "
                "FILE` and `algolens runs show RUN`"
            )
        return found

    def set_status(self, run_id: str, status: str) -> None:
        self.index.update(run_id, status=status)

    def set_summary(self, run_id: str, summary: dict[str, Any], status: str | None = None) -> None:
        """Write ``summary.json`` atomically and copy it into the index."""
        write_json_atomic(self.paths(run_id).summary, summary)
        self.index.update(run_id, status=status, summary=summary)

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Turn a write into the store that the file system refuses (read-only store) into one
        :class:`StoreError` line; every other error passes unchanged."""
        try:
            yield
        except OSError as exc:
            error = read_only_error(self.root, exc)
            if error is None:
                raise
            raise error from None

    @contextmanager
    def lock(self, run_id: str) -> Iterator[None]:
        """Hold the run's exclusive lock (``flock`` on ``<run>/.lock``; the kernel drops it when
        the process dies, even by SIGKILL).

        Raises:
            StoreError: another process holds it (the run is being trained), or the store is
                read-only.
        """
        paths = self.paths(run_id)
        with self.writing():
            fd = os.open(paths.lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise StoreError(
                    f"run {run_id} is being trained by another process; wait for it to end"
                ) from None
            yield
        finally:
            os.close(fd)

    def remove(self, run_id: str) -> str:
        """Delete a run's index row, then its folder; returns the exact id removed.

        A crash after the row is gone leaves the folder, which ``algolens runs reindex`` lists
        again; the folder is moved to a hidden name at once, so it never stays half-deleted.

        Raises:
            StoreError: unknown run, or a run being trained right now.
        """
        record = self.get(run_id)
        folder = self.paths(record.id).root
        if not folder.exists():
            self.index.delete(record.id)
            return record.id
        trash = folder.with_name(f".{record.id}.removing")
        with self.lock(record.id):
            self.index.delete(record.id)
            try:
                os.replace(folder, trash)  # atomic: the run vanishes at once
            except OSError as exc:
                raise StoreError(
                    f"run {record.id} left the index but its folder {folder} could not be "
                    f"removed ({exc.strerror or exc}); `algolens runs reindex` lists it again"
                ) from None
        try:
            shutil.rmtree(trash)
        except OSError as exc:
            raise StoreError(
                f"run {record.id} is removed, but deleting {trash} failed ({exc.strerror or exc}); "
                "delete that folder by hand"
            ) from None
        return record.id
