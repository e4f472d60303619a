"""SQLite index of runs: one row per run, shared safely by several processes.

The file is created by the first write, never by a read: reading a store that does not exist
finds no runs. Reads open the database read-only (``mode=ro``), so listing a store leaves it
byte-for-byte untouched and works on a read-only folder. The database uses SQLite's rollback
journal (a read-only reader of a WAL database would have to create ``-wal``/``-shm`` files) with
a busy timeout, so concurrent writers queue instead of failing with ``database is locked``.
Every statement is its own short transaction.

Schema (table ``runs``)::

    id       TEXT PRIMARY KEY   run id, also the run folder name
    status   TEXT               created | running | completed | failed | interrupted
    kind     TEXT               what produced the run ("train")
    config   TEXT               the run's config as JSON
    created  TEXT               ISO-8601 UTC timestamp
    updated  TEXT               ISO-8601 UTC timestamp
    summary  TEXT               summary metrics as JSON ("{}" until known)
    sweep    TEXT               id of the sweep the run belongs to (NULL: none; see algolens.sweep)

An index written before the ``sweep`` column existed gets it on its next write (``ALTER TABLE``);
read-only, it reads as if every run had no sweep.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shlex
import sqlite3
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from algolens.errors import StoreError
from algolens.store.ids import check_prefix, check_run_id, is_sweep_id, resolve_prefix

STATUSES = ("created", "running", "completed", "failed", "interrupted")
BUSY_TIMEOUT_S = 60.0
SIDE_FILES = ("-journal", "-wal", "-shm")
"""Suffixes of SQLite's files next to the database (rollback journal, and WAL of older stores)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    kind TEXT NOT NULL,
    config TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '{}',
    sweep TEXT
)
"""
_INSERT = (
    "INSERT INTO runs (id, status, kind, config, created, updated, summary, sweep) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_COLUMNS = "id, status, kind, config, created, updated, summary"
"""The columns every index has; ``sweep`` is read only where it exists (:meth:`_columns`)."""


@dataclass(frozen=True)
class RunRecord:
    """One row of the index, with JSON columns decoded."""

    id: str
    status: str
    kind: str
    config: dict[str, Any]
    created: str
    updated: str
    summary: dict[str, Any]
    sweep: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for ``--json`` output."""
        return dict(self.__dict__)


def now_iso() -> str:
    """Current UTC time as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    return iso(datetime.now(UTC))


def iso(t: datetime) -> str:
    """A UTC time in the index's format ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def check_status(status: str) -> None:
    """Raise :class:`StoreError` unless ``status`` is one of :data:`STATUSES`."""
    if status not in STATUSES:
        raise StoreError(f"unknown run status {status!r}; use one of {', '.join(STATUSES)}")


