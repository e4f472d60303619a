"""The ``failures`` analysis of a stored recursion run: where each seed's greedy answers are wrong,
and a readable predictor of it (:mod:`algolens.analysis.recursion.failures`) fitted on one input
set and
scored on a fresh one.

* **Built-in function**: ``2n`` inputs drawn from the distribution of one
  of the run's splits (``inputs``: ``test``, in-distribution sizes without oversampling, the
  default; ``rare``, every input from the rare tail; ``ood``, the longer sizes; see
  :meth:`~algolens.tasks.recursion.splits.SplitSpec.sampling_of`) with generators
  ``default_rng(fit_seed)``, training inputs rejected and drawn again, then the distinct inputs
  split at random (``default_rng(fresh_seed)``) into a fit half and a fresh half, each input once
  (:func:`algolens.tasks.recursion.examples.held_out_examples`): the fit set holds no training
  input and the fresh set neither a
  training nor a fit input (the result's ``fresh_in_fit`` and ``fresh_in_train`` are measured,
  and 0). Where the sizes leave few inputs outside the training set the sets are smaller than
  ``n``; fewer than two is a ``ConfigError``. Inputs whose ``prompt <sep> answer <eos>`` does not
  fit the model's context (an ``ood`` draw longer than every stored example) are left out and
  counted (``n_too_long``).
* **User function**: a stored run never executes the user's file, so only the stored dataset's
  inputs have answers: the predictor is fitted on the ``train`` split and scored on ``test``
  (the result's ``inputs`` says so); asking for another distribution is a ``ConfigError``.

Every instance is decoded greedily, in batches of rows, and analysed; the result is stored as
``analyses/failures.json`` (:func:`algolens.analysis.store.cached`), reused until the weights,
the settings or the code change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from algolens.analysis.methods import Options, check_method_run
from algolens.analysis.recursion.failures import fit_and_score
from algolens.analysis.runs import weights_source
from algolens.analysis.store import cached
from algolens.errors import ConfigError
from algolens.store import RunStore
from algolens.tasks.recursion.examples import (
    Example,
    fitting_examples,
    held_out_examples,
    stored_examples,
)
from algolens.tasks.recursion.features import input_features
from algolens.tasks.recursion.functions import FUNCTIONS
from algolens.tasks.recursion.tokens import EOS_ID, PAD_ID, SEP_ID, ids
from algolens.tasks.sequence import greedy_correct, greedy_decode, pack
from algolens.train.config import TrainConfig
from algolens.train.load import load_run_dataset, load_run_model

METHOD = "failures"
INPUTS: tuple[str, ...] = ("test", "rare", "ood")
"""Splits whose distribution a built-in run's input sets can be drawn from."""


def check_failures_run(
    store: RunStore,
    run: str,
    instance: int | None = None,
    inputs: str | None = None,
    method: str = "failures",
) -> tuple[str, TrainConfig]:
    """``(run_id, config)`` of a recursion run with weights, before any work (the shared check
    :func:`algolens.analysis.methods.check_method_run` of ``method``).

    Raises:
        StoreError: unknown run. ConfigError: not a run of a recursive function, ``instance`` out
        of range, ``inputs`` not in :data:`INPUTS`, or ``inputs`` for a user-function run.
        CheckpointError: no weights.
    """
    return check_method_run(store, run, method, Options(instance=instance, inputs=inputs))


def check_failures(store: RunStore, run_id: str, config: TrainConfig, opts: Options) -> None:
    """The failures method's own check (``Method.check``): ``--inputs`` names a split of
    :data:`INPUTS`, and only for a built-in function.

    Raises:
        ConfigError: ``inputs`` unknown or given for a user-function run.
    """
    inputs = opts.inputs
    if inputs is not None and inputs not in INPUTS:
        raise ConfigError(f"--inputs {inputs!r} is unknown; use one of {', '.join(INPUTS)}")
    if inputs is not None and config.function not in FUNCTIONS:
        raise ConfigError(
            f"run {run_id} learns a user function, which a stored run never re-runs: it is scored "
            f"on its stored train and test splits only; leave out --inputs"
        )


def compute_failures(store: RunStore, run_id: str, opts: Options) -> dict[str, Any]:
    """The failures method's ``compute``: :func:`run_failures` on the inputs ``opts`` name."""
    return run_failures(store, run_id, inputs=opts.inputs, force=opts.force)


def check_recursion_run(
    store: RunStore, run: str, method: str, instance: int | None = None
) -> tuple[str, TrainConfig]:
    """``(run_id, config)`` of a run registered analysis ``method`` applies to (a recursion run
    for ``failures`` and ``shortcuts``), with weights.

    Raises:
        StoreError: unknown run. ConfigError: a run ``method`` does not apply to, ``instance``
        out of range. CheckpointError: no weights.
    """
    return check_method_run(store, run, method, Options(instance=instance))


