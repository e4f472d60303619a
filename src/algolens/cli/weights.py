"""The ``--checkpoint EPOCH|FILE`` option of ``analyze``, ``predict`` and ``report``, and the
one stderr line saying which weights a command reads when they are not the run's final ones."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from algolens.store import RunStore

CheckpointOpt = Annotated[
    str | None,
    typer.Option(
        "--checkpoint",
        metavar="EPOCH|FILE",
        help="Use this checkpoint of the run instead of its final weights: an epoch (300 reads "
        "checkpoints/epoch_00000300.safetensors) or one of the run's own checkpoint files "
        "(see `algolens runs show`).",
        show_default=False,
    ),
]


def chosen_epoch(store: RunStore, run: str, choice: str | None) -> int | None:
    """The epoch ``--checkpoint`` names in ``run`` (None when not given); ConfigError else."""
    from algolens.train.load import checkpoint_epoch

    return checkpoint_epoch(store, run, choice)


def note_weights(store: RunStore, run: str, epoch: int | None) -> dict[str, Any]:
    """:func:`algolens.train.load.weights_used`, and one line on stderr when the weights are
    not the run's final ones (a chosen checkpoint, or the latest of an unfinished run)."""
    from algolens.train.load import weights_used

    used = weights_used(store, run, epoch)
    if not used["final"]:
        why = "as asked" if epoch is not None else "the run has no final weights (unfinished)"
        run_id = store.get(run).id
        print(
            f"note: run {run_id}: using checkpoint {used['weights']} (epoch {used['epoch']}): "
            f"{why}",
            file=sys.stderr,
        )
    return used
