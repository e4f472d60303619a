"""`analyze --method probes|patching|lens|scrub` on a stored sequence-task run.

The causal toolkit (:mod:`algolens.analysis.causal`, :mod:`algolens.analysis.causal.probes`) on
every
instance of a recursion or path-finding run, stored as ``analyses/<method>.json``
(:func:`algolens.analysis.store.cached`) and reused until the weights, the settings or the code
change. Inputs come from a *data function* per task trait (:data:`DATA`): it returns a fit set
and a test set of :class:`~algolens.analysis.causal.Examples` with the task's features, and which
features to probe where:

* **recursive-function** (recursion runs): built-in functions draw ``2n`` held-out inputs like
  the test split (no training input;
  :func:`~algolens.analysis.recursion.failures_run.held_out_examples`), halved into fit and test;
  user
  functions use the stored train (fit) and test splits. Features: the structural input
  features (:mod:`algolens.tasks.recursion.features`), each probed at the first token (a
  number's least significant bit, a tree's root) and at ``<sep>``;
* **tree-paths** (path-finding runs): the first ``2n`` rows of the stored test split, halved;
  features from :func:`algolens.analysis.pathfinding.mechanism_features.pathfinding_examples`;
  ``edge_source`` probed at every edge's target position, the goal's parent ``anc1`` at the root
  position.

Every task also has the per-position feature ``token`` (the token at each position).

Methods (per instance):

* ``probes``: :func:`~algolens.analysis.causal.probes.probe_grid` of every probed feature (macro-F1,
  control task, selectivity per layer × position);
* ``patching``: test rows paired with another test row scored at the same positions (rows
  grouped by loss mask, each paired with the next in its group, at most ``n_patch`` pairs); the
  metric is minus the clean targets' masked loss; effects of the residual stream per layer ×
  position and of each head;
* ``lens``: logit lens and tuned lens (fitted on the fit set) scored on the test set;
* ``scrub``: per residual layer l the hypothesis "layer l at every position depends on the input
  only through the token there" (exactly true at layer 0; its loss recovered falls as layers mix
  context in), plus the hypotheses of ``--hypothesis FILE.json`` files
  (:class:`~algolens.analysis.causal.Hypothesis` JSON: one object or a list).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from algolens.analysis.causal import (
    Claim,
    Examples,
    Hypothesis,
    Position,
    fit_tuned_lens,
    lens_curve,
    loss_metric,
    patch,
    resid_hook,
    scrub,
)
from algolens.analysis.causal.probes import probe_grid
from algolens.analysis.methods import Options, check_method_run, family, not_applicable
from algolens.analysis.runs import weights_source
from algolens.analysis.store import cached
from algolens.errors import ConfigError
from algolens.jsonread import JSONTooDeepError, loads_json
from algolens.store import RunStore
from algolens.tasks.traits import task_traits
from algolens.train.config import TrainConfig
from algolens.train.load import load_run_model

MAX_HYPOTHESIS_BYTES = 1_000_000
DESIGN = 3
"""Bumped whenever the inputs or the probed features/positions change (part of the stored
``source``, so older stored analyses are recomputed)."""


@dataclass(frozen=True)
class RunData:
    """What a data function returns: the inputs, which features to probe at which positions,
    and how the inputs were chosen (stored with the result)."""

    fit: Examples
    test: Examples
    probes: list[tuple[str, list[Position]]]
    how: str


def _recursion_data(
    store: RunStore, run_id: str, config: TrainConfig, n_ctx: int, n: int, seed: int
) -> RunData:
    from algolens.tasks.recursion.examples import (
        fitting_examples,
        held_out_examples,
        stored_examples,
    )
    from algolens.tasks.recursion.features import input_features
    from algolens.tasks.recursion.functions import FUNCTIONS
    from algolens.tasks.recursion.tokens import EOS_ID, PAD_ID, SEP_ID, ids
    from algolens.tasks.sequence import pack
    from algolens.train.load import load_run_dataset

    ds = load_run_dataset(store, run_id)
    width = n_ctx + 1
    if config.function in FUNCTIONS:
        fit, test, _ = held_out_examples(config, ds, n, seed, seed + 1, "test", width)
        how = (
            f"{2 * n} draws like the test split (seed {seed}), training inputs left out, "
            "the distinct inputs halved"
        )
    else:
        fit = fitting_examples(stored_examples(ds.splits["train"], ds.arg_kinds), width)[:n]
        test = fitting_examples(stored_examples(ds.splits["test"], ds.arg_kinds), width)[:n]
        how = "the stored train (fit) and test splits (user function)"

    def examples(rows: list) -> Examples:
        p = pack(
            [ids(pr) for _, pr, _ in rows],
            [ids(a) for _, _, a in rows],
            sep=SEP_ID, eos=EOS_ID, pad=PAD_ID, width=width,
        )  # fmt: skip
        feats = [input_features(x) for x, _, _ in rows]
        names = [k for k, v in feats[0].items() if isinstance(v, (int, bool))] if feats else []
        out = {k: np.array([int(f[k]) for f in feats]) for k in names}
        out |= {"token": p.inputs.numpy(), "sep": (p.prompt_len - 1).numpy()}
        return Examples(p.inputs, p.targets, p.mask, out)

    if len(fit) < 2 or len(test) < 2:
        raise ConfigError(f"run {run_id}: too few inputs fit the model for a causal analysis")
    fit_ex = examples(fit)
    labels = [k for k in fit_ex.features if k not in ("token", "sep")]
    positions: list[Position] = [0, "sep"]
    return RunData(fit_ex, examples(test), [(k, positions) for k in labels], how)


def _pathfinding_data(
    store: RunStore, run_id: str, config: TrainConfig, n_ctx: int, n: int, seed: int
) -> RunData:
    from algolens.analysis.pathfinding.mechanism_features import pathfinding_examples
    from algolens.train.load import load_run_pathfinding

    ds = load_run_pathfinding(store, run_id)
    rows = ds.tokens[ds.n_train :][: 2 * n]
    if len(rows) < 4:
        raise ConfigError(f"run {run_id} has {len(rows)} test rows; a causal analysis needs 4")
    ex = pathfinding_examples(rows, ds.vocab)
    ex = Examples(ex.tokens, ex.targets, ex.mask, {**ex.features, "token": ex.tokens.numpy()})
    half = len(rows) // 2
    v = ds.vocab
    targets = [v.edge_positions(i)[1] for i in range(v.n_nodes - 1)]
    probes: list[tuple[str, list[Position]]] = [("edge_source", targets), ("anc1", [v.root_pos])]
    how = f"the first {len(rows)} rows of the stored test split, halved"
    return RunData(ex.subset(np.arange(half)), ex.subset(np.arange(half, len(rows))), probes, how)


DATA: dict[str, Callable[[RunStore, str, TrainConfig, int, int, int], RunData]] = {
    "recursive-function": _recursion_data,
    "tree-paths": _pathfinding_data,
}
"""Task trait (:mod:`algolens.tasks.traits`) -> data function ``(store, run_id, config, n_ctx,
n, seed) -> RunData`` (``n_ctx``: the model's context; ``n`` inputs per set; ``seed`` for any
sampling). A run's inputs come from the first trait of its task found here."""


