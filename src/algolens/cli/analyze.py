"""`algolens analyze RUN... --method M`: analyse runs, store the results in the run folders.

The one entry point for every analysis method of the registry (:mod:`algolens.analysis.methods`):
the ``--method`` list, ``--help`` and the check of the method-specific options derive from the
methods' records; each run is checked by the registry's shared check, then the method computes
(or reuses) its stored result (``analyses/``, :mod:`algolens.analysis.store`; reused until the
weights or the code change, ``--force`` recomputes) and prints it (this module: the coset
methods, ``failures``, ``shortcuts``; :mod:`algolens.cli.analyze_irreps`,
:mod:`algolens.cli.analyze_causal`, :mod:`algolens.cli.analyze_mechanism`).
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer
from typer.core import TyperCommand

from algolens.analysis.methods import Method, Options, analyze_methods, family, method_named
from algolens.cli.analyze_each import (
    Request,
    check_options,
    print_rows,
    run_method,
    scalars,
    takers,
)
from algolens.cli.app import app
from algolens.cli.output import print_table, print_text
from algolens.cli.runs import StoreOpt, writes_to_store
from algolens.cli.weights import CheckpointOpt, chosen_epoch, note_weights
from algolens.errors import ConfigError
from algolens.store import RunStore

METHODS: tuple[str, ...] = tuple(m.name for m in analyze_methods())
"""The built-in methods ``analyze`` offers, from the registry (:mod:`algolens.analysis.methods`;
a method registered later is accepted too)."""
COSET_METHODS = family("cosets")
"""Stander et al.'s coset methods (the registry's ``cosets`` family)."""
CAUSAL_METHODS = family("causal")
"""The causal toolkit's methods (the registry's ``causal`` family; sequence-task runs)."""


def _methods_help(ms: list[Method]) -> str:
    """Each family of methods with what it computes, in registry order (``Method.help``)."""
    parts, i = [], 0
    while i < len(ms):
        j = i
        while j < len(ms) and ms[j].family == ms[i].family:
            j += 1
        parts.append(", ".join(m.name for m in ms[i:j]) + ms[i].help)
        i = j
    return " ".join(parts)


def analyze_help() -> str:
    """The help of ``algolens analyze``, from the methods registered now."""
    return (
        f"Analyse every instance of a run. {_methods_help(analyze_methods())} A run without "
        "final weights is analysed at its latest checkpoint, said on stderr; --checkpoint "
        "EPOCH|FILE analyses that checkpoint instead (irreps and the coset methods; computed, "
        "never stored, so it cannot pass for the final analysis)."
    )


def method_option_help() -> str:
    """The help of ``--method``, from the methods registered now."""
    return f"Analysis method: {', '.join(m.name for m in analyze_methods())}."


HELP = analyze_help()
"""The help of ``algolens analyze`` with the built-in methods (:func:`analyze_help`)."""


class AnalyzeCommand(TyperCommand):
    """The ``analyze`` command, whose help is rebuilt from the registry when it is shown, so a
    method registered after this module was imported is listed too."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self.help = analyze_help()
        for param in self.params:
            if param.name == "method":
                param.help = method_option_help()  # type: ignore[attr-defined]
        super().format_help(ctx, formatter)


@app.command("analyze", help=HELP, cls=AnalyzeCommand)
@writes_to_store
def analyze(
    runs: Annotated[
        list[str],
        typer.Argument(help="Run id(s) (or unique prefixes), see `algolens runs list`."),
    ],
    method: Annotated[str, typer.Option(help=method_option_help())] = "irreps",
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
            help=f"{', '.join(takers('--inputs'))}: draw the inputs like this split of the "
            "run: test (default), rare or ood (built-in functions only)."
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
    """Analyse every instance of the runs with one registered method (:data:`HELP`)."""
    m = method_named(method)
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    st = RunStore(store)
    hyps = tuple(hypothesis or ())
    check_options(m, Options(inputs=inputs, hypotheses=hyps, checkpoints=checkpoints, tally=tally),
                  checkpoint=checkpoint is not None)  # fmt: skip
    if checkpoint is not None and len(runs) != 1:
        raise ConfigError("--checkpoint names a checkpoint of one run; give exactly one run")
    epoch = chosen_epoch(st, runs[0], checkpoint)
    req = Request(
        st, runs, method, instance, force, json, inputs, hyps, epoch,
        weights=lambda run_id: note_weights(st, run_id, epoch),
        checkpoints=checkpoints, tally=tally,
    )  # fmt: skip
    run_method(req, m)


def show_coset(outputs: list[dict[str, Any]], opts: Options) -> None:
    """The text of a coset method: per run, one row of numbers per instance."""
    for out in outputs:
        title = f"{out['method']}: run {out['run']} ({out['group']})"
        print_rows(title, [scalars(row) for row in out["instances"]])


def show_interventions(outputs: list[dict[str, Any]], opts: Options) -> None:
    """The text of ``interventions``: per run, one row per intervention, the mean over seeds or
    the one instance asked for (``--instance``)."""
    instance = opts.instance
    for out in outputs:
        title = f"{out['method']}: run {out['run']} ({out['group']})"
        if instance is None:
            rows, title = out["mean"], title + ", mean over seeds"
        else:
            rows, title = out["instances"][0]["interventions"], title + f", instance {instance}"
        print_rows(title, [scalars(row) for row in rows])


def show_failures(outputs: list[dict[str, Any]], opts: Options) -> None:
    """The text of ``failures``: per run, each seed's failure rates, recall and precision on the
    fresh inputs, and its rules."""
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


def show_shortcuts(outputs: list[dict[str, Any]], opts: Options) -> None:
    """The text of ``shortcuts``: per run and seed, the attention rules and the hypotheses
    scored against the model's greedy answers."""
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
