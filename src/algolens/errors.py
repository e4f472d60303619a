"""Typed exceptions. Library code raises these; only the CLI turns them into one-line messages.

Every message says what is wrong and how to fix it, on one line.
"""


class AlgolensError(Exception):
    """Base class of every error algolens reports to a user (CLI exit code 2)."""


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
