"""Runs of a reproduction protocol: reuse what the store holds, resume what was interrupted."""

from __future__ import annotations

from collections.abc import Callable

from algolens.errors import CheckpointError
from algolens.store import RunStore
from algolens.train.config import TrainConfig


def ensure_run(store: RunStore, config: TrainConfig, log: Callable[[str], None]) -> str:
    """The id of a completed run of ``config`` in ``store``.

    An existing completed run with the same config (group pinned by its table hash) is reused;
    else the newest interrupted one is resumed from its last checkpoint (one killed before its
    first checkpoint is skipped); else a new run is trained now. So a protocol that was stopped
    continues where it stopped.
    """
    from algolens.groups import parse_group
    from algolens.train import resume_run, start_run
    from algolens.train.run_group import pin_group

    group = parse_group(config.group)
    want = pin_group(config, group).to_dict()
    what = f"{config.group} {config.model}, {config.n_inst} seeds"
    same = [r for r in store.list() if r.config == want]
    done = [r for r in same if r.status == "completed"]
    if done:
        log(f"reusing run {done[-1].id} ({what})")
        return done[-1].id
    for record in reversed(same):
        try:
            log(f"resuming run {record.id} ({what})")
            return resume_run(store, record.id)["run_id"]
        except CheckpointError:
            continue  # killed before its first checkpoint: train afresh
    log(f"training {what}, recipe {config.recipe}")
    return start_run(config, store, group=group)["run_id"]