def data_function(
    config: TrainConfig,
) -> Callable[[RunStore, str, TrainConfig, int, int, int], RunData] | None:
    """The data function of the run's task (by its traits), or None when it has none."""
    traits = task_traits(config.task)
    return next((fn for trait, fn in DATA.items() if trait in traits), None)


def check_causal_run(
    store: RunStore,
    run: str,
    method: str,
    instance: int | None = None,
    hypotheses: Sequence[str] = (),
) -> tuple[str, TrainConfig]:
    """``(run_id, config)`` of a sequence-task run with weights, before any work; hypothesis
    files are read and parsed (:func:`algolens.analysis.methods.check_method_run`, then
    :func:`check_causal`).

    Raises:
        StoreError: unknown run. ConfigError: unknown method, a run the method does not apply to,
        ``instance`` out of range, hypotheses for another method or a bad hypothesis file.
        CheckpointError: no weights.
    """
    names = family("causal")
    if method not in names:
        raise ConfigError(f"unknown causal method {method!r}; use one of {', '.join(names)}")
    opts = Options(instance=instance, hypotheses=tuple(hypotheses))
    return check_method_run(store, run, method, opts)


def check_causal(
    method: str, store: RunStore, run_id: str, config: TrainConfig, opts: Options
) -> None:
    """A causal method's own check (``Method.check``): the run's task has causal inputs
    (:data:`DATA`), ``--hypothesis`` only for ``scrub``, every hypothesis file parses.

    Raises:
        ConfigError: a task without causal inputs, hypotheses for another method, a bad file.
    """
    if data_function(config) is None:
        needs = f"--method {method} needs a run of a task with causal inputs ({', '.join(DATA)})"
        raise not_applicable(run_id, config, needs)
    if opts.hypotheses and method != "scrub":
        raise ConfigError(f"--hypothesis FILE.json belongs to --method scrub, not {method}")
    load_hypotheses(opts.hypotheses)


def compute_causal(method: str, store: RunStore, run_id: str, opts: Options) -> dict[str, Any]:
    """A causal method's ``compute``: :func:`run_causal` with ``opts``' hypotheses."""
    return run_causal(store, run_id, method, hypotheses=opts.hypotheses, force=opts.force)


