"""The caller's side of the user-function worker (:mod:`algolens.tasks.recursion.worker`): start it,
send JSON requests, read JSON replies under a deadline, and kill it.

The worker is a fresh interpreter (``subprocess``, so ``fork`` + ``exec``: nothing of the caller,
torch included, runs in it) in a session and process group of its own, so one ``SIGKILL`` to the
group ends it and anything the user's code forked. Replies come on a pipe of their own; what the
user's code prints goes to another, drained while waiting and kept only as a short tail for error
messages. The caller never depends on the worker's cooperation: a deadline passed, a closed reply
pipe, a dead process or a malformed reply each raise :class:`WorkerFailed`.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

STARTUP_S = 60.0
"""Longest wait for a new worker's first reply (an interpreter start on a busy machine)."""
MAX_REPLY_BYTES = 1 << 20
"""Longest reply line accepted (an answer is at most 1024 tokens, far below this)."""
OUTPUT_TAIL = 2000
"""Bytes of the user's printed output kept for error messages."""
_TICK_S = 0.1
WORKER_ENV = frozenset(
    ("PATH", "PYTHONPATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR",
     "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "SYSTEMROOT")
)  # fmt: skip
"""The environment variables the worker inherits; every other one (``ALGOLENS_STORE``, tokens,
credentials) stays behind."""
"""How often a wait checks that the worker is still alive (a forked child may hold its pipes)."""


class WorkerFailed(Exception):
    """The worker did not answer as it should.

    Attributes:
        what: ``"timeout"`` (the deadline passed), ``"died"`` (it exited or was killed) or
            ``"garbled"`` (a malformed reply) or ``"refused"`` (it could not confine itself, so
            it runs no user code); :attr:`detail` says more in a few words.
    """

    def __init__(self, what: str, detail: str) -> None:
        super().__init__(f"{what}: {detail}")
        self.what, self.detail = what, detail


class WorkerProcess:
    """One running worker. Not thread-safe: the caller serialises requests."""

    def __init__(self, startup_s: float = STARTUP_S) -> None:
        """Start a worker and wait for its ready line.

        Raises:
            WorkerFailed: it could not start or did not say it is ready within ``startup_s``.
        """
        req_r, self._req_w = os.pipe()
        self._rep_r, rep_w = os.pipe()
        root = str(Path(__file__).resolve().parents[3])  # the folder that holds algolens/
        path = os.environ.get("PYTHONPATH")
        env = {k: v for k, v in os.environ.items() if k in WORKER_ENV}  # no store, no secrets
        env["PYTHONPATH"] = root + (os.pathsep + path if path else "")
        cmd = [
            sys.executable,
            "-P",
            "-u",  # what the user code prints reaches the caller at once, whatever the env says
            "-m",
            "algolens.tasks.recursion.worker",
            str(req_r),
            str(rep_w),
        ]
        try:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=(req_r, rep_w),
                start_new_session=True,  # its own process group: killpg reaches its forks
                env=env,
            )
        except OSError as exc:
            for fd in (self._req_w, self._rep_r):
                os.close(fd)
            raise WorkerFailed("died", f"cannot start {sys.executable}: {exc}") from None
        finally:
            os.close(req_r)  # the worker's ends: only the worker holds them now
            os.close(rep_w)
        assert self._proc.stdout is not None
        self._out = self._proc.stdout.fileno()
        for fd in (self._req_w, self._rep_r, self._out):
            os.set_blocking(fd, False)
        self._buf = bytearray()
        self._tail = bytearray()
        self._closed = False
        try:
            first = self.read(time.monotonic() + startup_s)
            if first.get("ready") is False and isinstance(first.get("error"), str):
                raise WorkerFailed("refused", " ".join(first["error"].split())[:300])
            if first != {"ready": True}:
                raise WorkerFailed("garbled", "its first line was not the ready line")
        except WorkerFailed:
            self.close()
            raise

    @property
    def alive(self) -> bool:
        """Whether the worker can take requests (not closed, not exited)."""
        return not self._closed and self._proc.poll() is None

    def send(self, obj: dict[str, Any], deadline: float) -> None:
        """Write ``obj`` as one JSON line.

        Raises:
            WorkerFailed: the worker is gone, or did not take the line before ``deadline``.
        """
        data = memoryview((json.dumps(obj, separators=(",", ":")) + "\n").encode())
        while data:
            self._drain_output()
            try:
                data = data[os.write(self._req_w, data) :]
                continue
            except BlockingIOError:
                pass
            except (BrokenPipeError, OSError):
                raise WorkerFailed("died", self._exit_status()) from None
            self._wait([], [self._req_w], deadline)

    def read(self, deadline: float) -> dict[str, Any]:
        """The next reply (a JSON object).

        Raises:
            WorkerFailed: ``deadline`` passed first (``timeout``), the worker exited or closed
                its reply pipe (``died``), or the reply is not a JSON object on one line of at
                most :data:`MAX_REPLY_BYTES` (``garbled``).
        """
        while True:
            end = self._buf.find(b"\n")
            if end >= 0:
                line = bytes(self._buf[:end])
                del self._buf[: end + 1]
                try:
                    obj = json.loads(line)
                except (ValueError, RecursionError):
                    raise WorkerFailed("garbled", "a reply that is not JSON") from None
                if not isinstance(obj, dict):
                    raise WorkerFailed("garbled", "a reply that is not a JSON object")
                return obj
            if len(self._buf) > MAX_REPLY_BYTES:
                raise WorkerFailed("garbled", f"a reply over {MAX_REPLY_BYTES} bytes")
            if self._rep_r in self._wait([self._rep_r], [], deadline):
                try:
                    chunk = os.read(self._rep_r, 1 << 16)
                except BlockingIOError:
                    continue
                if not chunk:
                    raise WorkerFailed("died", self._exit_status())
                self._buf += chunk

    def output_tail(self, chars: int = 160) -> str:
        """The end of what the user's code printed (stdout and stderr), escaped onto one line."""
        if not self._closed:
            self._drain_output()
        text = self._tail.decode("utf-8", "replace").strip()
        if len(text) > chars:
            text = "..." + text[-chars:]
        return text.encode("unicode_escape").decode("ascii")

    def close(self) -> None:
        """Kill the worker's whole process group (it holds no state worth a goodbye) and reap it."""
        if self._closed:
            return
        self._closed = True
        try:
            os.killpg(self._proc.pid, signal.SIGKILL)  # the leader is not reaped yet: no reuse
        except (ProcessLookupError, PermissionError):
            pass
        self._proc.wait()
        assert self._proc.stdout is not None
        self._proc.stdout.close()
        for fd in (self._req_w, self._rep_r):
            os.close(fd)

    def _wait(self, readable: list[int], writable: list[int], deadline: float) -> list[int]:
        """Wait until a descriptor of ``readable``/``writable`` is ready, draining the user's
        output meanwhile; the ready ones.

        Raises:
            WorkerFailed: ``deadline`` passed (``timeout``) or the worker exited (``died``).
        """
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise WorkerFailed("timeout", "no reply in time")
            r, w, _ = select.select([*readable, self._out], writable, [], min(left, _TICK_S))
            if self._out in r:
                self._drain_output()
                r.remove(self._out)
            if r or w:
                return r + w
            if self._proc.poll() is not None:  # exited; a fork may still hold its pipes open
                if self._rep_r in readable and select.select([self._rep_r], [], [], 0)[0]:
                    return [self._rep_r]  # it wrote before it went: read that first
                raise WorkerFailed("died", self._exit_status())

    def _drain_output(self) -> None:
        """Read what the user's code printed so far into the tail."""
        while True:
            try:
                chunk = os.read(self._out, 1 << 16)
            except (BlockingIOError, OSError, ValueError):
                return
            if not chunk:
                return
            self._tail += chunk
            del self._tail[:-OUTPUT_TAIL]

    def _exit_status(self) -> str:
        """How the worker ended, in a few words (it is killed first if it has not)."""
        try:
            code = self._proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            self.close()
            return "it closed its reply pipe"
        if code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit code {code}"
