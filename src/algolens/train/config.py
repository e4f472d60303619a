"""`TrainConfig`: everything that determines a training run, validated up front; and the recipes.

A run is a pure function of its config: the seeds, the task, the model config and the optimiser
settings below fix every bit of the result. Configs come from a recipe (a named dict of defaults)
plus overrides, from TOML files, or from CLI flags; all three end in :func:`make_config`.

Recipes: every task declares the ones it serves in its :class:`~algolens.tasks.registry.TaskSpec`
(:data:`RECIPES` collects them):
    ``paper``, ``fast``  composition and recursion (:mod:`algolens.train.recipes`).
    ``brinkmann``, ``brinkmann-cpu``  path-finding (:mod:`algolens.tasks.pathfinding.setup`).

Each recipe serves the tasks listed in :data:`RECIPE_TASKS`; a recipe that serves one task only
(``brinkmann``) implies it when no task is given, and a recipe never switches a task that was
given. Fields of another task (:mod:`algolens.tasks.fields`) are refused by :func:`make_config`.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from algolens.errors import ConfigError, listed, quote
from algolens.tasks.fields import TASK_FIELDS, check_task_fields, tasks_of
from algolens.tasks.pathfinding.settings import PathfindingArgs
from algolens.tasks.recursion.settings import RecursionArgs
from algolens.tasks.registry import DEFAULT_RECIPES as DEFAULT_RECIPES
from algolens.tasks.registry import DEFAULT_TASK, RECIPE_TASKS, RECIPES, find_task, task_names
from algolens.textfile import read_text_file
from algolens.train.cleanup_stop import CleanupStop
from algolens.train.early_stop import ExactStop
from algolens.train.recipes import FAST_RECIPE as FAST_RECIPE
from algolens.train.recipes import PAPER_RECIPE as PAPER_RECIPE

# RECIPES, RECIPE_TASKS, DEFAULT_RECIPES and DEFAULT_TASK are the task registry's
# (algolens.tasks.registry): read-only views over every registered task's recipes.

ModelKind = Literal["mlp", "transformer"]
MAX_SEEDS = 1024
"""Most seeds one run trains together (the CLI enforces the same bound on ``--seeds``)."""
MAX_SEED = 2**63 - 1
"""Largest seed value (seeds feed ``torch.Generator.manual_seed``, with an offset for batches)."""
MAX_EPOCHS = 10**9
"""Most epochs a run may ask for (the paper recipe uses 250 000)."""
MAX_LOG_CHECKPOINTS = 1000
"""Most log-spaced checkpoints a run may ask for."""
FIXED_MODEL_ARGS: tuple[str, ...] = ("d_vocab", "d_vocab_out", "n_ctx", "n_inst")
"""Model config fields set from the task and the seeds; a config may not give them."""
MODEL_KINDS: tuple[str, ...] = ("mlp", "transformer")
SCHEDULES: tuple[str, ...] = ("constant", "warmup", "cosine")

OPTIONAL_TASK_FIELDS: tuple[str, ...] = ("function", "recursion", "pathfinding", "dataset_sha256")
"""Task fields that are None unless their task sets them (left out of the fingerprint then)."""


class TrainConfig(BaseModel):
    """A training run: task, model, seeds and optimiser (validated; immutable).

    The K ``seeds`` are trained together as one batched model with a leading instance dimension;
    seed k fixes instance k's initial weights, its train/test split and its minibatch order.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, protected_namespaces=(), strict=True)

    recipe: str | None = Field(None, description="recipe the defaults came from (informational)")
    task: str = Field(DEFAULT_TASK, description="the task kind (algolens.tasks.registry)")
    function: str | None = Field(
        None, description="recursion: a built-in function (successor, ...) or FILE.py:NAME"
    )
    recursion: RecursionArgs | None = Field(
        None, description="recursion: sizes, sampling and splits (default RecursionArgs())"
    )
    pathfinding: PathfindingArgs | None = Field(
        None, description="pathfinding: node count, dataset size and split (docs/pathfinding.md)"
    )
    args: dict[str, Any] | None = Field(
        None,
        description="settings of a task whose TaskSpec keeps them in this generic table "
        "(section 'args', validated by its args_model); absent from config.json when None",
    )
    dataset_sha256: str | None = Field(
        None,
        pattern="^[0-9a-f]{64}$",
        description="SHA-256 of the stored dataset (set by start_run for sequence-task runs)",
    )
    group: str = Field("S5", description="group spec, e.g. S5, C113, D59, S3xC2")
    group_sha256: str | None = Field(
        None,
        pattern="^[0-9a-f]{64}$",
        description="SHA-256 of the resolved group (set by start_run; see train.run_group)",
    )
    train_frac: float = Field(0.4, description="fraction of pairs for training, in (0, 1)")
    model: ModelKind = "mlp"
    model_args: dict[str, Any] = Field(
        default_factory=dict,
        description="model config fields (d_vocab, d_vocab_out, n_ctx, n_inst are filled in)",
    )
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1, max_length=MAX_SEEDS)
    epochs: int = Field(1000, ge=1, le=MAX_EPOCHS)
    batch_size: int | None = Field(None, ge=1, description="None: full batch")
    lr: float = Field(1e-3, gt=0.0, allow_inf_nan=False)
    weight_decay: float = Field(1.0, ge=0.0, allow_inf_nan=False)
    beta1: float = Field(0.9, ge=0.0, lt=1.0)
    beta2: float = Field(0.98, ge=0.0, lt=1.0)
    eps: float = Field(1e-8, gt=0.0, allow_inf_nan=False)
    schedule: Literal["constant", "warmup", "cosine"] = "constant"
    warmup_epochs: int = Field(0, ge=0)
    min_lr_frac: float = Field(0.0, ge=0.0, le=1.0, description="cosine floor as a fraction of lr")
    loss_dtype: Literal["float32", "float64"] = "float64"
    grokfast_alpha: float = Field(0.0, ge=0.0, lt=1.0, description="EMA decay of the grad filter")
    grokfast_lamb: float = Field(
        0.0, ge=0.0, allow_inf_nan=False, description="gain of the slow gradient component"
    )
    grok_threshold: float = Field(0.99, gt=0.0, le=1.0, description="test accuracy that counts")
    early_stop: bool = Field(
        True, description="stop once every live instance has grokked (or by cleanup_stop's rule)"
    )
    cleanup_stop: CleanupStop | None = Field(
        None,
        description="with early_stop: stop once every live instance is cleaned up or has "
        "plateaued instead of once it has grokked (algolens.train.cleanup_stop); absent from "
        "config.json when None",
    )
    eval_every: int = Field(10, ge=1)
    checkpoint_every: int = Field(1000, ge=1, description="regular checkpoint interval (epochs)")
    log_checkpoints: int = Field(
        20, ge=0, le=MAX_LOG_CHECKPOINTS, description="number of log-spaced checkpoints"
    )
    exact_stop: ExactStop | None = Field(
        None,
        description="sequence tasks: stop on greedy exact match of a validation split carved "
        "from train, checked every eval_every epochs (train/early_stop.py); None: off",
    )

    @field_validator("train_frac", mode="before")
    @classmethod
    def _fraction(cls, value: Any) -> Any:
        # Before pydantic's own checks, so NaN gets this message and not "should be less than 1".
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not 0.0 < value < 1.0:  # False for NaN
                raise ValueError("must be a number strictly between 0 and 1")
        return value

    @field_validator("seeds", mode="before")
    @classmethod
    def _seed_list(cls, value: Any) -> Any:
        # Before pydantic's own checks, so a malformed list gets one message of ours.
        rule = "integers in 0..2**63-1"
        if not isinstance(value, (list, tuple)) or not all(
            isinstance(s, int) and not isinstance(s, bool) for s in value
        ):
            raise ValueError(f"seeds must be a list of distinct {rule}")
        if not value:
            raise ValueError(f"seeds must name at least one seed ({rule})")
        if len(value) > MAX_SEEDS:
            raise ValueError(f"seeds must number at most {MAX_SEEDS} ({len(value)} given)")
        return value

    @field_validator("seeds")
    @classmethod
    def _unique_seeds(cls, seeds: list[int]) -> list[int]:
        if any(not 0 <= s <= MAX_SEED for s in seeds):
            raise ValueError("seeds must lie in 0..2**63-1")
        if len(set(seeds)) != len(seeds):
            raise ValueError("seeds must be distinct")
        return seeds

    @field_validator("model_args")
    @classmethod
    def _no_fixed_model_args(cls, args: dict[str, Any]) -> dict[str, Any]:
        fixed = [k for k in FIXED_MODEL_ARGS if k in args]
        if fixed:
            raise ValueError(
                f"{', '.join(fixed)} may not be given: the task and the number of seeds fix them; "
                "remove them from model_args"
            )
        return args

    @field_validator("task")
    @classmethod
    def _known_task(cls, task: str) -> str:
        if find_task(task) is None:
            raise ValueError(f"unknown task; use one of {', '.join(task_names())}")
        return task

    @model_validator(mode="before")
    @classmethod
    def _task_defaults(cls, data: Any) -> Any:
        spec = find_task(data.get("task", DEFAULT_TASK)) if isinstance(data, dict) else None
        if spec is None:
            return data
        data = spec.defaults(dict(data))
        if spec.section == "args" and spec.args_model is not None:
            data["args"] = _task_args(spec.args_model, data.get("args"))
        return data

    @model_validator(mode="after")
    def _check_combination(self) -> TrainConfig:
        spec = find_task(self.task)
        assert spec is not None  # checked by _known_task
        spec.check(self)
        given = [
            n
            for n in (*OPTIONAL_TASK_FIELDS, "args", "group_sha256")
            if getattr(self, n) is not None and n not in spec.fields
        ]
        if given:  # the first field and the others of the same task(s)
            given = [n for n in given if tasks_of(n) == tasks_of(given[0])]
            owners = " or ".join(repr(t) for t in tasks_of(given[0])) or "that declares it"
            verb = "applies" if len(given) == 1 else "apply"
            raise ValueError(f"{', '.join(given)} only {verb} to task {owners}")
        if self.exact_stop is not None and "sequence" not in spec.traits:
            raise ValueError("exact_stop applies to sequence tasks (recursion, pathfinding)")
        if self.cleanup_stop is not None and not self.early_stop:
            raise ValueError("cleanup_stop needs early_stop = true (it is early_stop's rule)")
        if self.cleanup_stop is not None and "sequence" in spec.traits:
            raise ValueError(
                "cleanup_stop applies to group composition (sequence tasks stop on exact_stop)"
            )
        if self.schedule == "warmup" and self.warmup_epochs == 0:
            raise ValueError("schedule 'warmup' needs warmup_epochs >= 1")
        if self.warmup_epochs > self.epochs:
            raise ValueError(f"warmup_epochs ({self.warmup_epochs}) exceeds epochs ({self.epochs})")
        return self

    @property
    def n_inst(self) -> int:
        """K, the number of seeds trained together."""
        return len(self.seeds)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict (the content of ``config.json``; ``args`` and
        ``exact_stop`` and ``cleanup_stop`` only when set, so configs without them read, and
        hash, as before the fields existed)."""
        unset = {n for n in ("args", "exact_stop", "cleanup_stop") if getattr(self, n) is None}
        return self.model_dump(mode="json", exclude=unset or None)

    def fingerprint(self) -> str:
        """SHA-256 of the fields that fix the trajectory: all but ``recipe``, and ``epochs`` too
        unless the schedule is cosine (the only place the run length changes earlier epochs).
        ``group_sha256`` (the resolved group, pinned by ``start_run``) is included when set, so
        two runs of one spec string naming different tables have different fingerprints.

        Checkpoints carry it, so a checkpoint of another task or model is refused on resume.
        """
        d = self.to_dict()
        d.pop("recipe")
        if d["group_sha256"] is None:  # an unpinned config hashes as before the field existed
            d.pop("group_sha256")
        for name in OPTIONAL_TASK_FIELDS:  # unused: absent
            if d[name] is None:
                d.pop(name)
        if self.schedule != "cosine":
            d.pop("epochs")
        blob = json.dumps(d, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()


def _task_args(model: type, value: Any) -> dict[str, Any]:
    """``value`` (None: all defaults) validated by a task's ``args_model``, as plain JSON."""
    try:
        return model.model_validate({} if value is None else value).model_dump(mode="json")
    except ValidationError as exc:
        problems = [
            f"args.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        ]
        raise ValueError(listed(problems, 3, "; ")) from None


def resolve_task(task: Any, recipe: str | None) -> tuple[Any, str]:
    """The task of a config that gives ``task`` (or ``None``) and ``recipe``, and how it was
    chosen (``""`` when given, else `` (the default)`` or `` (recipe 'NAME')``, for messages).

    Examples:
        >>> resolve_task(None, "brinkmann"), resolve_task(None, "fast")
        (('pathfinding', " (recipe 'brinkmann')"), ('composition', ' (the default)'))

    Raises:
        ConfigError: an unknown recipe, or a recipe that does not serve the given task.
    """
    if recipe is not None and (not isinstance(recipe, str) or recipe not in RECIPES):
        raise ConfigError(f"unknown recipe {quote(recipe)}; use one of {', '.join(RECIPES)}")
    serves = RECIPE_TASKS.get(recipe, tuple(TASK_FIELDS)) if recipe is not None else None
    if task is None:
        if serves is None or DEFAULT_TASK in serves:
            return DEFAULT_TASK, " (the default)"
        return serves[0], f" (recipe {recipe!r})"
    if serves is not None and task in TASK_FIELDS and task not in serves:
        fits = [name for name, tasks in RECIPE_TASKS.items() if task in tasks]
        raise ConfigError(
            f"recipe {recipe!r} is not a {task} recipe (it serves {' and '.join(serves)}); for "
            f"task {task!r} use {' or '.join(fits)}"
        )
    return task, ""


def make_config(recipe: str | None = None, **overrides: Any) -> TrainConfig:
    """Recipe defaults updated with ``overrides`` (``None`` values are ignored), validated.

    The task is ``overrides["task"]``, else the one the recipe implies, else composition; a field
    of another task (:mod:`algolens.tasks.fields`) is refused, and so is a recipe of another task.

    Raises:
        ConfigError: an unknown recipe, a field or recipe of another task, or any invalid field;
            every problem in one line.
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    task, why = resolve_task(given.get("task"), recipe)
    check_task_fields(task, {k: k for k in given}, why)
    base: dict[str, Any] = {}
    if recipe is not None:
        base = dict(RECIPES[recipe])
        base["recipe"] = recipe
    base.update(given)
    return validate_config(base)


def validate_config(data: dict[str, Any]) -> TrainConfig:
    """Build a :class:`TrainConfig` from a dict, turning pydantic errors into one ConfigError."""
    try:
        return TrainConfig(**data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = quote(".".join(str(p) for p in err["loc"]) or "config", bare=True)
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(f"{where}: {msg} (got {quote(err.get('input'), 80)})")
        raise ConfigError("invalid training config: " + listed(problems, 5, "; ")) from None


def load_toml_config(path: str | Path, **overrides: Any) -> TrainConfig:
    """Read a TOML config; a top-level ``recipe = "fast"`` key supplies defaults. A file that
    names no recipe gets its task's default, as ``algolens train`` without ``--recipe`` does
    (:meth:`~algolens.tasks.registry.TaskSpec.default_recipe_for`: ``fast`` for composition,
    the recursion preset for the function's domain, ``pathfinding``).

    Example file::

        recipe = "fast"
        group = "S5"
        seeds = [0, 1, 2, 3]
        [model_args]
        d_embed = 256
    """
    data = read_toml_config(path)
    recipe = data.pop("recipe", None)
    data.update({k: v for k, v in overrides.items() if v is not None})
    if recipe is None:
        spec = find_task(resolve_task(data.get("task"), None)[0])
        if spec is not None:  # an unknown task is make_config's to refuse
            fields = {f: data[f] for f in spec.fields if f != spec.section and f in data}
            recipe = spec.default_recipe_for(fields)
    return make_config(recipe, **data)


def read_toml_config(path: str | Path) -> dict[str, Any]:
    """The raw table of a TOML config file (its ``recipe`` key included), unvalidated.

    Raises:
        ConfigError: a missing file or a file that is not TOML.
    """
    path = Path(path)
    text = read_text_file(path, "config file", expected="a TOML file")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


def parse_seeds(text: str) -> list[int]:
    """Parse ``"0-31"``, ``"1,2,5"`` or ``"0-3,10"`` into a list of seeds.

    Raises:
        ConfigError: unreadable text, or more than ``MAX_SEEDS`` seeds (checked before a range
            is expanded, so ``0-99999999999`` fails at once).

    Examples:
        >>> parse_seeds("0-3,10")
        [0, 1, 2, 3, 10]
    """
    seeds: list[int] = []
    for part in text.split(","):
        try:
            lo, dash, hi = part.strip().partition("-")
            a = int(lo)
            b = int(hi) if dash else a
        except ValueError:
            a, b = 0, -1
        if b < a:
            raise ConfigError(
                f"cannot read seeds {quote(text)}; write a range like 0-31 or a list like 1,2,5"
            )
        if len(seeds) + (b - a + 1) > MAX_SEEDS:
            raise ConfigError(
                f"seeds {quote(text)} name more than {MAX_SEEDS} seeds; train at most "
                f"{MAX_SEEDS} per run"
            )
        seeds.extend(range(a, b + 1))
    return seeds
