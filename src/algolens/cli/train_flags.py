"""The config of a new ``algolens train`` run from its flags: the ``--config`` file or the
``--recipe`` with the common flags and the task's own flags (by its
:class:`~algolens.tasks.registry.TaskSpec`) on top, a flag of another task refused."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from algolens.errors import ConfigError
from algolens.tasks.fields import check_task_fields, task_flags
from algolens.tasks.registry import RECIPES, TaskSpec, get_task
from algolens.train.config import (
    load_toml_config,
    make_config,
    parse_seeds,
    read_toml_config,
    resolve_task,
)

if TYPE_CHECKING:
    from algolens.train.config import TrainConfig

COMMON_FLAGS: dict[str, str] = {
    "--task": "task", "--model": "model", "--epochs": "epochs", "--lr": "lr",
    "--weight-decay": "weight_decay", "--batch-size": "batch_size", "--eval-every": "eval_every",
}  # fmt: skip
"""The ``train`` flags of every task that set a config field of that name (``--seeds`` is
parsed first; the task's own flags are its :class:`~algolens.tasks.registry.TaskSpec`'s)."""


def config_from_flags(values: dict[str, Any]) -> TrainConfig:
    """The config of a new run from ``train``'s flags (``values``: flag -> value, None when not
    given): the ``--config`` file with the flags on top, or else the ``--recipe`` (default: the
    task's) with them. The task is resolved first (:func:`~algolens.train.config.resolve_task`)
    and a flag of another task refused (:func:`~algolens.tasks.fields.check_task_fields`); the
    task's own flags become overrides by its spec (:func:`task_overrides`).

    Raises:
        ConfigError: a flag of another task, ``--recipe`` or a task's table flag with
            ``--config``, an invalid value. SpecError and others: as the config loaders.
    """
    given = {flag: field for flag, field in task_flags().items() if values[flag] is not None}
    overrides: dict[str, Any] = {field: values[flag] for flag, field in COMMON_FLAGS.items()}
    seeds = values["--seeds"]
    overrides["seeds"] = parse_seeds(seeds) if seeds is not None else None
    path, task, recipe = values["--config"], values["--task"], values["--recipe"]
    if path is None:
        chosen, why = resolve_task(task, recipe)
        check_task_fields(chosen, given, why)
        spec = get_task(chosen)
        if recipe is None:
            fields = {f: values[flag] for flag, f in given.items() if f != spec.section}
            recipe = spec.default_recipe_for(fields)
        overrides.update(task_overrides(spec, values, recipe))
        return make_config(recipe, **overrides)
    if recipe is not None:
        raise ConfigError("--recipe cannot be combined with --config; set recipe in the file")
    file_data = read_toml_config(path)
    chosen, why = resolve_task(task or file_data.get("task"), file_data.get("recipe"))
    check_task_fields(chosen, given, why)
    spec = get_task(chosen)
    section = list(spec.section_flags())
    if any(values[f] is not None for f in section):
        raise ConfigError(
            f"{_and(section)} cannot be combined with --config; set "
            f"{'them' if len(section) > 1 else 'it'} in the file's [{spec.section}] table"
        )
    overrides.update(task_overrides(spec, values, None))
    return load_toml_config(path, **overrides)


def task_overrides(spec: TaskSpec, values: dict[str, Any], recipe: str | None) -> dict[str, Any]:
    """The config overrides of the task's own flags (``values``: flag -> value, None when not
    given): a field flag sets its field; section flags fill the task's settings table, on top of
    the recipe's table (``recipe``; None: the table comes from a config file)."""
    out: dict[str, Any] = {}
    table: dict[str, Any] = {}
    for flag, field in spec.flags.items():
        if values[flag] is None:
            continue
        if field == spec.section:
            table[flag.removeprefix("--").replace("-", "_")] = values[flag]
        else:
            out[field] = values[flag]
    if spec.section is not None and recipe is not None:
        table = {**(RECIPES[recipe].get(spec.section) or {}), **table}
        out[spec.section] = table or None
    return out


def _and(items: list[str]) -> str:
    """``a, b and c``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
