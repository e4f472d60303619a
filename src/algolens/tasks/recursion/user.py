"""User-defined functions from ``FILE.py:NAME``: loading, kinds, and calls in a worker process.

A function file is ordinary Python::

    from algolens.tasks.recursion import B0, B1, Z, Bin

    def double(n: Bin) -> Bin:
        match n:
            case Z():
                return Z()
            case _:
                return B0(n)

Arguments are binary numbers unless annotated ``Tree`` (or ``Leaf``/``Node``); ``Bin`` (or
``Z``/``B0``/``B1``) may be written for clarity. The answer is a binary number, a tree, or a list
of labels (``list[int]``, each in ``0..9``); without a return annotation its kind is read from the
first answer and every later answer must have the same kind. A function may declare its
rare-structure feature per argument (:mod:`algolens.tasks.recursion.rarity`; what the ``rare``
split and oversampling draw long tails of) as an attribute, ``double.rare = "trailing_zeros"``
(or a list, one name per argument); without one a number's is ``trailing_ones`` and a tree's
``depth``.

The file never runs in this process. It runs in a worker process
(:mod:`algolens.tasks.recursion.worker`, one per command, started fresh, never forked from this
one) that receives inputs and sends answers as token strings in JSON lines, many inputs per
message. This process enforces the limits by the wall clock: loading the file and each call get
``limit_s``, one dataset's calls together ``total_s``; past a limit the worker's whole process
group is killed (whatever the file did: an endless loop in Python or in C, cancelled alarms,
ignored signals, forks). A call that raises, runs over its limit, ends the worker (``os._exit``,
a crash) or returns a wrong value is one :class:`UserFunctionError` line naming the input; what
the file printed is kept apart from this process's output and shown (its last characters,
escaped) only in such an error. The file is executed only when a run starts: the run stores the
sampled inputs and answers (:mod:`algolens.tasks.recursion.dataset`) and never reads the file
again.
"""

from __future__ import annotations

import atexit
import hashlib
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from algolens.errors import ConfigError, SizeLimitError, SpecError
from algolens.tasks.recursion.functions import FUNCTIONS, RecursiveFunction
from algolens.tasks.recursion.tokens import KINDS, Kind, encode_args, parse
from algolens.tasks.recursion.values import N_LABELS
from algolens.tasks.recursion.worker import MAX_ANSWER_TOKENS, shown_name
from algolens.tasks.recursion.worker_process import WorkerFailed, WorkerProcess

CALL_LIMIT_S = 1.0
"""Default wall-clock limit of one call (and of loading the file)."""
TOTAL_LIMIT_S = 300.0
"""Default wall-clock limit of all calls that build one dataset."""
MAX_FILE_BYTES = 1_000_000
"""Largest function file read."""
BATCH = 1000
"""Inputs sent to the worker in one message."""
__all__ = [
    "CALL_LIMIT_S",
    "MAX_ANSWER_TOKENS",
    "MAX_FILE_BYTES",
    "TOTAL_LIMIT_S",
    "UserFunctionError",
    "call_all",
    "call_tokens",
    "load_user_function",
    "resolve_function",
    "source_sha256",
]


class UserFunctionError(SpecError):
    """A user function that cannot be loaded, raises, runs too long or returns the wrong type."""


class RemoteFunction:
    """A user function loaded in the worker: calling it sends one input there (:func:`call_all`
    sends many at once)."""

    def __init__(self, name: str, worker: WorkerProcess, key: int, kinds: tuple[Kind, ...]):
        self.name, self.worker, self.key, self.arg_kinds = name, worker, key, kinds
        self.__name__ = name.rpartition(":")[2]

    def __call__(self, *args: object) -> object:
        f = RecursiveFunction(self.name, self, self.arg_kinds, None)  # type: ignore[arg-type]
        return call_all(f, [args])[0][0]


_lock = threading.Lock()
_state: dict[str, WorkerProcess | int] = {"next": 0}


def _worker() -> WorkerProcess:
    """This command's worker, started on first use (and again after one was killed)."""
    worker = _state.get("worker")
    if isinstance(worker, WorkerProcess) and worker.alive:
        return worker
    try:
        worker = WorkerProcess()
    except WorkerFailed as exc:
        if exc.what == "refused":
            raise UserFunctionError(exc.detail) from None
        raise UserFunctionError(
            f"cannot start the worker process for user functions ({exc.detail})"
        ) from None
    _state["worker"] = worker
    return worker


def close_worker() -> None:
    """Stop this command's worker (at exit; a later call starts a new one)."""
    worker = _state.pop("worker", None)
    if isinstance(worker, WorkerProcess):
        worker.close()


atexit.register(close_worker)


def resolve_function(spec: str) -> RecursiveFunction:
    """A built-in function by name, or a user function from ``FILE.py:NAME``.

    Raises:
        SpecError: an unknown name, or a spec that is not ``FILE.py:NAME``.
        UserFunctionError: the file cannot be loaded or ``NAME`` is not a usable function.
    """
    if spec in FUNCTIONS:
        return FUNCTIONS[spec]
    path, sep, name = spec.rpartition(":")
    if not sep or not path.endswith(".py") or not name.isidentifier():
        raise SpecError(
            f"function {spec!r} is neither a built-in ({', '.join(FUNCTIONS)}) nor FILE.py:NAME"
        )
    return load_user_function(Path(path), name)


