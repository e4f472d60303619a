"""What a task offers to the analyses, named by trait rather than by task.

An analysis method declares the traits it needs (``requires``); a run's task offers traits. A method
applies to a run when ``method.requires <= task_traits(run.task)``. Traits:

- ``group``: inputs are pairs (a, b) of elements of a finite group and the label is a·b.
- ``sequence``: a token-sequence model trained with teacher forcing and decoded greedily.
- ``recursive-function``: the sequence is a recursive function's input and output (failure rules).
- ``tree-paths``: the sequence is a tree's edge list, a goal and the path to it (mechanism finder).

Each task declares its traits in its :class:`~algolens.tasks.registry.TaskSpec` (``traits``);
this module reads them from the registry.
"""

from __future__ import annotations

from algolens.tasks.registry import find_task, get_task


def task_traits(task: str) -> frozenset[str]:
    """The traits a task kind offers, e.g. ``task_traits("recursion") == {"sequence", ...}``.

    Raises:
        ConfigError: an unknown task, naming the known ones.
    """
    return get_task(task).traits


def has_trait(task: object, trait: str) -> bool:
    """Whether task ``task`` offers ``trait``; False for a task no longer registered (a stored
    run of a task added at run time)."""
    spec = find_task(task)
    return spec is not None and trait in spec.traits
