"""The irrep analysis of stored runs: per-instance metric dicts, final and over checkpoints.

This is the API that sweeps and reproductions call:

* :func:`run_irreps` — every instance of a run at its final weights, stored in the run folder;
* :func:`run_progress` — one instance over the run's saved checkpoints (progress measures);
* :func:`analyse_run_instances` — the same metric dicts without the store (any epoch);
* :func:`run_coset_method` — a coset method of :mod:`algolens.analysis.composition.verdict`, stored
  likewise;
* :func:`ensure_irreps`, :func:`ensure_coset` — what a run's report shows of them, computed and
  stored when missing (the methods' ``ensure``); :func:`stored_irreps`,
  :func:`stored_progress` — the stored analyses, read and never computed (for reports).

Each instance's dict is :meth:`IrrepAnalysis.to_dict` plus ``instance``, ``seed`` and ``epoch``.
Every check that can fail on user input (task, model, instance, group size, checkpoints) runs
before any weights are loaded or any file is written.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from algolens.analysis.composition.irreps import analyse_model
from algolens.analysis.composition.progress import progress_measures
from algolens.analysis.methods import Options, check_method_run, family, not_applicable
from algolens.analysis.store import analysis_path, cached, read_analysis
from algolens.errors import CheckpointError, ConfigError
from algolens.groups.group import FiniteGroup
from algolens.groups.reps import irreps
from algolens.store import RunStore
from algolens.tasks.composition.training import build_task
from algolens.train.checkpoint import list_checkpoints
from algolens.train.config import TrainConfig
from algolens.train.load import (
    checkpoint_epochs_of,
    load_run_group,
    load_run_model,
    run_config,
)

METHOD = "irreps"

FOLLOW = 4
"""Instances whose progress over checkpoints a run's report computes when not stored
(:func:`ensure_irreps`; the report shows every instance whose progress is stored)."""


def check_run(
    store: RunStore,
    run: str,
    instance: int | None = None,
    *,
    checkpoints: bool = False,
    method: str = METHOD,
) -> tuple[str, TrainConfig]:
    """``(run id, config)`` of a run the irrep analysis (or ``method``) can read; raises before
    any work (:func:`algolens.analysis.methods.check_method_run`).

    Args:
        checkpoints: also require saved checkpoints (for :func:`run_progress`).
        method: the registered method whose runs are accepted and named in the refusal.

    Raises:
        StoreError: unknown run. ConfigError: a run of another task or model, or an instance out
            of range. SizeLimitError: the group's irreps exceed the size limit.
        CheckpointError: a run without a stored group, without weights, or (``checkpoints``)
            without checkpoints.
    """
    opts = Options(instance=instance, checkpoints=checkpoints)
    return check_method_run(store, run, method, opts)


def check_irreps(store: RunStore, run_id: str, config: TrainConfig, opts: Options) -> None:
    """The irreps method's own checks (``Method.check``): saved checkpoints for
    ``--checkpoints``, and the group's irreps within the size limit, before any weights are read.

    Raises:
        CheckpointError: ``--checkpoints`` on a run without checkpoints. SizeLimitError: a group
            above the irreps size limit.
    """
    if opts.checkpoints and not checkpoint_epochs_of(store, run_id):
        raise CheckpointError(f"run {run_id} has no checkpoints to follow over training")
    irreps(load_run_group(store, run_id))  # SizeLimitError now, not after loading weights


def compute_irreps(store: RunStore, run_id: str, opts: Options) -> dict[str, Any]:
    """The irreps method's ``compute``: :func:`run_irreps` at the weights ``opts`` name."""
    return run_irreps(store, run_id, force=opts.force, epoch=opts.epoch)


