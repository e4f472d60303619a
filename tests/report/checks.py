"""Checks that a run's report.html shows that run's own numbers (not just static text)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest

_ROW = re.compile(r"<tr>(.*?)</tr>", re.S)
_CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)


def table_rows(text: str) -> list[list[str]]:
    """The data rows of every table in the page, as lists of unescaped cell texts."""
    rows = [[html.unescape(c) for c in _CELL.findall(r)] for r in _ROW.findall(text)]
    return [r for r in rows if r]


def plotly_traces(text: str) -> list[dict[str, Any]]:
    """Every trace of every ``Plotly.newPlot(id, traces, ...)`` call in the page."""
    decoder = json.JSONDecoder()
    traces: list[dict[str, Any]] = []
    for m in re.finditer(r"Plotly\.newPlot\(\s*\"[^\"]*\",\s*", text):
        data, _ = decoder.raw_decode(text, m.end())
        traces.extend(data)
    return traces


def assert_report_reflects_run(
    report: Path, run_dir: Path, key_irreps: dict[int, list[str]] | None = None
) -> None:
    """The report of the run in ``run_dir`` names the run, shows each seed's final test accuracy
    from summary.json, plots each seed's test accuracy curve from metrics.jsonl, embeds plotly.js
    exactly once, and (if given) lists each seed's key irreps."""
    text = report.read_text()
    assert text.count("plotly.js v") == 1  # embedded, once
    assert run_dir.name in text  # the run id
    summary = json.loads((run_dir / "summary.json").read_text())
    rows = table_rows(text)
    for s in summary["seeds"]:
        seed_rows = [r for r in rows if r[0] == str(s["seed"])]
        assert any(f"{s['test_acc']:.4g}" in r for r in seed_rows), (s, seed_rows)
    metrics = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    traces = plotly_traces(text)
    for k, s in enumerate(summary["seeds"]):
        curve = [t for t in traces if t.get("name") == f"seed {s['seed']} test" and
                 t.get("yaxis") == "y"]  # fmt: skip
        assert len(curve) == 1, [t.get("name") for t in traces]
        assert curve[0]["y"] == pytest.approx([r["test_acc"][k] for r in metrics], rel=1e-12)
        assert curve[0]["x"] == [max(r["epoch"], 1) for r in metrics]
    for seed, key in (key_irreps or {}).items():
        seed_rows = [r for r in rows if r[0] == str(seed)]
        assert any((", ".join(key) or "none") in r for r in seed_rows), (seed, key, seed_rows)
