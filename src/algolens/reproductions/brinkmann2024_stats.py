"""The statistics of :mod:`algolens.reproductions.brinkmann2024_claims`: a one-sided sign test
with its reach (goal mover) and the macro-F1 gap of two probes with its bootstrap bound over
prompts (edge concatenation)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

ALPHA = 0.05
"""Level of the one-sided tests."""
N_BOOT = 1000
"""Bootstrap resamples of the test prompts."""


@dataclass(frozen=True)
class SignTest:
    """One-sided sign test that values exceed ``chance``: ``above`` of the ``n`` untied values
    are above it (ties within 1e-6 dropped); ``min_above``: fewest that would agree."""

    above: int
    n: int
    pvalue: float
    min_above: int | None

    @property
    def agree(self) -> bool:
        return self.pvalue < ALPHA

    def describe(self) -> str:
        reach = "no count could agree" if self.min_above is None else (
            f"agrees from {self.min_above}")  # fmt: skip
        return f"above chance on {self.above} of {self.n} prompts, p = {self.pvalue:.2g} ({reach})"


def sign_test_above(values: Sequence[float], chance: float) -> SignTest:
    """Do ``values`` (one per prompt) exceed ``chance`` on more prompts than not?"""
    from scipy.stats import binomtest

    v = np.asarray(values, dtype=np.float64)
    untied = v[np.abs(v - chance) > 1e-6]
    n, above = len(untied), int((untied > chance).sum())

    def p_of(k: int) -> float:
        return float(binomtest(k, n, 0.5, alternative="greater").pvalue) if n else 1.0

    reach = next((k for k in range(n + 1) if p_of(k) < ALPHA), None)
    return SignTest(above, n, p_of(above), reach)


def macro_f1(labels: np.ndarray, pred: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``[B]``: macro-F1 of ``pred`` against ``labels`` (``[N]`` each) with prompt weights
    ``[B, N]`` (bootstrap counts); a class counts where it occurs in the labels or answers of
    that resample (as scikit-learn's ``f1_score(average="macro")``)."""
    classes = np.union1d(labels, pred)
    y = labels[None, :] == classes[:, None]  # [C, N]
    p = pred[None, :] == classes[:, None]
    tp, n_pred, n_true = weights @ (y & p).T, weights @ p.T, weights @ y.T  # [B, C]
    present = (n_pred + n_true) > 0
    f1 = np.where(present, 2 * tp / np.maximum(n_pred + n_true, 1e-12), 0.0)
    return f1.sum(1) / np.maximum(present.sum(1), 1)


def f1_gap(
    labels: Sequence[Sequence[int]],
    pred: Sequence[Sequence[int]],
    baseline: Sequence[Sequence[int]],
    *,
    seed: int = 0,
) -> tuple[float, float]:
    """Macro-F1 of ``pred`` minus that of ``baseline`` (``[position][prompt]``, averaged over
    positions) and its 95 % one-sided lower bootstrap bound, resampling prompts."""
    y, a, b = (np.asarray(x) for x in (labels, pred, baseline))
    n = y.shape[1]
    rng = np.random.default_rng(seed)
    w = np.vstack([np.ones(n), rng.multinomial(n, np.full(n, 1 / n), size=N_BOOT)])
    gaps = np.mean([macro_f1(y[j], a[j], w) - macro_f1(y[j], b[j], w) for j in range(len(y))], 0)
    return float(gaps[0]), float(np.quantile(gaps[1:], ALPHA))
