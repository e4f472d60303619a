"""The report of any run: ``run_report(store, run)`` writes ``<run folder>/report.html``.

Reports render only: they read the analyses the run stores and compute none
(``algolens report`` first computes and stores the missing default ones,
:func:`algolens.analysis.ensure.ensure_defaults`). Group composition runs get
:func:`algolens.report.composition.composition_report` (irreps, universality, progress), or,
when the group is too large for the irreps (``SizeLimitError``), the general page with a note
saying so. Every other task (recursion, path-finding, tasks added later) gets the general page
built here from what the run folder stores:
config, the per-seed training table and curves (grokking epochs marked), accuracy on every
named split (recursion runs: teacher-forced and greedy exact match per seed), then every
registered section (:mod:`algolens.report.sections`) that finds stored analyses of the run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from algolens.errors import AlgolensError, ConfigError, SizeLimitError, StoreError, quote
from algolens.report.common import (
    config_section,
    read_metrics_counted,
    training_section,
)
from algolens.report.html import HtmlReport
from algolens.report.outcome import outcome_section
from algolens.report.sections import SECTIONS, add_sections
from algolens.store import RunStore
from algolens.tasks.registry import get_task, report_sections
from algolens.tasks.traits import has_trait
from algolens.train.describe import describe_run
from algolens.train.load import run_config


def run_report(
    store: RunStore, run: str, *, checkpoint: dict[str, Any] | None = None
) -> tuple[Path, list[Any]]:
    """Write the run's ``report.html`` from what it stores; return its path and the per-seed
    irrep analyses (composition runs; an empty list for other tasks).

    With ``checkpoint`` (composition runs only; the irreps of one checkpoint,
    :func:`algolens.analysis.ensure.checkpoint_irreps`): the irreps at that checkpoint, written
    to ``report-epoch_NNNNNNNN.html``
    (:func:`algolens.report.composition.composition_report`).

    Raises:
        StoreError: unknown run. CheckpointError: unreadable config. ConfigError: a
            ``checkpoint`` for a run of another task. (Composition runs: see
            :func:`algolens.report.composition.composition_report`, except SizeLimitError.)
    """
    record = store.get(run)
    config = run_config(store, record.id)
    if checkpoint is not None and not has_trait(config.task, "group"):
        raise ConfigError(f"run {record.id} is a {config.task} run; only group composition "
                          "runs have a checkpoint's report")  # fmt: skip
    if has_trait(config.task, "group"):
        from algolens.report.composition import composition_report

        try:
            return composition_report(store, record.id, checkpoint=checkpoint)
        except SizeLimitError as exc:  # raised before any work: irreps of a group too large
            if checkpoint is not None:
                raise
            return general_report(store, record.id, note=f"No irreps analyses: {exc}."), []
    return general_report(store, record.id), []


def general_report(store: RunStore, run_id: str, *, note: str | None = None) -> Path:
    """The report of a run of any task from its stored files only (see the module docstring);
    ``note``, if given, is shown under the title (why the task's own analyses are missing)."""
    record = store.get(run_id)
    config = run_config(store, run_id)
    paths = store.paths(run_id)
    summary = record.summary or {}
    what = describe_run(config)
    report = HtmlReport(f"algolens: {what} {config.model}, run {record.id}")
    report.paragraph(
        f"Task {what}, model {config.model}, seeds {list(config.seeds)}, "
        f"status {record.status}, {summary.get('epochs', 0)} of {config.epochs} epochs."
    )
    if note:
        report.paragraph(note, note=True)
    try:  # what the run stores is data: a malformed field is one line, not a traceback
        outcome_section(report, summary)  # early stop, "did not learn" (report/outcome.py)
        rows, skipped = read_metrics_counted(paths.metrics)
        training_section(report, summary, rows, list(config.seeds), skipped)
        splits_section(report, summary.get("splits") or {}, list(config.seeds))
        add_sections(report, store, run_id, run_sections(config.task))
    except AlgolensError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise StoreError(
            f"run {run_id} stores a malformed summary or analysis ({type(exc).__name__}: "
            f"{quote(str(exc), 80, bare=True)}); recompute its analyses with `algolens analyze "
            f"{run_id} --method METHOD --force`, or rebuild its index row with `algolens runs "
            "reindex`"
        ) from None
    config_section(report, config.to_dict())
    return report.write(paths.root / "report.html")


def run_sections(task: str) -> dict[str, str]:
    """The report sections of a run of ``task``, in order: its task's own section (its spec's
    ``report_section``), then every registered analysis section (:data:`SECTIONS`) that is not a
    task's section."""
    tasks = report_sections()
    own = get_task(task).report_section
    first = {task: own} if own is not None else {}
    return first | {name: module for name, module in SECTIONS.items() if name not in tasks}


def splits_section(report: HtmlReport, splits: dict[str, Any], seeds: list[int]) -> None:
    """Exact-match accuracy per named split and seed, teacher-forced and greedy (the run
    summary's ``splits``: ``{split: {"n", "tf_acc": [K], "greedy_acc": [K]}}``)."""
    if not splits:
        return
    report.heading("Accuracy by split")
    report.paragraph(
        "Exact match of the whole answer: teacher-forced (every answer token predicted from the "
        "true prefix) and greedy (the model's own decoded answer), on every named split stored "
        "with the run's dataset.",
        note=True,
    )
    rows = []
    for name, s in splits.items():
        for k, seed in enumerate(seeds):
            rows.append([name, s.get("n"), seed, s["tf_acc"][k], s["greedy_acc"][k]])
    report.table(["split", "inputs", "seed", "teacher-forced acc", "greedy acc"], rows)
