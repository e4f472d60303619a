"""Report section: coset circuits (Stander et al. 2024) and the joint irreps/cosets verdict.

``section(report, store, run_id)`` (registered in :mod:`algolens.report.sections`) appends, for a
composition MLP run whose ``cosets``, ``interventions`` and ``verdict`` analyses are stored
(``algolens analyze RUN --method cosets`` etc.): a histogram of each neuron's min C_H (log
scale, both sides, all seeds), the neurons by subgroup class, the interventions table averaged
over the seeds (beside the paper's figures for S5, which live in
:mod:`algolens.reproductions.stander2024`), and the verdict summary per seed. Runs without them
get no section.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from algolens.analysis.runs import weights_source
from algolens.analysis.store import analysis_path, read_analysis
from algolens.errors import CheckpointError
from algolens.report.html import HtmlReport
from algolens.store import RunStore

FLOOR = 1e-16
"""min C_H values below this are drawn at this value on the log axis."""


def stored_coset_analyses(store: RunStore, run_id: str) -> dict[str, dict[str, Any]] | None:
    """The run's stored, current ``cosets``, ``interventions`` and ``verdict`` analyses
    (:func:`algolens.analysis.runs.run_coset_method`), or None unless all three are stored."""
    try:
        source = weights_source(store, run_id)
    except CheckpointError:
        return None
    found = {}
    for method in ("cosets", "interventions", "verdict"):
        data = read_analysis(analysis_path(store, run_id, method), method, source)
        if data is None:
            return None
        found[method] = data
    return found


def section(report: HtmlReport, store: RunStore, run_id: str) -> bool:
    """Append the coset-circuit section of run ``run_id`` from its stored analyses (see the
    module docstring); add nothing and return False when they are not all stored."""
    found = stored_coset_analyses(store, run_id)
    if found is None:
        return False
    cosets = found["cosets"]
    report.heading("Coset circuits and the joint verdict (Stander et al. 2024)")
    report.paragraph(
        "C_H(f) = Σ over the cosets of H of Var[f | coset] / Var[f], minimised over every proper "
        "non-trivial subgroup H and both coset sides (gH, Hg), for each neuron's left and right "
        "pre-activation; a neuron's score is its worse side. 0 means constant on cosets; an "
        "unstructured function scores about the number of cosets."
    )
    report.figure(_histogram(cosets["instances"]))
    _families(report, cosets["instances"])
    _interventions(report, found["interventions"]["mean"], cosets["group"])
    _verdicts(report, found["verdict"]["instances"])
    return True


def _histogram(instances: list[dict[str, Any]]) -> go.Figure:
    fig = go.Figure()
    for side in ("left", "right"):
        values = [max(n[side]["c"], FLOOR) for inst in instances for n in inst["neurons"]]
        fig.add_trace(
            go.Histogram(x=np.log10(values).tolist(), name=f"{side} pre-activation", opacity=0.6)
        )
    fig.update_layout(
        barmode="overlay", height=360, title="min C_H per neuron (all seeds)",
        xaxis_title=f"log10 min C_H (values below {FLOOR:g} drawn at {FLOOR:g})",
        yaxis_title="neurons",
    )  # fmt: skip
    return fig


def _families(report: HtmlReport, instances: list[dict[str, Any]]) -> None:
    totals: dict[str, int] = {}
    for inst in instances:
        for label, count in inst["families"].items():
            totals[label] = totals.get(label, 0) + count
    n = sum(len(inst["neurons"]) for inst in instances)
    report.heading("Neurons by subgroup class", level=3)
    report.table(
        ["subgroup class (left side)", "neurons", "share"],
        [[label, c, f"{c / n:.1%}"] for label, c in sorted(totals.items(), key=lambda x: -x[1])],
    )
    report.table(
        ["seed", "share min C_H < 1", "median score", "sign neurons", "same-coset W_U corr"],
        [
            [inst["seed"], f"{inst['share_below_1']:.1%}", inst["median_score"],
             len(inst["sign_neurons"]), inst["unembedding"]["same_coset"]]
            for inst in instances
        ],
    )  # fmt: skip


def _interventions(report: HtmlReport, rows: list[dict[str, Any]], group: str) -> None:
    from algolens.papers.stander2024 import PAPER_INTERVENTIONS

    paper = PAPER_INTERVENTIONS if group == "S5" else {}
    report.heading("Interventions (mean over seeds, all |G|² pairs)", level=3)
    report.table(
        ["intervention", "accuracy", "worst seed", "loss", "neurons ablated", "paper (S5)"],
        [
            [r["intervention"], f"{r['accuracy']:.2%}", f"{r['accuracy_min']:.2%}", r["loss"],
             r.get("n_ablated", ""), _paper(paper.get(r["intervention"]))]
            for r in rows
        ],
    )  # fmt: skip


def _paper(fig: tuple[float, float | None] | None) -> str:
    if fig is None:
        return ""
    acc, loss = fig
    return f"{acc:.2%}" + ("" if loss is None else f" / loss {loss:.3g}")


def _verdicts(report: HtmlReport, instances: list[dict[str, Any]]) -> None:
    report.heading("Joint verdict: irreps or cosets", level=3)
    report.paragraph(
        "Per neuron: explained by irreps when both sides have ≥ 90 % of their power in one irrep; "
        "by cosets when both sides have min C_H < 0.01; the accounts agree when each side's "
        "dominant irrep restricted to its coset subgroup contains the trivial irrep. "
        "Faithfulness: loss with the pre-activations replaced by the key-irrep projection, by "
        "each neuron's own coset means, or by their means (nothing explained).",
        note=True,
    )
    rows = []
    for inst in instances:
        s, f = inst["summary"], inst["faithfulness"]
        rows.append(
            [inst["seed"], s["by_both"], s["by_irreps_only"], s["by_cosets_only"],
             s["by_neither"], s["agree"], ", ".join(inst["key_irreps"]), f["base"]["loss"],
             f["irreps"]["loss"], f["cosets"]["loss"], f["mean"]["loss"]]
        )  # fmt: skip
    report.table(
        ["seed", "both", "irreps only", "cosets only", "neither", "agree", "key irreps",
         "loss", "irreps loss", "cosets loss", "mean loss"],
        rows,
    )  # fmt: skip
