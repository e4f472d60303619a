"""Does a recursion model's failure depend on a structural feature at a fixed input size?

A recursive solution applies one rule per constructor: at a fixed size (node count) its
success should not depend on *how* the nodes are arranged. A shortcut that follows the
recursion only to some depth (``analysis.shortcut_hypotheses``) fails more often the deeper the
structure. :func:`feature_dependence` draws distinct held-out inputs of a stored run (none in
training), records each seed's greedy answers, and compares inputs whose feature (the
function's own rare-structure feature: ``depth`` or ``left_spine`` for the traversals) is in the
upper half of their size (:func:`upper_cut`) with the others of that size.
:func:`stratified_excess` is the exact one-sided test: strata are (seed, size); under
"failure does not depend on the feature within a stratum" the failures among high-feature
inputs of a stratum are hypergeometric, and their sum over strata is the convolution of those
laws.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Excess:
    """Failures among high-feature inputs against the stratified null."""

    observed: int  # failures among high-feature inputs, summed over strata
    expected: float
    p: float  # P(at least ``observed`` | no dependence within strata)
    p_min: float  # the smallest p these strata allow (the test's reach)
    strata: int  # strata with both groups and at least one failure


def _pmf_of_sum(pmfs: Sequence[np.ndarray]) -> np.ndarray:
    out = np.ones(1)
    for p in pmfs:
        out = np.convolve(out, p)
    return out


def stratified_excess(strata: Sequence[Any], high: Sequence[bool], wrong: Sequence[bool]) -> Excess:
    """Exact one-sided test that ``high`` items fail more often than the others of their
    stratum (module docstring)."""
    from scipy.stats import hypergeom

    groups: dict[Any, list[tuple[bool, bool]]] = {}
    for s, h, w in zip(strata, high, wrong, strict=True):
        groups.setdefault(s, []).append((bool(h), bool(w)))
    pmfs, observed, expected, top, used = [], 0, 0.0, 0, 0
    for items in groups.values():
        n = len(items)
        n_high = sum(h for h, _ in items)
        fails = sum(w for _, w in items)
        if n_high in (0, n) or fails == 0 or fails == n:
            continue  # no information about the dependence in this stratum
        used += 1
        k = np.arange(0, min(n_high, fails) + 1)
        pmfs.append(hypergeom.pmf(k, n, fails, n_high))
        observed += sum(h and w for h, w in items)
        expected += fails * n_high / n
        top += min(n_high, fails)
    total = _pmf_of_sum(pmfs)
    p = float(min(1.0, total[observed:].sum()))
    p_min = float(min(1.0, total[top:].sum()))
    return Excess(observed, expected, p, p_min, used)


@dataclass(frozen=True)
class FeatureDependence:
    """One run: accuracy of high- and low-feature held-out inputs and the stratified test."""

    feature: str
    inputs: int  # distinct held-out inputs
    seeds: int
    high_n: int  # answers (seeds × inputs) on high-feature inputs
    high_correct: int
    low_n: int
    low_correct: int
    top_feature: int  # the largest feature value drawn
    top_n: int  # answers on inputs with that value
    top_correct: int
    test: Excess


def feature_dependence(store: Any, run_id: str, n: int, seed: int = 11) -> FeatureDependence:
    """Draw up to ``n`` inputs like the run's ``test`` split and ``n`` like its ``rare`` split
    (distinct, none in training, fitting the context), answer them with every seed, and test
    whether high-feature inputs fail more often than others of their size."""
    from algolens.analysis.recursion.failures_run import wrong_answers
    from algolens.tasks.recursion.examples import fitting_examples, sampled_examples
    from algolens.tasks.recursion.features import input_features
    from algolens.tasks.recursion.functions import FUNCTIONS
    from algolens.train.load import load_run_dataset, load_run_model

    config, model = load_run_model(store, run_id)
    ds = load_run_dataset(store, run_id)
    seen = {tuple(x) for x in ds.splits["train"].inputs}
    drawn = []
    for k, split in enumerate(("test", "rare")):
        drawn += sampled_examples(config, ds.arg_kinds, n, seed + k, split, exclude=seen)
    unique = {tuple(e[1]): e for e in fitting_examples(drawn, model.cfg.n_ctx + 1)}
    examples = list(unique.values())
    f = FUNCTIONS[config.function]  # type: ignore[index]
    feature = (f.rare or ("depth",))[0]
    feats = [input_features(x) for x, _, _ in examples]
    sizes = [ft.get("nodes", ft.get("length")) for ft in feats]
    values = [int(ft[feature]) for ft in feats]
    wrong = wrong_answers(model, examples, config.n_inst) if examples else np.zeros((1, 0), bool)
    return summarise(feature, sizes, values, wrong)


def upper_cut(values: Sequence[int]) -> float:
    """The cut ``t`` (a value present, not the smallest) whose upper group ``v >= t`` is
    nearest half of ``values`` (ties: the larger ``t``); infinity with one distinct value. The
    median itself fails when more than half share the largest value (trees of depth n)."""
    v = np.asarray(values)
    options = np.unique(v)[1:]
    if options.size == 0:
        return float("inf")
    gaps = [abs(int((v >= t).sum()) - v.size / 2) for t in options]
    best = min(range(options.size), key=lambda k: (gaps[k], -k))
    return float(options[best])


def summarise(
    feature: str, sizes: Sequence[int], values: Sequence[int], wrong: np.ndarray
) -> FeatureDependence:
    """The :class:`FeatureDependence` of inputs with these sizes and feature values and each
    seed's wrong answers ``[seeds, inputs]``: high = in the upper half of its size's feature
    values (:func:`upper_cut`)."""
    by_size: dict[int, list[int]] = {}
    for s, v in zip(sizes, values, strict=True):
        by_size.setdefault(s, []).append(v)
    cut = {s: upper_cut(v) for s, v in by_size.items()}
    high = [v >= cut[s] for s, v in zip(sizes, values, strict=True)]
    strata, flags, fails = [], [], []
    for k, row in enumerate(np.asarray(wrong, dtype=bool)):
        strata += [(k, s) for s in sizes]
        flags += high
        fails += row.tolist()
    seeds = int(np.asarray(wrong).shape[0])
    hi = np.array(flags, dtype=bool)
    ok = ~np.array(fails, dtype=bool)
    top = max(values, default=0)
    at_top = np.tile(np.array(values) == top, seeds) if values else np.zeros(0, bool)
    return FeatureDependence(
        feature, len(sizes), seeds, int(hi.sum()), int((ok & hi).sum()), int((~hi).sum()),
        int((ok & ~hi).sum()), top, int(at_top.sum()), int((ok & at_top).sum()),
        stratified_excess(strata, flags, fails),
    )  # fmt: skip


__all__ = ["Excess", "FeatureDependence", "feature_dependence", "stratified_excess", "summarise"]
