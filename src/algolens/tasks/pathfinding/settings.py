"""`PathfindingArgs`: the data settings of a path-finding run, as stored in its ``config.json``.

Examples:
    >>> args = PathfindingArgs(nodes=8, n_examples=1000)
    >>> args.n_test, args.n_train
    (100, 900)
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from algolens.tasks.pathfinding.generate import MAX_NODES, MIN_NODES, EdgeOrder

MAX_EXAMPLES = 2_000_000

PATHFINDING_FIELDS: tuple[str, ...] = ("pathfinding", "dataset_sha256")
"""The `TrainConfig` fields that belong to task ``pathfinding`` (see
:mod:`algolens.tasks.fields`)."""


class PathfindingArgs(BaseModel):
    """Node count, dataset size, split and edge order (paper: 16 nodes, 150k examples, 10 % test).

    ``data_seed`` draws the dataset; every seed of a run trains on the same data (the seeds
    differ in initial weights and minibatch order).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    nodes: int = Field(16, ge=MIN_NODES, le=MAX_NODES, description="tree size N")
    n_examples: int = Field(150_000, ge=2, le=MAX_EXAMPLES, description="distinct trees drawn")
    test_frac: float = Field(0.1, gt=0.0, lt=1.0, description="share held out for testing")
    edge_order: EdgeOrder = "shuffled"
    data_seed: int = Field(0, ge=0, le=2**63 - 1)

    @property
    def n_test(self) -> int:
        return max(1, min(self.n_examples - 1, round(self.n_examples * self.test_frac)))

    @property
    def n_train(self) -> int:
        return self.n_examples - self.n_test
