"""`algolens reproduce PAPER`: run a paper's protocol and print each claim beside our figure."""

from __future__ import annotations

import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from algolens.cli.app import app
from algolens.cli.output import console, print_json, print_table, progress_console
from algolens.cli.runs import StoreOpt
from algolens.destination import check_destination
from algolens.recipes import REPRODUCTIONS, claims_markdown, load_reproduction, machine_description
from algolens.recipes.claims import KINDS, tally_line, verdict
from algolens.store import RunStore


@app.command("reproduce")
def reproduce(
    paper: Annotated[
        str, typer.Argument(help=f"Paper key: {', '.join(REPRODUCTIONS)}.", show_default=False)
    ],
    quick: Annotated[
        bool,
        typer.Option(
            "--quick/--full",
            help="--quick fits the issue's time budget on 2 CPU cores; --full runs the paper's "
            "protocol (long; resumes runs already in the store).",
        ),
    ] = True,
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
) -> None:
    """Reproduce a paper's claims: train what it trains, measure, compare with its figures.

    Disagreement is a result, not an error: the exit code is 0 whenever the protocol ran. Each
    paper claim says whether our figure agrees with the paper's by the criterion it states (or
    n/a, with the reason, when the protocol cannot test it); our own checks and context figures
    are listed apart and never counted as agreement.
    """
    module = load_reproduction(paper)  # unknown or unbuilt paper: one line, nothing created
    mode = "quick" if quick else "full"
    if doc is None and mode == "full":
        doc = Path("docs") / "reproductions" / f"{paper}.md"
    run_store = RunStore(store)
    if doc is not None:
        check_destination(doc, what="--doc", store=run_store.root)  # before any training
    log = (lambda msg: print(msg, file=sys.stderr)) if json_out else progress_console.print
    t0 = time.perf_counter()
    claims = module.reproduce(mode, run_store, log=log)
    wall = time.perf_counter() - t0
    if doc is not None:
        from algolens.fileio import write_text_atomic

        command = "algolens " + " ".join(shlex.quote(a) for a in sys.argv[1:])
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
