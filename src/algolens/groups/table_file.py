"""Cayley table files: read ``.json``/``.csv`` tables, export a group to one.

Formats:
    ``.json``  ``{"name": str, "table": [[int, ...], ...], "labels": [str, ...]}`` (name and
               labels optional; labels distinct printable strings, one per element)
    ``.csv``   n rows of n comma-separated integers (no labels); any suffix other than
               ``.json`` is read as CSV

A file is checked against :data:`MAX_TABLE_FILE_BYTES` before it is read. Export writes only
a new file or an existing regular one, in an existing folder (the checks of
:func:`algolens.destination.check_destination`: devices, FIFOs, folders and symlinks are refused),
and the suffix (``.json`` or ``.csv``) chooses the format.

Examples:
    >>> import tempfile, os
    >>> from algolens.groups.catalog import cyclic
    >>> path = os.path.join(tempfile.mkdtemp(), "c3.csv")
    >>> export_table(cyclic(3), path)
    >>> open(path).read()
    '0,1,2\\n1,2,0\\n2,0,1\\n'
    >>> load_table_file(path).order
    3
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from algolens.destination import check_destination
from algolens.errors import SizeLimitError, SpecError, TableError, quote
from algolens.fileio import write_text_atomic
from algolens.groups.group import MAX_ORDER, FiniteGroup
from algolens.jsonread import loads_json
from algolens.textfile import TextFileProblem, read_bounded_text

MAX_TABLE_FILE_BYTES = 12 * MAX_ORDER**2 + 4096 * MAX_ORDER
"""Largest table file read (≈ 325 MB): 12 bytes per entry (the widest entry of an indented JSON
table, ``'      5039,\\n'``) plus 4 KiB per element for its label."""

EXPORT_SUFFIXES = (".json", ".csv")


def load_table_file(path: str | Path) -> FiniteGroup:
    """Read a group from a ``.json`` or ``.csv`` table file (see the module docstring).

    Raises:
        SpecError: the file does not exist.
        SizeLimitError: the file is larger than :data:`MAX_TABLE_FILE_BYTES`.
        TableError: not a regular file, not UTF-8, malformed, empty, or not square.
        NotAGroupError: a well-formed table that is not a group.
    """
    path = Path(path)
    text = _read_bounded(path)
    labels, name = None, path.stem
    if path.suffix.lower() == ".json":
        table, labels, name = _parse_json(path, text, name)
    else:
        table = _parse_csv(path, text)
    if not table:
        raise TableError(f"{path}: the table is empty; a group has at least the identity, [[0]]")
    n = len(table)
    if any(len(r) != n for r in table):
        raise TableError(f"{path}: table is not square ({n} rows, row lengths differ)")
    try:
        arr = np.array(table, dtype=np.int64)
    except OverflowError:
        i, j = next((i, j) for i, r in enumerate(table) for j, x in enumerate(r) if abs(x) >= n)
        raise TableError(
            f"{path}: table[{i}][{j}] = {quote(table[i][j])} is out of range 0..{n - 1}; "
            "entries index elements"
        ) from None
    return FiniteGroup(arr, name=name, labels=labels)


def export_table(group: FiniteGroup, path: str | Path) -> None:
    """Write ``group`` to ``path`` atomically, as JSON or CSV by the suffix.

    JSON holds ``{"name", "order", "identity", "table", "labels"}`` with one table row per line;
    CSV holds the n rows of the table.

    Raises:
        DestinationError: the destination is refused (see
            :func:`algolens.destination.check_destination`).
        SpecError: its suffix is not ``.json``/``.csv``, or it cannot be written.
    """
    target = check_export_destination(path)
    text = _table_json(group) if Path(path).suffix.lower() == ".json" else _table_csv(group)
    try:
        write_text_atomic(target, text)
    except OSError as exc:
        raise SpecError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None


def check_export_destination(path: str | Path) -> Path:
    """The file that exporting to ``path`` would write; nothing is written.

    Call it before building an expensive group, so a bad destination is reported at once.

    Raises:
        DestinationError, SpecError: as :func:`export_table`, for the destination and the suffix.
    """
    target = check_destination(path, what="export destination")
    if Path(path).suffix.lower() not in EXPORT_SUFFIXES:
        raise SpecError(
            f"cannot export to {str(path)!r}: the name must end in .json (table and labels) "
            "or .csv (n rows of n integers)"
        )
    return target


# -- private helpers -------------------------------------------------------------------------


def _read_bounded(path: Path) -> str:
    """The text of a regular file of at most MAX_TABLE_FILE_BYTES, checked before reading."""
    try:
        return read_bounded_text(path, MAX_TABLE_FILE_BYTES)
    except TextFileProblem as problem:
        if problem.reason == "missing":
            raise SpecError(
                f"table file {str(path)!r} does not exist; give a .json or .csv table file "
                "or a built-in name such as S5"
            ) from None
        if problem.reason == "too_large":
            raise SizeLimitError(_too_big(path, problem.size or 0)) from None
        if problem.reason == "not_regular":
            raise TableError(
                f"{path} is {problem.detail}, not a table file; give a regular file"
            ) from None
        if problem.reason == "not_utf8":
            message = f"{path}: not UTF-8 text ({problem.detail}); save it as UTF-8"
            raise TableError(message) from None
        raise TableError(f"cannot read table file {str(path)!r}: {problem.detail}") from None


def _too_big(path: Path, size: int) -> str:
    return (
        f"{path} has {size} bytes, above the limit {MAX_TABLE_FILE_BYTES} "
        f"(MAX_TABLE_FILE_BYTES, enough for order {MAX_ORDER}); is it the right file?"
    )


def _parse_csv(path: Path, text: str) -> list[list[int]]:
    """The rows of integers of a CSV table; a bad cell is named by its place and a short quote
    (never the whole line: the file may be anything, e.g. a process's environment)."""
    try:
        rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    except csv.Error as exc:
        raise TableError(f"{path}: malformed CSV ({exc})") from None
    table = []
    for i, row in enumerate(rows):
        try:
            table.append([int(c) for c in row])
        except ValueError:
            j, cell = next((j, c) for j, c in enumerate(row) if not _is_int(c))
            raise TableError(
                f"{path}: malformed CSV, row {i + 1} column {j + 1} is {quote(cell)}, not an "
                "integer; a CSV table holds n rows of n comma-separated integers"
            ) from None
    return table


def _is_int(cell: str) -> bool:
    try:
        int(cell)
    except ValueError:
        return False
    return True


def _parse_json(path: Path, text: str, name: str) -> tuple[list, Any, str]:
    """``(table, labels, name)`` from the JSON text, with the types checked."""
    try:
        data = loads_json(text)
    except json.JSONDecodeError as exc:
        raise TableError(f"{path}: malformed JSON ({exc.msg} at line {exc.lineno})") from None
    except ValueError as exc:  # e.g. a 5000-digit integer, deep nesting
        raise TableError(f"{path}: unreadable JSON ({str(exc).split(';')[0][:80]})") from None
    if not isinstance(data, dict) or "table" not in data:
        raise TableError(f'{path}: expected a JSON object with key "table" (and optional "labels")')
    table, labels, name = data["table"], data.get("labels"), data.get("name", name)
    if not isinstance(table, list) or not all(isinstance(r, list) for r in table):
        raise TableError(f'{path}: "table" must be a list of rows of integers')
    if any(not isinstance(x, int) or isinstance(x, bool) for r in table for x in r):
        raise TableError(f'{path}: "table" entries must be integers 0..n-1')
    if labels is not None and not isinstance(labels, list):
        raise TableError(f'{path}: "labels" must be a list of strings, one per element')
    if not isinstance(name, str) or not name.isprintable():
        raise TableError(f'{path}: "name" must be a printable string (no newlines or controls)')
    return table, labels, name


def _table_json(group: FiniteGroup) -> str:
    """Indented JSON with one table row per line (≈ 5 bytes per entry for order 5040)."""
    rows = ",\n".join("    [" + ",".join(map(str, r)) + "]" for r in group.table.tolist())
    head = {"name": group.name, "order": group.order, "identity": group.identity}
    fields = [f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in head.items()]
    fields.append('  "table": [\n' + rows + "\n  ]")
    fields.append(f'  "labels": {json.dumps(group.labels)}')
    return "{\n" + ",\n".join(fields) + "\n}\n"


def _table_csv(group: FiniteGroup) -> str:
    """n lines of n comma-separated integers."""
    return "".join(",".join(map(str, r)) + "\n" for r in group.table.tolist())
