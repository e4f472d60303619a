"""HTML report of a group-composition run: training, irreps learned, universality, progress.

Usage: ``composition_report(store, run_id)`` writes ``<run folder>/report.html`` and returns its
path with the per-seed analyses. It renders only: every analysis comes from the run store
(:mod:`algolens.analysis.store`), read and never computed; ``algolens report`` first computes
and stores the missing ones (:func:`algolens.analysis.ensure.ensure_defaults`). Sections, in
order:

1. training: per-seed summary and curves (grokking epochs marked);
2. irreps learned (Chughtai et al.'s metrics per seed, :mod:`algolens.analysis.composition.irreps`);
3. universality over the seeds (:mod:`algolens.report.universality_view`);
4. progress measures over checkpoints (:mod:`algolens.report.progress_view`): every instance
   with a stored progress analysis;
5. every registered section (:mod:`algolens.report.sections`) that finds stored analyses of the
   run (the coset analyses of MLP runs among them);
6. the config and the group's element labels (:mod:`algolens.report.common`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go

from algolens.analysis.composition.irreps import KEY_SIMILARITY, IrrepAnalysis
from algolens.analysis.runs import check_run, stored_irreps, stored_progress
from algolens.errors import StoreError
from algolens.groups.reps import irreps
from algolens.report.common import (
    config_section,
    group_section,
    read_metrics_counted,
    training_section,
)
from algolens.report.html import HtmlReport
from algolens.report.progress_view import progress_section
from algolens.report.sections import add_sections
from algolens.report.universality_view import universality_section
from algolens.store import RunStore
from algolens.train.load import load_run_group


def composition_report(
    store: RunStore, run: str, *, checkpoint: dict[str, Any] | None = None
) -> tuple[Path, list[IrrepAnalysis]]:
    """Write ``report.html`` into the run folder from the run's stored analyses; return its path
    and the per-seed analyses.

    With ``checkpoint`` (the irreps analysis of one checkpoint,
    :func:`algolens.analysis.ensure.checkpoint_irreps`): the irreps of that checkpoint, without
    the progress, coset and registered sections (those are of the final weights), written to
    ``report-epoch_NNNNNNNN.html`` so it never passes for the final report.

    Raises:
        StoreError, ConfigError, CheckpointError, SizeLimitError: as
            :func:`algolens.analysis.runs.check_run` (before anything is written).
        StoreError: no current final irreps analysis stored (``algolens report RUN`` computes
            it first).
    """
    run_id, config = check_run(store, run)
    record = store.get(run_id)
    paths = store.paths(run_id)
    group = load_run_group(store, run_id)
    seeds = list(config.seeds)
    epoch = None if checkpoint is None else checkpoint["checkpoint_epoch"]
    final = _final(store, run_id) if checkpoint is None else checkpoint["instances"]
    progress = _progress(store, run_id, len(seeds)) if epoch is None else {}
    for k, p in progress.items():
        final[k] = {**final[k], "learning_order": p["measures"]["learning_order"]}
    at = "" if epoch is None else f", checkpoint at epoch {epoch}"
    report = HtmlReport(f"algolens: {config.group} {config.model}, run {record.id}{at}")
    report.paragraph(
        f"Group {group.name} (order {group.order}), recipe {config.recipe}, train fraction "
        f"{config.train_frac}, seeds {seeds}, status {record.status}."
    )
    if epoch is not None:
        report.paragraph(
            f"Irreps of the checkpoint at epoch {epoch}, not of the final weights; progress "
            "measures and the other analyses are in the run's report.html.",
            note=True,
        )
    rows, skipped = read_metrics_counted(paths.metrics)
    training_section(report, record.summary or {}, rows, seeds, skipped)
    analyses = [_from_stored(d) for d in final]
    _irreps_section(report, group, seeds, final)
    _neuron_map(report, seeds, final)
    universality_section(report, final, group=config.group, model=config.model)
    if progress:
        report.heading("Progress measures over checkpoints")
        report.paragraph(
            "Memorisation (train accuracy ≥ 99 %) → circuit formation (every final key irrep "
            "has similarity > 0.05; restricted loss falls) → clean-up (Σθ² falls after its "
            "peak) and generalisation. Checkpoints are log-spaced, so each event epoch is the "
            "first checkpoint at which it holds; the dashed line is the grokking epoch from "
            "the training log (evaluated more often).",
            note=True,
        )
        for k in sorted(progress):
            progress_section(report, progress[k])
    if epoch is None:
        add_sections(report, store, run_id)
    config_section(report, config.to_dict())
    group_section(report, group.name, group.order, list(group.labels))
    name = "report.html" if epoch is None else f"report-epoch_{epoch:08d}.html"
    return report.write(paths.root / name), analyses


def _final(store: RunStore, run_id: str) -> list[dict[str, Any]]:
    """The per-instance dicts of the run's stored final irreps analysis.

    Raises:
        StoreError: none stored for the current weights.
    """
    found = stored_irreps(store, run_id)
    if found is None:
        raise StoreError(
            f"run {run_id} has no current irreps analysis stored; `algolens report {run_id}` "
            f"(or `algolens analyze {run_id}`) computes it"
        )
    return found["instances"]


def _progress(store: RunStore, run_id: str, k: int) -> dict[int, dict[str, Any]]:
    """The stored progress analyses of the run's instances (none when it has no checkpoints)."""
    found = {i: stored_progress(store, run_id, i) for i in range(k)}
    return {i: p for i, p in found.items() if p is not None}


