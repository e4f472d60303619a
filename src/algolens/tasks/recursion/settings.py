"""`RecursionArgs`: the data settings of a recursion run, as stored in its ``config.json``.

Examples:
    >>> args = RecursionArgs(max_size=6, oversample=0.25)
    >>> args.split_spec().sampling.oversample, args.split_spec().ood_max_size
    (0.25, 12)
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from algolens.tasks.recursion.sampling import MAX_SIZE, Sampling
from algolens.tasks.recursion.splits import MAX_EXAMPLES, SplitSpec
from algolens.tasks.recursion.values import N_LABELS

RECURSION_FIELDS: tuple[str, ...] = ("function", "recursion", "dataset_sha256")
"""The `TrainConfig` fields that belong to task ``recursion`` (see :mod:`algolens.tasks.fields`)."""


OOD_MARGIN = 4
"""How many sizes above ``max_size`` the ``ood`` split reaches by default (at least to 12)."""


def default_ood_max_size(max_size: int) -> int:
    """``max(12, max_size + OOD_MARGIN)``, at most :data:`MAX_SIZE` (equal to ``max_size`` only
    when that is already the largest size, with no ``ood`` split).

    >>> default_ood_max_size(8), default_ood_max_size(20), default_ood_max_size(64)
    (12, 24, 64)
    """
    return min(max(12, max_size + OOD_MARGIN), MAX_SIZE)


class RecursionArgs(BaseModel):
    """Sizes, sampling and split sizes of a recursion task (see :mod:`.sampling`, :mod:`.splits`).

    ``data_seed`` draws the dataset; every seed of a run trains on the same data (the seeds
    differ in initial weights and minibatch order).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    min_size: int = Field(1, ge=0, le=MAX_SIZE, description="smallest size (bits or nodes)")
    max_size: int = Field(8, ge=0, le=MAX_SIZE, description="largest in-distribution size")
    sampling: Literal["uniform", "balanced"] = "uniform"
    oversample: float = Field(0.0, ge=0.0, le=1.0, description="share drawn from the rare tail")
    n_labels: int = Field(N_LABELS, ge=1, le=N_LABELS)
    n_train: int = Field(2000, ge=1, le=MAX_EXAMPLES)
    n_test: int = Field(500, ge=1, le=MAX_EXAMPLES)
    n_ood: int = Field(500, ge=0, le=MAX_EXAMPLES)
    ood_max_size: int = Field(
        12, ge=1, le=MAX_SIZE, description="largest out-of-distribution size (default: "
        f"max(12, max_size + {OOD_MARGIN}), at most {MAX_SIZE})",
    )  # fmt: skip
    data_seed: int = Field(0, ge=0, le=2**63 - 1)

    @model_validator(mode="before")
    @classmethod
    def _ood_default(cls, data: Any) -> Any:
        """``ood_max_size`` when not given: :func:`default_ood_max_size` of ``max_size``; and
        ``n_ood`` 0 when not given and ``max_size`` is already :data:`MAX_SIZE` (no larger size
        to hold out)."""
        if not isinstance(data, dict) or "ood_max_size" in data:
            return data
        size = data.get("max_size", 8)
        if not isinstance(size, int) or isinstance(size, bool):
            return data  # the field's own check says what is wrong
        data = {**data, "ood_max_size": default_ood_max_size(size)}
        if size >= MAX_SIZE and "n_ood" not in data:
            data["n_ood"] = 0
        return data

    def split_spec(self) -> SplitSpec:
        """The :class:`SplitSpec` (raises ConfigError for inconsistent sizes)."""
        sampling = Sampling(
            self.min_size, self.max_size, self.sampling, self.oversample, self.n_labels
        )
        return SplitSpec(sampling, self.n_train, self.n_test, self.n_ood, self.ood_max_size)
