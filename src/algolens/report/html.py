"""`HtmlReport`: a small builder for one self-contained HTML page.

Sections are appended in order (headings, paragraphs, tables, plotly figures) and written
atomically. plotly.js is embedded once, inline, so the file opens offline.

Examples:
    >>> r = HtmlReport("demo")
    >>> r.heading("Results"); r.table(["x", "y"], [[1, 2]])
    >>> "<table>" in r.render()
    True
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from algolens.fileio import write_text_atomic

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f3f3f3; }
.note { color: #555; font-size: 0.92em; }
"""


class HtmlReport:
    """Collects sections and renders them into one HTML document."""

    def __init__(self, title: str) -> None:
        self.title = title
        self._parts: list[str] = []
        self._plotly_included = False

    def heading(self, text: str, level: int = 2) -> None:
        self._parts.append(f"<h{level}>{html.escape(text)}</h{level}>")

    def paragraph(self, text: str, *, note: bool = False) -> None:
        cls = ' class="note"' if note else ""
        self._parts.append(f"<p{cls}>{html.escape(text)}</p>")

    def table(self, columns: list[str], rows: list[list[Any]]) -> None:
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
        body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
        self._parts.append(f"<table><tr>{head}</tr>{body}</table>")

    def figure(self, fig: Any) -> None:
        """Append a plotly figure; the first one carries plotly.js inline."""
        self._parts.append(fig.to_html(full_html=False, include_plotlyjs=not self._plotly_included))
        self._plotly_included = True

    def trusted_html(self, fragment: str) -> None:
        """Append HTML produced by our own code (e.g. a circuitsvis view), unescaped.

        Never pass user-supplied text here: labels, names and config values go through
        :meth:`paragraph` and :meth:`table`, which escape them.
        """
        self._parts.append(fragment)

    def render(self) -> str:
        title = html.escape(self.title)
        return (
            f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{title}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{title}</h1>\n"
            + "\n".join(self._parts)
            + "\n</body></html>\n"
        )

    def write(self, path: str | Path) -> Path:
        """Write the page atomically and return its path."""
        write_text_atomic(path, self.render())
        return Path(path)


def _cell(v: Any) -> str:
    numeric = isinstance(v, int | float) and not isinstance(v, bool)
    attr = ' class="num"' if numeric else ""
    return f"<td{attr}>{html.escape(_fmt(v))}</td>"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
