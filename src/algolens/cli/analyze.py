"""`algolens analyze RUN... --method M`: analyse runs, store the results in the run folders.

The general entry point for analyses of trained runs: ``irreps`` (Chughtai et al.; with
``--checkpoints`` and ``--tally``) and the coset methods ``cosets``, ``interventions``,
``verdict`` (Stander et al., :mod:`algolens.analysis.verdict`), ``failures`` (recursion runs:
a readable predictor of wrong answers, :mod:`algolens.analysis.failures_run`), ``shortcuts``
(recursion runs: attention rules and shortcut hypotheses, :mod:`algolens.analysis.shortcuts`); the
path-finding and logic analyses join as further methods. Results are stored as JSON in each run
folder (``analyses/``, :mod:`algolens.analysis.store`) and reused until the weights or the code
change; ``--force`` recomputes.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer

from algolens.cli.analyze_each import Request
from algolens.cli.app import app
from algolens.cli.output import print_json, print_table, print_text, status
from algolens.cli.runs import StoreOpt, writes_to_store
from algolens.cli.weights import CheckpointOpt, chosen_epoch, note_weights
from algolens.errors import ConfigError
from algolens.store import RunStore

COSET_METHODS = ("cosets", "interventions", "verdict")
"""Names of :data:`algolens.analysis.verdict.METHODS` (kept here so --help needs no import)."""
CAUSAL_METHODS = ("probes", "patching", "lens", "scrub")
"""The causal toolkit's methods (:mod:`algolens.analysis.causal_run`; sequence-task runs)."""
METHODS = ("irreps", *COSET_METHODS, "failures", "shortcuts", "mechanism", *CAUSAL_METHODS)


@app.command("analyze")
@writes_to_store
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
    checkpoint: CheckpointOpt = None,
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
    inputs: Annotated[
        str | None,
        typer.Option(
            help="failures, shortcuts: draw the inputs like this split of the run: test "
            "(default), rare or ood (built-in functions only)."
        ),
    ] = None,
    hypothesis: Annotated[
        list[str] | None,
        typer.Option(
            help="shortcuts: also score this shortcut hypothesis, a Python function FILE.py:NAME "
            "on the run's inputs (repeatable; run under a time limit like --function files). "
            "scrub: also scrub the hypotheses of this JSON file (docs/causal.md; repeatable)."
        ),
    ] = None,
) -> None:
    """Analyse every instance of a run. irreps: Chughtai et al.'s metrics (key irreps,
    logit/weight/neuron FVE, restricted and excluded loss), over checkpoints with --checkpoints,
    tallied over seeds and runs with --tally. cosets, interventions, verdict: Stander et al.'s
    coset concentration, interventions, and the joint irreps/cosets verdict (MLP runs).
    failures (recursion runs): rules predicting the inputs each seed answers wrong, fitted on one
    input set and scored (recall, precision) on a fresh one. shortcuts (recursion runs): the best
    attention rule per answer token and head, and how well shortcut hypotheses predict each
    seed's greedy answers, right and wrong. mechanism (path-finding runs): edge concatenation,
    goal mover, deduction heads, tuned-lens depth, registers and causal scrubbing per layer.
    probes, patching, lens, scrub (recursion and path-finding runs): linear probes per layer and
    position with a control task, activation patching, logit and tuned lens, causal scrubbing
    (docs/causal.md). A run without final weights is analysed at its latest checkpoint, said
    on stderr; --checkpoint EPOCH|FILE analyses that checkpoint instead (irreps and the coset
    methods; computed, never stored, so it cannot pass for the final analysis)."""
    from algolens.analysis.runs import check_run, run_irreps, run_progress
    from algolens.analysis.universality import compare_with_paper
    from algolens.analysis.universality import tally as make_tally
    from algolens.recipes.chughtai2023 import MAINLINE, PAPER_S5_MLP

    if method not in METHODS:
        raise ConfigError(f"unknown analysis method {method!r}; use one of {', '.join(METHODS)}")
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    st = RunStore(store)
    if inputs is not None and method not in ("failures", "shortcuts"):
        raise ConfigError(f"--inputs belongs to --method failures or shortcuts, not {method}")
    if hypothesis and method not in ("shortcuts", "scrub"):
        raise ConfigError(f"--hypothesis belongs to --method shortcuts or scrub, not {method}")
    if (checkpoints or tally) and method != "irreps":
        raise ConfigError(f"--checkpoints and --tally belong to --method irreps, not {method}")
    if checkpoint is not None and (method not in ("irreps", *COSET_METHODS) or checkpoints):
        raise ConfigError(
            "--checkpoint belongs to --method irreps (without --checkpoints), cosets, "
            f"interventions or verdict, not {method}{' --checkpoints' if checkpoints else ''}"
        )
    if checkpoint is not None and len(runs) != 1:
        raise ConfigError("--checkpoint names a checkpoint of one run; give exactly one run")
    epoch = chosen_epoch(st, runs[0], checkpoint)
    req = Request(
        st, runs, method, instance, force, json, inputs, tuple(hypothesis or ()), epoch,
        weights=lambda run_id: note_weights(st, run_id, epoch),
    )  # fmt: skip
    if method in COSET_METHODS:
        _coset_method(req)
        return
    if method == "failures":
        _failures_method(req)
        return
    if method == "shortcuts":
        _shortcuts_method(req)
        return
    if method in CAUSAL_METHODS:  # sequence-task runs (cli/analyze_causal.py)
        from algolens.cli.analyze_causal import causal_method

        causal_method(req)
        return
    if method == "mechanism":  # path-finding runs (cli/analyze_mechanism.py)
        from algolens.cli.analyze_mechanism import mechanism_method

        mechanism_method(req)
        return
    # every input error before any work or any file written
    checked = [check_run(st, run, instance, checkpoints=checkpoints) for run in runs]
    results: list[dict[str, Any]] = []
    for run_id, config in checked:
        ks = [instance] if instance is not None else list(range(len(config.seeds)))
        with status(f"analysing run {run_id}"):
            final = run_irreps(st, run_id, force=force, epoch=epoch)
            progress = (
                {k: run_progress(st, run_id, k, force=force) for k in ks} if checkpoints else {}
            )
        used = note_weights(st, run_id, epoch)
        for k in ks:
            inst = dict(final["instances"][k], run=run_id, group=config.group, model=config.model)
            inst["weights"] = used
            if k in progress:
                inst["learning_order"] = progress[k]["measures"]["learning_order"]
                inst["progress"] = progress[k]
            results.append(inst)
    summary = make_tally(results) if tally else None
    comparison = None
    if summary is not None and all(c.group == MAINLINE and c.model == "mlp" for _, c in checked):
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


