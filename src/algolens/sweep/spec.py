"""Sweep files: a ``[base]`` train config and a ``[grid]`` of lists, planned into configurations.

A sweep file is TOML::

    [base]                      # any TrainConfig field; recipe and seeds included
    recipe = "fast"
    seeds = "0-15"              # a range string or a list: every configuration trains these
    epochs = 2000

    [grid]                      # lists; their Cartesian product gives the configurations
    group = ["S4", "A5"]
    train_frac = [0.3, 0.4]

    [grid.model_args]           # dict fields (model_args, recursion) take a table of lists
    d_mlp = [64, 128]

Each point of the grid is one configuration: the recipe's defaults (``fast`` unless ``recipe``
is given in ``[base]`` or ``[grid]``), then ``[base]``, then the point, validated as a
:class:`~algolens.train.config.TrainConfig`. The whole plan (every configuration, its group
resolved and pinned, its model config checked) is validated before anything is created.

The sweep id is ``sweep-`` plus 12 hex digits of the SHA-256 of the file's parsed content
(canonical JSON) and of the table each group spec resolved to, so the same file (comments and
layout aside) with the same groups names the same sweep and running it again resumes it, while a
relative table path that points to another table names another sweep. Its pattern is
:data:`algolens.store.ids.SWEEP_ID`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from algolens.errors import AlgolensError, ConfigError, listed, quote
from algolens.groups import FiniteGroup, parse_group
from algolens.store.ids import is_sweep_id
from algolens.tasks.traits import has_trait
from algolens.textfile import read_text_file
from algolens.train.config import TrainConfig, make_config, parse_seeds

MAX_CONFIGURATIONS = 10_000
"""Most configurations one sweep may plan (a grid beyond it is almost always a typo)."""
MAX_SWEEP_FILE_BYTES = 1_000_000
DEFAULT_RECIPE = "fast"
DICT_FIELDS = ("model_args", "recursion")
"""Train config fields whose grid entry is a table of lists (one axis per sub-key)."""
TRAIN_FIELDS = frozenset(TrainConfig.model_fields) - {"group_sha256", "dataset_sha256"}
"""Fields a sweep file may set (the hashes are pinned by the sweep, never given)."""


class _SweepFile(BaseModel):
    """The top level of a sweep file: exactly the tables ``base`` and ``grid``."""

    model_config = ConfigDict(extra="forbid")

    base: dict[str, Any] = {}
    grid: dict[str, Any]


@dataclass(frozen=True)
class Configuration:
    """One planned configuration of a sweep.

    Attributes:
        index: position in the grid's product order (0-based).
        point: the grid values of this configuration, by dotted key (``model_args.d_mlp``).
        config: the validated train config, its group pinned (``group_sha256``) for a group
            composition task.
        group: the resolved group (written to the run's ``group.json``); None for a task without
            a group (only planned configs, :mod:`algolens.sweep.planned`, have one).
    """

    index: int
    point: dict[str, Any]
    config: TrainConfig
    group: FiniteGroup | None

    def label(self) -> str:
        """``group=S4 train_frac=0.3``: the point as one short line."""
        return " ".join(f"{k}={v}" for k, v in self.point.items())


@dataclass(frozen=True)
class SweepPlan:
    """A validated sweep: its id, the parsed file and every configuration in grid order."""

    sweep_id: str
    path: Path
    content: dict[str, Any]
    configurations: list[Configuration]


def sweep_id_of(content: dict[str, Any], groups: dict[str, str] | None = None) -> str:
    """The sweep id of a parsed sweep file: ``sweep-`` + 12 hex digits of its SHA-256.

    ``groups`` maps each group spec of the plan to the SHA-256 of the table it resolved to, so a
    relative table path names another sweep when it points to another table.

    Examples:
        >>> a = sweep_id_of({"base": {"epochs": 10}, "grid": {"group": ["S3"]}})
        >>> a == sweep_id_of({"grid": {"group": ["S3"]}, "base": {"epochs": 10}})
        True
        >>> a == sweep_id_of({"base": {"epochs": 11}, "grid": {"group": ["S3"]}})
        False
        >>> a == sweep_id_of({"base": {"epochs": 10}, "grid": {"group": ["S3"]}}, {"S3": "ab"})
        False
    """
    pinned = {"content": content, "groups": groups} if groups else content
    blob = json.dumps(pinned, sort_keys=True, separators=(",", ":")).encode()
    digest = "sweep-" + hashlib.sha256(blob).hexdigest()[:12]
    assert is_sweep_id(digest)
    return digest


def load_sweep(path: str | Path) -> SweepPlan:
    """Read, validate and plan a sweep file (nothing is created).

    Raises:
        ConfigError: a missing or unreadable file, bad TOML, an unknown table or key, an empty
            grid or grid list, a key given in both tables, a duplicate configuration, or an
            invalid configuration; every message is one line naming the file.
        SpecError, TableError, ...: as ``ConfigError``, for a group that cannot be resolved
            (the message names the file and the configuration).
    """
    path = Path(path)
    content = _read_toml(path)
    try:
        spec = _SweepFile(**content)
    except ValidationError as exc:
        problems = [
            f"{quote('.'.join(map(str, e['loc'])), bare=True)}: {e['msg']}" for e in exc.errors()
        ]
        raise ConfigError(
            f"sweep file {path}: " + listed(problems, 5, "; ") + " (a sweep file has exactly the "
            "tables [base] and [grid])"
        ) from None
    axes = _grid_axes(path, spec.grid)
    base = _base(path, spec.base, axes)
    configurations = _plan(path, base, axes)
    groups = {c.config.group: str(c.config.group_sha256) for c in configurations}
    return SweepPlan(sweep_id_of(content, groups), path, content, configurations)


def _read_toml(path: Path) -> dict[str, Any]:
    text = read_text_file(path, "sweep file", MAX_SWEEP_FILE_BYTES, expected="a TOML file")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"sweep file {path}: not valid TOML ({exc})") from None


def _grid_axes(path: Path, grid: dict[str, Any]) -> dict[str, list[Any]]:
    """The grid as ``{dotted key: non-empty list of distinct values}``, in file order."""
    axes: dict[str, list[Any]] = {}
    for key, value in grid.items():
        _check_field(path, "grid", key)
        if key in DICT_FIELDS and isinstance(value, dict):
            for sub, values in value.items():
                axes[f"{key}.{sub}"] = values
        else:
            axes[key] = value
    if not axes:
        raise ConfigError(
            f"sweep file {path}: [grid] is empty; give at least one key with a list of values, "
            'e.g. group = ["S4", "A5"]'
        )
    for key, values in axes.items():
        name = quote(key, bare=True)
        if not isinstance(values, list) or not values:
            raise ConfigError(
                f"sweep file {path}: [grid] {name} must be a non-empty list of values, got "
                f"{quote(values, 80)}"
            )
        canon = [json.dumps(v, sort_keys=True) for v in values]
        if len(set(canon)) != len(canon):
            raise ConfigError(
                f"sweep file {path}: [grid] {name} repeats a value: {quote(values, 80)}"
            )
    return axes


def _base(path: Path, base: dict[str, Any], axes: dict[str, list[Any]]) -> dict[str, Any]:
    for key in base:
        _check_field(path, "base", key)
    both = []
    for key in axes:
        field, _, sub = key.partition(".")
        if key in base or (sub and isinstance(base.get(field), dict) and sub in base[field]):
            both.append(key)
    if both:
        raise ConfigError(
            f"sweep file {path}: {listed(quote(k, bare=True) for k in both)} given in both "
            "[base] and [grid]; keep each key in one table"
        )
    return base


def _check_field(path: Path, table: str, key: str) -> None:
    if key not in TRAIN_FIELDS:
        raise ConfigError(
            f"sweep file {path}: [{table}] {quote(key)} is not a train config field; use one of "
            f"{', '.join(sorted(TRAIN_FIELDS))}"
        )


def _plan(path: Path, base: dict[str, Any], axes: dict[str, list[Any]]) -> list[Configuration]:
    n = 1
    for values in axes.values():
        n *= len(values)
    if n > MAX_CONFIGURATIONS:
        raise ConfigError(
            f"sweep file {path}: the grid has {n} configurations, more than "
            f"{MAX_CONFIGURATIONS}; split the sweep"
        )
    groups: dict[str, FiniteGroup] = {}
    out: list[Configuration] = []
    seen: dict[str, int] = {}
    for index, values in enumerate(itertools.product(*axes.values())):
        point = dict(zip(axes, values, strict=True))
        where = f"sweep file {path}, configuration {index} ({_describe(point)})"
        config, group = _configure(where, base, point, groups)
        fields = {**config.to_dict(), "recipe": None}  # the recipe's name is informational
        if fields.get("group_sha256") is not None:  # the group's table, not its spelling
            fields["group"] = None  # ("C7" and "C007" are one group)
        key = json.dumps(fields, sort_keys=True)
        if key in seen:
            raise ConfigError(
                f"{where} is the same train config as configuration {seen[key]}; the grid varies "
                "a field that [base] or the recipe overrides, or names one group twice"
            )
        seen[key] = index
        out.append(Configuration(index, point, config, group))
    return out


def _configure(
    where: str, base: dict[str, Any], point: dict[str, Any], groups: dict[str, FiniteGroup]
) -> tuple[TrainConfig, FiniteGroup]:
    """The pinned config and the group of one grid point (every check ``algolens train`` makes
    before it creates a run)."""
    from algolens.models import MODEL_CONFIGS
    from algolens.tasks.composition.training import build_task
    from algolens.train.run_group import pin_group
    from algolens.train.task_setup import model_config_dict

    data = {k: dict(v) if isinstance(v, dict) else v for k, v in base.items()}
    for key, value in point.items():
        field, _, sub = key.partition(".")
        if sub:
            data.setdefault(field, {})
            if not isinstance(data[field], dict):
                raise ConfigError(f"{where}: [base] {field} must be a table")
            data[field][sub] = value
        else:
            data[key] = value
    try:
        for name in ("seeds",):
            if isinstance(data.get(name), str):
                data[name] = parse_seeds(data[name])
        recipe = data.pop("recipe", DEFAULT_RECIPE)
        if recipe is not None and not isinstance(recipe, str):
            raise ConfigError(f"recipe must be a name, got {quote(recipe)}")
        config = make_config(recipe, **data)
        if not has_trait(config.task, "group"):
            raise ConfigError(
                f"sweeps train composition runs, not task {config.task!r}; train it with "
                "`algolens train`"
            )
        if config.group not in groups:
            groups[config.group] = parse_group(config.group)
        group = groups[config.group]
        config = pin_group(config, group)
        task = build_task(config, group)
        MODEL_CONFIGS[config.model].from_dict(model_config_dict(config, task))
    except AlgolensError as exc:
        raise type(exc)(f"{where}: {exc}") from None
    return config, group


def _describe(point: dict[str, Any]) -> str:
    return quote(" ".join(f"{k}={v}" for k, v in point.items()), 120, bare=True)
