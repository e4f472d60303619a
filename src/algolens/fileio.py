"""Atomic file writes: write to a temporary file in the same folder, fsync, rename.

A reader never sees a half-written file, and a crash leaves either the old file or the new one.
The temporary file is created with mode ``0o666`` and the kernel applies the process umask, so
the result has the usual permissions and the umask itself is never touched (``os.umask`` sets a
process-wide value: reading it by setting it races with every other thread creating files).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

_TMP_TRIES = 100


def atomic_write(path: str | os.PathLike, write: Callable[[str], None]) -> None:
    """Call ``write(tmp_path)`` then atomically move ``tmp_path`` to ``path``.

    ``write`` receives the path of an empty temporary file (``.<name>.<hex>.tmp``) in the
    destination folder and fills it (opening it for writing truncates it and keeps its mode).
    On any exception the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _create_temporary(path)
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _create_temporary(path: Path) -> str:
    """Create a fresh empty file next to ``path`` (mode 0o666 minus the umask); return its path."""
    for _ in range(_TMP_TRIES):
        tmp = str(path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp"))
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise FileExistsError(f"could not create a temporary file next to {path}")


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Atomically replace ``path`` with ``data``."""

    def _write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            fh.write(data)

    atomic_write(path, _write)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Atomically replace ``path`` with UTF-8 ``text``."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    """Atomically write ``obj`` as indented JSON (keys in insertion order, trailing newline)."""
    write_text_atomic(path, json.dumps(obj, indent=2) + "\n")
