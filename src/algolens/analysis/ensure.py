"""What a report shows, computed before it renders: the report modules (:mod:`algolens.report`)
only read stored analyses, and ``algolens report`` calls these first.

* :func:`ensure_defaults` — every registered method with an ``ensure``
  (:attr:`algolens.analysis.methods.Method.ensure`: built in, the final irreps with the progress
  of the first instances, and the coset methods) that applies to the run, computed and stored
  when missing or stale;
* :func:`ensure_sweep_irreps` — the final irreps analysis of every run a sweep's page tallies
  (:func:`tallied_runs`);
* :func:`checkpoint_irreps` — the irreps of one checkpoint, for a checkpoint's report (computed,
  never stored).
"""

from __future__ import annotations

from typing import Any

from algolens.analysis.methods import check_method_run, methods
from algolens.errors import AlgolensError, ConfigError, SizeLimitError
from algolens.store import RunStore
from algolens.store.index import RunRecord
from algolens.tasks.registry import task_of
from algolens.tasks.traits import has_trait
from algolens.train.load import run_config


def ensure_defaults(store: RunStore, run: str) -> list[str]:
    """Compute and store every default analysis a run's report shows that is missing or stale:
    each registered method with an ``ensure`` whose traits and model kinds the run offers and
    whose check passes (a group too large for a method, or of prime order for the coset
    methods, is skipped: the report then shows what it can). Return the methods ensured.

    Raises:
        StoreError: unknown run, or a tampered stored analysis. CheckpointError: no weights, or
            an unreadable config.
    """
    run_id = store.get(run).id
    config = run_config(store, run_id)
    done = []
    for m in methods():
        if m.ensure is None or m.problem(config) is not None:
            continue
        try:
            check_method_run(store, run_id, m)
        except (ConfigError, SizeLimitError):  # the method's own check refuses this run
            continue
        m.ensure(store, run_id)
        done.append(m.name)
    return done


def tallied_runs(records: list[RunRecord]) -> list[RunRecord]:
    """The runs whose final irreps a sweep's page tallies: completed, of a task with the
    ``group`` trait."""
    return [r for r in records if r.status == "completed" and has_trait(task_of(r.config), "group")]


def ensure_sweep_irreps(store: RunStore, sweep: str) -> dict[str, str]:
    """The final irreps analysis of every run of the sweep (id or unique prefix) that its page
    tallies (:func:`tallied_runs`), computed and stored when missing or stale; return, for each
    run it cannot analyse, why (the page names them).

    Raises:
        StoreError: unknown or ambiguous sweep.
    """
    from algolens.analysis.runs import run_irreps

    skipped = {}
    for r in tallied_runs(store.list(sweep=store.resolve_sweep(sweep))):
        try:
            run_irreps(store, r.id)
        except AlgolensError as exc:
            skipped[r.id] = str(exc)
    return skipped


def checkpoint_irreps(store: RunStore, run: str, epoch: int) -> dict[str, Any]:
    """The irreps analysis of every instance at checkpoint ``epoch``, computed and never stored
    (:func:`algolens.analysis.runs.run_irreps`), for that checkpoint's report.

    Raises:
        StoreError: unknown run. ConfigError: a run of a task without the ``group`` trait.
        (And see :func:`algolens.analysis.runs.check_run`.)
    """
    from algolens.analysis.runs import run_irreps

    record = store.get(run)
    config = run_config(store, record.id)
    if not has_trait(config.task, "group"):
        raise ConfigError(
            f"--checkpoint applies to group composition runs; run {record.id} is a "
            f"{config.task} run, whose report computes nothing from its weights"
        )
    return run_irreps(store, record.id, epoch=epoch)
