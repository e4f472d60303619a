"""The worker process that runs users' function files: ``python -m algolens.tasks.recursion.worker
REQ_FD REPLY_FD``.

:mod:`algolens.tasks.recursion.user` starts one per command (a fresh interpreter, never a fork of
the caller) in its own process group; the caller alone enforces the time limits, by killing the
group. The worker reads one JSON request per line from ``REQ_FD`` and writes JSON replies, one per
line, to ``REPLY_FD``; its stdin is empty and its stdout and stderr (what the user's code prints)
go to a pipe the caller keeps apart from the replies. Nothing is pickled.

Requests and replies::

    {"op": "load", "id": 1, "path": "f.py", "name": "f"}
        -> {"ok": true, "arg_kinds": ["bin"], "out_kind": "bin" | null,
            "rare": ["trailing_zeros"] | null}          (the function's ``rare`` attribute)
        |  {"ok": false, "error": "one line"}
    {"op": "call", "id": 1, "inputs": ["B1 Z", ...]}     (token strings of the argument tuples)
        -> one line per input, in order: {"i": 0, "answer": "B0 B1 Z", "kind": "bin"}
           or, at the first failure, {"i": 3, "raised" | "wrong": "one line"} or
           {"i": 3, "too_long": N_TOKENS}, and no more lines

The worker starts by confining itself (:mod:`algolens.tasks.recursion.sandbox`: no file writes,
no programs, no forks, no sockets, no signals to other processes, 2 GiB of address space) and
writing ``{"ready": true}``. A ``fork`` in a user's function fails with ``EPERM``; were one to
succeed, the copy that is not the worker would exit at its first reply, so one call never
answers twice.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import sys
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from algolens.tasks.recursion.sandbox import SandboxUnavailable, confine
from algolens.tasks.recursion.tokens import Kind, encode, kind_of, parse
from algolens.tasks.recursion.values import B0, B1, Bin, Leaf, Node, Tree, Z

MAX_ANSWER_TOKENS = 1024
"""Longest answer (in tokens) a user function may return; longer rows would not fit a model."""
_KIND_OF_HINT: dict[object, Kind] = {Bin: "bin", Z: "bin", B0: "bin", B1: "bin"}
_KIND_OF_HINT |= {Tree: "tree", Leaf: "tree", Node: "tree"}


class _Refused(Exception):
    """A file or function that cannot be used; its message is the one-line reply."""


def load(path: Path, name: str, key: int) -> tuple[Callable[..., object], list[Kind], Kind | None]:
    """Execute ``path`` as a fresh module and return its function ``name`` with its kinds (its
    ``rare`` attribute is read by :func:`rare_names`).

    Raises:
        _Refused: the file fails while loading, has no callable ``name``, or ``name`` has
            keyword-only or variadic parameters or annotations other than Bin/Tree/list[int].
    """
    mod_name = f"algolens_user_{key}"
    mod_spec = importlib.util.spec_from_file_location(mod_name, path)
    if mod_spec is None or mod_spec.loader is None:
        raise _Refused(f"cannot load {str(path)!r} as a Python module")
    module = importlib.util.module_from_spec(mod_spec)
    sys.modules[mod_name] = module  # dataclasses and annotations look the module up here
    try:
        mod_spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        raise _Refused(f"loading {str(path)!r} failed: {describe(exc, str(path))}") from None
    fn = getattr(module, name, None)
    if not callable(fn):
        found = sorted(k for k, v in vars(module).items() if inspect.isfunction(v))
        raise _Refused(
            f"{str(path)!r} has no function {name!r}; its functions: {', '.join(found) or 'none'}"
        )
    arg_kinds, out_kind = kinds(fn, shown_name(path, name))
    return fn, arg_kinds, out_kind


def shown_name(path: Path, name: str) -> str:
    """``FILE.py:NAME`` for a message: as it is when printable, else its ``repr`` (one line, no
    terminal escapes)."""
    where = f"{path}:{name}"
    return where if where.isprintable() else repr(where)


def kinds(fn: Callable[..., object], where: str) -> tuple[list[Kind], Kind | None]:
    """The argument kinds and the declared answer kind (None: undeclared) of ``fn``.

    Raises:
        _Refused: unreadable annotations, no positional parameters, keyword-only or variadic
            ones, or annotations other than Bin/Tree (arguments) and Bin/Tree/list[int] (answer).
    """
    try:
        sig = inspect.signature(fn)
        hints = typing.get_type_hints(fn)
    except (Exception, SystemExit) as exc:
        raise _Refused(f"{where}: cannot read its signature: {describe(exc, None)}") from None
    params = list(sig.parameters.values())
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    bad = [p.name for p in params if p.kind not in positional]
    if bad or not params:
        raise _Refused(
            f"{where} must take one or more positional arguments (binary numbers or trees)"
            + (f"; {', '.join(bad)} is keyword-only or variadic" if bad else "")
        )
    arg_kinds: list[Kind] = []
    for p in params:
        hint = hints.get(p.name)
        kind = "bin" if hint is None else _KIND_OF_HINT.get(hint)
        if kind is None:
            raise _Refused(
                f"{where}: argument {p.name!r} is annotated {hint!r}; annotate Bin or Tree"
            )
        arg_kinds.append(kind)
    ret = hints.get("return")
    if ret is None:
        return arg_kinds, None
    out = _KIND_OF_HINT.get(ret) or ("labels" if ret in (list[int], list) else None)
    if out is None:
        raise _Refused(f"{where}: the answer is annotated {ret!r}; annotate Bin, Tree or list[int]")
    return arg_kinds, out


def rare_names(fn: Callable[..., object], where: str) -> list[str] | None:
    """The function's declared rare-structure features: its ``rare`` attribute, a feature name or
    a list of names, one per argument (None: not declared; the caller checks the names).

    Raises:
        _Refused: ``rare`` is neither a string nor a list or tuple of strings.
    """
    rare = getattr(fn, "rare", None)
    if rare is None:
        return None
    if isinstance(rare, str):
        return [rare]
    if isinstance(rare, (list, tuple)) and all(isinstance(r, str) for r in rare):
        return list(rare)
    raise _Refused(
        f"{where}: its rare attribute must be a feature name or a list of names, got "
        f"{type(rare).__name__}"
    )


def describe(exc: BaseException, filename: str | None) -> str:
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


def answer_line(
    i: int, fn: Callable[..., object], args: tuple[object, ...], filename: str | None
) -> dict[str, Any]:
    """The reply for one call: its answer's tokens and kind, or why it failed."""
    try:
        answer = fn(*args)
    except (Exception, SystemExit) as exc:
        return {"i": i, "raised": describe(exc, filename)}
    try:
        kind = kind_of(answer)
        tokens = encode(answer)
    except (Exception, SystemExit) as exc:  # includes a RecursionError on an absurdly deep value
        return {"i": i, "wrong": " ".join(str(exc).split())[:200] or type(exc).__name__}
    if len(tokens) > MAX_ANSWER_TOKENS:  # the caller refuses it: do not send it all
        return {"i": i, "too_long": len(tokens)}
    return {"i": i, "answer": " ".join(tokens), "kind": kind}


