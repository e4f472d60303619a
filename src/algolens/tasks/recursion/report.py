"""Report section: structural recursion (Zhang et al. 2023) for a recursion run.

``section(report, store, run_id)`` (the recursion task's report section, named in
:mod:`algolens.tasks.recursion.spec`) appends, from what the run has stored and never
computing anything:

* **accuracy by structural feature**: the greedy exact-match accuracy of the run summary's
  ``greedy_by_feature`` (mean over seeds), one plotly bar chart per feature with a bar group per
  split (``test``, ``rare``, ``ood``);
* **attention rules** of the stored ``shortcuts`` analysis (``algolens analyze RUN --method
  shortcuts``): the strongest rule per answer token and head of each seed, and the hypotheses
  scored against the model's answers (right and wrong);
* **failure rules** of the stored ``failures`` analysis (``--method failures``): each seed's rules
  with recall and precision on the fresh inputs.

Stored analyses count only when they were computed from the run's current weights. A composition
run, or a recursion run without a summary, gets no section.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from algolens.errors import StoreError
from algolens.report.html import HtmlReport
from algolens.report.stored import stored_analysis
from algolens.store import RunStore

SPLITS: tuple[str, ...] = ("test", "rare", "ood")
TOP_RULES = 12
"""Attention rules listed per seed (strongest mass first)."""
TOP_HYPOTHESES = 6


def section(report: HtmlReport, store: RunStore, run_id: str) -> bool:
    """Append the recursion section of run ``run_id`` (module docstring); add nothing and return
    False for a run that is not a completed recursion run."""
    try:
        record = store.get(run_id)
    except StoreError:
        return False
    splits = (record.summary or {}).get("splits")
    if record.config.get("task") != "recursion" or not splits:
        return False
    function = record.config.get("function")
    report.heading(f"Structural recursion: {function} (Zhang et al. 2023)")
    report.paragraph(
        "Greedy exact-match accuracy (each seed writes its answer token by token; right when the "
        "whole answer and <eos> are right), by split and by structural feature of the input, "
        "mean over the seeds."
    )
    report.table(
        ["split", "inputs", "greedy accuracy (mean)", "per seed"],
        [
            [name, _inputs(s), _pct(_mean(s["greedy_acc"])),
             ", ".join(_pct(a) for a in s["greedy_acc"])]
            for name, s in splits.items()
        ],
    )  # fmt: skip
    for feature, fig in feature_figures(splits).items():
        report.paragraph(f"accuracy by {feature}", note=True)
        report.figure(fig)
    for method, what, show in (
        ("shortcuts", "shortcut", _shortcuts),
        ("failures", "failure", _failures),
    ):
        out = stored_analysis(store, run_id, method)
        if out is not None:
            show(report, out)
        else:
            report.paragraph(
                f"No stored {what} analysis: run `algolens analyze RUN --method {method}`.",
                note=True,
            )
    return True


def feature_figures(splits: dict[str, Any]) -> dict[str, go.Figure]:
    """One bar chart per structural feature: mean greedy accuracy per feature value, a bar group
    per split (hover shows the number of inputs)."""
    features: list[str] = []
    for s in SPLITS:
        for f in splits.get(s, {}).get("greedy_by_feature", {}):
            if f not in features:
                features.append(f)
    out = {}
    for f in features:
        fig = go.Figure()
        for s in SPLITS:
            groups = splits.get(s, {}).get("greedy_by_feature", {}).get(f)
            if not groups:
                continue
            values = list(groups)
            fig.add_trace(
                go.Bar(
                    x=[str(v) for v in values],
                    y=[_mean(groups[v]["acc"]) for v in values],
                    customdata=[groups[v]["n"] for v in values],
                    hovertemplate="%{x}: %{y:.1%} of %{customdata} inputs",
                    name=s,
                )
            )
        fig.update_layout(
            barmode="group", height=300, title=f"greedy accuracy by {f}", xaxis_title=f,
            yaxis_title="accuracy", yaxis_range=[0, 1.02],
        )  # fmt: skip
        out[f] = fig
    return out


def _shortcuts(report: HtmlReport, data: dict[str, Any]) -> None:
    report.heading("Attention rules and shortcut hypotheses", level=3)
    report.paragraph(f"Inputs: {data['inputs']}.")
    for inst in data["instances"]:
        rules = sorted(inst["attention"], key=lambda r: -r["mass"])[:TOP_RULES]
        report.paragraph(
            f"Seed {inst['seed']} (instance {inst['instance']}), accuracy "
            f"{_pct(inst['accuracy'])}: strongest attention rules"
        )
        report.table(
            ["layer", "head", "answer token", "attends to", "mass", "argmax", "rows"],
            [
                [r["layer"], r["head"], r["answer_index"], r["rule"], _pct(r["mass"]),
                 _pct(r["argmax"]), r["n"]]
                for r in rules
            ],
        )  # fmt: skip
        if inst["hypotheses"]:
            report.table(
                ["hypothesis", "match", "on right answers", "on wrong answers", "wrong answers"],
                [
                    [h["name"], _pct(h["match"]), _pct(h["match_right"]), _pct(h["match_wrong"]),
                     h["n_wrong"]]
                    for h in inst["hypotheses"][:TOP_HYPOTHESES]
                ],
            )  # fmt: skip


def _failures(report: HtmlReport, data: dict[str, Any]) -> None:
    report.heading("Failure rules", level=3)
    report.paragraph(
        f"Inputs: {data['inputs']}. A depth-3 rule tree of 'the model answers this input wrong', "
        f"fitted on {data['n_fit']} inputs and scored on {data['n_fresh']} fresh ones."
    )
    rows = []
    for inst in data["instances"]:
        fresh = inst["fresh"]
        rows.append(
            [inst["seed"], "; ".join(inst["rules"]), f"{fresh['failures']} of {fresh['n']}",
             _pct(fresh["recall"]), _pct(fresh["precision"])]
        )  # fmt: skip
    report.table(["seed", "rules", "wrong (fresh)", "recall", "precision"], rows)


def _mean(xs: list[float | None]) -> float | None:
    vals = [x for x in xs if x is not None]
    return sum(vals) / len(vals) if vals else None


def _inputs(split: dict[str, Any]) -> str:
    """The inputs a split was scored on: ``"N"``, or ``"N of D (sample)"`` for a sampled one."""
    n, d = split["n"], split.get("n_distinct", split["n"])
    return f"{n}" if n >= d else f"{n} of {d} (sample)"


def _pct(x: float | None) -> str:
    return "undefined" if x is None else f"{100 * x:.1f} %"
