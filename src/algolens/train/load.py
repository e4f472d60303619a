"""Loading trained runs back from the run store, for analyses (safetensors only, no pickle).

Everything comes from the run folder: the config (``config.json``), the group it was trained on
(``group.json``, hash-checked against the config; a stored spec is never resolved again) and the
weights.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from algolens.errors import CheckpointError, ConfigError
from algolens.groups import FiniteGroup
from algolens.models import BatchedModel, build_model
from algolens.store import RunStore
from algolens.store.runs import RunPaths
from algolens.tasks.registry import get_task
from algolens.tasks.traits import has_trait
from algolens.train.checkpoint import (
    FORMAT,
    WEIGHTS_FORMAT,
    checkpoint_name,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    pick_checkpoint,
    read_metadata,
)
from algolens.train.config import TrainConfig, validate_config
from algolens.train.run_group import read_group_file
from algolens.train.trainer import model_config_dict


def run_config(store: RunStore, run: str) -> TrainConfig:
    """The validated config of run ``run`` (id or unique prefix), checked against its weights
    (:func:`folder_config`)."""
    record = store.get(run)
    return folder_config(store.paths(record.id).root)


def folder_config(root: Path) -> TrainConfig:
    """The config of the run folder ``root``, read and validated on every call, and checked
    against the run's weights (the final ones, else the latest checkpoint; their header only):
    same number of seeds as the weights have instances, same config fingerprint.

    Raises:
        ConfigError: ``config.json`` is not a valid training config (``seeds: []`` included).
        CheckpointError: it is unreadable, or it does not match the weights (edited).
    """
    paths = RunPaths(root)
    try:
        data = json.loads(paths.config.read_text())
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"run {root.name}: config.json unreadable ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"run {root.name}: config.json is not a JSON object; restore it")
    try:
        config = validate_config(data)
    except ConfigError as exc:
        raise ConfigError(f"run {root.name}: config.json: {exc}; restore it") from None
    _check_against_weights(paths, config)
    return config


def _check_against_weights(paths: RunPaths, config: TrainConfig) -> None:
    """Refuse a config that is not the one the run's weights were trained with."""
    if paths.final.is_file():
        weights = paths.final
    else:
        latest = latest_checkpoint(paths.checkpoints)
        if latest is None:
            return
        weights = latest[1]
    meta = read_metadata(weights)
    seeds = meta.get("seeds")
    where = f"run {paths.root.name}: config.json"
    if isinstance(seeds, list) and len(seeds) != len(config.seeds):
        raise CheckpointError(
            f"{where} lists {len(config.seeds)} seed(s) but its weights ({weights.name}) hold "
            f"{len(seeds)} instance(s); config.json was edited: restore it"
        )
    fingerprint = meta.get("fingerprint")
    if isinstance(fingerprint, str) and fingerprint != config.fingerprint():
        raise CheckpointError(
            f"{where} is not the config its weights ({weights.name}) were trained with (config "
            "fingerprint differs); config.json was edited: restore it"
        )


def load_run_group(store: RunStore, run: str) -> FiniteGroup:
    """The group run ``run`` (id or unique prefix) was trained on, from its ``group.json``.

    Raises:
        StoreError: unknown run.
        CheckpointError: a recursion run, a run without a stored group (trained by an older
            algolens: retrain it), or a ``group.json`` whose hash differs from the config's
            ``group_sha256``.
    """
    record = store.get(run)
    config = run_config(store, record.id)
    if not has_trait(config.task, "group"):
        raise CheckpointError(
            f"run {record.id} is a {config.task} run ({config.function or 'trees'}): it has a "
            f"stored dataset, not a group"
        )
    return read_group_file(store.paths(record.id).root, config.group_sha256)


def load_run_dataset(store: RunStore, run: str) -> Any:
    """The stored dataset of run ``run`` (a recursion run's
    :class:`~algolens.tasks.recursion.dataset.RecursionDataset`, a path-finding run's rows), read
    by its task's ``load_data`` and checked against the config's ``dataset_sha256``; nothing is
    executed.

    Raises:
        StoreError: unknown run. CheckpointError: a missing, malformed or changed dataset, or a
            run whose task stores none.
    """
    record = store.get(run)
    config = run_config(store, record.id)
    spec = get_task(config.task)
    if spec.load_data is None:
        raise CheckpointError(f"run {record.id} is a {config.task} run: it stores no dataset")
    return spec.load_data(config, store.paths(record.id).root)


