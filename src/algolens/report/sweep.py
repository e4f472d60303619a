"""The page of a sweep: ``sweep_report(store, sweep)`` writes ``<store>/sweeps/<id>.html``.

A sweep's runs are the runs the index tags with its id (:mod:`algolens.sweep`); each run folder's
``sweep.json`` holds its grid point. The page shows, from what the store holds:

1. the grid axes and, per configuration, its run (a link where its report exists), status,
   seeds grokked, median grokking epoch, final test accuracy and (sequence tasks) greedy
   accuracy per split (a sortable, filterable table);
2. distributions over seeds and configurations: each seed's grokking epoch and final test
   accuracy per configuration (box plots with every seed drawn);
3. universality across configurations, per group and model: how often each irrep is key in
   each configuration's seeds and over all of them, and the key-irrep sets per configuration.
   The final irreps analysis of every completed composition run is read from the run folder
   (``algolens report --sweep`` computes and stores the missing ones first,
   :func:`algolens.analysis.ensure.ensure_sweep_irreps`); a run without one is named in a
   note, with why.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from algolens.errors import AlgolensError
from algolens.report.common import split_accuracy
from algolens.report.html import HtmlReport, Link, plot_text
from algolens.store import RunStore
from algolens.store.index import RunRecord

SWEEPS_DIR = "sweeps"


def resolve_sweep(store: RunStore, sweep: str) -> str:
    """The sweep id of the store's tagged runs equal to or starting with ``sweep``
    (:meth:`RunStore.resolve_sweep`)."""
    return store.resolve_sweep(sweep)


def sweep_report(store: RunStore, sweep: str, *, why: Mapping[str, str] | None = None) -> Path:
    """Write the sweep's page (see the module docstring) from what the store holds; return its
    path.

    Args:
        why: run id -> why its irreps analysis could not be computed
            (:func:`algolens.analysis.ensure.ensure_sweep_irreps`), for the note.

    Raises:
        StoreError: unknown or ambiguous sweep (before anything is written).
    """
    sweep_id = resolve_sweep(store, sweep)
    records = store.list(sweep=sweep_id)
    points = {r.id: _point(store, r.id) for r in records}
    axes = list(dict.fromkeys(k for p in points.values() for k in p))
    labels = {r.id: _label(points[r.id], r.id) for r in records}
    analyses, skipped = _irreps(store, records, why or {})
    report = HtmlReport(f"algolens sweep {sweep_id}")
    statuses = Counter(r.status for r in records)
    report.paragraph(
        f"{len(records)} configuration run(s) in {store.root}: "
        + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
        + ". Grid axes: "
        + (", ".join(axes) or "none")
        + "."
    )
    _configurations(report, store, records, points, axes, analyses)
    _distributions(report, records, labels)
    _universality(report, records, labels, analyses)
    if skipped:
        report.paragraph(
            "Not in the universality tables: "
            + "; ".join(f"run {run}: {why}" for run, why in skipped.items()),
            note=True,
        )
    return report.write(store.folder(SWEEPS_DIR) / f"{sweep_id}.html")


def _point(store: RunStore, run_id: str) -> dict[str, Any]:
    try:
        data = json.loads(store.paths(run_id).sweep.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    point = data.get("point") if isinstance(data, dict) else None
    return point if isinstance(point, dict) else {}


def _label(point: dict[str, Any], run_id: str) -> str:
    return " ".join(f"{k}={_text(v)}" for k, v in point.items()) or run_id


def _text(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, sort_keys=True)


def _irreps(
    store: RunStore, records: list[RunRecord], why: Mapping[str, str]
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str]]:
    """Per completed composition run, its stored final irreps analysis; and why each other
    completed composition run has none (``why``, else the reading's error, else none stored)."""
    from algolens.analysis.ensure import tallied_runs
    from algolens.analysis.runs import stored_irreps

    found, skipped = {}, {}
    for r in tallied_runs(records):
        if r.id in why:
            skipped[r.id] = why[r.id]
            continue
        try:
            data = stored_irreps(store, r.id)
        except AlgolensError as exc:
            skipped[r.id] = str(exc)
            continue
        if data is None:
            skipped[r.id] = f"no current irreps analysis stored (`algolens analyze {r.id}`)"
        else:
            found[r.id] = data["instances"]
    return found, skipped


def _configurations(
    report: HtmlReport, store: RunStore, records: list[RunRecord],
    points: dict[str, dict[str, Any]], axes: list[str], analyses: dict[str, list[dict]],
) -> None:  # fmt: skip
    report.heading("Configurations")
    rows = []
    for r in records:
        s = r.summary or {}
        per_seed = s.get("seeds") or []
        acc = [x["test_acc"] for x in per_seed if x.get("test_acc") is not None]
        has_report = (store.paths(r.id).root / "report.html").is_file()
        run: Any = Link(r.id, f"../runs/{r.id}/report.html") if has_report else r.id
        sets = Counter(", ".join(a["key_irreps"]) or "none" for a in analyses.get(r.id, []))
        rows.append(
            [run, *(_text(points[r.id][a]) if a in points[r.id] else "" for a in axes),
             r.status, len(r.config.get("seeds") or []), s.get("n_grokked", ""),
             _blank(s.get("median_grok_epoch")), sum(acc) / len(acc) if acc else "",
             min(acc) if acc else "", split_accuracy(s),
             "; ".join(f"{k} ×{n}" for k, n in sets.most_common())]
        )  # fmt: skip
    report.table(
        ["run", *axes, "status", "seeds", "grokked", "median grok epoch", "mean test acc",
         "min test acc", "greedy acc by split", "key-irrep sets"],
        rows, sortable=True,
    )  # fmt: skip


def _distributions(report: HtmlReport, records: list[RunRecord], labels: dict[str, str]) -> None:
    report.heading("Distributions over seeds")
    groks, accs = go.Figure(), go.Figure()
    never = []
    for r in records:
        per_seed = (r.summary or {}).get("seeds") or []
        if not per_seed:
            continue
        g = [x["grok_epoch"] for x in per_seed if x.get("grok_epoch") is not None]
        a = [x["test_acc"] for x in per_seed if x.get("test_acc") is not None]
        never.append([labels[r.id], len(per_seed) - len(g), len(per_seed)])
        box = {"name": plot_text(labels[r.id]), "boxpoints": "all", "jitter": 0.3, "pointpos": 0}
        groks.add_trace(go.Box(y=g, **box))
        accs.add_trace(go.Box(y=a, **box))
    if not never:
        report.paragraph("No run of this sweep has finished training yet.", note=True)
        return
    groks.update_layout(height=380, title="Grokking epoch per seed (seeds that grokked)",
                        yaxis_title="epoch", showlegend=False)  # fmt: skip
    accs.update_layout(height=380, title="Final test accuracy per seed",
                       yaxis_title="test accuracy", showlegend=False)  # fmt: skip
    if any(t.y for t in groks.data):
        report.figure(groks)
    else:
        report.paragraph("No seed of this sweep grokked, so there are no grokking epochs to show.")
    report.table(["configuration", "seeds that did not grok", "seeds"], never)
    report.figure(accs)


def _universality(
    report: HtmlReport, records: list[RunRecord], labels: dict[str, str],
    analyses: dict[str, list[dict]],
) -> None:  # fmt: skip
    classes: dict[tuple[str, str], list[RunRecord]] = {}
    for r in records:
        if r.id in analyses:
            classes.setdefault((r.config.get("group", ""), r.config.get("model", "")), []).append(r)
    if not classes:
        return
    for (group, model), runs in classes.items():
        report.heading(f"Universality across configurations: {group} {model}")
        irreps = list(dict.fromkeys(lab for r in runs for a in analyses[r.id]
                                    for lab in a["similarity"]))  # fmt: skip
        pooled = [a for r in runs for a in analyses[r.id]]
        cols = ["irrep", *(labels[r.id] for r in runs), f"all ({len(pooled)} seeds)"]
        rows, fig = [], go.Figure()
        for r in runs:
            inst = analyses[r.id]
            fig.add_trace(go.Bar(x=[plot_text(lab) for lab in irreps], name=plot_text(labels[r.id]),
                                 y=[_share(inst, lab) for lab in irreps]))  # fmt: skip
        for lab in irreps:
            rows.append([lab, *(_count(analyses[r.id], lab) for r in runs), _count(pooled, lab)])
        report.paragraph(
            "Key irreps: character similarity above the threshold of "
            "algolens.analysis.composition.irreps (Chughtai et al. 2023). Cells: seeds where the "
            "irrep is key / seeds analysed."
        )
        report.table(cols, rows)
        title = plot_text(f"Fraction of seeds where each irrep is key ({group} {model})")
        fig.update_layout(barmode="group", height=360, yaxis_title="fraction of seeds", title=title)
        report.figure(fig)
        sets = Counter(", ".join(a["key_irreps"]) or "none" for a in pooled)
        report.table(
            ["key-irrep set", *(labels[r.id] for r in runs), "all"],
            [[k, *(sum((", ".join(a["key_irreps"]) or "none") == k for a in analyses[r.id])
                   for r in runs), n] for k, n in sets.most_common()],
        )  # fmt: skip


def _share(instances: list[dict], label: str) -> float:
    return sum(label in a["key_irreps"] for a in instances) / len(instances) if instances else 0.0


def _count(instances: list[dict], label: str) -> str:
    return f"{sum(label in a['key_irreps'] for a in instances)}/{len(instances)}"


def _blank(v: Any) -> Any:
    return "" if v is None else v
