"""Neuron FVE by the spans of ρ(a), ρ(b) and ρ(ab), and the neuron → irrep assignment.

For hidden neuron i, let ``f_i(a, b) = h[a, b, i] − μ_i`` be its activation over all |G|² pairs,
centred by its mean ``μ_i``, with variance ``V_i = Σ_{a,b} f_i(a, b)²``. With ``Q_ρ`` the
orthonormal ρ-basis ``[|G|, k]`` (:func:`algolens.groups.reps.rho_basis`), the functions
``Q_ρ[a, j]/√|G|``, ``Q_ρ[b, j]/√|G|`` and ``Q_ρ[a·b, j]/√|G|`` are orthonormal on G×G, so the
variance of f_i inside each span is::

    FVE_a(ρ, i)  = ‖Q_ρᵀ A[:, i]‖² / (|G|·V_i)      A[a] = Σ_b h[a, b]
    FVE_b(ρ, i)  = ‖Q_ρᵀ B[:, i]‖² / (|G|·V_i)      B[b] = Σ_a h[a, b]
    FVE_ab(ρ, i) = ‖Q_ρᵀ P[:, i]‖² / (|G|·V_i)      P[g] = Σ_{ab=g} h[a, b]

For a non-trivial ρ the three spans are orthogonal to each other and to the constants, and the
spans of distinct irreps are orthogonal (Schur), so ``FVE(ρ, i) = FVE_a + FVE_b + FVE_ab`` sums
to at most 1 over ρ. The trivial irrep's span is the constants, which centring removes; its
share is reported separately as ``trivial_share_i = |G|²μ_i² / Σ h[·, ·, i]²`` (the part of the
uncentred second moment that is the mean).

**Assignment**: neuron i goes to ``argmax_ρ FVE(ρ, i)`` over the non-trivial irreps; its *share* is
that irrep's FVE divided by ``Σ_ρ FVE(ρ, i)`` (how exclusively the explained variance is that
irrep's). Dead neurons (``V_i = 0``) get no irrep.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from algolens.analysis.composition.streaming import PairSums
from algolens.groups.reps import Irrep, rho_basis

SPANS = ("a", "b", "ab")


@dataclass(frozen=True)
class NeuronFVE:
    """Per-neuron, per-irrep FVE.

    Attributes:
        labels: irrep labels (all irreps, in order).
        fve: ``{"a" | "b" | "ab": [n_irreps, n_neurons]}`` (trivial row zero: see module doc).
        variance: ``[n_neurons]`` ``V_i``.
        trivial_share: ``[n_neurons]``.
    """

    labels: list[str]
    fve: dict[str, np.ndarray]
    variance: np.ndarray
    trivial_share: np.ndarray

    @property
    def total(self) -> np.ndarray:
        """``[n_irreps, n_neurons]`` FVE(ρ, i) = FVE_a + FVE_b + FVE_ab."""
        return sum(self.fve[s] for s in SPANS)

    def assignment(self) -> tuple[list[str | None], np.ndarray, np.ndarray]:
        """``(irrep label or None per neuron, share [n_neurons], FVE of that irrep)``."""
        total = self.total.copy()
        trivial = [i for i, lab in enumerate(self.labels) if lab == "trivial"]
        total[trivial] = -1.0
        best = total.argmax(0)  # [n_neurons]
        top = np.take_along_axis(self.total, best[None], 0)[0]
        explained = self.total.sum(0)
        alive = self.variance > 0
        share = np.where(alive & (explained > 0), top / np.where(explained > 0, explained, 1), 0)
        names = [self.labels[j] if ok else None for j, ok in zip(best, alive)]
        return names, share, np.where(alive, top, 0.0)

    def summary(self, key: list[str]) -> dict:
        """Variance-weighted FVE of all neurons by the key irreps per span, the assignment
        counts and the mean share, and the mean trivial share."""
        idx = [i for i, lab in enumerate(self.labels) if lab in key]
        v = self.variance
        total_v = float(v.sum())
        by_span = {
            s: (float((self.fve[s][idx] * v).sum()) / total_v if total_v > 0 else 0.0)
            for s in SPANS
        }
        by_span["total"] = sum(by_span.values())
        names, share, _ = self.assignment()
        counts: dict[str, int] = {}
        for name in names:
            counts[name or "dead"] = counts.get(name or "dead", 0) + 1
        alive = v > 0
        return {
            "key_fve": by_span,
            "assigned": counts,
            "mean_share": float(share[alive].mean()) if alive.any() else 0.0,
            "trivial_share": float(self.trivial_share.mean()) if len(v) else 0.0,
        }


def neuron_fve(reps: list[Irrep], sums: PairSums, n_neurons: int) -> NeuronFVE:
    """Neuron FVE of the first ``n_neurons`` features from the pass-1 sums (see module doc)."""
    n = sums.by_left.shape[0]
    spans = {
        "a": sums.by_left[:, :n_neurons].numpy(),
        "b": sums.by_right[:, :n_neurons].numpy(),
        "ab": sums.by_product[:, :n_neurons].numpy(),
    }
    mu = sums.mean[:n_neurons].numpy()
    sum_sq = sums.sum_sq[:n_neurons].numpy()
    var = np.maximum(sum_sq - n * n * mu * mu, 0.0)
    safe = np.where(var > 1e-12 * np.maximum(sum_sq, 1e-300), var, np.inf)
    fve = {s: np.zeros((len(reps), n_neurons)) for s in SPANS}
    for r_i, rho in enumerate(reps):
        if rho.label == "trivial":
            continue
        q = rho_basis(rho)  # [n, k]
        for s, values in spans.items():
            proj = q.T @ values  # [k, n_neurons]
            fve[s][r_i] = (proj * proj).sum(0) / (n * safe)
    var = np.where(np.isinf(safe), 0.0, var)
    trivial = np.where(sum_sq > 0, n * n * mu * mu / np.where(sum_sq > 0, sum_sq, 1), 0.0)
    return NeuronFVE([r.label for r in reps], fve, var, trivial)
