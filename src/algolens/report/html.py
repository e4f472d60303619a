"""`HtmlReport`: a small builder for one self-contained HTML page.

Sections are appended in order (headings, paragraphs, tables, plotly figures, circuitsvis views)
and written atomically. plotly.js and circuitsvis' JavaScript bundle are each embedded once,
inline, so the file opens offline. Every text (headings, paragraphs, table cells, link texts and
targets) is HTML-escaped; only :meth:`HtmlReport.trusted_html` appends raw HTML. Tables made with
``sortable=True`` sort by a click on a column header and get a filter box (a small inline script,
:mod:`algolens.report.table_js`).

Examples:
    >>> r = HtmlReport("demo")
    >>> r.heading("Results"); r.table(["x", "y"], [[1, 2]])
    >>> "<table>" in r.render()
    True
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote
from uuid import uuid4

from algolens.fileio import write_text_atomic
from algolens.report.table_js import TABLE_JS

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em;
       color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f3f3f3; }
table.sortable { font-size: 0.9em; }
table.sortable th { cursor: pointer; }
table.sortable th[data-dir="asc"]::after { content: " ▲"; }
table.sortable th[data-dir="desc"]::after { content: " ▼"; }
.note { color: #555; font-size: 0.92em; }
div.wide { overflow-x: auto; }
input.filter { margin-top: 1em; padding: 3px 6px; min-width: 20em; }
"""


HTML_PROPS = frozenset({"tokens"})
"""circuitsvis props whose strings circuitsvis renders as HTML (so we escape them)."""


@dataclass(frozen=True)
class Link:
    """A table cell that links to ``href`` (a relative path, percent-encoded) showing ``text``."""

    text: str
    href: str


class HtmlReport:
    """Collects sections and renders them into one HTML document."""

    def __init__(self, title: str) -> None:
        self.title = title
        self._parts: list[str] = []
        self._plotly_included = False
        self._circuitsvis_included = False
        self._table_js_included = False

    def heading(self, text: str, level: int = 2) -> None:
        self._parts.append(f"<h{level}>{html.escape(text)}</h{level}>")

    def paragraph(self, text: str, *, note: bool = False) -> None:
        cls = ' class="note"' if note else ""
        self._parts.append(f"<p{cls}>{html.escape(text)}</p>")

    def table(self, columns: list[str], rows: list[list[Any]], *, sortable: bool = False) -> None:
        """Append a table; cells are escaped text, numbers right-aligned, :class:`Link` cells
        links. ``sortable``: click a header to sort by it, type in the box above to filter rows."""
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
        body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
        if not sortable:
            self._parts.append(f"<div class='wide'><table><tr>{head}</tr>{body}</table></div>")
            return
        if not self._table_js_included:
            self._parts.append(f"<script>{TABLE_JS}</script>")
            self._table_js_included = True
        self._parts.append(
            "<div class='wide'><input class='filter' type='search' placeholder='filter rows "
            "(all words must appear)'><table class='sortable'>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
        )

    def circuitsvis(self, element: str, **props: Any) -> None:
        """Append a circuitsvis view (e.g. ``"AttentionPatterns"`` with ``tokens`` and
        ``attention`` [head, dest, src]); its JavaScript bundle is inlined once per page, so the
        view renders offline. Props are JSON (numpy arrays as lists), safe inside the script;
        the strings of :data:`HTML_PROPS` are HTML-escaped first, because circuitsvis inserts
        tokens into the page as HTML (a token ``<img onerror=...>`` would run)."""
        if not self._circuitsvis_included:
            self._parts.append(f"<script>{_circuitsvis_js()}</script>")
            self._circuitsvis_included = True
        view = "circuits-vis-" + uuid4().hex[:12]
        plain = {k: _escaped(_plain(v)) if k in HTML_PROPS else _plain(v) for k, v in props.items()}
        data = json.dumps(plain).replace("</", "<\\/")
        self._parts.append(
            f"<div id='{view}' class='circuitsvis' style='margin: 15px 0;'></div>"
            f"<script>CircuitsVis.render('{view}', CircuitsVis.{_identifier(element)}, {data});"
            "</script>"
        )

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


def plot_text(text: str) -> str:
    """``text`` for a plotly title, trace name or tick label, shown literally: plotly reads a
    subset of HTML (``<b>``, ``<a href>``, entities) in these, so user strings are escaped.

    Examples:
        >>> plot_text("<b>S3</b> & C2")
        '&lt;b&gt;S3&lt;/b&gt; &amp; C2'
    """
    return html.escape(text, quote=False)


def _cell(v: Any) -> str:
    if isinstance(v, Link):
        href = html.escape(quote(v.href, safe="/#.-_~"), quote=True)
        return f'<td><a href="{href}">{html.escape(v.text)}</a></td>'
    numeric = isinstance(v, int | float) and not isinstance(v, bool)
    attr = ' class="num"' if numeric else ""
    return f"<td{attr}>{html.escape(_fmt(v))}</td>"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _escaped(v: Any) -> Any:
    """``v`` with every string (nested in lists) HTML-escaped."""
    if isinstance(v, str):
        return html.escape(v)
    if isinstance(v, list):
        return [_escaped(x) for x in v]
    return v


def _identifier(name: str) -> str:
    if not name.isidentifier():
        raise ValueError(f"not a circuitsvis element name: {name!r}")
    return name


def _plain(v: Any) -> Any:
    """``v`` with numpy arrays and torch tensors as nested lists (JSON-serialisable)."""
    if hasattr(v, "tolist"):
        return v.tolist()
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    return v


def _circuitsvis_js() -> str:
    """circuitsvis' bundled JavaScript (defines the global ``CircuitsVis``), closing script tags
    removed as circuitsvis' own local renderer does."""
    import circuitsvis

    path = Path(circuitsvis.__file__).parent / "dist" / "cdn" / "iife.js"
    text = path.read_text(encoding="utf-8").replace("</script>", "")
    return "\n".join(x for x in text.splitlines() if not x.startswith("//# sourceMappingURL"))