def load_run_pathfinding(store: RunStore, run: str) -> Any:
    """The stored :class:`~algolens.tasks.pathfinding.dataset.PathfindingDataset` of a
    path-finding run, checked against the config's ``dataset_sha256``."""
    record = store.get(run)
    config = run_config(store, record.id)
    if not has_trait(config.task, "tree-paths"):
        raise CheckpointError(f"run {record.id} is a {config.task} run, not a pathfinding run")
    return load_run_dataset(store, record.id)


def run_task(store: RunStore, run: str) -> Any:
    """The task of run ``run`` from its folder (its task's ``load_task``): a
    :class:`CompositionTask` on its stored group, a sequence task on its stored dataset."""
    record = store.get(run)
    config = run_config(store, record.id)
    return get_task(config.task).load_task(store, record.id, config)


def checkpoint_epochs_of(store: RunStore, run: str) -> list[int]:
    """Epochs with a checkpoint in run ``run``, ascending."""
    record = store.get(run)
    return [e for e, _ in list_checkpoints(store.paths(record.id).checkpoints)]


def weights_file(store: RunStore, run: str, epoch: int | None = None) -> tuple[Path, int | None]:
    """``(file, epoch)`` of the weights :func:`load_run_model` reads for ``epoch``: the final
    weights (epoch None) when ``epoch`` is None and they exist, else the checkpoint of ``epoch``
    or, for None, the latest checkpoint (a run still training or interrupted).

    Raises:
        CheckpointError: no such checkpoint, or none at all.
    """
    paths = store.paths(store.get(run).id)
    if epoch is None and paths.final.is_file():
        return paths.final, None
    found = dict(list_checkpoints(paths.checkpoints))
    if not found:
        raise CheckpointError(f"run {paths.root.name} has no final weights and no checkpoints")
    e = max(found) if epoch is None else epoch
    if e not in found:
        raise CheckpointError(
            f"run {paths.root.name} has no {checkpoint_name(e)}; epochs: {sorted(found)}"
        )
    return found[e], e


def weights_used(store: RunStore, run: str, epoch: int | None = None) -> dict[str, Any]:
    """What :func:`load_run_model` reads for ``epoch``: ``{"weights": file name, "epoch": the
    epoch those weights were saved at (from the file's header), "final": bool}``.

    Raises:
        CheckpointError: as :func:`weights_file`.
    """
    path, e = weights_file(store, run, epoch)
    saved = read_metadata(path).get("epoch")
    at = e if e is not None else (saved if isinstance(saved, int) else None)
    return {"weights": path.name, "epoch": at, "final": e is None}


def checkpoint_epoch(store: RunStore, run: str, choice: str | None) -> int | None:
    """The epoch a ``--checkpoint EPOCH|FILE`` option names in run ``run`` (None: not given).

    Raises:
        ConfigError: no such epoch, or not one of the run's own checkpoint files.
    """
    if choice is None:
        return None
    paths = store.paths(store.get(run).id)
    return pick_checkpoint(paths.checkpoints, choice)[0]


def load_run_model(
    store: RunStore | str | Path | None, run: str, epoch: int | None = None
) -> tuple[TrainConfig, BatchedModel]:
    """The K-instance model of a run: final weights (``epoch=None``) or a checkpoint's.

    With ``epoch=None`` and no ``final.safetensors`` yet (a run still training or interrupted),
    the latest checkpoint is used (:func:`weights_file`). Take one seed with
    ``model.instance(k)``.

    Raises:
        StoreError: unknown run. CheckpointError: no such epoch, a damaged/foreign file, or no
            stored group (see :func:`load_run_group`).
    """
    store = store if isinstance(store, RunStore) else RunStore(store)
    config = run_config(store, run)
    task = run_task(store, run)
    path, e = weights_file(store, run, epoch)
    fmt = WEIGHTS_FORMAT if e is None else FORMAT
    tensors, _ = load_checkpoint(path, fmt=fmt, fingerprint=config.fingerprint())
    model = build_model(config.model, model_config_dict(config, task))
    state = {n[len("model.") :]: t for n, t in tensors.items() if n.startswith("model.")}
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise CheckpointError(f"weights do not fit the run's model: {str(exc)[:120]}") from None
    model.eval()
    return config, model
