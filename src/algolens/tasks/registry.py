"""The task registry: one :class:`TaskSpec` per task kind, the one seam for adding a task.

Everything the rest of algolens needs to know about a task kind is declared here, as data and
callables, by the task's own package (``algolens.tasks.<name>.spec``): its config fields and CLI
flags, its training presets (recipes), how a run builds, stores, hash-checks and reloads its data
and trainer, the extra metrics of its summary, the one-line description of a run, ``predict``,
its report section and the traits it offers to analyses (:mod:`algolens.tasks.traits`). Code
outside ``algolens.tasks`` asks the registry (:func:`get_task`) instead of comparing task names.

The built-in tasks (composition, recursion, pathfinding) are registered on first use; a user (or
a test) adds one with :func:`register_task`. A config names its task by the string
``TrainConfig.task``, validated against the registry.

Examples:
    >>> task_names()[:3]
    ('composition', 'recursion', 'pathfinding')
    >>> get_task("recursion").traits == frozenset({"sequence", "recursive-function"})
    True
    >>> get_task("sorting")
    Traceback (most recent call last):
    ...
    algolens.errors.ConfigError: unknown task 'sorting'; known tasks: composition, pathfinding, \
recursion
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from algolens.errors import ConfigError, quote

if TYPE_CHECKING:
    from algolens.store import RunStore

Prepare = Callable[[Path], None]
"""Writes a new run's task files (its dataset, its group) into the run folder being built."""

BUILT_IN: tuple[str, ...] = (
    "algolens.tasks.composition.spec",
    "algolens.tasks.recursion.spec",
    "algolens.tasks.pathfinding.spec",
)
"""Modules that each define ``SPEC``, the built-in tasks, registered in this order on first use."""

DEFAULT_TASK = "composition"
"""The task of a config that names none and whose recipe does not imply one."""


def _no_defaults(data: dict[str, Any]) -> dict[str, Any]:
    return data


def _no_check(config: Any) -> None:
    return None


