"""User-defined functions from ``FILE.py:NAME``: loading, kinds, and calls under a time limit.

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
first answer and every later answer must have the same kind.

Everything the file does is guarded: loading it, and every call, runs under a wall-clock limit
(``SIGALRM``, so in the main thread of a POSIX process; the limit interrupts Python code, not one
long C call), and an exception, a timeout or an answer of the wrong type becomes one
:class:`UserFunctionError` line naming the input. The file is executed only when a run starts: the
run stores the sampled inputs and answers (:mod:`algolens.tasks.recursion.dataset`) and never
reads the file again.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import signal
import sys
import threading
import time
import typing
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from algolens.errors import ConfigError, SizeLimitError, SpecError
from algolens.tasks.recursion.functions import FUNCTIONS, RecursiveFunction
from algolens.tasks.recursion.tokens import Kind, encode, encode_args, kind_of
from algolens.tasks.recursion.values import B0, B1, Bin, Leaf, Node, Tree, Z

CALL_LIMIT_S = 1.0
"""Default wall-clock limit of one call (and of loading the file)."""
TOTAL_LIMIT_S = 300.0
"""Default wall-clock limit of all calls that build one dataset."""
MAX_FILE_BYTES = 1_000_000
"""Largest function file read."""
MAX_ANSWER_TOKENS = 1024
"""Longest answer (in tokens) a user function may return; longer rows would not fit a model."""
_KIND_OF_HINT = {Bin: "bin", Z: "bin", B0: "bin", B1: "bin", Tree: "tree", Leaf: "tree"}
_KIND_OF_HINT[Node] = "tree"


class UserFunctionError(SpecError):
    """A user function that cannot be loaded, raises, runs too long or returns the wrong type."""


class _Timeout(BaseException):
    """Raised by the alarm; a BaseException so that ``except Exception`` in user code misses it."""


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
    """Execute ``path`` as a module (under ``limit_s``) and return its function ``name``.

    Raises:
        UserFunctionError: a missing or unreadable file, one that fails or loops while loading,
            no callable ``name``, keyword-only or variadic parameters, or annotations that are
            not ``Bin``/``Tree`` (arguments) or ``Bin``/``Tree``/``list[int]`` (answer).
        SizeLimitError: a file over :data:`MAX_FILE_BYTES`.
    """
    where = f"{path}:{name}"
    if not path.is_file():
        raise UserFunctionError(f"function file {str(path)!r} does not exist or is not a file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise SizeLimitError(f"function file {str(path)!r} is over {MAX_FILE_BYTES} bytes")
    mod_name = f"algolens_user_{hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]}"
    mod_spec = importlib.util.spec_from_file_location(mod_name, path)
    if mod_spec is None or mod_spec.loader is None:
        raise UserFunctionError(f"cannot load {str(path)!r} as a Python module")
    module = importlib.util.module_from_spec(mod_spec)
    sys.modules[mod_name] = module  # dataclasses and annotations look the module up here
    try:
        with _time_limit(limit_s):
            mod_spec.loader.exec_module(module)
    except _Timeout:
        raise UserFunctionError(f"loading {str(path)!r} took over {limit_s:g} s") from None
    except (Exception, SystemExit) as exc:
        raise UserFunctionError(
            f"loading {str(path)!r} failed: {_describe(exc, str(path))}"
        ) from None
    fn = getattr(module, name, None)
    if not callable(fn):
        found = sorted(k for k, v in vars(module).items() if inspect.isfunction(v))
        raise UserFunctionError(
            f"{str(path)!r} has no function {name!r}; its functions: {', '.join(found) or 'none'}"
        )
    arg_kinds, out_kind = _kinds(fn, where)
    return RecursiveFunction(where, fn, arg_kinds, out_kind)


def _kinds(fn: Callable[..., object], where: str) -> tuple[tuple[Kind, ...], Kind | None]:
    try:
        sig = inspect.signature(fn)
        hints = typing.get_type_hints(fn)
    except (Exception, SystemExit) as exc:
        raise UserFunctionError(
            f"{where}: cannot read its signature: {_describe(exc, None)}"
        ) from None
    params = list(sig.parameters.values())
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    bad = [p.name for p in params if p.kind not in positional]
    if bad or not params:
        raise UserFunctionError(
            f"{where} must take one or more positional arguments (binary numbers or trees)"
            + (f"; {', '.join(bad)} is keyword-only or variadic" if bad else "")
        )
    kinds: list[Kind] = []
    for p in params:
        hint = hints.get(p.name)
        kind = "bin" if hint is None else _KIND_OF_HINT.get(hint)
        if kind is None:
            raise UserFunctionError(
                f"{where}: argument {p.name!r} is annotated {hint!r}; annotate Bin or Tree"
            )
        kinds.append(kind)  # type: ignore[arg-type]
    ret = hints.get("return")
    if ret is None:
        return tuple(kinds), None
    out = _KIND_OF_HINT.get(ret) or ("labels" if ret in (list[int], list) else None)
    if out is None:
        raise UserFunctionError(
            f"{where}: the answer is annotated {ret!r}; annotate Bin, Tree or list[int]"
        )
    return tuple(kinds), out  # type: ignore[return-value]


def call_all(
    f: RecursiveFunction,
    inputs: Sequence[tuple[object, ...]],
    limit_s: float = CALL_LIMIT_S,
    total_s: float = TOTAL_LIMIT_S,
) -> tuple[list[object], Kind]:
    """The answers of ``f`` on every input, each call under ``limit_s``, all under ``total_s``.

    Returns:
        ``(answers, out_kind)``: one answer per input, and their common kind (``f.out_kind``
        where it is declared, else the first answer's).

    Raises:
        UserFunctionError: a call that raises, runs over its limit, or returns something that is
            not a value of the answer kind; or all calls together running over ``total_s``.
    """
    out_kind: Kind | None = f.out_kind
    answers: list[object] = []
    filename = getattr(getattr(f.fn, "__code__", None), "co_filename", None)
    start = time.monotonic()
    for args in inputs:
        shown = " ".join(encode_args(args))
        try:
            with _time_limit(limit_s):
                answer = f.fn(*args)
        except _Timeout:
            raise UserFunctionError(
                f"{f.name} ran over {limit_s:g} s on input {shown!r} (an endless loop or "
                f"recursion?); fix the function"
            ) from None
        except (Exception, SystemExit) as exc:
            raise UserFunctionError(
                f"{f.name} raised on input {shown!r}: {_describe(exc, filename)}"
            ) from None
        try:
            kind = kind_of(answer)
        except TypeError as exc:
            raise UserFunctionError(
                f"{f.name} returned a wrong value on input {shown!r}: {exc}"
            ) from None
        n_tokens = len(encode(answer))
        if n_tokens > MAX_ANSWER_TOKENS:
            raise UserFunctionError(
                f"{f.name} returned {n_tokens} tokens on input {shown!r}, more than "
                f"{MAX_ANSWER_TOKENS}; return a smaller value"
            )
        if out_kind is None:
            out_kind = kind
        elif kind != out_kind:
            raise UserFunctionError(
                f"{f.name} returned a {kind} on input {shown!r} where a {out_kind} was expected "
                f"(every answer must have one kind)"
            )
        answers.append(answer)
        if time.monotonic() - start > total_s:
            raise UserFunctionError(
                f"{f.name} took over {total_s:g} s for {len(answers)} of {len(inputs)} inputs; "
                f"make it faster or ask for fewer examples"
            )
    return answers, out_kind or "bin"


def _describe(exc: BaseException, filename: str | None) -> str:
    """``Type: message`` on one line, with the last line number in ``filename`` where known."""
    line = ""
    tb = exc.__traceback__
    while tb is not None:
        if filename is not None and tb.tb_frame.f_code.co_filename == filename:
            line = f" (line {tb.tb_lineno})"
        tb = tb.tb_next
    if isinstance(exc, SyntaxError):
        line = f" (line {exc.lineno})"
        text = exc.msg
    else:
        text = str(exc)
    text = " ".join(text.split())
    text = text if len(text) <= 200 else text[:197] + "..."
    return f"{type(exc).__name__}{': ' + text if text else ''}{line}"


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`_Timeout` in this thread after ``seconds`` (and every 50 ms after that, in
    case user code swallows it); restore the previous alarm handler on the way out."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        raise ConfigError(
            "user functions run only in the main thread of a POSIX process (their time limit "
            "uses SIGALRM)"
        )

    def _alarm(signum, frame):  # noqa: ARG001
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.05)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
