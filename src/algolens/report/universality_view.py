"""Report section: universality over the seeds of a run (Chughtai et al.'s tallies).

Input: the per-instance metric dicts of a run (stored irreps analysis, with ``learning_order``
where a progress analysis exists). Output: how often each irrep is key (table and bar chart), the
distinct key-irrep sets with their counts, the distribution of the number of key irreps, which
irrep is learned first, the spread of logit and W_U FVE, and, for an S5 MLP run, the paper's
50-seed tallies beside ours (the figures live in :mod:`algolens.papers.chughtai2023`).
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from algolens.analysis.composition.universality import tally
from algolens.report.html import HtmlReport


def universality_section(
    report: HtmlReport, instances: list[dict[str, Any]], *, group: str, model: str
) -> dict[str, Any]:
    """Append the universality view of ``instances``; return the tally it shows."""
    t = tally(instances)
    n = t["instances"]
    paper = _paper_tallies(group, model)
    report.heading(f"Universality over {n} seed(s)")
    cols = ["irrep", "key in seeds", "fraction"]
    rows: list[list[Any]] = [[lab, c, f"{c / n:.0%}"] for lab, c in t["key_frequency"].items() if n]
    if paper is not None:
        pn = paper["instances"]
        cols.append(f"paper ({pn} seeds)")
        for row in rows:
            pc = paper["key_frequency"].get(row[0])
            row.append("-" if pc is None else f"{pc}/{pn} ({pc / pn:.0%})")
    report.table(cols, rows)
    fig = go.Figure(
        go.Bar(x=list(t["key_frequency"]), y=[c / n for c in t["key_frequency"].values()],
               name="this run")
    )  # fmt: skip
    if paper is not None:
        labels = list(t["key_frequency"])
        fig.add_trace(
            go.Bar(
                x=labels,
                y=[paper["key_frequency"].get(lab, 0) / paper["instances"] for lab in labels],
                name="paper",
            )
        )
    fig.update_layout(
        barmode="group", height=340, title="Fraction of seeds where each irrep is key",
        yaxis_title="fraction of seeds",
    )  # fmt: skip
    report.figure(fig)
    report.table(
        ["key-irrep set", "seeds"],
        [[", ".join(s["set"]) or "none", s["count"]] for s in t["key_sets"]],
    )
    n_key = ", ".join(f"{k} irreps: {c}" for k, c in t["n_key"].items())
    fve, wu = t["logit_fve"], t["W_U_fve"]
    text = (
        f"Number of key irreps per seed: {n_key}. Logit FVE {fve['min']:.3f}–{fve['max']:.3f} "
        f"(median {fve['median']:.3f}); W_U FVE {wu['min']:.3f}–{wu['max']:.3f} "
        f"(median {wu['median']:.3f})."
    )
    if t["first_learned"]:
        first = ", ".join(f"{lab} in {c}" for lab, c in t["first_learned"].items())
        text += f" First irrep learned (seeds followed over checkpoints): {first}."
    if paper is not None:
        text += (
            f" Paper: {paper['distinct_key_sets']} distinct sets in {paper['instances']} seeds, "
            f"logit FVE {paper['logit_fve'][0]:.2f}–{paper['logit_fve'][1]:.2f}, W_U FVE "
            f"{paper['W_U_fve'][0]:.2f}–{paper['W_U_fve'][1]:.2f}."
        )
    report.paragraph(text)
    return t


def _paper_tallies(group: str, model: str) -> dict[str, Any] | None:
    from algolens.papers.chughtai2023 import MAINLINE, PAPER_S5_MLP

    return PAPER_S5_MLP if (group, model) == (MAINLINE, "mlp") else None
