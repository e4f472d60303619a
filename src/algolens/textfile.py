"""Read a small text file the user names (a train config, a sweep file): checked first.

A missing path, a folder, a device (``/dev/zero``), a FIFO or a socket, a file above a size limit
and text that is not UTF-8 each get their own one-line :class:`~algolens.errors.ConfigError`;
nothing is read from a file that is not a regular file, so a device never blocks or fills memory.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from algolens.errors import ConfigError

MAX_TEXT_FILE_BYTES = 1_000_000
"""Default size limit: far above any config or sweep file."""

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
)


def read_text_file(path: str | Path, what: str, limit: int = MAX_TEXT_FILE_BYTES) -> str:
    """The UTF-8 text of the regular file ``path`` of at most ``limit`` bytes.

    Args:
        what: the file's role in messages, e.g. ``"sweep file"``.

    Raises:
        ConfigError: the path does not exist, is not a regular file, is larger than ``limit``,
            cannot be read, or is not UTF-8.
    """
    shown = repr(str(path))
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ConfigError(f"{what} {shown} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {shown}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        kind = next((word for test, word in _KINDS if test(st.st_mode)), "not a regular file")
        raise ConfigError(f"{what} {shown} is {kind}, not a regular file; give a TOML file")
    if st.st_size > limit:
        raise ConfigError(f"{what} {shown} has {st.st_size} bytes, above the limit {limit}")
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)  # bounded even if the file grew after stat
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {shown}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise ConfigError(f"{what} {shown} has more than {limit} bytes, above the limit")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{what} {shown} is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from None
