"""What ``algolens train`` prints besides its progress bar: the summary tables, the warnings
after start and at the end, and the line after an interrupt."""

from __future__ import annotations

import shlex
import sys
from typing import Any

from algolens.cli.output import console, print_table
from algolens.store import RunStore, default_store_root
from algolens.tasks.registry import get_task


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


def warn_on_start(store: RunStore, run_id: str) -> None:
    """One ``warning:`` line on stderr when a new run's task has a note on it (its spec's
    ``start_note``: a recursion run whose held-out splits hold fewer distinct inputs than asked)."""
    spec = get_task(store.get(run_id).config.get("task"))
    text = spec.start_note(store, run_id) if spec.start_note is not None else None
    if text is not None:
        print(f"warning: {text}", file=sys.stderr)


def warn_not_learned(summary: dict[str, Any]) -> None:
    """One ``warning:`` line on stderr when a sequence run did not learn
    (:func:`algolens.train.learned.not_learned_line`)."""
    from algolens.train.learned import not_learned_line

    line = not_learned_line(summary)
    if line is not None:
        print(line, file=sys.stderr)


def interrupted_message(run_id: str | None, store: RunStore) -> str:
    """The line printed after Ctrl-C or SIGTERM: the command that resumes the run."""
    if run_id is None:
        return "interrupted before the run was created; nothing was saved"
    flag = ""
    if store.root.resolve() != default_store_root().resolve():
        flag = f" --store {shlex.quote(str(store.root))}"
    return f"interrupted: run {run_id} continues with `algolens train --resume {run_id}{flag}`"
