"""Read a small text file the user names (a train config, a sweep file, a group table): checked
first.

A missing path, a folder, a device (``/dev/zero``), a FIFO or a socket, a file above a size limit
and text that is not UTF-8 each get their own reason (:class:`TextFileProblem`); nothing is read
from a file that is not a regular file, so a device never blocks or fills memory.
:func:`read_text_file` turns the reason into one :class:`~algolens.errors.ConfigError` line;
other readers (group table files) map it to their own error types.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Literal

from algolens.destination import file_kind
from algolens.errors import ConfigError

MAX_TEXT_FILE_BYTES = 1_000_000
"""Default size limit: far above any config or sweep file."""

Reason = Literal["missing", "unreadable", "not_regular", "too_large", "not_utf8"]


class TextFileProblem(Exception):
    """Why :func:`read_bounded_text` read nothing: ``reason``, and ``detail`` in words (the file
    kind, the OS error, the size or the first bad byte), for the caller's own message."""

    def __init__(self, reason: Reason, detail: str, size: int | None = None) -> None:
        super().__init__(detail)
        self.reason: Reason = reason
        self.detail = detail
        self.size = size


def read_bounded_text(path: str | Path, limit: int) -> str:
    """The UTF-8 text of the regular file ``path`` of at most ``limit`` bytes.

    Raises:
        TextFileProblem: the path does not exist, cannot be read, is not a regular file, has more
            than ``limit`` bytes (``size`` set), or is not UTF-8.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise TextFileProblem("missing", "does not exist") from None
    except OSError as exc:
        raise TextFileProblem("unreadable", str(exc.strerror or exc)) from None
    if not stat.S_ISREG(st.st_mode):
        raise TextFileProblem("not_regular", file_kind(st.st_mode))
    if st.st_size > limit:
        raise TextFileProblem("too_large", f"{st.st_size} bytes", st.st_size)
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)  # bounded even if the file grew after stat
    except OSError as exc:
        raise TextFileProblem("unreadable", str(exc.strerror or exc)) from None
    if len(data) > limit:
        raise TextFileProblem("too_large", f"more than {limit} bytes", len(data))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TextFileProblem("not_utf8", f"byte {exc.start}") from None


def read_text_file(
    path: str | Path, what: str, limit: int = MAX_TEXT_FILE_BYTES, *, expected: str = "a text file"
) -> str:
    """The UTF-8 text of the regular file ``path`` of at most ``limit`` bytes.

    Args:
        what: the file's role in messages, e.g. ``"sweep file"``.
        expected: what to give instead of a file that is not regular, e.g. ``"a TOML file"``.

    Raises:
        ConfigError: the path does not exist, is not a regular file, is larger than ``limit``,
            cannot be read, or is not UTF-8.
    """
    shown = repr(str(path))
    try:
        return read_bounded_text(path, limit)
    except TextFileProblem as problem:
        message = {
            "missing": f"{what} {shown} does not exist",
            "unreadable": f"cannot read {what} {shown}: {problem.detail}",
            "not_regular": f"{what} {shown} is {problem.detail}, not a regular file; give "
            f"{expected}",
            "too_large": f"{what} {shown} has {problem.detail}, above the limit {limit}",
            "not_utf8": f"{what} {shown} is not UTF-8 text ({problem.detail}); save it as UTF-8",
        }[problem.reason]
        raise ConfigError(message) from None
