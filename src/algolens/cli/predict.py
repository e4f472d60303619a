"""`algolens predict RUN INPUT`: a trained model's answer to one input, beside the truth."""

from __future__ import annotations

from typing import Annotated

import typer

from algolens.cli.app import app
from algolens.cli.output import print_json, print_text
from algolens.cli.runs import StoreOpt
from algolens.cli.weights import CheckpointOpt, chosen_epoch, note_weights
from algolens.store import RunStore


@app.command("predict")
def predict(
    run: Annotated[str, typer.Argument(help="Run id (or a unique prefix).")],
    text: Annotated[
        str,
        typer.Argument(
            metavar="INPUT",
            help="The input as the task writes it: 'B1 B0 B1 Z' (recursion), two group "
            "elements 'a b' as labels or indices (composition), or a tree "
            "'2>0,2>1,1>3|3:2' (path-finding: edges, |, goal, :, root).",
        ),
    ],
    instance: Annotated[int, typer.Option(help="Which seed of the run (0-based).")] = 0,
    store: StoreOpt = None,
    checkpoint: CheckpointOpt = None,
    json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Print seed K's answer to INPUT and the true answer: the greedy answer of a recursion run,
    or a composition run's prediction of a·b beside the group table's, or a path-finding run's
    greedy path from the root to the goal. The weights are the run's final ones, else (an
    unfinished run, or --checkpoint) a checkpoint's, said in one line on stderr; --json adds
    "weights", "epoch" and "final"."""
    from algolens.train.predict import predict as run_predict

    st = RunStore(store)
    epoch = chosen_epoch(st, run, checkpoint)
    result = run_predict(st, run, text, instance, epoch=epoch)
    note_weights(st, run, epoch)
    if json:
        print_json(result)
        return
    verdict = {True: "correct", False: "wrong", None: "truth unknown"}[result["correct"]]
    print_text(f"input      {result['input']}")
    print_text(f"prediction {result['prediction']}")
    print_text(f"expected   {result['expected'] or '(not in the stored dataset)'}  ({verdict})")
