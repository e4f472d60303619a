"""Shared CLI output helpers: JSON to stdout, rich tables to the terminal."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console, ConsoleDimensions
from rich.markup import escape
from rich.status import Status
from rich.table import Table

PIPE_WIDTH = 10_000
"""Width of stdout when it is not a terminal: tables and lines keep every character in a pipe."""


class _OutputConsole(Console):
    """The stdout console: the terminal's width on a terminal; :data:`PIPE_WIDTH` when stdout is
    a pipe or a file (rich would otherwise take a narrow terminal's width, or 80 columns, and cut
    run ids to ``2026…``)."""

    @property
    def size(self) -> ConsoleDimensions:
        size = Console.size.fget(self)  # type: ignore[attr-defined]
        if not self.is_terminal:  # COLUMNS describes a terminal, not this pipe
            return ConsoleDimensions(PIPE_WIDTH, size.height)
        return size

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]


console = _OutputConsole()
progress_console = Console(stderr=True)
"""Progress bars and spinners: on stderr, so stdout holds only results (JSON stays valid)."""


def status(text: str) -> Status:
    """A spinner with ``text`` (plain text, markup escaped) on stderr while a block runs."""
    return progress_console.status(escape(text), spinner="dots")


def print_json(obj: Any) -> None:
    """Print ``obj`` as indented JSON on stdout (no rich markup)."""
    print(json.dumps(obj, indent=2))


def print_table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    """Print a rich table with the given column headers.

    Title, headers and cells are plain text: rich markup in them (``[bold]``, ``[/oops]``, e.g.
    from a user's group name or labels) is escaped and printed as written.
    """
    table = Table(title=escape(title))
    for c in columns:
        table.add_column(escape(c), overflow="fold")  # a narrow terminal wraps, never cuts
    for r in rows:
        table.add_row(*(escape(str(x)) for x in r))
    console.print(table)


def print_text(text: str) -> None:
    """Print one line of plain text (rich markup in it is escaped, not interpreted)."""
    console.print(escape(text))
