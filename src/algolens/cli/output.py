"""Shared CLI output helpers: JSON to stdout, rich tables to the terminal."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console()


def print_json(obj: Any) -> None:
    """Print ``obj`` as indented JSON on stdout (no rich markup)."""
    print(json.dumps(obj, indent=2))


def print_table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    """Print a rich table with the given column headers."""
    table = Table(title=title)
    for c in columns:
        table.add_column(c)
    for r in rows:
        table.add_row(*(str(x) for x in r))
    console.print(table)
