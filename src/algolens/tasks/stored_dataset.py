"""A sequence run's stored dataset read back and checked against the hash its config pins."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from algolens.errors import CheckpointError

D = TypeVar("D")


def load_pinned_dataset(
    config: Any, root: Path, file_name: str, load: Callable[[Path], D], sha256: Callable[[D], str]
) -> D:
    """``load(root / file_name)``, refused when its ``sha256`` is not the config's
    ``dataset_sha256`` (a config without one, written before the field, is not checked).

    Raises:
        CheckpointError: a missing, malformed (from ``load``) or changed dataset.
    """
    ds = load(root / file_name)
    if config.dataset_sha256 is not None and sha256(ds) != config.dataset_sha256:
        raise CheckpointError(
            f"run {root.name}: {file_name} differs from the dataset the run was trained on "
            f"(SHA-256 {config.dataset_sha256[:12]}...); restore it or retrain"
        )
    return ds
