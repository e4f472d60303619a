"""`predict`: a trained run's answer to a user-written input, beside the truth.

Each task parses and answers its own input (its :class:`~algolens.tasks.registry.TaskSpec`'s
``predict``): recursion runs read tokens (``"B1 B0 B1 Z"``,
:mod:`algolens.tasks.recursion.predict`), composition runs two elements ``a b``
(:mod:`algolens.tasks.composition.predict`), path-finding runs the paper's text format
(:mod:`algolens.tasks.pathfinding.predict`). This module adds the weights used.
"""

from __future__ import annotations

from typing import Any

from algolens.errors import SpecError
from algolens.store import RunStore
from algolens.tasks.composition.predict import parse_pair, predict_composition
from algolens.tasks.registry import all_specs, get_task
from algolens.train.load import run_config, weights_used

__all__ = ["parse_pair", "predict", "predict_composition"]


def predict(
    store: RunStore, run: str, text: str, instance: int = 0, *, epoch: int | None = None
) -> dict[str, Any]:
    """Answer of seed ``instance`` of run ``run`` to the input ``text`` (written the way the
    run's task prints its inputs), from the final weights or (``epoch``) that checkpoint's (a run
    without final weights: its latest checkpoint).

    Returns:
        ``{"input", "prediction", "expected", "correct", "weights", "epoch", "final"}``: the
        task's answer (``expected`` and ``correct`` are ``None`` when unknown) and the weights
        used (:func:`weights_used`).

    Raises:
        SpecError: a malformed input, or a run of a task without ``predict``.
        ConfigError: an instance out of range, or an input too long for the model.
    """
    config = run_config(store, run)
    used = weights_used(store, run, epoch)
    spec = get_task(config.task)
    if spec.predict is None:
        able = " and ".join(s.name for s in all_specs() if s.predict is not None)
        raise SpecError(f"predict supports {able} runs; run {run} is a {config.task} run")
    return spec.predict(store, run, text, instance, epoch) | used
