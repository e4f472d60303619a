"""Self-contained HTML reports (plotly inline, no network needed to view them)."""

from algolens.report.html import HtmlReport

__all__ = ["HtmlReport"]