def _coset_method(req: Request) -> None:
    from algolens.analysis.runs import check_coset_run, run_coset_method

    st, method, instance = req.store, req.method, req.instance
    outputs = req.each(
        lambda run: check_coset_run(st, run, method, instance),
        lambda run_id: run_coset_method(st, run_id, method, force=req.force, epoch=req.epoch),
    )
    if outputs is None:
        return
    for out in outputs:
        title = f"{method}: run {out['run']} ({out['group']})"
        if method == "interventions":  # one row per intervention: the mean, or the one instance
            rows = out["instances"][0]["interventions"] if instance is not None else out["mean"]
            title += f", instance {instance}" if instance is not None else ", mean over seeds"
        else:
            rows = out["instances"]
        _print_rows(title, [_scalars(row) for row in rows])


def _failures_method(req: Request) -> None:
    from algolens.analysis.failures_run import check_failures_run, run_failures

    st, inputs = req.store, req.inputs
    outputs = req.each(
        lambda run: check_failures_run(st, run, req.instance, inputs),
        lambda run_id: run_failures(st, run_id, inputs=inputs, force=req.force),
    )
    if outputs is None:
        return
    for out in outputs:
        print_text(
            f"failures: run {out['run']} ({out['function']}); inputs: {out['inputs']}; "
            f"{out['fresh_in_fit']:.1%} of the fresh inputs are also fit inputs, "
            f"{out['fresh_in_train']:.1%} are training inputs"
        )
        rows = []
        for inst in out["instances"]:
            fit, fresh = inst["fit"], inst["fresh"]
            rows.append(
                [inst["instance"], inst["seed"], _pct(fit["failure_rate"]),
                 _pct(fresh["failure_rate"]), _pct(fresh["recall"]), _pct(fresh["precision"])]
            )  # fmt: skip
        print_table(
            "predicted failures, scored on the fresh set",
            ["inst", "seed", "wrong (fit)", "wrong (fresh)", "recall", "precision"],
            rows,
        )
        for inst in out["instances"]:
            print_text(f"instance {inst['instance']} rules: " + "; ".join(inst["rules"]))


def _shortcuts_method(req: Request) -> None:
    from algolens.analysis.shortcuts import check_shortcuts_run, run_shortcuts

    st, inputs, hyps = req.store, req.inputs, list(req.hypotheses)
    outputs = req.each(
        lambda run: check_shortcuts_run(st, run, req.instance, hyps, inputs),
        lambda run_id: run_shortcuts(
            st, run_id, hypotheses=hyps, inputs=inputs or "test", force=req.force
        ),
    )
    if outputs is None:
        return
    for out in outputs:
        print_text(f"shortcuts: run {out['run']} ({out['function']}); inputs: {out['inputs']}")
        for inst in out["instances"]:
            print_text(f"instance {inst['instance']} (accuracy {inst['accuracy']:.1%}):")
            for row in inst["attention"]:
                print_text("  " + row["text"])
            rows = [
                [h["name"], _pct(h["match"]), _pct(h["match_right"]), _pct(h["match_wrong"])]
                for h in inst["hypotheses"]
            ]
            if rows:
                print_text(f"  best hypothesis: {inst['best_hypothesis']}")
                print_table(
                    "hypotheses vs the model's greedy answers",
                    ["hypothesis", "match", "on right answers", "on wrong answers"],
                    rows,
                )
            else:
                print_text("  no hypotheses for this function (add one with --hypothesis)")


def _pct(x: float | None) -> str:
    return "undefined" if x is None else f"{x:.1%}"


def _print_rows(title: str, rows: list[dict[str, Any]]) -> None:
    columns = list(dict.fromkeys(c for row in rows for c in row))
    print_table(title, columns, [[row.get(c, "-") for c in columns] for row in rows])


def _scalars(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Numbers and strings of a result, one level of nested dicts flattened (``a.b``), lists as
    their length (``#name``): a table row for any method's per-instance JSON."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        name = prefix + k
        if isinstance(v, float):
            out[name] = f"{v:.4g}"
        elif isinstance(v, (int, str)) or v is None:
            out[name] = v
        elif isinstance(v, list):
            out["#" + name] = len(v)
        elif isinstance(v, dict) and not prefix:
            out.update(_scalars(v, name + "."))
    return out


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
