"""The ``algolens`` command line (typer). Sub-command groups live in sibling modules.

Library code raises :class:`algolens.errors.AlgolensError`; :func:`main` turns it into one line on
stderr and exit code 2, and so, as a safety net, any ``OSError`` nothing else reported (a file
that cannot be read or written). A usage error (unknown command or option, a value of the wrong
type or out of range) is one line and exit code 2 too. Every command that prints results accepts
``--json``; ``-h`` is ``--help`` everywhere. A :class:`algolens.errors.AlgolensWarning` is one
``warning:`` line on stderr.
"""

from __future__ import annotations

import sys
import warnings
from typing import TextIO

from algolens.cli.app import app


def main() -> None:
    """Console-script entry point."""
    from algolens.errors import AlgolensError

    try:
        with warnings.catch_warnings():  # restored after the command (main runs in tests too)
            warnings.showwarning = _show_warning
            code = app(standalone_mode=False)
    except AlgolensError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except SystemExit:
        raise
    except OSError as exc:  # a safety net: commands report the errors they expect themselves
        where = f" {exc.filename}" if exc.filename is not None else ""
        print(f"error: cannot access{where}: {exc.strerror or exc}", file=sys.stderr)
        sys.exit(2)
    except Exception as exc:  # usage errors and aborts, raised as typer's (not click's) classes
        code = _usage_error(exc)
        if code is None:
            raise
        sys.exit(code)
    if isinstance(code, int) and code != 0:  # e.g. typer's 130 after Ctrl-C
        sys.exit(code)


_python_showwarning = warnings.showwarning


def _show_warning(
    message: Warning | str, category: type[Warning], filename: str, lineno: int,
    file: TextIO | None = None, line: str | None = None,
) -> None:  # fmt: skip
    """Print an :class:`~algolens.errors.AlgolensWarning` as one ``warning:`` line on stderr;
    any other warning as Python would."""
    from algolens.errors import AlgolensWarning

    if issubclass(category, AlgolensWarning):
        print(f"warning: {message}", file=sys.stderr if file is None else file)
    else:
        _python_showwarning(message, category, filename, lineno, file, line)


def _usage_error(exc: Exception) -> int | None:
    """Print a usage error or an abort in one line and return its exit code (None: not one)."""
    import typer

    if isinstance(exc, _click_classes("NoArgsIsHelpError")):  # `algolens runs`: the help text
        exc.show()
        return 2
    if isinstance(exc, _click_classes("UsageError")):
        message = " ".join(exc.format_message().split())
        ctx = exc.ctx
        hint = f" (see `{ctx.command_path if ctx is not None else 'algolens'} --help`)"
        print(f"error: {message}{hint}", file=sys.stderr)
        return 2
    if isinstance(exc, _click_classes("ClickException")):
        print(f"error: {' '.join(exc.format_message().split())}", file=sys.stderr)
        return exc.exit_code
    if isinstance(exc, (typer.Abort, *_click_classes("Abort"))):  # Ctrl-C or EOF at a prompt
        print("aborted", file=sys.stderr)
        return 130
    return None


def _click_classes(name: str) -> tuple[type, ...]:
    """Click's exception class ``name`` as typer raises it: typer >= 0.24 vendors click as
    ``typer._click``; older typer raises the ``click`` package's classes."""
    import importlib

    found = []
    for module in ("typer._click.exceptions", "click.exceptions"):
        try:
            cls = getattr(importlib.import_module(module), name, None)
        except ImportError:
            continue
        if cls is not None:
            found.append(cls)
    return tuple(found)


__all__ = ["app", "main"]
