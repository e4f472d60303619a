"""Quiet, fast failure when `algolens sweep --executor ray --address ...` cannot reach a cluster.

Ray's own connect retries an unreachable address for minutes, printing three C++ warnings per try
on the process's stderr. :func:`check_reachable` tries a plain TCP connection first, so a closed
port or an unknown host is one line at once; :func:`quiet_stderr` keeps Ray's log lines off the
terminal while it connects (the error, if any, is reported by the caller in one line).
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from algolens.errors import ExternalToolError, quote

PROBE_TIMEOUT_S = 5.0
"""How long the TCP check waits for the cluster's port to answer."""


def check_reachable(address: str) -> None:
    """Raise at once when ``address`` (``HOST:PORT`` or ``ray://HOST:PORT``) refuses or does not
    answer a TCP connection within :data:`PROBE_TIMEOUT_S`; ``auto`` is left to Ray.

    Raises:
        ExternalToolError: a malformed address, an unknown host, or a port nobody listens on.
    """
    if address == "auto":
        return
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
        raise ExternalToolError(
            f"--address {quote(address)} is not HOST:PORT (or auto, or ray://HOST:PORT); "
            "give the address `ray start --head` printed"
        )
    try:
        socket.create_connection((host, int(port)), timeout=PROBE_TIMEOUT_S).close()
    except OSError as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise ExternalToolError(
            f"cannot reach the Ray cluster at {quote(address)}: {reason}; start one with "
            "`ray start --head` and pass the address it prints, or use --executor local"
        ) from None


@contextmanager
def quiet_stderr() -> Iterator[None]:
    """Send file descriptor 2 (Ray's C++ core and Python loggers write there) to /dev/null for
    the duration of the block; restored on exit, exceptions and Ctrl-C included."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr to silence
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
