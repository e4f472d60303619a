"""Which `TrainConfig` fields belong to which task, as data, and the one check against it.

Every task declares the config fields only it uses in its
:class:`~algolens.tasks.registry.TaskSpec` (``fields``); the fields no task lists (seeds, model,
optimiser, schedule, ...) belong to every task. A field given for a task that does not list it
is refused by :func:`check_task_fields`, never silently ignored and never allowed to switch the
task.

Examples:
    >>> tasks_of("dataset_sha256"), tasks_of("lr")
    (('recursion', 'pathfinding'), ())
    >>> check_task_fields("pathfinding", {"--group": "group"})
    Traceback (most recent call last):
    ...
    algolens.errors.ConfigError: --group only applies to task 'composition', not 'pathfinding'; \
drop it or choose task 'composition'
"""

from __future__ import annotations

from collections.abc import Mapping

from algolens.errors import ConfigError
from algolens.tasks.registry import TASK_FIELDS, all_specs

__all__ = ["TASK_FIELDS", "check_task_fields", "foreign_fields", "task_flags", "tasks_of"]


def tasks_of(field: str) -> tuple[str, ...]:
    """The tasks that accept ``field``; empty for a field every task accepts."""
    return tuple(task for task, fields in TASK_FIELDS.items() if field in fields)


def foreign_fields(task: str) -> frozenset[str]:
    """Fields of other tasks that ``task`` does not accept (what a report of it leaves out)."""
    others = {f for fields in TASK_FIELDS.values() for f in fields}
    return frozenset(others - set(TASK_FIELDS.get(task, ())))


def check_task_fields(task: str, given: Mapping[str, str], why: str = "") -> None:
    """Refuse the first given field that ``task`` does not accept.

    Args:
        task: the chosen task (an unknown task is left to the config's own validation).
        given: how the user named each field (a flag like ``--nodes`` or the field name) ->
            the config field.
        why: how the task was chosen, shown after it (``" (the default)"``).

    Raises:
        ConfigError: one line naming the flag or field, the task, and the task it belongs to.
    """
    if task not in TASK_FIELDS:
        return
    for label, field in given.items():
        owners = tasks_of(field)
        if owners and task not in owners:
            names = " or ".join(repr(t) for t in owners)
            raise ConfigError(
                f"{label} only applies to task {names}, not {task!r}{why}; drop it or choose "
                f"task {names}"
            )


def task_flags() -> dict[str, str]:
    """Every ``algolens train`` flag that sets a task's own field -> that field, over every
    registered task (each task's ``flags``)."""
    return {flag: name for spec in all_specs() for flag, name in spec.flags.items()}
