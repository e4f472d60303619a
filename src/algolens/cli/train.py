"""`algolens train`: train K seeds of a model on a group or a recursion task, from a TOML file or
flags; resume runs."""

from __future__ import annotations

import shlex
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from algolens.cli.app import MAX_THREADS, app
from algolens.cli.device_option import DeviceOpt, command_device
from algolens.cli.output import console, print_json, print_table, progress_console
from algolens.cli.runs import StoreOpt
from algolens.errors import ConfigError
from algolens.store import RunStore, default_store_root
from algolens.tasks.fields import check_task_fields, task_flags
from algolens.tasks.registry import RECIPES, TaskSpec, get_task
from algolens.tasks.traits import has_trait
from algolens.train.config import (
    DEFAULT_RECIPES,
    load_toml_config,
    make_config,
    parse_seeds,
    read_toml_config,
    resolve_task,
)
from algolens.train.describe import describe_run

if TYPE_CHECKING:  # torch and the models load only when a command trains
    from algolens.train.config import TrainConfig
    from algolens.train.trainer import EvalResult


@app.command("train")
def train(
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", dir_okay=False, help="TOML config file; flags override it."),
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
            "recursion (default: the task's preset, early stopping on validation exact match; "
            "docs/recursion.md). Pathfinding: pathfinding (default: brinkmann-cpu with that "
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
        print(_interrupted_message(started[0] if started else None, run_store), file=sys.stderr)
        sys.exit(130)
    if json_out:
        print_json(summary)
    else:
        print_summary(summary, describe_run(run_store.get(summary["run_id"]).config))
    warn_not_learned(summary)


Job = Callable[[Any], dict[str, Any]]
"""``job(progress) -> summary``: the training a ``train`` call runs under its progress bar."""

COMMON_FLAGS: dict[str, str] = {
    "--task": "task", "--model": "model", "--epochs": "epochs", "--lr": "lr",
    "--weight-decay": "weight_decay", "--batch-size": "batch_size", "--eval-every": "eval_every",
}  # fmt: skip
"""The ``train`` flags of every task that set a config field of that name (``--seeds`` is
parsed first; the task's own flags are its :class:`~algolens.tasks.registry.TaskSpec`'s)."""


def config_from_flags(values: dict[str, Any]) -> TrainConfig:
    """The config of a new run from ``train``'s flags (``values``: flag -> value, None when not
    given): the ``--config`` file with the flags on top, or else the ``--recipe`` (default: the
    task's) with them. The task is resolved first (:func:`~algolens.train.config.resolve_task`)
    and a flag of another task refused (:func:`~algolens.tasks.fields.check_task_fields`); the
    task's own flags become overrides by its spec (:func:`task_overrides`).

    Raises:
        ConfigError: a flag of another task, ``--recipe`` or a task's table flag with
            ``--config``, an invalid value. SpecError and others: as the config loaders.
    """
    given = {flag: field for flag, field in task_flags().items() if values[flag] is not None}
    overrides: dict[str, Any] = {field: values[flag] for flag, field in COMMON_FLAGS.items()}
    seeds = values["--seeds"]
    overrides["seeds"] = parse_seeds(seeds) if seeds is not None else None
    path, task, recipe = values["--config"], values["--task"], values["--recipe"]
    if path is None:
        chosen, why = resolve_task(task, recipe)
        check_task_fields(chosen, given, why)
        recipe = recipe or DEFAULT_RECIPES.get(chosen, "fast")
        overrides.update(task_overrides(get_task(chosen), values, recipe))
        return make_config(recipe, **overrides)
    if recipe is not None:
        raise ConfigError("--recipe cannot be combined with --config; set recipe in the file")
    file_data = read_toml_config(path)
    chosen, why = resolve_task(task or file_data.get("task"), file_data.get("recipe"))
    check_task_fields(chosen, given, why)
    spec = get_task(chosen)
    section = list(spec.section_flags())
    if any(values[f] is not None for f in section):
        raise ConfigError(
            f"{_and(section)} cannot be combined with --config; set "
            f"{'them' if len(section) > 1 else 'it'} in the file's [{spec.section}] table"
        )
    overrides.update(task_overrides(spec, values, None))
    return load_toml_config(path, **overrides)


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


def task_overrides(spec: TaskSpec, values: dict[str, Any], recipe: str | None) -> dict[str, Any]:
    """The config overrides of the task's own flags (``values``: flag -> value, None when not
    given): a field flag sets its field; section flags fill the task's settings table, on top of
    the recipe's table (``recipe``; None: the table comes from a config file)."""
    out: dict[str, Any] = {}
    table: dict[str, Any] = {}
    for flag, field in spec.flags.items():
        if values[flag] is None:
            continue
        if field == spec.section:
            table[flag.removeprefix("--").replace("-", "_")] = values[flag]
        else:
            out[field] = values[flag]
    if spec.section is not None and recipe is not None:
        table = {**(RECIPES[recipe].get(spec.section) or {}), **table}
        out[spec.section] = table or None
    return out


def warn_on_start(store: RunStore, run_id: str) -> None:
    """One ``warning:`` line on stderr when a new run's task has a note on it (its spec's
    ``start_note``: a recursion run whose held-out splits hold fewer distinct inputs than asked)."""
    spec = get_task(store.get(run_id).config.get("task"))
    text = spec.start_note(store, run_id) if spec.start_note is not None else None
    if text is not None:
        print(f"warning: {text}", file=sys.stderr)


def _and(items: list[str]) -> str:
    """``a, b and c``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def warn_not_learned(summary: dict[str, Any]) -> None:
    """One ``warning:`` line on stderr when a sequence run did not learn
    (:func:`algolens.train.learned.not_learned_line`)."""
    from algolens.train.learned import not_learned_line

    line = not_learned_line(summary)
    if line is not None:
        print(line, file=sys.stderr)


def _interrupted_message(run_id: str | None, store: RunStore) -> str:
    """The line printed after Ctrl-C or SIGTERM: the command that resumes the run."""
    if run_id is None:
        return "interrupted before the run was created; nothing was saved"
    flag = ""
    if store.root.resolve() != default_store_root().resolve():
        flag = f" --store {shlex.quote(str(store.root))}"
    return f"interrupted: run {run_id} continues with `algolens train --resume {run_id}{flag}`"


def _flag_values(local: dict[str, Any]) -> dict[str, Any]:
    names = ("config", "group", "task", "nodes", "function", "max_size", "sampling", "oversample",
             "n_train", "model", "seeds", "epochs", "recipe", "train_frac", "lr",
             "weight_decay", "batch_size", "eval_every")  # fmt: skip
    return {f"--{n.replace('_', '-')}": local[n] for n in names}


def with_progress(job: Any, total: int | None, quiet: bool) -> dict[str, Any]:
    """Run ``job(progress_fn)`` under a rich progress bar with live losses (none if quiet).

    SIGTERM is turned into KeyboardInterrupt meanwhile, so a terminated run is recorded as
    ``interrupted`` (SIGKILL leaves it ``running``; both resume from the last checkpoint).
    """
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        return _run_with_bar(job, total, quiet)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _run_with_bar(job: Any, total: int | None, quiet: bool) -> dict[str, Any]:
    if quiet:
        return job(None)
    columns = (
        TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("eta"), TimeRemainingColumn(), TextColumn("{task.fields[stats]}"),
    )  # fmt: skip
    # started at the first epoch: an error before training (a bad checkpoint) is its one line
    bar = Progress(*columns, console=progress_console, transient=False)
    task = bar.add_task("train", total=total, stats="")
    last_val = [""]  # the latest validation exact match (worst seed), kept between checks

    def update(epoch: int, result: EvalResult | None) -> None:
        if not bar.live.is_started:
            bar.start()
        if result is None:
            bar.update(task, completed=epoch)
            return
        tr, te, acc = result.train_loss.mean(), result.test_loss.mean(), result.test_acc.mean()
        stats = f"train loss {tr:.3g}  test loss {te:.3g}  test acc {acc:.3f}"
        val = getattr(result, "val_exact", None)  # sequence runs with early stopping
        if val is not None:
            last_val[0] = f"  val exact {val.min():.3f}"
        bar.update(task, completed=epoch, stats=stats + last_val[0])

    try:
        return job(update)
    except Exception:  # the error's one line, without the bar's last frame before it
        progress_console.quiet = True
        raise
    finally:
        bar.stop()
        progress_console.quiet = False


def print_summary(summary: dict[str, Any], what: str) -> None:
    """The per-seed table and the grokking line of a run's summary; ``what`` is
    :func:`~algolens.train.describe.describe_run` of its config."""
    rows = [
        [
            r["seed"],
            r["grok_epoch"] if r["grok_epoch"] is not None else ("failed" if r["failed"] else "-"),
            f"{r.get('train_acc', float('nan')):.4f}",
            f"{r.get('test_acc', float('nan')):.4f}",
            f"{r.get('test_loss', float('nan')):.3g}",
        ]
        for r in summary["seeds"]
    ]
    print_table(
        f"run {summary['run_id']}: {what} {summary['model']}",
        ["seed", "grok epoch", "train acc", "test acc", "test loss"],
        rows,
    )
    if "splits" in summary:
        print_table(
            "exact-match accuracy per split (mean over seeds): teacher-forced / greedy",
            ["split", "examples", "teacher-forced", "greedy"],
            [
                [name, m["n"], f"{_mean(m['tf_acc']):.4f}", f"{_mean(m['greedy_acc']):.4f}"]
                for name, m in summary["splits"].items()
            ],
        )
    console.print(
        f"{summary['n_grokked']}/{len(rows)} seeds grokked (median epoch "
        f"{summary['median_grok_epoch']}), {summary['epochs']} epochs in {summary['wall_s']:.1f} s"
    )


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else float("nan")
