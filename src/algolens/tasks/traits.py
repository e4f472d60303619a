"""What a task offers to the analyses, named by trait rather than by task.

An analysis method declares the traits it needs (``requires``); a run's task offers traits. A method
applies to a run when ``method.requires <= task_traits(run.task)``. Traits:

- ``group``: inputs are pairs (a, b) of elements of a finite group and the label is a·b.
- ``sequence``: a token-sequence model trained with teacher forcing and decoded greedily.
- ``recursive-function``: the sequence is a recursive function's input and output (failure rules).
- ``tree-paths``: the sequence is a tree's edge list, a goal and the path to it (mechanism finder).

This module is the single place that maps the built-in task kinds to traits until the task registry
declares them with each task.
"""

from __future__ import annotations

from algolens.errors import ConfigError

_BUILT_IN: dict[str, frozenset[str]] = {
    "composition": frozenset({"group"}),
    "recursion": frozenset({"sequence", "recursive-function"}),
    "pathfinding": frozenset({"sequence", "tree-paths"}),
}


def task_traits(task: str) -> frozenset[str]:
    """The traits a task kind offers, e.g. ``task_traits("recursion") == {"sequence", ...}``."""
    try:
        return _BUILT_IN[task]
    except KeyError:
        known = ", ".join(sorted(_BUILT_IN))
        raise ConfigError(f"unknown task {task!r}; known tasks: {known}") from None
