"""The structural recursion task's :class:`~algolens.tasks.registry.TaskSpec` (Zhang et al.
2023): a function (``function``) and its data settings (the ``recursion`` table,
:class:`~algolens.tasks.recursion.settings.RecursionArgs`), a dataset drawn once and stored
(:mod:`.setup`), trained by :class:`~algolens.train.trainer.Trainer` on its
:func:`.training.training_data` (summary metrics: :func:`.training.split_metrics`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from algolens.tasks.recursion.preset import PRESET, TREE_PRESET, pick_recipe
from algolens.tasks.recursion.settings import RECURSION_FIELDS, RecursionArgs
from algolens.tasks.recursion.setup import (
    load_recursion_dataset,
    resume_recursion,
    shortfall_note,
    start_recursion,
)
from algolens.tasks.registry import TaskSpec
from algolens.train.recipes import SHARED_RECIPES


def defaults(data: dict[str, Any]) -> dict[str, Any]:
    """A transformer and the default :class:`RecursionArgs` under what ``data`` gives."""
    data = {"model": "transformer", **data}
    if data.get("recursion") is None:
        data["recursion"] = {}
    return data


def check(config: Any) -> None:
    """A function is named and the model is a transformer."""
    if config.function is None:
        raise ValueError("task 'recursion' needs a function (successor, ..., FILE.py:NAME)")
    if config.model != "transformer":
        raise ValueError("task 'recursion' trains a transformer, not an mlp")


def load_task(store: Any, run_id: str, config: Any) -> Any:
    """The :class:`~algolens.tasks.recursion.task.RecursionTask` of a stored run."""
    from algolens.tasks.recursion.task import RecursionTask

    return RecursionTask(load_recursion_dataset(config, store.paths(run_id).root))


def summary(config: Any, trainer: Any) -> dict[str, Any]:
    """The function and every named split, teacher-forced and greedy."""
    return {"function": config.function, "splits": trainer.split_metrics()}


def describe(config: Mapping[str, Any]) -> str:
    """``recursion successor``."""
    return f"recursion {config.get('function') or '?'}"


def predict(store: Any, run: str, text: str, instance: int, epoch: int | None) -> dict[str, Any]:
    """:func:`~algolens.tasks.recursion.predict.predict_recursion`."""
    from algolens.tasks.recursion.predict import predict_recursion

    return predict_recursion(store, run, text, instance, epoch=epoch)


SPEC = TaskSpec(
    name="recursion",
    traits=frozenset({"sequence", "recursive-function"}),
    fields=RECURSION_FIELDS,
    section="recursion",
    args_model=RecursionArgs,
    flags={
        "--function": "function",
        "--max-size": "recursion",
        "--sampling": "recursion",
        "--oversample": "recursion",
        "--n-train": "recursion",
    },  # fmt: skip
    recipes={**SHARED_RECIPES, "recursion": PRESET, "recursion-trees": TREE_PRESET},  # issue 22
    default_recipe="recursion",
    pick_recipe=pick_recipe,  # by the function's domain
    defaults=defaults,
    check=check,
    start=start_recursion,
    resume=resume_recursion,
    load_data=load_recursion_dataset,
    load_task=load_task,
    summary=summary,
    describe=describe,
    predict=predict,
    report_section="algolens.tasks.recursion.report",
    start_note=shortfall_note,
)
