"""Run store: SQLite index plus one folder per run (config, metrics, safetensors checkpoints)."""

from algolens.store.index import STATUSES, RunIndex, RunRecord
from algolens.store.reindex import ReindexResult, reindex
from algolens.store.runs import RunPaths, RunStore, default_store_root

__all__ = [
    "STATUSES",
    "ReindexResult",
    "RunIndex",
    "RunPaths",
    "RunRecord",
    "RunStore",
    "default_store_root",
    "reindex",
]