@dataclass(frozen=True, eq=False)
class TaskSpec:
    """A task kind, declared as data and callables (see the module docstring and
    docs/architecture.md, "Add a task").

    Attributes:
        name: the task kind, the ``task`` of its configs (``"recursion"``).
        traits: what it offers to analyses (:mod:`algolens.tasks.traits`).
        fields: the `TrainConfig` fields only this task accepts (another task refuses them).
        section: the config field holding its own settings table (``recursion``, ``pathfinding``),
            filled by the section flags among ``flags``; None if it has none.
        args_model: the pydantic model of that table, None if it has none.
        flags: ``algolens train`` flags that set this task's fields -> the field they set (a flag
            whose field is ``section`` sets the table entry of the same name, ``--max-size`` ->
            ``max_size``).
        recipes: the named training presets it serves, name -> config defaults.
        default_recipe: the recipe ``algolens train`` uses when none is given.
        pick_recipe: ``(task fields given) -> recipe | None``: the recipe ``algolens train`` uses
            when none is given, chosen from the run's own fields (the recursion task's: by the
            function's domain); None (or returning None): :attr:`default_recipe`.
        defaults: fills a raw config dict before validation (``model = "transformer"``, ...).
        check: raises ``ValueError`` for an invalid combination of a validated config's fields.
        start: ``(config, group) -> (trainer, prepare)``: the trainer of a new run (its data drawn
            here, once, and pinned in the trainer's config) and the step writing its files. The
            trainer is the one :class:`~algolens.train.trainer.Trainer` on the task's own
            :class:`~algolens.train.data.TrainingData`: ``Trainer(config, data)``.
        resume: ``(config, run folder) -> trainer``: the trainer of a stored run, from its folder
            (``Trainer(config, data)`` on its stored data).
        load_data: ``(config, run folder) -> dataset``: the run's stored data, hash-checked
            (None: the task stores no dataset).
        load_task: ``(store, run_id, config) -> task``: the task object of a stored run (what
            sizes the model: ``n_vocab``, ``n_vocab_in``, ``seq_len``).
        summary: ``(config, trainer) -> dict``: the task's fields of a run summary.
        describe: ``(stored config dict) -> str``: what a run learns, ``"recursion successor"``.
        predict: ``(store, run, text, instance, epoch) -> dict`` with ``input``, ``prediction``,
            ``expected``, ``correct`` (None: the task has no ``predict``).
        report_section: module with ``section(report, store, run_id) -> bool`` appended to the
            run report (None: none).
        start_note: ``(store, run_id) -> str | None``: a warning shown once a new run exists.
    """

    name: str
    traits: frozenset[str]
    start: Callable[[Any, Any], tuple[Any, Prepare]]
    resume: Callable[[Any, Path], Any]
    load_task: Callable[[RunStore, str, Any], Any]
    describe: Callable[[Mapping[str, Any]], str]
    recipes: Mapping[str, Mapping[str, Any]]
    default_recipe: str
    fields: tuple[str, ...] = ()
    section: str | None = None
    args_model: type | None = None
    flags: Mapping[str, str] = field(default_factory=dict)
    defaults: Callable[[dict[str, Any]], dict[str, Any]] = _no_defaults
    check: Callable[[Any], None] = _no_check
    load_data: Callable[[Any, Path], Any] | None = None
    summary: Callable[[Any, Any], dict[str, Any]] | None = None
    predict: Callable[..., dict[str, Any]] | None = None
    report_section: str | None = None
    start_note: Callable[[RunStore, str], str | None] | None = None
    pick_recipe: Callable[[Mapping[str, Any]], str | None] | None = None

    def default_recipe_for(self, fields: Mapping[str, Any]) -> str:
        """The recipe ``algolens train`` uses when none is given, for a run with the task
        ``fields`` given (``{"function": "preorder"}``): :attr:`pick_recipe`'s choice, else
        :attr:`default_recipe`."""
        picked = None if self.pick_recipe is None else self.pick_recipe(fields)
        if picked is not None and picked not in self.recipes:
            raise ConfigError(
                f"task {self.name!r} picked recipe {picked!r}, not one of its recipes "
                f"({', '.join(self.recipes)})"
            )
        return picked or self.default_recipe

    def section_flags(self) -> tuple[str, ...]:
        """The flags that fill :attr:`section` (refused beside ``--config``: set them in it)."""
        return tuple(f for f, name in self.flags.items() if name == self.section)


_REGISTRY: dict[str, TaskSpec] = {}
_loaded = False
_lock = threading.Lock()


def _ensure_built_ins() -> None:
    global _loaded
    if _loaded:
        return
    with _lock:  # the spec modules import nothing that reads the registry
        if not _loaded:
            for spec in [importlib.import_module(m).SPEC for m in BUILT_IN]:
                _add(spec)
            _loaded = True


def register_task(spec: TaskSpec) -> TaskSpec:
    """Add ``spec`` to the registry (after the built-in tasks) and return it.

    Raises:
        ConfigError: a name already registered, a default recipe the task does not list, a recipe
            name another task uses for other settings, or a field or flag another task owns
            with another meaning.
    """
    _ensure_built_ins()
    _add(spec)
    return spec


def unregister_task(name: str) -> None:
    """Remove a task added by :func:`register_task` (a test's toy task); built-ins stay."""
    _ensure_built_ins()
    if name in {importlib.import_module(m).SPEC.name for m in BUILT_IN}:
        raise ConfigError(f"task {name!r} is built in; it cannot be removed")
    _REGISTRY.pop(name, None)


