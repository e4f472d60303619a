"""`algolens train`: train K seeds of a model on a group or a recursion task, from a TOML file or
flags; resume runs."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from algolens.cli.app import MAX_THREADS, app
from algolens.cli.device_option import DeviceOpt, command_device
from algolens.cli.output import print_json
from algolens.cli.runs import StoreOpt
from algolens.cli.train_flags import config_from_flags
from algolens.cli.train_output import (
    interrupted_message,
    print_summary,
    warn_not_learned,
    warn_on_start,
)
from algolens.cli.train_progress import with_progress
from algolens.errors import ConfigError
from algolens.store import RunStore
from algolens.tasks.traits import has_trait
from algolens.train.describe import describe_run

if TYPE_CHECKING:  # torch and the models load only when a command trains
    from algolens.train.config import TrainConfig


@app.command("train")
def train(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            dir_okay=False,
            help="TOML config file; flags override its fields, except the task's table flags "
            "(--max-size, --n-train, ...: set them in its [recursion] or [pathfinding] table). "
            "Without a recipe key it gets the task's default recipe.",
        ),
    ] = None,
    group: Annotated[
        str | None, typer.Option(help="Group spec: S5, A5, C113, D59, S3xC2...")
    ] = None,
    task: Annotated[
        str | None,
        typer.Option(
            help="Task: composition (default), recursion or pathfinding; a flag of another task "
            "is refused. --recipe brinkmann or brinkmann-cpu alone means pathfinding."
        ),
    ] = None,
    nodes: Annotated[
        int | None, typer.Option(help="Pathfinding: tree size N (paper 16; brinkmann-cpu 6).")
    ] = None,
    function: Annotated[
        str | None,
        typer.Option(
            help="Recursion: successor, predecessor, add, preorder, inorder, postorder, mirror, "
            "or FILE.py:NAME (see docs/recursion.md)."
        ),
    ] = None,
    max_size: Annotated[
        int | None, typer.Option(help="Recursion: largest training size (bits or nodes).")
    ] = None,
    sampling: Annotated[
        str | None, typer.Option(help="Recursion: uniform or balanced sampling.")
    ] = None,
    oversample: Annotated[
        float | None, typer.Option(help="Recursion: share of examples from the rare tail.")
    ] = None,
    n_train: Annotated[int | None, typer.Option(help="Recursion: training examples.")] = None,
    model: Annotated[str | None, typer.Option(help="Model kind: mlp or transformer.")] = None,
    seeds: Annotated[
        str | None, typer.Option(help="Seeds trained together, e.g. 0-31 or 1,2,5.")
    ] = None,
    epochs: Annotated[int | None, typer.Option(help="Maximum epochs.")] = None,
    recipe: Annotated[
        str | None,
        typer.Option(
            help="Recipe giving the defaults: fast (groks S5 to 99.9 % test accuracy in seconds "
            "to a minute; see docs/training.md) or "
            "paper (the papers' AdamW settings, float64 loss); default fast. Recursion: "
            "recursion or recursion-trees (the task's presets, early stopping on validation "
            "exact match; the default is picked by the function's domain: recursion-trees, "
            "20,000 draws and 20 epochs, for a function of a tree; docs/recursion.md). "
            "Pathfinding: pathfinding (default: brinkmann-cpu with that "
            "early stopping), brinkmann (the paper's model and optimiser) or brinkmann-cpu "
            "(docs/pathfinding.md). A recipe of another task than --task is refused."
        ),
    ] = None,
    train_frac: Annotated[float | None, typer.Option(help="Fraction of pairs to train on.")] = None,
    lr: Annotated[float | None, typer.Option(help="AdamW learning rate.")] = None,
    weight_decay: Annotated[float | None, typer.Option(help="AdamW weight decay.")] = None,
    batch_size: Annotated[
        int | None, typer.Option(help="Minibatch size (default full batch).")
    ] = None,
    eval_every: Annotated[int | None, typer.Option(help="Evaluate every N epochs.")] = None,
    resume: Annotated[
        str | None, typer.Option(help="Continue the interrupted run with this id (or prefix).")
    ] = None,
    checkpoint: Annotated[
        str | None,
        typer.Option(
            metavar="EPOCH|FILE",
            help="With --resume: continue from this checkpoint (an epoch, or one of the run's "
            "checkpoint files) instead of the last one; the later ones are removed.",
            show_default=False,
        ),
    ] = None,
    store: StoreOpt = None,
    threads: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=MAX_THREADS,
            help="CPU threads, at most the CPU count: a K-seed run trains its instance chunks on "
            "that many worker threads (one torch thread each).",
        ),
    ] = None,
    device: DeviceOpt = "cpu",
    json_out: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Train K seeds as one batched model and report when each one groks.

    A run goes into the run store (SQLite index plus a folder with config.json, metrics.jsonl,
    checkpoints/*.safetensors). Stop it any time; `algolens train --resume RUN` continues from
    the last checkpoint and ends with the same weights as an uninterrupted run.

    `--task recursion --function NAME` trains a transformer on a recursive function of binary
    numbers or trees instead (docs/recursion.md); its summary adds exact-match accuracy per split.
    A sequence run that ends below 95 % greedy exact match on its test split prints one
    `warning:` line saying it did not learn and what to try.
    `--task pathfinding [--nodes N]` trains Brinkmann et al.'s tree path-finding transformer
    (docs/pathfinding.md); its summary adds exact-path test accuracy by path length.
    `--device` applies to `--resume` too; a run resumed on another device than the one its
    checkpoint was written on continues, with one `warning:` line.

    Examples: `algolens train --group S5 --seeds 0-3 --recipe fast`;
    `algolens train --task recursion --function successor`;
    `algolens train --config s5.toml --json`; `algolens train --resume 20261122-0427`.
    """
    import torch

    from algolens.train.device import using_device

    on = command_device(device)  # before the store is touched
    if threads is not None:
        torch.set_num_threads(threads)
    run_store = RunStore(store)
    values = _flag_values(locals())
    if checkpoint is not None and resume is None:
        raise ConfigError("--checkpoint belongs to --resume RUN (the checkpoint to continue from)")
    if resume is not None:
        job, started, total = _resume_job(run_store, resume, checkpoint, values)
    else:
        job, started, total = _start_job(run_store, config_from_flags(values))
    try:
        with using_device(on):
            summary = with_progress(job, total, json_out)
    except KeyboardInterrupt:
        print(interrupted_message(started[0] if started else None, run_store), file=sys.stderr)
        sys.exit(130)
    if json_out:
        print_json(summary)
    else:
        print_summary(summary, describe_run(run_store.get(summary["run_id"]).config))
    warn_not_learned(summary)


