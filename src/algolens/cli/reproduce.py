"""`algolens reproduce PAPER`: run a paper's protocol and print each claim beside our figure."""

from __future__ import annotations

import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, cast

import typer

from algolens.cli.app import app
from algolens.cli.device_option import DeviceOpt, command_device
from algolens.cli.executor_options import (
    AddressOpt,
    CpusOpt,
    MaxRetriesOpt,
    ThreadsOpt,
    WorkersOpt,
    executor_settings,
)
from algolens.cli.interrupt import sigterm_as_interrupt
from algolens.cli.output import console, print_json, print_table, progress_console
from algolens.cli.runs import StoreOpt
from algolens.destination import check_destination
from algolens.errors import ConfigError, SpecError
from algolens.reproductions import (
    REPRODUCTIONS,
    claims_markdown,
    load_reproduction,
    machine_description,
)
from algolens.reproductions.claims import KINDS, Mode, Scale, tally_line, verdict
from algolens.reproductions.fanout import check_fan_out, train_in_parallel
from algolens.reproductions.registry import check_mode, run_reproduction
from algolens.store import RunStore


@app.command("reproduce")
def reproduce(
    paper: Annotated[
        str, typer.Argument(help=f"Paper key: {', '.join(REPRODUCTIONS)}.", show_default=False)
    ],
    quick: Annotated[
        bool,
        typer.Option(
            "--quick",
            help="The default: the smallest protocol, minutes on 2 CPU cores (each paper's "
            "record says what it can and cannot test).",
        ),
    ] = False,
    standard: Annotated[
        bool,
        typer.Option(
            "--standard",
            help="The smallest protocol at which the paper's effect can exist, designed for at "
            "most 3 hours on 2 CPU cores (chughtai2023, stander2024, brinkmann2024, zhang2023; "
            "resumes runs already in the store).",
        ),
    ] = False,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="The paper's protocol (long; resumes runs already in the store).",
        ),
    ] = False,
    store: StoreOpt = None,
    doc: Annotated[
        Path | None,
        typer.Option(
            help="Write the markdown record (claims table, command, machine, date) here (a new "
            "or regular file in an existing folder, checked before training); --full writes "
            "docs/reproductions/PAPER.md unless given.",
            show_default=False,
        ),
    ] = None,
    json_out: Annotated[
        bool,
        typer.Option(
            "--json",
            help='Print one {"claim","paper","ours","agree","kind"} per row; only kind '
            '"paper" rows are judged and counted ("check": our own targets; "context": no '
            "paper value).",
        ),
    ] = False,
    executor: Annotated[
        str | None,
        typer.Option(
            help="Train the protocol's runs in parallel first, as one resumable sweep: local "
            "(this machine's cores) or ray (a Ray cluster); then measure as usual (every paper "
            "declares which of its runs are independent; a one-run protocol is a one-run "
            "sweep). Default: one run after another in this process.",
            show_default=False,
        ),
    ] = None,
    workers: WorkersOpt = None,
    threads: ThreadsOpt = None,
    cpus: CpusOpt = 1,
    max_retries: MaxRetriesOpt = 3,
    address: AddressOpt = None,
    device: DeviceOpt = "cpu",
) -> None:
    """Reproduce a paper's claims: train what it trains, measure, compare with its figures.

    Disagreement is a result, not an error: the exit code is 0 whenever the protocol ran. Each
    paper claim says whether our figure agrees with the paper's by the criterion it states (or
    n/a, with the reason, when the protocol cannot test it); our own checks and context figures
    are listed apart and never counted as agreement.

    Examples: `algolens reproduce chughtai2023 --standard`; `algolens reproduce chughtai2023
    --full --executor ray --address auto` (the 50 S5 seeds and the other groups' runs on a
    cluster; run the same command again to resume).

    `--device` decides where the protocol's runs train (in this process, or in the executor's
    workers); the measurements after training compute on the CPU.
    """
    chosen = [m for m, on in (("quick", quick), ("standard", standard), ("full", full)) if on]
    if len(chosen) > 1:
        given = " and ".join("--" + m for m in chosen)
        raise SpecError(f"give one of --quick, --standard, --full, not {given}")
    mode = cast(Mode, chosen[0] if chosen else "quick")
    module = load_reproduction(paper)  # unknown or unbuilt paper: one line, nothing created
    check_mode(paper, module, mode)  # a protocol the paper does not offer: the same
    settings = None
    if executor is not None:
        settings = executor_settings(executor, workers, threads, cpus, max_retries, address, device)
        check_fan_out(paper, module)
    elif workers is not None or threads is not None or address is not None:
        raise ConfigError("--workers, --threads and --address need --executor local or ray")
    # runs trained in this process (with ray: only a run its workers left unfinished)
    here = command_device("cpu" if executor == "ray" else device)
    if doc is None and mode == "full":
        doc = Path("docs") / "reproductions" / f"{paper}.md"
    run_store = RunStore(store)
    if doc is not None:
        check_destination(doc, what="--doc", store=run_store.root)  # before any training
    log = (lambda msg: print(msg, file=sys.stderr)) if json_out else progress_console.print
    t0 = time.perf_counter()
    scale = Scale(mode)
    command = "algolens " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    from algolens.train.device import using_device

    try:
        with sigterm_as_interrupt(), using_device(here):
            if settings is not None:
                train_in_parallel(paper, module, scale, run_store, settings, log=log)
            claims = run_reproduction(module, scale, run_store, log=log)
    except KeyboardInterrupt:  # the run in training is recorded as interrupted by start_run
        print(
            f"interrupted: run the same command again to resume ({command}; finished runs"
            + " are reused, an interrupted one continues from its checkpoint)",
            file=sys.stderr,
        )
        sys.exit(130)
    wall = time.perf_counter() - t0
    if doc is not None:
        from algolens.fileio import write_text_atomic

        date = datetime.now(UTC).strftime("%Y-%m-%d")
        text = claims_markdown(
            module.PAPER, claims, command=command, machine=machine_description(), date=date,
            wall_s=wall,
        )  # fmt: skip
        write_text_atomic(doc, text)
    if json_out:
        print_json([c.to_dict() for c in claims])
        return
    print_table(
        f"{paper} ({mode}): {module.PAPER}",
        ["kind", "claim", "paper", "ours", "agree"],
        [[c.kind, c.claim, c.paper, c.ours, "-" if c.kind == "context" else verdict(c.agree)]
         for c in sorted(claims, key=lambda c: KINDS.index(c.kind))],
    )  # fmt: skip
    console.print(
        f"{tally_line(claims)} in {wall:.0f} s" + (f"; wrote {doc}" if doc is not None else "")
    )