def _add(spec: TaskSpec) -> None:
    if not isinstance(spec, TaskSpec):
        raise ConfigError(f"register_task takes a TaskSpec, got {type(spec).__name__}")
    if not spec.name.isidentifier() or spec.name in _REGISTRY:
        raise ConfigError(f"task {quote(spec.name)} is already registered or not a name")
    if spec.default_recipe not in spec.recipes:
        raise ConfigError(
            f"task {spec.name!r}: default recipe {spec.default_recipe!r} is not one of its "
            f"recipes ({', '.join(spec.recipes)})"
        )
    for name, settings in spec.recipes.items():
        for other in _REGISTRY.values():
            if name in other.recipes and other.recipes[name] != settings:
                raise ConfigError(
                    f"task {spec.name!r}: recipe {name!r} differs from task {other.name!r}'s; "
                    "give it another name"
                )
    for flag, name in spec.flags.items():
        for other in _REGISTRY.values():
            if other.flags.get(flag, name) != name:
                raise ConfigError(
                    f"task {spec.name!r}: flag {flag} sets {other.flags[flag]!r} for task "
                    f"{other.name!r}, not {name!r}"
                )
    _REGISTRY[spec.name] = spec


def get_task(name: Any) -> TaskSpec:
    """The spec of task ``name``.

    Raises:
        ConfigError: an unknown task, naming the known ones.
    """
    _ensure_built_ins()
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(_REGISTRY))
        raise ConfigError(f"unknown task {quote(name)}; known tasks: {known}") from None


def find_task(name: Any) -> TaskSpec | None:
    """The spec of task ``name``, or None when no such task is registered."""
    _ensure_built_ins()
    return _REGISTRY.get(name) if isinstance(name, str) else None


def task_names() -> tuple[str, ...]:
    """Every registered task, built-ins first, in registration order."""
    _ensure_built_ins()
    return tuple(_REGISTRY)


def all_specs() -> tuple[TaskSpec, ...]:
    """Every registered :class:`TaskSpec`, in registration order."""
    _ensure_built_ins()
    return tuple(_REGISTRY.values())


class _LiveMapping(Mapping[str, Any]):
    """A read-only mapping recomputed from the registry on every access (so tasks registered
    later show up in module-level tables such as ``algolens.train.config.RECIPES``)."""

    def __init__(self, build: Callable[[], dict[str, Any]]) -> None:
        self._build = build

    def __getitem__(self, key: str) -> Any:
        return self._build()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._build())

    def __len__(self) -> int:
        return len(self._build())

    def __repr__(self) -> str:
        return repr(self._build())


def _recipes() -> dict[str, Mapping[str, Any]]:
    out: dict[str, Mapping[str, Any]] = {}
    for spec in all_specs():
        for name, settings in spec.recipes.items():
            out.setdefault(name, settings)
    return out


def _recipe_tasks() -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for spec in all_specs():
        for name in spec.recipes:
            out[name] = (*out.get(name, ()), spec.name)
    return out


def _task_fields() -> dict[str, tuple[str, ...]]:
    return {spec.name: spec.fields for spec in all_specs()}


RECIPES: Mapping[str, Mapping[str, Any]] = _LiveMapping(_recipes)
"""Recipe name -> its config defaults, over every registered task (first declaration wins)."""

RECIPE_TASKS: Mapping[str, tuple[str, ...]] = _LiveMapping(_recipe_tasks)
"""Recipe -> the tasks it serves, in registration order; the first is the one it implies."""

DEFAULT_RECIPES: Mapping[str, str] = _LiveMapping(
    lambda: {spec.name: spec.default_recipe for spec in all_specs()}
)
"""Task -> the recipe ``algolens train`` uses when no recipe is given."""

TASK_FIELDS: Mapping[str, tuple[str, ...]] = _LiveMapping(_task_fields)
"""Task -> the config fields only it accepts."""


def task_of(config: Mapping[str, Any]) -> str:
    """The task a stored config dict names (:data:`DEFAULT_TASK` when it names none)."""
    return config.get("task") or DEFAULT_TASK


def report_sections() -> dict[str, str]:
    """Task name -> its report section module, for the tasks that have one."""
    return {s.name: s.report_section for s in all_specs() if s.report_section is not None}
