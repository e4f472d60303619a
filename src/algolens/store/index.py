"""SQLite index of runs: one row per run, shared safely by several processes.

The database runs in WAL mode with a busy timeout, so concurrent writers queue instead of failing
with ``database is locked``. Every statement is its own short transaction.

Schema (table ``runs``)::

    id       TEXT PRIMARY KEY   run id, also the run folder name
    status   TEXT               created | running | completed | failed | interrupted
    kind     TEXT               what produced the run ("train")
    config   TEXT               the run's config as JSON
    created  TEXT               ISO-8601 UTC timestamp
    updated  TEXT               ISO-8601 UTC timestamp
    summary  TEXT               summary metrics as JSON ("{}" until known)
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from algolens.errors import StoreError

STATUSES = ("created", "running", "completed", "failed", "interrupted")
BUSY_TIMEOUT_S = 60.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    kind TEXT NOT NULL,
    config TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '{}'
)
"""


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

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for ``--json`` output."""
        return dict(self.__dict__)


def now_iso() -> str:
    """Current UTC time as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class RunIndex:
    """The ``index.sqlite`` of a run store.

    Args:
        path: database file; created (with its folder) when missing.

    Raises:
        StoreError: the file exists but is not a SQLite database, or stays locked.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.execute(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open run index {self.path}: {exc}") from None
        try:
            con.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            con.execute("PRAGMA journal_mode = WAL")
            con.execute("PRAGMA synchronous = NORMAL")
            yield con
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"run index {self.path} is locked or corrupt ({exc}); "
                "wait for other processes or move the file away"
            ) from None
        finally:
            con.close()

    def insert(
        self, run_id: str, kind: str, config: dict[str, Any], status: str = "created"
    ) -> None:
        """Add a run row; raises :class:`StoreError` if the id exists."""
        ts = now_iso()
        with self._connect() as con:
            try:
                con.execute(
                    "INSERT INTO runs (id, status, kind, config, created, updated, summary) "
                    "VALUES (?, ?, ?, ?, ?, ?, '{}')",
                    (run_id, status, kind, json.dumps(config, sort_keys=True), ts, ts),
                )
            except sqlite3.IntegrityError:
                raise StoreError(f"run id {run_id!r} already exists in {self.path}") from None

    def update(
        self, run_id: str, *, status: str | None = None, summary: dict[str, Any] | None = None
    ) -> None:
        """Set the status and/or summary of a run and bump ``updated``."""
        if status is not None and status not in STATUSES:
            raise StoreError(f"unknown run status {status!r}; use one of {', '.join(STATUSES)}")
        sets, args = ["updated = ?"], [now_iso()]
        if status is not None:
            sets.append("status = ?")
            args.append(status)
        if summary is not None:
            sets.append("summary = ?")
            args.append(json.dumps(summary, sort_keys=True))
        with self._connect() as con:
            cur = con.execute(f"UPDATE runs SET {', '.join(sets)} WHERE id = ?", (*args, run_id))
            if cur.rowcount == 0:
                raise StoreError(f"no run {run_id!r} in {self.path}")

    def get(self, run_id: str) -> RunRecord:
        """The row of ``run_id``, or of the unique run whose id starts with ``run_id``.

        Raises:
            StoreError: no run matches, or the prefix is ambiguous.
        """
        with self._connect() as con:
            row = con.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                pattern = run_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                rows = con.execute(
                    "SELECT * FROM runs WHERE id LIKE ? ESCAPE '\\' ORDER BY id", (pattern + "%",)
                ).fetchall()
                if len(rows) > 1:
                    ids = ", ".join(r[0] for r in rows[:5])
                    raise StoreError(f"run id prefix {run_id!r} is ambiguous: {ids}")
                row = rows[0] if rows else None
        if row is None:
            raise StoreError(
                f"no run {run_id!r} in {self.path}; list runs with `algolens runs list`"
            )
        return _record(row)

    def list(self, status: str | None = None) -> list[RunRecord]:
        """All runs, oldest first (optionally only those with ``status``)."""
        with self._connect() as con:
            if status is None:
                rows = con.execute("SELECT * FROM runs ORDER BY created, id").fetchall()
            else:
                rows = con.execute(
                    "SELECT * FROM runs WHERE status = ? ORDER BY created, id", (status,)
                ).fetchall()
        return [_record(r) for r in rows]

    def delete(self, run_id: str) -> None:
        """Remove the row of ``run_id`` (exact id)."""
        with self._connect() as con:
            con.execute("DELETE FROM runs WHERE id = ?", (run_id,))


def _record(row: tuple) -> RunRecord:
    run_id, status, kind, config, created, updated, summary = row
    return RunRecord(
        run_id, status, kind, json.loads(config), created, updated, json.loads(summary)
    )
