"""The store index page: ``store_index(store)`` writes ``<store>/index.html``, one row per run.

Columns: the run id (a link to its ``report.html`` where one has been written), status, what it
learns (:func:`~algolens.train.describe.describe_run`: the task and its group, function or tree
size), model, seeds, how many seeds grokked, the median grokking epoch, the mean final train and
test accuracy over the seeds, the mean greedy accuracy per named split (sequence tasks), the
seeds' key-irrep sets (composition runs with a current stored irreps analysis), epochs trained,
the analyses stored in the run folder, its sweep (a link to the sweep's page where one has been
written) and when it was created. The table sorts by a click on a column header and filters by
the words typed in the box above it (inline script, no network). Built from the index and the
run folders only; nothing is computed.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from algolens.analysis.runs import weights_source
from algolens.analysis.store import ANALYSES_DIR, analysis_path, read_analysis
from algolens.errors import AlgolensError, CheckpointError, StoreError
from algolens.report.common import split_accuracy
from algolens.report.html import HtmlReport, Link
from algolens.report.sweep import SWEEPS_DIR
from algolens.store import RunStore
from algolens.store.index import RunRecord
from algolens.train.describe import describe_run

COLUMNS = [
    "run", "status", "task", "model", "seeds", "grokked",
    "median grok epoch", "train acc", "test acc", "greedy acc by split", "key irreps", "epochs",
    "analyses", "sweep", "created",
]  # fmt: skip


def store_index(store: RunStore) -> Path:
    """Write ``<store>/index.html`` listing every run; return its path.

    Raises:
        StoreError: there is no run store at ``store.root`` (nothing is created).
    """
    if not store.index.exists():
        raise StoreError(
            f"no run store at {store.root} (no index.sqlite); give the store's folder with "
            "--store or $ALGOLENS_STORE"
        )
    records = sorted(store.list(), key=lambda r: r.id)
    report = HtmlReport(f"algolens runs in {store.root}")
    n_reports = sum((store.paths(r.id).root / "report.html").is_file() for r in records)
    report.paragraph(
        f"{len(records)} run(s), {n_reports} with a report. Click a column header to sort, "
        "type in the box to filter. Runs without a link have no report yet: "
        "`algolens report RUN` writes one, then `algolens report --index` again."
    )
    report.table(COLUMNS, [index_row(store, r) for r in records], sortable=True)
    return report.write(store.root / "index.html")


def index_row(store: RunStore, record: RunRecord) -> list[Any]:
    """One row of the index (see :data:`COLUMNS`)."""
    cfg, summary = record.config, record.summary or {}
    folder = store.paths(record.id).root
    has_report = (folder / "report.html").is_file()
    run: Any = Link(record.id, f"runs/{record.id}/report.html") if has_report else record.id
    seeds = cfg.get("seeds") or []
    per_seed = summary.get("seeds") or []
    grokked = f"{summary['n_grokked']}/{len(seeds)}" if "n_grokked" in summary else ""
    analyses = folder / ANALYSES_DIR
    found = analyses.glob("*.json") if analyses.is_dir() else []
    methods = sorted({p.stem.split("-progress-")[0] + _progress(p.stem) for p in found})
    return [
        run, record.status, describe_run(cfg), cfg.get("model", ""),
        " ".join(str(s) for s in seeds), grokked, _or_blank(summary.get("median_grok_epoch")),
        _mean(per_seed, "train_acc"), _mean(per_seed, "test_acc"), split_accuracy(summary),
        _key_irreps(store, record.id), _or_blank(summary.get("epochs")), ", ".join(methods),
        _sweep(store, record), record.created[:19],
    ]  # fmt: skip


def _sweep(store: RunStore, record: RunRecord) -> Any:
    """The run's sweep id, a link to the sweep's page where it has been written."""
    sweep = getattr(record, "sweep", None)
    if not sweep:
        return ""
    page = f"{SWEEPS_DIR}/{sweep}.html"
    return Link(sweep, page) if (store.root / page).is_file() else sweep


def _key_irreps(store: RunStore, run_id: str) -> str:
    """The key-irrep sets of the seeds, most common first (``sign, standard ×3``), from the
    run's current stored irreps analysis; blank when there is none (nothing is computed)."""
    try:
        source = weights_source(store, run_id)
    except CheckpointError:
        return ""
    try:
        data = read_analysis(analysis_path(store, run_id, "irreps"), "irreps", source)
    except AlgolensError:  # a tampered analysis or an edited config: one run, not the whole page
        return "(refused: see `algolens analyze RUN`)"
    if data is None:
        return ""
    sets = Counter(", ".join(i["key_irreps"]) or "none" for i in data["instances"])
    return "; ".join(f"{k} ×{n}" for k, n in sets.most_common())


def _progress(stem: str) -> str:
    return " over checkpoints" if "-progress-" in stem else ""


def _mean(per_seed: list[dict[str, Any]], key: str) -> Any:
    values = [s[key] for s in per_seed if s.get(key) is not None]
    return sum(values) / len(values) if values else ""


def _or_blank(v: Any) -> Any:
    return "" if v is None else v
