"""`algolens analyze RUN... [--method irreps]`: Chughtai et al.'s metrics of every instance,
optionally over checkpoints (``--checkpoints``) and tallied over seeds and runs (``--tally``).

The irreps method's own flow (:attr:`algolens.analysis.methods.Method.cli`): one table of every
instance of every run, the progress over checkpoints, the tally beside the paper's 50 S5 MLP
seeds, or all of it as one JSON object ``{"method", "instances", "tally", "paper_comparison"}``.
"""

from __future__ import annotations

from typing import Any

from algolens.cli.analyze_each import Request
from algolens.cli.output import print_json, print_table, print_text, status


def irreps_method(req: Request) -> None:
    """Check every run (every input error before any work or any file written), analyse each
    (stored and reused), then print."""
    from algolens.analysis.composition.universality import compare_with_paper
    from algolens.analysis.composition.universality import tally as make_tally
    from algolens.analysis.methods import check_method_run
    from algolens.analysis.runs import run_irreps, run_progress
    from algolens.papers.chughtai2023 import MAINLINE, PAPER_S5_MLP

    st, instance, force, opts = req.store, req.instance, req.force, req.options
    checked = [check_method_run(st, run, "irreps", opts) for run in req.runs]
    results: list[dict[str, Any]] = []
    for run_id, config in checked:
        ks = [instance] if instance is not None else list(range(len(config.seeds)))
        with status(f"analysing run {run_id}"):
            final = run_irreps(st, run_id, force=force, epoch=req.epoch)
            progress = (
                {k: run_progress(st, run_id, k, force=force) for k in ks} if req.checkpoints else {}
            )
        used = req.weights(run_id) if req.weights is not None else None
        for k in ks:
            inst = dict(final["instances"][k], run=run_id, group=config.group, model=config.model)
            inst["weights"] = used
            if k in progress:
                inst["learning_order"] = progress[k]["measures"]["learning_order"]
                inst["progress"] = progress[k]
            results.append(inst)
    summary = make_tally(results) if req.tally else None
    comparison = None
    if summary is not None and all(c.group == MAINLINE and c.model == "mlp" for _, c in checked):
        comparison = compare_with_paper(summary, PAPER_S5_MLP)
    if req.json:
        out: dict[str, Any] = {"method": req.method, "instances": results}
        if summary is not None:
            out["tally"] = summary
            out["paper_comparison"] = comparison
        print_json(out)
        return
    _print_instances(results)
    for inst in results:
        if "progress" in inst:
            _print_progress(inst)
    if summary is not None:
        _print_tally(summary, comparison)


def _print_instances(results: list[dict[str, Any]]) -> None:
    rows = []
    for r in results:
        losses, w = r["losses"], r["weight_fve"]
        rows.append(
            [
                r["run"],
                r["instance"],
                r["seed"],
                ", ".join(r["key_irreps"]) or "none",
                f"{r['logit_fve']:.3f}",
                f"{w['W_a']:.3f}/{w['W_b']:.3f}/{w['W_U']:.3f}",
                f"{losses.get('test_loss', losses['loss']):.3g}",
                f"{losses['restricted_loss']:.3g}",
                f"{losses['excluded_loss']:.3g}",
                f"{r['neurons']['mean_share']:.2f}",
            ]
        )
    print_table(
        "irreps (Chughtai et al. 2023)",
        ["run", "inst", "seed", "key irreps", "logit FVE", "W_a/W_b/W_U FVE", "test loss",
         "restricted", "excluded", "neuron share"],
        rows,
    )  # fmt: skip


def _print_progress(inst: dict[str, Any]) -> None:
    from algolens.analysis.composition.progress import followed_irreps, progress_rows

    prog = inst["progress"]
    labels = followed_irreps(prog["series"])  # similarity columns: irreps ever key
    print_table(
        f"run {inst['run']} instance {inst['instance']} (seed {inst['seed']}) over checkpoints",
        ["epoch", "train loss", "test loss", "restricted", "excluded", "Σθ²", "logit FVE",
         "#key", *labels],
        progress_rows(prog["series"], labels, key_count=True),
    )  # fmt: skip
    m = prog["measures"]
    order = ", ".join(f"{lab} @{m['learned_at'][lab]}" for lab in m["learning_order"]) or "none"
    print_text(
        f"learning order: {order}; memorised @{m['memorised']}, circuit @{m['circuit']}, "
        f"generalised @{m['generalised']}, peak Σθ² @{m['peak_weights']}, "
        f"grok epoch {m['grok_epoch']}"
    )


def _print_tally(summary: dict[str, Any], comparison: list[dict] | None) -> None:
    n = summary["instances"]
    print_table(
        f"key irreps over {n} instance(s)",
        ["irrep", "key in", "fraction"],
        [[lab, c, f"{c / n:.0%}"] for lab, c in summary["key_frequency"].items()],
    )
    print_table(
        "distinct key-irrep sets",
        ["set", "count"],
        [[", ".join(s["set"]) or "none", s["count"]] for s in summary["key_sets"]],
    )
    n_key = ", ".join(f"{k}: {c}" for k, c in summary["n_key"].items())
    fve, wu = summary["logit_fve"], summary["W_U_fve"]
    print_text(
        f"number of key irreps: {n_key}; logit FVE {fve['min']:.2f}–{fve['max']:.2f} "
        f"(median {fve['median']:.2f}); W_U FVE {wu['min']:.2f}–{wu['max']:.2f} "
        f"(median {wu['median']:.2f})"
    )
    if summary["first_learned"]:
        first = ", ".join(f"{lab}: {c}" for lab, c in summary["first_learned"].items())
        print_text(f"first irrep learned: {first}")
    if comparison:
        print_table(
            "against the paper's 50 S5 MLP seeds",
            ["quantity", "paper", "ours"],
            [[r["quantity"], r["paper"], r["ours"]] for r in comparison],
        )
