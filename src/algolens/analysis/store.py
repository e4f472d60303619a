"""Analyses stored in the run folder, so reports and sweeps reuse them instead of recomputing.

Layout inside a run folder::

    <run>/analyses/<method>.json               the final weights, every instance
    <run>/analyses/<method>-progress-<k>.json  instance k over the saved checkpoints

Each file is one JSON object written atomically: ``{"method", "schema", "algolens_version",
"run", "source", "created", ...the analysis...}``. A stored analysis is reused only when its
``method``, ``schema`` (:data:`SCHEMAS`, bumped whenever a method's output changes) and
``algolens_version`` equal the running code's and its ``source`` (what it was computed from, e.g.
the weights file's name, size and mtime, or the list of checkpoint epochs) equals the current
one; otherwise, or with ``force``, it is recomputed and overwritten.
Nothing is written when the computation raises. Files are strict JSON: a non-finite number (a
constant neuron's concentration, a correlation over no pairs) is stored, and returned, as
``null``, so a fresh and a reused analysis are the same dict.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from algolens import __version__
from algolens.fileio import write_json_atomic
from algolens.store import RunStore

ANALYSES_DIR = "analyses"
SCHEMAS: dict[str, int] = {
    "irreps": 2,
    "cosets": 1,
    "interventions": 1,
    "verdict": 1,
    "failures": 1,
    "shortcuts": 1,
    "logic": 2,  # 2: requantisation proofs of transformers
    "mechanism": 2,  # 2: register_probes
    "probes": 1,
    "patching": 1,
    "lens": 1,
    "scrub": 1,
}
"""Output schema of each analysis method (irreps version 1: the unstored MLP-only metrics; the
coset methods are :data:`algolens.analysis.verdict.METHODS`; failures:
:mod:`algolens.analysis.failures_run`; shortcuts: :mod:`algolens.analysis.shortcuts`)."""


def analysis_path(store: RunStore, run_id: str, method: str, instance: int | None = None) -> Path:
    """The file of ``method``'s final analysis (``instance=None``) or of one instance's
    progress over checkpoints."""
    name = method if instance is None else f"{method}-progress-{instance}"
    return store.paths(run_id).root / ANALYSES_DIR / f"{name}.json"


def read_analysis(path: Path, method: str, source: Any = None) -> dict[str, Any] | None:
    """The stored analysis at ``path`` if it exists, parses, matches the running code and was
    computed from ``source``."""
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    current = data.get("method") == method and data.get("schema") == SCHEMAS[method]
    current = current and data.get("algolens_version") == __version__
    return data if current and data.get("source") == source else None


def cached(
    store: RunStore,
    run_id: str,
    method: str,
    compute: Callable[[], dict[str, Any]],
    *,
    instance: int | None = None,
    source: Any = None,
    force: bool = False,
) -> dict[str, Any]:
    """The stored analysis, or ``compute()`` stamped with method, schema, version and ``source``
    (JSON-serialisable), then saved.

    Returns:
        the analysis dict, with ``"reused": True`` when it came from the file.
    """
    path = analysis_path(store, run_id, method, instance)
    if not force:
        found = read_analysis(path, method, source)
        if found is not None:
            return {**found, "reused": True}
    body = compute()
    data = {
        "method": method,
        "schema": SCHEMAS[method],
        "algolens_version": __version__,
        "run": run_id,
        "source": source,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        **body,
    }
    data = finite_or_none(data)
    path.parent.mkdir(exist_ok=True)
    write_json_atomic(path, data)
    return {**data, "reused": False}


def finite_or_none(obj: Any) -> Any:
    """``obj`` with every NaN or ±inf float (nested in dicts, lists, tuples) replaced by None.

    Examples:
        >>> finite_or_none({"a": [1.0, float("nan")], "b": float("inf"), "c": "x"})
        {'a': [1.0, None], 'b': None, 'c': 'x'}
    """
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_or_none(v) for v in obj]
    return obj
