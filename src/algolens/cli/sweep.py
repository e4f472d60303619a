"""`algolens sweep`: train a grid of configurations (one batched run each) on every core of this
machine or on a Ray cluster; resume it by running it again."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from algolens.cli.app import app
from algolens.cli.device_option import DeviceOpt
from algolens.cli.executor_options import (
    AddressOpt,
    CpusOpt,
    MaxRetriesOpt,
    ThreadsOpt,
    WorkersOpt,
    executor_settings,
)
from algolens.cli.interrupt import sigterm_as_interrupt
from algolens.cli.output import print_json, print_table
from algolens.cli.runs import StoreOpt

EXIT_FAILED = 1
"""Exit code when a configuration failed or is busy (bad input exits with 2)."""


@app.command("sweep")
def sweep(
    config: Annotated[
        Path,
        typer.Argument(dir_okay=False, help=escape("Sweep file (TOML with [base] and [grid]).")),
    ],
    executor: Annotated[
        str, typer.Option(help="Where runs train: local (this machine's cores) or ray.")
    ] = "local",
    store: StoreOpt = None,
    workers: WorkersOpt = None,
    threads: ThreadsOpt = None,
    cpus: CpusOpt = 1,
    max_retries: MaxRetriesOpt = 3,
    address: AddressOpt = None,
    device: DeviceOpt = "cpu",
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Resume failed runs too (default: report).")
    ] = False,
    plan_only: Annotated[
        bool, typer.Option("--plan", help="Validate and list the configurations; train nothing.")
    ] = False,
    status_only: Annotated[
        bool,
        typer.Option("--status", help="Print the sweep's summary from the store; train nothing."),
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Train every configuration of a sweep file as one batched run of the base's seeds.

    The file has a \\[base] table (any train config field) and a \\[grid] table of lists; their
    Cartesian product gives the configurations (docs/sweeps.md). Runs are tagged with the sweep
    id (list them with `algolens runs list --sweep ID`). Running the same file again resumes the
    sweep: finished runs are skipped, interrupted ones resumed from their last checkpoint, failed
    ones reported. Exit code 1 if a configuration failed.

    `--status` prints the summary from the store (configurations without a run are pending)
    and trains nothing.

    Examples: `algolens sweep s5.toml`; `algolens sweep s5.toml --executor ray --json`;
    `algolens sweep s5.toml --executor ray --address auto` (an existing cluster).
    """
    from algolens.store import RunStore
    from algolens.sweep import load_sweep, run_sweep, sweep_status

    settings = executor_settings(executor, workers, threads, cpus, max_retries, address, device)
    plan = load_sweep(config)
    run_store = RunStore(store)
    if plan_only:
        rows = [[c.index, c.label(), c.config.n_inst] for c in plan.configurations]
        if json_out:
            print_json({"sweep": plan.sweep_id, "configurations": [
                {"index": c.index, "point": c.point, "config": c.config.to_dict()}
                for c in plan.configurations]})  # fmt: skip
        else:
            print_table(f"sweep {plan.sweep_id}", ["#", "configuration", "seeds"], rows)
        return
    if status_only:
        summary = sweep_status(plan, run_store)
        if json_out:
            print_json(summary)
        else:
            _print_summary(summary)
        return
    try:
        with sigterm_as_interrupt():
            summary = run_sweep(plan, run_store, settings, retry_failed=retry_failed, log=_log)
    except KeyboardInterrupt:
        flag = f" --store {shlex.quote(str(run_store.root))}" if store is not None else ""
        print(f"interrupted: sweep {plan.sweep_id} continues with `algolens sweep "
              f"{shlex.quote(str(config))}{flag}`", file=sys.stderr)  # fmt: skip
        sys.exit(130)
    if json_out:
        print_json(summary)
    else:
        _print_summary(summary)
    if summary["statuses"].get("completed", 0) < summary["n_configurations"]:
        raise typer.Exit(EXIT_FAILED)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _print_summary(summary: dict) -> None:
    rows = [
        [r["index"], " ".join(f"{k}={v}" for k, v in r["point"].items()), r["run_id"] or "-",
         r["status"], r["action"], f"{r['n_grokked']}/{r['n_seeds']}",
         r["median_grok_epoch"] if r["median_grok_epoch"] is not None else "-",
         f"{r['mean_test_acc']:.4f}" if r["mean_test_acc"] is not None else "-"]
        for r in summary["configurations"]
    ]  # fmt: skip
    print_table(
        f"sweep {summary['sweep']} ({summary['executor']})",
        ["#", "configuration", "run", "status", "action", "grokked", "median grok", "test acc"],
        rows,
    )
    trained = f"{summary['model_epochs']} model-epochs trained in {summary['wall_s']:.1f} s; "
    if summary["executor"] == "none":  # --status
        trained = ""
    print(f"{trained}list the runs with `algolens runs list --sweep {summary['sweep']}`")
