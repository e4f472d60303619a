"""`stored_analysis`: a run's stored analysis, when it is current and from the run's weights.

For report sections, which show what a run has stored and never compute an analysis.
"""

from __future__ import annotations

from typing import Any

from algolens.analysis.runs import weights_source
from algolens.analysis.store import analysis_path, run_fingerprint, verified_analysis
from algolens.errors import CheckpointError
from algolens.store import RunStore


def stored_analysis(store: RunStore, run_id: str, method: str) -> dict[str, Any] | None:
    """The stored ``method`` analysis of the run when it passes its content hash and schema
    (:func:`algolens.analysis.store.verified_analysis`; a tampered file is refused), is current
    and was computed from the run's current weights (whatever its other settings), else None."""
    path = analysis_path(store, run_id, method)
    try:
        weights = weights_source(store, run_id)
    except CheckpointError:
        return None
    data = verified_analysis(path, method, run_fingerprint(path.parent.parent))
    if data is None:
        return None
    source = data.get("source")
    return data if isinstance(source, dict) and source.get("weights") == weights else None
