"""A sweep of given train configs (no sweep file, no grid): how a paper protocol's independent
runs fan out through the sweep executors (``algolens reproduce PAPER --executor local|ray``).

The plan has one configuration per config, in the order given, each with its group resolved and
pinned as :func:`algolens.sweep.load_sweep` pins a grid point's. Its id is the sweep id of the
content ``{"source": ..., "configs": [...]}`` (the pinned configs as stored), so the same list of
configs names the same sweep, and running it again resumes it: finished runs are skipped,
interrupted ones resume from their last checkpoint (:mod:`algolens.sweep.driver`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from algolens.errors import ConfigError
from algolens.groups import FiniteGroup, parse_group
from algolens.sweep.spec import Configuration, SweepPlan, sweep_id_of
from algolens.tasks.traits import has_trait
from algolens.train.config import TrainConfig


def plan_configs(configs: Sequence[TrainConfig], source: str) -> SweepPlan:
    """The sweep that trains ``configs``, one run each; ``source`` names what planned it (the
    command), kept in the sweep's record and in each run's ``sweep.json``.

    Raises:
        ConfigError: no config, a config of a task sweeps do not train (only group composition
            is swept), or the same config twice.
        SpecError, TableError, ...: a group spec that does not resolve.
    """
    if not configs:
        raise ConfigError("no runs to plan: the protocol trains nothing")
    from algolens.train.run_group import pin_group

    groups: dict[str, FiniteGroup] = {}
    out: list[Configuration] = []
    seen: dict[str, int] = {}
    for index, config in enumerate(configs):
        if not has_trait(config.task, "group"):
            raise ConfigError(
                f"run {index} is of task {config.task!r}; only group composition runs fan out "
                "through the sweep executors"
            )
        if config.group not in groups:
            groups[config.group] = parse_group(config.group)
        pinned = pin_group(config, groups[config.group])
        key = json.dumps(pinned.to_dict(), sort_keys=True)
        if key in seen:
            raise ConfigError(f"run {index} is the same train config as run {seen[key]}")
        seen[key] = index
        point = {"group": config.group, "model": config.model, "seeds": len(config.seeds)}
        out.append(Configuration(index, point, pinned, groups[config.group]))
    content = {"source": source, "configs": [c.config.to_dict() for c in out]}
    return SweepPlan(sweep_id_of(content), Path(source), content, out)
