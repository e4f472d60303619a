"""Typed exceptions. Library code raises these; only the CLI turns them into one-line messages.

Every message says what is wrong and how to fix it, on one line. User data in a message (a
file's text, a prompt, a spec, a key) goes through :func:`quote` (and long lists through
:func:`listed`), so an error never echoes a whole file or a 59 KB prompt.
"""

from collections.abc import Iterable


class AlgolensError(Exception):
    """Base class of every error algolens reports to a user (CLI exit code 2)."""


class AlgolensWarning(UserWarning):
    """Something a user should know that does not stop the work (e.g. a run resumed on another
    device). Library code raises it with :func:`warnings.warn`; the CLI prints it as one
    ``warning:`` line on stderr."""


class SpecError(AlgolensError, ValueError):
    """A group, task or model spec that cannot be parsed or names nothing known."""


class TableError(AlgolensError, ValueError):
    """A Cayley table file that is malformed (not JSON/CSV, not square, entries out of range)."""


class NotAGroupError(AlgolensError, ValueError):
    """A well-formed table that is not a group; the message names one witness."""


class SizeLimitError(AlgolensError, ValueError):
    """An input above a documented size limit."""


class ExternalToolError(AlgolensError, RuntimeError):
    """An optional external program (e.g. GAP) is missing or failed."""


class ConfigError(AlgolensError, ValueError):
    """An invalid configuration value (negative learning rate, bad fraction, unknown name...)."""


class CheckpointError(AlgolensError, ValueError):
    """A checkpoint or run folder that is truncated, foreign, or for another task."""


class StoreError(AlgolensError, RuntimeError):
    """A run store problem: unknown run id, locked or corrupt index."""


class DestinationError(AlgolensError, ValueError):
    """A user-named output file that must not be written: a device, FIFO, socket, symlink or
    folder, a missing folder, or a place inside a run store's ``runs/``."""


QUOTE_LIMIT = 40
"""Most characters of user data (a file's text, a prompt, a spec) an error message shows."""


def quote(value: object, limit: int = QUOTE_LIMIT, *, bare: bool = False) -> str:
    """``value`` as an error message shows user data: repr-escaped and cut to ``limit`` characters.

    A string is shown as its ``repr`` (quotes, ``\\n``, ``\\x00`` and other escapes, so it stays
    on one line and shows what is there); another value as its ``repr``. A longer text is cut to
    about ``limit`` characters, followed by ``…`` and its full length, so an error never echoes a
    whole file, environment block or 10 000-edge prompt. With ``bare``, a printable string that
    fits is shown as it is, without quotes (for names: a group's, a file's).

    Examples:
        >>> quote("S5")
        "'S5'"
        >>> quote("A=1\\x00B=2")
        "'A=1\\\\x00B=2'"
        >>> quote("x" * 100, limit=8)
        "'xxxxxxx'… (100 characters)"
        >>> quote("S5", bare=True)
        'S5'
        >>> quote([1, 2, 3])
        '[1, 2, 3]'
    """
    if isinstance(value, str):
        if bare and len(value) <= limit and value.isprintable():
            return value
        if len(value) <= limit and len(repr(value)) <= limit + 2:
            return repr(value)
        cut, width = 0, 0
        for ch in value:  # the longest prefix whose escaped form fits in ``limit``
            width += len(repr(ch)) - 2
            if width > limit - 1:
                break
            cut += 1
        return f"{value[:cut]!r}… ({len(value)} characters)"
    try:
        text = repr(value)
    except ValueError:  # an int past sys.get_int_max_str_digits()
        return "an integer too long to print"
    return text if len(text) <= limit else f"{text[: limit - 1]}… ({len(text)} characters)"


def listed(items: Iterable[object], limit: int = 8, sep: str = ", ") -> str:
    """The first ``limit`` of ``items`` (as ``str``; quote user data first) joined by ``sep``,
    then how many there are in all, so a list of 10 000 bad nodes stays one short line.

    Examples:
        >>> listed([1, 2, 3])
        '1, 2, 3'
        >>> listed(range(100), limit=3)
        '0, 1, 2, … (100 in all)'
    """
    seq = list(items)
    shown = sep.join(str(x) for x in seq[:limit])
    return shown if len(seq) <= limit else f"{shown}{sep}… ({len(seq)} in all)"
