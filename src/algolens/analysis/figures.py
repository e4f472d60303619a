"""Plotly figures of the progress measures and the universality tallies, for reports.

Pure functions from the stored analysis dicts (:mod:`algolens.analysis.runs`) to figures; the
HTML report embeds them (:mod:`algolens.report`).
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from algolens.analysis.irreps import KEY_SIMILARITY, LEARNED_SIMILARITY
from algolens.analysis.universality import PAPER_S5_MLP

LOSSES = ("train_loss", "test_loss", "restricted_loss", "excluded_loss")


def progress_figure(progress: dict[str, Any]) -> go.Figure:
    """Three panels over the checkpoints of one instance (log epoch axis, epoch 0 drawn at 1):
    character similarity per non-trivial irrep, the four losses (log scale), and the sum of
    squared weights; the grok epoch, if any, as a dashed vertical line."""
    series = progress["series"]
    epochs = [max(r["epoch"], 1) for r in series]
    fig = make_subplots(
        rows=1, cols=3, subplot_titles=("character similarity", "loss", "sum of squared weights")
    )
    labels = [lab for lab in series[-1]["similarity"] if lab != "trivial"] if series else []
    for lab in labels:
        fig.add_trace(
            go.Scatter(x=epochs, y=[r["similarity"][lab] for r in series], name=lab), 1, 1
        )
    for name in LOSSES:
        ys = [r["losses"].get(name) for r in series]
        if any(y is not None for y in ys):
            fig.add_trace(go.Scatter(x=epochs, y=ys, name=name.replace("_", " ")), 1, 2)
    fig.add_trace(go.Scatter(x=epochs, y=[r["sum_sq_weights"] for r in series], name="Σθ²"), 1, 3)
    for y, dash in ((KEY_SIMILARITY, "dot"), (LEARNED_SIMILARITY, "dash")):
        fig.add_hline(y=y, line_dash=dash, line_width=1, row=1, col=1)
    grok = progress.get("grok_epoch")
    if grok is not None:
        for col in (1, 2, 3):
            fig.add_vline(x=max(grok, 1), line_dash="dash", line_width=1, row=1, col=col)
    fig.update_xaxes(type="log", title="epoch")
    fig.update_yaxes(type="log", row=1, col=2)
    fig.update_layout(
        height=400,
        title=f"Progress measures, instance {progress.get('instance')} "
        f"(seed {progress.get('seed')}); grok epoch {grok}",
    )
    return fig


def tally_figure(summary: dict[str, Any], paper: dict[str, Any] | None = PAPER_S5_MLP) -> go.Figure:
    """Fraction of instances in which each irrep is key (beside the paper's 50 S5 MLP seeds
    when ``paper`` is given and shares labels), and the distribution of the number of key
    irreps."""
    n = max(summary["instances"], 1)
    labels = list(summary["key_frequency"])
    fig = make_subplots(rows=1, cols=2, subplot_titles=("key in", "number of key irreps"))
    fig.add_trace(
        go.Bar(x=labels, y=[summary["key_frequency"][lab] / n for lab in labels], name="ours"),
        1,
        1,
    )
    if paper is not None and set(labels) & set(paper["key_frequency"]) - {"trivial"}:
        m = paper["instances"]
        fig.add_trace(
            go.Bar(
                x=labels,
                y=[paper["key_frequency"].get(lab, 0) / m for lab in labels],
                name=f"paper ({m} seeds)",
            ),
            1,
            1,
        )
    counts = summary["n_key"]
    fig.add_trace(
        go.Bar(x=[str(k) for k in counts], y=list(counts.values()), name="instances"), 1, 2
    )
    fig.update_yaxes(title="fraction of instances", range=[0, 1], row=1, col=1)
    fig.update_layout(
        barmode="group", height=380, title=f"Universality over {summary['instances']} instances"
    )
    return fig