def wrong_answers(
    model: Any, examples: Sequence[Example], n_inst: int, batch: int = 512
) -> np.ndarray:
    """``[inst, N]`` bool: True where instance k's greedy answer to example i is not exactly its
    answer followed by ``<eos>``.

    Raises:
        ConfigError: an example longer than the model's context.
    """
    data = pack(
        [ids(p) for _, p, _ in examples],
        [ids(a) for _, _, a in examples],
        sep=SEP_ID,
        eos=EOS_ID,
        pad=PAD_ID,
        width=model.cfg.n_ctx + 1,
    )
    out = []
    for start in range(0, len(examples), batch):
        part = data.subset(torch.arange(start, min(start + batch, len(examples))))
        with torch.no_grad():
            written = greedy_decode(model, part, n_inst)
        out.append(~greedy_correct(written, part).numpy())
    return np.concatenate(out, axis=1)


def run_failures(
    store: RunStore,
    run: str,
    *,
    inputs: str | None = None,
    n: int = 2000,
    fit_seed: int = 1,
    fresh_seed: int = 2,
    max_depth: int = 3,
    min_leaf: int = 5,
    force: bool = False,
) -> dict[str, Any]:
    """The stored (or freshly computed) ``failures`` analysis of every instance of ``run``.

    Returns:
        ``{"function", "inputs", "n_fit", "n_fresh", "n_too_long", "fresh_in_fit", "fresh_in_train",
        "instances": [{"instance", "seed", "rules", "tree", "features_used", "fit", "fresh"}]}``
        plus the store's stamps (:func:`algolens.analysis.store.cached`).
    """
    run_id, config = check_failures_run(store, run, inputs=inputs)
    split = inputs or "test"
    settings = {"inputs": split, "n": n, "fit_seed": fit_seed, "fresh_seed": fresh_seed}
    settings |= {"max_depth": max_depth, "min_leaf": min_leaf, "held_out": "distinct halves"}

    def compute() -> dict[str, Any]:
        ds = load_run_dataset(store, run_id)
        _, model = load_run_model(store, run_id)
        width = model.cfg.n_ctx + 1
        if config.function in FUNCTIONS:
            fit, fresh, n_too_long = held_out_examples(
                config, ds, n, fit_seed, fresh_seed, split, width
            )
            how = (
                f"{2 * n} draws like the {split} split with seed {fit_seed}, training inputs "
                f"rejected, the distinct inputs split at random (seed {fresh_seed}) into fit and "
                f"fresh, each once: no fresh input is a training or fit input"
            )
        else:
            fit, fresh = (
                stored_examples(ds.splits["train"], ds.arg_kinds),
                stored_examples(ds.splits["test"], ds.arg_kinds),
            )
            how = (
                "the stored dataset's train split (fit) and test split (fresh, no training "
                "input): a user function is never re-run"
            )
            n_drawn = len(fit) + len(fresh)
            fit, fresh = fitting_examples(fit, width), fitting_examples(fresh, width)
            n_too_long = n_drawn - len(fit) - len(fresh)
            if not fit or not fresh:
                raise ConfigError(
                    f"no {split} input of run {run_id} fits its model's context of "
                    f"{width - 1} tokens"
                )
        wrong_fit = wrong_answers(model, fit, config.n_inst)
        wrong_fresh = wrong_answers(model, fresh, config.n_inst)
        f_fit = [input_features(x) for x, _, _ in fit]
        f_fresh = [input_features(x) for x, _, _ in fresh]
        fit_keys = {tuple(p) for _, p, _ in fit}
        train_keys = {tuple(x) for x in ds.splits["train"].inputs}
        instances = [
            {
                "instance": k,
                "seed": config.seeds[k],
                **fit_and_score(
                    (f_fit, wrong_fit[k].tolist()),
                    (f_fresh, wrong_fresh[k].tolist()),
                    max_depth,
                    min_leaf,
                ),
            }
            for k in range(config.n_inst)
        ]
        return {
            "function": config.function,
            "inputs": how,
            "n_fit": len(fit),
            "n_fresh": len(fresh),
            "n_too_long": n_too_long,
            "fresh_in_fit": sum(tuple(p) in fit_keys for _, p, _ in fresh) / len(fresh),
            "fresh_in_train": sum(tuple(p) in train_keys for _, p, _ in fresh) / len(fresh),
            "instances": instances,
        }

    source = {"weights": weights_source(store, run_id), **settings}
    return cached(store, run_id, METHOD, compute, source=source, force=force)