def load_hypotheses(paths: Sequence[str]) -> list[Hypothesis]:
    """The hypotheses of JSON files (each one object or a list of objects).

    Raises:
        ConfigError: a missing, oversized or malformed file, naming it.
    """
    out = []
    for s in paths:
        path = Path(s)
        if path.suffix != ".json" or not path.is_file():
            raise ConfigError(f"--hypothesis {s}: not a .json file; give a hypothesis JSON file")
        if path.stat().st_size > MAX_HYPOTHESIS_BYTES:
            raise ConfigError(f"--hypothesis {s}: larger than {MAX_HYPOTHESIS_BYTES} bytes")
        try:
            data = loads_json(path.read_text(encoding="utf-8"))
        except JSONTooDeepError:
            raise ConfigError(f"--hypothesis {s}: JSON nested too deep; a hypothesis is "
                              f'{{"name": ..., "claims": [...]}}') from None  # fmt: skip
        except (ValueError, UnicodeDecodeError):
            raise ConfigError(f"--hypothesis {s}: not valid UTF-8 JSON") from None
        try:
            out += [Hypothesis.from_dict(d) for d in (data if isinstance(data, list) else [data])]
        except ConfigError as exc:
            raise ConfigError(f"--hypothesis {s}: {exc}") from None
    return out


def token_hypotheses(model: Any) -> list[Hypothesis]:
    """Per residual layer l: "layer l at every position depends only on the token there"."""
    return [
        Hypothesis(
            f"layer {i}: each position = its token", (Claim(resid_hook(model, i), (), "token"),)
        )
        for i in range(model.cfg.n_layers + 1)
    ]


def _paired(ex: Examples, n_patch: int) -> tuple[Examples, torch.Tensor]:
    """Up to ``n_patch`` clean rows and, for each, a corrupted row with the same loss mask."""
    groups: dict[bytes, list[int]] = {}
    for i, row in enumerate(ex.mask.numpy()):
        groups.setdefault(row.tobytes(), []).append(i)
    clean, corrupt = [], []
    for rows in groups.values():
        if len(rows) > 1:
            clean += rows
            corrupt += rows[1:] + rows[:1]
    if not clean:
        raise ConfigError("patching needs two test rows scored at the same positions; none found")
    clean, corrupt = clean[:n_patch], corrupt[:n_patch]
    return ex.subset(np.array(clean)), ex.tokens[torch.as_tensor(corrupt)]


def instance_result(
    method: str, model: Any, data: RunData, hypotheses: list[Hypothesis], n_patch: int, seed: int
) -> dict[str, Any]:
    """One instance's ``method`` result on ``data`` (the per-instance body of :func:`run_causal`;
    ``model`` is single-instance, ``hypotheses`` are scrubbed after the per-layer ones)."""
    if method == "probes":
        grids = [
            probe_grid(model, data.fit, data.test, k, pos, seed=seed) for k, pos in data.probes
        ]
        return {"grids": [g.to_dict() for g in grids]}
    if method == "patching":
        clean, corrupt = _paired(data.test, n_patch)
        metric = loss_metric(clean)
        kinds = ("resid", "heads")
        res = {k: patch(model, clean.tokens, corrupt, metric, k).to_dict() for k in kinds}
        return {"n_pairs": len(clean), "metric": "-masked loss on the clean targets", **res}
    if method == "lens":
        tuned = fit_tuned_lens(model, data.fit)
        return {
            "logit": lens_curve(model, data.test).to_dict(),
            "tuned": lens_curve(model, data.test, tuned).to_dict(),
        }
    hyps = token_hypotheses(model) + hypotheses
    return {
        "hypotheses": [
            {**h.to_dict(), **_drop(scrub(model, data.test, h, seed=seed).to_dict(), "hypothesis")}
            for h in hyps
        ]
    }


def _drop(d: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k != key}


def run_causal(
    store: RunStore,
    run: str,
    method: str,
    *,
    n: int = 300,
    n_patch: int = 32,
    seed: int = 0,
    hypotheses: Sequence[str] = (),
    force: bool = False,
) -> dict[str, Any]:
    """The stored (or freshly computed) ``method`` analysis of every instance of ``run``.

    Returns:
        ``{"task", "inputs", "n_fit", "n_test", "instances": [{"instance", "seed", ...}]}`` plus
        the store's stamps; per instance ``grids`` (probes), ``resid``/``heads`` patch results
        (patching), ``logit``/``tuned`` curves (lens) or ``hypotheses`` with their losses and
        loss recovered (scrub).
    """
    run_id, config = check_causal_run(store, run, method, hypotheses=hypotheses)
    hyps = load_hypotheses(hypotheses)
    settings = {"n": n, "n_patch": n_patch, "seed": seed, "design": DESIGN}
    settings["hypotheses"] = {
        s: hashlib.sha256(Path(s).read_bytes()).hexdigest() for s in hypotheses
    }

    def compute() -> dict[str, Any]:
        _, model = load_run_model(store, run_id)
        data = data_function(config)(store, run_id, config, model.cfg.n_ctx, n, seed)
        instances = []
        for k, s in enumerate(config.seeds):
            one = model.instance(k).eval()
            body = instance_result(method, one, data, hyps, n_patch, seed)
            instances.append({"instance": k, "seed": s, **body})
        return {
            "task": config.task,
            "inputs": data.how,
            "n_fit": len(data.fit),
            "n_test": len(data.test),
            "instances": instances,
        }

    source = {"weights": weights_source(store, run_id), **settings}
    return cached(store, run_id, method, compute, source=source, force=force)
