"""The ``algolens`` command line (typer). Sub-command groups live in sibling modules.

Library code raises :class:`algolens.errors.AlgolensError`; :func:`main` turns it into one line on
stderr and exit code 2. Every command that prints results accepts ``--json``.
"""

from __future__ import annotations

import sys

from algolens.cli.app import app


def main() -> None:
    """Console-script entry point."""
    from algolens.errors import AlgolensError

    try:
        code = app(standalone_mode=False)
    except AlgolensError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except SystemExit:
        raise
    except Exception as exc:  # click usage errors and aborts
        import click

        if isinstance(exc, click.exceptions.UsageError):
            exc.show()
            sys.exit(2)
        if isinstance(exc, click.exceptions.Abort):
            print("aborted", file=sys.stderr)
            sys.exit(130)
        raise
    if isinstance(code, int) and code != 0:  # e.g. typer's 130 after Ctrl-C
        sys.exit(code)


__all__ = ["app", "main"]
