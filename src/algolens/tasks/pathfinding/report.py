"""Report section: path-finding (Brinkmann et al. 2024) for a path-finding run.

``section(report, store, run_id)`` (the path-finding task's report section, named in
:mod:`algolens.tasks.pathfinding.spec`) appends, from what the run has stored and never
computing anything:

* **accuracy by path length**: the run summary's greedy exact-path test accuracy per path length
  (mean over seeds), as a table and a plotly bar chart;
* from the stored ``mechanism`` analysis (``algolens analyze RUN --method mechanism``), per seed:
  the mechanism summary, the edge-source probe F1 (with its control task) and the tuned-lens
  decoding accuracy per residual layer (beside the paper's curve), the deduction heads' attention
  by ancestor level, the register positions that hold a sub-goal (ancestor level of the goal,
  probe F1, knockout), causal scrubbing per layer, and the attention patterns of one test tree
  (circuitsvis).

A run of another task, or one without a summary, gets no section.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from algolens.analysis.pathfinding.mechanism_registers import MIN_GAIN, REGISTER_F1
from algolens.analysis.pathfinding.mechanism_run import summary_lines
from algolens.errors import StoreError
from algolens.report.html import HtmlReport
from algolens.report.stored import stored_analysis
from algolens.store import RunStore

PAPER_LENS = (0.22, 0.25, 0.34, 0.48, 0.76, 1.00)
"""Brinkmann et al.'s tuned-lens decoding accuracy after layers 0..5 (16-node trees)."""


def section(report: HtmlReport, store: RunStore, run_id: str) -> bool:
    """Append the path-finding section of run ``run_id``; False (nothing added) for a run that is
    not a completed path-finding run."""
    try:
        record = store.get(run_id)
    except StoreError:
        return False
    test = ((record.summary or {}).get("splits") or {}).get("test")
    if record.config.get("task") != "pathfinding" or not test:
        return False
    nodes = (record.config.get("pathfinding") or {}).get("nodes")
    report.heading(f"Path-finding on {nodes}-node trees (Brinkmann et al. 2024)")
    report.paragraph(
        f"Exact-path test accuracy over {test['n']} held-out trees, mean over seeds: teacher "
        f"forced {_pct(_mean(test['tf_acc']))}, greedy {_pct(_mean(test['greedy_acc']))}."
    )
    by_len = sorted(test.get("greedy_by_length", {}).items(), key=_key)
    rows = [[int(k), v["n"], _pct(_mean(v["acc"]))] for k, v in by_len]
    report.table(["path length", "trees", "greedy accuracy (mean)"], rows)
    if rows:
        fig = go.Figure(
            go.Bar(x=[int(k) for k, _ in by_len], y=[_mean(v["acc"]) for _, v in by_len])
        )
        fig.update_layout(xaxis_title="path length", yaxis_title="greedy accuracy", height=300)
        report.figure(fig)
    mech = stored_analysis(store, run_id, "mechanism")
    if mech is None:
        report.paragraph(
            f"No mechanism analysis stored for these weights; run `algolens analyze {run_id} "
            "--method mechanism` and rebuild the report.",
            note=True,
        )
        return True
    for inst in mech["instances"]:
        _instance(report, inst)
    return True


def _instance(report: HtmlReport, inst: dict[str, Any]) -> None:
    report.heading(f"Mechanism of seed {inst['seed']}", level=3)
    for line in summary_lines(inst):
        report.paragraph(line)
    ec, lens = inst["edge_concat"], inst["lens"]
    fig = go.Figure()
    fig.add_scatter(x=lens["layers"], y=ec["f1_by_layer"], name="edge-source probe F1")
    if ec.get("control_f1_by_layer"):
        fig.add_scatter(x=lens["layers"], y=ec["control_f1_by_layer"], name="control task F1")
    fig.add_scatter(x=lens["layers"], y=lens["accuracy"], name="tuned-lens accuracy")
    paper_x = list(range(1, len(PAPER_LENS) + 1))
    fig.add_scatter(
        x=paper_x, y=list(PAPER_LENS), name="paper lens (16 nodes)", line={"dash": "dot"}
    )
    fig.update_layout(xaxis_title="residual layer (0 = embeddings)", height=340)
    report.figure(fig)
    d = inst["deduction"]
    levels = len(d["by_level"][0][0]) if d["by_level"] else 0
    report.table(
        ["layer", "head", "mass on path edges", *[f"level {k}" for k in range(levels)]],
        [
            [i, h, round(d["path_mass"][i][h], 3),
             *["-" if x is None else round(x, 3) for x in d["by_level"][i][h]]]
            for i in range(len(d["by_level"])) for h in range(len(d["by_level"][i]))
        ],
    )  # fmt: skip
    report.paragraph(
        f"Attention from each scored position to the edge into the goal's k-th ancestor still "
        f"ahead (level 0 = the goal's own edge); chance for all path edges: {d['chance']:.2f}.",
        note=True,
    )
    _registers(report, inst.get("register_probes"))
    report.table(
        ["layer", "hypothesis", "loss recovered", "by path length"],
        [
            [s["layer"], s["hypothesis"], _pct(s["loss_recovered"]),
             ", ".join(f"L={k}: {_pct(v)}" for k, v in s["by_length"].items())]
            for s in inst["scrubbing"]
        ],
    )  # fmt: skip
    ex = inst.get("example")
    if ex:
        report.paragraph("Attention patterns of one test tree (one panel per layer).", note=True)
        for layer, att in enumerate(ex["attention"]):
            report.paragraph(f"layer {layer}", note=True)
            report.circuitsvis("AttentionPatterns", tokens=ex["tokens"], attention=att)


def _registers(report: HtmlReport, rp: dict[str, Any] | None) -> None:
    """The register positions that decode a sub-goal, and the best probe per level."""
    if rp is None:
        return
    report.table(
        ["position", "ancestor level", "from residual layer", "probe F1", "F1 at layer 0",
         "control F1", "knockout: root -> position, loss increase"],
        [
            [r["kind"], r["level"], r["layer"], round(r["f1"], 3), round(r["f1_layer0"], 3),
             "-" if r["control_f1"] is None else round(r["control_f1"], 3),
             "no later block" if r["knockout"]["layer"] is None else
             f"{r['knockout']['loss_increase']:.3g} (L{r['knockout']['layer']}"
             f"H{r['knockout']['head']})"]
            for r in rp["registers"]
        ],
    )  # fmt: skip
    report.paragraph(
        "Sub-goal registers: prompt positions holding no edge target whose residual stream "
        f"linearly decodes the goal's k-th ancestor (level 0 = the goal) with probe F1 >= "
        f"{REGISTER_F1}, at least {MIN_GAIN} above the same probe on the embeddings; levels "
        "probed: "
        + (", ".join(str(lv["level"]) for lv in rp["levels"]) or "none")
        + ". The knockout cuts the root position's attention to the register in every later "
        "head and reports the largest loss increase.",
        note=True,
    )


def _key(item: tuple[str, Any]) -> int:
    return int(item[0])


def _mean(xs: list[float | None]) -> float | None:
    vals = [x for x in xs if x is not None]
    return sum(vals) / len(vals) if vals else None


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f} %"