class RunIndex:
    """The ``index.sqlite`` of a run store.

    Args:
        path: database file. Nothing is created until the first write (:meth:`insert`).

    Raises:
        StoreError: (from every method) the file is not a SQLite database, stays locked, or
            cannot be written.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def exists(self) -> bool:
        """Whether the database file exists (a store nobody wrote to has none)."""
        return self.path.is_file()

    def check_file(self) -> None:
        """Refuse an index (or journal) path that is a symlink or exists as something other
        than a regular file: SQLite would write through the link, or block on a FIFO.

        Raises:
            StoreError: saying which path and what to do.
        """
        for path in (self.path, *(Path(f"{self.path}{s}") for s in ("-journal", "-wal", "-shm"))):
            try:
                mode = os.lstat(path).st_mode  # one look: a journal comes and goes meanwhile
            except (FileNotFoundError, NotADirectoryError):
                continue
            if stat.S_ISLNK(mode):
                raise StoreError(
                    f"{path} is a symlink; algolens writes the run index only as a regular file "
                    "of the store: remove the link (`algolens runs reindex` rebuilds the index)"
                )
            if not stat.S_ISREG(mode):
                raise StoreError(
                    f"{path} is not a regular file; remove it (`algolens runs reindex` rebuilds "
                    "the index)"
                )

    @contextmanager
    def _connect(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        """A connection for one statement: read-only for reads; for writes, the file (and its
        folder) is created and the schema ensured."""
        self.check_file()
        if write:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot create run store {self.path.parent}: {exc.strerror or exc}"
                ) from None
        con = self._open(write)
        try:
            if write:
                con.execute("PRAGMA journal_mode = DELETE")  # converts a WAL index of old stores
                con.execute(_SCHEMA)
                if "sweep" not in _column_names(con):  # an index of an older algolens
                    con.execute("ALTER TABLE runs ADD COLUMN sweep TEXT")
            yield con
        except sqlite3.Error as exc:
            raise self._error(exc, write) from None
        finally:
            con.close()

    def _open(self, write: bool) -> sqlite3.Connection:
        """Open the database: ``mode=ro`` for reads; when that fails (a hot journal to roll back,
        or an old WAL index), read-write if the folder is writable, else ``immutable=1`` (nobody
        can be writing a folder that is read-only)."""
        uri = self.path.resolve().as_uri()
        tries = [uri] if write else [f"{uri}?mode=ro"]
        if not write:
            writable = os.access(self.path.parent, os.W_OK)
            tries.append(uri if writable else f"{uri}?mode=ro&immutable=1")
        for k, target in enumerate(tries):
            try:
                con = sqlite3.connect(
                    target, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None
                )
            except sqlite3.Error as exc:
                raise self._error(exc, write) from None
            try:
                con.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
                if not write:  # mode=ro fails only here, at the first read
                    con.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.Error as exc:
                con.close()
                name = getattr(exc, "sqlite_errorname", "")
                retry = name.startswith("SQLITE_READONLY") or name == "SQLITE_CANTOPEN"
                if not (retry and k + 1 < len(tries)):
                    raise self._error(exc, write) from None
            else:
                return con
        raise AssertionError("unreachable: the last try returns or raises")

    def _error(self, exc: sqlite3.Error, write: bool) -> StoreError:
        name = getattr(exc, "sqlite_errorname", "")
        root = self.path.parent
        if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
            return StoreError(
                f"run index {self.path} stays locked ({exc}); wait for other processes and retry"
            )
        if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):
            return StoreError(
                f"run index {self.path} is corrupt ({exc}); rebuild it from the run folders "
                f"with `algolens runs reindex --store {shlex.quote(str(root))}`"
            )
        if write and name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM")):
            return StoreError(
                f"cannot write run index {self.path} ({exc}); the store is read-only, "
                "choose another with --store"
            )
        return StoreError(f"cannot {'write' if write else 'read'} run index {self.path}: {exc}")

    def insert(
        self, run_id: str, kind: str, config: dict[str, Any], status: str = "created",
        sweep: str | None = None,
    ) -> None:  # fmt: skip
        """Add a run row (creating the index if needed), tagged with ``sweep`` if given; raises
        :class:`StoreError` if the id exists."""
        ts = now_iso()
        with self._connect(write=True) as con:
            try:
                con.execute(_INSERT, (run_id, status, kind, _dumps(config), ts, ts, "{}", sweep))
            except sqlite3.IntegrityError:
                raise StoreError(f"run id {run_id!r} already exists in {self.path}") from None

    def update(
        self, run_id: str, *, status: str | None = None, summary: dict[str, Any] | None = None
    ) -> None:
        """Set the status and/or summary of a run and bump ``updated``."""
        if status is not None:
            check_status(status)
        if not self.exists():
            raise StoreError(f"no run {run_id!r} in {self.path}")
        sets, args = ["updated = ?"], [now_iso()]
        if status is not None:
            sets.append("status = ?")
            args.append(status)
        if summary is not None:
            sets.append("summary = ?")
            args.append(_dumps(summary))
        with self._connect(write=True) as con:
            cur = con.execute(f"UPDATE runs SET {', '.join(sets)} WHERE id = ?", (*args, run_id))
            if cur.rowcount == 0:
                raise StoreError(f"no run {run_id!r} in {self.path}")

    def get(self, run_id: str) -> RunRecord:
        """The row of ``run_id``, or of the unique run whose id starts with ``run_id``.

        The prefix must be non-empty and is compared case-sensitively (ids are lower-case).

        Raises:
            StoreError: empty id, no run matches, the prefix is ambiguous, or the matching row's
                id is not a well-formed run id (a damaged or crafted index).
        """
        check_prefix(run_id, "run")
        rows: dict[str, tuple] = {}
        if self.exists():
            with self._connect(write=False) as con:
                cols = _select(con)
                rows = {
                    r[0]: r
                    for r in con.execute(
                        f"SELECT {cols} FROM runs WHERE substr(id, 1, ?) = ? ORDER BY id",
                        (len(run_id), run_id),
                    ).fetchall()
                }
        found = resolve_prefix(run_id, rows, "run")
        if found is None:
            raise StoreError(
                f"no run {run_id!r} in {self.path}; list runs with `algolens runs list`"
            )
        check_run_id(found, f"the index {self.path}")
        record = _record(rows[found])
        if record is None:
            raise StoreError(
                f"the index row of run {found} in {self.path} is damaged (not JSON); rebuild the "
                "index from the run folders with `algolens runs reindex`"
            )
        return record

    def sweeps(self) -> list[str]:
        """The well-formed sweep ids that tag at least one run, sorted (none without an index
        or in an index older than the ``sweep`` column)."""
        if not self.exists():
            return []
        with self._connect(write=False) as con:
            if "sweep" not in _column_names(con):
                return []
            rows = con.execute("SELECT DISTINCT sweep FROM runs WHERE sweep IS NOT NULL")
            return sorted(r[0] for r in rows if is_sweep_id(r[0]))

    def list(self, status: str | None = None, sweep: str | None = None) -> list[RunRecord]:
        """All runs, oldest first (optionally only those with ``status`` and/or of ``sweep``);
        none if the index does not exist."""
        if status is not None:
            check_status(status)
        if not self.exists():
            return []
        where, args = [], []
        if status is not None:
            where.append("status = ?")
            args.append(status)
        with self._connect(write=False) as con:
            cols = _select(con)
            if sweep is not None:
                if "sweep" not in cols:  # an older index: no run belongs to a sweep
                    return []
                where.append("sweep = ?")
                args.append(sweep)
            clause = f" WHERE {' AND '.join(where)}" if where else ""
            rows = con.execute(
                f"SELECT {cols} FROM runs{clause} ORDER BY created, id", args
            ).fetchall()
        return [rec for rec in map(_record, rows) if rec is not None]  # damaged rows left out

    def delete(self, run_id: str) -> None:
        """Remove the row of ``run_id`` (exact id)."""
        if not self.exists():
            return
        with self._connect(write=True) as con:
            con.execute("DELETE FROM runs WHERE id = ?", (run_id,))

    def replace_all(self, records: Iterable[RunRecord]) -> None:
        """Atomically replace the whole index by ``records``.

        The new database is built under a hidden temporary name in the same folder, synced, and
        renamed over ``index.sqlite``; the old file's journal (or WAL) files are removed first so
        that SQLite never pairs them with the new file. A crash leaves the old index or the new
        one. Other processes must not write to the store meanwhile.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.tmp")
        try:
            con = sqlite3.connect(tmp, isolation_level=None)
            try:
                con.execute("PRAGMA journal_mode = DELETE")
                con.execute(_SCHEMA)
                con.execute("BEGIN")
                con.executemany(
                    _INSERT,
                    [(r.id, r.status, r.kind, _dumps(r.config), r.created, r.updated,
                      _dumps(r.summary), r.sweep) for r in records],
                )  # fmt: skip
                con.execute("COMMIT")
            finally:
                con.close()
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            for suffix in SIDE_FILES:
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            os.replace(tmp, self.path)
        except BaseException as exc:
            for suffix in ("", *SIDE_FILES):
                with contextlib.suppress(OSError):
                    Path(f"{tmp}{suffix}").unlink(missing_ok=True)
            if isinstance(exc, sqlite3.Error):  # e.g. a read-only folder: one line
                raise self._error(exc, write=True) from None
            raise
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, sort_keys=True)


def _column_names(con: sqlite3.Connection) -> set[str]:
    return {row[1] for row in con.execute("PRAGMA table_info(runs)")}


def _select(con: sqlite3.Connection) -> str:
    """The column list for reads: :data:`_COLUMNS`, plus ``sweep`` where the index has it."""
    return f"{_COLUMNS}, sweep" if "sweep" in _column_names(con) else _COLUMNS


def _record(row: tuple) -> RunRecord | None:
    """The record of an index row; None for a damaged row (its config or summary not a JSON
    object): listings leave it out and ``runs reindex`` rebuilds it from the run folder."""
    run_id, status, kind, config, created, updated, summary, *rest = row
    try:
        config, summary = json.loads(config), json.loads(summary)
    except (TypeError, ValueError):
        return None
    if not isinstance(config, dict) or not (summary is None or isinstance(summary, dict)):
        return None
    return RunRecord(
        run_id, status, kind, config, created, updated, summary, rest[0] if rest else None
    )
