"""Run ids and sweep ids: their patterns, and the one rule for ids and prefixes a user gives.

* a run id is ``YYYYMMDD-HHMMSS-xxxxxx`` (UTC time of creation, 6 random lower-case hex digits;
  made by :meth:`algolens.store.RunStore.create`);
* a sweep id is ``sweep-`` and 12 lower-case hex digits (made by
  :func:`algolens.sweep.spec.sweep_id_of`).

Both name files and folders in the store, so an id read from anywhere (the command line, an
index row, a ``sweep.json``) is checked against its pattern before it becomes a path. A user may
give an id or any non-empty unique prefix of one, for run ids and sweep ids alike
(:func:`resolve_prefix`).

Examples:
    >>> is_run_id("20261122-042712-3fa9c1"), is_run_id("../../victim")
    (True, False)
    >>> resolve_prefix("sweep-ab", ["sweep-ab0000000000", "sweep-cd0000000000"], "sweep")
    'sweep-ab0000000000'
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from algolens.errors import StoreError

RUN_ID = re.compile(r"\d{8}-\d{6}-[0-9a-f]{6}")
SWEEP_ID = re.compile(r"sweep-[0-9a-f]{12}")
RUN_ID_FORM = "YYYYMMDD-HHMMSS-xxxxxx"
SWEEP_ID_FORM = "sweep-xxxxxxxxxxxx"


def is_run_id(text: object) -> bool:
    """Whether ``text`` is a well-formed run id."""
    return isinstance(text, str) and RUN_ID.fullmatch(text) is not None


def is_sweep_id(text: object) -> bool:
    """Whether ``text`` is a well-formed sweep id."""
    return isinstance(text, str) and SWEEP_ID.fullmatch(text) is not None


def check_run_id(run_id: str, where: str) -> str:
    """``run_id`` if well-formed; else :class:`StoreError` naming ``where`` it came from."""
    if not is_run_id(run_id):
        raise StoreError(
            f"{where} has the run id {run_id!r}, which is not of the form {RUN_ID_FORM}; "
            "rebuild the index from the run folders with `algolens runs reindex`"
        )
    return run_id


def check_prefix(prefix: str, kind: str) -> None:
    """Refuse an empty id or prefix (``kind``: ``run`` or ``sweep``) in one line."""
    if not prefix:
        raise StoreError(
            f"{kind} id is empty; give a {kind} id or a unique prefix of one "
            "(see `algolens runs list`)"
        )


def resolve_prefix(prefix: str, ids: Iterable[str], kind: str) -> str | None:
    """The one id of ``ids`` equal to or starting with ``prefix`` (None: no match).

    Raises:
        StoreError: ``prefix`` is empty, or more than one id starts with it (the message counts
            them and names the first few).
    """
    check_prefix(prefix, kind)
    matches = sorted({i for i in ids if i.startswith(prefix)})
    if prefix in matches:
        return prefix
    if len(matches) > 1:
        shown = ", ".join(matches[:5]) + (", ..." if len(matches) > 5 else "")
        raise StoreError(
            f"{kind} id prefix {prefix!r} is ambiguous: {len(matches)} {kind}s match ({shown}); "
            "give more of it"
        )
    return matches[0] if matches else None
