"""`algolens report`: a run's HTML report, the store index page, or a sweep's page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from algolens.cli.app import app
from algolens.cli.output import console, print_json, status
from algolens.cli.runs import StoreOpt, writes_to_store
from algolens.cli.weights import CheckpointOpt, chosen_epoch, note_weights
from algolens.errors import ConfigError
from algolens.store import RunStore


@app.command("report")
@writes_to_store
def report(
    run: Annotated[
        str | None,
        typer.Argument(help="Run id (or a unique prefix), see `algolens runs list`."),
    ] = None,
    index: Annotated[
        bool, typer.Option("--index", help="Write <store>/index.html listing every run.")
    ] = False,
    sweep: Annotated[
        str | None,
        typer.Option(help="Write the page of this sweep (id or unique prefix) over its runs."),
    ] = None,
    store: StoreOpt = None,
    checkpoint: CheckpointOpt = None,
    json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Write an HTML page that opens offline (plotly and all scripts inlined).

    RUN: <run folder>/report.html with the config, training curves (grokking epochs marked),
    accuracy by split (recursion runs) and a section for every stored analysis. Group
    composition runs also get the irreps each seed learned, universality over the seeds and
    progress measures over checkpoints; their missing irreps, progress (first 4 seeds) and coset
    analyses (MLP runs) are computed and stored first. --index: <store>/index.html, every run
    with status, task, seeds, grokking and accuracy, sortable and filterable, linking each
    run's report. --sweep ID: the sweep's universality tables and distributions over seeds and
    configurations. RUN --checkpoint EPOCH|FILE (composition runs): the irreps of that
    checkpoint in <run folder>/report-epoch_NNNNNNNN.html (nothing stored).
    """
    chosen = [x for x in (run is not None, index, sweep is not None) if x]
    if len(chosen) != 1:
        raise ConfigError("give exactly one of RUN, --index or --sweep ID")
    if checkpoint is not None and run is None:
        raise ConfigError("--checkpoint belongs to a RUN's report, not --index or --sweep")
    st = RunStore(store)
    if index:
        from algolens.report.index import store_index

        _done({"index": str(store_index(st))}, json)
        return
    if sweep is not None:
        from algolens.analysis.ensure import ensure_sweep_irreps
        from algolens.report.sweep import sweep_report

        why = ensure_sweep_irreps(st, sweep)
        _done({"sweep": str(sweep_report(st, sweep, why=why))}, json)
        return
    assert run is not None
    epoch = chosen_epoch(st, run, checkpoint)
    with status(f"analysing run {run}"):
        path, analyses = write_run_report(st, run, epoch)
    used = note_weights(st, run, epoch) if analyses else None
    if json:
        out = {"report": str(path), "seeds": [a.to_dict() for a in analyses]}
        print_json(out if used is None else {**out, "weights": used})
        return
    for k, a in enumerate(analyses):
        console.print(
            f"instance {k}: key irreps {', '.join(a.key) or 'none'}; logit FVE {a.logit_fve:.3f}; "
            f"W_a/W_b/W_U FVE {a.weight_fve['W_a']:.3f}/{a.weight_fve['W_b']:.3f}/"
            f"{a.weight_fve['W_U']:.3f}"
        )
    console.print(f"wrote {path}")


def write_run_report(store: RunStore, run: str, epoch: int | None = None) -> tuple[Path, list[Any]]:
    """The run's report as ``algolens report RUN`` writes it: the default analyses computed and
    stored where missing (:func:`algolens.analysis.ensure.ensure_defaults`), then rendered from
    the store (:func:`algolens.report.run.run_report`); with ``epoch``, the irreps of that
    checkpoint (computed, not stored) rendered in its own file."""
    from algolens.analysis.ensure import checkpoint_irreps, ensure_defaults
    from algolens.report.run import run_report

    if epoch is not None:
        return run_report(store, run, checkpoint=checkpoint_irreps(store, run, epoch))
    ensure_defaults(store, run)
    return run_report(store, run)


def _done(written: dict[str, str], json: bool) -> None:
    if json:
        print_json(written)
    else:
        console.print(f"wrote {next(iter(written.values()))}")
