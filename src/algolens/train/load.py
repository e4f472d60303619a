"""Loading trained runs back from the run store, for analyses (safetensors only, no pickle).

Everything comes from the run folder: the config (``config.json``), the group it was trained on
(``group.json``, hash-checked against the config; a stored spec is never resolved again) and the
weights.
"""

from __future__ import annotations

import json
from pathlib import Path

from algolens.errors import CheckpointError
from algolens.groups import FiniteGroup
from algolens.models import BatchedModel, build_model
from algolens.store import RunStore
from algolens.train.checkpoint import (
    WEIGHTS_FORMAT,
    checkpoint_name,
    list_checkpoints,
    load_checkpoint,
)
from algolens.train.config import TrainConfig, validate_config
from algolens.train.run_group import read_group_file
from algolens.train.trainer import build_task, model_config_dict


def run_config(store: RunStore, run: str) -> TrainConfig:
    """The validated config of run ``run`` (id or unique prefix)."""
    record = store.get(run)
    path = store.paths(record.id).config
    try:
        return validate_config(json.loads(path.read_text()))
    except (OSError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"run {record.id}: config.json unreadable ({exc})") from None


def load_run_group(store: RunStore, run: str) -> FiniteGroup:
    """The group run ``run`` (id or unique prefix) was trained on, from its ``group.json``.

    Raises:
        StoreError: unknown run.
        CheckpointError: a run without a stored group (trained by an older algolens: retrain
            it), or a ``group.json`` whose hash differs from the config's ``group_sha256``.
    """
    record = store.get(run)
    return read_group_file(store.paths(record.id).root, run_config(store, record.id).group_sha256)


def checkpoint_epochs_of(store: RunStore, run: str) -> list[int]:
    """Epochs with a checkpoint in run ``run``, ascending."""
    record = store.get(run)
    return [e for e, _ in list_checkpoints(store.paths(record.id).checkpoints)]


def load_run_model(
    store: RunStore | str | Path | None, run: str, epoch: int | None = None
) -> tuple[TrainConfig, BatchedModel]:
    """The K-instance model of a run: final weights (``epoch=None``) or a checkpoint's.

    With ``epoch=None`` and no ``final.safetensors`` yet (a run still training or interrupted),
    the latest checkpoint is used. Take one seed with ``model.instance(k)``.

    Raises:
        StoreError: unknown run. CheckpointError: no such epoch, a damaged/foreign file, or no
            stored group (see :func:`load_run_group`).
    """
    store = store if isinstance(store, RunStore) else RunStore(store)
    config = run_config(store, run)
    group = load_run_group(store, run)
    paths = store.paths(store.get(run).id)
    if epoch is None and paths.final.is_file():
        tensors, _ = load_checkpoint(
            paths.final, fmt=WEIGHTS_FORMAT, fingerprint=config.fingerprint()
        )
    else:
        found = dict(list_checkpoints(paths.checkpoints))
        if not found:
            raise CheckpointError(f"run {paths.root.name} has no checkpoints")
        e = max(found) if epoch is None else epoch
        if e not in found:
            raise CheckpointError(
                f"run {paths.root.name} has no {checkpoint_name(e)}; epochs: {sorted(found)}"
            )
        tensors, _ = load_checkpoint(found[e], fingerprint=config.fingerprint())
    model = build_model(config.model, model_config_dict(config, build_task(config, group)))
    state = {n[len("model.") :]: t for n, t in tensors.items() if n.startswith("model.")}
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise CheckpointError(f"weights do not fit the run's model: {str(exc)[:120]}") from None
    model.eval()
    return config, model
