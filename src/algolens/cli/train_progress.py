"""The progress bar of a training job (``algolens train``, ``algolens demo``): live losses on
stderr, SIGTERM turned into KeyboardInterrupt while it runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from algolens.cli.interrupt import sigterm_as_interrupt
from algolens.cli.output import progress_console

if TYPE_CHECKING:  # torch and the models load only when a command trains
    from algolens.train.trainer import EvalResult


def with_progress(job: Any, total: int | None, quiet: bool) -> dict[str, Any]:
    """Run ``job(progress_fn)`` under a rich progress bar with live losses (none if quiet).

    SIGTERM is turned into KeyboardInterrupt meanwhile, so a terminated run is recorded as
    ``interrupted`` (SIGKILL leaves it ``running``; both resume from the last checkpoint).
    """
    with sigterm_as_interrupt():
        return _run_with_bar(job, total, quiet)


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
