"""Report section: the run compiled to a threshold circuit and verified (Merrill & Sabharwal).

``section(report, store, run_id)`` (registered in :mod:`algolens.report.sections`) appends, for a
run whose logic analysis is stored (:func:`algolens.logic.verify_run.run_logic`), the agreement
of the integer model Q with the float network and the task, the verification verdicts and
breakpoint proofs, circuit sizes and depth by layer, the FO(M) formula's size, and — when the
analysis holds an n-scaling study — gates and depth against the input length n. Runs without
it get no section.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from algolens.report.html import HtmlReport
from algolens.store import RunStore


def section(report: HtmlReport, store: RunStore, run_id: str) -> bool:
    """Append the logic section of ``run_id`` from its stored analysis; False when none."""
    from algolens.logic.verify_run import stored_logic

    data = stored_logic(store, run_id)
    if data is None:
        return False
    rows = data["instances"]
    report.heading("From network to logic (Merrill & Sabharwal 2023)")
    report.paragraph(
        f"Each instance's arithmetic fixed to {data['bits']}-bit integers (the integer model Q), "
        "compiled to a threshold circuit, and the circuit compared with Q on every input; the "
        "agreement columns are the honest price of exactness."
    )
    report.table(
        ["instance", "inputs", "Q vs float", "Q vs task", "float vs task"],
        [[r["instance"], r["inputs"], _pct(r["agreement"]["q_vs_float"]),
          _pct(r["agreement"]["q_vs_task"]), _pct(r["agreement"]["float_vs_task"])]
         for r in rows],
    )  # fmt: skip
    report.table(
        ["instance", "verification", "inputs checked", "mismatches", "requantisation proofs",
         "verdict"],
        [[r["instance"], r["verify"]["method"], r["verify"]["checked"], r["verify"]["mismatches"],
          _proofs(r["requant_proofs"]), r["verdict"]] for r in rows],
    )  # fmt: skip
    report.table(
        ["instance", "gates", "wires", "depth", "max fan-in", "FO(M) definitions",
         "FO(M) characters"],
        [[r["instance"], r["gates"], r["wires"], r["depth"], r["max_fan_in"],
          r["fom"]["definitions"], _chars(r["fom"])] for r in rows],
    )  # fmt: skip
    first = rows[0]
    report.paragraph(f"Layers of instance {first['instance']}:", note=True)
    report.table(
        ["layer", "gates", "wires", "depth", "max fan-in", "weight bits", "threshold bits"],
        [[s["name"], s["gates"], s["wires"], s["depth"], s["max_fan_in"], s["weight_bits"],
          s["threshold_bits"]] for s in first["layers"]],
    )  # fmt: skip
    if data.get("scaling"):
        report.figure(scaling_figure(data["scaling"]))
    return True


def scaling_figure(rows: list[dict[str, Any]]) -> go.Figure:
    """Gates (log-log) and depth against the input length n."""
    ns = [r["n"] for r in rows]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("gates vs n", "depth vs n"))
    fig.add_trace(go.Scatter(x=ns, y=[r["gates"] for r in rows], mode="lines+markers",
                             name="gates"), row=1, col=1)  # fmt: skip
    fig.add_trace(go.Scatter(x=ns, y=[r["depth"] for r in rows], mode="lines+markers",
                             name="depth"), row=1, col=2)  # fmt: skip
    fig.update_xaxes(type="log", title_text="n", row=1, col=1)
    fig.update_yaxes(type="log", row=1, col=1)
    fig.update_xaxes(title_text="n", row=1, col=2)
    return fig


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2%}"


def _proofs(p: dict[str, Any]) -> str:
    if p["nodes"] == 1:
        text = f"{p['proven']}/{p['columns']} columns of {p['layer']}"
    else:
        text = f"{p['nodes_proven']}/{p['nodes']} nodes ({p['proven']}/{p['columns']} columns)"
    return text if p["first_failure"] is None else f"{text}; first failure: {p['first_failure']}"


def _chars(fom: dict[str, Any]) -> str:
    return str(fom["characters"]) if fom["expanded"] else f"≈ {fom['characters']} (outline)"
