"""`algolens predict RUN INPUT`: a trained model's greedy answer to one input, beside the truth."""

from __future__ import annotations

from typing import Annotated

import typer

from algolens.cli.app import app
from algolens.cli.output import console, print_json
from algolens.cli.runs import StoreOpt
from algolens.store import RunStore


@app.command("predict")
def predict(
    run: Annotated[str, typer.Argument(help="Run id (or a unique prefix).")],
    text: Annotated[
        str, typer.Argument(metavar="INPUT", help="The input as the task writes it: 'B1 B0 B1 Z'.")
    ],
    instance: Annotated[int, typer.Option(help="Which seed of the run (0-based).")] = 0,
    store: StoreOpt = None,
    json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Print seed K's greedy answer to INPUT and the true answer (recursion runs)."""
    from algolens.train.predict import predict as run_predict

    result = run_predict(RunStore(store), run, text, instance)
    if json:
        print_json(result)
        return
    verdict = {True: "correct", False: "wrong", None: "truth unknown"}[result["correct"]]
    console.print(f"input      {result['input']}")
    console.print(f"prediction {result['prediction']}")
    console.print(f"expected   {result['expected'] or '(not in the stored dataset)'}  ({verdict})")
