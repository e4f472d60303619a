"""Report section: progress measures of one seed over its checkpoints, grokking epoch marked.

Input: a stored progress analysis (:func:`algolens.analysis.runs.run_progress`): ``series`` (a
compact metric dict per checkpoint), ``measures`` (learning order and the events memorised →
circuit → generalised, peak Σθ²) and ``grok_epoch`` (from the run summary). Output: a table of
the series, one line of events and a three-panel plotly figure (similarity per irrep; train,
test, restricted and excluded loss; Σθ²) with a dashed vertical line at the grokking epoch.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from algolens.analysis.composition.progress import progress_rows
from algolens.report.html import HtmlReport

LOSSES = ("train_loss", "test_loss", "restricted_loss", "excluded_loss")


def progress_section(report: HtmlReport, progress: dict[str, Any]) -> None:
    """Append the table, the events and the figure of one instance's progress analysis."""
    series, m = progress["series"], progress["measures"]
    labels = [lab for lab in series[-1]["similarity"] if lab != "trivial"]
    report.heading(
        f"Seed {progress['seed']} (instance {progress['instance']}) over training", level=3
    )
    order = ", ".join(f"{lab} @{m['learned_at'][lab]}" for lab in m["learning_order"]) or "none"
    grok = m["grok_epoch"]
    report.paragraph(
        f"Learning order (similarity > 0.05): {order}. Memorised @{m['memorised']}, circuit "
        f"formed @{m['circuit']}, generalised @{m['generalised']}, peak Σθ² @{m['peak_weights']}, "
        + (f"grokking epoch {grok}." if grok is not None else "did not grok.")
    )
    report.figure(progress_figure(progress, labels))
    report.table(
        ["epoch", "train loss", "test loss", "restricted", "excluded", "Σθ²", "logit FVE", "key",
         *labels],
        progress_rows(series, labels),
    )  # fmt: skip


def progress_figure(progress: dict[str, Any], labels: list[str]) -> go.Figure:
    """Similarity, losses and Σθ² against the checkpoint epoch (log x), grok epoch marked."""
    series = progress["series"]
    x = [max(row["epoch"], 1) for row in series]
    fig = make_subplots(
        rows=1, cols=3, subplot_titles=("character similarity", "loss", "sum of squared weights")
    )
    for lab in labels:
        fig.add_trace(go.Scatter(x=x, y=[r["similarity"][lab] for r in series], name=lab), 1, 1)
    for key in LOSSES:
        y = [r["losses"].get(key) for r in series]
        fig.add_trace(go.Scatter(x=x, y=y, name=key.replace("_", " ")), 1, 2)
    fig.add_trace(go.Scatter(x=x, y=[r["sum_sq_weights"] for r in series], name="Σθ²"), 1, 3)
    grok = progress["measures"]["grok_epoch"]
    if grok is not None:  # a vertical segment per panel (a trace: data coordinates on log axes)
        panels = [[r["similarity"][lab] for r in series for lab in labels],
                  [v for r in series for k in LOSSES if (v := r["losses"].get(k))],
                  [r["sum_sq_weights"] for r in series]]  # fmt: skip
        for col, ys in enumerate(panels, start=1):
            lo, hi = (min(ys), max(ys)) if ys else (0.0, 1.0)
            fig.add_trace(
                go.Scatter(
                    x=[max(grok, 1)] * 2, y=[lo, hi], mode="lines", name="grok epoch",
                    line={"dash": "dash", "color": "black"}, showlegend=col == 1,
                    legendgroup="grok",
                ),
                1, col,
            )  # fmt: skip
    fig.update_xaxes(type="log", title="epoch")
    fig.update_yaxes(type="log", row=1, col=2)
    fig.update_layout(height=380, title=f"Progress measures, seed {progress['seed']}")
    return fig
