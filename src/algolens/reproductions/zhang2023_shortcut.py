"""zhang2023: the paper's successor shortcut as a failure predictor, and the all-ones inputs.

The paper explains successor's failures by a shortcut: flip the run of ``B1`` before the first
``B0``, learnt only for runs shorter than some ``k``. Here ``k`` is fitted per seed on held-out
rare-tail inputs and the rule then predicts *which* fresh inputs fail (not the wrong output).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from algolens.store import RunStore

Scored = tuple[list[dict[str, Any]], list[list[bool]]]
"""Inputs' features (:func:`~algolens.tasks.recursion.features.input_features`) and, per seed,
whether its greedy answer to each is wrong: ``(features[N], wrong[inst][N])``."""


def held_out_failures(store: RunStore, run_id: str, n: int) -> tuple[Scored, Scored]:
    """The fit and fresh rare-tail inputs of the ``failures`` analysis (the same seeds and draws:
    distinct inputs, none in training, none in both) with each seed's wrong answers."""
    from algolens.analysis.recursion.failures_run import wrong_answers
    from algolens.tasks.recursion.examples import held_out_examples
    from algolens.tasks.recursion.features import input_features
    from algolens.train.load import load_run_dataset, load_run_model

    config, model = load_run_model(store, run_id)
    ds = load_run_dataset(store, run_id)
    fit, fresh, _ = held_out_examples(config, ds, n, 1, 2, "rare", model.cfg.n_ctx + 1)

    def scored(examples: list) -> Scored:
        wrong = wrong_answers(model, examples, config.n_inst).tolist()
        return [input_features(x) for x, _, _ in examples], wrong

    return scored(fit), scored(fresh)


def shortcut_fails(features: dict[str, Any], k: int) -> bool:
    """The paper's successor shortcut (flip the ``B1`` run before the first ``B0``), learnt for
    runs shorter than ``k``: it fails where the trailing run is at least ``k`` or the input is
    all ones (the output grows by a bit)."""
    return bool(features["all_ones"]) or features["trailing_ones"] >= k


def fit_shortcut_k(features: Sequence[dict[str, Any]], wrong: Sequence[bool]) -> int:
    """The run length ``k`` (``1..longest+1``) whose :func:`shortcut_fails` misclassifies fewest
    of these inputs (ties: the largest ``k``, the fewest predicted failures)."""
    top = max((f["length"] for f in features), default=0) + 1

    def errors(k: int) -> int:
        return sum(shortcut_fails(f, k) != bool(w) for f, w in zip(features, wrong))

    return min(range(top, 0, -1), key=errors)


def paper_shortcut_scores(fit: Scored, fresh: Scored) -> dict[str, Any]:
    """The paper's shortcut as a failure predictor: per seed ``k`` fitted on the fit inputs
    (:func:`fit_shortcut_k`), then scored on the fresh ones; counts pooled over seeds
    (``failures``, ``predicted``, ``hits``: predicted and wrong, ``n``: seeds × fresh inputs;
    ``failing_inputs``: distinct fresh inputs some seed answers wrongly)."""
    from algolens.analysis.recursion.failures import score

    ks, predicted, wrong = [], [], []
    for w_fit, w_fresh in zip(fit[1], fresh[1]):
        k = fit_shortcut_k(fit[0], w_fit)
        ks.append(k)
        predicted += [shortcut_fails(f, k) for f in fresh[0]]
        wrong += map(bool, w_fresh)
    failing = sum(any(col) for col in zip(*fresh[1])) if fresh[1] else 0
    return {"k": ks, "n_fresh": len(fresh[0]), "failing_inputs": failing,
            **score(predicted, wrong)}  # fmt: skip


def all_ones_counts(features: Sequence[dict[str, Any]], wrong: Sequence[Sequence[bool]]) -> dict:
    """Correct answers on all-ones inputs and on the others, pooled over seeds × inputs:
    ``{"inputs", "n", "correct", "other_n", "other_correct"}`` (``inputs``: distinct all-ones
    inputs)."""
    ones = [bool(f["all_ones"]) for f in features]
    out = {"inputs": sum(ones), "n": 0, "correct": 0, "other_n": 0, "other_correct": 0}
    for row in wrong:
        for is_ones, w in zip(ones, row):
            key = "" if is_ones else "other_"
            out[key + "n"] += 1
            out[key + "correct"] += not w
    return out
