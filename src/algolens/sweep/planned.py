"""A sweep of given train configs (no sweep file, no grid): how a paper protocol's independent
runs fan out through the sweep executors (``algolens reproduce PAPER --executor local|ray``).

The plan has one configuration per config, in the order given; a group composition config has its
group resolved and pinned as :func:`algolens.sweep.load_sweep` pins a grid point's, a config of
another task (recursion, path-finding) has its dataset drawn here to pin its hash
(``dataset_sha256``), so the planned config is the one the run stores; the worker draws the same
dataset again when the run starts (a different one is refused as another config). Its id is the
sweep id of the content ``{"source": ..., "configs": [...]}`` (the pinned configs as stored), so the
same list of configs names the same sweep, and running it again resumes it: finished runs are
skipped, interrupted ones resume from their last checkpoint (:mod:`algolens.sweep.driver`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from algolens.errors import ConfigError
from algolens.groups import FiniteGroup, parse_group
from algolens.sweep.spec import Configuration, SweepPlan, sweep_id_of
from algolens.tasks.registry import get_task
from algolens.tasks.traits import has_trait
from algolens.train.config import TrainConfig


def plan_configs(configs: Sequence[TrainConfig], source: str) -> SweepPlan:
    """The sweep that trains ``configs``, one run each; ``source`` names what planned it (the
    command), kept in the sweep's record and in each run's ``sweep.json``.

    Raises:
        ConfigError: no config, or the same config twice.
        SpecError, TableError, ...: a group spec that does not resolve.
    """
    if not configs:
        raise ConfigError("no runs to plan: the protocol trains nothing")
    from algolens.train.run_group import pin_group

    groups: dict[str, FiniteGroup] = {}
    out: list[Configuration] = []
    seen: dict[str, int] = {}
    for index, config in enumerate(configs):
        group = None
        if has_trait(config.task, "group"):
            if config.group not in groups:
                groups[config.group] = parse_group(config.group)
            group = groups[config.group]
            config = pin_group(config, group)
        else:  # draw the run's data now to pin its hash, as `algolens train` does at the start
            config = get_task(config.task).start(config, None)[0].config
        key = json.dumps(config.to_dict(), sort_keys=True)
        if key in seen:
            raise ConfigError(f"run {index} is the same train config as run {seen[key]}")
        seen[key] = index
        out.append(Configuration(index, _point(config), config, group))
    content = {"source": source, "configs": [c.config.to_dict() for c in out]}
    return SweepPlan(sweep_id_of(content), Path(source), content, out)


def _point(config: TrainConfig) -> dict[str, Any]:
    """What a planned run's progress line names: the group or function, model and seeds."""
    if has_trait(config.task, "group"):
        what: dict[str, Any] = {"group": config.group}
    elif config.function is not None:
        what = {"task": config.task, "function": config.function}
    else:
        what = {"task": config.task}
    return {**what, "model": config.model, "seeds": len(config.seeds)}
