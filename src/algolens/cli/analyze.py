"""`algolens analyze RUN... --method irreps`: analyse runs, store the results in the run folders.

The general entry point for analyses of trained runs (irreps today; the coset, recursion,
path-finding and logic analyses join it as methods). Results are stored as JSON in each run
folder (``analyses/``, :mod:`algolens.analysis.store`) and reused until the weights or the code
change; ``--force`` recomputes.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer

from algolens.cli.app import app
from algolens.cli.output import console, print_json, print_table, print_text
from algolens.cli.runs import StoreOpt
from algolens.errors import ConfigError
from algolens.store import RunStore

METHODS = ("irreps",)


@app.command("analyze")
def analyze(
    runs: Annotated[
        list[str],
        typer.Argument(help="Run id(s) (or unique prefixes), see `algolens runs list`."),
    ],
    method: Annotated[str, typer.Option(help=f"Analysis method: {', '.join(METHODS)}.")] = "irreps",
    instance: Annotated[
        int | None, typer.Option(help="Only this instance (seed index) of each run.")
    ] = None,
    checkpoints: Annotated[
        bool,
        typer.Option(
            "--checkpoints", help="Follow each instance over the saved checkpoints (progress)."
        ),
    ] = False,
    tally: Annotated[
        bool,
        typer.Option(
            "--tally", help="Universality tallies over every analysed instance of the runs."
        ),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Recompute even when a stored analysis is current.")
    ] = False,
    store: StoreOpt = None,
    threads: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=os.cpu_count() or 1,
            help="CPU threads for torch, at most the CPU count (1 is fastest on a busy machine; "
            "groups up to order 128 always use 1).",
        ),
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="Print the analyses as JSON.")] = False,
) -> None:
    """Chughtai et al.'s irrep metrics of every instance of a run (key irreps, logit/weight/neuron
    FVE, restricted and excluded loss), over checkpoints with --checkpoints, tallied over seeds
    and runs with --tally."""
    from algolens.analysis.runs import check_run, run_irreps, run_progress
    from algolens.analysis.universality import PAPER_S5_MLP, compare_with_paper
    from algolens.analysis.universality import tally as make_tally

    if method not in METHODS:
        raise ConfigError(f"unknown analysis method {method!r}; use one of {', '.join(METHODS)}")
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    st = RunStore(store)
    # every input error before any work or any file written
    checked = [check_run(st, run, instance, checkpoints=checkpoints) for run in runs]
    results: list[dict[str, Any]] = []
    for run_id, config in checked:
        ks = [instance] if instance is not None else list(range(len(config.seeds)))
        with console.status(f"analysing run {run_id}", spinner="dots"):
            final = run_irreps(st, run_id, force=force)
            progress = (
                {k: run_progress(st, run_id, k, force=force) for k in ks} if checkpoints else {}
            )
        for k in ks:
            inst = dict(final["instances"][k], run=run_id, group=config.group, model=config.model)
            if k in progress:
                inst["learning_order"] = progress[k]["measures"]["learning_order"]
                inst["progress"] = progress[k]
            results.append(inst)
    summary = make_tally(results) if tally else None
    comparison = None
    if summary is not None and all(c.group == "S5" and c.model == "mlp" for _, c in checked):
        comparison = compare_with_paper(summary, PAPER_S5_MLP)
    if json:
        out: dict[str, Any] = {"method": method, "instances": results}
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
    from algolens.analysis.progress import followed_irreps, progress_rows

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
