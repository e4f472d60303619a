"""`sigterm_as_interrupt`: SIGTERM stops a long command the way Ctrl-C does.

Inside the block a SIGTERM raises :class:`KeyboardInterrupt` in the main thread, so the run in
progress is recorded as ``interrupted`` and the command prints how to resume it (``train``,
``sweep``, ``reproduce``); the previous handler is put back on leaving. SIGKILL cannot be caught:
it leaves the run ``running``, and it resumes from its last checkpoint all the same.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt inside the ``with`` block (main thread only)."""
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