def _from_stored(d: dict[str, Any]) -> IrrepAnalysis:
    """An :class:`IrrepAnalysis` from its stored dict (``IrrepAnalysis.to_dict``)."""
    labels = list(d["similarity"])
    return IrrepAnalysis(
        labels=labels,
        similarity=np.array([d["similarity"][lab] for lab in labels]),
        key=list(d["key_irreps"]),
        logit_fve=d["logit_fve"],
        weight_fve=dict(d["weight_fve"]),
        weight_fve_by_irrep={
            w: np.array([v[lab] for lab in labels]) for w, v in d["weight_fve_by_irrep"].items()
        },
        neurons=d["neurons"],
        losses=d["losses"],
        sum_sq_weights=d["sum_sq_weights"],
    )


def _irreps_section(report: HtmlReport, group, seeds: list[int], final: list[dict]) -> None:
    reps = irreps(group)
    report.heading("Irreducible representations learned")
    report.paragraph(
        "Character similarity: cosine between the logits over all pairs and tr ρ(a·b·c⁻¹), rows "
        f"centred over c. Key irreps have similarity > {KEY_SIMILARITY}. Weight FVE: variance of "
        "W_a, W_b, W_Uᵀ inside the span of the key irreps' matrix entries. Restricted loss keeps "
        "only the key irreps' ρ(ab) component of the hidden layer (all pairs); excluded loss "
        "removes it (training pairs). Neuron share: mean share of each neuron's variance in its "
        "dominant irrep (Chughtai et al. 2023)."
    )
    fig = go.Figure()
    for seed, a in zip(seeds, final):
        fig.add_trace(go.Bar(x=list(a["similarity"]), y=list(a["similarity"].values()),
                             name=f"seed {seed}"))  # fmt: skip
    fig.update_layout(
        barmode="group", height=380, title="Character similarity per irrep",
        yaxis_title="similarity",
    )  # fmt: skip
    report.figure(fig)
    rows = []
    for s, a in zip(seeds, final):
        losses, w = a["losses"], a["weight_fve"]
        rows.append(
            [s, ", ".join(a["key_irreps"]) or "none", a["logit_fve"], w["W_a"], w["W_b"],
             w["W_U"], losses.get("test_loss", losses["loss"]), losses["restricted_loss"],
             losses["excluded_loss"], a["neurons"]["mean_share"], a["neurons"]["trivial_share"]]
        )  # fmt: skip
    report.table(
        ["seed", "key irreps", "logit FVE", "W_a FVE", "W_b FVE", "W_U FVE", "test loss",
         "restricted loss", "excluded loss", "neuron share", "trivial share"],
        rows,
    )  # fmt: skip
    report.heading(f"Irreps of {group.name}", level=3)
    report.table(
        ["label", "real dim", "complex degree", "indicator", "key in seeds"],
        [
            [r.label, r.real_dim, r.complex_degree, r.indicator,
             sum(r.label in a["key_irreps"] for a in final)]
            for r in reps
        ],
    )  # fmt: skip


def _neuron_map(report: HtmlReport, seeds: list[int], final: list[dict]) -> None:
    """Neuron → irrep map: each seed's neurons counted by their dominant non-trivial irrep (the
    irrep whose span explains most of the neuron's variance; dead neurons apart), and the mean
    share of the variance that irrep explains."""
    labels = list(dict.fromkeys(lab for a in final for lab in a["neurons"]["assigned"]))
    if not labels:
        return
    report.heading("Neuron → irrep map", level=3)
    report.paragraph(
        "Each hidden neuron is assigned the non-trivial irrep whose span of ρ(a), ρ(b), ρ(ab) "
        "explains most of its variance over all pairs ('dead': no variance). Mean share: the "
        "fraction of a neuron's variance its irrep explains, averaged over the neurons assigned "
        "to it.",
        note=True,
    )
    fig = go.Figure()
    rows = []
    for lab in labels:
        counts = [a["neurons"]["assigned"].get(lab, 0) for a in final]
        fig.add_trace(go.Bar(x=[f"seed {s}" for s in seeds], y=counts, name=lab))
        shares = [_mean_share(a["neurons"], lab) for a in final]
        rows.append([lab, *counts, *shares])
    fig.update_layout(barmode="stack", height=340, title="Neurons by dominant irrep",
                      yaxis_title="neurons")  # fmt: skip
    report.figure(fig)
    report.table(
        ["irrep", *(f"seed {s} neurons" for s in seeds), *(f"seed {s} mean share" for s in seeds)],
        rows,
    )


def _mean_share(neurons: dict, label: str) -> float | str:
    shares = [
        s for lab, s in zip(neurons.get("irrep", []), neurons.get("share", [])) if lab == label
    ]
    return sum(shares) / len(shares) if shares else ""
