"""Group composition (Chughtai et al. 2023; Stander et al. 2024): predict ``a·b`` from ``(a, b)``.

Modules: :mod:`.task` (the dataset of all ``|G|²`` pairs and its seeded split), :mod:`.training`
(the task of a config, ``build_task``, and the trainer's data), :mod:`.predict`
(``predict`` on ``a b``), :mod:`.spec` (the task's :class:`~algolens.tasks.registry.TaskSpec`).
Exports load lazily, so the registry reads the spec without torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {"CompositionTask": "task", "FORMATS": "task"}

__all__ = ["FORMATS", "CompositionTask"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'algolens.tasks.composition' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"algolens.tasks.composition.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from algolens.tasks.composition.task import FORMATS, CompositionTask
