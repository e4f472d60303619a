"""Shared CLI output helpers: JSON to stdout, rich tables to the terminal."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console()


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
        table.add_column(escape(c))
    for r in rows:
        table.add_row(*(escape(str(x)) for x in r))
    console.print(table)


def print_text(text: str) -> None:
    """Print one line of plain text (rich markup in it is escaped, not interpreted)."""
    console.print(escape(text))
