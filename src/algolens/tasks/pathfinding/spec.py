"""The path-finding task's :class:`~algolens.tasks.registry.TaskSpec` (Brinkmann et al. 2024):
its data settings (the ``pathfinding`` table, :class:`~.settings.PathfindingArgs`), the
``brinkmann`` and ``brinkmann-cpu`` recipes and the stored dataset (:mod:`.setup`), trained by
:class:`~algolens.train.trainer.Trainer` on :func:`.training.training_data` (summary metrics:
:func:`.training.split_metrics`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from algolens.tasks.pathfinding.preset import PRESET
from algolens.tasks.pathfinding.settings import PATHFINDING_FIELDS, PathfindingArgs
from algolens.tasks.pathfinding.setup import (
    PATHFINDING_RECIPES,
    load_pathfinding_dataset,
    resume_pathfinding,
    start_pathfinding,
    with_pathfinding_defaults,
)
from algolens.tasks.registry import TaskSpec


def check(config: Any) -> None:
    """The model is a transformer."""
    if config.model != "transformer":
        raise ValueError("task 'pathfinding' trains a transformer, not an mlp")


def load_task(store: Any, run_id: str, config: Any) -> Any:
    """The :class:`~algolens.tasks.pathfinding.task.PathfindingTask` of a stored run."""
    from algolens.tasks.pathfinding.task import PathfindingTask

    return PathfindingTask(load_pathfinding_dataset(config, store.paths(run_id).root))


def summary(config: Any, trainer: Any) -> dict[str, Any]:
    """The node count and the test split: teacher-forced, greedy, greedy by path length."""
    return {"nodes": config.pathfinding.nodes, "splits": trainer.split_metrics()}


def describe(config: Mapping[str, Any]) -> str:
    """``pathfinding 6 nodes``."""
    args = config.get("pathfinding")
    nodes = args.get("nodes") if isinstance(args, Mapping) else None
    return f"pathfinding {nodes if nodes is not None else '?'} nodes"


def predict(store: Any, run: str, text: str, instance: int, epoch: int | None) -> dict[str, Any]:
    """:func:`~algolens.tasks.pathfinding.predict.predict_pathfinding`."""
    from algolens.tasks.pathfinding.predict import predict_pathfinding

    return predict_pathfinding(store, run, text, instance, epoch=epoch)


SPEC = TaskSpec(
    name="pathfinding",
    traits=frozenset({"sequence", "tree-paths"}),
    fields=PATHFINDING_FIELDS,
    section="pathfinding",
    args_model=PathfindingArgs,
    flags={"--nodes": "pathfinding"},
    recipes={"pathfinding": PRESET, **PATHFINDING_RECIPES},  # its own preset (issue 22)
    default_recipe="pathfinding",
    defaults=with_pathfinding_defaults,
    check=check,
    start=start_pathfinding,
    resume=resume_pathfinding,
    load_data=load_pathfinding_dataset,
    load_task=load_task,
    summary=summary,
    describe=describe,
    predict=predict,
    report_section="algolens.tasks.pathfinding.report",
)