def serve(requests: typing.BinaryIO, reply_fd: int) -> None:
    """Answer requests until end of input (module docstring)."""
    me = os.getpid()
    functions: dict[int, tuple[Callable[..., object], list[Kind], str | None]] = {}

    def send(obj: dict[str, Any]) -> None:
        if os.getpid() != me:  # a fork made inside the user's code: never answer twice
            os._exit(0)
        data = (json.dumps(obj) + "\n").encode()
        while data:
            data = data[os.write(reply_fd, data) :]

    send({"ready": True})
    for raw in requests:
        req = json.loads(raw)
        key = int(req["id"])
        if req["op"] == "load":
            try:
                fn, arg_kinds, out_kind = load(Path(req["path"]), str(req["name"]), key)
                rare = rare_names(fn, shown_name(Path(req["path"]), str(req["name"])))
            except _Refused as exc:
                send({"ok": False, "error": str(exc)})
                continue
            filename = getattr(getattr(fn, "__code__", None), "co_filename", None)
            functions[key] = (fn, arg_kinds, filename)
            send({"ok": True, "arg_kinds": arg_kinds, "out_kind": out_kind, "rare": rare})
        else:
            fn, arg_kinds, filename = functions[key]
            for i, text in enumerate(req["inputs"]):
                reply = answer_line(i, fn, parse(text, arg_kinds), filename)
                send(reply)
                if "answer" not in reply:
                    break


def main(argv: list[str]) -> None:
    """Entry point: ``argv`` is ``[REQ_FD, REPLY_FD]``. The worker confines itself
    (:func:`~algolens.tasks.recursion.sandbox.confine`) before it reads a request; where it
    cannot, its first line is ``{"ready": false, "error": "one line"}`` and it exits."""
    sys.dont_write_bytecode = True  # loading a user's file must not write __pycache__ beside it
    req_fd, reply_fd = int(argv[0]), int(argv[1])
    import algolens.tasks.recursion  # noqa: F401  (what user files import, loaded unconfined)

    try:
        confine()
    except SandboxUnavailable as exc:
        os.write(reply_fd, (json.dumps({"ready": False, "error": str(exc)}) + "\n").encode())
        return
    with os.fdopen(req_fd, "rb") as requests:
        serve(requests, reply_fd)


if __name__ == "__main__":
    main(sys.argv[1:])