def weights_source(store: RunStore, run_id: str) -> dict[str, Any]:
    """Name, size and mtime of the weights the final analysis reads (final or latest checkpoint).

    Raises:
        CheckpointError: no final weights and no checkpoints.
    """
    paths = store.paths(run_id)
    found = list_checkpoints(paths.checkpoints)
    path = paths.final if paths.final.is_file() else (found[-1][1] if found else None)
    if path is None:
        raise CheckpointError(f"run {run_id} has no final weights and no checkpoints")
    stat = path.stat()
    return {"file": path.name, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def train_masks(config: TrainConfig, group: FiniteGroup) -> list[np.ndarray]:
    """``[|G|, |G|]`` bool per seed, True on that seed's training pairs (row ``a·|G| + b``)."""
    task = build_task(config, group)
    n = group.order
    out = []
    for seed in config.seeds:
        mask = np.zeros(n * n, dtype=bool)
        mask[task.split(seed)[0].numpy()] = True
        out.append(mask.reshape(n, n))
    return out


def analyse_run_instances(
    store: RunStore,
    run: str,
    *,
    epoch: int | None = None,
    instances: list[int] | None = None,
    compact: bool = False,
) -> list[dict[str, Any]]:
    """Metric dicts of the given instances (default all) at ``epoch`` (default: final weights;
    ``"epoch"`` is then None in the dicts).

    Args:
        compact: drop the per-neuron lists (for series over many checkpoints).
    """
    run_id, config = check_run(store, run)
    for k in instances or []:
        check_run(store, run_id, k)
    group = load_run_group(store, run_id)
    ks = list(range(len(config.seeds))) if instances is None else instances
    return _analyse(store, run_id, config, group, train_masks(config, group), epoch, ks, compact)


def _analyse(
    store: RunStore,
    run_id: str,
    config: TrainConfig,
    group: FiniteGroup,
    masks: list[np.ndarray],
    epoch: int | None,
    instances: list[int],
    compact: bool,
) -> list[dict[str, Any]]:
    _, model = load_run_model(store, run_id, epoch)
    out = []
    for k in instances:
        d = analyse_model(group, model.instance(k), train_mask=masks[k]).to_dict()
        if compact:
            d["neurons"] = {
                key: v for key, v in d["neurons"].items() if key not in ("irrep", "share")
            }
        out.append({"instance": k, "seed": config.seeds[k], "epoch": epoch, **d})
    return out


def run_irreps(
    store: RunStore, run: str, *, force: bool = False, epoch: int | None = None
) -> dict[str, Any]:
    """The stored final analysis of every instance (computed and saved when missing, stale or
    ``force``): ``{"run", "group", "model", "instances": [metric dict per instance], ...}``.

    With ``epoch``, the analysis of that checkpoint instead, computed and never stored (so it
    cannot pass for the final one): ``"checkpoint_epoch"`` is then the epoch, ``"reused"``
    False.
    """
    run_id, config = check_run(store, run)

    def compute(at: int | None = None) -> dict[str, Any]:
        return {
            "group": config.group,
            "model": config.model,
            "instances": analyse_run_instances(store, run_id, epoch=at),
        }

    if epoch is not None:
        return {"run": run_id, **compute(epoch), "checkpoint_epoch": epoch, "reused": False}
    labels = irrep_labels(store, run_id)
    source = weights_source(store, run_id)
    return cached(store, run_id, METHOD, compute, source=source, force=force, irreps=labels)


_LABELS: dict[str, list[str]] = {}
"""Irrep labels by ``group_sha256`` (a pure function of the group the hash pins)."""


def irrep_labels(store: RunStore, run_id: str) -> list[str]:
    """Labels of the irreps of the run's group (checked in its stored irreps analyses); computed
    once per group and process."""
    sha = run_config(store, run_id).group_sha256
    if sha is None or sha not in _LABELS:
        labels = [r.label for r in irreps(load_run_group(store, run_id))]
        if sha is None:
            return labels
        _LABELS[sha] = labels
    return list(_LABELS[sha])


def run_progress(
    store: RunStore, run: str, instance: int, *, force: bool = False
) -> dict[str, Any]:
    """Instance ``instance`` over every saved checkpoint, stored per instance:
    ``{"run", "instance", "seed", "grok_epoch", "epochs", "series": [compact metric dict per
    checkpoint], "measures": progress_measures(...)}``.

    Raises:
        CheckpointError: the run has no checkpoints. (And see :func:`check_run`.)
    """
    run_id, config = check_run(store, run, instance, checkpoints=True)
    epochs = checkpoint_epochs_of(store, run_id)
    seeds = (store.get(run_id).summary or {}).get("seeds") or []
    grok = next(
        (s.get("grok_epoch") for s in seeds if s.get("seed") == config.seeds[instance]), None
    )

    def compute() -> dict[str, Any]:
        group = load_run_group(store, run_id)
        masks = train_masks(config, group)
        series = [
            _analyse(store, run_id, config, group, masks, e, [instance], True)[0] for e in epochs
        ]
        return {
            "instance": instance,
            "seed": config.seeds[instance],
            "grok_epoch": grok,
            "epochs": epochs,
            "series": series,
            "measures": progress_measures(series, grok),
        }

    source = {"epochs": epochs}
    labels = irrep_labels(store, run_id)
    return cached(
        store, run_id, METHOD, compute, instance=instance, source=source, force=force,
        irreps=labels,
    )  # fmt: skip


def ensure_irreps(store: RunStore, run_id: str) -> None:
    """The irreps method's ``ensure``: the final irreps analysis and, when the run has
    checkpoints, the progress of its first :data:`FOLLOW` instances, computed and stored when
    missing or stale (what a composition run's report shows)."""
    n = len(run_irreps(store, run_id)["instances"])
    if checkpoint_epochs_of(store, run_id):
        for k in range(min(FOLLOW, n)):
            run_progress(store, run_id, k)


def stored_irreps(store: RunStore, run_id: str) -> dict[str, Any] | None:
    """The run's stored final irreps analysis when it is current (as :func:`run_irreps` would
    reuse it), else None; never computes one.

    Raises:
        StoreError: a tampered or malformed file. CheckpointError: no weights.
    """
    path = analysis_path(store, run_id, METHOD)
    found = read_analysis(
        path, METHOD, weights_source(store, run_id), irreps=irrep_labels(store, run_id)
    )
    return None if found is None else {**found, "reused": True}


def stored_progress(store: RunStore, run_id: str, instance: int) -> dict[str, Any] | None:
    """Instance ``instance``'s stored progress analysis when it is current (as
    :func:`run_progress` would reuse it), else None (also when the run has no checkpoints);
    never computes one.

    Raises:
        StoreError: a tampered or malformed file.
    """
    epochs = checkpoint_epochs_of(store, run_id)
    if not epochs:
        return None
    path = analysis_path(store, run_id, METHOD, instance)
    found = read_analysis(path, METHOD, {"epochs": epochs}, irreps=irrep_labels(store, run_id))
    return None if found is None else {**found, "reused": True}


def run_coset_method(
    store: RunStore, run: str, method: str, *, force: bool = False, epoch: int | None = None
) -> dict[str, Any]:
    """The stored result of coset method ``method``
    (:data:`algolens.analysis.composition.verdict.METHODS`)
    on every instance of a run, computed with
    :func:`algolens.analysis.composition.verdict.run_method` when
    missing, stale or ``force``. With ``epoch``: that checkpoint's, computed and never stored
    (``"checkpoint_epoch"`` set)."""
    from algolens.analysis.composition.verdict import run_method

    run_id, _ = check_coset_run(store, run, method)
    if epoch is not None:
        out = run_method(store, run_id, method, epoch=epoch)
        return {**out, "checkpoint_epoch": epoch, "reused": False}
    return cached(
        store,
        run_id,
        method,
        lambda: run_method(store, run_id, method),
        source=weights_source(store, run_id),
        force=force,
    )


def check_coset_run(
    store: RunStore, run: str, method: str, instance: int | None = None
) -> tuple[str, TrainConfig]:
    """The shared check (:func:`algolens.analysis.methods.check_method_run`) of a coset method:
    a known method, a group composition MLP, and a group up to
    :data:`algolens.analysis.composition.cosets.MAX_COSET_ORDER` (all before any work)."""
    coset_methods = family("cosets")
    if method not in coset_methods:
        raise ConfigError(f"unknown coset method {method!r}; use one of {', '.join(coset_methods)}")
    return check_method_run(store, run, method, Options(instance=instance))


def check_coset(
    method: str, store: RunStore, run_id: str, config: TrainConfig, opts: Options
) -> None:
    """A coset method's own check (``Method.check``): the group within
    :data:`algolens.analysis.composition.cosets.MAX_COSET_ORDER` and of composite order (by
    Lagrange and
    Cauchy, exactly the groups with a proper non-trivial subgroup to take cosets of).

    Raises:
        SizeLimitError: a group above the limit. ConfigError: a group of prime order (or C1).
    """
    from algolens.analysis.composition.cosets import check_order

    group = load_run_group(store, run_id)
    check_order(group)
    n = group.order
    if not any(n % p == 0 for p in range(2, int(n**0.5) + 1)):
        raise not_applicable(
            run_id, config,
            f"--method {method} needs a group of composite order, with a "
            f"proper non-trivial subgroup; {group.name} has order {n}",
        )  # fmt: skip


def ensure_coset(method: str, store: RunStore, run_id: str) -> None:
    """A coset method's ``ensure``: its stored analysis of the run's final weights, computed and
    stored when missing or stale (what a composition MLP run's report shows)."""
    run_coset_method(store, run_id, method)


def compute_coset(method: str, store: RunStore, run_id: str, opts: Options) -> dict[str, Any]:
    """A coset method's ``compute``: :func:`run_coset_method` at the weights ``opts`` name."""
    return run_coset_method(store, run_id, method, force=opts.force, epoch=opts.epoch)
