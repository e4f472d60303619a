"""`algolens report RUN`: analyse a trained run and write its HTML report."""

from __future__ import annotations

from typing import Annotated

import typer

from algolens.cli.app import app
from algolens.cli.output import console, print_json
from algolens.cli.runs import StoreOpt
from algolens.store import RunStore


@app.command("report")
def report(
    run: Annotated[
        str, typer.Argument(help="Run id (or a unique prefix), see `algolens runs list`.")
    ],
    store: StoreOpt = None,
    json: Annotated[bool, typer.Option("--json", help="Print the analyses as JSON.")] = False,
) -> None:
    """Write <run folder>/report.html for a group-composition run.

    Sections: training curves (grokking epochs marked), the irreps each seed learned, universality
    over the seeds (beside the paper's 50 S5 MLP seeds for S5 MLP runs), progress measures over
    checkpoints, and the coset analysis (MLP runs). Analyses already stored in the run folder
    (`algolens analyze`) are rendered as they are; missing ones are computed and stored first
    (progress over checkpoints for the first 4 seeds only; analyse others with
    `algolens analyze RUN --checkpoints --instance K`).
    """
    from algolens.report.composition import composition_report

    st = RunStore(store)
    with console.status(f"analysing run {run}", spinner="dots"):
        path, analyses = composition_report(st, run)
    if json:
        print_json({"report": str(path), "seeds": [a.to_dict() for a in analyses]})
        return
    for k, a in enumerate(analyses):
        console.print(
            f"instance {k}: key irreps {', '.join(a.key) or 'none'}; logit FVE {a.logit_fve:.3f}; "
            f"W_a/W_b/W_U FVE {a.weight_fve['W_a']:.3f}/{a.weight_fve['W_b']:.3f}/"
            f"{a.weight_fve['W_U']:.3f}"
        )
    console.print(f"wrote {path}")
