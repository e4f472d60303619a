"""Datasets: each task knows its vocabulary, its seeded split and its ground truth.

Exports load lazily, so :mod:`algolens.tasks.recursion` (numpy only) imports without torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "CompositionTask": "composition.task",
    "Task": "base",
    "TaskFormat": "base",
    "random_split": "base",
}

__all__ = ["CompositionTask", "Task", "TaskFormat", "random_split"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'algolens.tasks' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"algolens.tasks.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from algolens.tasks.base import Task, TaskFormat, random_split
    from algolens.tasks.composition.task import CompositionTask
