"""Report parts every run report shows, whatever its task: config, training table and curves.

* :func:`read_metrics`, :func:`read_metrics_counted` — the rows of ``metrics.jsonl`` (lines that
  are not JSON objects skipped and counted);
* :func:`config_section` — every config field as an escaped two-column table;
* :func:`training_section` — the per-seed summary table and the accuracy/loss curves (per seed,
  train dotted and test solid, the grokking epoch as a dashed vertical on the accuracy panel);
* :func:`group_section` — a composition run's group: name, order and element labels.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import plotly.colors as px_colors
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from algolens.report.html import HtmlReport
from algolens.tasks.fields import foreign_fields
from algolens.tasks.registry import task_of

PALETTE = px_colors.qualitative.Plotly
"""Seed k's curves are drawn in colour ``PALETTE[k % 10]``."""
MAX_LABELS = 120
"""Groups up to this order list every element label; larger ones list the first ones."""


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """Rows of ``metrics.jsonl`` (one per evaluation) that are JSON objects; every other line
    (a torn last line, an edited one) is skipped. See :func:`read_metrics_counted`."""
    return read_metrics_counted(path)[0]


def read_metrics_counted(path: Path) -> tuple[list[dict[str, Any]], int]:
    """``(rows, skipped)``: the JSON-object rows of ``metrics.jsonl`` and the number of other,
    skipped, non-blank lines."""
    rows: list[dict[str, Any]] = []
    skipped = 0
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return rows, 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            row = None
        if isinstance(row, dict):
            rows.append(row)
        else:
            skipped += 1
    return rows, skipped


def _point(row: dict[str, Any], key: str, k: int) -> float | None:
    """Instance ``k``'s value of ``key`` in a metrics row, or None (missing, not a number)."""
    values = row.get(key)
    value = values[k] if isinstance(values, list) and k < len(values) else None
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    return value if ok else None


def split_accuracy(summary: dict[str, Any]) -> str:
    """Greedy exact-match accuracy per named split, mean over the seeds, from a run summary's
    ``splits`` (sequence tasks; blank otherwise).

    Examples:
        >>> split_accuracy({"splits": {"test": {"greedy_acc": [1.0, 0.5]}}})
        'test 0.75'
    """
    splits = summary.get("splits")
    if not isinstance(splits, dict):
        return ""
    parts = []
    for name, s in splits.items():
        acc = s.get("greedy_acc") if isinstance(s, dict) else None
        if acc:
            parts.append(f"{name} {sum(acc) / len(acc):.3g}")
    return ", ".join(parts)


def config_section(report: HtmlReport, config: dict[str, Any]) -> None:
    """A table of the run's config fields (nested values as compact JSON), all escaped; unset
    fields and the fields of other tasks (:func:`~algolens.tasks.fields.foreign_fields`) left
    out."""
    report.heading("Config")
    rows = []
    unused = foreign_fields(task_of(config))
    for key, value in config.items():
        if value is None or key in unused:
            continue
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        rows.append([key, text])
    report.table(["field", "value"], rows)


def training_section(
    report: HtmlReport, summary: dict[str, Any], metrics: list[dict[str, Any]], seeds: list[int],
    skipped: int = 0,
) -> None:  # fmt: skip
    """The per-seed summary table (grokking epoch, final metrics) and the training curves.

    Rows of ``metrics`` without a numeric ``epoch`` are left out of the curves, and a missing
    value (a row without ``train_acc``, say) is a gap; ``skipped`` unreadable lines of
    ``metrics.jsonl`` are mentioned in a note.
    """
    per_seed = [s for s in summary.get("seeds") or [] if isinstance(s, dict)]
    metrics = [r for r in metrics if _point({"e": [r.get("epoch")]}, "e", 0) is not None]
    if not per_seed and not metrics and not skipped:
        return
    report.heading("Training")
    if per_seed:
        report.table(
            ["seed", "grok epoch", "train acc", "test acc", "test loss"],
            [
                [s.get("seed"), s.get("grok_epoch"), s.get("train_acc"), s.get("test_acc"),
                 s.get("test_loss")]
                for s in per_seed
            ],
        )  # fmt: skip
    if skipped:
        report.paragraph(
            f"{skipped} line(s) of metrics.jsonl are not JSON objects and were skipped.", note=True
        )
    if metrics:
        groks = {s.get("seed"): s.get("grok_epoch") for s in per_seed}
        report.figure(training_curves(metrics, seeds, groks))


def training_curves(
    metrics: list[dict[str, Any]], seeds: list[int], groks: dict[int, int | None]
) -> go.Figure:
    """Accuracy and loss per seed over epochs (log axes), grokking epochs marked.

    Traces are named ``seed S train|test`` (the accuracy panel's on ``yaxis`` "y") and
    ``seed S grok`` (x = [grok, grok]). A value a row lacks is a gap (None).
    """
    epochs = [max(r["epoch"], 1) for r in metrics]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("accuracy", "loss"))
    for k, seed in enumerate(seeds):
        colour = PALETTE[k % len(PALETTE)]  # one colour per seed
        for key, dash in (("train", "dot"), ("test", "solid")):
            name = f"seed {seed} {key}"
            for col, what in ((1, "acc"), (2, "loss")):
                y = [_point(r, f"{key}_{what}", k) for r in metrics]
                fig.add_trace(
                    go.Scatter(x=epochs, y=y, name=name, line={"dash": dash, "color": colour},
                               legendgroup=name, showlegend=col == 1),
                    1, col,
                )  # fmt: skip
        g = groks.get(seed)
        if isinstance(g, (int, float)) and not isinstance(g, bool):  # a vertical on the acc panel
            fig.add_trace(
                go.Scatter(x=[max(g, 1)] * 2, y=[0, 1], mode="lines", name=f"seed {seed} grok",
                           line={"dash": "dash", "width": 1, "color": colour},
                           legendgroup=f"seed {seed} test"),
                1, 1,
            )  # fmt: skip
    fig.update_xaxes(type="log", title="epoch")
    fig.update_yaxes(type="log", row=1, col=2)
    fig.update_layout(height=420, title="Training curves (dashed verticals: grokking epochs)")
    return fig


def group_section(report: HtmlReport, name: str, order: int, labels: list[str]) -> None:
    """The group's name, order and element labels (as the run's ``group.json`` stores them)."""
    report.heading(f"Group {name}", level=3)
    shown = labels[:MAX_LABELS]
    more = f" (the first {len(shown)} of {order})" if len(shown) < order else ""
    report.paragraph(f"Order {order}; element labels{more}, as stored in the run's group.json:")
    report.table(["element", "label"], [[i, lab] for i, lab in enumerate(shown)])
