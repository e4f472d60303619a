"""Runs of a reproduction protocol: reuse what the store holds, resume what was interrupted."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from algolens.errors import CheckpointError
from algolens.store import RunStore
from algolens.tasks.traits import has_trait
from algolens.train.config import TrainConfig

SET_AT_START: tuple[str, ...] = ("dataset_sha256",)
"""Config fields ``start_run`` fills in from the task's inputs (a sequence run's dataset hash);
they follow from the rest of the config, so runs are compared without them."""


def ensure_run(
    store: RunStore, config: TrainConfig, log: Callable[[str], None], *,
    what: str | None = None, ignore: Collection[str] = SET_AT_START,
) -> str:  # fmt: skip
    """The id of a completed run of ``config`` in ``store``.

    An existing completed run with the same config (the fields in ``ignore`` left out; a
    composition run's group pinned by its table hash, resolved once here and passed on to
    ``start_run``) is reused; else the newest interrupted one is resumed from its last checkpoint
    (one killed before its first checkpoint is skipped); else a new run is trained now. So a
    protocol that was stopped continues where it stopped. ``what`` names the run in the ``log``
    lines (default: group, model and number of seeds).
    """
    from algolens.train import resume_run, start_run

    group = None
    pinned = config
    if has_trait(config.task, "group"):
        from algolens.groups import parse_group
        from algolens.train.run_group import pin_group

        group = parse_group(config.group)
        pinned = pin_group(config, group)
    want = _comparable(pinned.to_dict(), ignore)
    what = what or f"{config.group} {config.model}, {config.n_inst} seeds"
    same = [r for r in store.list() if _comparable(r.config, ignore) == want]
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
    log(f"training {what}" + (f", recipe {config.recipe}" if config.recipe else ""))
    return start_run(config, store, group=group)["run_id"]


def _comparable(config: dict[str, Any], ignore: Collection[str]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k not in ignore}
