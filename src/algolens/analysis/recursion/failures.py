"""Automatic failure prediction: a shallow, readable decision tree of "the model gets this input
wrong" from interpretable input features, fitted on one input set and scored on a fresh one.

* :func:`fit_tree` grows a binary tree of threshold tests ``feature >= t`` (bools count as 0/1)
  greedily by Gini impurity, at most ``max_depth`` deep (default 3), every leaf holding at least
  ``min_leaf`` inputs; a leaf predicts "wrong" when more than half of its inputs are wrong. Sibling
  leaves with the same prediction are merged, so a table with no failures (or only failures) gives
  a single rule.
* :meth:`FailureTree.rules` prints each leaf as a rule: ``trailing_ones >= 7 and length <= 8 →
  wrong``.
* :func:`score` gives recall and precision of the predicted failures on any input set, with base
  rates; a ratio with a zero denominator is ``None``, never a made-up number.
* :func:`algolens.analysis.recursion.failures_run.run_failures` does it for a stored recursion run
  (every
  instance, stored as the ``failures`` analysis).

Examples:
    >>> feats = [{"a": i % 4, "b": i % 3} for i in range(48)]
    >>> tree = fit_tree(feats, [f["a"] >= 2 for f in feats], min_leaf=2)
    >>> tree.rules()
    ['a <= 1 → right', 'a >= 2 → wrong']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from algolens.errors import ConfigError

Features = dict[str, Any]


@dataclass(frozen=True)
class FailureTree:
    """A node of the predictor: a leaf (``feature is None``) or a test ``feature >= threshold``.

    Attributes:
        wrong: a leaf's prediction (for an inner node: the majority of its fit inputs).
        n, n_wrong: fit inputs reaching the node, and how many of them the model got wrong.
        low, high: subtrees for ``feature < threshold`` and ``feature >= threshold``.
    """

    wrong: bool
    n: int
    n_wrong: int
    feature: str | None = None
    threshold: int = 0
    low: FailureTree | None = None
    high: FailureTree | None = None

    def predict_one(self, f: Features) -> bool:
        """The prediction for one feature dict."""
        node = self
        while node.feature is not None:
            node = node.high if int(f[node.feature]) >= node.threshold else node.low  # type: ignore[assignment]
        return node.wrong

    def predict(self, features: Sequence[Features]) -> list[bool]:
        """``[N]`` predictions: True where the model is predicted to be wrong."""
        return [self.predict_one(f) for f in features]

    def features_used(self) -> set[str]:
        """Names of the features the tree tests."""
        if self.feature is None:
            return set()
        return {self.feature} | self.low.features_used() | self.high.features_used()  # type: ignore[union-attr]

    def rules(self) -> list[str]:
        """One line per leaf: its conditions (``always`` for a single leaf) and its prediction."""
        out: list[str] = []
        self._rules([], out)
        return out

    def _rules(self, conds: list[str], out: list[str]) -> None:
        if self.feature is None:
            out.append(f"{' and '.join(_merge(conds)) or 'always'} → {_word(self.wrong)}")
            return
        self.low._rules([*conds, f"{self.feature} <= {self.threshold - 1}"], out)  # type: ignore[union-attr]
        self.high._rules([*conds, f"{self.feature} >= {self.threshold}"], out)  # type: ignore[union-attr]

    def to_json(self) -> dict[str, Any]:
        """The tree as nested dicts."""
        d: dict[str, Any] = {"wrong": self.wrong, "n": self.n, "n_wrong": self.n_wrong}
        if self.feature is not None:
            d |= {"feature": self.feature, "threshold": self.threshold}
            d |= {"low": self.low.to_json(), "high": self.high.to_json()}  # type: ignore[union-attr]
        return d


def _word(wrong: bool) -> str:
    return "wrong" if wrong else "right"


def _merge(conds: list[str]) -> list[str]:
    """Keep the tightest bound per feature and direction (``a >= 2 and a >= 5`` → ``a >= 5``)."""
    best: dict[tuple[str, str], int] = {}
    for c in conds:
        name, op, value = c.split(" ")
        v = int(value)
        key = (name, op)
        best[key] = (max if op == ">=" else min)(best.get(key, v), v)
    return [f"{name} {op} {v}" for (name, op), v in best.items()]


def feature_matrix(features: Sequence[Features]) -> tuple[list[str], np.ndarray]:
    """Names (in first-row order) and the ``[N, F]`` int64 matrix of a feature table.

    Raises:
        ConfigError: rows with different keys, or a value that is not an int or bool.
    """
    names = list(features[0]) if features else []
    for i, f in enumerate(features):
        if list(f) != names:
            raise ConfigError(f"feature row {i} has keys {sorted(f)}, row 0 has {sorted(names)}")
        bad = [k for k, v in f.items() if not isinstance(v, (int, bool, np.integer, np.bool_))]
        if bad:
            raise ConfigError(f"feature {bad[0]!r} of row {i} is {f[bad[0]]!r}, not an int/bool")
    x = np.array([[int(f[k]) for k in names] for f in features], dtype=np.int64)
    return names, x.reshape(len(features), len(names))


def _gini(n_wrong: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Gini impurity times count, ``n·2p(1-p)``, elementwise (0 for empty groups)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(n > 0, n_wrong / np.maximum(n, 1), 0.0)
    return 2 * n * p * (1 - p)


def fit_tree(
    features: Sequence[Features], wrong: Sequence[bool], max_depth: int = 3, min_leaf: int = 5
) -> FailureTree:
    """Fit the predictor (see the module docstring).

    Args:
        features: ``[N]`` feature dicts, all with the same keys, int or bool values.
        wrong: ``[N]`` True where the model's answer is wrong.
        max_depth: most tests on a path (``0`` gives one leaf).
        min_leaf: fewest fit inputs in a leaf.

    Raises:
        ConfigError: no inputs, lengths that differ, a bad feature table, ``max_depth`` outside
            ``0..8`` or ``min_leaf < 1``.
    """
    if len(features) != len(wrong) or not features:
        raise ConfigError(f"need as many labels as inputs (>0): {len(features)} vs {len(wrong)}")
    if not 0 <= max_depth <= 8 or min_leaf < 1:
        raise ConfigError(
            f"max_depth must lie in 0..8 and min_leaf >= 1, got {max_depth}, {min_leaf}"
        )
    names, x = feature_matrix(features)
    y = np.asarray([bool(w) for w in wrong])
    return _prune(_grow(names, x, y, max_depth, min_leaf))


def _grow(names: list[str], x: np.ndarray, y: np.ndarray, depth: int, min_leaf: int) -> FailureTree:
    n, n_wrong = len(y), int(y.sum())
    leaf = FailureTree(wrong=2 * n_wrong > n, n=n, n_wrong=n_wrong)
    if depth == 0 or n_wrong in (0, n):
        return leaf
    best: tuple[float, int, int] | None = None  # (impurity, feature index, threshold)
    for j in range(x.shape[1]):
        values, inverse = np.unique(x[:, j], return_inverse=True)
        counts = np.bincount(inverse, minlength=len(values))
        wrongs = np.bincount(inverse, weights=y, minlength=len(values))
        n_low, w_low = np.cumsum(counts)[:-1], np.cumsum(wrongs)[:-1]  # split before values[i+1]
        ok = (n_low >= min_leaf) & (n - n_low >= min_leaf)
        if not ok.any():
            continue
        cost = _gini(w_low, n_low) + _gini(n_wrong - w_low, n - n_low)
        i = int(np.argmin(np.where(ok, cost, np.inf)))
        if best is None or cost[i] < best[0] - 1e-9:
            best = (float(cost[i]), j, int(values[i + 1]))
    parent = float(_gini(np.array(n_wrong), np.array(n)))
    if best is None or best[0] >= parent - 1e-9:
        return leaf
    _, j, t = best
    high = x[:, j] >= t
    return FailureTree(
        wrong=leaf.wrong,
        n=n,
        n_wrong=n_wrong,
        feature=names[j],
        threshold=t,
        low=_grow(names, x[~high], y[~high], depth - 1, min_leaf),
        high=_grow(names, x[high], y[high], depth - 1, min_leaf),
    )


def _prune(t: FailureTree) -> FailureTree:
    """Merge sibling leaves that predict the same, bottom up."""
    if t.feature is None:
        return t
    low, high = _prune(t.low), _prune(t.high)  # type: ignore[arg-type]
    if low.feature is None and high.feature is None and low.wrong == high.wrong:
        return FailureTree(wrong=low.wrong, n=t.n, n_wrong=t.n_wrong)
    return FailureTree(t.wrong, t.n, t.n_wrong, t.feature, t.threshold, low, high)


def score(predicted: Sequence[bool], wrong: Sequence[bool]) -> dict[str, Any]:
    """Recall and precision of predicted failures against actual ones, with base rates.

    Returns:
        ``{"n", "failures", "predicted", "hits", "failure_rate", "recall", "precision",
        "accuracy"}``; ``recall`` is ``None`` without failures, ``precision`` is ``None`` when
        nothing is predicted to fail.
    """
    if len(predicted) != len(wrong):
        raise ConfigError(f"{len(predicted)} predictions for {len(wrong)} inputs")
    p = np.asarray(predicted, dtype=bool)
    w = np.asarray(wrong, dtype=bool)
    n, fails, pred, hits = len(w), int(w.sum()), int(p.sum()), int((p & w).sum())
    return {
        "n": n,
        "failures": fails,
        "predicted": pred,
        "hits": hits,
        "failure_rate": fails / n if n else None,
        "recall": hits / fails if fails else None,
        "precision": hits / pred if pred else None,
        "accuracy": int((p == w).sum()) / n if n else None,
    }


def fit_and_score(
    fit: tuple[Sequence[Features], Sequence[bool]],
    fresh: tuple[Sequence[Features], Sequence[bool]],
    max_depth: int = 3,
    min_leaf: int = 5,
) -> dict[str, Any]:
    """Fit on ``fit = (features, wrong)``, score on both sets.

    Returns:
        ``{"rules", "tree", "features_used", "fit": score, "fresh": score}``.
    """
    tree = fit_tree(fit[0], fit[1], max_depth, min_leaf)
    return {
        "rules": tree.rules(),
        "tree": tree.to_json(),
        "features_used": sorted(tree.features_used()),
        "fit": score(tree.predict(fit[0]), fit[1]),
        "fresh": score(tree.predict(fresh[0]), fresh[1]),
    }