Job = Callable[[Any], dict[str, Any]]
"""``job(progress) -> summary``: the training a ``train`` call runs under its progress bar."""


def _resume_job(
    store: RunStore, resume: str, checkpoint: str | None, values: dict[str, Any]
) -> tuple[Job, list[str], int | None]:
    """``(job, [run id], total)`` continuing run ``resume`` with its saved config (from
    ``checkpoint`` if given); any config flag in ``values`` is refused."""
    from algolens.train.run import resume_run

    given = [name for name, v in values.items() if v is not None]
    if given:
        raise ConfigError(
            f"--resume continues a run with its saved config; drop {', '.join(given)}"
        )
    started = [store.get(resume).id]

    def job(progress: Any) -> dict[str, Any]:
        return resume_run(store, started[0], progress=progress, checkpoint=checkpoint)

    return job, started, None


def _start_job(store: RunStore, cfg: TrainConfig) -> tuple[Job, list[str], int | None]:
    """``(job, run ids started, total epochs)`` of a new run of ``cfg``; a group task's group is
    resolved now, so a bad group or fraction fails before any progress bar (a recursion run's
    function runs inside ``start_run``, before its run folder exists)."""
    from algolens.tasks.composition.training import build_task
    from algolens.train.run import start_run

    resolved = build_task(cfg).group if has_trait(cfg.task, "group") else None
    started: list[str] = []

    def on_start(run_id: str) -> None:
        started.append(run_id)
        warn_on_start(store, run_id)

    def job(progress: Any) -> dict[str, Any]:
        return start_run(cfg, store, progress=progress, on_start=on_start, group=resolved)

    return job, started, cfg.epochs


def _flag_values(local: dict[str, Any]) -> dict[str, Any]:
    names = ("config", "group", "task", "nodes", "function", "max_size", "sampling", "oversample",
             "n_train", "model", "seeds", "epochs", "recipe", "train_frac", "lr",
             "weight_decay", "batch_size", "eval_every")  # fmt: skip
    return {f"--{n.replace('_', '-')}": local[n] for n in names}
