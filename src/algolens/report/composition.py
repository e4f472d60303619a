"""HTML report of a group-composition run: training curves and the irreps it learned.

Usage: ``composition_report(store, run_id)`` writes ``<run folder>/report.html`` and returns its
path with the per-seed analyses (Chughtai et al.'s metrics, :mod:`algolens.analysis.irreps`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from algolens.analysis.irreps import KEY_SIMILARITY, IrrepAnalysis, analyse_mlp
from algolens.groups import FiniteGroup
from algolens.groups.reps import irreps
from algolens.report.html import HtmlReport
from algolens.store import RunStore
from algolens.train.load import load_run_group, load_run_model


def analyse_run(
    store: RunStore, run: str, group: FiniteGroup | None = None
) -> tuple[Any, list[IrrepAnalysis]]:
    """Load a finished MLP run and analyse every seed; returns (config, analyses).

    The group is the run's stored one (``group``, if the caller already loaded it with
    :func:`load_run_group`).
    """
    config, model = load_run_model(store, run)
    if config.model != "mlp":
        return config, []
    group = load_run_group(store, run) if group is None else group
    return config, [analyse_mlp(group, model.instance(k)) for k in range(len(config.seeds))]


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """Rows of ``metrics.jsonl`` (one per evaluation), skipping a torn last line."""
    rows = []
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                break
    return rows


def composition_report(store: RunStore, run: str) -> tuple[Path, list[IrrepAnalysis]]:
    """Write ``report.html`` into the run folder; return its path and the per-seed analyses."""
    record = store.get(run)
    paths = store.paths(record.id)
    group = load_run_group(store, record.id)
    config, analyses = analyse_run(store, record.id, group)
    report = HtmlReport(f"algolens: {config.group} {config.model}, run {record.id}")
    report.paragraph(
        f"Group {group.name} (order {group.order}), recipe {config.recipe}, train fraction "
        f"{config.train_frac}, seeds {list(config.seeds)}."
    )
    summary = record.summary or {}
    if summary.get("seeds"):
        report.heading("Training")
        report.table(
            ["seed", "grok epoch", "train acc", "test acc", "test loss"],
            [
                [
                    s["seed"],
                    s.get("grok_epoch"),
                    s.get("train_acc"),
                    s.get("test_acc"),
                    s.get("test_loss"),
                ]
                for s in summary["seeds"]
            ],
        )
    metrics = read_metrics(paths.metrics)
    if metrics:
        report.figure(_curves(metrics, list(config.seeds)))
    if analyses:
        _irreps_section(report, group, list(config.seeds), analyses)
    else:
        report.paragraph("Irrep analysis is implemented for the MLP only.", note=True)
    return report.write(paths.root / "report.html"), analyses


def _curves(metrics: list[dict[str, Any]], seeds: list[int]) -> go.Figure:
    epochs = [max(r["epoch"], 1) for r in metrics]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("accuracy", "loss"))
    for k, seed in enumerate(seeds):
        for key, dash in (("train", "dot"), ("test", "solid")):
            acc = [r[f"{key}_acc"][k] for r in metrics]
            loss = [r[f"{key}_loss"][k] for r in metrics]
            name = f"seed {seed} {key}"
            fig.add_trace(
                go.Scatter(x=epochs, y=acc, name=name, line={"dash": dash}, legendgroup=name), 1, 1
            )
            fig.add_trace(
                go.Scatter(
                    x=epochs,
                    y=loss,
                    name=name,
                    line={"dash": dash},
                    legendgroup=name,
                    showlegend=False,
                ),
                1,
                2,
            )
    fig.update_xaxes(type="log", title="epoch")
    fig.update_yaxes(type="log", row=1, col=2)
    fig.update_layout(height=420, title="Training curves")
    return fig


def _irreps_section(
    report: HtmlReport, group, seeds: list[int], analyses: list[IrrepAnalysis]
) -> None:
    reps = irreps(group)
    report.heading("Irreducible representations learned")
    report.paragraph(
        "Character similarity: cosine between the logits over all pairs and tr ρ(a·b·c⁻¹), rows "
        f"centred over c. Key irreps have similarity > {KEY_SIMILARITY}. Weight FVE: variance of "
        "W_a, W_b, W_Uᵀ inside the span of the key irreps' matrix entries (Chughtai et al. 2023)."
    )
    fig = go.Figure()
    for seed, a in zip(seeds, analyses):
        fig.add_trace(go.Bar(x=a.labels, y=a.similarity, name=f"seed {seed}"))
    fig.update_layout(
        barmode="group",
        height=380,
        title="Character similarity per irrep",
        yaxis_title="similarity",
    )
    report.figure(fig)
    report.table(
        ["seed", "key irreps", "logit FVE", "W_a FVE", "W_b FVE", "W_U FVE"],
        [
            [
                s,
                ", ".join(a.key) or "none",
                a.logit_fve,
                a.weight_fve["W_a"],
                a.weight_fve["W_b"],
                a.weight_fve["W_U"],
            ]
            for s, a in zip(seeds, analyses)
        ],
    )
    report.heading(f"Irreps of {group.name}", level=3)
    report.table(
        ["label", "real dim", "complex degree", "indicator", "key in seeds"],
        [
            [
                r.label,
                r.real_dim,
                r.complex_degree,
                r.indicator,
                int(np.sum([r.label in a.key for a in analyses])),
            ]
            for r in reps
        ],
    )
