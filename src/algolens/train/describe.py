"""`describe_run`: what a run learns, in a few words, for every place that names a run.

One function for the run list (`algolens runs list`), the summary `algolens train` prints, the
store's index page and the run report, so a task's runs are described the same way everywhere:
each task's :class:`~algolens.tasks.registry.TaskSpec` says how (``describe``): a composition run
by its group, a recursion run by its function, a path-finding run by its tree size. A field a
task does not use (the ``group`` a path-finding config still carries) never appears.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from algolens.tasks.registry import find_task, task_of

if TYPE_CHECKING:
    from algolens.train.config import TrainConfig


def describe_run(config: TrainConfig | Mapping[str, Any]) -> str:
    """``composition S5``, ``recursion successor``, ``pathfinding 6 nodes``.

    ``config`` is a :class:`TrainConfig` or a stored config dict (missing keys read as ``?``).

    Examples:
        >>> describe_run({"task": "pathfinding", "group": "S5", "pathfinding": {"nodes": 6}})
        'pathfinding 6 nodes'
        >>> describe_run({"group": "C5"}), describe_run({"task": "recursion", "function": "add"})
        ('composition C5', 'recursion add')
    """
    data: Mapping[str, Any] = config if isinstance(config, Mapping) else config.to_dict()
    spec = find_task(task_of(data))
    return spec.describe(data) if spec is not None else str(task_of(data))
