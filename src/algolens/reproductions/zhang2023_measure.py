"""The measurements of :mod:`algolens.reproductions.zhang2023`: what one function's run gives
(:func:`analyse_function`: accuracy per split, learned failure rules, the best shortcut
hypothesis, the paper's shortcut and the all-ones inputs for successor, feature dependence for
the traversals) and the oversampling effect of two successor runs
(:func:`oversampling_effect`), each with algolens's own analyses on stored runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from algolens.reproductions.zhang2023_claims import SPLITS, TRAVERSALS, FunctionResult, pct
from algolens.reproductions.zhang2023_shortcut import (
    all_ones_counts,
    held_out_failures,
    paper_shortcut_scores,
)
from algolens.reproductions.zhang2023_trained import trained_of
from algolens.store import RunStore


def split_accuracy(store: RunStore, run_id: str) -> tuple[dict[str, float | None], dict[str, int]]:
    """Greedy exact-match accuracy per split (mean over seeds) from the run's summary."""
    summary = store.get(run_id).summary or {}
    splits = summary.get("splits", {})
    acc = {s: (float(np.mean(splits[s]["greedy_acc"])) if s in splits else None) for s in SPLITS}
    return acc, {s: int(splits[s]["n"]) if s in splits else 0 for s in SPLITS}


def pooled_failures(out: dict[str, Any]) -> dict[str, Any]:
    """Fresh-set scores of a ``failures`` analysis pooled over its instances."""
    fresh = [inst["fresh"] for inst in out["instances"]]
    fails, hits = sum(f["failures"] for f in fresh), sum(f["hits"] for f in fresh)
    pred = sum(f["predicted"] for f in fresh)
    return {
        "n_fresh": out["n_fresh"], "n_fit": out["n_fit"], "failures": fails, "predicted": pred,
        "hits": hits, "recall": hits / fails if fails else None,
        "precision": hits / pred if pred else None, "rules": out["instances"][0]["rules"],
        "fresh_in_fit": out["fresh_in_fit"], "fresh_in_train": out["fresh_in_train"],
    }  # fmt: skip


def shortcut_summary(out: dict[str, Any], top: int = 3) -> dict[str, Any]:
    """The first seed's best hypothesis and its match rates, and its strongest attention rules."""
    inst = out["instances"][0]
    best = inst["hypotheses"][0] if inst["hypotheses"] else None
    rules = sorted(inst["attention"], key=lambda r: -r["mass"])[:top]
    return {"n": out["n"], "best": best, "attention": [r["text"] for r in rules]}


def analyse_function(
    store: RunStore, run_id: str, function: str, n: int, log: Callable[[str], None]
) -> FunctionResult:
    """Accuracy per split, failure prediction on fresh rare-tail inputs, and the best shortcut
    hypothesis on held-out rare-tail inputs; for successor also the paper's shortcut as a failure
    predictor and the all-ones inputs (on the failure analysis's own fit and fresh inputs)."""
    from algolens.analysis.recursion.failures_run import run_failures
    from algolens.analysis.recursion.shortcuts import run_shortcuts

    acc, sizes = split_accuracy(store, run_id)
    failures = pooled_failures(run_failures(store, run_id, inputs="rare", n=n))
    shortcut = shortcut_summary(run_shortcuts(store, run_id, n=n, inputs="rare"))
    paper = ones = dependence = None
    if function in TRAVERSALS:
        from algolens.analysis.recursion.feature_dependence import feature_dependence

        dependence = feature_dependence(store, run_id, n)
    if function == "successor":
        fit, fresh = held_out_failures(store, run_id, n)
        paper = paper_shortcut_scores(fit, fresh)
        ones = all_ones_counts(fit[0] + fresh[0], [a + b for a, b in zip(fit[1], fresh[1])])
    log(f"{function}: " + ", ".join(f"{s} {pct(a)}" for s, a in acc.items())
        + f"; failure recall {pct(failures['recall'])}")  # fmt: skip
    trained = trained_of(store, run_id)
    return FunctionResult(
        function, acc, sizes, failures, shortcut, paper, ones, dependence, trained
    )


def oversampling_effect(
    store: RunStore, plain_id: str, over_id: str, n: int, seed: int = 7
) -> dict[str, Any]:
    """Both runs' greedy answers on the same distinct rare-tail inputs that neither trained on,
    pooled over seeds × inputs: ``{"n": distinct inputs, "seeds", "plain", "oversampled"}``
    (accuracies) and ``plain_correct``/``over_correct`` of ``seeds * n`` answers each."""
    from algolens.analysis.recursion.failures_run import wrong_answers
    from algolens.tasks.recursion.examples import fitting_examples, sampled_examples
    from algolens.train.load import load_run_dataset, load_run_model

    plain_cfg, plain = load_run_model(store, plain_id)
    _, over = load_run_model(store, over_id)
    ds_plain, ds_over = load_run_dataset(store, plain_id), load_run_dataset(store, over_id)
    seen = {tuple(x) for ds in (ds_plain, ds_over) for x in ds.splits["train"].inputs}
    drawn = sampled_examples(plain_cfg, ds_plain.arg_kinds, n, seed, "rare", exclude=seen)
    width = min(plain.cfg.n_ctx, over.cfg.n_ctx) + 1
    examples = list({tuple(e[1]): e for e in fitting_examples(drawn, width)}.values())
    if not examples:
        return {"n": 0, "seeds": 0, "plain": None, "oversampled": None}
    correct = [int((~wrong_answers(m, examples, m.cfg.n_inst)).sum()) for m in (plain, over)]
    seeds = plain.cfg.n_inst
    total = seeds * len(examples)
    return {
        "n": len(examples), "seeds": seeds, "plain_correct": correct[0], "over_correct": correct[1],
        "plain": correct[0] / total, "oversampled": correct[1] / total,
    }  # fmt: skip
