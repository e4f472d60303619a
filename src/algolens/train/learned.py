"""Whether a sequence-task run learned its task, and the one line that says when it did not.

A run's summary holds, for sequence tasks, the greedy exact match of every seed on the
in-distribution test split (``splits["test"]["greedy_acc"]``). :func:`outcome` adds to the summary

* ``early_stop``: the stopper's record (where and why the run stopped; runs with ``exact_stop``),
* ``learned``: ``{"threshold", "test_exact", "learned"}``, ``learned`` true when every seed
  reaches :data:`LEARNED_THRESHOLD`;

:func:`not_learned_line` is the ``warning:`` line ``algolens train`` prints on stderr for a run
that did not learn, and :func:`learned_status` the mark of ``runs list`` and the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LEARNED_THRESHOLD = 0.95
"""Greedy exact match on the in-distribution test split below which a run did not learn."""
NOT_LEARNED = "did not learn"


def outcome(trainer: Any, splits: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``early_stop`` and ``learned`` summary entries of ``trainer`` (either may be absent:
    no stopper, or no greedy test figure)."""
    out: dict[str, Any] = {}
    stopper = getattr(trainer, "stopper", None)
    if stopper is not None:
        out["early_stop"] = stopper.summary(trainer.epoch, trainer.config.epochs)
    test = (splits or {}).get("test")
    if isinstance(test, Mapping) and test.get("greedy_acc"):
        exact = [float(x) for x in test["greedy_acc"]]
        out["learned"] = {
            "threshold": LEARNED_THRESHOLD,
            "test_exact": exact,
            "learned": min(exact) >= LEARNED_THRESHOLD,
        }
    return out


def learned_status(summary: Mapping[str, Any]) -> str | None:
    """``"did not learn"`` for a summary whose ``learned`` entry says so, else None."""
    verdict = summary.get("learned")
    if isinstance(verdict, Mapping) and verdict.get("learned") is False:
        return NOT_LEARNED
    return None


def not_learned_line(summary: Mapping[str, Any]) -> str | None:
    """The ``warning:`` line for a run that did not learn (None when it learned or there is no
    figure): the worst seed's test exact match, how the run ended, and what to try.

    Examples:
        >>> s = {"run_id": "r1", "epochs": 60, "max_epochs": 60,
        ...      "learned": {"threshold": 0.95, "test_exact": [0.5], "learned": False},
        ...      "early_stop": {"reason": "epoch cap"}}
        >>> print(not_learned_line(s))  # doctest: +NORMALIZE_WHITESPACE
        warning: run r1 did not learn: greedy exact match on the in-distribution test split is
        50.0 % (below 95 %) after 60 of 60 epochs (epoch cap); try more epochs (--epochs 120), a
        larger model (n_layers, d_model in a --config file's [model_args]), more training data
        or another --lr / --batch-size
    """
    if learned_status(summary) is None:
        return None
    verdict = summary["learned"]
    worst = min(verdict["test_exact"])
    seeds = "" if len(verdict["test_exact"]) == 1 else " (worst seed)"
    stop = summary.get("early_stop")
    why = f" ({stop['reason']})" if isinstance(stop, Mapping) and stop.get("reason") else ""
    epochs, cap = summary.get("epochs"), summary.get("max_epochs")
    more = f"--epochs {2 * cap}" if isinstance(cap, int) else "--epochs"
    return (
        f"warning: run {summary.get('run_id')} did not learn: greedy exact match on the "
        f"in-distribution test split is {100 * worst:.1f} %{seeds} (below "
        f"{100 * verdict['threshold']:.0f} %) after {epochs} of {cap} epochs{why}; try more "
        f"epochs ({more}), a larger model (n_layers, d_model in a --config file's [model_args]), "
        f"more training data or another --lr / --batch-size"
    )