def source_sha256(path: Path) -> str:
    """SHA-256 of a function file's bytes (recorded with a run, never used to re-run it)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_user_function(path: Path, name: str, limit_s: float = CALL_LIMIT_S) -> RecursiveFunction:
    """Execute ``path`` as a module in the worker (under ``limit_s``) and return its function
    ``name``.

    Raises:
        UserFunctionError: a missing or unreadable file, one that fails, loops or ends the worker
            while loading, no callable ``name``, keyword-only or variadic parameters, or
            annotations that are not ``Bin``/``Tree`` (arguments) or ``Bin``/``Tree``/``list[int]``
            (answer), or a ``rare`` attribute that does not name one feature of
            :data:`.rarity.FEATURES` per argument.
        SizeLimitError: a file over :data:`MAX_FILE_BYTES`.
    """
    where = shown_name(path, name)
    if not path.is_file():
        raise UserFunctionError(f"function file {str(path)!r} does not exist or is not a file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise SizeLimitError(f"function file {str(path)!r} is over {MAX_FILE_BYTES} bytes")
    with _lock:
        worker = _worker()
        key = int(_state["next"]) + 1
        _state["next"] = key
        request = {"op": "load", "id": key, "path": str(path), "name": name}
        try:
            deadline = time.monotonic() + limit_s
            worker.send(request, deadline)
            reply = worker.read(deadline)
        except WorkerFailed as exc:
            what = f"took over {limit_s:g} s" if exc.what == "timeout" else _failure(exc)
            printed = _output(worker)
            worker.close()
            raise UserFunctionError(f"loading {str(path)!r} {what}{printed}") from None
    if reply.get("ok") is not True:
        error, printed = reply.get("error"), _output(worker)
        worker.close()  # the file may have left threads or state behind: start afresh
        raise UserFunctionError(
            f"{error}{printed}"
            if isinstance(error, str) and error.isprintable()
            else f"loading {str(path)!r}: the worker process answered nonsense"
        )
    arg_kinds, out_kind = reply.get("arg_kinds"), reply.get("out_kind")
    if (
        not isinstance(arg_kinds, list)
        or not arg_kinds
        or any(k not in ("bin", "tree") for k in arg_kinds)
        or (out_kind is not None and out_kind not in KINDS)
    ):
        worker.close()
        raise UserFunctionError(f"loading {where}: the worker process answered nonsense")
    rare = reply.get("rare")
    if rare is not None and not (isinstance(rare, list) and all(isinstance(r, str) for r in rare)):
        worker.close()
        raise UserFunctionError(f"loading {where}: the worker process answered nonsense")
    fn = RemoteFunction(where, worker, key, tuple(arg_kinds))
    try:
        return RecursiveFunction(where, fn, tuple(arg_kinds), out_kind, rare)
    except ConfigError as exc:
        raise UserFunctionError(f"{where}: {exc}") from None


def call_all(
    f: RecursiveFunction,
    inputs: Sequence[tuple[object, ...]],
    limit_s: float = CALL_LIMIT_S,
    total_s: float = TOTAL_LIMIT_S,
) -> tuple[list[object], Kind]:
    """The answers of ``f`` on every input, each call under ``limit_s``, all under ``total_s``.

    A user function (loaded by :func:`load_user_function`) is called in the worker
    (:func:`call_tokens`); any other function (a built-in) is called here.

    Returns:
        ``(answers, out_kind)``: one answer per input, and their common kind (``f.out_kind``
        where it is declared, else the first answer's).

    Raises:
        UserFunctionError: as :func:`call_tokens`.
    """
    if not isinstance(f.fn, RemoteFunction):
        return [f.fn(*args) for args in inputs], f.out_kind or "bin"
    answers, kind = call_tokens(f, inputs, limit_s, total_s)
    return [parse(a, (kind,))[0] for a in answers], kind


def call_tokens(
    f: RecursiveFunction,
    inputs: Sequence[tuple[object, ...]],
    limit_s: float = CALL_LIMIT_S,
    total_s: float = TOTAL_LIMIT_S,
) -> tuple[list[list[str]], Kind]:
    """The answers (as tokens) of the user function ``f`` on every input, called in the worker
    :data:`BATCH` inputs per message, each call under ``limit_s``, all under ``total_s``.

    Returns:
        ``(answers, out_kind)``: one well-formed token list per input, and their common kind
        (``f.out_kind`` where it is declared, else the first answer's).

    Raises:
        UserFunctionError: ``f`` is not a loaded user function; a call that raises, runs over its
            limit, ends the worker, or returns something that is not a value of the answer
            kind; or all calls together running over ``total_s``. The worker is stopped.
    """
    remote = f.fn
    if not isinstance(remote, RemoteFunction):
        raise UserFunctionError(f"{f.name} is not a user function loaded from FILE.py:NAME")
    out_kind: Kind | None = f.out_kind
    answers: list[list[str]] = []
    start = time.monotonic()
    with _lock:
        worker = remote.worker
        if not worker.alive:
            raise UserFunctionError(
                f"{f.name} cannot be called: its worker process was stopped after an earlier "
                f"error; load the function again"
            )
        try:
            for lo in range(0, len(inputs), BATCH):
                texts = [" ".join(encode_args(args)) for args in inputs[lo : lo + BATCH]]
                now = time.monotonic()
                worker.send({"op": "call", "id": remote.key, "inputs": texts}, now + limit_s)
                for i, shown in enumerate(texts):
                    try:
                        deadline = min(time.monotonic() + limit_s, start + total_s)
                        reply = worker.read(deadline)
                        answer, out_kind = _answer(f.name, reply, i, shown, out_kind)
                    except WorkerFailed as exc:
                        if exc.what == "timeout" and time.monotonic() >= start + total_s:
                            raise UserFunctionError(
                                f"{f.name} took over {total_s:g} s for {len(answers)} of "
                                f"{len(inputs)} inputs; make it faster or ask for fewer examples"
                            ) from None
                        raise _call_failed(f.name, exc, shown, limit_s) from None
                    answers.append(answer)
        except UserFunctionError as exc:
            printed = _output(worker)
            worker.close()  # it may be mid-batch or running still: never reuse it
            raise UserFunctionError(f"{exc}{printed}") from None
    return answers, out_kind or "bin"


def _call_failed(name: str, exc: WorkerFailed, shown: str, limit_s: float) -> UserFunctionError:
    """The error of a call on input ``shown`` that the worker did not answer properly."""
    if exc.what == "timeout":
        return UserFunctionError(
            f"{name} ran over {limit_s:g} s on input {shown!r} (an endless loop or recursion?); "
            f"fix the function"
        )
    return UserFunctionError(f"{name} {_failure(exc)} on input {shown!r}")


def _answer(
    name: str, reply: dict[str, object], i: int, shown: str, out_kind: Kind | None
) -> tuple[list[str], Kind]:
    """The tokens of one reply to input ``i`` (shown as ``shown``) and the answers' kind.

    Raises:
        UserFunctionError: the call failed, or answered a value of another kind than
            ``out_kind`` (where it is set).
        WorkerFailed: a reply that does not follow the protocol (``garbled``).
    """
    if reply.get("i") != i:
        raise WorkerFailed("garbled", f"a reply out of order (expected input {i})")
    if isinstance(reply.get("raised"), str):
        raise UserFunctionError(f"{name} raised on input {shown!r}: {reply['raised']}")
    if isinstance(reply.get("wrong"), str):
        raise UserFunctionError(
            f"{name} returned a wrong value on input {shown!r}: {reply['wrong']}"
        )
    n_tokens = reply.get("too_long")
    text, kind = reply.get("answer"), reply.get("kind")
    tokens = text.split() if isinstance(text, str) else []
    if isinstance(text, str):
        n_tokens = len(tokens)
    if isinstance(n_tokens, int) and n_tokens > MAX_ANSWER_TOKENS:
        raise UserFunctionError(
            f"{name} returned {n_tokens} tokens on input {shown!r}, more than "
            f"{MAX_ANSWER_TOKENS}; return a smaller value"
        )
    if not isinstance(text, str) or not _well_formed(tokens, kind):
        raise WorkerFailed("garbled", "a reply with no well-formed answer")
    if out_kind is not None and kind != out_kind:
        raise UserFunctionError(
            f"{name} returned a {kind} on input {shown!r} where a {out_kind} was expected "
            f"(every answer must have one kind)"
        )
    return tokens, kind  # type: ignore[return-value]


_LABEL_TOKENS = frozenset(str(i) for i in range(N_LABELS))


def _well_formed(tokens: list[str], kind: object) -> bool:
    """Whether ``tokens`` write exactly one value of ``kind`` (as :func:`parse` would accept,
    without building the value)."""
    if kind == "labels":
        return all(t in _LABEL_TOKENS for t in tokens)
    if kind == "bin":
        return bool(tokens) and tokens[-1] == "Z" and all(t in ("B0", "B1") for t in tokens[:-1])
    if kind != "tree":
        return False
    need, label = 1, False  # subtrees still to read; whether a label must come next
    for t in tokens:
        if need == 0:
            return False
        if label:
            if t not in _LABEL_TOKENS:
                return False
            label = False
        elif t == "Node":
            need, label = need + 1, True
        elif t == "Leaf":
            need -= 1
        else:
            return False
    return need == 0 and not label


def _failure(exc: WorkerFailed) -> str:
    """What a worker failure other than a timeout means, for a message."""
    if exc.what == "died":
        return f"ended the worker process ({exc.detail}: os._exit, a crash or a kill?)"
    return f"broke the worker process's replies ({exc.detail})"


def _output(worker: WorkerProcess) -> str:
    """``; it printed '...'`` with the end of what the user's code printed, or nothing."""
    tail = worker.output_tail()
    return f"; it printed {tail!r}" if tail else ""
