"""The sweep summary (``algolens sweep --json``): per configuration its run, status and key
figures; totals over the sweep.

Per configuration::

    index, point, run_id, status, action, error      what happened (see algolens.sweep.driver)
    n_seeds, n_grokked, n_failed                     counts over the run's seeds
    grokked_seeds, grok_epochs                       the seeds that grokked and their epochs
    median_grok_epoch, epochs, wall_s                from the run summary
    mean_test_acc, min_test_acc                      final test accuracy over the seeds
    resumed_from, attempts                           last resume epoch; worker attempts so far
    cpu_s                                            worker CPU time on the run in this
                                                     invocation (None if not trained here)

Totals: configurations per status and action, model-epochs trained in this invocation (epochs
trained x seeds, summed over the runs trained or resumed here; a resumed run counts the epochs
since its checkpoint), the workers' CPU time and the wall time.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from algolens.store import RunStore
from algolens.sweep.worker import attempts

if TYPE_CHECKING:
    from algolens.sweep.driver import ExecutorSettings, Outcome
    from algolens.sweep.spec import SweepPlan


def configuration_row(outcome: Outcome, store: RunStore) -> dict[str, Any]:
    """One configuration's entry of the summary."""
    conf, s = outcome.configuration, outcome.summary
    seeds = s.get("seeds", [])
    grokked = [r for r in seeds if r.get("grok_epoch") is not None]
    test_acc = [r["test_acc"] for r in seeds if "test_acc" in r]
    return {
        "index": conf.index,
        "point": conf.point,
        "run_id": outcome.run_id,
        "status": outcome.status,
        "action": outcome.action,
        "error": outcome.error,
        "n_seeds": conf.config.n_inst,
        "n_grokked": len(grokked),
        "n_failed": sum(bool(r.get("failed")) for r in seeds),
        "grokked_seeds": [r["seed"] for r in grokked],
        "grok_epochs": [r["grok_epoch"] for r in grokked],
        "median_grok_epoch": s.get("median_grok_epoch"),
        "epochs": s.get("epochs"),
        "wall_s": s.get("wall_s"),
        "mean_test_acc": sum(test_acc) / len(test_acc) if test_acc else None,
        "min_test_acc": min(test_acc) if test_acc else None,
        "resumed_from": s.get("resumed_from"),
        "attempts": attempts(store.paths(outcome.run_id).root) if outcome.run_id else 0,
        "cpu_s": outcome.cpu_s,
    }


def sweep_summary(
    plan: SweepPlan, store: RunStore, outcomes: list[Outcome], settings: ExecutorSettings,
    wall_s: float,
) -> dict[str, Any]:  # fmt: skip
    """The whole sweep's summary (JSON-able)."""
    rows = [configuration_row(o, store) for o in outcomes]
    trained_here = [
        r for r in rows if r["action"] in ("trained", "resumed") and r["status"] == "completed"
    ]
    model_epochs = sum(
        (r["epochs"] - (r["resumed_from"] or 0)) * r["n_seeds"] for r in trained_here
    )
    return {
        "sweep": plan.sweep_id,
        "file": str(plan.path),
        "store": str(store.root),
        "executor": settings.kind,
        "n_configurations": len(rows),
        "statuses": dict(Counter(r["status"] for r in rows)),
        "actions": dict(Counter(r["action"] for r in rows)),
        "model_epochs": model_epochs,
        "cpu_s": round(sum(r["cpu_s"] or 0.0 for r in rows), 3),
        "wall_s": round(wall_s, 3),
        "configurations": rows,
    }
